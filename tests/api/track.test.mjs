// Public tracking: look-ups by secret, postcode and email, the order of the
// checks, what the citizen may see (and never see), the expected completion
// date, messages and feedback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, expectError, USERS, marker, createTestService, createCase, addEvent,
} from './lib/server.mjs';
import { mistype, randomReference } from './lib/ref.mjs';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('public tracking', () => {
  let s;
  let admin;
  let caseworker;
  let main; // the planted case: { reference, secret }
  const publicTexts = [];
  const secrets = {};

  // Everything the public side answers is kept, to search for leaks at the end.
  const pub = async (method, p, opts = {}) => {
    const r = await s.req(method, p, opts);
    publicTexts.push(`${method} ${p} -> ${r.status}\n${r.text}`);
    return r;
  };
  const track = (ref, headers) => pub('GET', `/api/v1/track/${ref}`, { headers });
  const bySecret = (ref, secret) => track(ref, { 'x-tracking-secret': secret });

  before(async () => {
    s = await startServer();
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'trk');
    secrets.summary = marker('SummaryMarker');
    secrets.name = marker('NameMarker');
    secrets.email = `${marker('mail')}@example.org`.toLowerCase();
    secrets.phone = `01632 ${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    secrets.address = marker('AddressMarker');
    secrets.postcode = 'ZE1 0AA';
    secrets.internal = marker('InternalMarker');
    main = await createCase(s, caseworker, {
      service: 'trk',
      summary: secrets.summary,
      person: { name: secrets.name, email: secrets.email, phone: secrets.phone, address: secrets.address, postcode: secrets.postcode },
    });
    await addEvent(s, caseworker, main.reference, { type: 'public_note', note: 'Thank you, we have your application.' });
    await addEvent(s, caseworker, main.reference, { type: 'internal_note', note: `Applicant ${secrets.internal} known to us` });
    await addEvent(s, caseworker, main.reference, { type: 'stage_change', stage: 'triage_hidden' });
  });
  after(async () => {
    await s?.close();
  });

  it('shows the last milestone while the case is at an internal stage', async () => {
    const r = await bySecret(main.reference, main.secret);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.reference, main.reference);
    assert.deepEqual(r.body.organisation, { name: 'Northshire Council' });
    assert.deepEqual(r.body.service, { code: 'trk', name: 'Test service trk' });
    assert.deepEqual(r.body.stage, { code: 'received', name: 'Received' });
    assert.equal(r.body.closed, false);
    assert.match(r.body.opened_at, TIME_RE);
    assert.equal(r.body.closed_at, null);
    assert.match(r.body.target_date, DATE_RE);
    assert.deepEqual(r.body.feedback, { allowed: false, given: false });
    const update = r.body.timeline.find((t) => t.type === 'update');
    assert.ok(update, JSON.stringify(r.body.timeline));
    assert.equal(update.note, 'Thank you, we have your application.');
    assert.match(update.at, TIME_RE);
    assert.ok(r.body.timeline.every((t) => ['milestone', 'update', 'message', 'feedback'].includes(t.type)));
    assert.ok(!r.text.includes('triage_hidden') && !r.text.includes('Hidden Triage Stage'));
  });

  it('a milestone move appears on the timeline with its note', async () => {
    await addEvent(s, caseworker, main.reference, { type: 'stage_change', stage: 'assessing', note: 'An officer is assessing your application.' });
    const r = await bySecret(main.reference, main.secret);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.stage, { code: 'assessing', name: 'Assessing' });
    const m = r.body.timeline.find((t) => t.type === 'milestone' && t.stage === 'assessing');
    assert.ok(m, JSON.stringify(r.body.timeline));
    assert.equal(m.stage_name, 'Assessing');
    assert.equal(m.note, 'An officer is assessing your application.');
    assert.ok(!r.body.timeline.some((t) => t.stage === 'triage_hidden'));
    assert.ok(!r.text.includes('triage_hidden') && !r.text.includes('Hidden Triage Stage'));
  });

  it('accepts the reference in lower case and without hyphens', async () => {
    for (const typed of [main.reference.toLowerCase(), main.reference.replaceAll('-', '')]) {
      const r = await bySecret(typed, main.secret);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.reference, main.reference);
    }
  });

  it('tracks by the postcode or the email recorded on the case', async () => {
    // Log indexes come with the answers; on PostgreSQL they are given just
    // after commit, so the three answers are compared once they all have them.
    await s.logSequenced();
    const a = await track(main.reference, { 'x-tracking-postcode': secrets.postcode });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.reference, main.reference);
    const b = await track(main.reference, { 'x-tracking-email': secrets.email });
    assert.equal(b.status, 200, b.text);
    const c = await bySecret(main.reference, main.secret);
    assert.deepEqual(a.body, c.body);
    assert.deepEqual(b.body, c.body);
  });

  it('checks the reference, then the credential, and answers unknown and wrong alike', async () => {
    const typo = mistype(main.reference);
    expectError(await track(typo, {}), 400, 'invalid_reference');
    expectError(await bySecret(typo, main.secret), 400, 'invalid_reference');
    expectError(await track('NOT-A-REF', { 'x-tracking-secret': main.secret }), 400, 'invalid_reference');
    expectError(await track(main.reference, {}), 401, 'unauthorized');
    const unknownRef = randomReference();
    const unknown = await bySecret(unknownRef, main.secret);
    const wrong = await bySecret(main.reference, 'AAAAA-BBBBB-CCCCC-DDDDD');
    expectError(unknown, 404, 'not_found');
    expectError(wrong, 404, 'not_found');
    const strip = (e, ref) => ({ ...e, message: e.message.replaceAll(ref, 'REF') });
    assert.deepEqual(strip(unknown.body.error, unknownRef), strip(wrong.body.error, main.reference), 'the same answer for both');
    expectError(await track(main.reference, { 'x-tracking-postcode': 'ZE2 9ZZ' }), 404, 'not_found');
    expectError(await track(main.reference, { 'x-tracking-email': 'someone-else@example.org' }), 404, 'not_found');
  });

  it('never takes credentials from the URL', async () => {
    const r = await pub('GET', `/api/v1/track/${main.reference}?secret=${encodeURIComponent(main.secret)}`);
    assert.ok([400, 401].includes(r.status), r.text);
  });

  it('rejects unknown query parameters', async () => {
    const r = await pub('GET', `/api/v1/track/${main.reference}?lang=en`, { headers: { 'x-tracking-secret': main.secret } });
    expectError(r, 400, 'invalid_parameter');
  });

  it('the citizen can message the officer', async () => {
    const text = 'When will I hear back?';
    const r = await pub('POST', `/api/v1/track/${main.reference}/messages`, { headers: { 'x-tracking-secret': main.secret }, json: { message: text } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.event.type, 'message');
    assert.match(r.body.event.at, TIME_RE);
    const byPostcode = await pub('POST', `/api/v1/track/${main.reference}/messages`, { headers: { 'x-tracking-postcode': secrets.postcode }, json: { message: 'Second message' } });
    assert.equal(byPostcode.status, 201, byPostcode.text);
    const staff = await s.req('GET', `/api/v1/cases/${main.reference}`, { auth: caseworker });
    const msgs = staff.body.events.filter((e) => e.type === 'message');
    assert.deepEqual(msgs.map((e) => e.note), [text, 'Second message']);
    const t = await bySecret(main.reference, main.secret);
    assert.deepEqual(t.body.timeline.filter((e) => e.type === 'message').map((e) => e.note), [text, 'Second message']);
  });

  it('validates messages', async () => {
    const post = (json, headers = { 'x-tracking-secret': main.secret }) => pub('POST', `/api/v1/track/${main.reference}/messages`, { headers, json });
    expectError(await post({}), 400, 'missing_field', 'message');
    expectError(await post({ message: '' }), 400, 'invalid_field', 'message');
    expectError(await post({ message: 'm'.repeat(2001) }), 400, 'invalid_field', 'message');
    expectError(await post({ message: 12 }), 400, 'invalid_field', 'message');
    expectError(await post({ message: 'hi', urgent: true }), 400, 'unknown_field', 'urgent');
    expectError(await pub('POST', `/api/v1/track/${main.reference}/messages`, { headers: { 'x-tracking-secret': main.secret }, body: '{"message":', contentType: 'application/json' }), 400, 'invalid_json');
    expectError(await pub('POST', `/api/v1/track/${main.reference}/messages`, { headers: { 'x-tracking-secret': main.secret }, body: 'message=hi', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await post({ message: 'hi' }, {}), 401, 'unauthorized');
    expectError(await post({ message: 'hi' }, { 'x-tracking-secret': 'AAAAA-BBBBB-CCCCC-DDDDD' }), 404, 'not_found');
    expectError(await pub('POST', `/api/v1/track/${mistype(main.reference)}/messages`, { json: { message: 'hi' } }), 400, 'invalid_reference');
    const ok = await post({ message: 'm'.repeat(2000) });
    assert.equal(ok.status, 201, ok.text);
    const staff = await s.req('GET', `/api/v1/cases/${main.reference}`, { auth: caseworker });
    assert.equal(staff.body.events.filter((e) => e.type === 'message').length, 3);
  });

  it('feedback is refused while the case is open', async () => {
    const r = await pub('POST', `/api/v1/track/${main.reference}/feedback`, { headers: { 'x-tracking-secret': main.secret }, json: { rating: 5 } });
    expectError(r, 409, 'conflict');
  });

  it('once closed, the citizen may give feedback exactly once', async () => {
    await addEvent(s, caseworker, main.reference, { type: 'stage_change', stage: 'approved', note: 'Your permit is approved.' });
    const closed = await bySecret(main.reference, main.secret);
    assert.equal(closed.body.closed, true);
    assert.match(closed.body.closed_at, TIME_RE);
    assert.deepEqual(closed.body.stage, { code: 'approved', name: 'Approved' });
    assert.deepEqual(closed.body.feedback, { allowed: true, given: false });
    const post = (json) => pub('POST', `/api/v1/track/${main.reference}/feedback`, { headers: { 'x-tracking-secret': main.secret }, json });
    for (const rating of [0, 6, '5', 2.5, -1, true]) {
      expectError(await post({ rating }), 400, 'invalid_field', 'rating');
    }
    const nulled = await post({ rating: null });
    assert.equal(nulled.status, 400, nulled.text);
    assert.ok(['invalid_field', 'missing_field'].includes(nulled.body.error.code), nulled.text);
    expectError(await post({}), 400, 'missing_field', 'rating');
    expectError(await post({ rating: 4, comment: 'c'.repeat(2001) }), 400, 'invalid_field', 'comment');
    expectError(await post({ rating: 4, comment: 7 }), 400, 'invalid_field', 'comment');
    expectError(await post({ rating: 4, stars: 4 }), 400, 'unknown_field', 'stars');
    const ok = await post({ rating: 4, comment: 'Quick and clear.' });
    assert.equal(ok.status, 201, ok.text);
    expectError(await post({ rating: 5 }), 409, 'conflict');
    const after = await bySecret(main.reference, main.secret);
    assert.equal(after.body.feedback.given, true);
    const fb = after.body.timeline.filter((t) => t.type === 'feedback');
    assert.equal(fb.length, 1);
    const staff = await s.req('GET', `/api/v1/cases/${main.reference}`, { auth: caseworker });
    const ev = staff.body.events.filter((e) => e.type === 'feedback');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].rating, 4);
    assert.equal(ev[0].note, 'Quick and clear.');
  });

  it('gives an expected completion date once the service has a history', async () => {
    await createTestService(s, admin, 'est');
    const probe = await createCase(s, caseworker, { service: 'est', summary: 'estimate probe' });
    const before = await bySecret(probe.reference, probe.secret);
    assert.equal(before.body.expected_completion.available, false);
    assert.equal(typeof before.body.expected_completion.reason, 'string');
    assert.ok(before.body.expected_completion.reason.length > 0);
    const n = 15;
    for (let i = 0; i < n; i++) {
      const c = await createCase(s, caseworker, { service: 'est', summary: `history ${i}` });
      await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'withdrawing' });
      const r = await s.req('POST', `/api/v1/cases/${c.reference}/close`, { auth: caseworker, json: {} });
      assert.equal(r.status, 200, r.text);
    }
    // A case opened now: the history's cases all lasted at least as long as
    // it has, however slow this machine (the first probe may already have
    // outlived them, and then rightly gets no date).
    const fresh = await createCase(s, caseworker, { service: 'est', summary: 'estimate probe 2' });
    const after = await bySecret(fresh.reference, fresh.secret);
    const e = after.body.expected_completion;
    assert.equal(e.available, true, JSON.stringify(e));
    assert.ok(Number.isInteger(e.based_on) && e.based_on >= 1 && e.based_on <= n, `based_on ${e.based_on}`);
    for (const k of ['date', 'earliest', 'latest']) assert.match(e[k], DATE_RE);
    assert.ok(e.earliest <= e.date && e.date <= e.latest, JSON.stringify(e));
    assert.ok(e.earliest >= after.body.opened_at.slice(0, 10), JSON.stringify(e));
  });

  it('demo cases can be tracked with the secrets from the credentials file', async () => {
    const creds = await s.credentials();
    assert.ok(creds.length >= 60, `credentials file lists the demo cases (${creds.length})`);
    const services = new Set(creds.map((c) => c.service));
    assert.ok(services.has('parking-permit') && services.has('burglary'), [...services].join());
    for (const c of [creds[0], creds[Math.floor(creds.length / 2)], creds[creds.length - 1]]) {
      const r = await bySecret(c.reference, c.secret);
      assert.equal(r.status, 200, `${c.reference}: ${r.text}`);
      assert.equal(r.body.reference, c.reference);
      assert.equal(r.body.service.code, c.service);
      const e = r.body.expected_completion;
      assert.equal(typeof e.available, 'boolean');
      if (e.available) assert.ok(Number.isInteger(e.based_on) && e.based_on >= 1);
      else assert.ok(e.reason.length > 0);
    }
  });

  it('no public answer ever held the summary, internal notes, person data or hidden stages', () => {
    assert.ok(publicTexts.length > 20);
    const forbidden = [secrets.summary, secrets.name, secrets.email, secrets.phone, secrets.address, secrets.postcode,
      secrets.internal, 'triage_hidden', 'Hidden Triage Stage', 'internal_note'];
    for (const text of publicTexts) {
      for (const f of forbidden) {
        assert.ok(!text.toLowerCase().includes(f.toLowerCase()), `public answer contains ${f}:\n${text.slice(0, 600)}`);
      }
    }
  });
});
