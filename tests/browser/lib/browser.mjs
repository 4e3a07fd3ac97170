// A headless Chromium for the browser tests, and the checks every public
// page gets: no script errors, no refused resources, no broken asset, and no
// serious or critical accessibility violation found by axe-core.
//
// The browser is Debian's Chromium (OPENCASE_CHROMIUM overrides the path),
// driven by playwright-core, which downloads nothing. Pages come from the
// real binary: use startServer from ../../api/lib/server.mjs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const CHROMIUM = process.env.OPENCASE_CHROMIUM || '/usr/bin/chromium';

// Quiet, offline and unprivileged: no sandbox (tests may run as root), no GPU,
// and none of the browser's own traffic to the outside.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

// A page in a fresh context (its own cookies and cache), with JavaScript on
// or off. `problems` collects what a person would never notice but a broken
// page shows: uncaught errors, console errors (a refused script or style is
// one), and any answer of 400 or more to a request the page made.
// Pages opened with JavaScript off, which axe cannot scan directly.
const withoutJavaScript = new WeakSet();

export async function openPage(browser, { javaScript = true } = {}) {
  const context = await browser.newContext({ javaScriptEnabled: javaScript });
  const page = await context.newPage();
  if (!javaScript) withoutJavaScript.add(page);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are judged by the response handler below, which can tell
    // a page's own deliberate 4xx from a broken resource.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    // A page that answers 4xx on purpose (a form with errors) is the test's
    // business; its resources must all load.
    if (r.status() >= 400 && r.request().resourceType() !== 'document') {
      problems.push(`${r.status()} ${r.url()}`);
    }
  });
  // A request the browser itself gave up because the page moved on (a form
  // sent while the favicon was still loading) is ERR_ABORTED: no fault of
  // the server's. A server that fails a request shows another error.
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} ${why}`);
  });
  return { context, page, problems };
}

// axe-core needs timers, which do not run in a page without JavaScript; so
// such a page is scanned as a copy, its scripts removed, opened at the same
// address (the copy never reaches the server) in a context where scripts run.
async function scriptlessCopy(page) {
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
  const url = new URL('/axe-scan-of-a-page-without-javascript', page.url()).href;
  const context = await page.context().browser().newContext();
  const copy = await context.newPage();
  await copy.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await copy.goto(url);
  return { context, copy };
}

// Asserts that axe-core finds no serious or critical violation of WCAG 2.2
// A and AA on the page as it stands; `label` names the page in the message.
// With `map`, WCAG 2.5.8's target size is not checked: markers on a map sit
// where their places are, which the criterion excepts as essential, and
// where clusters and popups overlap them from one render to the next.
export async function expectAccessible(page, label, { map = false } = {}) {
  if (withoutJavaScript.has(page)) {
    const { context, copy } = await scriptlessCopy(page);
    try {
      return await scan(copy, `${label} (without JavaScript)`, map);
    } finally {
      await context.close();
    }
  }
  return scan(page, label, map);
}

async function scan(page, label, map) {
  const builder = new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']);
  const results = await (map ? builder.disableRules(['target-size']) : builder).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.failureSummary}`).join('\n')}`);
  assert.deepEqual(text, [], `${label}: accessibility violations`);
  assert.ok(results.passes.length > 0, `${label}: axe ran its checks`);
  return results;
}

// Fails with the collected problems, if any.
export function expectNoProblems(problems, label) {
  assert.deepEqual(problems, [], `${label}: the page had problems`);
}
