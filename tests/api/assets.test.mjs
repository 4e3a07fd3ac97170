// The pages' static files: served from the binary with their content types,
// cached for a year when the URL carries their version, revalidated by ETag
// otherwise, gzipped when the client takes it; and nothing but the listed
// files, whatever the path says (.., encoded dots, slashes, backslashes).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startServer, expectError } from './lib/server.mjs';

// One request with the path sent exactly as written (fetch would tidy it).
function raw(s, method, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files', () => {
  let s;
  let links; // every asset URL the tracking form links to
  before(async () => {
    s = await startServer({ cases: 2 });
    const html = await (await fetch(s.url('/track'))).text();
    links = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));
  });
  after(async () => {
    await s?.close();
  });

  it('pages link to versioned files, each cached for a year', async () => {
    assert.ok(links.some((l) => l.startsWith('/assets/opencase.css?v=')), links.join(' '));
    assert.ok(links.some((l) => l.startsWith('/assets/opencase.mjs?v=')));
    for (const link of links) {
      assert.match(link, /\?v=[0-9a-f]{16}$/);
      const r = await raw(s, 'GET', link);
      assert.equal(r.status, 200, link);
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', link);
      assert.match(r.headers.etag, /^W\/"[0-9a-f]{16}"$/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('content types follow the file', async () => {
    const types = {
      '/assets/opencase.css': 'text/css; charset=utf-8',
      '/assets/opencase.mjs': 'text/javascript; charset=utf-8',
      '/assets/govuk-frontend.min.js': 'text/javascript; charset=utf-8',
      '/assets/images/favicon.svg': 'image/svg+xml',
      '/assets/leaflet/leaflet.js': 'text/javascript; charset=utf-8',
      '/assets/leaflet/leaflet.css': 'text/css; charset=utf-8',
      '/assets/leaflet/images/marker-icon.png': 'image/png',
      '/assets/leaflet.markercluster/leaflet.markercluster.js': 'text/javascript; charset=utf-8',
      '/assets/leaflet.markercluster/MarkerCluster.Default.css': 'text/css; charset=utf-8',
    };
    for (const [p, type] of Object.entries(types)) {
      const r = await raw(s, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['content-type'], type, p);
      assert.equal(Number(r.headers['content-length']), r.body.length);
      assert.ok(r.body.length > 0);
    }
    const png = await raw(s, 'GET', '/assets/leaflet/images/marker-icon.png');
    assert.deepEqual([...png.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG, byte for byte');
    const css = (await raw(s, 'GET', '/assets/opencase.css')).body.toString();
    assert.ok(css.includes('.govuk-button') && css.includes('.app-timeline'));
    assert.ok(!css.includes('GDS Transport'), 'the GOV.UK typeface stays on GOV.UK');
  });

  it('an unversioned or stale URL is revalidated by its ETag', async () => {
    const first = await raw(s, 'GET', '/assets/opencase.css');
    assert.equal(first.headers['cache-control'], 'no-cache');
    const stale = await raw(s, 'GET', '/assets/opencase.css?v=0000000000000000');
    assert.equal(stale.status, 200);
    assert.equal(stale.headers['cache-control'], 'no-cache', 'an old version is not cached as though it were current');
    const again = await raw(s, 'GET', '/assets/opencase.css', { 'if-none-match': first.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, first.headers.etag);
    const strong = await raw(s, 'GET', '/assets/opencase.css', { 'if-none-match': first.headers.etag.slice(2) });
    assert.equal(strong.status, 304, 'compared weakly');
    const other = await raw(s, 'GET', '/assets/opencase.css', { 'if-none-match': '"0000000000000000"' });
    assert.equal(other.status, 200);
  });

  it('gzip when the client takes it, the same bytes either way', async () => {
    const plain = await raw(s, 'GET', '/assets/govuk-frontend.min.js');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    const gz = await raw(s, 'GET', '/assets/govuk-frontend.min.js', { 'accept-encoding': 'br, gzip;q=0.8' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < plain.body.length / 2);
    assert.deepEqual(gunzipSync(gz.body), plain.body);
    const refused = await raw(s, 'GET', '/assets/govuk-frontend.min.js', { 'accept-encoding': 'gzip;q=0, br' });
    assert.equal(refused.headers['content-encoding'], undefined);
    const png = await raw(s, 'GET', '/assets/leaflet/images/marker-icon.png', { 'accept-encoding': 'gzip' });
    assert.equal(png.headers['content-encoding'], undefined, 'images are already compressed');
  });

  it('HEAD answers the headers alone', async () => {
    const r = await raw(s, 'HEAD', '/assets/opencase.css');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(r.body.length, 0);
  });

  it('nothing outside the table, however the path is written', async () => {
    const probes = [
      '/assets/../etc/passwd', '/assets/../../../../etc/passwd', '/assets/%2e%2e/%2e%2e/etc/passwd',
      '/assets/%2E%2E%2Fopencase.css', '/assets/..%2f..%2fetc%2fpasswd', '/assets/leaflet/../opencase.css',
      '/assets/./opencase.css', '/assets//opencase.css',
      '/assets/..\\..\\etc\\passwd', '/assets/opencase.css%00.png', '/assets/opencase.css/',
      '/assets/OPENCASE.CSS', '/assets/nothing.css', '/assets/images', '/assets/leaflet/images/',
      '/assets/%252e%252e/etc/passwd', '/assets/a/b/c/d', '/assets/opencase.css.map',
    ];
    for (const p of probes) {
      const r = await raw(s, 'GET', p);
      assert.ok(r.status === 404 || r.status === 400, `${p} -> ${r.status}`);
      assert.ok(!r.body.toString().includes('root:'), p);
      if (r.status === 404) {
        const body = JSON.parse(r.body.toString());
        assert.equal(body.error.code, 'not_found', p);
      }
    }
  });

  it('rejects other methods and unknown parameters', async () => {
    const post = await s.req('POST', '/assets/opencase.css', { body: 'x' });
    expectError(post, 405, 'method_not_allowed');
    assert.match(post.headers.get('allow'), /GET/);
    expectError(await s.req('GET', '/assets/opencase.css?file=../../etc/passwd'), 400, 'invalid_parameter');
  });

  it('pages allow scripts from this server and the template\'s one line only', async () => {
    const r = await fetch(s.url('/track'));
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp));
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });
});
