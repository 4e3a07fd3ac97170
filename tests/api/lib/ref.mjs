// Case references as the contract defines them: 8 Crockford Base32 symbols
// plus Crockford's mod-37 check symbol, written "XXXX-XXXX-C". The tests make
// their own references to ask about cases that do not exist and to mistype
// real ones, so they need the same arithmetic as the server.
import { randomBytes } from 'node:crypto';

const SYMBOLS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK = SYMBOLS + '*~$=U';

export function formatReference(value) {
  let v = BigInt(value);
  const check = CHECK[Number(v % 37n)];
  let data = '';
  for (let i = 0; i < 8; i++) {
    data = SYMBOLS[Number(v & 31n)] + data;
    v >>= 5n;
  }
  return `${data.slice(0, 4)}-${data.slice(4)}-${check}`;
}

export function parseReference(text) {
  const s = text.replace(/[-\s]/g, '').toUpperCase();
  let v = 0n;
  for (const ch of s.slice(0, 8)) v = (v << 5n) | BigInt(SYMBOLS.indexOf(ch));
  return v;
}

// A well-formed reference that is (with overwhelming likelihood) not issued,
// with a letter or digit as its check symbol, like the server's own.
export function randomReference() {
  for (;;) {
    const b = randomBytes(5);
    const v = BigInt('0x' + b.toString('hex'));
    const r = formatReference(v);
    if (/[0-9A-Z]$/.test(r) && !r.endsWith('U')) return r;
  }
}

// The same reference with one data symbol changed: the check symbol no
// longer matches, which is what a typo looks like.
export function mistype(reference) {
  const chars = reference.split('');
  const i = 0;
  const idx = SYMBOLS.indexOf(chars[i]);
  chars[i] = SYMBOLS[(idx + 1) % 32];
  const wrong = chars.join('');
  if (formatReference(parseReference(wrong)) === wrong) throw new Error('mistype produced a valid reference');
  return wrong;
}
