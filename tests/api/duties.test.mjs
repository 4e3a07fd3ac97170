// Statutory update duties, black-box: a service declares them, moving a
// case opens them with due times in working days of the organisation's
// bank-holiday calendar (end of the day, UK time), public updates meet them,
// time passing misses them, staff list them, and compliance counts them.
//
// Time is the server's test clock (OPENCASE_TEST_CLOCK_FILE), moved on by
// writing the file, so that due dates over Christmas and New Year are
// checked exactly. Callers use API keys, which do not expire as the clock
// jumps by days.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, startServer, expectError, addEvent } from './lib/server.mjs';

const SERVICE = 'victim-updates';

function workflow() {
  return {
    initial: 'reported',
    stages: [
      { code: 'reported', name: 'Crime reported', milestone: true },
      { code: 'investigating', name: 'Investigating', milestone: false },
      { code: 'charged', name: 'Suspect charged', milestone: true },
      { code: 'closed', name: 'Closed', milestone: true, terminal: true },
    ],
    transitions: { reported: ['investigating', 'charged'], investigating: ['charged'], charged: ['closed'] },
  };
}

const DUTIES = [
  { code: 'acknowledge', name: 'Acknowledge the report', stage: 'reported', days: 2 },
  { code: 'tell-charge', name: 'Tell the victim about the charge', stage: 'charged', days: 5, enhanced_days: 1 },
];

// A server whose clock is a file this test writes.
async function startWithClock(t) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencase-clock-'));
  const file = path.join(dir, 'now');
  const clock = {
    dir,
    async set(iso) {
      await writeFile(file, `${Math.floor(Date.parse(iso) / 1000)}\n`);
    },
  };
  await clock.set(t);
  const s = await startServer({ cases: 4, env: { OPENCASE_TEST_CLOCK_FILE: file } });
  return { s, clock };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The public log's entries about this service's duties, once the server's
// sweeper has logged at least `missed` of them as missed.
async function dutyEntries(s, missed) {
  for (let i = 0; i < 150; i++) {
    await s.logSequenced();
    const found = [];
    for (let cursor = '0'; ;) {
      const r = await s.req('GET', `/log/entries?cursor=${cursor}&limit=1000`);
      assert.equal(r.status, 200, r.text);
      if (r.body.entries.length === 0) break;
      found.push(...r.body.entries.map((e) => e.entry).filter((e) => e.service === SERVICE && e.kind.startsWith('duty_')));
      cursor = r.body.next_cursor;
    }
    if (found.filter((e) => e.kind === 'duty_missed').length >= missed) return found;
    await sleep(200);
  }
  return assert.fail(`the sweeper did not log ${missed} missed duties`);
}

const count = (entries, kind, action) => entries.filter((e) => e.kind === kind && (!action || e.action === action)).length;

async function keys(s) {
  return {
    admin: await s.createKey('northshire', 'duties admin', 'administrator'),
    caseworker: await s.createKey('northshire', 'duties caseworker', 'caseworker'),
    analyst: await s.createKey('northshire', 'duties analyst', 'analyst'),
    wessex: await s.createKey('wessex-police', 'wessex admin', 'administrator'),
  };
}

async function createService(s, auth, code = SERVICE) {
  const r = await s.req('POST', '/api/v1/services', {
    auth,
    json: { code, name: 'Victim updates', target_days: 60, workflow: workflow(), duties: DUTIES },
  });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function openCase(s, auth, extra = {}) {
  const r = await s.req('POST', '/api/v1/cases', {
    auth,
    json: { service: SERVICE, summary: 'Burglary at a shed', ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return r.body.case.reference;
}

async function duties(s, auth, ref) {
  const r = await s.req('GET', `/api/v1/cases/${ref}`, { auth });
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(r.body.duties.map((d) => [d.duty, d]));
}

async function charge(s, auth, ref) {
  return addEvent(s, auth, ref, { type: 'stage_change', stage: 'charged' });
}

describe('update duties', () => {
  let s;
  let clock;
  let k;
  const refs = {};

  before(async () => {
    ({ s, clock } = await startWithClock('2026-12-18T15:00:00Z')); // a Friday
    k = await keys(s);
  });
  after(async () => {
    await s?.close();
    if (clock) await rm(clock.dir, { recursive: true, force: true });
  });

  it('an administrator declares duties on a service; they are checked against its workflow', async () => {
    const svc = await createService(s, k.admin);
    assert.deepEqual(svc.duties, DUTIES);
    const got = await s.req('GET', `/api/v1/services/${SERVICE}`, { auth: k.caseworker });
    assert.deepEqual(got.body.duties, DUTIES);

    const bad = [
      [[{ ...DUTIES[0], stage: 'sentenced' }], 'duties[0].stage'],
      [[DUTIES[0], { ...DUTIES[1], code: 'acknowledge' }], 'duties[1].code'],
      [[{ ...DUTIES[1], days: 0 }], 'duties[0].days'],
      [[{ ...DUTIES[1], enhanced_days: 400 }], 'duties[0].enhanced_days'],
      [[{ ...DUTIES[1], weeks: 1 }], 'duties[0].weeks'],
      [{ code: 'x' }, 'duties'],
    ];
    for (const [d, field] of bad) {
      const r = await s.req('POST', '/api/v1/services', {
        auth: k.admin, json: { code: 'bad-duties', name: 'Bad', target_days: 5, workflow: workflow(), duties: d },
      });
      expectError(r, 400, 'invalid_field', field);
    }
    const asCaseworker = await s.req('POST', '/api/v1/services', {
      auth: k.caseworker, json: { code: 'cw-service', name: 'No', target_days: 5, workflow: workflow(), duties: DUTIES },
    });
    expectError(asCaseworker, 403, 'forbidden');
  });

  it('the calendar defaults to England and Wales; only administrators replace it, with a checked text', async () => {
    const r = await s.req('GET', '/api/v1/calendar', { auth: k.analyst });
    assert.equal(r.status, 200);
    assert.equal(r.body.calendar, 'england-and-wales');
    assert.equal(r.body.time_zone, 'Europe/London');
    assert.equal(r.body.first, '2024-01-01');
    assert.equal(r.body.last, '2028-12-26');
    assert.ok(r.body.holidays.some((h) => h.date === '2026-12-28' && /Boxing Day/.test(h.name)));

    expectError(await s.req('PUT', '/api/v1/calendar', { auth: k.caseworker, json: { calendar: 'scotland' } }),
      403, 'forbidden');
    expectError(await s.req('PUT', '/api/v1/calendar', { auth: k.admin, json: { calendar: 'wales' } }),
      400, 'invalid_field', 'calendar');
    expectError(await s.req('PUT', '/api/v1/calendar', { auth: k.admin, json: { calendar: 'custom' } }),
      400, 'missing_field', 'holidays');
    expectError(await s.req('PUT', '/api/v1/calendar', {
      auth: k.admin, json: { calendar: 'scotland', holidays: '2026-12-25' },
    }), 400, 'invalid_field', 'holidays');
    const badLine = await s.req('PUT', '/api/v1/calendar', {
      auth: k.admin, json: { calendar: 'custom', holidays: '# ours\n2026-12-25 Christmas\n2026-02-30 Nope\n' },
    });
    expectError(badLine, 400, 'invalid_field', 'holidays');
    assert.match(badLine.body.error.message, /line 3/);
    // Nothing was changed by the refusals.
    const still = await s.req('GET', '/api/v1/calendar', { auth: k.admin });
    assert.equal(still.body.calendar, 'england-and-wales');
    assert.equal(still.body.updated_at, null);
  });

  it('opening a case and charging it open duties due at the end of the working day, UK time', async () => {
    refs.a = await openCase(s, k.caseworker);
    refs.b = await openCase(s, k.caseworker, { enhanced: true, team: 'north-cid' });
    refs.c = await openCase(s, k.caseworker);
    refs.d = await openCase(s, k.caseworker, { team: 'north-cid' });
    refs.f = await openCase(s, k.caseworker);

    // Opened on Friday 18 December: two working days are Monday and Tuesday.
    let a = await duties(s, k.caseworker, refs.a);
    assert.equal(a.acknowledge.due_at, '2026-12-22T23:59:59Z');
    assert.equal(a.acknowledge.due_date, '2026-12-22');
    assert.equal(a.acknowledge.state, 'due');
    assert.equal(a.acknowledge.triggered_at, '2026-12-18T15:00:00Z');
    assert.equal(a.acknowledge.name, 'Acknowledge the report');

    for (const ref of [refs.a, refs.b, refs.c, refs.d]) await charge(s, k.caseworker, ref);

    // Five working days from Friday 18 December pass Christmas (Friday 25)
    // and Boxing Day's substitute (Monday 28): Tuesday 29 December.
    a = await duties(s, k.caseworker, refs.a);
    assert.equal(a['tell-charge'].due_at, '2026-12-29T23:59:59Z');
    assert.equal(a['tell-charge'].days, 5);
    assert.equal(a['tell-charge'].state, 'due');
    // The charge is a public milestone after the acknowledgement was due:
    // it meets it; it does not meet the duty it triggers itself.
    assert.equal(a.acknowledge.state, 'met');
    assert.equal(a.acknowledge.met_by, 'update');
    assert.equal(a.acknowledge.met_at, '2026-12-18T15:00:00Z');
    assert.equal(a['tell-charge'].met_at, null);

    // Enhanced: one working day, Monday 21 December.
    const b = await duties(s, k.caseworker, refs.b);
    assert.equal(b['tell-charge'].due_at, '2026-12-21T23:59:59Z');
    assert.equal(b['tell-charge'].days, 1);
    assert.equal(b['tell-charge'].enhanced, true);
    assert.equal(b['tell-charge'].team, 'north-cid');

    const got = await s.req('GET', `/api/v1/cases/${refs.b}`, { auth: k.caseworker });
    assert.equal(got.body.case.enhanced, true);
    assert.equal(got.body.case.team, 'north-cid');
  });

  it('flagging a case enhanced re-times its duties still due; bad flags are refused', async () => {
    const r = await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: { enhanced: true, team: 'south-cid' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.case.enhanced, true);
    assert.equal(r.body.case.team, 'south-cid');
    assert.equal(r.body.case.person, undefined);
    const c = Object.fromEntries(r.body.duties.map((d) => [d.duty, d]));
    assert.equal(c['tell-charge'].due_at, '2026-12-21T23:59:59Z');
    assert.equal(c['tell-charge'].days, 1);
    assert.equal(c.acknowledge.state, 'met');
    assert.equal(c.acknowledge.days, 2);

    const cleared = await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: { team: null } });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.case.team, null);
    assert.equal(cleared.body.case.enhanced, true);

    expectError(await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: { enhanced: 'yes' } }),
      400, 'invalid_field', 'enhanced');
    expectError(await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: { team: 'North CID' } }),
      400, 'invalid_field', 'team');
    expectError(await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: {} }),
      400, 'missing_field');
    expectError(await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: { priority: 1 } }),
      400, 'unknown_field', 'priority');
    expectError(await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.analyst, json: { enhanced: false } }),
      403, 'forbidden');
    expectError(await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.wessex, json: { enhanced: false } }),
      404, 'not_found');
    expectError(await s.req('POST', '/api/v1/cases', {
      auth: k.caseworker, json: { service: SERVICE, summary: 'x', enhanced: 1 },
    }), 400, 'invalid_field', 'enhanced');
  });

  it('the worklist lists unmet duties soonest first, by team, paged', async () => {
    const r = await s.req('GET', '/api/v1/duties', { auth: k.analyst });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.as_of, '2026-12-18T15:00:00Z');
    const mine = r.body.duties.filter((d) => d.service === SERVICE);
    assert.deepEqual(mine.map((d) => `${d.case} ${d.duty}`).sort(), [
      `${refs.a} tell-charge`, `${refs.b} tell-charge`, `${refs.c} tell-charge`,
      `${refs.d} tell-charge`, `${refs.f} acknowledge`,
    ].sort());
    const dues = r.body.duties.map((d) => d.due_at);
    assert.deepEqual(dues, [...dues].sort());
    assert.ok(r.body.duties.every((d) => d.state === 'due' && d.met_at === null));

    const team = await s.req('GET', '/api/v1/duties?team=north-cid', { auth: k.caseworker });
    assert.deepEqual(team.body.duties.map((d) => d.case).sort(), [refs.b, refs.d].sort());

    const seen = [];
    let cursor = null;
    do {
      const page = await s.req('GET', `/api/v1/duties?service=${SERVICE}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { auth: k.caseworker });
      assert.equal(page.status, 200);
      assert.ok(page.body.duties.length <= 2);
      seen.push(...page.body.duties.map((d) => d.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, mine.map((d) => d.id));

    const other = await s.req('GET', '/api/v1/duties', { auth: k.wessex });
    assert.equal(other.status, 200);
    assert.ok(other.body.duties.every((d) => !Object.values(refs).includes(d.case)));

    for (const q of ['status=late', 'team=North', 'limit=0', 'cursor=abc', 'service=a%20b', 'sort=due']) {
      expectError(await s.req('GET', `/api/v1/duties?${q}`, { auth: k.caseworker }), 400, 'invalid_parameter');
    }
  });

  it('a duty not met by the end of its due day is missed; an update after it is met late', async () => {
    await clock.set('2026-12-21T23:59:59Z');
    let b = await duties(s, k.caseworker, refs.b);
    assert.equal(b['tell-charge'].state, 'due');

    await clock.set('2026-12-22T10:00:00Z');
    b = await duties(s, k.caseworker, refs.b);
    assert.equal(b['tell-charge'].state, 'missed');
    // No write happens when a due time passes: the server's sweeper puts
    // each missed duty in the public log, once, at its due time.
    const swept = (await dutyEntries(s, 2)).filter((e) => e.kind === 'duty_missed');
    assert.equal(swept.length, 2);
    assert.ok(swept.every((e) => e.duty === 'tell-charge' && e.time === '2026-12-21T23:59:59Z' && e.actor === 'system'), JSON.stringify(swept));
    const missed = await s.req('GET', `/api/v1/duties?status=missed&service=${SERVICE}`, { auth: k.caseworker });
    assert.deepEqual(missed.body.duties.map((d) => d.case).sort(), [refs.b, refs.c].sort());
    const due = await s.req('GET', `/api/v1/duties?status=due&service=${SERVICE}`, { auth: k.caseworker });
    assert.deepEqual(due.body.duties.map((d) => d.case).sort(), [refs.a, refs.d, refs.f].sort());

    // An internal note tells the victim nothing.
    await addEvent(s, k.caseworker, refs.c, { type: 'internal_note', note: 'rang the victim, no answer' });
    assert.equal((await duties(s, k.caseworker, refs.c))['tell-charge'].state, 'missed');

    const note = await addEvent(s, k.caseworker, refs.b, { type: 'public_note', note: 'The suspect was charged.' });
    b = await duties(s, k.caseworker, refs.b);
    assert.equal(b['tell-charge'].state, 'met_late');
    assert.equal(b['tell-charge'].met_at, '2026-12-22T10:00:00Z');
    const late = (await dutyEntries(s, 2)).filter((e) => e.kind === 'duty_met' && e.action === 'met_late');
    assert.deepEqual(late.map((e) => [e.duty, e.time]), [['tell-charge', '2026-12-22T10:00:00Z']]);
    assert.equal(b['tell-charge'].met_event_id, note.body.event.id);
    const after = await s.req('GET', `/api/v1/duties?status=missed&service=${SERVICE}`, { auth: k.caseworker });
    assert.deepEqual(after.body.duties.map((d) => d.case), [refs.c]);

    // Re-flagging does not rewrite an outcome: C's duty stays missed.
    const r = await s.req('PATCH', `/api/v1/cases/${refs.c}`, { auth: k.caseworker, json: { enhanced: false } });
    const c = Object.fromEntries(r.body.duties.map((d) => [d.duty, d]));
    assert.equal(c['tell-charge'].state, 'missed');
    assert.equal(c['tell-charge'].due_at, '2026-12-21T23:59:59Z');
  });

  it('a public update exactly at the due time meets the duty on time', async () => {
    await clock.set('2026-12-29T23:59:59Z');
    await addEvent(s, k.caseworker, refs.a, { type: 'public_note', note: 'Court date to follow.' });
    const a = await duties(s, k.caseworker, refs.a);
    assert.equal(a['tell-charge'].state, 'met');
    assert.equal(a['tell-charge'].met_at, '2026-12-29T23:59:59Z');
  });

  it('compliance counts the duties that fell due: met on time over due', async () => {
    await clock.set('2027-01-10T12:00:00Z');
    const r = await s.req('GET', '/api/v1/compliance?from=2026-12-01&to=2027-01-01', { auth: k.analyst });
    assert.equal(r.status, 200, r.text);
    // Acknowledgements: A, B, C, D met by their charge; F missed.
    // Charges: A on time, B late, C and D missed.
    const svc = r.body.services.find((x) => x.service === SERVICE);
    assert.deepEqual(svc, { service: SERVICE, due: 9, met: 5, met_late: 1, missed: 3, compliance: 0.5556 });
    assert.equal(r.body.due, 9);
    assert.equal(r.body.compliance, 0.5556);
    assert.equal(r.body.organisation, 'northshire');
    assert.equal(r.body.as_of, '2027-01-10T12:00:00Z');
    // The public log tells the same story: every duty met, met late or
    // missed (B's was missed, then met late) is in it, once.
    const logged = await dutyEntries(s, 4);
    assert.deepEqual([count(logged, 'duty_met', 'met'), count(logged, 'duty_met', 'met_late'), count(logged, 'duty_missed')], [5, 1, 4]);

    const early = await s.req('GET', `/api/v1/compliance?service=${SERVICE}&to=2026-12-22`, { auth: k.admin });
    assert.deepEqual(early.body.services, [{ service: SERVICE, due: 2, met: 0, met_late: 1, missed: 1, compliance: 0 }]);

    const none = await s.req('GET', '/api/v1/compliance?from=2030-01-01', { auth: k.admin });
    assert.deepEqual(none.body.services, []);
    assert.equal(none.body.due, 0);
    assert.equal(none.body.compliance, null);

    // Another organisation sees only its own.
    const wessex = await s.req('GET', '/api/v1/compliance', { auth: k.wessex });
    assert.equal(wessex.status, 200);
    assert.ok(wessex.body.services.every((x) => x.service !== SERVICE));
    assert.equal(wessex.body.organisation, 'wessex-police');

    expectError(await s.req('GET', '/api/v1/compliance', { auth: k.caseworker }), 403, 'forbidden');
    expectError(await s.req('GET', '/api/v1/compliance'), 401, 'unauthorized');
    expectError(await s.req('GET', '/api/v1/compliance?from=yesterday', { auth: k.analyst }), 400, 'invalid_parameter', 'from');
    expectError(await s.req('GET', '/api/v1/compliance?from=2027-01-01&to=2026-01-01', { auth: k.analyst }),
      400, 'invalid_parameter', 'to');
    expectError(await s.req('GET', '/api/v1/compliance?team=x', { auth: k.analyst }), 400, 'invalid_parameter');
  });

  it('another organisation cannot see or touch the cases or their duties', async () => {
    expectError(await s.req('GET', `/api/v1/cases/${refs.a}`, { auth: k.wessex }), 404, 'not_found');
    expectError(await s.req('GET', '/api/v1/duties'), 401, 'unauthorized');
    const list = await s.req('GET', '/api/v1/duties?status=missed', { auth: k.wessex });
    assert.ok(list.body.duties.every((d) => !Object.values(refs).includes(d.case)));
  });
});

describe('update duties in Scotland and on an uploaded calendar', () => {
  let s;
  let clock;
  let k;

  before(async () => {
    ({ s, clock } = await startWithClock('2026-12-31T10:00:00Z')); // a Thursday
    k = await keys(s);
    await createService(s, k.admin);
  });
  after(async () => {
    await s?.close();
    if (clock) await rm(clock.dir, { recursive: true, force: true });
  });

  it('Scotland keeps 2 January: its substitute Monday is not a working day', async () => {
    const english = await openCase(s, k.caseworker);
    await charge(s, k.caseworker, english);

    const r = await s.req('PUT', '/api/v1/calendar', { auth: k.admin, json: { calendar: 'scotland' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.calendar, 'scotland');
    assert.equal(r.body.updated_at, '2026-12-31T10:00:00Z');
    assert.ok(r.body.holidays.some((h) => h.date === '2027-01-04'));

    const scottish = await openCase(s, k.caseworker);
    await charge(s, k.caseworker, scottish);
    const enhanced = await openCase(s, k.caseworker, { enhanced: true });
    await charge(s, k.caseworker, enhanced);

    // England and Wales: Monday 4 to Friday 8 January. Scotland: Tuesday 5
    // to Monday 11. A duty opened before the change keeps its due time.
    assert.equal((await duties(s, k.caseworker, english))['tell-charge'].due_at, '2027-01-08T23:59:59Z');
    assert.equal((await duties(s, k.caseworker, scottish))['tell-charge'].due_at, '2027-01-11T23:59:59Z');
    assert.equal((await duties(s, k.caseworker, enhanced))['tell-charge'].due_at, '2027-01-05T23:59:59Z');
    // Acknowledging a case opened on 31 December: Friday 1 January is a
    // holiday, so Tuesday 5 and Wednesday 6 January in Scotland.
    assert.equal((await duties(s, k.caseworker, scottish)).acknowledge.due_at, '2027-01-06T23:59:59Z');
  });

  it('an uploaded calendar times duties from then on; in summer the day ends at 23:59:59 BST', async () => {
    const text = '# Our own days\n2027-06-14 Founders\' Day\n2027-06-15\n';
    const r = await s.req('PUT', '/api/v1/calendar', { auth: k.admin, json: { calendar: 'custom', holidays: text } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.calendar, 'custom');
    assert.deepEqual(r.body.holidays, [
      { date: '2027-06-14', name: 'Founders\' Day' }, { date: '2027-06-15', name: '' },
    ]);
    assert.equal(r.body.first, '2027-06-14');
    assert.equal(r.body.last, '2027-06-15');
    const got = await s.req('GET', '/api/v1/calendar', { auth: k.caseworker });
    assert.deepEqual(got.body, r.body);

    // Friday 11 June 2027, 23:30 UTC, is already Saturday 12 June in
    // London: Monday 14 and Tuesday 15 are holidays here, so two working
    // days are Wednesday 16 and Thursday 17, ending at 22:59:59 UTC.
    await clock.set('2027-06-11T23:30:00Z');
    const ref = await openCase(s, k.caseworker);
    assert.equal((await duties(s, k.caseworker, ref)).acknowledge.due_at, '2027-06-17T22:59:59Z');
  });
});

describe('the test clock', () => {
  it('is refused unless the server listens on a loopback address', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opencase-clock-'));
    try {
      const file = path.join(dir, 'now');
      await writeFile(file, '1800000000\n');
      const child = spawn(BIN, ['--db', path.join(dir, 't.db'), '--listen', '0.0.0.0:0', 'serve'], {
        env: { ...process.env, OPENCASE_TEST_CLOCK_FILE: file },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      // A server that started anyway is stopped, and the test fails.
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code, signal] = await new Promise((resolve) => child.on('exit', (c, sig) => resolve([c, sig])));
      clearTimeout(timer);
      assert.equal(signal, null, `the server kept serving on a test clock\n${stderr}`);
      assert.equal(code, 1);
      assert.match(stderr, /OPENCASE_TEST_CLOCK_FILE is for tests only/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
