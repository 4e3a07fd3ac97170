// Health, the served OpenAPI document, unknown paths and methods, and the
// request-body rules every JSON endpoint shares (media type, size, syntax).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startServer, expectError, USERS } from './lib/server.mjs';
import { DOC_PATH } from './lib/openapi.mjs';

describe('basics', () => {
  let s;
  let admin;
  before(async () => {
    s = await startServer();
    admin = await s.login(USERS.admin);
  });
  after(async () => {
    await s?.close();
  });

  it('GET /healthz answers ok', async () => {
    const r = await s.req('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
  });

  it('docs/openapi.json is a valid OpenAPI 3.0 document', async () => {
    const api = await SwaggerParser.validate(DOC_PATH);
    assert.match(api.openapi, /^3\.0\./);
    assert.ok(api.components.securitySchemes.session);
    assert.equal(api.components.securitySchemes.session.in, 'cookie');
    assert.equal(api.components.securitySchemes.session.name, 'opencase_session');
    assert.equal(api.components.securitySchemes.bearer.scheme, 'bearer');
  });

  it('GET /api/v1/openapi.json serves docs/openapi.json', async () => {
    const r = await s.req('GET', '/api/v1/openapi.json');
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^application\/json\b/);
    const onDisk = JSON.parse(await readFile(DOC_PATH, 'utf8'));
    assert.deepEqual(r.body, onDisk);
  });

  it('an unknown path answers 404 not_found as JSON', async () => {
    for (const p of ['/nope', '/api/v1/nope', '/api/v2/cases', '/api/v1/cases/K7QM-2XPD-C/nope']) {
      const r = await s.req('GET', p, { auth: admin });
      expectError(r, 404, 'not_found');
    }
  });

  it('a known path with the wrong method answers 405 with Allow', async () => {
    const cases = [
      ['DELETE', '/api/v1/cases', ['GET', 'POST']],
      ['PUT', '/healthz', ['GET']],
      ['GET', '/api/v1/auth/login', ['POST']],
      ['DELETE', '/api/v1/services/parking-permit', ['GET', 'PUT']],
    ];
    for (const [method, p, allowed] of cases) {
      const r = await s.req(method, p, { auth: admin });
      expectError(r, 405, 'method_not_allowed');
      const allow = (r.headers.get('allow') || '').split(',').map((m) => m.trim()).filter((m) => m && m !== 'HEAD' && m !== 'OPTIONS');
      assert.deepEqual(allow.sort(), [...allowed].sort(), `Allow for ${method} ${p}`);
    }
  });

  it('rejects a body that is not application/json with 415', async () => {
    const body = JSON.stringify({ email: USERS.admin, password: 'x' });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const r = await s.req('POST', '/api/v1/auth/login', { body, contentType: ct });
      expectError(r, 415, 'unsupported_media_type');
    }
    const r = await s.req('POST', '/api/v1/services', { body: '{}', auth: admin });
    expectError(r, 415, 'unsupported_media_type');
  });

  it('accepts application/json with a charset parameter', async () => {
    const r = await s.req('POST', '/api/v1/cases', {
      auth: admin,
      body: JSON.stringify({ service: 'parking-permit', summary: 'charset parameter' }),
      contentType: 'application/json; charset=utf-8',
    });
    assert.equal(r.status, 201, r.text);
  });

  it('rejects a body over 64 KiB with 413', async () => {
    const summary = 'x'.repeat(65 * 1024);
    const r = await s.req('POST', '/api/v1/cases', { auth: admin, json: { service: 'parking-permit', summary } });
    expectError(r, 413, 'too_large');
    const after = await s.req('GET', '/healthz');
    assert.equal(after.status, 200);
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    for (const body of ['{"service":', '{service: 1}', '', 'null x', '{"a":1}{"b":2}', '\u0000']) {
      const r = await s.req('POST', '/api/v1/cases', { auth: admin, body, contentType: 'application/json' });
      assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${r.text}`);
      assert.ok(['invalid_json', 'missing_field'].includes(r.body.error.code), r.text);
      if (body !== '') expectError(r, 400, 'invalid_json');
    }
  });

  it('rejects JSON that is not an object with 400', async () => {
    for (const body of ['[]', '"text"', '42', 'null', 'true']) {
      const r = await s.req('POST', '/api/v1/cases', { auth: admin, body, contentType: 'application/json' });
      assert.equal(r.status, 400, `body ${body}: ${r.text}`);
      assert.ok(['invalid_json', 'invalid_field'].includes(r.body.error.code), r.text);
    }
  });

  it('rejects invalid UTF-8 in a body with 400', async () => {
    const bytes = Buffer.concat([Buffer.from('{"service":"parking-permit","summary":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await s.req('POST', '/api/v1/cases', { auth: admin, body: bytes, contentType: 'application/json' });
    assert.equal(r.status, 400, r.text);
  });

  it('still serves after a stream of bad requests', async () => {
    const r = await s.req('GET', '/healthz');
    assert.equal(r.status, 200);
  });
});
