// The appeal pages in a real browser: the list without JavaScript (filters
// and pages), the map with its markers and clusters with JavaScript, an
// answer sent end to end and its receipt read back once staff have read it,
// and an accessibility scan of every appeal page. Map tiles come from a tile
// server of the test's own on 127.0.0.1; any request elsewhere fails the test.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, USERS } from '../api/lib/server.mjs';
import { launchBrowser, openPage, expectAccessible, expectNoProblems } from './lib/browser.mjs';

// A 1x1 transparent PNG, the tile for every place.
const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const DAY = 86400 * 1000;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function startTiles() {
  return new Promise((resolve) => {
    const served = [];
    const srv = http.createServer((req, res) => {
      served.push(req.url);
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
      res.end(TILE);
    });
    srv.listen(0, '127.0.0.1', () => resolve({ srv, served, port: srv.address().port }));
  });
}

describe('appeal pages in a browser', () => {
  let s;
  let browser;
  let tiles;
  let caseworker;
  let town; // one of the appeals clustered in a town
  let grid; // an appeal shown on a 500 m grid
  let demo; // how many of the demo's appeals are published
  const TITLES = [];

  async function publish(body) {
    const r = await s.req('POST', '/api/v1/appeals', { auth: caseworker, json: body });
    assert.equal(r.status, 201, r.text);
    const p = await s.req('POST', `/api/v1/appeals/${r.body.appeal.id}/publish`, { auth: caseworker });
    assert.equal(p.status, 200, p.text);
    return p.body.appeal;
  }

  before(async () => {
    tiles = await startTiles();
    s = await startServer({
      cases: 6,
      env: {
        OPENCASE_MAP_TILES: `http://127.0.0.1:${tiles.port}/{z}/{x}/{y}.png`,
        OPENCASE_MAP_ATTRIBUTION: 'Test tiles <b>not bold</b>',
      },
    });
    browser = await launchBrowser();
    caseworker = await s.login(USERS.caseworker);
    // The demo's own published appeals are on the map too, far from these.
    demo = (await s.req('GET', '/api/v1/public/appeals?org=wessex-police&limit=200')).body.appeals.length;
    const cases = await s.req('GET', '/api/v1/cases?limit=1', { auth: caseworker });
    const ref = cases.body.cases[0].reference;
    const base = {
      case: ref,
      description: 'A house was broken into.\nDid you see anyone?',
      occurred_from: iso(Date.now() - 2 * DAY),
      contact: 'Call 101 quoting 55/1234',
      anonymous_contact: 'Crimestoppers, 0800 555 111',
      expires_at: iso(Date.now() + 30 * DAY),
      public_location: { precision: 'exact' },
    };
    // Twenty-four appeals close together in one town, to cluster; two far away.
    for (let i = 0; i < 24; i++) {
      const title = `Town appeal ${i}`;
      TITLES.push(title);
      town = await publish({ ...base, title, category: i % 2 ? 'burglary' : 'theft',
        location: { lat: 50.72 + (i % 6) * 0.002, lon: -1.88 + Math.floor(i / 6) * 0.002 } });
    }
    await publish({ ...base, title: 'Far north appeal', category: 'robbery', location: { lat: 57.5, lon: -4.2 } });
    grid = await publish({ ...base, title: 'Grid appeal', category: 'assault',
      location: { lat: 51.45, lon: -2.59 }, public_location: { precision: 'grid', cell_m: 500 } });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await new Promise((r) => (tiles ? tiles.srv.close(r) : r()));
  });

  // A page whose every request must stay on this machine.
  async function open(javaScript) {
    const o = await openPage(browser, { javaScript });
    await o.context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      if (host === '127.0.0.1') return route.continue();
      o.problems.push(`outside request: ${route.request().url()}`);
      return route.abort();
    });
    return o;
  }
  const submit = async (page, name) => {
    await page.getByRole('button', { name }).click();
    await page.waitForLoadState('load');
  };

  it('lists appeals without JavaScript, with filters and pages', async () => {
    const { context, page, problems } = await open(false);
    try {
      const r = await page.goto(s.url('/appeals'));
      assert.equal(r.status(), 200);
      assert.equal(await page.locator('h1').textContent(), 'Appeals for witnesses');
      assert.equal(await page.locator('.app-appeals-map').isVisible(), false, 'no map without scripts');
      const titles = await page.locator('.app-appeal h3').allTextContents();
      assert.equal(titles.length, 26 + demo);
      assert.equal(titles[0], 'Grid appeal', 'newest first');
      const grid1 = page.locator('.app-appeal').first();
      assert.match(await grid1.textContent(), /within about 500 metres/);

      await page.getByLabel('Category').selectOption('robbery');
      await submit(page, 'Apply filters');
      assert.deepEqual(await page.locator('.app-appeal h3').allTextContents(), ['Far north appeal']);
      assert.match(page.url(), /category=robbery/);

      await page.goto(s.url('/appeals?limit=10'));
      assert.equal(await page.locator('.app-appeal').count(), 10);
      await page.getByRole('link', { name: 'Next page' }).click();
      await page.waitForLoadState('load');
      assert.equal(await page.locator('.app-appeal').count(), 10);
      assert.ok(!(await page.locator('.app-appeal h3').allTextContents()).includes('Grid appeal'));

      await page.goto(s.url('/appeals'));
      await page.getByLabel('Near a place (latitude, longitude)').fill('91,0');
      await page.getByLabel('Within this many metres of it').fill('1000');
      await submit(page, 'Apply filters');
      assert.match(await page.title(), /^Error: /);
      assert.equal(await page.locator('.govuk-error-summary a').getAttribute('href'), '#near');
      assert.match(await page.locator('#near-error').textContent(), /latitude/);
      expectNoProblems(problems, 'the list without JavaScript');
      assert.equal(tiles.served.length, 0, 'no tiles without scripts');
    } finally {
      await context.close();
    }
  });

  it('shows the appeals on a map with clustered markers, from the local tiles', async () => {
    const { context, page, problems } = await open(true);
    try {
      await page.goto(s.url('/appeals'));
      const map = page.locator('.app-appeals-map');
      assert.ok(await map.isVisible());
      await page.waitForFunction((n) => Number(document.querySelector('.app-appeals-map')?.getAttribute('data-markers')) === n, 26 + demo);
      await page.waitForSelector('.leaflet-marker-icon');
      // Far apart at this zoom: the town's appeals in a cluster, the others alone.
      const clusters = await page.locator('.marker-cluster').allTextContents();
      assert.ok(clusters.some((t) => Number(t) > 1), `clusters: ${clusters}`);
      assert.match(await page.locator('.app-appeals-map__status').textContent(), new RegExp(`${26 + demo} appeals on the map`));
      assert.match(await page.locator('.leaflet-control-attribution').textContent(), /Test tiles <b>not bold<\/b>/,
        'the attribution is text');
      await page.waitForFunction(() => document.querySelectorAll('.leaflet-tile-loaded').length > 0);
      assert.ok(tiles.served.length > 0, 'tiles came from the local tile server');

      // An appeal alone on the map is a marker of its own, leading to its page.
      const marker = page.locator('.leaflet-marker-icon[alt="Far north appeal"]');
      await marker.click();
      const link = page.locator('.leaflet-popup-content a');
      assert.equal(await link.textContent(), 'Far north appeal');
      assert.match(await link.getAttribute('href'), /^\/appeals\/\d+$/);

      // Into the town's cluster: the map zooms, loads that area again, and
      // offers the list of it.
      await page.keyboard.press('Escape');
      const before = await page.evaluate(() => document.querySelector('.app-appeals-map__status + a').getAttribute('href'));
      await page.locator('.marker-cluster').first().click();
      await page.waitForFunction((old) => document.querySelector('.app-appeals-map__status + a').getAttribute('href') !== old, before);
      const list = page.getByRole('link', { name: 'List the appeals in the area shown on the map' });
      const href = decodeURIComponent(await list.getAttribute('href'));
      assert.match(href, /^\/appeals\?bbox=-?\d+\.\d+,-?\d+\.\d+,-?\d+\.\d+,-?\d+\.\d+$/);
      await page.waitForFunction((n) => Number(document.querySelector('.app-appeals-map').getAttribute('data-markers')) < n, 26 + demo);
      await list.click();
      await page.waitForLoadState('load');
      const shown = await page.locator('.app-appeal h3').allTextContents();
      assert.ok(shown.includes('Town appeal 0') && !shown.includes('Far north appeal'), `listed: ${shown}`);
      await expectAccessible(page, 'the list with its map', { map: true });
      // Leaving the map page cancels the tiles still loading: not a fault.
      const tile = `http://127.0.0.1:${tiles.port}/`;
      expectNoProblems(problems.filter((p) => !(p.includes(tile) && p.includes('ERR_ABORTED'))), 'the map');
    } finally {
      await context.close();
    }
  });

  for (const javaScript of [false, true]) {
    it(`answers an appeal end to end and sees it read (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
      const { context, page, problems } = await open(javaScript);
      try {
        await page.goto(s.url(`/appeals/${grid.id}`));
        assert.equal(await page.locator('h1').textContent(), 'Grid appeal');
        assert.equal(await page.locator('.govuk-caption-l').textContent(), 'Northshire Council');
        if (javaScript) {
          await page.waitForSelector('.app-appeals-map .leaflet-marker-icon');
          // A click on the map fills in where the witness was.
          const box = await page.locator('.app-appeals-map').boundingBox();
          await page.mouse.click(box.x + box.width / 4, box.y + box.height / 2);
          assert.match(await page.getByLabel('Latitude').inputValue(), /^51\.\d+$/);
          assert.match(await page.getByLabel('Longitude').inputValue(), /^-2\.\d+$/);
        }

        // Nothing said: the error summary, and the message by the box.
        await submit(page, 'Send your answer');
        assert.match(await page.title(), /^Error: /);
        assert.equal(await page.locator('.govuk-error-summary a').getAttribute('href'), '#anonymous');
        await page.getByLabel('No, the team may contact me').check();
        await submit(page, 'Send your answer');
        assert.equal(await page.locator('.govuk-error-summary a').getAttribute('href'), '#saw');
        assert.match(await page.locator('#saw-error').textContent(), /what you saw/);
        assert.ok(await page.getByLabel('No, the team may contact me').isChecked(), 'choices are kept');

        const saw = `A man in a <red> coat (JavaScript ${javaScript ? 'on' : 'off'})`;
        await page.getByLabel('What did you see or hear?').fill(saw);
        await page.getByLabel('When was this? (optional)').fill('About 10pm');
        await page.getByLabel('Your name (optional)').fill('Browser Witness');
        await page.getByLabel('Email address').fill('browser@example.org');
        await page.getByLabel('By email').check();
        await submit(page, 'Send your answer');
        assert.equal(await page.locator('h1').textContent(), 'Your answer has been sent');
        const receipt = await page.locator('#receipt').textContent();
        const secret = await page.locator('#secret').textContent();
        assert.match(receipt, /^[0-9A-Z]{4}-[0-9A-Z]{4}-.$/);

        await page.getByRole('link', { name: 'Check your answer' }).click();
        await page.waitForLoadState('load');
        await page.getByLabel('Receipt').fill(receipt);
        await page.getByLabel('Secret').fill(secret);
        await submit(page, 'Check');
        assert.match(await page.locator('#status').textContent(), /has not read it yet/);

        const read = await s.req('GET', `/api/v1/appeals/${grid.id}/answers`, { auth: caseworker, headers: { 'x-access-purpose': 'Witness call-backs' } });
        const mine = read.body.answers.find((a) => a.receipt === receipt);
        assert.equal(mine.saw, saw);
        assert.equal(mine.contact.email, 'browser@example.org');
        assert.equal(mine.location !== null, javaScript, 'the point chosen on the map');

        await page.goto(s.url('/appeals/receipt'));
        await page.getByLabel('Receipt').fill(receipt);
        await page.getByLabel('Secret').fill(secret);
        await submit(page, 'Check');
        assert.match(await page.locator('#status').textContent(), /Received by the investigating team/);
        assert.match(await page.locator('table').textContent(), /Witness call-backs/);
        expectNoProblems(problems, 'answering');
      } finally {
        await context.close();
      }
    });
  }

  // Each appeal page, reached as a person would.
  const PAGES = [
    ['the list', (page) => page.goto(s.url('/appeals'))],
    ['the list with an error', (page) => page.goto(s.url('/appeals?bbox=2,0,1,1'))],
    ['an appeal with its form', (page) => page.goto(s.url(`/appeals/${town.id}`))],
    ['an appeal with an error', async (page) => {
      await page.goto(s.url(`/appeals/${town.id}`));
      await submit(page, 'Send your answer');
    }],
    ['the answer sent', async (page) => {
      await page.goto(s.url(`/appeals/${town.id}`));
      await page.getByLabel('What did you see or hear?').fill('Nothing much');
      await page.getByLabel('Yes, stay anonymous').check();
      await submit(page, 'Send your answer');
    }],
    ['the receipt form', (page) => page.goto(s.url('/appeals/receipt'))],
    ['the receipt form with an error', async (page) => {
      await page.goto(s.url('/appeals/receipt'));
      await submit(page, 'Check');
    }],
  ];

  for (const javaScript of [true, false]) {
    it(`no appeal page has a serious or critical accessibility violation (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
      for (const [label, reach] of PAGES) {
        const { context, page, problems } = await open(javaScript);
        try {
          await reach(page);
          const map = javaScript && (await page.locator('.app-appeals-map').count()) > 0;
          if (map) {
            await page.waitForSelector('.app-appeals-map.leaflet-container');
            await page.waitForLoadState('networkidle');
          }
          await expectAccessible(page, label, { map });
          expectNoProblems(problems, label);
        } finally {
          await context.close();
        }
      }
    });
  }
});
