// Staff sign-in, sessions, API keys, /me and the 401/403 answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS, PASSWORD } from './lib/server.mjs';

describe('authentication', () => {
  let s;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.close();
  });

  it('logs in with the demo password and sets a strict session cookie', async () => {
    const r = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: PASSWORD } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.user, {
      email: USERS.admin,
      name: r.body.user.name,
      role: 'administrator',
      organisation: { slug: 'northshire', name: 'Northshire Council' },
    });
    assert.equal(typeof r.body.user.name, 'string');
    const cookie = r.headers.get('set-cookie');
    assert.match(cookie, /^opencase_session=[^;\s]{16,};/);
    const attrs = cookie.split(';').slice(1).map((a) => a.trim().toLowerCase());
    assert.ok(attrs.includes('path=/'), cookie);
    assert.ok(attrs.includes('httponly'), cookie);
    assert.ok(attrs.includes('samesite=strict'), cookie);
    assert.ok(attrs.includes('max-age=28800'), cookie);
    assert.ok(!r.text.includes(PASSWORD), 'the password is not echoed');
  });

  it('accepts the email in another case', async () => {
    const r = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.caseworker.toUpperCase(), password: PASSWORD } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.user.role, 'caseworker');
  });

  it('GET /api/v1/me describes the signed-in user', async () => {
    for (const [who, role, slug] of [
      [USERS.admin, 'administrator', 'northshire'],
      [USERS.caseworker, 'caseworker', 'northshire'],
      [USERS.analyst, 'analyst', 'northshire'],
      [USERS.wessexAdmin, 'administrator', 'wessex-police'],
      [USERS.officer, 'caseworker', 'wessex-police'],
    ]) {
      const cookie = await s.login(who);
      const r = await s.req('GET', '/api/v1/me', { auth: cookie });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.kind, 'user');
      assert.equal(r.body.role, role);
      assert.equal(r.body.organisation.slug, slug);
    }
  });

  it('rejects a wrong password and an unknown email alike with 401', async () => {
    const a = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: 'wrong-password' } });
    expectError(a, 401, 'unauthorized');
    assert.equal(a.headers.get('set-cookie'), null);
    const b = await s.req('POST', '/api/v1/auth/login', { json: { email: 'nobody@northshire.example', password: PASSWORD } });
    expectError(b, 401, 'unauthorized');
    assert.equal(a.body.error.message, b.body.error.message, 'the answer does not tell which part was wrong');
  });

  it('validates the login body', async () => {
    expectError(await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin } }), 400, 'missing_field', 'password');
    expectError(await s.req('POST', '/api/v1/auth/login', { json: { password: PASSWORD } }), 400, 'missing_field', 'email');
    expectError(await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: PASSWORD, remember: true } }), 400, 'unknown_field', 'remember');
    expectError(await s.req('POST', '/api/v1/auth/login', { json: { email: 5, password: PASSWORD } }), 400, 'invalid_field', 'email');
    expectError(await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: ['x'] } }), 400, 'invalid_field', 'password');
    expectError(await s.req('POST', '/api/v1/auth/login', { body: '{"email":', contentType: 'application/json' }), 400, 'invalid_json');
  });

  it('answers 401 without credentials or with bad ones', async () => {
    for (const p of ['/api/v1/me', '/api/v1/services', '/api/v1/cases']) {
      expectError(await s.req('GET', p), 401, 'unauthorized');
      expectError(await s.req('GET', p, { auth: 'opencase_session=not-a-session' }), 401, 'unauthorized');
      expectError(await s.req('GET', p, { auth: 'not-a-real-api-key' }), 401, 'unauthorized');
      expectError(await s.req('GET', p, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }), 401, 'unauthorized');
    }
    expectError(await s.req('POST', '/api/v1/cases', { json: { service: 'parking-permit', summary: 'x' } }), 401, 'unauthorized');
  });

  it('logout ends the session and clears the cookie', async () => {
    const cookie = await s.login(USERS.caseworker);
    assert.equal((await s.req('GET', '/api/v1/me', { auth: cookie })).status, 200);
    const r = await s.req('POST', '/api/v1/auth/logout', { auth: cookie });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    const cleared = r.headers.get('set-cookie');
    assert.match(cleared, /^opencase_session=[^;]*;/);
    assert.match(cleared, /max-age=0/i);
    expectError(await s.req('GET', '/api/v1/me', { auth: cookie }), 401, 'unauthorized');
  });

  it('an API key made with the CLI authenticates as a system', async () => {
    const key = await s.createKey('northshire', 'crm-link', 'caseworker');
    const r = await s.req('GET', '/api/v1/me', { auth: key });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      kind: 'key',
      name: 'crm-link',
      role: 'caseworker',
      organisation: { slug: 'northshire', name: 'Northshire Council' },
    });
    const created = await s.req('POST', '/api/v1/cases', { auth: key, json: { service: 'parking-permit', summary: 'Opened by a system' } });
    assert.equal(created.status, 201, created.text);
    const detail = await s.req('GET', `/api/v1/cases/${created.body.case.reference}`, { auth: key });
    assert.equal(detail.status, 200);
    assert.equal(detail.body.events[0].type, 'opened');
    assert.equal(detail.body.events[0].actor, 'crm-link');
  });

  it('an analyst key may read but not write', async () => {
    const key = await s.createKey('northshire', 'dashboard', 'analyst');
    assert.equal((await s.req('GET', '/api/v1/cases', { auth: key })).status, 200);
    expectError(await s.req('POST', '/api/v1/cases', { auth: key, json: { service: 'parking-permit', summary: 'x' } }), 403, 'forbidden');
  });

  it('a revoked key is refused within AUTH_KEY_CACHE_SECONDS (5 s), and for good', async () => {
    const key = await s.createKey('northshire', 'to-revoke', 'caseworker');
    const other = await s.createKey('northshire', 'stays', 'caseworker');
    assert.equal((await s.req('GET', '/api/v1/me', { auth: key })).status, 200);
    const rows = (await s.cli(['key', 'list', '--org', 'northshire'])).stdout.trim().split('\n').map((l) => l.split('\t'));
    const row = rows.find((r) => r[4] === 'to-revoke');
    assert.ok(row, rows.join('\n'));
    assert.deepEqual([row[1], row[3]], ['caseworker', '-']);
    assert.match(row[2], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // Another organisation's key, or a malformed id, is not revoked.
    assert.equal((await s.cli(['key', 'revoke', '--org', 'wessex-police', '--id', row[0]])).code, 1);
    assert.equal((await s.cli(['key', 'revoke', '--org', 'northshire', '--id', 'one'])).code, 2);
    assert.equal((await s.cli(['key', 'revoke', '--org', 'northshire'])).code, 2);
    assert.equal((await s.req('GET', '/api/v1/me', { auth: key })).status, 200);

    const revoked = await s.cli(['key', 'revoke', '--org', 'northshire', '--id', row[0]]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const deadline = Date.now() + 8000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await s.req('GET', '/api/v1/me', { auth: key })).status;
    }
    assert.equal(status, 401, 'the revoked key still works after 8 s');
    expectError(await s.req('GET', '/api/v1/cases', { auth: key }), 401, 'unauthorized');
    assert.equal((await s.req('GET', '/api/v1/me', { auth: other })).status, 200, 'other keys go on');
    const after = (await s.cli(['key', 'list', '--org', 'northshire'])).stdout;
    assert.match(after, new RegExp(`^${row[0]}\tcaseworker\t\\S+\t\\d{4}-\\S+\tto-revoke$`, 'm'));
  });

  it('GET /api/v1/users lists the organisation\'s accounts; emails for administrators only', async () => {
    const caseworker = await s.login(USERS.caseworker);
    const r = await s.req('GET', '/api/v1/users', { auth: caseworker });
    assert.equal(r.status, 200, r.text);
    const byRole = Object.fromEntries(r.body.users.map((u) => [u.role, u]));
    assert.deepEqual(Object.keys(byRole).sort(), ['administrator', 'analyst', 'caseworker']);
    for (const u of r.body.users) {
      assert.deepEqual(Object.keys(u), ['id', 'name', 'role']);
      assert.ok(Number.isInteger(u.id));
    }
    const ids = r.body.users.map((u) => u.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'by id');

    const admin = await s.login(USERS.admin);
    const all = await s.req('GET', '/api/v1/users', { auth: admin });
    assert.equal(all.status, 200);
    const emails = all.body.users.map((u) => u.email);
    for (const email of [USERS.admin, USERS.caseworker, USERS.analyst]) assert.ok(emails.includes(email), email);
    assert.ok(!emails.includes(USERS.wessexAdmin), 'another organisation\'s accounts are not listed');

    const admins = await s.req('GET', '/api/v1/users?role=administrator', { auth: admin });
    assert.equal(admins.status, 200);
    assert.ok(admins.body.users.length >= 1);
    assert.ok(admins.body.users.every((u) => u.role === 'administrator'));
    const key = await s.createKey('wessex-police', 'wessex-directory', 'analyst');
    const wessex = await s.req('GET', '/api/v1/users', { auth: key });
    assert.equal(wessex.status, 200);
    assert.ok(wessex.body.users.length >= 1);
    assert.ok(wessex.body.users.every((u) => !('email' in u) && !ids.includes(u.id)));

    expectError(await s.req('GET', '/api/v1/users?role=boss', { auth: admin }), 400, 'invalid_field', 'role');
    expectError(await s.req('GET', '/api/v1/users?name=x', { auth: admin }), 400, 'invalid_parameter', 'name');
    expectError(await s.req('GET', '/api/v1/users'), 401, 'unauthorized');
  });

  it('a key of another organisation sees its own organisation only', async () => {
    const key = await s.createKey('wessex-police', 'wessex-crm', 'administrator');
    const me = await s.req('GET', '/api/v1/me', { auth: key });
    assert.equal(me.body.organisation.slug, 'wessex-police');
    const services = await s.req('GET', '/api/v1/services', { auth: key });
    assert.deepEqual(services.body.services.map((x) => x.code), ['burglary']);
  });
});

describe('login rate limit', () => {
  let s;
  before(async () => {
    s = await startServer({ cases: 4 });
  });
  after(async () => {
    await s?.close();
  });

  it('answers 429 with Retry-After after more than 10 failed logins', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: `wrong-${i}` } });
      expectError(r, 401, 'unauthorized');
    }
    // "More than 10": the 11th failure may still be counted as one.
    const eleventh = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: 'wrong-11' } });
    assert.ok([401, 429].includes(eleventh.status), eleventh.text);
    const r = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: 'wrong-12' } });
    expectError(r, 429, 'rate_limited');
    assert.match(r.headers.get('retry-after') || '', /^[1-9][0-9]*$/);
    const good = await s.req('POST', '/api/v1/auth/login', { json: { email: USERS.admin, password: PASSWORD } });
    expectError(good, 429, 'rate_limited');
  });
});
