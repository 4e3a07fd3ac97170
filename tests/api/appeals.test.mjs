// Appeals for witnesses: staff drafting, editing, publishing and closing; the
// public search by box and radius (with its edge cases), the GeoJSON feed,
// answers with and without contact details and their receipts, rate limits,
// other organisations, and a scan proving the true location never reaches
// any public response, page or feed. Boxes across the antimeridian are not
// supported (they are refused as inverted), so none is tested as a match.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS } from './lib/server.mjs';

// Distinctive true coordinates that nothing public may ever show, in any
// spelling: the planted appeal's true location is snapped to a 1 km grid.
const TRUE_LAT = 50.7183147;
const TRUE_LON = -1.8746329;
const TRUE_TEXTS = ['50.7183147', '-1.8746329', '507183147', '-18746329', '50.718314', '-1.874632'];

const DAY = 86400 * 1000;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function appealBody(caseRef, extra = {}) {
  return {
    case: caseRef,
    title: 'Witnesses sought after a burglary',
    description: 'A house was broken into between 10pm and midnight.\nDid you see anything?',
    category: 'burglary',
    occurred_from: iso(Date.now() - 3 * DAY),
    occurred_to: iso(Date.now() - 3 * DAY + 2 * 3600 * 1000),
    contact: 'Call 101 quoting reference 55/1234',
    anonymous_contact: 'Crimestoppers, 0800 555 111',
    expires_at: iso(Date.now() + 30 * DAY),
    location: { lat: 51.5, lon: -0.12 },
    public_location: { precision: 'exact' },
    ...extra,
  };
}

describe('appeals for witnesses', () => {
  let s;
  let admin; // Northshire administrator
  let caseworker; // Northshire caseworker
  let analyst; // Northshire analyst
  let officer; // Wessex caseworker
  let nsCase; // a Northshire case reference
  let wxCase; // a Wessex case reference
  let planted; // the appeal whose true location is planted
  const publicTexts = [];

  // Everything public is kept, to be scanned for the true location.
  const pub = async (method, p, opts = {}) => {
    const r = await s.req(method, p, opts);
    // The response alone: some requests carry the true point as a query.
    publicTexts.push(r.text);
    return r;
  };
  const page = async (p) => {
    const r = await fetch(s.url(p));
    const text = await r.text();
    publicTexts.push(text);
    return { status: r.status, text, headers: r.headers };
  };

  async function createAppeal(auth, body, status = 201) {
    const r = await s.req('POST', '/api/v1/appeals', { auth, json: body });
    assert.equal(r.status, status, r.text);
    return r.body?.appeal;
  }
  async function publish(auth, id) {
    const r = await s.req('POST', `/api/v1/appeals/${id}/publish`, { auth });
    assert.equal(r.status, 200, r.text);
    return r.body.appeal;
  }
  async function publishedAt(auth, caseRef, lat, lon, extra = {}) {
    const a = await createAppeal(auth, appealBody(caseRef, { location: { lat, lon }, ...extra }));
    return publish(auth, a.id);
  }
  const search = (q) => pub('GET', `/api/v1/public/appeals?${q}`);
  const ids = (r) => r.body.appeals.map((a) => a.id);

  before(async () => {
    s = await startServer({ cases: 12 });
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    analyst = await s.login(USERS.analyst);
    officer = await s.login(USERS.officer);
    const ns = await s.req('GET', '/api/v1/cases?limit=1', { auth: caseworker });
    nsCase = ns.body.cases[0].reference;
    const wx = await s.req('GET', '/api/v1/cases?limit=1', { auth: officer });
    wxCase = wx.body.cases[0].reference;
  });
  after(async () => {
    await s?.close();
  });

  describe('staff', () => {
    it('creates a draft that the public cannot see', async () => {
      const a = await createAppeal(caseworker, appealBody(nsCase));
      assert.equal(a.status, 'draft');
      assert.equal(a.case, nsCase);
      assert.deepEqual(a.location, { lat: 51.5, lon: -0.12 });
      assert.deepEqual(a.public_location, { lat: 51.5, lon: -0.12, precision: 'exact', cell_m: null });
      assert.equal(a.published_at, null);
      assert.equal(a.answers, 0);
      expectError(await pub('GET', `/api/v1/public/appeals/${a.id}`), 404, 'not_found');
      const list = await search('bbox=-1,51,1,52');
      assert.ok(!ids(list).includes(a.id));
      const answer = await pub('POST', `/api/v1/public/appeals/${a.id}/answers`, { json: { saw: 'x', anonymous: true } });
      expectError(answer, 404, 'not_found');
    });

    it('edits a draft, publishes it as an event on the case, and then refuses edits', async () => {
      const a = await createAppeal(caseworker, appealBody(nsCase));
      const edited = await s.req('PUT', `/api/v1/appeals/${a.id}`, {
        auth: caseworker,
        json: { ...appealBody(nsCase, { title: 'A better title' }), case: undefined },
      });
      assert.equal(edited.status, 200, edited.text);
      assert.equal(edited.body.appeal.title, 'A better title');
      const p = await publish(caseworker, a.id);
      assert.equal(p.status, 'published');
      assert.ok(p.published_at);
      const again = await s.req('POST', `/api/v1/appeals/${a.id}/publish`, { auth: caseworker });
      expectError(again, 409, 'conflict');
      const late = await s.req('PUT', `/api/v1/appeals/${a.id}`, { auth: caseworker, json: { ...appealBody(nsCase), case: undefined } });
      expectError(late, 409, 'conflict');
      const c = await s.req('GET', `/api/v1/cases/${nsCase}`, { auth: caseworker });
      const ev = c.body.events.find((e) => e.type === 'appeal_published' && e.note.includes(`Appeal ${a.id} `));
      assert.ok(ev, JSON.stringify(c.body.events.map((e) => e.type)));
      assert.equal(ev.public, false);
    });

    it('closes with a public outcome, recorded on the case', async () => {
      const a = await publishedAt(caseworker, nsCase, 51.6, -0.2);
      const noOutcome = await s.req('POST', `/api/v1/appeals/${a.id}/close`, { auth: caseworker, json: {} });
      expectError(noOutcome, 400, 'missing_field', 'outcome');
      const r = await s.req('POST', `/api/v1/appeals/${a.id}/close`, { auth: caseworker, json: { outcome: 'A man has been charged. Thank you.' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.appeal.status, 'closed');
      const shown = await pub('GET', `/api/v1/public/appeals/${a.id}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.appeal.outcome, 'A man has been charged. Thank you.');
      assert.equal(shown.body.taking_answers, false);
      const list = await search('bbox=-1,51,1,52');
      assert.ok(!ids(list).includes(a.id), 'closed appeals leave the map');
      const c = await s.req('GET', `/api/v1/cases/${nsCase}`, { auth: caseworker });
      assert.ok(c.body.events.some((e) => e.type === 'appeal_closed' && e.note.includes('charged')));
      expectError(await s.req('POST', `/api/v1/appeals/${a.id}/close`, { auth: caseworker, json: { outcome: 'again' } }), 409, 'conflict');
      const answer = await pub('POST', `/api/v1/public/appeals/${a.id}/answers`, { json: { saw: 'late', anonymous: true } });
      expectError(answer, 409, 'conflict');
    });

    it('lists the organisation\'s own appeals, drafts included, with paging', async () => {
      for (let i = 0; i < 3; i++) await createAppeal(caseworker, appealBody(nsCase, { title: `Paged ${i}` }));
      const seen = new Set();
      let cursor = null;
      let pages = 0;
      do {
        const r = await s.req('GET', `/api/v1/appeals?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { auth: analyst });
        assert.equal(r.status, 200, r.text);
        for (const a of r.body.appeals) {
          assert.ok(!seen.has(a.id), 'no appeal twice');
          seen.add(a.id);
        }
        cursor = r.body.next_cursor;
        pages++;
      } while (cursor && pages < 50);
      assert.ok(seen.size >= 5);
      const drafts = await s.req('GET', '/api/v1/appeals?status=draft', { auth: caseworker });
      assert.ok(drafts.body.appeals.every((a) => a.status === 'draft'));
      expectError(await s.req('GET', '/api/v1/appeals?status=open', { auth: caseworker }), 400, 'invalid_parameter', 'status');
      const wx = await s.req('GET', '/api/v1/appeals', { auth: officer });
      assert.ok(wx.body.appeals.every((a) => !seen.has(a.id)), 'another organisation sees none of them');
    });

    it('keeps other organisations and the wrong roles out', async () => {
      const a = await createAppeal(caseworker, appealBody(nsCase));
      expectError(await s.req('GET', `/api/v1/appeals/${a.id}`, { auth: officer }), 404, 'not_found');
      expectError(await s.req('PUT', `/api/v1/appeals/${a.id}`, { auth: officer, json: { ...appealBody(nsCase), case: undefined } }), 404, 'not_found');
      expectError(await s.req('POST', `/api/v1/appeals/${a.id}/publish`, { auth: officer }), 404, 'not_found');
      expectError(await s.req('GET', `/api/v1/appeals/${a.id}/answers`, { auth: officer }), 404, 'not_found');
      // An appeal cannot be linked to another organisation's case.
      expectError(await s.req('POST', '/api/v1/appeals', { auth: officer, json: appealBody(nsCase) }), 400, 'invalid_field', 'case');
      expectError(await s.req('POST', '/api/v1/appeals', { auth: analyst, json: appealBody(nsCase) }), 403, 'forbidden');
      expectError(await s.req('POST', `/api/v1/appeals/${a.id}/publish`, { auth: analyst }), 403, 'forbidden');
      expectError(await s.req('GET', `/api/v1/appeals/${a.id}/answers`, { auth: analyst }), 403, 'forbidden');
      expectError(await s.req('GET', '/api/v1/appeals'), 401, 'unauthorized');
      const still = await s.req('GET', `/api/v1/appeals/${a.id}`, { auth: caseworker });
      assert.equal(still.body.appeal.status, 'draft');
    });

    it('rejects bad drafts with a clear 400', async () => {
      const bad = [
        [{ category: 'jaywalking' }, 'category'],
        [{ location: { lat: 91, lon: 0 } }, 'location.lat'],
        [{ location: { lat: 0, lon: '1' } }, 'location.lon'],
        [{ location: undefined }, 'location'],
        [{ public_location: { precision: 'fuzzy' } }, 'public_location.precision'],
        [{ public_location: { precision: 'grid' } }, 'public_location.cell_m'],
        [{ public_location: { precision: 'grid', cell_m: 10 } }, 'public_location.cell_m'],
        [{ public_location: { precision: 'exact', cell_m: 500 } }, 'public_location.cell_m'],
        [{ occurred_to: iso(Date.now() - 10 * DAY) }, 'occurred_to'],
        [{ expires_at: 'next week' }, 'expires_at'],
        [{ title: '' }, 'title'],
        [{ title: 'x'.repeat(201) }, 'title'],
        [{ case: 'NOT-A-REF' }, 'reference'],
        [{ colour: 'red' }, 'colour'],
      ];
      for (const [extra, field] of bad) {
        const r = await s.req('POST', '/api/v1/appeals', { auth: caseworker, json: appealBody(nsCase, extra) });
        assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${r.text}`);
        assert.equal(r.body.error.field, field, JSON.stringify(extra));
      }
      // An expiry already past cannot be published.
      const a = await createAppeal(caseworker, appealBody(nsCase, { expires_at: iso(Date.now() - DAY) }));
      expectError(await s.req('POST', `/api/v1/appeals/${a.id}/publish`, { auth: caseworker }), 409, 'conflict');
    });
  });

  describe('public search', () => {
    let inside; // near Bournemouth
    let edge; // exactly on a box's edge
    let north; // near the North Pole
    let wessex; // another organisation's, another category
    before(async () => {
      inside = await publishedAt(caseworker, nsCase, 50.72, -1.88);
      edge = await publishedAt(caseworker, nsCase, 50.8, -1.7);
      north = await publishedAt(caseworker, nsCase, 89.9, 45);
      wessex = await publishedAt(officer, wxCase, 50.73, -1.87, { category: 'robbery' });
      planted = await createAppeal(caseworker, appealBody(nsCase, {
        location: { lat: TRUE_LAT, lon: TRUE_LON },
        public_location: { precision: 'grid', cell_m: 1000 },
        title: 'Planted appeal',
      }));
      planted = await publish(caseworker, planted.id);
    });

    it('finds published appeals in a box, newest first, with their public fields', async () => {
      const r = await search('bbox=-2,50.5,-1.5,51');
      assert.equal(r.status, 200, r.text);
      const got = ids(r);
      for (const a of [inside, edge, wessex, planted]) assert.ok(got.includes(a.id), `${a.id} in ${got}`);
      assert.ok(!got.includes(north.id));
      const times = r.body.appeals.map((a) => `${a.published_at}.${String(a.id).padStart(9, '0')}`);
      assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
      const a = r.body.appeals.find((x) => x.id === inside.id);
      assert.deepEqual(a.organisation, { slug: 'northshire', name: 'Northshire Council' });
      assert.deepEqual(a.location, { lat: 50.72, lon: -1.88, precision: 'exact', cell_m: null });
      assert.equal(a.url, `/appeals/${inside.id}`);
      assert.ok(!('case' in a) && !('public_location' in a) && !('answers' in a));
      assert.match(r.headers.get('cache-control') || '', /max-age=\d+/);
    });

    it('includes points on the edges, and a box of zero size finds a point exactly on it', async () => {
      assert.ok(ids(await search('bbox=-1.7,50.8,-1.6,50.9')).includes(edge.id), 'west and south edges');
      assert.ok(ids(await search('bbox=-1.8,50.7,-1.7,50.8')).includes(edge.id), 'east and north edges');
      assert.deepEqual(ids(await search('bbox=-1.7,50.8,-1.7,50.8')).filter((id) => id === edge.id), [edge.id]);
      assert.ok(!ids(await search('bbox=-1.6999999,50.8,-1.6,50.9')).includes(edge.id), 'one unit away is outside');
    });

    it('searches near the poles and the whole world', async () => {
      assert.ok(ids(await search('bbox=0,89,90,90')).includes(north.id));
      assert.ok(ids(await search('near=90,0&radius=20000')).includes(north.id), 'a circle around the pole');
      assert.ok(!ids(await search('near=90,0&radius=1000')).includes(north.id));
      assert.ok(ids(await search('bbox=-180,-90,180,90&limit=200')).includes(north.id));
    });

    it('filters by distance exactly, not by the circle\'s box', async () => {
      // inside is at 50.72,-1.88; 0.01 degree of latitude is about 1112 m.
      assert.ok(ids(await search('near=50.73,-1.88&radius=1200')).includes(inside.id));
      assert.ok(!ids(await search('near=50.73,-1.88&radius=1000')).includes(inside.id));
      // Diagonally: inside the circle's box but outside the circle.
      const diag = await search('near=50.727,-1.89&radius=1000');
      const d = Math.hypot((50.727 - 50.72) * 111195, (-1.89 + 1.88) * 111195 * Math.cos(50.72 * Math.PI / 180));
      assert.ok(d > 1000, `the probe is ${d} m away`);
      assert.ok(!ids(diag).includes(inside.id));
    });

    it('filters by organisation, category and date, and pages with a cursor', async () => {
      const byOrg = await search('bbox=-2,50.5,-1.5,51&org=wessex-police');
      assert.deepEqual(ids(byOrg), [wessex.id]);
      const byCat = await search('bbox=-2,50.5,-1.5,51&category=robbery');
      assert.deepEqual(ids(byCat), [wessex.id]);
      const today = new Date().toISOString().slice(0, 10);
      assert.ok(ids(await search(`since=${today}`)).includes(inside.id));
      assert.ok(!ids(await search(`until=2020-01-01`)).includes(inside.id));
      assert.ok(ids(await search(`until=${today}`)).includes(inside.id), 'until includes its whole day');
      const seen = [];
      let cursor = null;
      do {
        const r = await search(`bbox=-2,50.5,-1.5,51&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.status, 200, r.text);
        assert.ok(r.body.appeals.length <= 1);
        seen.push(...ids(r));
        cursor = r.body.next_cursor;
      } while (cursor && seen.length < 50);
      assert.equal(new Set(seen).size, seen.length);
      assert.deepEqual(seen.sort(), ids(await search('bbox=-2,50.5,-1.5,51')).sort());
    });

    it('answers bad coordinates, inverted boxes and absurd radii with 400', async () => {
      const bad = [
        ['bbox=1,2,3', 'bbox', /minLon,minLat,maxLon,maxLat/],
        ['bbox=a,b,c,d', 'bbox', /decimal degrees/],
        ['bbox=1e1,0,20,1', 'bbox', /decimal degrees/],
        ['bbox=0,0,NaN,1', 'bbox', /decimal degrees/],
        ['bbox=2,0,1,1', 'bbox', /inverted.*antimeridian/],
        ['bbox=170,0,-170,1', 'bbox', /inverted/],
        ['bbox=0,2,1,1', 'bbox', /inverted/],
        ['bbox=0,-91,1,1', 'bbox', /latitude/],
        ['bbox=-181,0,1,1', 'bbox', /longitude/],
        ['bbox=0,0,1,1&near=0,0&radius=5', 'near', /either/],
        ['near=91,0&radius=5', 'near', /latitude/],
        ['near=0,181&radius=5', 'near', /longitude/],
        ['near=0&radius=5', 'near', /lat,lon/],
        ['near=0,0', 'radius', /metres/],
        ['near=0,0&radius=0', 'radius', /metres/],
        ['near=0,0&radius=100001', 'radius', /100000/],
        ['near=0,0&radius=1e9', 'radius', /metres/],
        ['near=0,0&radius=-5', 'radius', /metres/],
        ['radius=5', 'near', /near/],
        ['org=nobody', 'org', /organisation/],
        ['category=jaywalking', 'category', /category/],
        ['since=yesterday', 'since', /date/],
        ['since=2026-02-01&until=2026-01-01', 'until', /after/],
        ['limit=0', 'limit', /limit/],
        ['limit=5000', 'limit', /limit/],
        ['cursor=zzz', 'cursor', /cursor/],
        ['colour=red', 'colour', /unknown/],
      ];
      for (const [q, field, message] of bad) {
        for (const base of ['/api/v1/public/appeals', '/api/v1/public/appeals.geojson']) {
          const r = await pub('GET', `${base}?${q}`);
          expectError(r, 400, 'invalid_parameter', field);
          assert.match(r.body.error.message, message, q);
        }
      }
    });

    it('serves the same query as an RFC 7946 FeatureCollection', async () => {
      const r = await pub('GET', '/api/v1/public/appeals.geojson?bbox=-2,50.5,-1.5,51');
      assert.equal(r.status, 200, r.text);
      assert.match(r.contentType, /^application\/geo\+json/);
      const body = JSON.parse(r.text);
      assert.equal(body.type, 'FeatureCollection');
      assert.ok(Array.isArray(body.features));
      const list = await search('bbox=-2,50.5,-1.5,51');
      assert.deepEqual(body.features.map((f) => f.id), ids(list));
      for (const f of body.features) {
        assert.equal(f.type, 'Feature');
        assert.equal(f.geometry.type, 'Point');
        assert.equal(f.geometry.coordinates.length, 2);
        const [lon, lat] = f.geometry.coordinates;
        assert.ok(lon >= -2 && lon <= -1.5 && lat >= 50.5 && lat <= 51, 'longitude first');
        assert.deepEqual(Object.keys(f.properties).sort(), ['category', 'id', 'organisation', 'published_at', 'title', 'url']);
        assert.equal(f.properties.id, f.id);
        assert.equal(f.properties.url, `/appeals/${f.id}`);
      }
      const f = body.features.find((x) => x.id === inside.id);
      assert.deepEqual(f.geometry.coordinates, [-1.88, 50.72]);
      assert.equal(f.properties.organisation, 'Northshire Council');
    });

    it('shows a grid appeal at its cell\'s centre, never at its true location', async () => {
      const shown = await pub('GET', `/api/v1/public/appeals/${planted.id}`);
      assert.equal(shown.status, 200);
      const loc = shown.body.appeal.location;
      assert.equal(loc.precision, 'grid');
      assert.equal(loc.cell_m, 1000);
      const d = Math.hypot((loc.lat - TRUE_LAT) * 111195, (loc.lon - TRUE_LON) * 111195 * Math.cos(TRUE_LAT * Math.PI / 180));
      assert.ok(d > 1 && d < 1300, `${d} m from the true location`);
      const staff = await s.req('GET', `/api/v1/appeals/${planted.id}`, { auth: caseworker });
      assert.deepEqual(staff.body.appeal.location, { lat: TRUE_LAT, lon: TRUE_LON });
      // The true point itself, searched for closely, finds the appeal only
      // through its public point.
      const near = await search(`near=${TRUE_LAT},${TRUE_LON}&radius=5`);
      assert.ok(!ids(near).includes(planted.id));
    });
  });

  describe('answers', () => {
    let appeal;
    before(async () => {
      appeal = await publishedAt(caseworker, nsCase, 51.45, -0.3);
    });
    const answer = (id, json) => pub('POST', `/api/v1/public/appeals/${id}/answers`, { json });

    it('takes an anonymous answer: a receipt, no secret, an event on the case', async () => {
      const r = await answer(appeal.id, { saw: 'A white van <b>parked</b> outside', when: 'About 11pm', location: { lat: 51.4501, lon: -0.3002 }, anonymous: true });
      assert.equal(r.status, 201, r.text);
      assert.match(r.body.receipt, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]$/);
      assert.equal(r.body.receipt_secret, null);
      const c = await s.req('GET', `/api/v1/cases/${nsCase}`, { auth: caseworker });
      const ev = c.body.events.find((e) => e.type === 'appeal_answer' && e.note.includes(r.body.receipt));
      assert.ok(ev);
      assert.equal(ev.public, false);
      assert.match(ev.note, /anonymous/);
      // Anonymous receipts cannot be looked up, not even with a made-up secret.
      const look = await pub('GET', `/api/v1/public/receipts/${r.body.receipt}`, { headers: { 'x-receipt-secret': 'AAAAA-BBBBB-CCCCC-DDDDD' } });
      expectError(look, 404, 'not_found');
    });

    it('takes a named answer and shows its answerer when staff read it', async () => {
      const name = `Witness ${Date.now()}`;
      const r = await answer(appeal.id, { saw: 'Two people running', anonymous: false, contact: { name, email: 'Witness@Example.org', phone: '07700 900123', preferred: 'phone' } });
      assert.equal(r.status, 201, r.text);
      assert.ok(r.body.receipt_secret);
      const receipt = (secret) => pub('GET', `/api/v1/public/receipts/${r.body.receipt}`, { headers: secret ? { 'x-receipt-secret': secret } : {} });
      const before = await receipt(r.body.receipt_secret);
      assert.equal(before.status, 200, before.text);
      assert.equal(before.body.received, false);
      assert.equal(before.body.received_at, null);
      assert.deepEqual(before.body.reads, []);
      assert.deepEqual(before.body.appeal, { id: appeal.id, title: appeal.title });
      expectError(await receipt('WRONG-SECRET'), 404, 'not_found');
      expectError(await receipt(null), 404, 'not_found');
      expectError(await pub('GET', '/api/v1/public/receipts/NOT-A-REF'), 400, 'invalid_reference');

      const staff = await s.req('GET', `/api/v1/appeals/${appeal.id}/answers`, { auth: caseworker, headers: { 'x-access-purpose': 'Following up witnesses' } });
      assert.equal(staff.status, 200, staff.text);
      const mine = staff.body.answers.find((x) => x.receipt === r.body.receipt);
      assert.deepEqual(mine.contact, { name, email: 'witness@example.org', phone: '07700 900123', preferred: 'phone' });
      assert.equal(mine.anonymous, false);
      assert.ok(mine.first_read_at);
      const anon = staff.body.answers.find((x) => x.anonymous);
      assert.equal(anon.contact, null);
      assert.equal(anon.saw, 'A white van <b>parked</b> outside', 'stored as plain text, escaped only on output');
      assert.deepEqual(anon.location, { lat: 51.4501, lon: -0.3002 });

      const after = await receipt(r.body.receipt_secret);
      assert.equal(after.body.received, true);
      assert.ok(after.body.received_at);
      assert.equal(after.body.reads.length, 1);
      assert.deepEqual(after.body.reads[0].organisation, 'Northshire Council');
      assert.equal(after.body.reads[0].role, 'caseworker');
      assert.equal(after.body.reads[0].purpose, 'Following up witnesses');
      const detail = await s.req('GET', `/api/v1/appeals/${appeal.id}`, { auth: caseworker });
      assert.ok(detail.body.appeal.answers >= 2);
    });

    it('refuses bad answers with a clear 400', async () => {
      const bad = [
        [{ anonymous: true }, 'saw'],
        [{ saw: '', anonymous: true }, 'saw'],
        [{ saw: 'x'.repeat(5001), anonymous: true }, 'saw'],
        [{ saw: 'bell\u0007', anonymous: true }, 'saw'],
        [{ saw: 'x' }, 'anonymous'],
        [{ saw: 'x', anonymous: 'no' }, 'anonymous'],
        [{ saw: 'x', anonymous: false }, 'contact'],
        [{ saw: 'x', anonymous: true, contact: { email: 'a@b.org', preferred: 'email' } }, 'contact'],
        [{ saw: 'x', anonymous: false, contact: { email: 'a@b.org' } }, 'contact.preferred'],
        [{ saw: 'x', anonymous: false, contact: { email: 'a@b.org', preferred: 'pigeon' } }, 'contact.preferred'],
        [{ saw: 'x', anonymous: false, contact: { email: 'not an email', preferred: 'email' } }, 'contact.email'],
        [{ saw: 'x', anonymous: false, contact: { phone: '0123', preferred: 'email' } }, 'contact.email'],
        [{ saw: 'x', anonymous: false, contact: { phone: 'call me', preferred: 'phone' } }, 'contact.phone'],
        [{ saw: 'x', anonymous: true, location: { lat: 100, lon: 0 } }, 'location.lat'],
        [{ saw: 'x', anonymous: true, extra: 1 }, 'extra'],
      ];
      for (const [json, field] of bad) {
        const r = await answer(appeal.id, json);
        assert.equal(r.status, 400, `${JSON.stringify(json).slice(0, 80)}: ${r.text}`);
        assert.equal(r.body.error.field, field, JSON.stringify(json).slice(0, 80));
      }
      expectError(await answer(999999, { saw: 'x', anonymous: true }), 404, 'not_found');
      expectError(await answer('abc', { saw: 'x', anonymous: true }), 400, 'invalid_parameter', 'id');
      const text = await pub('POST', `/api/v1/public/appeals/${appeal.id}/answers`, { body: 'saw=x', contentType: 'application/x-www-form-urlencoded' });
      expectError(text, 415, 'unsupported_media_type');
    });
  });

  describe('pages, without JavaScript', () => {
    let appeal;
    before(async () => {
      appeal = await publishedAt(caseworker, nsCase, 52.2, -1.5, { title: 'Pages & <things> appeal' });
    });
    const form = (p, fields, cookie) => fetch(s.url(p), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields),
    }).then(async (r) => {
      const text = await r.text();
      publicTexts.push(text);
      return { status: r.status, text };
    });
    // The appeal's page: its form token and the form cookie it is bound to.
    async function openForm(id) {
      const r = await fetch(s.url(`/appeals/${id}`));
      const text = await r.text();
      publicTexts.push(text);
      assert.equal(r.status, 200, text.slice(0, 300));
      const cookie = /^(opencase_form=[^;]+)/.exec(r.headers.get('set-cookie') || '');
      assert.ok(cookie, 'the page sets the form cookie');
      assert.match(r.headers.get('set-cookie'), /HttpOnly/);
      assert.match(r.headers.get('set-cookie'), /SameSite=Strict/);
      const token = /name="form_token" value="([0-9a-f]{64})"/.exec(text);
      assert.ok(token, 'the form carries a token');
      return { cookie: cookie[1], token: token[1], text };
    }

    it('lists published appeals with filters and pages, escaped', async () => {
      const r = await page('/appeals?bbox=-1.6,52.1,-1.4,52.3');
      assert.equal(r.status, 200, r.text.slice(0, 300));
      assert.match(r.headers.get('content-type'), /^text\/html/);
      assert.ok(r.text.includes(`href="/appeals/${appeal.id}"`));
      assert.ok(r.text.includes('Pages &amp; &lt;things&gt; appeal'));
      assert.ok(!r.text.includes('<things>'));
      assert.match(r.text, /<select[^>]+name="category"/);
      assert.match(r.text, /data-geojson="\/api\/v1\/public\/appeals.geojson\?bbox=-1.6,52.1,-1.4,52.3"/);
      const none = await page('/appeals?bbox=-1.6,52.1,-1.4,52.3&category=robbery');
      assert.ok(!none.text.includes(`href="/appeals/${appeal.id}"`));
      assert.match(none.text, /no open appeals/);
      const paged = await page('/appeals?limit=1');
      assert.match(paged.text, /rel="next" href="\/appeals\?limit=1&amp;cursor=\d+\.\d+"/);
      const bad = await page('/appeals?bbox=2,0,1,1');
      assert.equal(bad.status, 400);
      assert.match(bad.text, /govuk-error-summary/);
      assert.match(bad.text, /inverted/);
    });

    it('shows an appeal, and nothing for a draft', async () => {
      const r = await page(`/appeals/${appeal.id}`);
      assert.equal(r.status, 200);
      assert.match(r.text, /<h1[^>]*>Pages &amp; &lt;things&gt; appeal<\/h1>/);
      assert.match(r.text, /Northshire Council/);
      assert.match(r.text, /Crimestoppers/);
      const draft = await createAppeal(caseworker, appealBody(nsCase));
      assert.equal((await page(`/appeals/${draft.id}`)).status, 404);
      assert.equal((await page('/appeals/nothing')).status, 404);
    });

    it('refuses an answer without the form cookie or with the wrong token', async () => {
      const { cookie, token } = await openForm(appeal.id);
      const fields = { form_token: token, saw: 'Forged', anonymous: 'yes' };
      assert.equal((await form(`/appeals/${appeal.id}`, fields)).status, 403);
      assert.equal((await form(`/appeals/${appeal.id}`, { ...fields, form_token: '0'.repeat(64) }, cookie)).status, 403);
      const other = await openForm(appeal.id);
      assert.equal((await form(`/appeals/${appeal.id}`, { ...fields, form_token: other.token }, cookie)).status, 403,
        'a token from another browser does not fit this cookie');
      const list = await s.req('GET', `/api/v1/appeals/${appeal.id}/answers`, { auth: caseworker });
      assert.ok(list.body.answers.every((a) => a.saw !== 'Forged'));
    });

    it('answers anonymously and by name, and shows mistakes again, escaped', async () => {
      const { cookie, token } = await openForm(appeal.id);
      const wrong = await form(`/appeals/${appeal.id}`, { form_token: token, saw: '', when: '<script>alert(1)</script>', anonymous: 'yes' }, cookie);
      assert.equal(wrong.status, 400);
      assert.match(wrong.text, /govuk-error-summary/);
      assert.match(wrong.text, /href="#saw"/);
      assert.ok(wrong.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(!wrong.text.includes('<script>alert(1)'));

      const anon = await form(`/appeals/${appeal.id}`, { form_token: token, saw: 'A red car', anonymous: 'yes' }, cookie);
      assert.equal(anon.status, 201, anon.text.slice(0, 500));
      assert.match(anon.text, /Your answer has been sent/);
      assert.match(anon.text, /id="receipt">[0-9A-Z]{4}-[0-9A-Z]{4}-.</);
      assert.ok(!/id="secret"/.test(anon.text));

      const named = await form(`/appeals/${appeal.id}`, {
        form_token: token, saw: 'Two people', when: 'Friday night', lat: '52.2001', lon: '-1.5002',
        anonymous: 'no', name: 'Page Witness', email: 'page@example.org', preferred: 'email',
      }, cookie);
      assert.equal(named.status, 201, named.text.slice(0, 500));
      const receipt = /id="receipt">([^<]+)</.exec(named.text)[1];
      const secret = /id="secret"[^>]*>([^<]+)</.exec(named.text)[1];

      const before = await form('/appeals/receipt', { receipt, secret });
      assert.equal(before.status, 200, before.text.slice(0, 300));
      assert.match(before.text, /has not read it yet/);
      const read = await s.req('GET', `/api/v1/appeals/${appeal.id}/answers`, { auth: caseworker, headers: { 'x-access-purpose': 'Calling witnesses back' } });
      const mine = read.body.answers.find((a) => a.receipt === receipt);
      assert.deepEqual(mine.location, { lat: 52.2001, lon: -1.5002 });
      assert.equal(mine.contact.name, 'Page Witness');
      const after = await form('/appeals/receipt', { receipt, secret });
      assert.match(after.text, /Received by the investigating team/);
      assert.match(after.text, /Calling witnesses back/);
      assert.equal((await form('/appeals/receipt', { receipt, secret: 'WRONG' })).status, 404);
      assert.equal((await form('/appeals/receipt', { receipt: 'nonsense!', secret })).status, 400);
      assert.equal((await page('/appeals/receipt')).status, 200);

      const noChoice = await form(`/appeals/${appeal.id}`, { form_token: token, saw: 'x' }, cookie);
      assert.equal(noChoice.status, 400);
      assert.match(noChoice.text, /stay anonymous/);
      const badPlace = await form(`/appeals/${appeal.id}`, { form_token: token, saw: 'x', anonymous: 'yes', lat: '95', lon: '0' }, cookie);
      assert.equal(badPlace.status, 400);
      assert.match(badPlace.text, /latitude/);
    });
  });

  it('never shows the true location in any public response, page or feed', async () => {
    assert.ok(planted, 'the planted appeal exists');
    // Every public way to reach the planted appeal, once more.
    await pub('GET', `/api/v1/public/appeals/${planted.id}`);
    await pub('GET', '/api/v1/public/appeals?bbox=-180,-90,180,90&limit=200');
    await pub('GET', '/api/v1/public/appeals.geojson?bbox=-180,-90,180,90');
    await pub('GET', `/api/v1/public/appeals?near=${TRUE_LAT},${TRUE_LON}&radius=100000`);
    await pub('GET', `/api/v1/public/appeals.geojson?near=${TRUE_LAT},${TRUE_LON}&radius=2000`);
    await pub('GET', '/api/v1/public/appeals?org=northshire&category=burglary&limit=200');
    for (const p of ['/appeals?limit=200', `/appeals/${planted.id}`, '/appeals?bbox=-2,50.5,-1.5,51',
      // Pages echo their query in the filters, so the point asked near is
      // not the planted one itself.
      '/appeals?near=50.718,-1.875&radius=3000']) {
      const r = await page(p);
      assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 200)}`);
    }
    const all = publicTexts.join('\n');
    assert.ok(all.includes(`"id":${planted.id}`), 'the scan saw the planted appeal');
    for (const t of TRUE_TEXTS) assert.ok(!all.includes(t), `the true location (${t}) leaked`);
    // The staff view does carry it, so the scan would have found it there.
    const staff = await s.req('GET', `/api/v1/appeals/${planted.id}`, { auth: caseworker });
    assert.ok(staff.text.includes(TRUE_TEXTS[0]));
  });
});

describe('appeal answers are rate limited per client address', () => {
  let s;
  before(async () => {
    s = await startServer({ cases: 4 });
  });
  after(async () => {
    await s?.close();
  });

  it('allows ten answers an hour, then 429 with Retry-After', async () => {
    const caseworker = await s.login(USERS.caseworker);
    const cases = await s.req('GET', '/api/v1/cases?limit=1', { auth: caseworker });
    const created = await s.req('POST', '/api/v1/appeals', { auth: caseworker, json: appealBody(cases.body.cases[0].reference) });
    assert.equal(created.status, 201, created.text);
    const id = created.body.appeal.id;
    assert.equal((await s.req('POST', `/api/v1/appeals/${id}/publish`, { auth: caseworker })).status, 200);
    for (let i = 0; i < 10; i++) {
      const r = await s.req('POST', `/api/v1/public/appeals/${id}/answers`, { json: { saw: `answer ${i}`, anonymous: true } });
      assert.equal(r.status, 201, `answer ${i}: ${r.text}`);
    }
    const r = await s.req('POST', `/api/v1/public/appeals/${id}/answers`, { json: { saw: 'one too many', anonymous: true } });
    expectError(r, 429, 'rate_limited');
    assert.match(r.headers.get('retry-after') || '', /^[1-9][0-9]*$/);
    const list = await s.req('GET', `/api/v1/appeals/${id}/answers?limit=200`, { auth: caseworker });
    assert.equal(list.body.answers.length, 10, 'the limited answer was not recorded');
  });
});
