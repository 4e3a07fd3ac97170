// The public log, from outside: every transaction appends an anonymised
// entry; the checkpoint, tiles and proofs verify with Go's own sumdb/note and
// sumdb/tlog (tests/logcheck, built here) and with a small independent check
// in JavaScript; planted personal data and free text never reach the entries,
// the feed or the tiles; the citizen finds their entries; and a rewritten
// store fails `opencase log verify` and is never signed by the server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  startServer, expectError, USERS, marker, createTestService, createCase, addEvent,
} from './lib/server.mjs';
import { ROOT } from './lib/openapi.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const IMMUTABLE = 'public, max-age=31536000, immutable';

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (entry) => sha256(Buffer.from([0]), entry);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

// RFC 9162 2.1.1: the root of leaves[0..n), recomputed from nothing but them.
function mth(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

// RFC 9162 2.1.3.2: checks an inclusion proof.
function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

// A C2SP signed note's checkpoint, its Ed25519 signature checked with the
// verifier key "name+hex8+base64(0x01 || key)".
function openCheckpoint(text, verifierKey) {
  const [name, hex] = verifierKey.split('+', 2);
  const b64 = verifierKey.slice(name.length + hex.length + 2);
  const raw = Buffer.from(b64, 'base64');
  assert.equal(raw[0], 1, 'an Ed25519 note key');
  const keyId = sha256(Buffer.from(`${name}\n`), raw).subarray(0, 4);
  assert.equal(keyId.toString('hex'), hex, 'the key id is the key hash');
  const split = text.indexOf('\n\n');
  assert.ok(split > 0, text);
  const body = text.slice(0, split + 1);
  const sigLine = text.slice(split + 2).split('\n').find((l) => l.startsWith(`\u2014 ${name} `));
  assert.ok(sigLine, `signed by ${name}: ${text}`);
  const sig = Buffer.from(sigLine.split(' ')[2], 'base64');
  assert.ok(sig.subarray(0, 4).equals(keyId));
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]);
  const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  assert.ok(edVerify(null, Buffer.from(body), pub, sig.subarray(4)), 'the signature verifies');
  const [origin, size, root] = body.split('\n');
  return { origin, size: Number(size), root: Buffer.from(root, 'base64'), text };
}

describe('the public log', () => {
  let s;
  let admin;
  let caseworker;
  let key;
  let logcheck;
  let tmp;
  const planted = {};
  let main;

  const get = (p) => s.req('GET', p);
  const size = async () => (await get('/log/entries?limit=1')).body.size;
  // Waits for the signer to cover the log as it stands; a second at most, so
  // a generous bound keeps slow sanitizer runs out of trouble.
  async function checkpointCovering(n) {
    for (let i = 0; i < 300; i++) {
      const r = await fetch(s.url('/log/checkpoint'));
      const text = await r.text();
      if (r.status === 200) {
        const cp = openCheckpoint(text, key);
        if (cp.size >= n) return cp;
      }
      await sleep(100);
    }
    assert.fail(`no checkpoint covers ${n} entries`);
  }
  async function allEntries() {
    const out = [];
    let cursor = '0';
    for (;;) {
      const r = await get(`/log/entries?cursor=${cursor}&limit=7`);
      assert.equal(r.status, 200, r.text);
      if (r.body.entries.length === 0) return out;
      out.push(...r.body.entries.map((e) => ({ ...e, text: null })));
      cursor = r.body.next_cursor;
    }
  }

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'opencase-logcheck-'));
    logcheck = path.join(tmp, 'logcheck');
    // Built offline from Debian's Go packages, in GOPATH mode.
    await run('go', ['build', '-o', logcheck, path.join(ROOT, 'tests/logcheck/main.go')], {
      env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '', GOPROXY: 'off', GOCACHE: path.join(tmp, 'cache') },
      timeout: 300_000,
    });
    s = await startServer({ cases: 5 });
    key = (await s.cli(['log', 'key'])).stdout.trim();
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'logsvc');
    planted.summary = marker('SummaryMarker');
    planted.name = marker('NameMarker');
    planted.email = `${marker('mail')}@example.org`.toLowerCase();
    planted.phone = '01632 960123';
    planted.address = marker('AddressMarker');
    planted.postcode = 'ZE1 0AA';
    planted.public = marker('PublicNoteMarker');
    planted.internal = marker('InternalMarker');
    planted.message = marker('MessageMarker');
    planted.comment = marker('CommentMarker');
    planted.purpose = marker('PurposeMarker');
    main = await createCase(s, caseworker, {
      service: 'logsvc',
      summary: planted.summary,
      person: { name: planted.name, email: planted.email, phone: planted.phone, address: planted.address, postcode: planted.postcode },
    });
    await addEvent(s, caseworker, main.reference, { type: 'public_note', note: planted.public });
    await addEvent(s, caseworker, main.reference, { type: 'internal_note', note: planted.internal });
    await addEvent(s, caseworker, main.reference, { type: 'stage_change', stage: 'triage_hidden' });
    const read = await s.req('GET', `/api/v1/cases/${main.reference}`, { auth: admin, headers: { 'x-access-purpose': planted.purpose } });
    assert.equal(read.status, 200, read.text);
    const msg = await s.req('POST', `/api/v1/track/${main.reference}/messages`, { headers: { 'x-tracking-secret': main.secret }, json: { message: planted.message } });
    assert.equal(msg.status, 201, msg.text);
    await addEvent(s, caseworker, main.reference, { type: 'stage_change', stage: 'assessing' });
    await addEvent(s, caseworker, main.reference, { type: 'stage_change', stage: 'approved' });
    const fb = await s.req('POST', `/api/v1/track/${main.reference}/feedback`, { headers: { 'x-tracking-secret': main.secret }, json: { rating: 4, comment: planted.comment } });
    assert.equal(fb.status, 201, fb.text);
    const prefs = await s.req('PUT', `/api/v1/track/${main.reference}/preferences`, { headers: { 'x-tracking-secret': main.secret }, json: { channels: ['sms'], language: 'cy', frequency: 'milestones' } });
    assert.equal(prefs.status, 200, prefs.text);
    await s.logSequenced();
  });
  after(async () => {
    await s?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('appends one anonymised entry per transaction, in order, with nothing personal', async () => {
    const entries = await allEntries();
    const mine = entries.filter((e) => e.entry.service === 'logsvc');
    const kinds = mine.map((e) => e.entry.kind);
    assert.deepEqual(kinds, [
      'case_opened', 'record_accessed', // the case returned to its opener
      'public_update', // events answer without the person: no access
      'internal_note',
      'stage_changed',
      'record_accessed', // the admin's read
      'message_received',
      'stage_changed',
      'stage_changed',
      'feedback',
      'consent_changed', // how the person wants to be told, by them
    ]);
    entries.forEach((e, i) => assert.equal(e.index, i));
    const pseudonym = mine[0].entry.case;
    assert.match(pseudonym, /^[0-9a-f]{32}$/);
    assert.ok(mine.every((e) => e.entry.case === pseudonym && e.entry.org === 'northshire'));
    const moves = mine.filter((e) => e.entry.kind === 'stage_changed').map((e) => [e.entry.from, e.entry.stage]);
    assert.deepEqual(moves, [['received', 'triage_hidden'], ['triage_hidden', 'assessing'], ['assessing', 'approved']]);
    const byCitizen = ['message_received', 'feedback', 'consent_changed'];
    const staff = mine.filter((e) => !byCitizen.includes(e.entry.kind)).map((e) => e.entry.actor);
    assert.ok(staff.every((a) => /^s-[0-9a-f]{32}$/.test(a)), staff.join());
    assert.equal(mine.find((e) => e.entry.kind === 'feedback').entry.rating, 4);
    for (const kind of byCitizen) assert.equal(mine.find((e) => e.entry.kind === kind).entry.actor, 'citizen', kind);
    assert.deepEqual(Object.keys(mine.at(-1).entry), ['kind', 'time', 'org', 'service', 'case', 'actor'], 'consent names no channel');
    const reads = mine.filter((e) => e.entry.kind === 'record_accessed');
    assert.ok(reads.some((e) => e.entry.role === 'administrator' && e.entry.action === 'read'));
    // The caseworker and the administrator are different people.
    assert.equal(new Set(staff).size, 2);
    for (const e of entries) {
      assert.ok(Object.values(e.entry).every((v) => typeof v === 'number' || /^[a-z0-9_:.TZ-]+$/.test(v)), JSON.stringify(e.entry));
      assert.ok(leafHash(Buffer.from(JSON.stringify(e.entry))).equals(Buffer.from(e.leaf_hash, 'base64')), 'the feed serves the exact bytes hashed');
    }
  });

  it('never publishes personal data, free text, the reference or the secret', async () => {
    const cp = await checkpointCovering(await size());
    const texts = [];
    texts.push((await get('/log/entries?limit=1000')).text);
    for (let n = 0; n * 256 < cp.size; n++) {
      const w = Math.min(256, cp.size - n * 256);
      const name = String(n).padStart(3, '0') + (w < 256 ? `.p/${w}` : '');
      const r = await fetch(s.url(`/log/tile/entries/${name}`));
      assert.equal(r.status, 200);
      texts.push(Buffer.from(await r.arrayBuffer()).toString('latin1'));
    }
    texts.push(cp.text);
    const all = texts.join('\n');
    const needles = [...Object.values(planted), main.reference, main.reference.replaceAll('-', ''), main.secret,
      'Northshire Council', 'Hidden Triage Stage', 'Test service', 'Alice Hartley'];
    for (const n of needles) {
      assert.ok(!all.includes(n), `${n} appears in the public log`);
      assert.ok(!all.toLowerCase().includes(n.toLowerCase()), `${n} appears in the public log, in another case`);
    }
  });

  it('shows the citizen their case\'s pseudonym and the log index of each of their events', async () => {
    const t = await s.req('GET', `/api/v1/track/${main.reference}`, { headers: { 'x-tracking-secret': main.secret } });
    assert.equal(t.status, 200, t.text);
    const entries = await allEntries();
    const pseudonym = entries.find((e) => e.entry.service === 'logsvc').entry.case;
    assert.equal(t.body.log_pseudonym, pseudonym);
    assert.ok(t.body.timeline.length >= 4);
    const want = { milestone: ['case_opened', 'stage_changed'], update: ['public_update'], message: ['message_received'], feedback: ['feedback'] };
    for (const item of [...t.body.timeline, ...t.body.accesses]) {
      assert.equal(typeof item.log_index, 'number', JSON.stringify(item));
      const e = entries[item.log_index].entry;
      assert.equal(e.case, pseudonym);
      assert.ok((want[item.type] ?? ['record_accessed']).includes(e.kind), `${item.type} -> ${e.kind}`);
    }
    const page = await fetch(s.url('/track'), { method: 'POST', body: new URLSearchParams({ reference: main.reference, secret: main.secret }) });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.ok(html.includes(pseudonym), 'the page shows the pseudonym');
    assert.ok(html.includes(`public log entry #${t.body.timeline[0].log_index}`), 'and each event\'s entry');
    // Demo cases, imported rather than written through the API, predate the log.
    const [demo] = await s.credentials();
    const d = await s.req('GET', `/api/v1/track/${demo.reference}`, { headers: { 'x-tracking-secret': demo.secret } });
    assert.equal(d.status, 200);
    assert.ok(d.body.timeline.every((x) => x.log_index === null));
    assert.notEqual(d.body.log_pseudonym, pseudonym);
  });

  it('Go\'s sumdb/note and sumdb/tlog verify the checkpoint, tiles, every entry and consistency', async () => {
    // More than a full tile, so that level-1 tiles and full tiles are used.
    let n = await size();
    const old = await checkpointCovering(n);
    const oldPath = path.join(tmp, 'old-checkpoint');
    await writeFile(oldPath, old.text);
    const cases = [];
    while (n < 300) {
      cases.push(createCase(s, caseworker, { service: 'logsvc', summary: 'x' }));
      if (cases.length === 20) {
        await Promise.all(cases.splice(0));
        n = await size();
      }
    }
    await Promise.all(cases);
    await s.logSequenced();
    n = await size();
    const cp = await checkpointCovering(n);
    assert.ok(cp.size > old.size);
    const { stdout } = await run(logcheck, ['-url', s.base, '-key', key, '-old', oldPath], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout);
    assert.equal(out.size, cp.size);
    assert.equal(out.origin, cp.origin);
    assert.equal(out.consistent_with_old, true);
    assert.equal(out.entries.length, cp.size);
    assert.ok(out.tiles_read >= 2);
    // And again without Go: the root of the entries, recomputed here.
    const feed = (await allEntries()).slice(0, cp.size);
    assert.ok(mth(feed.map((e) => Buffer.from(e.leaf_hash, 'base64'))).equals(cp.root));
    for (const i of [0, 1, 255, 256, cp.size - 1]) {
      const p = await get(`/log/proof/inclusion?index=${i}&size=${cp.size}`);
      assert.equal(p.status, 200, p.text);
      assert.ok(verifyInclusion(Buffer.from(p.body.leaf_hash, 'base64'), i, cp.size, p.body.proof.map((h) => Buffer.from(h, 'base64')), cp.root));
    }
  });

  it('serves tiles and proofs as the specifications say, and refuses bad requests', async () => {
    const cp = await checkpointCovering(await size());
    assert.ok(cp.size > 256);
    const full = await fetch(s.url('/log/tile/0/000'));
    const bytes = Buffer.from(await full.arrayBuffer());
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('cache-control'), IMMUTABLE);
    assert.equal(full.headers.get('content-type'), 'application/octet-stream');
    assert.equal(bytes.length, 256 * 32);
    const bundle = await fetch(s.url('/log/tile/entries/000'));
    assert.equal(bundle.headers.get('cache-control'), IMMUTABLE);
    const data = Buffer.from(await bundle.arrayBuffer());
    let at = 0;
    for (let i = 0; i < 256; i++) {
      const len = data.readUInt16BE(at);
      assert.ok(leafHash(data.subarray(at + 2, at + 2 + len)).equals(bytes.subarray(32 * i, 32 * i + 32)));
      at += 2 + len;
    }
    assert.equal(at, data.length);
    const partial = await fetch(s.url('/log/tile/0/001.p/3'));
    assert.equal(partial.status, 200);
    assert.notEqual(partial.headers.get('cache-control'), IMMUTABLE);
    assert.equal((await partial.arrayBuffer()).byteLength, 96);
    const level1 = await fetch(s.url('/log/tile/1/000.p/1'));
    assert.ok(Buffer.from(await level1.arrayBuffer()).equals(mth(Array.from({ length: 256 }, (_, i) => bytes.subarray(32 * i, 32 * i + 32)))));

    for (const bad of ['0/0', '0/00', '0/0000', '0/x000/001', '0/000.p/0', '0/000.p/256', 'entries/000.p/', 'x/000', '0/-1', '64/000', 'entries']) {
      expectError(await get(`/log/tile/${bad}`), 400, 'invalid_parameter', 'tile');
    }
    expectError(await get('/log/tile/0/999'), 404, 'not_found');
    expectError(await get('/log/tile/2/000.p/1'), 404, 'not_found');
    expectError(await get('/log/tile/entries/x001/000'), 404, 'not_found');

    expectError(await get('/log/proof/inclusion?size=1'), 400, 'invalid_parameter', 'index');
    expectError(await get('/log/proof/inclusion?index=1'), 400, 'invalid_parameter', 'size');
    expectError(await get('/log/proof/inclusion?index=-1&size=3'), 400, 'invalid_parameter', 'index');
    expectError(await get('/log/proof/inclusion?index=01&size=3'), 400, 'invalid_parameter', 'index');
    expectError(await get('/log/proof/inclusion?index=3&size=3'), 400, 'invalid_parameter', 'index');
    expectError(await get('/log/proof/inclusion?index=1&size=99999999999999999999'), 400, 'invalid_parameter', 'size');
    expectError(await get(`/log/proof/inclusion?index=0&size=${cp.size + 1000000}`), 404, 'not_found');
    expectError(await get('/log/proof/inclusion?index=0&size=2&x=1'), 400, 'invalid_parameter');
    expectError(await get('/log/proof/consistency?from=5&to=4'), 400, 'invalid_parameter', 'from');
    expectError(await get('/log/proof/consistency?from=5'), 400, 'invalid_parameter', 'to');
    expectError(await get(`/log/proof/consistency?from=1&to=${cp.size + 1000000}`), 404, 'not_found');
    const same = await get(`/log/proof/consistency?from=${cp.size}&to=${cp.size}`);
    assert.deepEqual(same.body.proof, []);
    expectError(await get('/log/entries?limit=0'), 400, 'invalid_parameter', 'limit');
    expectError(await get('/log/entries?limit=1001'), 400, 'invalid_parameter', 'limit');
    expectError(await get('/log/entries?cursor=abc'), 400, 'invalid_parameter', 'cursor');
    const end = await get(`/log/entries?cursor=${cp.size + 1000000}`);
    assert.deepEqual(end.body.entries, []);
    assert.equal(end.body.next_cursor, String(cp.size + 1000000));
    const r = await s.req('POST', '/log/checkpoint');
    assert.equal(r.status, 405);
  });

  it('init keeps the key; the key file must be private', async () => {
    const before = (await s.cli(['log', 'key'])).stdout.trim();
    assert.match(before, /^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    assert.equal((await s.cli(['init'])).code, 0);
    assert.equal((await s.cli(['log', 'key'])).stdout.trim(), before);
    await chmod(s.logKey, 0o644);
    const r = await s.cli(['log', 'key']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /chmod 600/);
    await chmod(s.logKey, 0o600);
    const missing = await s.cli(['log', 'key'], { env: { OPENCASE_LOG_KEY: path.join(tmp, 'nope') } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /init makes one/);
  });
});

describe('a rewritten log', () => {
  let s;
  let caseworker;

  before(async () => {
    s = await startServer({ cases: 3 });
    caseworker = await s.login(USERS.caseworker);
  });
  after(async () => {
    await s?.close();
  });

  async function signedSize() {
    const r = await fetch(s.url('/log/checkpoint'));
    return Number((await r.text()).split('\n')[1]);
  }
  async function waitSigned(n) {
    for (let i = 0; i < 300 && (await signedSize()) < n; i++) await sleep(100);
    assert.equal(await signedSize(), n);
  }

  it('fails log verify, and the server will not sign past it', async () => {
    // The demo's appeals are in the log already; the cases opened here
    // follow them, each its opening and the read of it by its opener.
    await s.logSequenced();
    const first = (await s.req('GET', '/log/entries?limit=1')).body.size;
    const idx = first + 2;
    for (let i = 0; i < 4; i++) await createCase(s, caseworker, { service: 'parking-permit', summary: 'x' });
    await s.logSequenced();
    const n = (await s.req('GET', '/log/entries?limit=1')).body.size;
    await waitSigned(n);
    let v = await s.cli(['log', 'verify']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /log verified/);

    // An entry rewritten, its hashes left alone.
    await s.sql({
      sqlite: `UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'case_opened', 'case_closed') AS BLOB) WHERE idx = ${idx}`,
      postgresql: `UPDATE log_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'case_opened', 'case_closed'), 'UTF8') WHERE idx = ${idx}`,
    });
    v = await s.cli(['log', 'verify']);
    assert.equal(v.code, 1);
    assert.match(v.stderr, new RegExp(`entry ${idx}: the stored hash at level 0`));
    await s.sql({
      sqlite: `UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'case_closed', 'case_opened') AS BLOB) WHERE idx = ${idx}`,
      postgresql: `UPDATE log_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'case_closed', 'case_opened'), 'UTF8') WHERE idx = ${idx}`,
    });
    assert.equal((await s.cli(['log', 'verify'])).code, 0);

    // The last signed entry's hashes rewritten: the next tree would not
    // extend the signed one, so nothing more is signed.
    await s.sql({
      sqlite: `UPDATE log_entries SET hashes = zeroblob(length(hashes)) WHERE idx = ${n - 1}`,
      postgresql: `UPDATE log_entries SET hashes = decode(repeat('00', length(hashes)), 'hex') WHERE idx = ${n - 1}`,
    });
    await createCase(s, caseworker, { service: 'parking-permit', summary: 'y' });
    for (let i = 0; i < 30 && !s.output.includes('no more checkpoints will be signed'); i++) await sleep(100);
    assert.match(s.output, /does not extend the last signed checkpoint; no more checkpoints will be signed/);
    await sleep(1500);
    assert.equal(await signedSize(), n, 'the checkpoint did not move');
    v = await s.cli(['log', 'verify']);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /log verify: /);
  });
});
