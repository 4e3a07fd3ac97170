// notify.mjs - how fast the outbox empties, and how soon a message follows
// its event. Driven by bench/notify.sh; see there.
//
// A local SMTP server and an HTTP webhook receiver take everything opencase
// sends, noting when each message arrives. Two runs on one fresh database:
//   drain   N cases are opened with delivery off (--notify-workers 0), each
//           making an email and a webhook; then the server restarts with its
//           workers, and the rate at which the whole backlog is delivered is
//           measured, per second, from the restart to the last arrival.
//   latency cases are opened at a steady rate with the workers running; the
//           delay of each message is its arrival time minus the time the
//           API acknowledged the event, i.e. after its commit, so the figure
//           is, if anything, an underestimate by the response's trip back.
import { SMTPServer } from 'smtp-server';
import { startServer, USERS } from '../tests/api/lib/server.mjs';
import { HttpSink, until } from '../tests/api/lib/sinks.mjs';
import { freePort } from '../tests/api/lib/server.mjs';

const N = Number(process.env.BENCH_NOTIFY_CASES || 2000);
const RATE = Number(process.env.BENCH_NOTIFY_RATE || 50);
const LATENCY_CASES = Number(process.env.BENCH_NOTIFY_LATENCY_CASES || 500);
const WORKERS = process.env.BENCH_NOTIFY_WORKERS || '4';
const CONCURRENCY = 16;

const arrivals = new Map(); // "email:REF" or "webhook:REF" -> ms

function smtpSink(port) {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      let head = '';
      stream.on('data', (d) => { if (head.length < 4096) head += d; });
      stream.on('end', () => {
        const ref = /^Subject: Your case ([A-Z0-9-]+):/m.exec(head);
        if (ref && !arrivals.has(`email:${ref[1]}`)) arrivals.set(`email:${ref[1]}`, performance.now());
        cb();
      });
    },
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function openCases(s, auth, count, tag, paceMs, commits) {
  let next = 0;
  const started = performance.now();
  async function one() {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      if (paceMs) {
        const due = started + i * paceMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const r = await fetch(s.url('/api/v1/cases'), {
        method: 'POST',
        headers: { cookie: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'parking-permit', summary: `bench ${i}`, person: { name: `P ${i}`, email: `${tag}-${i}@example.org` } }),
      });
      const body = await r.json();
      if (r.status !== 201) throw new Error(`open a case: ${r.status} ${JSON.stringify(body)}`);
      if (commits) commits.set(body.case.reference, performance.now());
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, one));
}

async function main() {
  const smtpPort = await freePort();
  const smtp = await smtpSink(smtpPort);
  const hooks = await new HttpSink((r) => {
    if (r.json && r.json.reference && !arrivals.has(`webhook:${r.json.reference}`)) arrivals.set(`webhook:${r.json.reference}`, performance.now());
    return { status: 200, body: {} };
  }).start();
  const env = {
    OPENCASE_SMTP_HOST: '127.0.0.1',
    OPENCASE_SMTP_PORT: String(smtpPort),
    OPENCASE_SMTP_STARTTLS: 'off',
    OPENCASE_SMTP_FROM: 'updates@northshire.example',
    OPENCASE_NOTIFY_POLL_MS: '1000',
    OPENCASE_NOTIFY_WORKERS: '0',
  };
  const s = await startServer({ cases: 10, env });
  const out = {};
  try {
    let admin = await s.login(USERS.admin);
    const hook = await s.req('POST', '/api/v1/webhooks', { auth: admin, json: { url: hooks.url('/hook') } });
    if (hook.status !== 201) throw new Error(hook.text);

    // drain
    await openCases(s, admin, N, 'drain', 0, null);
    await s.stop();
    s.env = { ...env, OPENCASE_NOTIFY_WORKERS: WORKERS };
    const restart = performance.now();
    await s.start();
    await until('the backlog delivered', () => arrivals.size >= 2 * N, 600_000, 50);
    const last = Math.max(...arrivals.values());
    out.drain = { notifications: 2 * N, seconds: (last - restart) / 1000, per_second: (2 * N) / ((last - restart) / 1000) };

    // latency
    arrivals.clear();
    admin = await s.login(USERS.admin);
    const commits = new Map();
    await openCases(s, admin, LATENCY_CASES, 'lat', 1000 / RATE, commits);
    await until('the steady run delivered', () => arrivals.size >= 2 * LATENCY_CASES, 600_000, 50);
    for (const ch of ['email', 'webhook']) {
      const d = [];
      for (const [ref, t] of commits) d.push(Math.max(0, arrivals.get(`${ch}:${ref}`) - t));
      d.sort((a, b) => a - b);
      out[ch] = { messages: d.length, p50_ms: pct(d, 50), p99_ms: pct(d, 99), max_ms: d[d.length - 1] };
    }
    out.settings = { backend: s.backend, drain_cases: N, latency_cases: LATENCY_CASES, rate_per_s: RATE, workers: Number(WORKERS) };
  } finally {
    await s.close();
    await hooks.stop();
    await new Promise((r) => smtp.close(r));
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
