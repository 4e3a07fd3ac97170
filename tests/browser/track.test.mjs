// The tracking pages in a real browser, with JavaScript off and on: looking
// a case up through the form, reading its timeline, sending a message and
// feedback, the error summary and inline errors; and an accessibility scan
// of every public page they lead to.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, USERS, createTestService, createCase, addEvent,
} from '../api/lib/server.mjs';
import { launchBrowser, openPage, expectAccessible, expectNoProblems } from './lib/browser.mjs';

const GOVUK_DATE = /^\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}$/;

describe('tracking pages in a browser', () => {
  let s;
  let browser;
  let open; // the case under way: { reference, secret }
  let closed; // a closed case, for feedback

  before(async () => {
    s = await startServer({ cases: 6 });
    browser = await launchBrowser();
    const admin = await s.login(USERS.admin);
    const caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'web');
    open = await createCase(s, caseworker, { service: 'web', summary: 'browser', person: { postcode: 'ZE2 9AB' } });
    await addEvent(s, caseworker, open.reference, { type: 'public_note', note: 'We have your form & photos.' });
    await addEvent(s, caseworker, open.reference, { type: 'stage_change', stage: 'triage_hidden' });
    await addEvent(s, caseworker, open.reference, { type: 'stage_change', stage: 'assessing', note: 'Being assessed now.' });
    // Someone looked at the open case's data, so its page has the table.
    const read = await s.req('GET', `/api/v1/cases/${open.reference}`, { auth: caseworker });
    assert.equal(read.status, 200);
    closed = await createCase(s, caseworker, { service: 'web', summary: 'browser closed' });
    await addEvent(s, caseworker, closed.reference, { type: 'stage_change', stage: 'assessing' });
    await addEvent(s, caseworker, closed.reference, { type: 'stage_change', stage: 'approved', note: 'Approved.' });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const submit = async (page, name) => {
    await page.getByRole('button', { name }).click();
    await page.waitForLoadState('load');
  };
  const timeline = (page) => page.locator('.app-timeline__item').evaluateAll((items) => items.map((li) => ({
    title: li.querySelector('.app-timeline__title').textContent,
    date: li.querySelector('time').textContent,
    datetime: li.querySelector('time').getAttribute('datetime'),
    description: li.querySelector('.app-timeline__description')?.textContent ?? null,
  })));

  for (const javaScript of [false, true]) {
    it(`finds a case by reference and secret and shows its timeline (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
      const { context, page, problems } = await openPage(browser, { javaScript });
      try {
        const first = await page.goto(s.url('/track'));
        assert.equal(first.status(), 200);
        const bodyClass = await page.locator('body').getAttribute('class');
        assert.equal(/\bjs-enabled\b/.test(bodyClass), javaScript, `body class: ${bodyClass}`);
        if (javaScript) assert.match(bodyClass, /\bgovuk-frontend-supported\b/);

        // Nothing typed: the error summary, and the message by the field.
        await submit(page, 'Show my case');
        assert.match(await page.title(), /^Error: /);
        const summary = page.locator('.govuk-error-summary');
        assert.ok(await summary.isVisible());
        assert.equal((await summary.locator('a').getAttribute('href')), '#reference');
        assert.match(await page.locator('#reference-error').textContent(), /Enter your case reference/);
        if (javaScript) {
          // GOV.UK Frontend moves focus to the summary, so it is read first.
          assert.ok(await summary.evaluate((el) => el === document.activeElement));
        }

        await page.getByLabel('Case reference').fill(open.reference.toLowerCase().replaceAll('-', ' '));
        await page.getByLabel('Tracking secret').fill(open.secret);
        await submit(page, 'Show my case');
        assert.equal(await page.locator('h1').textContent(), 'Assessing');
        assert.match(await page.locator('.govuk-caption-l').textContent(), /Test service web/);
        const rows = await page.locator('.govuk-summary-list__row').evaluateAll((rs) => rs.map((r) => [
          r.querySelector('dt').textContent, r.querySelector('dd').textContent]));
        assert.deepEqual(rows.map((r) => r[0]), ['Reference', 'Name in the public log', 'Opened', 'Expected completion', 'Target date']);
        assert.equal(rows[0][1], open.reference);
        assert.match(rows[1][1], /^[0-9a-f]{32}$/, 'the case\'s pseudonym');
        assert.match(rows[2][1], GOVUK_DATE);

        // Messages sent by the other run of this test come first.
        const events = (await timeline(page)).filter((e) => e.title !== 'Your message');
        assert.deepEqual(events.map((e) => e.title), ['Assessing', 'Update', 'Received'], 'newest first, no hidden stage');
        assert.equal(events[0].description, 'Being assessed now.');
        assert.equal(events[1].description, 'We have your form & photos.');
        for (const e of events) {
          assert.match(e.date, GOVUK_DATE);
          assert.match(e.datetime, /^\d{4}-\d{2}-\d{2}$/);
        }
        const table = page.locator('table.govuk-table');
        assert.equal(await table.locator('tbody tr').count() >= 1, true, 'who looked: one row at least');
        assert.deepEqual(await table.locator('th').allTextContents(), ['Date', 'Organisation', 'Role', 'Reason', 'Public log entry']);

        // An empty message: the case page again, with the error by the box.
        await submit(page, 'Send message');
        assert.equal(await page.locator('.govuk-error-summary a').getAttribute('href'), '#message');
        assert.match(await page.locator('#message-error').textContent(), /Enter your message/);

        const text = `Can I call you? (sent with JavaScript ${javaScript ? 'on' : 'off'})`;
        await page.getByLabel('Your message').fill(text);
        if (javaScript) {
          // The character count follows what the citizen types.
          await page.waitForFunction((n) => document.querySelector('.govuk-character-count__status')?.textContent
            .includes(`You have ${n.toLocaleString('en-GB')} characters remaining`), 2000 - text.length);
        }
        await submit(page, 'Send message');
        assert.match(await page.locator('.govuk-notification-banner--success').textContent(), /Your message has been sent/);
        const after = await timeline(page);
        assert.equal(after[0].title, 'Your message');
        assert.equal(after[0].description, text);
        expectNoProblems(problems, `tracking with JavaScript ${javaScript ? 'on' : 'off'}`);
      } finally {
        await context.close();
      }
    });
  }

  it('gives feedback on a closed case, with an inline error first', async () => {
    const { context, page, problems } = await openPage(browser);
    try {
      await page.goto(s.url('/track'));
      await page.getByLabel('Case reference').fill(closed.reference);
      await page.getByLabel('Tracking secret').fill(closed.secret);
      await submit(page, 'Show my case');
      assert.equal(await page.locator('h1').textContent(), 'Approved');
      assert.equal(await page.locator('#message').count(), 0, 'no message form once closed');

      await page.getByLabel('Comments (optional)').fill('Quick and clear.');
      await submit(page, 'Send feedback');
      const link = page.locator('.govuk-error-summary a');
      assert.equal(await link.textContent(), 'Choose a rating from 1 to 5');
      assert.equal(await page.getByLabel('Comments (optional)').inputValue(), 'Quick and clear.', 'what was typed is kept');
      await link.click();
      assert.ok(await page.locator('#rating').evaluate((el) => el === document.activeElement), 'the link leads to the first radio');

      await page.getByLabel('4', { exact: true }).check();
      await submit(page, 'Send feedback');
      assert.match(await page.locator('.govuk-notification-banner--success').textContent(), /Thank you for your feedback/);
      assert.equal((await timeline(page))[0].title, 'Your feedback: 4 out of 5');
      assert.equal(await page.locator('form[action="/track/feedback"]').count(), 0, 'feedback only once');
      expectNoProblems(problems, 'feedback');
    } finally {
      await context.close();
    }
  });

  // Each public page the tracking pages lead to, reached as a person would.
  const PAGES = [
    ['the look-up form', async () => {}],
    ['the form with an error', async (page) => submit(page, 'Show my case')],
    ['a case that does not match', async (page) => {
      await page.getByLabel('Case reference').fill(open.reference);
      await page.getByLabel('Tracking secret').fill('AAAAA-BBBBB-CCCCC-DDDDD');
      await submit(page, 'Show my case');
    }],
    ['a case under way', async (page) => {
      await page.getByLabel('Case reference').fill(open.reference);
      await page.getByLabel('Or the postcode on your case').fill('ZE2 9AB');
      await submit(page, 'Show my case');
    }],
    ['a case with a message error', async (page) => {
      await page.getByLabel('Case reference').fill(open.reference);
      await page.getByLabel('Tracking secret').fill(open.secret);
      await submit(page, 'Show my case');
      await submit(page, 'Send message');
    }],
    ['a closed case with the feedback form', async (page) => {
      await page.getByLabel('Case reference').fill(closed.reference);
      await page.getByLabel('Tracking secret').fill(closed.secret);
      await submit(page, 'Show my case');
    }],
  ];

  for (const javaScript of [true, false]) {
    it(`no public page has a serious or critical accessibility violation (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
      for (const [label, reach] of PAGES) {
        const { context, page, problems } = await openPage(browser, { javaScript });
        try {
          await page.goto(s.url('/track'));
          await reach(page);
          await expectAccessible(page, label);
          expectNoProblems(problems, label);
        } finally {
          await context.close();
        }
      }
    });
  }
});
