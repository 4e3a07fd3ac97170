// Starts a real opencase server on a fresh database for one test file.
//
// Each test file gets its own temporary directory, database, demo data and
// port, so files can run in parallel processes without sharing state. The
// binary comes from OPENCASE_BIN (default build/opencase); the environment is
// passed through so that sanitizer options reach the server and the CLI.
//
// The database is an SQLite file in that directory, unless OPENCASE_TEST_PG
// holds the base URI of a PostgreSQL cluster (postgresql://user@host:port, as
// scripts/pg.sh prints it): then each server gets a database of its own,
// created in that cluster and dropped when the server is closed.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { ROOT, conformance } from './openapi.mjs';

export const BIN = path.resolve(ROOT, process.env.OPENCASE_BIN || 'build/opencase');
export const PASSWORD = process.env.OPENCASE_DEMO_PASSWORD || 'opencase-test-password';

export const USERS = {
  admin: 'admin@northshire.example',
  caseworker: 'caseworker@northshire.example',
  analyst: 'analyst@northshire.example',
  wessexAdmin: 'admin@wessex.example',
  officer: 'officer@wessex.example',
};

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

// The PostgreSQL cluster's base URI, without a database; null for SQLite.
export const PG_BASE = process.env.OPENCASE_TEST_PG ? process.env.OPENCASE_TEST_PG.replace(/\/+$/, '') : null;

const run = promisify(execFile);

// PostgreSQL's own client programs; Debian keeps them in a versioned
// directory and puts only a wrapper on PATH.
function pgTool(name) {
  const dir = process.env.OPENCASE_PG_BINDIR || '/usr/lib/postgresql/15/bin';
  const p = path.join(dir, name);
  return existsSync(p) ? p : name;
}

// Runs SQL with psql on the database at `uri`, stopping at the first error;
// a statement stuck behind a lock fails after a while rather than hanging.
export async function psql(uri, statement) {
  await run(pgTool('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', uri, '-c', statement], { timeout: 30_000 });
}

// Runs SQL with the sqlite3 shell on the database file `db`, waiting for a
// server that holds the write lock.
export async function sqlite(db, statement) {
  await run('sqlite3', ['-cmd', '.timeout 10000', db, statement]);
}

let pgCount = 0;

// A name no other server of this run has: the process, a counter and chance.
function pgDatabaseName() {
  pgCount += 1;
  return `opencase_t${process.pid}_${pgCount}_${Math.random().toString(36).slice(2, 8)}`;
}

function childEnv(extra = {}) {
  const env = { ...process.env, OPENCASE_DEMO_PASSWORD: PASSWORD, ...extra };
  delete env.OPENCASE_DB;
  delete env.OPENCASE_LISTEN;
  return env;
}

// Runs the CLI to completion. Resolves { code, signal, stdout, stderr }.
export function runCli(args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A command that exits without reading its input closes the pipe first.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

async function cliOk(args, opts) {
  const r = await runCli(args, opts);
  assert.equal(r.code, 0, `opencase ${args.join(' ')} exited ${r.code} (${r.signal ?? 'no signal'})\n${r.stdout}\n${r.stderr}`);
  return r;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  // `env`: extra environment for the server process (settings such as
  // OPENCASE_SHOW_OFFICER_NAMES).
  constructor(dir, { env = {} } = {}) {
    this.dir = dir;
    // The public log's signing key, made by init; named for PostgreSQL too.
    this.logKey = path.join(dir, 'log.key');
    this.env = { OPENCASE_LOG_KEY: this.logKey, ...env };
    // Either the SQLite file or the URI of this server's PostgreSQL database;
    // what --db is given, and kept over restarts.
    this.pgName = PG_BASE ? pgDatabaseName() : null;
    this.db = this.pgName ? `${PG_BASE}/${this.pgName}` : path.join(dir, 't.db');
    this.credsPath = path.join(dir, 'creds.txt');
    this.child = null;
    this.exited = null;
    this.output = '';
    this.port = 0;
    this.problems = [];
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  url(p) {
    return this.base + p;
  }

  cli(args, opts = {}) {
    return runCli(['--db', this.db, ...args], { ...opts, env: { ...this.env, ...opts.env } });
  }

  get backend() {
    return this.pgName ? 'postgresql' : 'sqlite';
  }

  // Runs SQL on the server's database from another process while it serves:
  // `statements` holds the text for each backend, { sqlite, postgresql }.
  async sql(statements) {
    const text = statements[this.backend];
    assert.ok(text, `no SQL given for ${this.backend}`);
    if (this.pgName) await psql(this.db, text);
    else await sqlite(this.db, text);
  }

  // Waits until the public log holds the entries of every change committed
  // so far: PostgreSQL queues them and the server sequences them after
  // commit, in a fraction of a second; SQLite appends them in the change's
  // own transaction. Bounded, generously for sanitizer runs.
  async logSequenced() {
    if (!this.pgName) return;
    for (let i = 0; i < 300; i++) {
      const { stdout } = await run(pgTool('psql'), ['-X', '-A', '-t', '-d', this.db, '-c', 'SELECT count(*) FROM log_queue'], { timeout: 30_000 });
      if (stdout.trim() === '0') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the public log\'s queue was not sequenced');
  }

  // Makes the PostgreSQL database; the CLI's init then fills it.
  async createDatabase() {
    if (this.pgName) await psql(`${PG_BASE}/postgres`, `CREATE DATABASE ${this.pgName}`);
  }

  async dropDatabase() {
    if (this.pgName) await psql(`${PG_BASE}/postgres`, `DROP DATABASE IF EXISTS ${this.pgName} WITH (FORCE)`);
  }

  async start() {
    assert.equal(this.child, null, 'server already running');
    this.port = await freePort();
    const child = spawn(BIN, ['--db', this.db, '--listen', `127.0.0.1:${this.port}`, 'serve'], {
      env: childEnv(this.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output = '';
    child.stdout.on('data', (d) => { this.output += d; });
    child.stderr.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    let dead = null;
    this.exited.then((e) => { dead = e; });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (dead) {
        this.child = null;
        throw new Error(`server exited during start-up (${dead.code ?? dead.signal})\n${this.output}`);
      }
      try {
        const r = await fetch(this.url('/healthz'));
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`server did not answer /healthz\n${this.output}`);
      }
      await sleep(50);
    }
  }

  // SIGTERM: the server must finish cleanly with exit code 0.
  async stop() {
    if (!this.child) return;
    this.child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); });
    const e = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (!e) {
      this.child.kill('SIGKILL');
      await this.exited;
      this.child = null;
      assert.fail(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.output}`);
    }
    this.child = null;
    assert.deepEqual(e, { code: 0, signal: null }, `server did not exit cleanly on SIGTERM\n${this.output}`);
  }

  // SIGKILL: a crash at an arbitrary moment.
  async kill() {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  async credentials() {
    const text = await readFile(this.credsPath, 'utf8');
    return text.split('\n').filter((l) => l.trim()).map((line) => {
      const [reference, secret, stage, service] = line.trim().split(/\s+/);
      return { reference, secret, stage, service };
    });
  }

  // One HTTP exchange. `auth` is a session cookie ("opencase_session=...") or
  // an API key; `json` is sent as application/json; `body` is sent as is.
  // Every JSON answer is checked against docs/openapi.json.
  async req(method, p, { json, body, headers = {}, auth, contentType } = {}) {
    const h = { ...headers };
    if (auth) {
      if (auth.startsWith('opencase_session=')) h.cookie = auth;
      else h.authorization = `Bearer ${auth}`;
    }
    let payload = body;
    if (json !== undefined) {
      payload = JSON.stringify(json);
      h['content-type'] = 'application/json';
    }
    if (contentType) h['content-type'] = contentType;
    const r = await fetch(this.url(p), { method, headers: h, body: payload, redirect: 'manual' });
    const text = await r.text();
    const ct = r.headers.get('content-type') || '';
    let parsed;
    if (/^application\/json\b/.test(ct) && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        assert.fail(`${method} ${p}: answer labelled JSON does not parse: ${e.message}\n${text.slice(0, 500)}`);
      }
    }
    const pathname = new URL(this.url(p)).pathname;
    const issues = conformance(method, pathname, r.status, ct, parsed);
    assert.deepEqual(issues, [], `${method} ${p} -> ${r.status}: ${text.slice(0, 1000)}`);
    return { request: `${method} ${p}`, status: r.status, headers: r.headers, text, body: parsed, contentType: ct };
  }

  async login(email, password = PASSWORD) {
    const r = await this.req('POST', '/api/v1/auth/login', { json: { email, password } });
    assert.equal(r.status, 200, `login ${email}: ${r.text}`);
    const cookie = r.headers.get('set-cookie');
    assert.ok(cookie, 'login sets a cookie');
    const m = /^(opencase_session=[^;]+)/.exec(cookie);
    assert.ok(m, `session cookie: ${cookie}`);
    return m[1];
  }

  // Makes an API key with the CLI; the key is the last non-empty line printed.
  async createKey(org, label, role) {
    const args = ['key', 'create', '--org', org, '--label', label];
    if (role) args.push('--role', role);
    const r = await cliOk(['--db', this.db, ...args]);
    const lines = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.ok(lines.length > 0, 'key create printed the key');
    return lines[lines.length - 1];
  }

  async close() {
    let failure = null;
    try {
      await this.stop();
    } catch (e) {
      failure = e;
    }
    await rm(this.dir, { recursive: true, force: true });
    try {
      await this.dropDatabase();
    } catch (e) {
      // A failed stop says more than the clean-up that followed it.
      failure ??= e;
    }
    if (failure) throw failure;
  }
}

// A fresh database with the demo organisations, staff and `cases` cases,
// and a running server on it, started with the extra environment `env`.
export async function startServer({ cases = 60, env = {} } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencase-test-'));
  const s = new Server(dir, { env });
  try {
    await s.createDatabase();
    await cliOk(['--db', s.db, 'init'], { env: s.env });
    await cliOk(['--db', s.db, 'demo', '--cases', String(cases), '--credentials', s.credsPath]);
    await s.start();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    // The failure to start is the news; a failed drop would only hide it.
    await s.dropDatabase().catch(() => {});
    throw e;
  }
  return s;
}

// Asserts the contract's error shape, status, code and (when given) field.
export function expectError(r, status, code, field) {
  const what = r.request ? `${r.request}: ` : '';
  assert.equal(r.status, status, `${what}expected ${status} ${code}, got ${r.status}: ${r.text.slice(0, 500)}`);
  assert.match(r.contentType, /^application\/json\b/, 'errors are JSON');
  assert.ok(r.body && r.body.error, `error body: ${r.text}`);
  assert.equal(r.body.error.code, code, `${what}error code: ${r.text}`);
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(r.body.error.message.length > 0, 'error message is a sentence');
  assert.ok('field' in r.body.error, 'error.field is present (null when not about a field)');
  if (field !== undefined) assert.equal(r.body.error.field, field, `${what}error field: ${r.text}`);
}

// A string unlikely to appear anywhere by chance.
export function marker(tag) {
  return `${tag}${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
}

// The contract's test workflow: milestones, a hidden internal stage, and
// terminal stages reached one way or several.
export function testWorkflow() {
  return {
    initial: 'received',
    stages: [
      { code: 'received', name: 'Received', milestone: true },
      { code: 'triage_hidden', name: 'Hidden Triage Stage', milestone: false },
      { code: 'assessing', name: 'Assessing', milestone: true },
      { code: 'withdrawing', name: 'Withdrawing', milestone: false },
      { code: 'approved', name: 'Approved', milestone: true, terminal: true },
      { code: 'refused', name: 'Refused', milestone: true, terminal: true },
      { code: 'withdrawn', name: 'Withdrawn', milestone: true, terminal: true },
    ],
    transitions: {
      received: ['triage_hidden', 'assessing', 'withdrawing'],
      triage_hidden: ['assessing'],
      assessing: ['approved', 'refused'],
      withdrawing: ['withdrawn'],
    },
  };
}

// Creates a service with testWorkflow() in the caller's organisation.
export async function createTestService(s, auth, code, extra = {}) {
  const r = await s.req('POST', '/api/v1/services', {
    auth,
    json: { code, name: `Test service ${code}`, description: 'Used by the API tests.', target_days: 10, workflow: testWorkflow(), ...extra },
  });
  assert.equal(r.status, 201, `create service ${code}: ${r.text}`);
  return r.body;
}

export async function createCase(s, auth, json, headers) {
  const r = await s.req('POST', '/api/v1/cases', { auth, json, headers });
  assert.equal(r.status, 201, `create case: ${r.text}`);
  return { reference: r.body.case.reference, secret: r.body.tracking_secret, case: r.body.case };
}

export async function addEvent(s, auth, reference, json, expectStatus = 201) {
  const r = await s.req('POST', `/api/v1/cases/${reference}/events`, { auth, json });
  assert.equal(r.status, expectStatus, `event ${JSON.stringify(json)} on ${reference}: ${r.text}`);
  return r;
}
