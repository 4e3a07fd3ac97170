// Telling staff of answers to appeals: an appeal's officer (who drafted it,
// or whom a system names; only staff of its organisation), an email to the
// officer or, without one, to the organisation's administrators, received by
// a real SMTP server and holding nothing of the answer or who gave it; a
// signed appeal.answered webhook; the outbox list showing them without
// recording a read of the case's person; and the officer never in public
// answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, USERS, marker } from './lib/server.mjs';
import { SmtpSink, HttpSink, until, webhookSignatureValid } from './lib/sinks.mjs';

const DAY = 86400 * 1000;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function appealBody(caseRef, extra = {}) {
  return {
    case: caseRef,
    title: `Witnesses sought ${marker('t')}`,
    description: 'A house was broken into between 10pm and midnight.',
    category: 'burglary',
    occurred_from: iso(Date.now() - 2 * DAY),
    contact: 'Call 101 quoting reference 55/1234',
    expires_at: iso(Date.now() + 30 * DAY),
    location: { lat: 52.05, lon: -1.2 },
    public_location: { precision: 'grid', cell_m: 500 },
    ...extra,
  };
}

describe('answers to appeals are told to staff', () => {
  let s;
  let smtp;
  let sink;
  let admin;
  let caseworker;
  let officer; // Wessex
  let nsCase;

  before(async () => {
    smtp = await new SmtpSink().start();
    sink = await new HttpSink().start();
    s = await startServer({
      cases: 6,
      env: {
        OPENCASE_NOTIFY_RETRY_BASE_MS: '200',
        OPENCASE_NOTIFY_RETRY_MAX_MS: '400',
        OPENCASE_NOTIFY_POLL_MS: '100',
        OPENCASE_PUBLIC_URL: 'https://cases.example',
        OPENCASE_SMTP_HOST: '127.0.0.1',
        OPENCASE_SMTP_PORT: String(smtp.port),
        OPENCASE_SMTP_STARTTLS: 'off',
        OPENCASE_SMTP_FROM: 'appeals@northshire.example',
      },
    });
    admin = await s.login(USERS.admin);
    caseworker = await s.login(USERS.caseworker);
    officer = await s.login(USERS.officer);
    const ns = await s.req('GET', '/api/v1/cases?limit=1', { auth: caseworker });
    nsCase = ns.body.cases[0].reference;
  });
  after(async () => {
    await s?.close();
    await smtp?.stop();
    await sink?.stop();
  });

  async function create(auth, body, status = 201) {
    const r = await s.req('POST', '/api/v1/appeals', { auth, json: body });
    assert.equal(r.status, status, r.text);
    return r;
  }
  async function published(auth, body) {
    const a = (await create(auth, body)).body.appeal;
    const p = await s.req('POST', `/api/v1/appeals/${a.id}/publish`, { auth });
    assert.equal(p.status, 200, p.text);
    return p.body.appeal;
  }
  async function answer(id, json) {
    const r = await s.req('POST', `/api/v1/public/appeals/${id}/answers`, { json });
    assert.equal(r.status, 201, r.text);
    return r.body.receipt;
  }
  const mailsAbout = (receipt) => smtp.messages.filter((m) => m.mail.text.includes(receipt));

  it('the staff member who drafts an appeal is its officer; a system names one, of its organisation', async () => {
    const mine = (await create(caseworker, appealBody(nsCase))).body.appeal;
    assert.equal(typeof mine.officer_id, 'number');
    const key = await s.createKey('northshire', 'appeals-system', 'caseworker');
    const bySystem = (await create(key, appealBody(nsCase))).body.appeal;
    assert.equal(bySystem.officer_id, null, 'a key stands for no one');
    const named = (await create(key, appealBody(nsCase, { officer_id: mine.officer_id }))).body.appeal;
    assert.equal(named.officer_id, mine.officer_id);

    // A replacement keeps the officer unless it names another, or none.
    const body = { ...appealBody(nsCase), case: undefined };
    let r = await s.req('PUT', `/api/v1/appeals/${named.id}`, { auth: key, json: body });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.appeal.officer_id, mine.officer_id);
    r = await s.req('PUT', `/api/v1/appeals/${named.id}`, { auth: caseworker, json: { ...body, officer_id: null } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.appeal.officer_id, null);

    // Another organisation's member of staff, or no one at all, is refused.
    const wessex = (await s.req('GET', '/api/v1/cases?limit=1', { auth: officer })).body.cases[0].reference;
    const theirs = (await create(officer, appealBody(wessex))).body.appeal;
    assert.equal(typeof theirs.officer_id, 'number');
    for (const officer_id of [theirs.officer_id, 999999]) {
      r = await create(key, appealBody(nsCase, { officer_id }), 400);
      expectError(r, 400, 'invalid_field', 'officer_id');
      assert.match(r.body.error.message, /officer_id/);
      assert.match(r.body.error.message, /this organisation/);
    }
    r = await s.req('PUT', `/api/v1/appeals/${named.id}`, { auth: caseworker, json: { ...body, officer_id: theirs.officer_id } });
    expectError(r, 400, 'invalid_field', 'officer_id');
    for (const officer_id of [0, -3, 'me', 1.5]) {
      expectError(await create(key, appealBody(nsCase, { officer_id }), 400), 400, 'invalid_field', 'officer_id');
    }
    const still = await s.req('GET', `/api/v1/appeals/${named.id}`, { auth: caseworker });
    assert.equal(still.body.appeal.officer_id, null);
  });

  it('emails the officer the appeal, the case and the receipt, but nothing of the witness', async () => {
    const a = await published(caseworker, appealBody(nsCase));
    const witness = `Wendy ${marker('w')}`;
    const saw = `A silver estate car ${marker('s')}`;
    const receipt = await answer(a.id, {
      saw, when: 'About 11pm', anonymous: false,
      contact: { name: witness, email: 'wendy.witness@example.org', phone: '07700 900456', preferred: 'email' },
    });

    const [mail] = await until('the officer\'s email', () => {
      const got = mailsAbout(receipt);
      return got.length ? got : null;
    });
    assert.deepEqual(mail.to, ['caseworker@northshire.example']);
    assert.equal(mail.from, 'appeals@northshire.example');
    assert.ok(mail.mail.subject.includes(`appeal ${a.id}`), mail.mail.subject);
    assert.ok(mail.mail.subject.includes(a.title), mail.mail.subject);
    const text = mail.mail.text;
    for (const expected of [a.title, `Appeal ${a.id}`, nsCase, receipt, `https://cases.example/api/v1/appeals/${a.id}/answers`]) {
      assert.ok(text.includes(expected), `${expected} in\n${text}`);
    }
    for (const secret of [witness, 'Wendy', 'wendy.witness', '07700 900456', saw, 'silver', 'About 11pm']) {
      assert.ok(!text.includes(secret) && !mail.mail.subject.includes(secret), `the email holds ${secret}`);
    }
    assert.ok(!smtp.messages.some((m) => m.to.includes('wendy.witness@example.org')), 'the witness is not emailed');

    // One email, delivered; listed with the case, and the listing reads no
    // one's personal data.
    const purpose = `Checking the outbox ${marker('p')}`;
    const delivered = await until('the delivery', async () => {
      const r = await s.req('GET', '/api/v1/notifications?status=delivered&limit=200', { auth: admin, headers: { 'x-access-purpose': purpose } });
      assert.equal(r.status, 200, r.text);
      const found = r.body.notifications.filter((n) => n.kind === 'appeal_answer' && n.body.includes(receipt));
      return found.length ? found : null;
    });
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].channel, 'email');
    assert.equal(delivered[0].recipient, 'caseworker@northshire.example');
    assert.equal(delivered[0].reference, nsCase);
    const accesses = await s.req('GET', `/api/v1/cases/${nsCase}/accesses`, { auth: admin });
    assert.ok(!accesses.body.accesses.some((x) => x.purpose === purpose), 'no access recorded for a message to staff');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(mailsAbout(receipt).length, 1, 'one email');

    // The answer is still an event on the case.
    const c = await s.req('GET', `/api/v1/cases/${nsCase}`, { auth: caseworker });
    assert.ok(c.body.events.some((e) => e.type === 'appeal_answer' && e.note.includes(receipt)));
  });

  it('without an officer, every administrator of the organisation is told', async () => {
    const a = await published(caseworker, appealBody(nsCase, { officer_id: null }));
    assert.equal(a.officer_id, null);
    const receipt = await answer(a.id, { saw: 'Two people with a ladder', anonymous: true });
    const mails = await until('the administrators\' email', () => {
      const got = mailsAbout(receipt);
      return got.length ? got : null;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(mailsAbout(receipt).flatMap((m) => m.to), ['admin@northshire.example']);
    assert.match(mails[0].mail.text, /anonymous/);
    assert.ok(!mails[0].mail.text.includes('ladder'));
  });

  it('a published appeal can be handed to another officer, and its answers go to them', async () => {
    const a = await published(caseworker, appealBody(nsCase));
    const users = (await s.req('GET', '/api/v1/users', { auth: caseworker })).body.users;
    const adminId = users.find((u) => u.role === 'administrator').id;
    const analystId = users.find((u) => u.role === 'analyst').id;
    const url = `/api/v1/appeals/${a.id}/officer`;
    const r = await s.req('PUT', url, { auth: caseworker, json: { officer_id: adminId } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.appeal.officer_id, adminId);
    assert.equal(r.body.appeal.status, 'published');
    assert.equal((await s.req('GET', `/api/v1/appeals/${a.id}`, { auth: caseworker })).body.appeal.officer_id, adminId);

    const receipt = await answer(a.id, { saw: 'A van without lights', anonymous: true });
    await until('the new officer\'s email', () => (mailsAbout(receipt).length ? true : null));
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(mailsAbout(receipt).flatMap((m) => m.to), ['admin@northshire.example']);

    // Not an analyst, nor another organisation's staff; the body is only officer_id.
    expectError(await s.req('PUT', url, { auth: caseworker, json: { officer_id: analystId } }), 400, 'invalid_field', 'officer_id');
    expectError(await s.req('PUT', url, { auth: caseworker, json: {} }), 400, 'missing_field', 'officer_id');
    expectError(await s.req('PUT', url, { auth: caseworker, json: { officer_id: adminId, title: 'x' } }), 400, 'unknown_field', 'title');
    expectError(await s.req('PUT', url, { auth: officer, json: { officer_id: null } }), 404, 'not_found');
    expectError(await s.req('PUT', url, { json: { officer_id: null } }), 401, 'unauthorized');
    const analyst = await s.login(USERS.analyst);
    expectError(await s.req('PUT', url, { auth: analyst, json: { officer_id: null } }), 403, 'forbidden');
    expectError(await s.req('PUT', '/api/v1/appeals/999999/officer', { auth: caseworker, json: { officer_id: null } }), 404, 'not_found');

    // None: the administrators are told; a closed appeal keeps its officer.
    const none = await s.req('PUT', url, { auth: caseworker, json: { officer_id: null } });
    assert.equal(none.status, 200, none.text);
    assert.equal(none.body.appeal.officer_id, null);
    const closed = await s.req('POST', `/api/v1/appeals/${a.id}/close`, { auth: caseworker, json: { outcome: 'no_further_action' } });
    assert.equal(closed.status, 200, closed.text);
    expectError(await s.req('PUT', url, { auth: caseworker, json: { officer_id: adminId } }), 409, 'conflict');
  });

  it('each webhook hears appeal.answered, signed, without the answer', async () => {
    const h = await s.req('POST', '/api/v1/webhooks', { auth: admin, json: { url: sink.url('/appeals-hook') } });
    assert.equal(h.status, 201, h.text);
    try {
      const a = await published(caseworker, appealBody(nsCase));
      const receipt = await answer(a.id, {
        saw: 'A man in a red coat', anonymous: false,
        contact: { name: 'Hook Witness', phone: '07700 900789', preferred: 'phone' },
      });
      const got = await until('the webhook', () => sink.on('/appeals-hook').find((r) => r.json?.receipt === receipt));
      assert.ok(webhookSignatureValid(h.body.secret, got.headers['opencase-signature'], got.raw), 'the signature checks out');
      assert.equal(got.headers['opencase-event'], 'appeal.answered');
      assert.equal(String(got.json.id), got.headers['opencase-id']);
      assert.equal(got.json.type, 'appeal.answered');
      assert.equal(got.json.appeal_id, a.id);
      assert.equal(got.json.reference, nsCase);
      assert.equal(got.json.organisation, 'Northshire Council');
      assert.match(got.json.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(!/red coat|Hook Witness|07700/.test(got.raw), 'no answer and no contact details in the webhook');
      await until('the officer\'s email too', () => mailsAbout(receipt).length === 1);
    } finally {
      const r = await fetch(s.url(`/api/v1/webhooks/${h.body.webhook.id}`), { method: 'DELETE', headers: { cookie: admin } });
      assert.equal(r.status, 204);
    }
  });

  it('never shows the officer in public answers', async () => {
    const a = await published(caseworker, appealBody(nsCase, { location: { lat: 52.3, lon: -1.9 } }));
    assert.equal(typeof a.officer_id, 'number');
    const texts = [];
    for (const p of [`/api/v1/public/appeals/${a.id}`, '/api/v1/public/appeals?bbox=-2,52.2,-1.8,52.4',
      '/api/v1/public/appeals.geojson?bbox=-2,52.2,-1.8,52.4']) {
      const r = await s.req('GET', p);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.text.includes(`"id":${a.id}`), p);
      texts.push(r.text);
    }
    const page = await fetch(s.url(`/appeals/${a.id}`));
    texts.push(await page.text());
    // The demo's caseworker, who drafted it, is Ben Okoro.
    for (const t of texts) assert.ok(!/officer_id|Ben Okoro/.test(t), 'no officer in public');
  });
});
