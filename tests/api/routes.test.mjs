// The server's routes, docs/openapi.json and the API contract agree: every
// route the contract lists is documented, every documented operation is
// served (never the unknown-route 404 or a 405), other methods on a known
// path answer 405 with Allow, and paths nobody documented answer 404.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS, createCase } from './lib/server.mjs';
import { doc } from './lib/openapi.mjs';

// The routes of the API contract (v1), as method and path template.
const CONTRACT_ROUTES = [
  'GET /healthz',
  'GET /metrics',
  'GET /api/v1/openapi.json',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/logout',
  'GET /api/v1/me',
  'GET /api/v1/users',
  'GET /api/v1/services',
  'POST /api/v1/services',
  'GET /api/v1/services/{code}',
  'PUT /api/v1/services/{code}',
  'GET /api/v1/cases',
  'POST /api/v1/cases',
  'GET /api/v1/cases/{ref}',
  'POST /api/v1/cases/{ref}/events',
  'POST /api/v1/cases/{ref}/close',
  'POST /api/v1/cases/{ref}/secret',
  'GET /api/v1/cases/{ref}/accesses',
  'GET /api/v1/track/{ref}',
  'POST /api/v1/track/{ref}/messages',
  'POST /api/v1/track/{ref}/feedback',
  'GET /track',
  'POST /track',
  'POST /track/message',
  'POST /track/feedback',
  'GET /log/checkpoint',
  'GET /log/tile/{tile}',
  'GET /log/proof/inclusion',
  'GET /log/proof/consistency',
  'GET /log/entries',
  'GET /open311/v2/discovery.{format}',
  'GET /open311/v2/services.{format}',
  'GET /open311/v2/services/{code}.{format}',
  'GET /open311/v2/requests.{format}',
  'POST /open311/v2/requests.{format}',
  'GET /open311/v2/requests/{id}.{format}',
  'GET /open311/v2/tokens/{token}.{format}',
  'GET /open311/v2/servicerequestupdates.{format}',
  'POST /open311/v2/servicerequestupdates.{format}',
  // update duties
  'PATCH /api/v1/cases/{ref}',
  'GET /api/v1/duties',
  'GET /api/v1/compliance',
  'GET /api/v1/calendar',
  'PUT /api/v1/calendar',
  'GET /api/v1/services/{code}/templates',
  'PUT /api/v1/services/{code}/templates/{kind}/{language}',
  'GET /api/v1/webhooks',
  'POST /api/v1/webhooks',
  'DELETE /api/v1/webhooks/{id}',
  'GET /api/v1/notifications',
  'GET /api/v1/notifications/{id}',
  'GET /api/v1/tasks',
  'POST /api/v1/tasks/{id}/done',
  'GET /api/v1/track/{ref}/preferences',
  'PUT /api/v1/track/{ref}/preferences',
  'POST /track/preferences',
  // appeals for witnesses
  'GET /api/v1/appeals',
  'POST /api/v1/appeals',
  'GET /api/v1/appeals/{id}',
  'PUT /api/v1/appeals/{id}',
  'PUT /api/v1/appeals/{id}/officer',
  'POST /api/v1/appeals/{id}/publish',
  'POST /api/v1/appeals/{id}/close',
  'GET /api/v1/appeals/{id}/answers',
  'GET /api/v1/public/appeals',
  'GET /api/v1/public/appeals.geojson',
  'GET /api/v1/public/appeals/{id}',
  'POST /api/v1/public/appeals/{id}/answers',
  'GET /api/v1/public/receipts/{receipt}',
  'GET /appeals',
  'GET /appeals/{id}',
  'POST /appeals/{id}',
  'GET /appeals/receipt',
  'POST /appeals/receipt',
];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function documentedRoutes() {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) if (item[m.toLowerCase()]) out.push(`${m} ${p}`);
  }
  return out;
}

describe('routes', () => {
  let s;
  let admin;
  let c;
  let id;
  let appealId;
  let receipt;
  before(async () => {
    s = await startServer({ cases: 6 });
    admin = await s.login(USERS.admin);
    // A subscription before the case, so that opening it makes a notification:
    // both have an id for the paths that take one. Nothing listens there.
    const hook = await s.req('POST', '/api/v1/webhooks', { auth: admin, json: { url: 'http://127.0.0.1:9/probe' } });
    assert.equal(hook.status, 201, hook.text);
    id = String(hook.body.webhook.id);
    c = await createCase(s, admin, { service: 'parking-permit', summary: 'route probe' });
    // A published appeal for the appeal routes, on a case of its own.
    const other = await createCase(s, admin, { service: 'parking-permit', summary: 'appeal probe' });
    const draft = await s.req('POST', '/api/v1/appeals', { auth: admin, json: {
      case: other.reference, title: 'Probe', description: 'Probe', category: 'other',
      occurred_from: '2026-11-01T10:00:00Z', contact: 'Call 101', expires_at: '2099-01-01T00:00:00Z',
      location: { lat: 51, lon: -1 }, public_location: { precision: 'exact' } } });
    assert.equal(draft.status, 201, draft.text);
    appealId = String(draft.body.appeal.id);
    assert.equal((await s.req('POST', `/api/v1/appeals/${appealId}/publish`, { auth: admin })).status, 200);
    const answer = await s.req('POST', `/api/v1/public/appeals/${appealId}/answers`, { json: {
      saw: 'Probe', anonymous: false, contact: { email: 'probe@example.org', preferred: 'email' } } });
    assert.equal(answer.status, 201, answer.text);
    receipt = answer.body;
  });
  after(async () => {
    await s?.close();
  });

  it('the OpenAPI document lists exactly the contract\'s routes', () => {
    assert.deepEqual(documentedRoutes().sort(), [...CONTRACT_ROUTES].sort());
  });

  it('every documented operation has an operationId, a summary and responses', () => {
    const ids = new Set();
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        const op = item[m.toLowerCase()];
        if (!op) continue;
        assert.ok(op.operationId && !ids.has(op.operationId), `${m} ${p} operationId`);
        ids.add(op.operationId);
        assert.ok(op.summary, `${m} ${p} summary`);
        assert.ok(Object.keys(op.responses).length > 0, `${m} ${p} responses`);
      }
    }
  });

  // A documented path with its parameters filled in: an Open311 request's
  // id is a case reference, an appeal's id the probe appeal's.
  const probePath = (template) => template.replace('{ref}', c.reference).replace('{code}', 'parking-permit')
    .replace('{kind}', 'public_note').replace('{language}', 'cy')
    .replace('{id}', template.startsWith('/open311/') ? c.reference : /appeals/.test(template) ? appealId : id)
    .replace('{token}', 'probe').replace('{format}', 'xml').replace('{receipt}', receipt.receipt);

  it('the server serves every documented operation', async () => {
    for (const route of documentedRoutes()) {
      const [method, template] = route.split(' ');
      const p = probePath(template);
      const headers = { 'x-tracking-secret': c.secret, 'x-receipt-secret': receipt.receipt_secret, cookie: admin };
      let body;
      const op = doc.paths[template][method.toLowerCase()];
      const media = op.requestBody ? Object.keys(op.requestBody.content)[0] : null;
      // A body with an unknown field: accepted routes answer 400 and change nothing.
      if (media === 'application/json') {
        body = JSON.stringify({ zz_probe: true });
        headers['content-type'] = 'application/json';
      } else if (media === 'application/x-www-form-urlencoded') {
        body = 'zz_probe=1';
        headers['content-type'] = media;
      }
      if (template === '/api/v1/auth/logout') delete headers.cookie;
      const r = await fetch(s.url(p), { method, headers, body });
      const text = await r.text();
      assert.notEqual(r.status, 405, `${route} answered 405: ${text.slice(0, 300)}`);
      assert.notEqual(r.status, 404, `${route} answered 404: ${text.slice(0, 300)}`);
      assert.ok(r.status < 500, `${route} answered ${r.status}: ${text.slice(0, 300)}`);
    }
    const still = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: admin });
    assert.equal(still.body.events.length, 1, 'the probes changed nothing');
    assert.equal((await s.req('GET', '/api/v1/me', { auth: admin })).status, 200, 'the session is still valid');
  });

  it('other methods on a documented path answer 405 with Allow', async () => {
    for (const [template, item] of Object.entries(doc.paths)) {
      const allowed = METHODS.filter((m) => item[m.toLowerCase()]);
      const p = probePath(template);
      for (const m of METHODS.filter((x) => !allowed.includes(x))) {
        const r = await s.req(m, p, { auth: admin });
        // The JSON API answers in JSON; the pages may answer in HTML.
        if (template.startsWith('/api/') || template === '/healthz') expectError(r, 405, 'method_not_allowed');
        else assert.equal(r.status, 405, `${m} ${p}`);
        const allow = (r.headers.get('allow') || '').split(',').map((x) => x.trim()).filter((x) => x && x !== 'HEAD' && x !== 'OPTIONS');
        assert.deepEqual(allow.sort(), [...allowed].sort(), `Allow for ${m} ${p}`);
      }
    }
  });

  it('undocumented paths answer 404 not_found', async () => {
    const paths = [
      '/api', '/api/v1', '/api/v1/', '/api/v1/track', '/api/v1/users/1', '/api/v1/keys', '/api/v1/orgs',
      '/api/v2/cases', `/api/v1/cases/${c.reference}/events/1`, `/api/v1/cases/${c.reference}/person`,
      '/api/v1/services/parking-permit/cases', '/api/v1/openapi.yaml', '/healthz/db', '/track/anything', '/.env', '/../etc/passwd',
      '/api/v1/auth', '/api/v1/auth/keys', '/metrics.php', '/trackx', '/api/v1/meself',
    ];
    for (const p of paths) {
      for (const method of ['GET', 'POST']) {
        const r = await s.req(method, p, { auth: admin, json: method === 'POST' ? {} : undefined });
        expectError(r, 404, 'not_found');
      }
    }
  });
});
