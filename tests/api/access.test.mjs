// Access transparency: every response that shows a person's data to staff
// or a system is preceded by a durable access record (who, organisation,
// role, when, what, why); the citizen sees the records on the tracking API
// and page, staff of the case's organisation at /cases/{ref}/accesses; and
// when a record cannot be written, the data is not shown (503).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, expectError, USERS, marker, createTestService, createCase, addEvent,
} from './lib/server.mjs';

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const ORG = 'Northshire Council';
const CASEWORKER_NAME = 'Ben Okoro';
const ADMIN_NAME = 'Alice Hartley';
const KEY_LABEL = 'Intake system';
const PURPOSE = 'X-Access-Purpose';

// A trigger that makes every new access record fail, its removal, and a
// clean-up that also does for a trigger never made, on each backend, applied
// from another process while the server runs.
const REFUSE = {
  sqlite: "CREATE TRIGGER refuse_access BEFORE INSERT ON accesses BEGIN SELECT RAISE(ABORT, 'refused'); END;",
  postgresql: "CREATE FUNCTION refuse_access() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$; "
    + 'CREATE TRIGGER refuse_access BEFORE INSERT ON accesses FOR EACH ROW EXECUTE FUNCTION refuse_access();',
};
const ALLOW = {
  sqlite: 'DROP TRIGGER refuse_access;',
  postgresql: 'DROP TRIGGER refuse_access ON accesses; DROP FUNCTION refuse_access();',
};
const CLEAN = {
  sqlite: 'DROP TRIGGER IF EXISTS refuse_access;',
  postgresql: 'DROP TRIGGER IF EXISTS refuse_access ON accesses; DROP FUNCTION IF EXISTS refuse_access();',
};

// A person whose every field is a marker, so that a leak of any is found.
function markedPerson() {
  return {
    name: marker('Name'),
    email: `${marker('mail').toLowerCase()}@example.org`,
    phone: '01632 960123',
    address: marker('Address'),
    postcode: 'ZE1 0AA',
  };
}

function escapeHtml(text) {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

function leaks(text, person) {
  return [person.name, person.email, person.address, person.phone, person.postcode]
    .filter((v) => text.includes(v));
}

describe('access transparency', () => {
  let s;
  let admin;
  let caseworker;
  let analyst;
  let wessex;
  let key;
  let analystKey;
  const SVC = 'access';

  before(async () => {
    s = await startServer({ cases: 6 });
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    analyst = await s.login(USERS.analyst);
    wessex = await s.login(USERS.wessexAdmin);
    key = await s.createKey('northshire', KEY_LABEL, 'caseworker');
    analystKey = await s.createKey('northshire', 'Reporting', 'analyst');
    await createTestService(s, admin, SVC);
  });
  after(async () => {
    await s?.close();
  });

  const accesses = async (ref, auth = caseworker) => {
    const r = await s.req('GET', `/api/v1/cases/${ref}/accesses`, { auth });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    return r.body.accesses;
  };
  const getCase = (ref, auth, headers) => s.req('GET', `/api/v1/cases/${ref}`, { auth, headers });
  const track = (ref, secret) => s.req('GET', `/api/v1/track/${ref}`, { headers: { 'x-tracking-secret': secret } });
  const newCase = (json = {}, headers = undefined, auth = caseworker) =>
    createCase(s, auth, { service: SVC, summary: marker('summary'), person: markedPerson(), ...json }, headers);

  it('opening a case with a person records one write access; without a person, none', async () => {
    const c = await newCase();
    const list = await accesses(c.reference);
    assert.equal(list.length, 1);
    const [a] = list;
    assert.match(a.at, TIME_RE);
    assert.equal(a.action, 'write');
    assert.equal(a.organisation, ORG);
    assert.equal(a.role, 'caseworker');
    assert.equal(a.purpose, 'case work');
    assert.equal(a.officer, CASEWORKER_NAME);
    assert.equal(a.officer_kind, 'user');

    const bare = await createCase(s, caseworker, { service: SVC, summary: marker('no person') });
    assert.deepEqual(await accesses(bare.reference), []);
  });

  it('the purpose comes from X-Access-Purpose, and a replayed create is recorded too', async () => {
    const headers = { [PURPOSE]: 'Opening a case from a phone call', 'Idempotency-Key': marker('idem') };
    const c = await newCase({}, headers);
    const replay = await s.req('POST', '/api/v1/cases', {
      auth: caseworker, headers: { ...headers, [PURPOSE]: 'Checking a retry' }, json: { service: SVC, summary: 'again' },
    });
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.body.case.reference, c.reference);
    const list = await accesses(c.reference);
    assert.deepEqual(list.map((a) => [a.action, a.purpose]), [
      ['write', 'Checking a retry'],
      ['write', 'Opening a case from a phone call'],
    ]);
  });

  it('reading a case records a read, newest first, for users and for API keys', async () => {
    const c = await newCase();
    let r = await getCase(c.reference, caseworker);
    assert.equal(r.status, 200);
    r = await getCase(c.reference, admin, { [PURPOSE]: 'Reviewing a complaint' });
    assert.equal(r.status, 200);
    r = await getCase(c.reference, key);
    assert.equal(r.status, 200);
    assert.ok(r.body.case.person, 'a caseworker key is shown the person');
    const list = await accesses(c.reference);
    assert.equal(list.length, 4);
    assert.deepEqual(list.map((a) => [a.action, a.role, a.officer, a.officer_kind, a.purpose]), [
      ['read', 'caseworker', KEY_LABEL, 'key', 'case work'],
      ['read', 'administrator', ADMIN_NAME, 'user', 'Reviewing a complaint'],
      ['read', 'caseworker', CASEWORKER_NAME, 'user', 'case work'],
      ['write', 'caseworker', CASEWORKER_NAME, 'user', 'case work'],
    ]);
    for (const a of list) assert.equal(a.organisation, ORG);
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].at >= list[i].at, 'newest first');
  });

  it('events and closing answer without the person, and so record no access', async () => {
    const c = await newCase();
    const note = await addEvent(s, caseworker, c.reference, { type: 'public_note', note: 'We have your form.' });
    assert.equal(note.body.case.person, undefined);
    const moved = await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'assessing' });
    assert.equal(moved.body.case.person, undefined);
    assert.equal(moved.body.case.stage, 'assessing');
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'withdrawn' }, 409);
    const closed = await s.req('POST', `/api/v1/cases/${c.reference}/close`, {
      auth: admin, headers: { [PURPOSE]: 'Closing after the decision' }, json: { stage: 'approved' },
    });
    assert.equal(closed.status, 200, closed.text);
    assert.equal(closed.body.case.person, undefined);
    assert.ok(closed.body.case.closed_at);
    const list = await accesses(c.reference);
    assert.deepEqual(list.map((a) => [a.action, a.officer, a.purpose]), [
      ['write', CASEWORKER_NAME, 'case work'],
    ]);
    // Reading the case is what shows the person, and that is recorded.
    const read = await getCase(c.reference, caseworker);
    assert.ok(read.body.case.person);
    assert.deepEqual((await accesses(c.reference)).map((a) => a.action), ['read', 'write']);
  });

  it('a list records one access per listed case with a person, and only those', async () => {
    const svc = 'access-list';
    await createTestService(s, admin, svc);
    const withPerson = [];
    for (let i = 0; i < 3; i++) withPerson.push(await newCase({ service: svc }));
    const bare = await createCase(s, caseworker, { service: svc, summary: 'nobody' });
    const r = await s.req('GET', `/api/v1/cases?service=${svc}`, { auth: caseworker, headers: { [PURPOSE]: 'Weekly review' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.cases.length, 4);
    for (const c of withPerson) {
      const list = await accesses(c.reference);
      assert.deepEqual(list.map((a) => [a.action, a.purpose, a.officer]), [
        ['list', 'Weekly review', CASEWORKER_NAME],
        ['write', 'case work', CASEWORKER_NAME],
      ]);
    }
    assert.deepEqual(await accesses(bare.reference), []);

    // A page of two: only the two newest are shown, and recorded.
    const page = await s.req('GET', `/api/v1/cases?service=${svc}&limit=2`, { auth: key });
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.cases.map((c) => c.reference), [bare.reference, withPerson[2].reference]);
    assert.equal((await accesses(withPerson[2].reference)).length, 3);
    assert.equal((await accesses(withPerson[2].reference))[0].officer, KEY_LABEL);
    assert.equal((await accesses(withPerson[1].reference)).length, 2);
    assert.deepEqual(await accesses(bare.reference), []);
  });

  it('analysts are shown no person and leave no record, but may read the list', async () => {
    const c = await newCase({ service: SVC });
    for (const auth of [analyst, analystKey]) {
      const r = await getCase(c.reference, auth);
      assert.equal(r.status, 200);
      assert.equal(r.body.case.person, undefined);
      const l = await s.req('GET', `/api/v1/cases?service=${SVC}`, { auth });
      assert.equal(l.status, 200);
    }
    const list = await accesses(c.reference, analyst);
    assert.deepEqual(list.map((a) => a.action), ['write']);
  });

  it('another organisation cannot read a case\'s accesses, nor add one', async () => {
    const c = await newCase();
    expectError(await s.req('GET', `/api/v1/cases/${c.reference}/accesses`, { auth: wessex }), 404, 'not_found');
    expectError(await getCase(c.reference, wessex), 404, 'not_found');
    assert.equal((await accesses(c.reference)).length, 1);
    expectError(await s.req('GET', `/api/v1/cases/${c.reference}/accesses`), 401, 'unauthorized');
    expectError(await s.req('GET', '/api/v1/cases/K7QM-2XPD-D/accesses', { auth: caseworker }), 400, 'invalid_reference');
  });

  it('a bad X-Access-Purpose is a 400 naming the header, and records nothing', async () => {
    const c = await newCase();
    const bad = ['', 'x'.repeat(201), 'tab\there'];
    for (const value of bad) {
      const headers = { [PURPOSE]: value };
      expectError(await getCase(c.reference, caseworker, headers), 400, 'invalid_field', PURPOSE);
      expectError(await s.req('GET', '/api/v1/cases', { auth: caseworker, headers }), 400, 'invalid_field', PURPOSE);
      expectError(await s.req('POST', '/api/v1/cases', { auth: caseworker, headers, json: { service: SVC, summary: 'x' } }),
        400, 'invalid_field', PURPOSE);
    }
    assert.equal((await accesses(c.reference)).length, 1);
    const longest = 'y'.repeat(200);
    assert.equal((await getCase(c.reference, caseworker, { [PURPOSE]: longest })).status, 200);
    assert.equal((await accesses(c.reference))[0].purpose, longest);
  });

  it('the citizen sees every access, without names, and their own look-ups are not recorded', async () => {
    const c = await newCase();
    await getCase(c.reference, admin, { [PURPOSE]: 'Checking <b>eligibility</b> & "rules"' });
    await getCase(c.reference, key);
    // On PostgreSQL the log's sequencer gives the records their indexes a
    // moment after they commit; compare once it has.
    let before;
    for (let i = 0; i < 200; i++) {
      before = await accesses(c.reference);
      if (before.every((a) => a.log_index !== null)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const t = await track(c.reference, c.secret);
    assert.equal(t.status, 200, t.text);
    await track(c.reference, c.secret);
    assert.equal((await accesses(c.reference)).length, before.length, 'tracking is not an access');
    assert.deepEqual(t.body.accesses, before.map((a) => ({
      at: a.at, organisation: a.organisation, role: a.role, purpose: a.purpose, officer: null, log_index: a.log_index,
    })));
    assert.ok(!t.text.includes(CASEWORKER_NAME) && !t.text.includes(ADMIN_NAME) && !t.text.includes(KEY_LABEL));

    const page = await fetch(s.url('/track'), {
      method: 'POST', body: new URLSearchParams({ reference: c.reference, secret: c.secret }),
    });
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 500));
    assert.match(html, /<h2[^>]*>Who has looked at your information<\/h2>/);
    const table = /<table class="govuk-table">[\s\S]*?<\/table>/.exec(html);
    assert.ok(table, 'a GOV.UK table');
    assert.equal((table[0].match(/<tr class="govuk-table__row">/g) || []).length, before.length + 1, 'a header row and a row each');
    assert.ok(table[0].includes('Checking &lt;b&gt;eligibility&lt;/b&gt; &amp; &quot;rules&quot;'), 'the purpose is escaped');
    assert.ok(!html.includes('<b>eligibility</b>'));
    const rows = table[0].match(/<tr class="govuk-table__row">[\s\S]*?<\/tr>/g).slice(1);
    before.forEach((a, i) => assert.ok(rows[i].includes(escapeHtml(a.purpose)), `row ${i} is ${a.purpose}: newest first`));
    assert.ok(table[0].includes(ORG) && table[0].includes('Administrator') && table[0].includes('Caseworker'));
    assert.ok(!/>Officer</.test(table[0]), 'no officer column');
    for (const name of [CASEWORKER_NAME, ADMIN_NAME, KEY_LABEL]) assert.ok(!html.includes(name), `${name} is hidden`);
    assert.equal((await accesses(c.reference)).length, before.length, 'the page is not an access either');
  });

  it('a case nobody has looked at says so', async () => {
    const [demo] = await s.credentials();
    const t = await track(demo.reference, demo.secret);
    assert.equal(t.status, 200);
    assert.deepEqual(t.body.accesses, []);
    const page = await fetch(s.url('/track'), {
      method: 'POST', body: new URLSearchParams({ reference: demo.reference, secret: demo.secret }),
    });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.ok(html.includes('No one has looked at your personal information yet.'));
    assert.ok(!html.includes('govuk-table'));
  });

  it('fails closed: when the access cannot be recorded, no personal data is shown', async () => {
    const person = markedPerson();
    const c = await newCase({ person });
    const before = (await accesses(c.reference)).length;
    await s.sql(REFUSE);
    try {
      const r = await getCase(c.reference, caseworker);
      expectError(r, 503, 'unavailable');
      assert.match(r.body.error.message, /access/);
      assert.deepEqual(leaks(r.text, person), []);

      const l = await s.req('GET', `/api/v1/cases?service=${SVC}`, { auth: key });
      expectError(l, 503, 'unavailable');
      assert.deepEqual(leaks(l.text, person), []);

      // An event shows no one, so it goes on, and leaks nothing.
      const e = await s.req('POST', `/api/v1/cases/${c.reference}/events`, {
        auth: caseworker, json: { type: 'internal_note', note: 'kept: it shows no one' },
      });
      assert.equal(e.status, 201, e.text);
      assert.deepEqual(leaks(e.text, person), []);

      const summary = marker('refused');
      const o = await s.req('POST', '/api/v1/cases', { auth: caseworker, json: { service: SVC, summary, person: markedPerson() } });
      expectError(o, 503, 'unavailable');

      // Analysts see no person, so they go on; so does the citizen.
      assert.equal((await getCase(c.reference, analyst)).status, 200);
      assert.equal((await track(c.reference, c.secret)).status, 200);
      // Nor does anything else stop: a case without a person is shown.
      const bare = await s.req('GET', `/api/v1/cases?service=${SVC}&q=nobody-here`, { auth: caseworker });
      assert.equal(bare.status, 200);

      await s.sql(ALLOW);
      const after = await getCase(c.reference, caseworker);
      assert.equal(after.status, 200);
      assert.equal(after.body.case.person.name, person.name);
      assert.ok(after.body.events.some((ev) => ev.note === 'kept: it shows no one'));
      const found = await s.req('GET', `/api/v1/cases?q=${summary}`, { auth: analyst });
      assert.deepEqual(found.body.cases, [], 'the refused case was not made');
    } finally {
      await s.sql(CLEAN);
    }
    const list = await accesses(c.reference);
    assert.equal(list.length, before + 1);
    assert.equal(list[0].action, 'read');
  });
});

describe('access transparency with officers\' names shown', () => {
  let s;
  let caseworker;
  before(async () => {
    s = await startServer({ cases: 2, env: { OPENCASE_SHOW_OFFICER_NAMES: '1' } });
    const admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'named');
  });
  after(async () => {
    await s?.close();
  });

  it('the citizen sees the officer\'s name on the API and the page', async () => {
    const c = await createCase(s, caseworker, { service: 'named', summary: 'named', person: { name: 'Pat Example' } });
    const r = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: caseworker, headers: { [PURPOSE]: 'Phone call' } });
    assert.equal(r.status, 200);
    const t = await s.req('GET', `/api/v1/track/${c.reference}`, { headers: { 'x-tracking-secret': c.secret } });
    assert.equal(t.status, 200);
    assert.deepEqual(t.body.accesses.map((a) => [a.officer, a.purpose, a.role, a.organisation]), [
      [CASEWORKER_NAME, 'Phone call', 'caseworker', ORG],
      [CASEWORKER_NAME, 'case work', 'caseworker', ORG],
    ]);
    const page = await fetch(s.url('/track'), {
      method: 'POST', body: new URLSearchParams({ reference: c.reference, secret: c.secret }),
    });
    const html = await page.text();
    assert.equal(page.status, 200);
    const table = /<table class="govuk-table">[\s\S]*?<\/table>/.exec(html);
    assert.ok(table);
    assert.match(table[0], />Officer</);
    assert.equal(table[0].split(CASEWORKER_NAME).length - 1, 2);
  });
});
