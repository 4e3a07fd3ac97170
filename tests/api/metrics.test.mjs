// Prometheus metrics: requests are counted by route and status class, with a
// latency histogram, and nothing that identifies a case or a client leaks.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, USERS, createCase } from './lib/server.mjs';

function series(text, name, labels) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${wanted}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('metrics', () => {
  let s;
  let admin;
  before(async () => {
    s = await startServer({ cases: 5 });
    admin = await s.login(USERS.admin);
  });
  after(async () => {
    await s?.close();
  });

  it('counts requests by route and status class, with a histogram', async () => {
    const before = (await s.req('GET', '/metrics')).text;
    const okBefore = series(before, 'opencase_http_requests_total', { route: '/healthz', method: 'GET', code: '2xx' });
    for (let i = 0; i < 3; i++) assert.equal((await s.req('GET', '/healthz')).status, 200);
    await s.req('GET', '/no/such/place');
    const r = await s.req('GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^# TYPE opencase_http_requests_total counter$/m);
    assert.match(r.text, /^# TYPE opencase_http_request_duration_seconds histogram$/m);
    assert.equal(series(r.text, 'opencase_http_requests_total', { route: '/healthz', method: 'GET', code: '2xx' }), okBefore + 3);
    assert.ok(series(r.text, 'opencase_http_requests_total', { route: 'unmatched', method: '', code: '4xx' }) >= 1);
    const count = series(r.text, 'opencase_http_request_duration_seconds_count', { route: '/healthz', method: 'GET' });
    const inf = series(r.text, 'opencase_http_request_duration_seconds_bucket', { route: '/healthz', method: 'GET', le: '+Inf' });
    assert.ok(count >= 3);
    assert.equal(inf, count);
  });

  it('gauges the public log: its entries, and changes whose entries are still to come', async () => {
    const gauge = (text, name) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? NaN : Number(line.split(' ').pop());
    };
    const before = (await s.req('GET', '/metrics')).text;
    assert.match(before, /^# TYPE opencase_log_entries gauge$/m);
    assert.match(before, /^# TYPE opencase_log_queued_entries gauge$/m);
    const entries = gauge(before, 'opencase_log_entries');
    assert.ok(entries > 0, before);
    await createCase(s, admin, { service: 'parking-permit', summary: 'log gauges' });
    // On PostgreSQL the sequencer appends the entry shortly after commit.
    let text;
    for (let i = 0; i < 100; i++) {
      text = (await s.req('GET', '/metrics')).text;
      if (gauge(text, 'opencase_log_queued_entries') === 0 && gauge(text, 'opencase_log_entries') > entries) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(gauge(text, 'opencase_log_queued_entries'), 0, text);
    assert.ok(gauge(text, 'opencase_log_entries') >= entries + 1, text);
  });

  it('never names a case, a reference or a client', async () => {
    const { reference } = await createCase(s, admin, { service: 'parking-permit', summary: 'metrics' });
    await s.req('GET', `/api/v1/cases/${reference}`, { auth: admin });
    const r = await s.req('GET', '/metrics');
    assert.ok(!r.text.includes(reference));
    assert.ok(!r.text.includes('127.0.0.1'));
    assert.ok(series(r.text, 'opencase_http_requests_total', { route: '/api/v1/cases/{ref}', method: 'GET', code: '2xx' }) >= 1);
  });
});
