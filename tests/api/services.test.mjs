// Services: listing, reading, creating and replacing them, workflow
// validation, roles and organisation isolation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS, testWorkflow, createTestService } from './lib/server.mjs';

describe('services', () => {
  let s;
  let admin;
  let caseworker;
  let analyst;
  let wessex;
  before(async () => {
    s = await startServer();
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    analyst = await s.login(USERS.analyst);
    wessex = await s.login(USERS.wessexAdmin);
  });
  after(async () => {
    await s?.close();
  });

  const post = (auth, json) => s.req('POST', '/api/v1/services', { auth, json });
  const valid = (code, extra = {}) => ({ code, name: `Service ${code}`, target_days: 20, workflow: testWorkflow(), ...extra });

  it('lists the demo service for every role, sorted by code', async () => {
    for (const who of [admin, caseworker, analyst]) {
      const r = await s.req('GET', '/api/v1/services', { auth: who });
      assert.equal(r.status, 200, r.text);
      const codes = r.body.services.map((x) => x.code);
      assert.ok(codes.includes('parking-permit'), codes.join());
      assert.deepEqual(codes, [...codes].sort());
      assert.ok(!codes.includes('burglary'), 'another organisation\'s service is not listed');
    }
    const permit = (await s.req('GET', '/api/v1/services/parking-permit', { auth: analyst })).body;
    assert.equal(permit.name, "Residents' parking permit");
    assert.ok(permit.workflow.stages.length >= 2);
    assert.ok(permit.workflow.stages.some((st) => st.terminal));
  });

  it('GET an unknown service answers 404', async () => {
    expectError(await s.req('GET', '/api/v1/services/no-such-service', { auth: admin }), 404, 'not_found');
  });

  it('another organisation\'s service is not found', async () => {
    expectError(await s.req('GET', '/api/v1/services/burglary', { auth: admin }), 404, 'not_found');
    const r = await s.req('GET', '/api/v1/services/parking-permit', { auth: wessex });
    expectError(r, 404, 'not_found');
    assert.ok(!r.text.includes("Residents' parking permit"));
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', {
      auth: wessex, json: { name: 'Taken over', target_days: 5, workflow: testWorkflow() },
    }), 404, 'not_found');
    const still = await s.req('GET', '/api/v1/services/parking-permit', { auth: admin });
    assert.equal(still.body.name, "Residents' parking permit");
  });

  it('an administrator creates a service', async () => {
    const r = await post(admin, valid('pothole', { description: 'Holes in the road' }));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.code, 'pothole');
    assert.equal(r.body.name, 'Service pothole');
    assert.equal(r.body.description, 'Holes in the road');
    assert.equal(r.body.target_days, 20);
    assert.deepEqual(r.body.workflow.stages.map((x) => x.code), testWorkflow().stages.map((x) => x.code));
    assert.equal(r.body.workflow.transitions.assessing.length, 2);
    const got = await s.req('GET', '/api/v1/services/pothole', { auth: caseworker });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, r.body);
    const list = await s.req('GET', '/api/v1/services', { auth: admin });
    const codes = list.body.services.map((x) => x.code);
    assert.ok(codes.includes('pothole'));
    assert.deepEqual(codes, [...codes].sort());
    const other = await s.req('GET', '/api/v1/services/pothole', { auth: wessex });
    expectError(other, 404, 'not_found');
  });

  it('the same code may be used by another organisation', async () => {
    await createTestService(s, wessex, 'pothole');
    const mine = await s.req('GET', '/api/v1/services/pothole', { auth: admin });
    assert.equal(mine.body.name, 'Service pothole');
  });

  it('initial defaults to the first stage', async () => {
    const wf = testWorkflow();
    delete wf.initial;
    const r = await post(admin, valid('no-initial', { workflow: wf }));
    assert.equal(r.status, 201, r.text);
    const c = await s.req('POST', '/api/v1/cases', { auth: admin, json: { service: 'no-initial', summary: 'starts at the first stage' } });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.case.stage, 'received');
    assert.equal(c.body.case.stage_name, 'Received');
  });

  it('a duplicate code answers 409 conflict', async () => {
    assert.equal((await post(admin, valid('dup-svc'))).status, 201);
    expectError(await post(admin, valid('dup-svc')), 409, 'conflict');
  });

  it('caseworkers and analysts may not create or replace services', async () => {
    expectError(await post(caseworker, valid('cw-svc')), 403, 'forbidden');
    expectError(await post(analyst, valid('an-svc')), 403, 'forbidden');
    const put = { name: 'Renamed', target_days: 5, workflow: testWorkflow() };
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', { auth: caseworker, json: put }), 403, 'forbidden');
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', { auth: analyst, json: put }), 403, 'forbidden');
    expectError(await s.req('GET', '/api/v1/services/cw-svc', { auth: admin }), 404, 'not_found');
  });

  it('validates code, name, target_days and fields', async () => {
    const bad = [
      [{ code: 'Bad Code' }, 'invalid_field', 'code'],
      [{ code: '-leading' }, 'invalid_field', 'code'],
      [{ code: 'a'.repeat(41) }, 'invalid_field', 'code'],
      [{ code: 7 }, 'invalid_field', 'code'],
      [{ name: '' }, 'invalid_field', 'name'],
      [{ name: 12 }, 'invalid_field', 'name'],
      [{ name: 'n'.repeat(10000) }, 'invalid_field', 'name'],
      [{ target_days: 0 }, 'invalid_field', 'target_days'],
      [{ target_days: 3651 }, 'invalid_field', 'target_days'],
      [{ target_days: '10' }, 'invalid_field', 'target_days'],
      [{ target_days: 2.5 }, 'invalid_field', 'target_days'],
      [{ description: 42 }, 'invalid_field', 'description'],
      [{ colour: 'blue' }, 'unknown_field', 'colour'],
      [{ workflow: 'received,closed' }, 'invalid_field', 'workflow'],
    ];
    for (const [patch, code, field] of bad) {
      expectError(await post(admin, valid('valid-code', patch)), 400, code, field);
    }
    for (const missing of ['code', 'name', 'target_days', 'workflow']) {
      const body = valid('valid-code');
      delete body[missing];
      expectError(await post(admin, body), 400, 'missing_field', missing);
    }
    assert.equal((await post(admin, valid('a'.repeat(40)))).status, 201);
    assert.equal((await post(admin, valid('edge-days', { target_days: 3650 }))).status, 201);
    assert.equal((await post(admin, valid('edge-days-1', { target_days: 1 }))).status, 201);
    expectError(await s.req('GET', '/api/v1/services/valid-code', { auth: admin }), 404, 'not_found');
  });

  it('rejects invalid workflows naming the offending field', async () => {
    const cases = [
      [(wf) => { wf.stages[1].code = 'Bad Code'; }, 'workflow.stages[1].code'],
      [(wf) => { wf.stages[2].code = 'received'; }, 'workflow.stages[2].code'],
      [(wf) => { wf.stages[1].name = ''; }, 'workflow.stages[1].name'],
      [(wf) => { delete wf.stages[0].code; }, 'workflow.stages[0].code'],
      [(wf) => { wf.transitions.received.push('nowhere'); }, /^workflow\.transitions\.received(\[3\])?$/],
      [(wf) => { wf.transitions.approved = ['received']; }, /^workflow\.transitions\.approved(\[0\])?$/],
      [(wf) => { wf.transitions.ghost = ['received']; }, 'workflow.transitions.ghost'],
      [(wf) => { wf.transitions.received.push('assessing'); }, /^workflow\.transitions\.received(\[3\])?$/],
      [(wf) => { wf.initial = 'approved'; }, 'workflow.initial'],
      [(wf) => { wf.initial = 'ghost'; }, 'workflow.initial'],
    ];
    for (const [mutate, field] of cases) {
      const wf = testWorkflow();
      mutate(wf);
      const r = await post(admin, valid('bad-wf', { workflow: wf }));
      if (field instanceof RegExp) {
        expectError(r, 400, 'invalid_field');
        assert.match(r.body.error.field, field);
      } else {
        expectError(r, 400, 'invalid_field', field);
      }
    }
    const noTerminal = testWorkflow();
    noTerminal.stages = noTerminal.stages.filter((st) => !st.terminal);
    noTerminal.transitions = { received: ['assessing'] };
    const r1 = await post(admin, valid('bad-wf', { workflow: noTerminal }));
    expectError(r1, 400, 'invalid_field');
    assert.match(r1.body.error.field, /^workflow/);
    const empty = await post(admin, valid('bad-wf', { workflow: { stages: [], transitions: {} } }));
    expectError(empty, 400, 'invalid_field');
    assert.match(empty.body.error.field, /^workflow/);
    const typo = testWorkflow();
    typo.stages[0].milstone = true;
    const r2 = await post(admin, valid('bad-wf', { workflow: typo }));
    assert.equal(r2.status, 400, r2.text);
    assert.ok(['invalid_field', 'unknown_field'].includes(r2.body.error.code), r2.text);
    assert.match(r2.body.error.field, /^workflow\.stages\[0\]/);
    expectError(await s.req('GET', '/api/v1/services/bad-wf', { auth: admin }), 404, 'not_found');
  });

  it('PUT replaces name, description, target and workflow', async () => {
    const created = (await post(admin, valid('to-update', { description: 'before' }))).body;
    const wf = testWorkflow();
    wf.stages.push({ code: 'on_hold', name: 'On hold', milestone: false });
    wf.transitions.received.push('on_hold');
    wf.transitions.on_hold = ['received'];
    const r = await s.req('PUT', '/api/v1/services/to-update', {
      auth: admin, json: { name: 'Updated name', description: 'after', target_days: 30, workflow: wf },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.code, 'to-update');
    assert.equal(r.body.name, 'Updated name');
    assert.equal(r.body.description, 'after');
    assert.equal(r.body.target_days, 30);
    assert.ok(r.body.workflow.stages.some((x) => x.code === 'on_hold'));
    assert.equal(r.body.created_at, created.created_at);
    assert.ok(r.body.updated_at >= created.updated_at);
    const got = await s.req('GET', '/api/v1/services/to-update', { auth: analyst });
    assert.deepEqual(got.body, r.body);
  });

  it('PUT validates its body', async () => {
    const body = { name: 'x', target_days: 5, workflow: testWorkflow() };
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', { auth: admin, json: { ...body, code: 'renamed' } }), 400, 'unknown_field', 'code');
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', { auth: admin, json: { name: 'x', target_days: 5 } }), 400, 'missing_field', 'workflow');
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', { auth: admin, json: { ...body, target_days: -1 } }), 400, 'invalid_field', 'target_days');
    expectError(await s.req('PUT', '/api/v1/services/parking-permit', { auth: admin, body: JSON.stringify(body), contentType: 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await s.req('PUT', '/api/v1/services/no-such-service', { auth: admin, json: body }), 404, 'not_found');
    const still = await s.req('GET', '/api/v1/services/parking-permit', { auth: admin });
    assert.equal(still.body.name, "Residents' parking permit");
  });

  it('rejects unknown query parameters', async () => {
    expectError(await s.req('GET', '/api/v1/services?sort=name', { auth: admin }), 400, 'invalid_parameter');
  });
});
