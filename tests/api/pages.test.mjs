// The public HTML pages: the tracking form, the timeline page, escaping,
// error summaries, and the message and feedback forms. They must work as
// plain HTML forms, without JavaScript.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, USERS, marker, createTestService, createCase, addEvent,
} from './lib/server.mjs';
import { mistype, randomReference } from './lib/ref.mjs';

describe('pages', () => {
  let s;
  let admin;
  let caseworker;
  let c; // { reference, secret }
  const planted = {};
  const pages = [];

  const page = async (method, p, form) => {
    const r = await fetch(s.url(p), { method, body: form ? new URLSearchParams(form) : undefined, redirect: 'manual' });
    const html = await r.text();
    pages.push({ typedPostcode: Boolean(form && form.postcode), text: `${method} ${p} -> ${r.status}\n${html}` });
    return { status: r.status, html, contentType: r.headers.get('content-type') || '', headers: r.headers };
  };
  const hasErrorSummary = (html) => /error-summary/.test(html) && /<form\b/i.test(html) && /name="reference"/.test(html);

  before(async () => {
    s = await startServer();
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'web');
    planted.summary = marker('PageSummary');
    planted.internal = marker('PageInternal');
    planted.name = marker('PageName');
    planted.address = marker('PageAddress');
    c = await createCase(s, caseworker, {
      service: 'web', summary: planted.summary, person: { name: planted.name, address: planted.address, postcode: 'ZE2 9AB' },
    });
    await addEvent(s, caseworker, c.reference, { type: 'public_note', note: 'Look: <script>alert(1)</script> & "quotes"' });
    await addEvent(s, caseworker, c.reference, { type: 'internal_note', note: planted.internal });
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'triage_hidden' });
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'assessing', note: 'Being assessed now.' });
  });
  after(async () => {
    await s?.close();
  });

  it('GET /track is an accessible HTML form', async () => {
    const r = await page('GET', '/track');
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/html\b/);
    assert.match(r.html, /^<!DOCTYPE html>/i);
    assert.match(r.html, /<html[^>]*\blang="[a-z]{2}/i);
    assert.match(r.html, /<title>[^<]+<\/title>/i);
    const form = /<form\b[^>]*>/i.exec(r.html);
    assert.ok(form, 'has a form');
    assert.match(form[0], /method="post"/i, 'credentials are posted, never put in the URL');
    assert.match(form[0], /action="\/track"/);
    for (const name of ['reference', 'secret', 'postcode']) {
      const input = new RegExp(`<input\\b[^>]*\\bname="${name}"[^>]*>`, 'i').exec(r.html);
      assert.ok(input, `input ${name}`);
      const id = /\bid="([^"]+)"/.exec(input[0]);
      assert.ok(id, `input ${name} has an id`);
      assert.match(r.html, new RegExp(`<label\\b[^>]*\\bfor="${id[1]}"`), `input ${name} has a label`);
    }
    assert.match(r.html, /<button\b[^>]*>|<input\b[^>]*type="submit"/i, 'has a submit button');
  });

  it('POST /track with the secret shows the timeline', async () => {
    const r = await page('POST', '/track', { reference: c.reference, secret: c.secret });
    assert.equal(r.status, 200, r.html.slice(0, 500));
    assert.match(r.contentType, /^text\/html\b/);
    assert.ok(r.html.includes(c.reference));
    assert.ok(r.html.includes('Being assessed now.'));
    assert.ok(r.html.includes('Assessing'));
    assert.ok(r.html.includes('Test service web'));
  });

  it('POST /track with the postcode and a forgiving reference works too', async () => {
    const r = await page('POST', '/track', { reference: c.reference.toLowerCase().replaceAll('-', ' '), postcode: 'ZE2 9AB' });
    assert.equal(r.status, 200, r.html.slice(0, 500));
    assert.ok(r.html.includes(c.reference));
  });

  it('escapes what staff and citizens wrote', async () => {
    const r = await page('POST', '/track', { reference: c.reference, secret: c.secret });
    assert.ok(!r.html.includes('<script>alert(1)</script>'), 'the note is not injected as markup');
    assert.ok(r.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the note is shown escaped');
    assert.ok(r.html.includes('&amp;'));
  });

  it('a mistyped reference gives the form again with an error summary', async () => {
    const r = await page('POST', '/track', { reference: mistype(c.reference), secret: c.secret });
    assert.equal(r.status, 400);
    assert.ok(hasErrorSummary(r.html), r.html.slice(0, 800));
    assert.ok(!r.html.includes('Being assessed now.'));
  });

  it('a reference that does not match gives 404 and the form', async () => {
    const r = await page('POST', '/track', { reference: randomReference(), secret: c.secret });
    assert.equal(r.status, 404);
    assert.ok(hasErrorSummary(r.html));
    const wrong = await page('POST', '/track', { reference: c.reference, secret: 'AAAAA-BBBBB-CCCCC-DDDDD' });
    assert.equal(wrong.status, 404);
    assert.ok(hasErrorSummary(wrong.html));
    assert.ok(!wrong.html.includes('Being assessed now.'));
  });

  it('missing fields give the form again with an error summary', async () => {
    const noCred = await page('POST', '/track', { reference: c.reference });
    assert.equal(noCred.status, 400);
    assert.ok(hasErrorSummary(noCred.html));
    const empty = await page('POST', '/track', {});
    assert.equal(empty.status, 400);
    assert.ok(hasErrorSummary(empty.html));
  });

  it('echoes nothing it was sent as markup', async () => {
    const evil = '<script>alert("x")</script>';
    const r = await page('POST', '/track', { reference: evil, secret: evil });
    assert.equal(r.status, 400);
    assert.ok(!r.html.includes(evil), 'input is escaped when echoed');
  });

  it('the message form sends a message and confirms it', async () => {
    const r = await page('POST', '/track/message', { reference: c.reference, secret: c.secret, message: 'Can I <b>call</b> you?' });
    assert.equal(r.status, 200, r.html.slice(0, 500));
    assert.ok(r.html.includes(c.reference));
    assert.ok(!r.html.includes('<b>call</b>'));
    assert.ok(r.html.includes('&lt;b&gt;call&lt;/b&gt;'), 'the message is on the timeline, escaped');
    const staff = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: caseworker });
    assert.deepEqual(staff.body.events.filter((e) => e.type === 'message').map((e) => e.note), ['Can I <b>call</b> you?']);
    const blank = await page('POST', '/track/message', { reference: c.reference, secret: c.secret, message: '' });
    assert.equal(blank.status, 400);
    assert.ok(/error-summary/.test(blank.html));
  });

  it('the feedback form works once the case is closed', async () => {
    const early = await page('POST', '/track/feedback', { reference: c.reference, secret: c.secret, rating: '5' });
    assert.notEqual(early.status, 200, 'no feedback while the case is open');
    assert.ok(early.status >= 400 && early.status < 500);
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'approved', note: 'Approved.' });
    const bad = await page('POST', '/track/feedback', { reference: c.reference, secret: c.secret, rating: '9' });
    assert.equal(bad.status, 400);
    assert.ok(/error-summary/.test(bad.html));
    const r = await page('POST', '/track/feedback', { reference: c.reference, secret: c.secret, rating: '4', comment: 'Helpful <i>staff</i>' });
    assert.equal(r.status, 200, r.html.slice(0, 500));
    assert.ok(!r.html.includes('<i>staff</i>'));
    const staff = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: caseworker });
    const fb = staff.body.events.filter((e) => e.type === 'feedback');
    assert.equal(fb.length, 1);
    assert.equal(fb[0].rating, 4);
    assert.equal(fb[0].note, 'Helpful <i>staff</i>');
    const twice = await page('POST', '/track/feedback', { reference: c.reference, secret: c.secret, rating: '3' });
    assert.notEqual(twice.status, 200, 'feedback only once');
  });

  it('no page ever showed the summary, internal notes, person data or hidden stages', () => {
    assert.ok(pages.length > 10);
    for (const { typedPostcode, text } of pages) {
      const forbidden = [planted.summary, planted.internal, planted.name, planted.address, 'triage_hidden', 'Hidden Triage Stage'];
      // A postcode the citizen typed may be carried in the page's own forms.
      if (!typedPostcode) forbidden.push('ZE2 9AB');
      for (const f of forbidden) {
        assert.ok(!text.includes(f), `page contains ${f}:\n${text.slice(0, 400)}`);
      }
    }
  });
});
