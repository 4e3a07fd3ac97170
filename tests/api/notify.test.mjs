// Notifications end to end: preferences from staff, the tracking API and the
// page; templates checked when saved; emails received by a real SMTP server
// in the person's language; SMS through a gateway and webhooks signed and
// checked by an HTTP sink; failures (a refused address, 4xx, 5xx, a timeout)
// each ending in a recorded state with its reason; post and phone as tasks;
// and the same through GOV.UK Notify, whose JWT the sink verifies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS, createTestService, createCase, addEvent, marker } from './lib/server.mjs';
import { SmtpSink, HttpSink, until, webhookSignatureValid, notifyJwtClaims } from './lib/sinks.mjs';

// Fast retries and short timeouts, so that failures end within seconds.
const FAST = {
  OPENCASE_NOTIFY_RETRY_BASE_MS: '200',
  OPENCASE_NOTIFY_RETRY_MAX_MS: '400',
  OPENCASE_NOTIFY_MAX_ATTEMPTS: '3',
  OPENCASE_NOTIFY_TIMEOUT_MS: '1500',
  OPENCASE_NOTIFY_POLL_MS: '100',
  OPENCASE_PUBLIC_URL: 'https://track.example',
};

function person(tag, extra = {}) {
  return {
    name: `Person ${tag}`,
    email: `${tag}@example.org`,
    phone: '07700 900123',
    address: '1 High Street\nNorthtown',
    postcode: 'SW1A 1AA',
    ...extra,
  };
}

// Every notification of the organisation for case `reference`, in any state.
// The public log's notification_sent entries about case c (found by the
// pseudonym its tracking answer shows), once the queue is sequenced.
async function sentEntries(s, c) {
  await s.logSequenced();
  const track = await s.req('GET', `/api/v1/track/${c.reference}`, { headers: { 'x-tracking-secret': c.secret } });
  assert.equal(track.status, 200, track.text);
  const found = [];
  for (let cursor = '0'; ;) {
    const r = await s.req('GET', `/log/entries?cursor=${cursor}&limit=1000`);
    assert.equal(r.status, 200, r.text);
    if (r.body.entries.length === 0) return found;
    found.push(...r.body.entries.map((e) => e.entry).filter((e) => e.case === track.body.log_pseudonym && e.kind === 'notification_sent'));
    cursor = r.body.next_cursor;
  }
}

async function outbox(s, auth, reference) {
  // A notification delivered between two of these reads shows in both: the
  // later state wins.
  const all = new Map();
  for (const status of ['pending', 'delivered', 'failed']) {
    const r = await s.req('GET', `/api/v1/notifications?status=${status}&limit=200`, { auth });
    assert.equal(r.status, 200, r.text);
    for (const n of r.body.notifications.filter((x) => x.reference === reference)) all.set(n.id, n);
  }
  return [...all.values()];
}

describe('notifications', () => {
  let s;
  let smtp;
  let sink;
  let admin;
  let caseworker;
  before(async () => {
    smtp = await new SmtpSink().start();
    sink = await new HttpSink((r) => {
      if (r.path.startsWith('/hook-bad')) return { status: 400, body: { error: 'bad' } };
      if (r.path.startsWith('/hook-flaky')) return { status: 503, body: {} };
      if (r.path.startsWith('/hook-slow')) return 'hang';
      return { status: 200, body: {} };
    }).start();
    s = await startServer({
      cases: 4,
      env: {
        ...FAST,
        OPENCASE_SMTP_HOST: '127.0.0.1',
        OPENCASE_SMTP_PORT: String(smtp.port),
        OPENCASE_SMTP_STARTTLS: 'off',
        OPENCASE_SMTP_FROM: 'updates@northshire.example',
        OPENCASE_SMS_URL: sink.url('/sms'),
        OPENCASE_SMS_TOKEN: 'sms-token-1',
      },
    });
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    await createTestService(s, admin, 'nt-svc');
  });
  after(async () => {
    await s?.close();
    await smtp?.stop();
    await sink?.stop();
  });

  it('preferences are given when a case is opened, shown on the case, and checked', async () => {
    const tag = marker('p');
    const c = await createCase(s, caseworker, {
      service: 'nt-svc', summary: 'prefs', person: person(tag),
      preferences: { channels: ['sms', 'email'], language: 'cy', frequency: 'every' },
    });
    const got = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: admin });
    assert.deepEqual(got.body.preferences, { channels: ['email', 'sms'], language: 'cy', frequency: 'every', stated: true });

    const plain = await createCase(s, caseworker, { service: 'nt-svc', summary: 'defaults', person: { name: 'No Choice', email: `${tag}x@example.org` } });
    const d = await s.req('GET', `/api/v1/cases/${plain.reference}`, { auth: admin });
    assert.deepEqual(d.body.preferences, { channels: ['email'], language: 'en', frequency: 'milestones', stated: false });

    const bad = async (preferences, field) => {
      const r = await s.req('POST', '/api/v1/cases', { auth: caseworker, json: { service: 'nt-svc', summary: 'x', person: person(tag), preferences } });
      expectError(r, 400, field === 'preferences.zz' ? 'unknown_field' : 'invalid_field', field);
    };
    await bad({ channels: ['pigeon'] }, 'preferences.channels');
    await bad({ channels: 'email' }, 'preferences.channels');
    await bad({ channels: ['none', 'email'] }, 'preferences.channels');
    await bad({ language: 'fr' }, 'preferences.language');
    await bad({ frequency: 'sometimes' }, 'preferences.frequency');
    await bad({ zz: 1 }, 'preferences.zz');
    const r = await s.req('POST', '/api/v1/cases', { auth: caseworker, json: { service: 'nt-svc', summary: 'x', person: { email: 'not an address' } } });
    expectError(r, 400, 'invalid_field', 'person.email');
  });

  it('the citizen changes them through the tracking API and the page', async () => {
    const tag = marker('t');
    const c = await createCase(s, caseworker, { service: 'nt-svc', summary: 'track prefs', person: person(tag) });
    const h = { 'x-tracking-secret': c.secret };
    let r = await s.req('GET', `/api/v1/track/${c.reference}/preferences`, { headers: h });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.preferences.stated, false);
    r = await s.req('PUT', `/api/v1/track/${c.reference}/preferences`, { headers: h, json: { frequency: 'none', language: 'cy' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.preferences, { channels: ['email'], language: 'cy', frequency: 'none', stated: true });
    r = await s.req('GET', `/api/v1/cases/${c.reference}`, { auth: caseworker });
    assert.equal(r.body.preferences.frequency, 'none');

    expectError(await s.req('PUT', `/api/v1/track/${c.reference}/preferences`, { headers: h, json: { channels: ['fax'] } }), 400, 'invalid_field', 'channels');
    expectError(await s.req('PUT', `/api/v1/track/${c.reference}/preferences`, { headers: { 'x-tracking-secret': 'WRONG-SECRET' }, json: {} }), 404, 'not_found');
    expectError(await s.req('GET', `/api/v1/track/${c.reference}/preferences`), 401, 'unauthorized');

    const page = await fetch(s.url('/track/preferences'), {
      method: 'POST',
      body: new URLSearchParams([['reference', c.reference], ['secret', c.secret], ['channels', 'post'], ['channels', 'phone'], ['language', 'en'], ['frequency', 'milestones']]),
    });
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 300));
    assert.match(html, /Your choices have been saved/);
    assert.match(html, /name="channels" type="checkbox" value="post" checked/);
    r = await s.req('GET', `/api/v1/track/${c.reference}/preferences`, { headers: h });
    assert.deepEqual(r.body.preferences, { channels: ['post', 'phone'], language: 'en', frequency: 'milestones', stated: true });

    const badPage = await fetch(s.url('/track/preferences'), {
      method: 'POST',
      body: new URLSearchParams({ reference: c.reference, secret: c.secret, language: 'fr', frequency: 'every' }),
    });
    assert.equal(badPage.status, 400);
    assert.match(await badPage.text(), /error-summary/);
    const wrong = await fetch(s.url('/track/preferences'), {
      method: 'POST',
      body: new URLSearchParams({ reference: c.reference, secret: 'WRONG-SECRET-AAAA', language: 'en', frequency: 'every' }),
    });
    assert.equal(wrong.status, 404);
    await wrong.text();
  });

  it('templates: built-in English and Welsh, and an unknown placeholder is refused by name', async () => {
    let r = await s.req('GET', '/api/v1/services/nt-svc/templates', { auth: admin });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.templates.length, 6);
    const cy = r.body.templates.find((t) => t.kind === 'stage_reached' && t.language === 'cy');
    assert.equal(cy.default, true);
    assert.match(cy.body, /Mae eich achos \{reference\}/);

    r = await s.req('PUT', '/api/v1/services/nt-svc/templates/public_note/cy', { auth: admin, json: { subject: 'Neges am {reference}', body: 'Neges newydd: {note}\nDilynwch: {tracking_link}' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.template.default, false);

    r = await s.req('PUT', '/api/v1/services/nt-svc/templates/public_note/en', { auth: admin, json: { subject: 'Hi', body: 'Your {refrence} moved' } });
    expectError(r, 400, 'unknown_placeholder', 'body');
    assert.match(r.body.error.message, /\{refrence\}/);
    r = await s.req('PUT', '/api/v1/services/nt-svc/templates/public_note/en', { auth: admin, json: { subject: 'About {reference', body: 'x' } });
    expectError(r, 400, 'invalid_field', 'subject');
    r = await s.req('PUT', '/api/v1/services/nt-svc/templates/public_note/en', { auth: admin, json: { subject: 'Braces {{ok}}', body: 'x', extra: 1 } });
    expectError(r, 400, 'unknown_field');
    expectError(await s.req('PUT', '/api/v1/services/nt-svc/templates/gossip/en', { auth: admin, json: { subject: 'a', body: 'b' } }), 404, 'not_found');
    expectError(await s.req('PUT', '/api/v1/services/nt-svc/templates/public_note/fr', { auth: admin, json: { subject: 'a', body: 'b' } }), 404, 'not_found');
    expectError(await s.req('PUT', '/api/v1/services/nt-svc/templates/public_note/en', { auth: caseworker, json: { subject: 'a', body: 'b' } }), 403, 'forbidden');
    const wessex = await s.login(USERS.wessexAdmin);
    expectError(await s.req('GET', '/api/v1/services/nt-svc/templates', { auth: wessex }), 404, 'not_found');
  });

  it('emails arrive over SMTP and texts through the gateway, in the person\'s language', async () => {
    const tag = marker('m');
    const c = await createCase(s, caseworker, {
      service: 'nt-svc', summary: 'welsh', person: person(tag),
      preferences: { channels: ['email', 'sms'], language: 'cy', frequency: 'every' },
    });
    assert.equal((await outbox(s, admin, c.reference)).length, 2, 'the opening, by email and SMS');
    // A stage that is not a milestone, without a note, and an internal note
    // are told to no one.
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'triage_hidden' });
    await addEvent(s, caseworker, c.reference, { type: 'internal_note', note: 'internal only' });
    assert.equal((await outbox(s, admin, c.reference)).length, 2);
    await addEvent(s, caseworker, c.reference, { type: 'stage_change', stage: 'assessing' });
    await addEvent(s, caseworker, c.reference, { type: 'public_note', note: 'Rydym wedi derbyn eich tystiolaeth' });
    assert.equal((await outbox(s, admin, c.reference)).length, 6, 'a milestone and a note, each by email and SMS');

    const mine = () => smtp.messages.filter((m) => m.to.includes(`${tag}@example.org`));
    await until('three emails', () => mine().length >= 3);
    const texts = mine().map((m) => m.mail.text);
    const subjects = mine().map((m) => m.mail.subject);
    assert.ok(texts.some((t) => /Mae eich achos .* wedi cyrraedd cam newydd: Received/.test(t)), texts.join('\n---\n'));
    assert.ok(texts.some((t) => /cam newydd: Assessing/.test(t) && /https:\/\/track\.example\/track/.test(t)));
    assert.ok(texts.some((t) => /Neges newydd: Rydym wedi derbyn eich tystiolaeth/.test(t)), 'the service\'s own Welsh template');
    assert.ok(subjects.includes(`Neges am ${c.reference}`));
    assert.ok(subjects.includes(`Eich achos ${c.reference}: Assessing`));
    for (const m of mine()) {
      assert.equal(m.from, 'updates@northshire.example');
      const id = m.mail.headers.get('x-opencase-notification-id');
      assert.match(id, /^\d+$/);
      assert.equal(m.mail.messageId, `<notification-${id}@northshire.example>`);
    }

    const sms = () => sink.on('/sms').filter((r) => r.json && r.json.reference === c.reference);
    await until('three texts', () => sms().length >= 3);
    for (const r of sms()) {
      assert.equal(r.headers.authorization, 'Bearer sms-token-1');
      assert.equal(r.json.to, '07700 900123');
      assert.equal(String(r.json.id), r.headers['opencase-id']);
    }
    assert.ok(sms().some((r) => /Mae eich achos/.test(r.json.body)));
    await until('all delivered', async () => (await outbox(s, admin, c.reference)).every((n) => n.status === 'delivered'));
    const ids = mine().map((m) => m.mail.headers.get('x-opencase-notification-id'));
    assert.equal(new Set(ids).size, ids.length, 'no email twice');
    // Each delivery is in the public log, by channel, with nothing else.
    const sent = await sentEntries(s, c);
    assert.deepEqual(sent.map((e) => e.action).sort(), ['email', 'email', 'email', 'sms', 'sms', 'sms']);
    assert.ok(sent.every((e) => e.actor === 'system' && !JSON.stringify(e).includes(tag)), JSON.stringify(sent));
  });

  it('frequency decides what is told: milestones skip notes, none tells nothing', async () => {
    const tag = marker('f');
    const m = await createCase(s, caseworker, { service: 'nt-svc', summary: 'm', person: person(tag), preferences: { channels: ['email'], frequency: 'milestones' } });
    await addEvent(s, caseworker, m.reference, { type: 'public_note', note: 'a note' });
    assert.equal((await outbox(s, admin, m.reference)).length, 1, 'only the opening milestone');
    await addEvent(s, caseworker, m.reference, { type: 'stage_change', stage: 'assessing' });
    assert.equal((await outbox(s, admin, m.reference)).length, 2);
    // A hidden stage is told only by its note, as an update, to those who
    // want every update.
    const e = await createCase(s, caseworker, { service: 'nt-svc', summary: 'e', person: person(`${tag}e`), preferences: { channels: ['email'], frequency: 'every' } });
    await addEvent(s, caseworker, e.reference, { type: 'stage_change', stage: 'triage_hidden', note: 'We are checking your papers' });
    assert.deepEqual((await outbox(s, admin, e.reference)).map((x) => x.kind).sort(), ['public_note', 'stage_reached']);
    await addEvent(s, caseworker, m.reference, { type: 'stage_change', stage: 'approved', note: 'Approved' });
    assert.equal((await outbox(s, admin, m.reference)).length, 3, 'a milestone with a note is one message');
    const n = await createCase(s, caseworker, { service: 'nt-svc', summary: 'n', person: person(`${tag}n`), preferences: { channels: ['email'], frequency: 'none' } });
    await addEvent(s, caseworker, n.reference, { type: 'stage_change', stage: 'assessing' });
    assert.equal((await outbox(s, admin, n.reference)).length, 0);
  });

  it('webhooks are signed and carry the id; refusals, errors and timeouts end recorded', async () => {
    const hook = async (p) => {
      const r = await s.req('POST', '/api/v1/webhooks', { auth: admin, json: { url: sink.url(p) } });
      assert.equal(r.status, 201, r.text);
      assert.match(r.body.secret, /^whsec_/);
      return r.body;
    };
    const ok = await hook('/hook-ok');
    const bad = await hook('/hook-bad');
    const flaky = await hook('/hook-flaky');
    const slow = await hook('/hook-slow');
    expectError(await s.req('POST', '/api/v1/webhooks', { auth: admin, json: { url: 'ftp://example.org/x' } }), 400, 'invalid_field', 'url');
    expectError(await s.req('POST', '/api/v1/webhooks', { auth: caseworker, json: { url: sink.url('/x') } }), 403, 'forbidden');
    const listed = await s.req('GET', '/api/v1/webhooks', { auth: admin });
    assert.equal(listed.body.webhooks.length, 4);
    assert.ok(!('secret' in listed.body.webhooks[0]));

    const c = await createCase(s, caseworker, { service: 'nt-svc', summary: 'hooked', person: person(marker('w'), { email: null }), preferences: { channels: [] } });
    const got = await until('the webhook', () => sink.on('/hook-ok').find((r) => r.json && r.json.reference === c.reference));
    assert.ok(webhookSignatureValid(ok.secret, got.headers['opencase-signature'], got.raw), 'the signature checks out');
    assert.ok(!webhookSignatureValid(bad.secret, got.headers['opencase-signature'], got.raw), 'and not with another secret');
    assert.equal(String(got.json.id), got.headers['opencase-id']);
    assert.equal(got.headers['opencase-event'], 'case.opened');
    assert.equal(got.json.type, 'case.opened');
    assert.equal(got.json.stage, 'received');
    assert.ok(!/Person|example\.org|High Street/.test(got.raw), 'no personal data in webhooks');

    const failed = await until('the failures', async () => {
      const r = await s.req('GET', '/api/v1/notifications?status=failed&limit=200', { auth: admin });
      const mine = r.body.notifications.filter((n) => n.reference === c.reference);
      return mine.length === 3 ? mine : null;
    }, 90_000);
    const byUrl = (p) => failed.find((n) => n.recipient === sink.url(p));
    assert.match(byUrl('/hook-bad').last_error, /HTTP 400/);
    assert.equal(byUrl('/hook-bad').attempts, 1, 'a 4xx is not retried');
    assert.match(byUrl('/hook-flaky').last_error, /HTTP 503/);
    assert.equal(byUrl('/hook-flaky').attempts, 3);
    assert.match(byUrl('/hook-slow').last_error, /timed out/i);
    const detail = await s.req('GET', `/api/v1/notifications/${byUrl('/hook-flaky').id}`, { auth: admin });
    assert.deepEqual(detail.body.attempts.map((a) => a.outcome), ['retry', 'retry', 'failed']);
    assert.ok(detail.body.attempts.every((a) => /503/.test(a.reason)));

    expectError(await s.req('GET', '/api/v1/notifications?status=failed', { auth: caseworker }), 403, 'forbidden');
    expectError(await s.req('GET', '/api/v1/notifications?status=lost', { auth: admin }), 400, 'invalid_parameter', 'status');
    const wessex = await s.login(USERS.wessexAdmin);
    expectError(await s.req('GET', `/api/v1/notifications/${byUrl('/hook-bad').id}`, { auth: wessex }), 404, 'not_found');
    expectError(await s.req('DELETE', `/api/v1/webhooks/${ok.webhook.id}`, { auth: wessex }), 404, 'not_found');
    for (const h of [ok, bad, flaky, slow]) {
      const r = await fetch(s.url(`/api/v1/webhooks/${h.webhook.id}`), { method: 'DELETE', headers: { cookie: admin } });
      assert.equal(r.status, 204);
    }
    expectError(await s.req('DELETE', `/api/v1/webhooks/${ok.webhook.id}`, { auth: admin }), 404, 'not_found');
    assert.equal((await s.req('GET', '/api/v1/webhooks', { auth: admin })).body.webhooks.length, 0);
  });

  it('an address the mail server refuses fails with its reason', async () => {
    const c = await createCase(s, caseworker, { service: 'nt-svc', summary: 'refused', person: { name: 'R', email: `reject-${marker('r')}@example.org` } });
    const n = await until('the failure', async () => (await outbox(s, admin, c.reference)).find((x) => x.status === 'failed'));
    assert.equal(n.channel, 'email');
    assert.match(n.last_error, /550/);
    assert.equal(n.attempts, 1, 'a refusal is final');
  });

  it('post and phone become tasks for staff; marking one done records it', async () => {
    const c = await createCase(s, caseworker, { service: 'nt-svc', summary: 'tasks', person: person(marker('k')), preferences: { channels: ['post', 'phone'] } });
    const r = await s.req('GET', '/api/v1/tasks?limit=200', { auth: caseworker, headers: { 'x-access-purpose': 'letters to post' } });
    assert.equal(r.status, 200, r.text);
    // The worklist shows the person's address: that read is recorded.
    const seen = await s.req('GET', `/api/v1/cases/${c.reference}/accesses`, { auth: admin });
    assert.ok(seen.body.accesses.some((x) => x.action === 'list' && x.purpose === 'letters to post'), seen.text);
    expectError(await s.req('GET', '/api/v1/tasks', { auth: caseworker, headers: { 'x-access-purpose': '' } }), 400, 'invalid_field', 'X-Access-Purpose');
    const tasks = r.body.tasks.filter((t) => t.reference === c.reference);
    assert.deepEqual(tasks.map((t) => t.channel).sort(), ['phone', 'post']);
    const post = tasks.find((t) => t.channel === 'post');
    assert.match(post.recipient, /High Street/);
    assert.match(post.recipient, /SW1A 1AA/);
    assert.match(post.body, /Received/);
    const wessex = await s.login(USERS.officer);
    expectError(await s.req('POST', `/api/v1/tasks/${post.id}/done`, { auth: wessex }), 404, 'not_found');
    assert.ok(!(await s.req('GET', '/api/v1/tasks', { auth: wessex })).body.tasks.some((t) => t.reference === c.reference));
    expectError(await s.req('GET', '/api/v1/tasks', { auth: await s.login(USERS.analyst) }), 403, 'forbidden');
    const done = await s.req('POST', `/api/v1/tasks/${post.id}/done`, { auth: caseworker });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.task.status, 'done');
    expectError(await s.req('POST', `/api/v1/tasks/${post.id}/done`, { auth: caseworker }), 404, 'not_found');
    const left = (await s.req('GET', '/api/v1/tasks?limit=200', { auth: caseworker })).body.tasks.filter((t) => t.reference === c.reference);
    assert.deepEqual(left.map((t) => t.channel), ['phone']);
    // The letter posted is a notification sent; the call not yet made is not.
    assert.deepEqual((await sentEntries(s, c)).map((e) => e.action), ['post']);
  });
});

describe('notifications through GOV.UK Notify', () => {
  const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
  const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
  const KEY = `opencase_test-${SERVICE_ID}-${SECRET}`;
  let s;
  let sink;
  let caseworker;
  before(async () => {
    sink = await new HttpSink(() => ({ status: 201, body: { id: 'abc' } })).start();
    s = await startServer({
      cases: 4,
      env: {
        ...FAST,
        OPENCASE_GOVUK_NOTIFY_KEY: KEY,
        OPENCASE_GOVUK_NOTIFY_URL: sink.url('/notify'),
        OPENCASE_GOVUK_NOTIFY_EMAIL_TEMPLATE: 'e1',
        OPENCASE_GOVUK_NOTIFY_SMS_TEMPLATE: 's1',
        OPENCASE_GOVUK_NOTIFY_LETTER_TEMPLATE: 'l1',
      },
    });
    caseworker = await s.login(USERS.caseworker);
  });
  after(async () => {
    await s?.close();
    await sink?.stop();
  });

  it('sends email, SMS and letters with a JWT signed by the key\'s secret', async () => {
    const tag = marker('n');
    const c = await createCase(s, caseworker, {
      service: 'parking-permit', summary: 'notify', person: person(tag),
      preferences: { channels: ['email', 'sms', 'post'], language: 'en', frequency: 'every' },
    });
    const mine = () => sink.on('/notify/v2/notifications/').filter((r) => r.json?.personalisation?.case_reference === c.reference);
    await until('three requests', () => mine().length >= 3);
    const started = Math.floor(Date.now() / 1000);
    for (const r of mine()) {
      const claims = notifyJwtClaims(KEY, r.headers.authorization);
      assert.ok(claims, 'the JWT verifies with the secret half of the key');
      assert.equal(claims.iss, SERVICE_ID);
      assert.ok(Math.abs(claims.iat - started) < 120);
      assert.match(r.json.reference, /^opencase-\d+$/);
      assert.equal(r.json.reference, `opencase-${r.headers['opencase-id']}`);
      assert.match(r.json.personalisation.body, /Your case .* has reached a new stage/);
    }
    const email = mine().find((r) => r.path === '/notify/v2/notifications/email');
    assert.equal(email.json.email_address, `${tag}@example.org`);
    assert.equal(email.json.template_id, 'e1');
    const sms = mine().find((r) => r.path === '/notify/v2/notifications/sms');
    assert.equal(sms.json.phone_number, '07700 900123');
    const letter = mine().find((r) => r.path === '/notify/v2/notifications/letter');
    assert.equal(letter.json.template_id, 'l1');
    assert.equal(letter.json.personalisation.address_line_1, `Person ${tag}`);
    assert.equal(letter.json.personalisation.address_line_2, '1 High Street');
    assert.equal(letter.json.personalisation.address_line_4, 'SW1A 1AA');
  });
});
