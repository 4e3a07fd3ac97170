// What `opencase demo` loads besides cases: Wessex Police's appeals for
// witnesses, published on the map of one town (grid points for homes, exact
// ones for public places), a draft and a closed one, each on a demo case of
// the Burglary service, drafted by staff who are their officers; and a
// second run that adds no more of them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, USERS } from './lib/server.mjs';

// Casterbridge, the town the demo's appeals are in, with room to spare.
const TOWN = { minLon: -2.5, minLat: 50.69, maxLon: -2.38, maxLat: 50.74 };

describe('the demo\'s appeals for witnesses', () => {
  let s;
  let officer;
  let staffList;

  before(async () => {
    s = await startServer({ cases: 60 });
    officer = await s.login(USERS.officer);
    const r = await s.req('GET', '/api/v1/appeals?limit=200', { auth: officer });
    assert.equal(r.status, 200, r.text);
    staffList = r.body.appeals;
  });
  after(async () => {
    await s?.close();
  });

  it('publishes appeals across a town, with a draft and a closed one, each on a burglary case', async () => {
    const byStatus = (st) => staffList.filter((a) => a.status === st);
    assert.equal(byStatus('published').length, 6, JSON.stringify(staffList.map((a) => [a.id, a.status])));
    assert.equal(byStatus('draft').length, 1);
    assert.equal(byStatus('closed').length, 1);
    assert.match(byStatus('closed')[0].outcome, /charged/);
    const now = Date.now();
    for (const a of staffList) {
      assert.ok(a.title.length > 10 && a.description.length > 50, a.title);
      assert.ok(Date.parse(a.expires_at) > now, `${a.title} expires in the future`);
      assert.ok(Date.parse(a.occurred_from) < now);
      const { lat, lon } = a.location;
      assert.ok(lat > TOWN.minLat && lat < TOWN.maxLat && lon > TOWN.minLon && lon < TOWN.maxLon, `${a.title} is in the town`);
      const c = await s.req('GET', `/api/v1/cases/${a.case}`, { auth: officer });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.body.case.service, 'burglary');
      if (a.status !== 'draft') {
        assert.ok(c.body.events.some((e) => e.type === 'appeal_published' && e.note.includes(`Appeal ${a.id} `)), a.title);
      }
    }
    // Homes on a grid, public places exactly.
    const precisions = new Set(staffList.map((a) => a.public_location.precision));
    assert.deepEqual([...precisions].sort(), ['exact', 'grid']);
    for (const a of staffList.filter((x) => x.public_location.precision === 'grid')) assert.ok(a.public_location.cell_m >= 250);
    assert.ok(new Set(staffList.map((a) => a.category)).size >= 2, 'more than one category');
    // Drafted by staff, who are their officers unless one has none.
    const me = staffList.filter((a) => a.officer_id !== null);
    assert.ok(me.length >= 6);
    assert.equal(new Set(me.map((a) => a.officer_id)).size, 1, 'one officer, DC Ed Marsh');
    assert.equal(staffList.filter((a) => a.officer_id === null).length, 1);
  });

  it('shows them on the public map and list at /appeals', async () => {
    const bbox = `${TOWN.minLon},${TOWN.minLat},${TOWN.maxLon},${TOWN.maxLat}`;
    const r = await s.req('GET', `/api/v1/public/appeals?org=wessex-police&bbox=${bbox}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.appeals.length, 6);
    const geo = await s.req('GET', `/api/v1/public/appeals.geojson?bbox=${bbox}`);
    assert.equal(JSON.parse(geo.text).features.length, 6);
    const page = await fetch(s.url('/appeals'));
    const html = await page.text();
    assert.equal(page.status, 200);
    for (const a of r.body.appeals) assert.ok(html.includes(`href="/appeals/${a.id}"`), a.title);
    assert.ok(!html.includes(staffList.find((a) => a.status === 'draft').title), 'not the draft');
  });

  it('adds no more appeals when run again', async () => {
    const again = await s.cli(['demo', '--cases', '2']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Wessex Police already has appeals/);
    const r = await s.req('GET', '/api/v1/appeals?limit=200', { auth: officer });
    assert.equal(r.body.appeals.length, staffList.length);
  });
});
