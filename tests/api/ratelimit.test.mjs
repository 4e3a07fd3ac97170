// Guessing tracking credentials is rate limited per client address and per
// reference. Every request here comes from 127.0.0.1, so each limit gets a
// server of its own. Once limited, even a correct credential is refused:
// otherwise the 429 itself would tell a guesser which guesses were wrong.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS, PASSWORD } from './lib/server.mjs';
import { randomReference } from './lib/ref.mjs';

const WRONG = 'AAAAA-BBBBB-CCCCC-DDDDD';

function expectLimited(r) {
  expectError(r, 429, 'rate_limited');
  assert.match(r.headers.get('retry-after') || '', /^[1-9][0-9]*$/, 'Retry-After is a number of seconds');
}

// Makes `limit` failures that must each answer 404, then one that may be
// counted either way (the limit may apply from the next one), then one that
// must be limited.
async function exhaust(limit, fail) {
  for (let i = 0; i < limit; i++) {
    const r = await fail(i);
    expectError(r, 404, 'not_found');
  }
  const edge = await fail(limit);
  assert.ok([404, 429].includes(edge.status), edge.text);
  expectLimited(await fail(limit + 1));
}

describe('per-reference limit: 10 failed look-ups per reference', () => {
  let s;
  before(async () => {
    s = await startServer({ cases: 6 });
  });
  after(async () => {
    await s?.close();
  });

  it('limits one reference and leaves the others alone', async () => {
    const creds = await s.credentials();
    const [a, b] = creds;
    const track = (ref, secret) => s.req('GET', `/api/v1/track/${ref}`, { headers: { 'x-tracking-secret': secret } });
    assert.equal((await track(a.reference, a.secret)).status, 200);
    await exhaust(10, () => track(a.reference, WRONG));
    expectLimited(await track(a.reference, a.secret));
    expectLimited(await s.req('GET', `/api/v1/track/${a.reference}`, { headers: { 'x-tracking-postcode': 'SW1A 1AA' } }));
    expectLimited(await s.req('POST', `/api/v1/track/${a.reference}/messages`, { headers: { 'x-tracking-secret': a.secret }, json: { message: 'hello' } }));
    const other = await track(b.reference, b.secret);
    assert.equal(other.status, 200, `another reference is not limited: ${other.text}`);
    const staffView = await s.req('GET', '/healthz');
    assert.equal(staffView.status, 200);
  });

  it('the limit also covers the public page', async () => {
    const creds = await s.credentials();
    const a = creds[0];
    const r = await fetch(s.url('/track'), { method: 'POST', body: new URLSearchParams({ reference: a.reference, secret: a.secret }) });
    const text = await r.text();
    assert.equal(r.status, 429, text.slice(0, 300));
    assert.match(r.headers.get('content-type') || '', /^text\/html/);
  });
});

describe('per-address limit: 20 failed look-ups per client address', () => {
  let s;
  before(async () => {
    s = await startServer({ cases: 6 });
  });
  after(async () => {
    await s?.close();
  });

  it('limits the address across references, even with a correct secret', async () => {
    const [a] = await s.credentials();
    const track = (ref, secret) => s.req('GET', `/api/v1/track/${ref}`, { headers: { 'x-tracking-secret': secret } });
    assert.equal((await track(a.reference, a.secret)).status, 200);
    const refs = Array.from({ length: 22 }, () => randomReference());
    await exhaust(20, (i) => track(refs[i], WRONG));
    expectLimited(await track(a.reference, a.secret));
    expectLimited(await track(randomReference(), WRONG));
    expectLimited(await s.req('POST', `/api/v1/track/${a.reference}/feedback`, { headers: { 'x-tracking-secret': a.secret }, json: { rating: 3 } }));
  });

  it('staff endpoints are not affected by the look-up limit', async () => {
    const r = await s.req('GET', '/healthz');
    assert.equal(r.status, 200);
    const login = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
  });
});

describe('clients behind a trusted reverse proxy', () => {
  let proxied;
  let direct;
  before(async () => {
    proxied = await startServer({ cases: 6, env: { OPENCASE_TRUSTED_PROXIES: '10.9.9.9,127.0.0.1' } });
    direct = await startServer({ cases: 6 });
  });
  after(async () => {
    await proxied?.close();
    await direct?.close();
  });

  const guess = (s, client) =>
    s.req('GET', `/api/v1/track/${randomReference()}`, {
      headers: { 'x-tracking-secret': WRONG, 'x-forwarded-for': `198.51.100.7, ${client}` },
    });

  it('counts each forwarded client on its own', async () => {
    await exhaust(20, () => guess(proxied, '203.0.113.1'));
    // Another client of the same proxy is not held up by the first one's failures.
    expectError(await guess(proxied, '203.0.113.2'), 404, 'not_found');
    const creds = await proxied.credentials();
    const ok = await proxied.req('GET', `/api/v1/track/${creds[0].reference}`, {
      headers: { 'x-tracking-secret': creds[0].secret, 'x-forwarded-for': '203.0.113.3' },
    });
    assert.equal(ok.status, 200, ok.text);
  });

  it('ignores X-Forwarded-For from anyone else, so it cannot dodge the limit', async () => {
    let n = 0;
    await exhaust(20, () => guess(direct, `203.0.113.${++n}`));
  });
});
