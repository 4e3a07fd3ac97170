// opencase migrate-store: a running SQLite deployment copied into a fresh
// PostgreSQL database, verified by counts and checksums, then served from
// PostgreSQL with the same cases, events and access records, and with the
// tracking secrets, API keys and sessions it had. Needs a PostgreSQL cluster:
// OPENCASE_TEST_PG is its base URI (see lib/server.mjs).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  PG_BASE, Server, USERS, runCli, marker, createTestService, createCase, addEvent, expectError,
} from './lib/server.mjs';

const TABLES = ['settings', 'orgs', 'services', 'users', 'sessions', 'api_keys', 'persons', 'cases', 'events', 'accesses',
  'log_entries', 'log_state', 'log_checkpoints', 'log_queue',
  'open311_requests', 'org_calendars', 'duty_instances',
  'notify_prefs', 'notify_templates', 'webhooks', 'notifications', 'notify_attempts',
  'appeals', 'appeal_answers', 'appeal_answer_reads'];
const PURPOSE = 'X-Access-Purpose';
// Text that COPY, the checksums and both databases must carry unchanged.
const AWKWARD = 'tab\there, line\nbreak, back\\slash, quote\' " and été ✓';
const NAME = 'Zoë O\'Brien \\ "Jr" ✓';

// A server on an SQLite file in `dir`, whatever OPENCASE_TEST_PG says.
function sqliteServer(dir) {
  const s = new Server(dir);
  s.pgName = null;
  s.db = path.join(dir, 't.db');
  return s;
}

async function cli(args) {
  const r = await runCli(args);
  assert.equal(r.code, 0, `opencase ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

// The table migrate-store prints: { table: { source, target, sha256 } }.
function parseReport(stdout) {
  const rows = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+)\s+(\d+)\s+(\d+)\s+([0-9a-f]{64})$/.exec(line.trim());
    if (m) rows[m[1]] = { source: Number(m[2]), target: Number(m[3]), sha256: m[4] };
  }
  return rows;
}

describe('migrate-store', { skip: PG_BASE ? false : 'needs PostgreSQL' }, () => {
  let dir;
  let src;
  let dst;
  let admin;
  let caseworker;
  let key;
  const opened = [];
  let rotated;
  let oldSecret;
  let report;
  // What the source served just before the copy.
  const seen = {};

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opencase-migrate-'));
    src = sqliteServer(dir);
    await cli(['--db', src.db, 'init']);
    await cli(['--db', src.db, 'demo', '--cases', '30', '--credentials', src.credsPath]);
    await src.start();
    admin = await src.login(USERS.admin);
    caseworker = await src.login(USERS.caseworker);
    key = await src.createKey('northshire', 'Intake system', 'caseworker');
    await createTestService(src, admin, 'migrate');
    // The demo's own appeals, Wessex Police's.
    const wessex = await src.req('GET', '/api/v1/appeals?limit=200', { auth: await src.login(USERS.wessexAdmin) });
    seen.demoAppeals = wessex.body.appeals.length;

    // Activity on top of the demo: cases with and without a person, by a
    // user and by a key, notes of both kinds, stage changes, a closed case,
    // a citizen's message and feedback, and a rotated tracking secret.
    for (let i = 0; i < 4; i++) {
      const person = i % 2 === 0 ? { name: NAME, email: `p${i}@example.org`, postcode: 'ZE1 0AA' } : undefined;
      const c = await createCase(src, i === 3 ? key : caseworker,
        { service: 'migrate', summary: `${AWKWARD} ${marker('s')}`, person },
        { [PURPOSE]: 'Opening a case from a phone call' });
      opened.push(c);
    }
    const [a, b, c] = opened;
    await addEvent(src, caseworker, a.reference, { type: 'public_note', note: AWKWARD });
    await addEvent(src, caseworker, a.reference, { type: 'internal_note', note: 'internal only' });
    await addEvent(src, caseworker, a.reference, { type: 'stage_change', stage: 'assessing' });
    await addEvent(src, caseworker, b.reference, { type: 'stage_change', stage: 'withdrawing' });
    await addEvent(src, caseworker, b.reference, { type: 'stage_change', stage: 'withdrawn', note: 'closed' });
    let r = await src.req('POST', `/api/v1/track/${a.reference}/messages`,
      { headers: { 'x-tracking-secret': a.secret }, json: { message: AWKWARD } });
    assert.equal(r.status, 201, r.text);
    r = await src.req('POST', `/api/v1/track/${b.reference}/feedback`,
      { headers: { 'x-tracking-secret': b.secret }, json: { rating: 4, comment: 'Quick' } });
    assert.equal(r.status, 201, r.text);
    r = await src.req('GET', `/api/v1/cases/${c.reference}`, { auth: key, headers: { [PURPOSE]: 'Nightly sync' } });
    assert.equal(r.status, 200, r.text);
    oldSecret = c.secret;
    r = await src.req('POST', `/api/v1/cases/${c.reference}/secret`, { auth: caseworker, json: {} });
    assert.equal(r.status, 200, r.text);
    rotated = r.body.tracking_secret;

    // Appeals: a published one on the map, a named answer read by staff.
    r = await src.req('POST', '/api/v1/appeals', { auth: caseworker, json: {
      case: a.reference, title: NAME, description: AWKWARD, category: 'theft',
      occurred_from: '2026-11-01T10:00:00Z', contact: 'Call 101', expires_at: '2099-01-01T00:00:00Z',
      location: { lat: 52.1234567, lon: -1.7654321 }, public_location: { precision: 'grid', cell_m: 500 } } });
    assert.equal(r.status, 201, r.text);
    seen.appeal = r.body.appeal.id;
    r = await src.req('POST', `/api/v1/appeals/${seen.appeal}/publish`, { auth: caseworker });
    assert.equal(r.status, 200, r.text);
    r = await src.req('POST', `/api/v1/public/appeals/${seen.appeal}/answers`, { json: {
      saw: AWKWARD, anonymous: false, contact: { name: NAME, email: 'w@example.org', preferred: 'email' } } });
    assert.equal(r.status, 201, r.text);
    seen.receipt = r.body;
    r = await src.req('GET', `/api/v1/appeals/${seen.appeal}/answers`, { auth: caseworker, headers: { [PURPOSE]: 'Witnesses' } });
    assert.equal(r.status, 200, r.text);
    seen.map = JSON.parse((await src.req('GET', '/api/v1/public/appeals.geojson?bbox=-2,52,-1.5,52.5')).text);
    assert.equal(seen.map.features.length, 1);

    for (const x of opened) {
      r = await src.req('GET', `/api/v1/cases/${x.reference}`, { auth: caseworker, headers: { [PURPOSE]: 'Review' } });
      assert.equal(r.status, 200, r.text);
      seen[x.reference] = { case: r.body };
    }
    for (const x of opened) {
      r = await src.req('GET', `/api/v1/cases/${x.reference}/accesses`, { auth: caseworker });
      assert.equal(r.status, 200, r.text);
      seen[x.reference].accesses = r.body.accesses;
    }

    // The copy runs while the source server keeps serving.
    dst = new Server(await mkdtemp(path.join(os.tmpdir(), 'opencase-migrate-pg-')));
    await dst.createDatabase();
    const m = await runCli(['migrate-store', '--from', src.db, '--to', dst.db]);
    assert.equal(m.code, 0, `migrate-store exited ${m.code}\n${m.stdout}\n${m.stderr}`);
    report = m.stdout;
    await dst.start();
  });

  after(async () => {
    await dst?.close();
    await src?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies every table by count and checksum', () => {
    const rows = parseReport(report);
    assert.deepEqual(Object.keys(rows), TABLES, report);
    for (const t of TABLES) {
      assert.equal(rows[t].source, rows[t].target, `${t}: ${report}`);
    }
    assert.equal(rows.settings.source, 1);
    assert.equal(rows.orgs.source, 2);
    assert.ok(rows.cases.source >= 34, report);
    assert.ok(rows.events.source > rows.cases.source, report);
    assert.ok(rows.accesses.source > 0, report);
    assert.ok(rows.sessions.source >= 2, report);
    assert.ok(rows.api_keys.source >= 1, report);
    assert.ok(seen.demoAppeals > 0, 'the demo has appeals');
    assert.equal(rows.appeals.source, seen.demoAppeals + 1, report);
    assert.equal(rows.appeal_answers.source, 1, report);
    assert.equal(rows.appeal_answer_reads.source, 1, report);
    assert.match(report, /^verified$/m);
  });

  it('serves the same appeals on the map, their answers and receipts', async () => {
    const map = await dst.req('GET', '/api/v1/public/appeals.geojson?bbox=-2,52,-1.5,52.5');
    assert.equal(map.status, 200, map.text);
    assert.deepEqual(JSON.parse(map.text), seen.map, 'the map index was rebuilt on the target');
    const receipt = await dst.req('GET', `/api/v1/public/receipts/${seen.receipt.receipt}`,
      { headers: { 'x-receipt-secret': seen.receipt.receipt_secret } });
    assert.equal(receipt.status, 200, receipt.text);
    assert.equal(receipt.body.received, true);
    assert.equal(receipt.body.reads.length, 1);
    const answers = await dst.req('GET', `/api/v1/appeals/${seen.appeal}/answers`, { auth: caseworker });
    assert.equal(answers.body.answers[0].contact.name, NAME);
    assert.equal(answers.body.answers[0].saw, AWKWARD);
  });

  it('serves the same cases, events and access records', async () => {
    for (const x of opened) {
      const acc = await dst.req('GET', `/api/v1/cases/${x.reference}/accesses`, { auth: caseworker });
      assert.equal(acc.status, 200, acc.text);
      assert.deepEqual(acc.body.accesses, seen[x.reference].accesses, x.reference);
      const r = await dst.req('GET', `/api/v1/cases/${x.reference}`, { auth: caseworker, headers: { [PURPOSE]: 'Review' } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, seen[x.reference].case, x.reference);
    }
    assert.equal(seen[opened[0].reference].case.case.person.name, NAME);
    const list = await dst.req('GET', '/api/v1/cases?limit=200', { auth: caseworker, headers: { [PURPOSE]: 'Review' } });
    const srcList = await src.req('GET', '/api/v1/cases?limit=200', { auth: caseworker, headers: { [PURPOSE]: 'Review' } });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.cases.map((c) => c.reference), srcList.body.cases.map((c) => c.reference));
  });

  it('keeps tracking secrets, rotated ones included, the API key and the sessions', async () => {
    const creds = await src.credentials();
    for (const { reference, secret } of [...creds.slice(0, 5), opened[0], opened[1]]) {
      const a = await src.req('GET', `/api/v1/track/${reference}`, { headers: { 'x-tracking-secret': secret } });
      const b = await dst.req('GET', `/api/v1/track/${reference}`, { headers: { 'x-tracking-secret': secret } });
      assert.equal(b.status, 200, `${reference}: ${b.text}`);
      // Reads since the copy added access records on each side apart.
      assert.deepEqual({ ...b.body, accesses: null }, { ...a.body, accesses: null }, reference);
    }
    const c = opened[2];
    let r = await dst.req('GET', `/api/v1/track/${c.reference}`, { headers: { 'x-tracking-secret': rotated } });
    assert.equal(r.status, 200, r.text);
    expectError(await dst.req('GET', `/api/v1/track/${c.reference}`, { headers: { 'x-tracking-secret': oldSecret } }), 404, 'not_found');
    r = await dst.req('GET', `/api/v1/track/${opened[0].reference}`, { headers: { 'x-tracking-postcode': 'ZE1 0AA' } });
    assert.equal(r.status, 200, r.text);

    r = await dst.req('GET', '/api/v1/cases?limit=1', { auth: key, headers: { [PURPOSE]: 'Nightly sync' } });
    assert.equal(r.status, 200, r.text);
    r = await dst.req('GET', '/api/v1/cases?limit=1', { auth: admin, headers: { [PURPOSE]: 'Review' } });
    assert.equal(r.status, 200, r.text);
    const fresh = await dst.login(USERS.analyst);
    r = await dst.req('GET', '/api/v1/cases?limit=1', { auth: fresh });
    assert.equal(r.status, 200, r.text);
  });

  it('takes new cases and events after the copied ones', async () => {
    const c = await createCase(dst, caseworker, { service: 'migrate', summary: 'After the move' },
      { [PURPOSE]: 'Opening a case' });
    const r = await addEvent(dst, caseworker, c.reference, { type: 'public_note', note: 'Moved' });
    const events = seen[opened[0].reference].case.events;
    assert.ok(Number(r.body.event.id) > Number(events[events.length - 1].id));
    const key2 = await dst.createKey('northshire', 'Second system', 'analyst');
    const list = await dst.req('GET', '/api/v1/cases?limit=1', { auth: key2 });
    assert.equal(list.status, 200, list.text);
  });

  it('refuses a target that is not empty, and leaves it as it was', async () => {
    const r = await runCli(['migrate-store', '--from', src.db, '--to', dst.db]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /not empty/);
    assert.doesNotMatch(r.stdout, /verified/);
    const ok = await dst.req('GET', `/api/v1/track/${opened[2].reference}`, { headers: { 'x-tracking-secret': rotated } });
    assert.equal(ok.status, 200, ok.text);
  });

  it('gives a clear error for a bad URI or a missing source, and usage for bad arguments', async () => {
    let r = await runCli(['migrate-store', '--from', src.db, '--to', 'postgresql://nobody@127.0.0.1:1/none']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot open the target database/);
    r = await runCli(['migrate-store', '--from', src.db, '--to', 'not-a-uri']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--to must be a PostgreSQL URI/);
    r = await runCli(['migrate-store', '--from', path.join(dir, 'missing.db'), '--to', `${PG_BASE}/postgres`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot open the source database/);
    r = await runCli(['migrate-store', '--from', src.db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: opencase migrate-store/);
  });

  it('copies into a database that `init` prepared, taking the source\'s secret key', async () => {
    const target = new Server(await mkdtemp(path.join(os.tmpdir(), 'opencase-migrate-init-')));
    try {
      await target.createDatabase();
      await cli(['--db', target.db, 'init']);
      const r = await runCli(['migrate-store', '--from', src.db, '--to', target.db]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^verified$/m);
      await target.start();
      const t = await target.req('GET', `/api/v1/track/${opened[2].reference}`, { headers: { 'x-tracking-secret': rotated } });
      assert.equal(t.status, 200, t.text);
    } finally {
      await target.close();
    }
  });
});
