// Nothing acknowledged is lost: a case answered 201 survives SIGKILL of the
// server straight after, and SIGTERM shuts down cleanly with exit code 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, USERS, marker, createCase, addEvent } from './lib/server.mjs';

describe('durability', () => {
  let s;
  before(async () => {
    s = await startServer({ cases: 10 });
  });
  after(async () => {
    await s?.close();
  });

  it('an acknowledged case survives SIGKILL', async () => {
    const admin = await s.login(USERS.admin);
    const summary = marker('durable');
    const c = await createCase(s, admin, { service: 'parking-permit', summary });
    await s.kill();
    await s.start();
    const again = await s.login(USERS.admin);
    const r = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: again });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.case.summary, summary);
    const t = await s.req('GET', `/api/v1/track/${c.reference}`, { headers: { 'x-tracking-secret': c.secret } });
    assert.equal(t.status, 200, t.text);
  });

  it('a burst of writes survives SIGKILL', async () => {
    const admin = await s.login(USERS.admin);
    const tag = marker('burst');
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => createCase(s, admin, { service: 'parking-permit', summary: `${tag} ${i}` })));
    const noted = made[0].reference;
    await addEvent(s, admin, noted, { type: 'internal_note', note: `${tag} note` });
    await s.kill();
    await s.start();
    const again = await s.login(USERS.admin);
    const list = await s.req('GET', `/api/v1/cases?q=${tag}&limit=200`, { auth: again });
    assert.deepEqual(list.body.cases.map((x) => x.reference).sort(), made.map((x) => x.reference).sort());
    const detail = await s.req('GET', `/api/v1/cases/${noted}`, { auth: again });
    assert.ok(detail.body.events.some((e) => e.type === 'internal_note' && e.note === `${tag} note`));
  });

  it('an idempotent retry after a crash returns the same case', async () => {
    const admin = await s.login(USERS.admin);
    const key = marker('retry');
    const first = await s.req('POST', '/api/v1/cases', { auth: admin, json: { service: 'parking-permit', summary: key }, headers: { 'idempotency-key': key } });
    assert.equal(first.status, 201, first.text);
    await s.kill();
    await s.start();
    const again = await s.login(USERS.admin);
    const retry = await s.req('POST', '/api/v1/cases', { auth: again, json: { service: 'parking-permit', summary: key }, headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body.case.reference, first.body.case.reference);
  });

  it('sessions survive a restart', async () => {
    const admin = await s.login(USERS.admin);
    await s.restart();
    const r = await s.req('GET', '/api/v1/me', { auth: admin });
    assert.equal(r.status, 200, r.text);
  });

  it('SIGTERM exits with code 0 and the data is still there', async () => {
    const admin = await s.login(USERS.admin);
    const c = await createCase(s, admin, { service: 'parking-permit', summary: marker('term') });
    await s.stop();
    await s.start();
    const again = await s.login(USERS.admin);
    assert.equal((await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: again })).status, 200);
    const h = await s.req('GET', '/healthz');
    assert.deepEqual(h.body, { status: 'ok' });
  });
});
