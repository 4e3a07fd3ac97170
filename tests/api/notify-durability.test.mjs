// The outbox loses nothing: an SMTP server that is down during a burst of
// updates gets every message once it is back (none twice within the run, the
// failed attempts recorded), and opencase killed with SIGKILL in the middle
// of delivering sends what it had not sent after a restart; two instances
// on one database share the work without sending anything twice.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Server, startServer, USERS, createTestService, createCase, addEvent, marker, freePort } from './lib/server.mjs';
import { SmtpSink, until } from './lib/sinks.mjs';

const CASES = 15;

function env(port, extra = {}) {
  return {
    OPENCASE_SMTP_HOST: '127.0.0.1',
    OPENCASE_SMTP_PORT: String(port),
    OPENCASE_SMTP_STARTTLS: 'off',
    OPENCASE_SMTP_FROM: 'updates@northshire.example',
    OPENCASE_NOTIFY_RETRY_BASE_MS: '300',
    OPENCASE_NOTIFY_RETRY_MAX_MS: '1000',
    OPENCASE_NOTIFY_MAX_ATTEMPTS: '100',
    OPENCASE_NOTIFY_TIMEOUT_MS: '5000',
    OPENCASE_NOTIFY_POLL_MS: '100',
    ...extra,
  };
}

// Every email notification of the organisation, in any state.
async function emails(s, auth) {
  // A notification delivered between two of these reads shows in both: the
  // later state wins.
  const all = new Map();
  for (const status of ['pending', 'delivered', 'failed']) {
    const r = await s.req('GET', `/api/v1/notifications?status=${status}&limit=200`, { auth });
    assert.equal(r.status, 200, r.text);
    for (const n of r.body.notifications.filter((x) => x.channel === 'email')) all.set(n.id, n);
  }
  return [...all.values()];
}

// A burst of updates: CASES cases, each opened and moved to a milestone, all
// with email every update.
async function burst(s, caseworker, tag) {
  for (let i = 0; i < CASES; i++) {
    const c = await createCase(s, caseworker, {
      service: 'dur-svc', summary: `burst ${i}`,
      person: { name: `P ${i}`, email: `${tag}-${i}@example.org` },
      preferences: { channels: ['email'], frequency: 'every' },
    });
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'assessing' });
  }
}

describe('notification durability', () => {
  const cleanup = [];
  after(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('SMTP down during a burst, then up: every email arrives once, failed attempts recorded', async () => {
    const port = await freePort();
    const smtp = new SmtpSink();
    const s = await startServer({ cases: 2, env: env(port) });
    cleanup.push(() => s.close(), () => smtp.stop());
    const admin = await s.login(USERS.admin);
    const caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'dur-svc');
    await burst(s, caseworker, marker('b'));

    const all = await emails(s, admin);
    assert.equal(all.length, 2 * CASES);
    // Every one has been tried and refused while the server is down.
    await until('failed attempts on every email', async () => (await emails(s, admin)).every((n) => n.attempts >= 1 && n.last_error));
    const waiting = await emails(s, admin);
    assert.ok(waiting.every((n) => n.status === 'pending'), 'nothing is given up on while retries remain');
    assert.match(waiting[0].last_error, /SMTP/);

    await smtp.start(port);
    await until('every email delivered', async () => (await emails(s, admin)).every((n) => n.status === 'delivered'), 120_000);
    const ids = smtp.ids();
    assert.equal(ids.length, 2 * CASES, 'each arrives once');
    assert.deepEqual(new Set(ids), new Set(all.map((n) => String(n.id))));
    const detail = await s.req('GET', `/api/v1/notifications/${all[0].id}`, { auth: admin });
    const outcomes = detail.body.attempts.map((a) => a.outcome);
    assert.ok(outcomes.length >= 2, JSON.stringify(detail.body.attempts));
    assert.equal(outcomes[outcomes.length - 1], 'delivered');
    assert.ok(outcomes.slice(0, -1).every((o) => o === 'retry'));
    assert.ok(detail.body.attempts[0].reason.length > 0);
  });

  it('SIGKILL while delivering, then a restart: nothing is lost', async () => {
    // A slow mail server, so that the kill lands in the middle of the work.
    const smtp = await new SmtpSink({ delayMs: 300 }).start();
    const s = await startServer({ cases: 2, env: env(smtp.port, { OPENCASE_NOTIFY_LEASE_S: '3' }) });
    cleanup.push(() => s.close(), () => smtp.stop());
    const admin = await s.login(USERS.admin);
    const caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'dur-svc');
    await burst(s, caseworker, marker('k'));
    const all = await emails(s, admin);
    assert.equal(all.length, 2 * CASES);

    await until('some emails delivered', () => smtp.messages.length >= 2);
    await s.kill();
    assert.ok(smtp.messages.length < 2 * CASES, 'killed before it had sent everything');
    await s.start();
    const admin2 = await s.login(USERS.admin);
    await until('every email delivered after the restart', async () => (await emails(s, admin2)).every((n) => n.status === 'delivered'), 120_000);
    const got = new Set(smtp.ids());
    for (const n of all) assert.ok(got.has(String(n.id)), `notification ${n.id} arrived`);
  });

  it('two instances on one database deliver each notification once', async () => {
    const smtp = await new SmtpSink({ delayMs: 20 }).start();
    const s = await startServer({ cases: 2, env: env(smtp.port, { OPENCASE_NOTIFY_WORKERS: '0' }) });
    cleanup.push(() => s.close(), () => smtp.stop());
    const admin = await s.login(USERS.admin);
    const caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'dur-svc');
    // The backlog is written with no one delivering, then two instances
    // with three threads each compete for it.
    await burst(s, caseworker, marker('two'));
    const all = await emails(s, admin);
    await s.stop();
    s.env = env(smtp.port, { OPENCASE_NOTIFY_WORKERS: '3' });
    const other = new Server(await mkdtemp(path.join(os.tmpdir(), 'opencase-test-')), { env: env(smtp.port, { OPENCASE_NOTIFY_WORKERS: '3' }) });
    other.pgName = null;
    other.db = s.db;
    cleanup.push(() => other.close());
    await Promise.all([s.start(), other.start()]);
    const admin2 = await s.login(USERS.admin);
    await until('every email delivered', async () => (await emails(s, admin2)).every((n) => n.status === 'delivered'), 120_000);
    const ids = smtp.ids();
    assert.equal(ids.length, all.length, 'each arrives once');
    assert.deepEqual(new Set(ids), new Set(all.map((n) => String(n.id))));
  });
});
