// Several instances on one PostgreSQL database, a read replica, and the
// database dying under load.
//
// Races: two servers share one database, and requests spread over both must
// still make one case per Idempotency-Key and let one stage change win.
// Replication: a hot standby of the test cluster, made with pg_basebackup,
// serves an instance's public look-ups, while staff reads and the page that
// answers a citizen's message read the primary; with the standby down the
// look-ups fall back to the primary. Killed mid-load: a cluster of the
// test's own is stopped with `pg_ctl stop -m immediate` during a stream of
// writes; every answer is 201 or 503 "unavailable", every 201 survives, and
// the instance serves again once the cluster is back, without a restart.
//
// Needs OPENCASE_TEST_PG (see tests/api/lib/server.mjs); each test is
// skipped otherwise.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './lib/openapi.mjs';
import {
  PG_BASE, Server, USERS, createCase, createTestService, freePort, marker, psql, runCli, startServer,
} from './lib/server.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const needsPg = PG_BASE ? {} : { skip: 'needs PostgreSQL' };
const TEST_TIMEOUT_MS = 180_000;
const REQUEST_TIMEOUT_MS = 20_000;
const PG_TIMEOUT_S = 60;

function pgTool(name) {
  const dir = process.env.OPENCASE_PG_BINDIR || '/usr/lib/postgresql/15/bin';
  const p = path.join(dir, name);
  return existsSync(p) ? p : name;
}

// PostgreSQL refuses to run as root: as root, its programs run as `postgres`,
// as scripts/pg.sh does.
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
async function asOwner(tool, args) {
  const cmd = asRoot ? 'runuser' : pgTool(tool);
  const argv = asRoot ? ['-u', 'postgres', '--', pgTool(tool), ...args] : args;
  return run(cmd, argv, { timeout: (PG_TIMEOUT_S + 30) * 1000 });
}

// A temporary directory the cluster's owner may use.
async function ownerDir(prefix) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  return dir;
}

// A second server on the database of `first`; closing it leaves the database.
async function secondInstance(first, env = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencase-test-'));
  const s = new Server(dir, { env });
  s.pgName = null;
  s.db = first.db;
  try {
    await s.start();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return s;
}

async function send(s, method, p, { auth, json, headers = {} } = {}) {
  const h = { ...headers };
  if (auth) h.cookie = auth;
  if (json !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(s.url(p), {
    method, headers: h, body: json === undefined ? undefined : JSON.stringify(json), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await r.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON; the assertions show the text
  }
  return { status: r.status, headers: r.headers, text, body };
}

// Every case of `s`'s organisation whose summary holds `tag`, over all pages.
async function listAll(s, auth, tag) {
  const refs = [];
  let cursor = null;
  for (let page = 0; page < 1000; page++) {
    const q = `/api/v1/cases?q=${encodeURIComponent(tag)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await send(s, 'GET', q, { auth });
    assert.equal(r.status, 200, r.text);
    refs.push(...r.body.cases.map((c) => c.reference));
    cursor = r.body.next_cursor;
    if (!cursor) return refs;
  }
  assert.fail('the case list did not end');
}

async function pollUntil(what, fn, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn();
    if (last.ok) return last;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms; last: ${last.why}`);
    await sleep(100);
  }
}

describe('two instances on one database', () => {
  let a;
  let b;
  before(async () => {
    if (!PG_BASE) return;
    a = await startServer({ cases: 5 });
    b = await secondInstance(a);
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it('one Idempotency-Key makes one case, whichever instance answers', { ...needsPg, timeout: TEST_TIMEOUT_MS }, async () => {
    const auth = { a: await a.login(USERS.caseworker), b: await b.login(USERS.caseworker) };
    const key = marker('idem');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => {
      const s = i % 2 ? b : a;
      return send(s, 'POST', '/api/v1/cases', {
        auth: i % 2 ? auth.b : auth.a, json: { service: 'parking-permit', summary: key }, headers: { 'idempotency-key': key },
      });
    }));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((x) => x === 201).length, 1, `one 201: ${statuses}`);
    assert.equal(statuses.filter((x) => x === 200).length, answers.length - 1, `the rest replays: ${statuses}`);
    const refs = new Set(answers.map((r) => r.body.case.reference));
    assert.equal(refs.size, 1, `one reference: ${[...refs]}`);
    for (const r of answers.filter((x) => x.status === 200)) {
      assert.equal(r.headers.get('idempotent-replayed'), 'true');
      assert.equal(r.body.tracking_secret, undefined, 'a replay shows no secret');
    }
    assert.ok(answers.find((r) => r.status === 201).body.tracking_secret);
    assert.deepEqual(await listAll(a, auth.a, key), [...refs]);
    assert.deepEqual(await listAll(b, auth.b, key), [...refs]);
  });

  it('of concurrent conflicting stage changes exactly one wins', { ...needsPg, timeout: TEST_TIMEOUT_MS }, async () => {
    const admin = await a.login(USERS.admin);
    const auth = { a: await a.login(USERS.caseworker), b: await b.login(USERS.caseworker) };
    const svc = `race${Date.now().toString(36)}`;
    await createTestService(a, admin, svc);
    for (let round = 0; round < 3; round++) {
      const c = await createCase(a, auth.a, { service: svc, summary: marker('race') });
      // From 'received' either move is allowed, and neither leads on to the
      // other, so only one may happen.
      const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => {
        const s = i % 2 ? b : a;
        const stage = i % 4 < 2 ? 'assessing' : 'withdrawing';
        return send(s, 'POST', `/api/v1/cases/${c.reference}/events`, { auth: i % 2 ? auth.b : auth.a, json: { type: 'stage_change', stage } });
      }));
      const statuses = answers.map((r) => r.status);
      assert.equal(statuses.filter((x) => x === 201).length, 1, `one 201: ${statuses}`);
      for (const r of answers.filter((x) => x.status !== 201)) {
        assert.equal(r.status, 409, r.text);
        assert.ok(['conflict', 'invalid_transition'].includes(r.body?.error?.code), r.text);
        assert.ok(r.body.error.message.length > 0);
      }
      const winner = answers.find((r) => r.status === 201).body.event.stage;
      for (const s of [a, b]) {
        const got = await send(s, 'GET', `/api/v1/cases/${c.reference}`, { auth: s === a ? auth.a : auth.b });
        assert.equal(got.status, 200, got.text);
        assert.equal(got.body.case.stage, winner);
        const moves = got.body.events.filter((e) => e.type === 'stage_change');
        assert.equal(moves.length, 1, `one stage_change stored: ${JSON.stringify(moves)}`);
        assert.equal(moves[0].stage, winner);
      }
    }
  });
});

describe('a read replica', () => {
  let primary;
  let reader;
  let standbyDir = null;
  let standbyRunning = false;
  let standbyBase;

  const standby = (args) => asOwner('pg_ctl', ['-D', path.join(standbyDir, 'data'), ...args]);

  before(async () => {
    if (!PG_BASE) return;
    primary = await startServer({ cases: 5 });
    const u = new URL(PG_BASE);
    standbyDir = await ownerDir('opencase-standby-');
    await asOwner('pg_basebackup', ['-h', u.hostname, '-p', u.port, '-U', u.username || 'opencase', '-D', path.join(standbyDir, 'data'), '-R', '-X', 'stream', '-c', 'fast']);
    const port = await freePort();
    // The settings copied from the primary name its port and socket; the
    // later lines win.
    await asOwner('sh', ['-c', `printf "%s\\n" "port = ${port}" "unix_socket_directories = '${standbyDir}'" "listen_addresses = '127.0.0.1'" "hot_standby = on" >> "${standbyDir}/data/postgresql.conf"`]);
    await standby(['-l', path.join(standbyDir, 'log'), '-w', '-t', String(PG_TIMEOUT_S), 'start']);
    standbyRunning = true;
    standbyBase = `postgresql://${u.username || 'opencase'}@127.0.0.1:${port}`;
    reader = await secondInstance(primary, { OPENCASE_DB_REPLICA: `${standbyBase}/${primary.pgName}` });
  });
  after(async () => {
    try {
      await reader?.close();
      await primary?.close();
    } finally {
      if (standbyRunning) await standby(['-m', 'immediate', '-w', '-t', String(PG_TIMEOUT_S), 'stop']).catch(() => {});
      if (standbyDir) await rm(standbyDir, { recursive: true, force: true });
    }
  });

  const track = (s, c) => send(s, 'GET', `/api/v1/track/${c.reference}`, { headers: { 'x-tracking-secret': c.secret } });
  const notes = (r) => r.body.timeline.map((t) => t.note);

  it('serves public look-ups from the standby and staff reads from the primary', { ...needsPg, timeout: TEST_TIMEOUT_MS }, async () => {
    assert.match(reader.output, /replica=yes/, `the instance opened the replica\n${reader.output}`);
    const staff = await primary.login(USERS.caseworker);
    const c = await createCase(primary, staff, { service: 'parking-permit', summary: marker('replica') });
    await pollUntil('the new case was visible through the replica instance', async () => {
      const r = await track(reader, c);
      return { ok: r.status === 200, why: `${r.status} ${r.text.slice(0, 200)}` };
    });
    // A look-up finds a case the standby lacks on the primary, so the case
    // must have reached the standby itself before replay is paused.
    const standbyDb = `${standbyBase}/${primary.pgName}`;
    await pollUntil('the standby replayed the new case', async () => {
      const { stdout } = await run(pgTool('psql'), ['-X', '-A', '-t', '-d', standbyDb, '-c',
        `SELECT count(*) FROM cases WHERE reference = '${c.reference}'`], { timeout: 30_000 });
      return { ok: stdout.trim() === '1', why: stdout.trim() };
    });

    // With replay paused, the standby stops at what it has; a note written
    // now is on the primary alone.
    await psql(standbyDb, 'SELECT pg_wal_replay_pause()');
    // Pausing is only requested here; replay stops at its next check.
    await pollUntil('the standby paused replay', async () => {
      const { stdout } = await run(pgTool('psql'), ['-X', '-A', '-t', '-d', standbyDb, '-c', 'SELECT pg_get_wal_replay_pause_state()'], { timeout: 30_000 });
      return { ok: stdout.trim() === 'paused', why: stdout.trim() };
    });
    try {
      const note = marker('note');
      const added = await send(primary, 'POST', `/api/v1/cases/${c.reference}/events`, { auth: staff, json: { type: 'public_note', note } });
      assert.equal(added.status, 201, added.text);
      for (let i = 0; i < 5; i++) {
        const r = await track(reader, c);
        assert.equal(r.status, 200, r.text);
        assert.ok(!notes(r).includes(note), 'the public look-up read the paused standby');
        await sleep(50);
      }
      const readerStaff = await reader.login(USERS.caseworker);
      const own = await send(reader, 'GET', `/api/v1/cases/${c.reference}`, { auth: readerStaff });
      assert.equal(own.status, 200, own.text);
      assert.ok(own.body.events.some((e) => e.note === note), 'staff read the primary');

      // The page answering a citizen's message shows it at once.
      const message = marker('message');
      const form = new URLSearchParams({ reference: c.reference, secret: c.secret, message });
      const page = await fetch(reader.url('/track/message'), { method: 'POST', body: form, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const html = await page.text();
      assert.equal(page.status, 200, html.slice(0, 500));
      assert.ok(html.includes(message), 'the re-rendered page shows the message just sent');
      assert.ok(html.includes(note), 'and reads the primary throughout');
      const viaPage = await fetch(reader.url('/track'), { method: 'POST', body: new URLSearchParams({ reference: c.reference, secret: c.secret }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const pageHtml = await viaPage.text();
      assert.equal(viaPage.status, 200, pageHtml.slice(0, 500));
      assert.ok(!pageHtml.includes(message), 'the tracking page reads the standby');

      await psql(standbyDb, 'SELECT pg_wal_replay_resume()');
      await pollUntil('the note and message reached the replica', async () => {
        const r = await track(reader, c);
        return { ok: r.status === 200 && notes(r).includes(note) && notes(r).includes(message), why: r.text.slice(0, 300) };
      });
    } finally {
      await psql(standbyDb, 'SELECT pg_wal_replay_resume()').catch(() => {});
    }
  });

  it('falls back to the primary when the standby stops', { ...needsPg, timeout: TEST_TIMEOUT_MS }, async () => {
    const staff = await primary.login(USERS.caseworker);
    const c = await createCase(primary, staff, { service: 'parking-permit', summary: marker('fallback') });
    await pollUntil('the case was visible', async () => {
      const r = await track(reader, c);
      return { ok: r.status === 200, why: r.text.slice(0, 200) };
    });
    await standby(['-m', 'immediate', '-w', '-t', String(PG_TIMEOUT_S), 'stop']);
    standbyRunning = false;
    const note = marker('after');
    const added = await send(primary, 'POST', `/api/v1/cases/${c.reference}/events`, { auth: staff, json: { type: 'public_note', note } });
    assert.equal(added.status, 201, added.text);
    // Spread over more than the time a failed replica is left alone, so that
    // it is tried, and fails, again.
    for (let i = 0; i < 15; i++) {
      const r = await track(reader, c);
      assert.equal(r.status, 200, `look-up ${i} with the standby down: ${r.status} ${r.text}`);
      assert.ok(notes(r).includes(note), 'the fallback reads the primary');
      await sleep(100);
    }
    const form = new URLSearchParams({ reference: c.reference, secret: c.secret });
    const page = await fetch(reader.url('/track'), { method: 'POST', body: form, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    assert.equal(page.status, 200, (await page.text()).slice(0, 500));
    assert.match(reader.output, /the replica failed/);
  });
});

describe('the database killed mid-load', () => {
  let dir = null;
  let base;
  let s;
  const pgData = () => path.join(dir, 'data');

  before(async () => {
    if (!PG_BASE) return;
    dir = await mkdtemp(path.join(os.tmpdir(), 'oc-kill-'));
    const { stdout } = await run(path.join(ROOT, 'scripts/pg.sh'), ['start', dir], { timeout: 180_000 });
    base = stdout.trim();
    await psql(`${base}/postgres`, 'CREATE DATABASE opencase');
    const db = `${base}/opencase`;
    for (const args of [['init'], ['demo', '--cases', '5']]) {
      const r = await runCli(['--db', db, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    s = new Server(await mkdtemp(path.join(os.tmpdir(), 'opencase-test-')));
    s.pgName = null;
    s.db = db;
    await s.start();
  });
  after(async () => {
    try {
      await s?.close();
    } finally {
      if (dir) await run(path.join(ROOT, 'scripts/pg.sh'), ['stop', dir], { timeout: 120_000 }).catch(() => rm(dir, { recursive: true, force: true }));
    }
  });

  it('answers 201 or 503, loses nothing acknowledged, and recovers by itself', { ...needsPg, timeout: TEST_TIMEOUT_MS }, async () => {
    const auth = await s.login(USERS.caseworker);
    const tag = marker('load');
    const made = [];
    const others = [];
    let unavailable = 0;
    let n = 0;
    let stopping = false;
    let recovered = false;
    const worker = async () => {
      while (!stopping) {
        const summary = `${tag} ${n++}`;
        let r;
        try {
          r = await send(s, 'POST', '/api/v1/cases', { auth, json: { service: 'parking-permit', summary } });
        } catch (e) {
          others.push(`${summary}: ${e.message}`);
          continue;
        }
        if (r.status === 201) {
          made.push(r.body.case.reference);
        } else if (r.status === 503 && r.body?.error?.code === 'unavailable' && r.body.error.message.length > 0) {
          unavailable++;
        } else {
          others.push(`${summary}: ${r.status} ${r.text.slice(0, 300)}`);
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      await pollUntil('writes were acknowledged before the stop', async () => ({ ok: made.length >= 20, why: `${made.length} made` }));
      await asOwner('pg_ctl', ['-D', pgData(), '-m', 'immediate', '-w', '-t', String(PG_TIMEOUT_S), 'stop']);
      const before = made.length;
      await pollUntil('the load saw the database down', async () => ({ ok: unavailable >= 10, why: `${unavailable} answers 503` }));
      await sleep(500);
      await asOwner('pg_ctl', ['-D', pgData(), '-l', path.join(dir, 'log'), '-w', '-t', String(PG_TIMEOUT_S), 'start']);
      await pollUntil('the instance acknowledged writes again', async () => ({ ok: made.length >= before + 20, why: `${made.length - before} since the stop` }), 60_000);
      recovered = true;
    } finally {
      stopping = true;
      await Promise.all(workers);
    }
    assert.ok(recovered);
    assert.deepEqual(others, [], 'every answer was 201 or 503 unavailable');
    assert.ok(unavailable > 0);
    const stored = new Set(await listAll(s, auth, tag));
    const lost = made.filter((ref) => !stored.has(ref));
    assert.deepEqual(lost, [], `all ${made.length} acknowledged cases are stored`);
    const t = await send(s, 'GET', '/healthz');
    assert.equal(t.status, 200);
  });
});
