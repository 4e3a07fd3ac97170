// Cases: opening, validation, idempotency, roles, organisation isolation,
// events and workflow rules, closing, secret rotation, listing and paging.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, expectError, USERS, marker, createTestService, createCase, addEvent, testWorkflow,
} from './lib/server.mjs';
import { mistype, randomReference } from './lib/ref.mjs';

const REF_RE = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-Z*~$=]$/;
const SECRET_RE = /^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const SVC = 'wf-test';

describe('cases', () => {
  let s;
  let admin;
  let caseworker;
  let analyst;
  let wessex;
  let officer;
  before(async () => {
    s = await startServer();
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    analyst = await s.login(USERS.analyst);
    wessex = await s.login(USERS.wessexAdmin);
    officer = await s.login(USERS.officer);
    await createTestService(s, admin, SVC);
  });
  after(async () => {
    await s?.close();
  });

  const open = (auth, json, headers) => s.req('POST', '/api/v1/cases', { auth, json, headers });
  const track = (ref, secret) => s.req('GET', `/api/v1/track/${ref}`, { headers: { 'x-tracking-secret': secret } });

  it('opens a case with a reference, a secret and the person', async () => {
    const summary = marker('summary');
    const r = await open(caseworker, {
      service: SVC,
      summary,
      person: { name: 'Alice Example', email: 'alice@example.org', phone: '01632 960001', address: '1 High Street, Northtown', postcode: 'sw1a 1aa' },
    });
    assert.equal(r.status, 201, r.text);
    const c = r.body.case;
    assert.match(c.reference, REF_RE);
    assert.match(r.body.tracking_secret, SECRET_RE);
    assert.equal(c.service, SVC);
    assert.equal(c.stage, 'received');
    assert.equal(c.stage_name, 'Received');
    assert.equal(c.summary, summary);
    assert.match(c.opened_at, TIME_RE);
    assert.match(c.updated_at, TIME_RE);
    assert.equal(c.closed_at, null);
    assert.match(c.target_date, DATE_RE);
    assert.ok(c.target_date > c.opened_at.slice(0, 10), 'the target is after the opening day');
    assert.deepEqual(c.person, {
      name: 'Alice Example', email: 'alice@example.org', phone: '01632 960001', address: '1 High Street, Northtown', postcode: 'SW1A 1AA',
    });
    const got = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: admin });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.body.case, c);
    assert.equal(got.body.events.length, 1);
    const ev = got.body.events[0];
    assert.equal(ev.type, 'opened');
    assert.equal(ev.stage, 'received');
    assert.equal(ev.from_stage, null);
    assert.match(ev.created_at, TIME_RE);
    assert.ok(!got.text.includes(r.body.tracking_secret), 'the secret is shown once only');
  });

  it('a case without a person has null person fields', async () => {
    const { case: c } = await createCase(s, admin, { service: SVC, summary: 'no person' });
    assert.deepEqual(c.person, { name: null, email: null, phone: null, address: null, postcode: null });
    const partial = await createCase(s, admin, { service: SVC, summary: 'some person', person: { name: 'Bob' } });
    assert.deepEqual(partial.case.person, { name: 'Bob', email: null, phone: null, address: null, postcode: null });
  });

  it('reads a reference typed in lower case and without hyphens', async () => {
    const { reference } = await createCase(s, admin, { service: SVC, summary: 'forgiving reference' });
    for (const typed of [reference.toLowerCase(), reference.replaceAll('-', ''), ` ${reference.toLowerCase().replaceAll('-', ' ')} `.trim()]) {
      const r = await s.req('GET', `/api/v1/cases/${encodeURIComponent(typed)}`, { auth: admin });
      assert.equal(r.status, 200, `${typed}: ${r.text}`);
      assert.equal(r.body.case.reference, reference);
    }
  });

  it('validates the body of a new case', async () => {
    const base = { service: SVC, summary: 'valid summary' };
    const bad = [
      [{ summary: '' }, 'invalid_field', 'summary'],
      [{ summary: 'x'.repeat(2001) }, 'invalid_field', 'summary'],
      [{ summary: 17 }, 'invalid_field', 'summary'],
      [{ service: 'no-such-service' }, 'invalid_field', 'service'],
      [{ service: 'burglary' }, 'invalid_field', 'service'],
      [{ service: 5 }, 'invalid_field', 'service'],
      [{ person: 'Alice' }, 'invalid_field', 'person'],
      [{ person: { email: 'not-an-email' } }, 'invalid_field', 'person.email'],
      [{ person: { email: 'a b@example.org' } }, 'invalid_field', 'person.email'],
      [{ person: { postcode: 'NOT A POSTCODE' } }, 'invalid_field', 'person.postcode'],
      [{ person: { postcode: '12345' } }, 'invalid_field', 'person.postcode'],
      [{ person: { name: 42 } }, 'invalid_field', 'person.name'],
      [{ person: { name: 'n'.repeat(20000) } }, 'invalid_field', 'person.name'],
      [{ person: { address: 'a'.repeat(20000) } }, 'invalid_field', 'person.address'],
      [{ person: { phone: 'p'.repeat(1000) } }, 'invalid_field', 'person.phone'],
      [{ colour: 'red' }, 'unknown_field', 'colour'],
    ];
    for (const [patch, code, field] of bad) {
      expectError(await open(admin, { ...base, ...patch }), 400, code, field);
    }
    const nulled = await open(admin, { ...base, summary: null });
    assert.equal(nulled.status, 400, nulled.text);
    assert.ok(['invalid_field', 'missing_field'].includes(nulled.body.error.code), nulled.text);
    assert.equal(nulled.body.error.field, 'summary');
    const nul = await open(admin, { ...base, summary: 'bad\u0000byte' });
    assert.equal(nul.status, 400, nul.text);
    assert.ok(['invalid_json', 'invalid_field'].includes(nul.body.error.code), nul.text);
    const nested = await open(admin, { ...base, person: { nickname: 'Al' } });
    expectError(nested, 400, 'unknown_field');
    assert.match(nested.body.error.field, /^(person\.)?nickname$/);
    expectError(await open(admin, { summary: 'x' }), 400, 'missing_field', 'service');
    expectError(await open(admin, { service: SVC }), 400, 'missing_field', 'summary');
    const max = await open(admin, { ...base, summary: 'y'.repeat(2000) });
    assert.equal(max.status, 201, max.text);
  });

  it('rejects unknown query parameters', async () => {
    const { reference } = await createCase(s, admin, { service: SVC, summary: 'query params' });
    expectError(await s.req('GET', `/api/v1/cases/${reference}?include=secret`, { auth: admin }), 400, 'invalid_parameter');
    expectError(await s.req('POST', '/api/v1/cases?dry_run=1', { auth: admin, json: { service: SVC, summary: 'x' } }), 400, 'invalid_parameter');
  });

  it('the same Idempotency-Key makes one case', async () => {
    const summary = marker('idem');
    const key = `idem-${summary}`;
    const first = await open(caseworker, { service: SVC, summary }, { 'idempotency-key': key });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const second = await open(caseworker, { service: SVC, summary }, { 'idempotency-key': key });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.case.reference, first.body.case.reference);
    assert.equal(second.body.tracking_secret, undefined, 'the secret is not shown again');
    assert.ok(!second.text.includes(first.body.tracking_secret));
    const byAdmin = await open(admin, { service: SVC, summary }, { 'idempotency-key': key });
    assert.equal(byAdmin.status, 200, 'the key belongs to the organisation');
    assert.equal(byAdmin.body.case.reference, first.body.case.reference);
    const list = await s.req('GET', `/api/v1/cases?q=${summary}`, { auth: admin });
    assert.equal(list.body.cases.length, 1);
    const wessexCase = await open(wessex, { service: 'burglary', summary }, { 'idempotency-key': key });
    assert.equal(wessexCase.status, 201, 'another organisation may use the same key');
    assert.notEqual(wessexCase.body.case.reference, first.body.case.reference);
    const other = await open(caseworker, { service: SVC, summary }, { 'idempotency-key': `${key}-2` });
    assert.equal(other.status, 201);
    const list2 = await s.req('GET', `/api/v1/cases?q=${summary}`, { auth: admin });
    assert.equal(list2.body.cases.length, 2);
  });

  it('rejects a malformed Idempotency-Key', async () => {
    const body = { service: SVC, summary: 'bad key' };
    const r1 = await open(admin, body, { 'idempotency-key': 'k'.repeat(101) });
    assert.equal(r1.status, 400, r1.text);
    const r2 = await open(admin, body, { 'idempotency-key': 'tab\there' });
    assert.equal(r2.status, 400, r2.text);
    const r3 = await open(admin, body, { 'idempotency-key': 'k'.repeat(100) });
    assert.equal(r3.status, 201, r3.text);
  });

  it('analysts read cases without the person and may not write', async () => {
    const { reference } = await createCase(s, admin, { service: SVC, summary: 'analyst view', person: { name: 'Carol Private' } });
    const r = await s.req('GET', `/api/v1/cases/${reference}`, { auth: analyst });
    assert.equal(r.status, 200, r.text);
    assert.ok(!('person' in r.body.case), 'person omitted for analysts');
    assert.ok(!r.text.includes('Carol Private'));
    const list = await s.req('GET', '/api/v1/cases?q=analyst%20view', { auth: analyst });
    assert.equal(list.body.cases.length, 1);
    assert.ok(!('person' in list.body.cases[0]));
    expectError(await open(analyst, { service: SVC, summary: 'x' }), 403, 'forbidden');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/events`, { auth: analyst, json: { type: 'public_note', note: 'x' } }), 403, 'forbidden');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: analyst, json: {} }), 403, 'forbidden');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/secret`, { auth: analyst, json: {} }), 403, 'forbidden');
    const after = await s.req('GET', `/api/v1/cases/${reference}`, { auth: admin });
    assert.equal(after.body.events.length, 1, 'nothing was written');
  });

  it('another organisation cannot see or touch a case', async () => {
    const summary = marker('isolated');
    const name = marker('Person');
    const { reference, secret } = await createCase(s, admin, { service: SVC, summary, person: { name } });
    for (const who of [wessex, officer]) {
      const r = await s.req('GET', `/api/v1/cases/${reference}`, { auth: who });
      expectError(r, 404, 'not_found');
      assert.ok(!r.text.includes(summary) && !r.text.includes(name));
      for (const [p, json] of [['events', { type: 'internal_note', note: 'intrusion' }], ['close', {}], ['secret', {}]]) {
        const w = await s.req('POST', `/api/v1/cases/${reference}/${p}`, { auth: who, json });
        expectError(w, 404, 'not_found');
        assert.ok(!w.text.includes(summary) && !w.text.includes(name));
      }
      const list = await s.req('GET', `/api/v1/cases?q=${summary}`, { auth: who });
      assert.deepEqual(list.body.cases, []);
      const byRef = await s.req('GET', `/api/v1/cases?q=${reference}`, { auth: who });
      assert.deepEqual(byRef.body.cases, []);
    }
    const mine = await s.req('GET', `/api/v1/cases/${reference}`, { auth: admin });
    assert.equal(mine.body.events.length, 1, 'nothing was written');
    assert.equal(mine.body.case.closed_at, null);
    assert.equal((await track(reference, secret)).status, 200, 'the secret was not rotated');
  });

  it('records notes and stage changes, all visible to staff', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'event log' });
    const pub = await addEvent(s, caseworker, reference, { type: 'public_note', note: 'We have your application.' });
    assert.equal(pub.body.event.type, 'public_note');
    assert.equal(pub.body.event.note, 'We have your application.');
    assert.equal(pub.body.event.public, true);
    assert.equal(pub.body.event.stage, 'received');
    assert.equal(pub.body.case.reference, reference);
    const internal = await addEvent(s, caseworker, reference, { type: 'internal_note', note: 'Checked the register.' });
    assert.equal(internal.body.event.type, 'internal_note');
    assert.equal(internal.body.event.public, false);
    const hidden = await addEvent(s, caseworker, reference, { type: 'stage_change', stage: 'triage_hidden' });
    assert.equal(hidden.body.event.from_stage, 'received');
    assert.equal(hidden.body.event.stage, 'triage_hidden');
    assert.equal(hidden.body.event.public, false, 'a move to a non-milestone stage is internal');
    assert.equal(hidden.body.case.stage, 'triage_hidden');
    assert.equal(hidden.body.case.stage_name, 'Hidden Triage Stage');
    const moved = await addEvent(s, admin, reference, { type: 'stage_change', stage: 'assessing', note: 'An officer is assessing it.' });
    assert.equal(moved.body.event.public, true);
    assert.equal(moved.body.event.note, 'An officer is assessing it.');
    assert.equal(moved.body.case.stage, 'assessing');
    assert.equal(moved.body.case.closed_at, null);
    const got = await s.req('GET', `/api/v1/cases/${reference}`, { auth: analyst });
    assert.deepEqual(got.body.events.map((e) => e.type), ['opened', 'public_note', 'internal_note', 'stage_change', 'stage_change']);
    assert.equal(got.body.events[2].note, 'Checked the register.');
    assert.equal(got.body.case.stage, 'assessing');
    const ids = got.body.events.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(got.body.events.every((e, i) => i === 0 || e.created_at >= got.body.events[i - 1].created_at));
  });

  it('refuses a move the workflow does not allow, naming the allowed stages', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'bad move' });
    const r = await s.req('POST', `/api/v1/cases/${reference}/events`, { auth: caseworker, json: { type: 'stage_change', stage: 'approved' } });
    expectError(r, 409, 'invalid_transition');
    for (const code of ['received', 'approved', 'triage_hidden', 'assessing', 'withdrawing']) {
      assert.ok(r.body.error.message.includes(code), `message names ${code}: ${r.body.error.message}`);
    }
    const same = await s.req('POST', `/api/v1/cases/${reference}/events`, { auth: caseworker, json: { type: 'stage_change', stage: 'received' } });
    expectError(same, 409, 'invalid_transition');
    const got = await s.req('GET', `/api/v1/cases/${reference}`, { auth: caseworker });
    assert.equal(got.body.case.stage, 'received');
    assert.equal(got.body.events.length, 1);
  });

  // A move that writes nothing but itself is made without reading the case
  // first; it must answer exactly as a move after a read does.
  it('a plain move answers as any move, and obeys a changed workflow at once', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'plain move' });
    const r = await addEvent(s, caseworker, reference, { type: 'stage_change', stage: 'triage_hidden' });
    assert.equal(r.body.event.type, 'stage_change');
    assert.equal(r.body.event.from_stage, 'received');
    assert.equal(r.body.event.stage, 'triage_hidden');
    assert.equal(r.body.event.public, false);
    assert.equal(r.body.event.note, null);
    const got = await s.req('GET', `/api/v1/cases/${reference}`, { auth: caseworker });
    const { person, ...seen } = got.body.case;
    assert.ok(person);
    assert.deepEqual(r.body.case, seen);
    assert.equal(r.body.case.stage_name, 'Hidden Triage Stage');
    assert.deepEqual(got.body.events.at(-1), { ...r.body.event, log_index: got.body.events.at(-1).log_index });

    const move = (auth, stage) => s.req('POST', `/api/v1/cases/${reference}/events`, { auth, json: { type: 'stage_change', stage } });
    expectError(await move(caseworker, 'triage_hidden'), 409, 'invalid_transition');
    expectError(await move(caseworker, 'withdrawing'), 409, 'invalid_transition');
    expectError(await move(wessex, 'assessing'), 404, 'not_found');
    expectError(await move(analyst, 'assessing'), 403, 'forbidden');

    const code = 'wf-plain';
    await createTestService(s, admin, code);
    const other = await createCase(s, caseworker, { service: code, summary: 'workflow changes' });
    const again = await createCase(s, caseworker, { service: code, summary: 'workflow changes again' });
    await addEvent(s, caseworker, other.reference, { type: 'stage_change', stage: 'withdrawing' });
    const workflow = testWorkflow();
    workflow.transitions.received = ['assessing'];
    const put = await s.req('PUT', `/api/v1/services/${code}`, {
      auth: admin, json: { name: 'No withdrawing', target_days: 10, workflow },
    });
    assert.equal(put.status, 200, put.text);
    const refused = await s.req('POST', `/api/v1/cases/${again.reference}/events`, {
      auth: caseworker, json: { type: 'stage_change', stage: 'withdrawing' },
    });
    expectError(refused, 409, 'invalid_transition');
    const closed = await s.req('POST', `/api/v1/cases/${other.reference}/close`, { auth: caseworker, json: {} });
    assert.equal(closed.status, 200, closed.text);
    expectError(await s.req('POST', `/api/v1/cases/${other.reference}/events`, {
      auth: caseworker, json: { type: 'stage_change', stage: 'withdrawing' },
    }), 409, 'conflict');
  });

  // Plain moves arriving together may share one commit: each must still
  // land once, be answered as written, and a second move of the same case
  // must lose as it would alone.
  it('concurrent plain moves each land once, and a case moved twice at once moves once', async () => {
    const cases = [];
    for (let i = 0; i < 12; i++) cases.push(await createCase(s, caseworker, { service: SVC, summary: `together ${i}` }));
    const move = (reference) => s.req('POST', `/api/v1/cases/${reference}/events`, {
      auth: caseworker, json: { type: 'stage_change', stage: 'triage_hidden' },
    });
    const twice = cases[0].reference;
    const answers = await Promise.all([...cases.map((c) => move(c.reference)), move(twice), move(twice)]);
    const won = answers.filter((r) => r.status === 201);
    assert.equal(won.length, cases.length, answers.map((r) => r.status).join(','));
    for (const r of answers.filter((a) => a.status !== 201)) expectError(r, 409, 'invalid_transition');
    assert.equal(new Set(won.map((r) => r.body.event.id)).size, cases.length, 'every event is its own');
    for (const c of cases) {
      const mine = won.filter((r) => r.body.case.reference === c.reference);
      assert.equal(mine.length, 1, c.reference);
      assert.equal(mine[0].body.event.from_stage, 'received');
      const got = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: caseworker });
      assert.equal(got.body.case.stage, 'triage_hidden');
      const moves = got.body.events.filter((e) => e.type === 'stage_change');
      assert.deepEqual(moves.map((e) => [e.id, e.from_stage, e.stage]), [[mine[0].body.event.id, 'received', 'triage_hidden']]);
    }
  });

  it('validates event bodies', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'event validation' });
    const ev = (json) => s.req('POST', `/api/v1/cases/${reference}/events`, { auth: caseworker, json });
    expectError(await ev({ type: 'stage_change', stage: 'nonexistent' }), 400, 'invalid_field', 'stage');
    expectError(await ev({ type: 'stage_change', stage: 7 }), 400, 'invalid_field', 'stage');
    expectError(await ev({ type: 'stage_change' }), 400, 'missing_field', 'stage');
    expectError(await ev({ type: 'public_note' }), 400, 'missing_field', 'note');
    expectError(await ev({ type: 'internal_note' }), 400, 'missing_field', 'note');
    expectError(await ev({ type: 'public_note', note: '' }), 400, 'invalid_field', 'note');
    expectError(await ev({ type: 'public_note', note: 'n'.repeat(5001) }), 400, 'invalid_field', 'note');
    expectError(await ev({ type: 'internal_note', note: ['x'] }), 400, 'invalid_field', 'note');
    expectError(await ev({ type: 'message', note: 'staff cannot post citizen messages' }), 400, 'invalid_field', 'type');
    expectError(await ev({ type: 'opened' }), 400, 'invalid_field', 'type');
    expectError(await ev({ type: 42 }), 400, 'invalid_field', 'type');
    expectError(await ev({ note: 'no type' }), 400, 'missing_field', 'type');
    expectError(await ev({ type: 'public_note', note: 'x', rating: 5 }), 400, 'unknown_field', 'rating');
    const stray = await ev({ type: 'public_note', note: 'x', stage: 'assessing' });
    assert.equal(stray.status, 400, stray.text);
    assert.ok(['unknown_field', 'invalid_field'].includes(stray.body.error.code), stray.text);
    assert.equal(stray.body.error.field, 'stage');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/events`, { auth: caseworker, body: '{"type":', contentType: 'application/json' }), 400, 'invalid_json');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/events`, { auth: caseworker, body: '{}', contentType: 'text/plain' }), 415, 'unsupported_media_type');
    const ok = await addEvent(s, caseworker, reference, { type: 'public_note', note: 'n'.repeat(5000) });
    assert.equal(ok.body.event.note.length, 5000);
    const got = await s.req('GET', `/api/v1/cases/${reference}`, { auth: caseworker });
    assert.equal(got.body.events.length, 2, 'only the valid note was written');
  });

  it('moving to a terminal stage closes the case; nothing may follow', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'terminal move' });
    await addEvent(s, caseworker, reference, { type: 'stage_change', stage: 'assessing' });
    const done = await addEvent(s, caseworker, reference, { type: 'stage_change', stage: 'approved', note: 'Your permit is approved.' });
    assert.equal(done.body.case.stage, 'approved');
    assert.match(done.body.case.closed_at, TIME_RE);
    for (const json of [{ type: 'public_note', note: 'late' }, { type: 'internal_note', note: 'late' }, { type: 'stage_change', stage: 'refused' }]) {
      expectError(await s.req('POST', `/api/v1/cases/${reference}/events`, { auth: caseworker, json }), 409, 'conflict');
    }
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: {} }), 409, 'conflict');
    const got = await s.req('GET', `/api/v1/cases/${reference}`, { auth: caseworker });
    assert.equal(got.body.events.length, 3);
    assert.equal(got.body.case.closed_at, done.body.case.closed_at);
  });

  it('closes with the only reachable terminal stage', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'close implicit' });
    await addEvent(s, caseworker, reference, { type: 'stage_change', stage: 'withdrawing' });
    const r = await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.case.stage, 'withdrawn');
    assert.match(r.body.case.closed_at, TIME_RE);
    assert.equal(r.body.event.type, 'stage_change');
    assert.equal(r.body.event.from_stage, 'withdrawing');
    assert.equal(r.body.event.stage, 'withdrawn');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: {} }), 409, 'conflict');
    const noBody = await createCase(s, caseworker, { service: SVC, summary: 'close without a body' });
    await addEvent(s, caseworker, noBody.reference, { type: 'stage_change', stage: 'withdrawing' });
    const r2 = await s.req('POST', `/api/v1/cases/${noBody.reference}/close`, { auth: caseworker });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.body.case.stage, 'withdrawn');
  });

  it('asks which terminal stage when several are reachable', async () => {
    const { reference } = await createCase(s, caseworker, { service: SVC, summary: 'close ambiguous' });
    await addEvent(s, caseworker, reference, { type: 'stage_change', stage: 'assessing' });
    const r = await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: {} });
    expectError(r, 400, 'missing_field', 'stage');
    assert.ok(r.body.error.message.includes('approved') && r.body.error.message.includes('refused'), r.body.error.message);
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: { stage: 'assessing' } }), 400, 'invalid_field', 'stage');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: { stage: 'ghost' } }), 400, 'invalid_field', 'stage');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: { stage: 'refused', reason: 'x' } }), 400, 'unknown_field', 'reason');
    expectError(await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: { stage: 'refused', note: 'n'.repeat(5001) } }), 400, 'invalid_field', 'note');
    const ok = await s.req('POST', `/api/v1/cases/${reference}/close`, { auth: caseworker, json: { stage: 'refused', note: 'We cannot issue a permit.' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.case.stage, 'refused');
    assert.equal(ok.body.case.stage_name, 'Refused');
    assert.match(ok.body.case.closed_at, TIME_RE);
    assert.equal(ok.body.event.note, 'We cannot issue a permit.');
  });

  it('rotating the secret stops the old one working', async () => {
    const { reference, secret } = await createCase(s, caseworker, { service: SVC, summary: 'rotate' });
    assert.equal((await track(reference, secret)).status, 200);
    const r = await s.req('POST', `/api/v1/cases/${reference}/secret`, { auth: caseworker });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.tracking_secret, SECRET_RE);
    assert.notEqual(r.body.tracking_secret, secret);
    expectError(await track(reference, secret), 404, 'not_found');
    assert.equal((await track(reference, r.body.tracking_secret)).status, 200);
    const again = await s.req('POST', `/api/v1/cases/${reference}/secret`, { auth: admin, json: {} });
    assert.equal(again.status, 200, again.text);
    assert.notEqual(again.body.tracking_secret, r.body.tracking_secret);
    assert.equal((await track(reference, again.body.tracking_secret)).status, 200);
    expectError(await s.req('POST', `/api/v1/cases/${reference}/secret`, { auth: admin, json: { secret: 'mine' } }), 400, 'unknown_field', 'secret');
  });

  it('a malformed reference answers 400 invalid_reference to staff, 401 to anyone else', async () => {
    const { reference } = await createCase(s, admin, { service: SVC, summary: 'malformed' });
    const typo = mistype(reference);
    for (const bad of [typo, 'ABC', `${reference}X7`, 'K7QM!2XPD-C', '%00']) {
      expectError(await s.req('GET', `/api/v1/cases/${encodeURIComponent(bad)}`, { auth: admin }), 400, 'invalid_reference');
      // Staff routes say nothing, not even "malformed", to a caller who has not logged in.
      expectError(await s.req('GET', `/api/v1/cases/${encodeURIComponent(bad)}`), 401, 'unauthorized');
    }
    for (const p of ['events', 'close', 'secret']) {
      expectError(await s.req('POST', `/api/v1/cases/${typo}/${p}`, { json: {} }), 401, 'unauthorized');
      expectError(await s.req('POST', `/api/v1/cases/${typo}/${p}`, { auth: caseworker, json: { type: 'public_note', note: 'x' } }), 400, 'invalid_reference');
    }
    const unknown = randomReference();
    expectError(await s.req('GET', `/api/v1/cases/${unknown}`, { auth: admin }), 404, 'not_found');
    expectError(await s.req('GET', `/api/v1/cases/${unknown}`), 401, 'unauthorized');
    expectError(await s.req('POST', `/api/v1/cases/${unknown}/events`, { auth: admin, json: { type: 'public_note', note: 'x' } }), 404, 'not_found');
  });

  it('lists cases newest first and walks every page without duplicates', async () => {
    const all = await s.req('GET', '/api/v1/cases?limit=200', { auth: admin });
    assert.equal(all.status, 200);
    const total = all.body.cases.length;
    assert.ok(total >= 20, `northshire has demo cases (${total})`);
    assert.equal(all.body.next_cursor, null);
    const def = await s.req('GET', '/api/v1/cases', { auth: admin });
    assert.equal(def.body.cases.length, Math.min(50, total));
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = cursor ? `limit=7&cursor=${encodeURIComponent(cursor)}` : 'limit=7';
      const r = await s.req('GET', `/api/v1/cases?${q}`, { auth: admin });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.cases.length <= 7);
      if (r.body.next_cursor !== null) assert.equal(r.body.cases.length, 7);
      seen.push(...r.body.cases);
      cursor = r.body.next_cursor;
      pages++;
      assert.ok(pages < 100, 'paging ends');
    } while (cursor);
    const refs = seen.map((c) => c.reference);
    assert.equal(new Set(refs).size, refs.length, 'no duplicates across pages');
    assert.deepEqual(refs, all.body.cases.map((c) => c.reference), 'pages concatenate to the full list');
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i - 1].opened_at >= seen[i].opened_at, `newest first at ${i}: ${seen[i - 1].opened_at} < ${seen[i].opened_at}`);
    }
    const wessexAll = await s.req('GET', '/api/v1/cases?limit=200', { auth: wessex });
    const wessexRefs = new Set(wessexAll.body.cases.map((c) => c.reference));
    assert.ok(refs.every((r) => !wessexRefs.has(r)), 'organisations do not share cases');
  });

  it('filters by service, stage, dates and text', async () => {
    const mine = await createCase(s, admin, { service: SVC, summary: `filter ${marker('f')}` });
    const bySvc = await s.req('GET', `/api/v1/cases?service=${SVC}&limit=200`, { auth: admin });
    assert.ok(bySvc.body.cases.length > 0);
    assert.ok(bySvc.body.cases.every((c) => c.service === SVC));
    const permits = await s.req('GET', '/api/v1/cases?service=parking-permit&limit=200', { auth: admin });
    assert.ok(permits.body.cases.length > 0);
    assert.ok(permits.body.cases.every((c) => c.service === 'parking-permit'));
    const byStage = await s.req('GET', `/api/v1/cases?stage=received&service=${SVC}&limit=200`, { auth: admin });
    assert.ok(byStage.body.cases.some((c) => c.reference === mine.reference));
    assert.ok(byStage.body.cases.every((c) => c.stage === 'received' && c.service === SVC));
    const today = mine.case.opened_at.slice(0, 10);
    const from = await s.req('GET', `/api/v1/cases?opened_from=${today}&limit=200`, { auth: admin });
    assert.ok(from.body.cases.some((c) => c.reference === mine.reference));
    assert.ok(from.body.cases.every((c) => c.opened_at >= `${today}T00:00:00Z`));
    const to = await s.req('GET', `/api/v1/cases?opened_to=${today}&limit=200`, { auth: admin });
    assert.ok(to.body.cases.every((c) => c.opened_at < `${today}T00:00:00Z`));
    assert.ok(!to.body.cases.some((c) => c.reference === mine.reference));
    const window = await s.req('GET', `/api/v1/cases?opened_from=${encodeURIComponent(mine.case.opened_at)}&opened_to=2999-01-01T00:00:00Z&limit=200`, { auth: admin });
    assert.ok(window.body.cases.some((c) => c.reference === mine.reference));
    const byText = await s.req('GET', `/api/v1/cases?q=${encodeURIComponent(mine.case.summary.split(' ')[1])}`, { auth: admin });
    assert.deepEqual(byText.body.cases.map((c) => c.reference), [mine.reference]);
    const byRef = await s.req('GET', `/api/v1/cases?q=${mine.reference}`, { auth: admin });
    assert.deepEqual(byRef.body.cases.map((c) => c.reference), [mine.reference]);
    const none = await s.req('GET', `/api/v1/cases?q=${marker('nothing')}`, { auth: admin });
    assert.deepEqual(none.body, { cases: [], next_cursor: null });
    const future = await s.req('GET', '/api/v1/cases?opened_from=2999-01-01', { auth: admin });
    assert.deepEqual(future.body.cases, []);
  });

  it('rejects bad list parameters', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'limit=10x', 'limit=-1', 'opened_from=2026-13-01', 'opened_from=yesterday',
      'opened_to=2026-02-30', 'cursor=%25%25garbage%25%25', 'sort=asc', 'Limit=5']) {
      const r = await s.req('GET', `/api/v1/cases?${q}`, { auth: admin });
      expectError(r, 400, 'invalid_parameter');
    }
  });
});
