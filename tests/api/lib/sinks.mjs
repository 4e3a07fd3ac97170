// Local stand-ins for what opencase delivers to: a real SMTP server (the
// smtp-server package) that parses each message with mailparser, and an HTTP
// sink that plays an SMS gateway, GOV.UK Notify and webhook receivers. Both
// listen on 127.0.0.1 only and keep everything they receive for the test to
// read. Waiting is by polling with generous bounds, never by fixed sleeps.
import http from 'node:http';
import crypto from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { freePort } from './server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` until it returns a truthy value, for at most `ms`.
export async function until(what, probe, ms = 60_000, every = 100) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

// An SMTP server without TLS or authentication. `delayMs` holds each message
// before accepting it (a slow server); addresses starting "reject" are
// refused with 550.
export class SmtpSink {
  constructor({ delayMs = 0 } = {}) {
    this.delayMs = delayMs;
    this.messages = [];
    this.port = 0;
    this.server = null;
  }

  async start(port) {
    this.port = port || this.port || (await freePort());
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, session, cb) => {
        if (address.address.startsWith('reject')) {
          const e = new Error('mailbox unavailable');
          e.responseCode = 550;
          cb(e);
          return;
        }
        cb();
      },
      onData: (stream, session, cb) => {
        simpleParser(stream).then(async (mail) => {
          if (this.delayMs) await sleep(this.delayMs);
          this.messages.push({ mail, to: session.envelope.rcptTo.map((r) => r.address), from: session.envelope.mailFrom.address });
          cb();
        }, cb);
      },
    });
    this.server.on('error', () => {});
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', resolve);
    });
    return this;
  }

  async stop() {
    if (!this.server) return;
    const srv = this.server;
    this.server = null;
    await new Promise((resolve) => srv.close(resolve));
  }

  // The notification ids of the messages received, in order.
  ids() {
    return this.messages.map((m) => m.mail.headers.get('x-opencase-notification-id'));
  }
}

// An HTTP server that records every request. `respond(req)` may return
// { status, body } (default 200 {}), or 'hang' to never answer.
export class HttpSink {
  constructor(respond = () => ({ status: 200, body: {} })) {
    this.respond = respond;
    this.requests = [];
    this.port = 0;
    this.hanging = [];
  }

  async start() {
    this.port = await freePort();
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
        const r = { method: req.method, path: req.url, headers: req.headers, raw, json };
        this.requests.push(r);
        const out = this.respond(r);
        if (out === 'hang') {
          this.hanging.push(res);
          return;
        }
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out.body ?? {}));
      });
    });
    await new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  url(p) {
    return `http://127.0.0.1:${this.port}${p}`;
  }

  on(pathPrefix) {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix));
  }

  async stop() {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// Checks a webhook's Opencase-Signature as a receiver would: the HMAC of
// "t.body" with the secret, compared in constant time.
export function webhookSignatureValid(secret, header, raw) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header || '');
  if (!m) return false;
  const mac = crypto.createHmac('sha256', secret).update(`${m[1]}.${raw}`).digest();
  return crypto.timingSafeEqual(mac, Buffer.from(m[2], 'hex'));
}

// Verifies a GOV.UK Notify JWT (HS256) against the secret part of the API
// key; returns its claims, or null.
export function notifyJwtClaims(apiKey, authorization) {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization || '');
  if (!m) return null;
  const secret = apiKey.slice(-36);
  const mac = crypto.createHmac('sha256', secret).update(`${m[1]}.${m[2]}`).digest('base64url');
  if (mac !== m[3]) return null;
  const header = JSON.parse(Buffer.from(m[1], 'base64url').toString());
  if (header.alg !== 'HS256') return null;
  return JSON.parse(Buffer.from(m[2], 'base64url').toString());
}
