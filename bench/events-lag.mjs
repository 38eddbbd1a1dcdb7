// events-lag.mjs — the event feed's lag at full write load: how long after a change commits
// an integration following GET /events gets it (scripts/bench, stage 5).
//
//   MI_BENCH_PORT=P MI_BENCH_SECONDS=S MI_BENCH_LOADGEN=BIN MI_BENCH_EVENTS_AFTER=SEQ \
//     node bench/events-lag.mjs
//
// While bench/loadgen runs the agent cycle at 64 connections (the full write load of stage
// 1), the apiuser "follower" follows the bench contact center's feed from seq SEQ (its newest
// event before the load: the feed is quiet then) with long polls (wait=30, limit 500), and
// the apiuser "feeder" creates a probe interaction in queue "probe" (no members) every 50 ms.
// A probe's lag is the time from the API's answer to its create (the commit came before
// that answer) to the follower's receipt of the page holding its Create event: so it
// counts the stable cut, the long poll's wake-up and the page's read, and it leans low by
// the create answer's trip to the client (well under a millisecond on loopback).
// MI_BENCH_CONNS (64) must not exceed the bench contact center's agents; MI_BENCH_TRACE=1
// prints each page's round trip and size on stderr.
// Prints one JSON line: {"name":"events","headline":{...},"markdown":"..."}.
import { spawn } from 'node:child_process';

const port = Number(process.env.MI_BENCH_PORT);
const secs = Number(process.env.MI_BENCH_SECONDS || 10);
const loadgen = process.env.MI_BENCH_LOADGEN;
let cursor = Number(process.env.MI_BENCH_EVENTS_AFTER || 0);
if (!port || !loadgen) {
  console.error('events-lag.mjs: MI_BENCH_PORT and MI_BENCH_LOADGEN are required');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}/bench/api/v2`;
const auth = (u) => 'Basic ' + Buffer.from(`${u}:password`).toString('base64');
const now = () => Number(process.hrtime.bigint()) / 1e6;

const acked = new Map();   // probe id -> when its create was answered
const seen = new Map();    // probe id -> when the follower got its Create event
const lags = [];
let pages = 0, events = 0, errors = 0, refused = 0, createErrors = 0;
const settle = (id) => {
  if (acked.has(id) && seen.has(id)) lags.push(Math.max(0, seen.get(id) - acked.get(id)));
};

// the load: the agent cycle at 64 connections for the whole measurement
const load = spawn(loadgen, ['-p', String(port), '-c', process.env.MI_BENCH_CONNS || '64', '-d', String(secs + 2), '-w', '1', '-s', 'cycle',
  '-b', '/bench/api/v2'], { stdio: ['ignore', 'pipe', 'inherit'] });
let loadOut = '';
load.stdout.on('data', (d) => { loadOut += d; });
const loadDone = new Promise((resolve) => load.on('close', resolve));

let running = true;
const follow = async () => {
  while (running) {
    let r;
    const t0 = now();
    try {
      const res = await fetch(`${base}/events?after=${cursor}&limit=500&wait=30`,
        { headers: { authorization: auth('follower') } });
      const t = now();
      r = await res.json();
      if (process.env.MI_BENCH_TRACE) console.error(`page ${Math.round(t - t0)} ms, ${r.events?.length} events, more ${r.more}`);
      if (r.statusCode !== 0) {
        if (r.retryAfterMs) { refused++; await new Promise((ok) => setTimeout(ok, r.retryAfterMs)); continue; }
        throw new Error(`GET /events: ${JSON.stringify(r).slice(0, 300)}`);
      }
      pages++;
      for (const e of r.events) {
        events++;
        if (e.operation === 'Create' && e.interaction?.subject === 'feed lag probe' && !seen.has(e.interactionId)) {
          seen.set(e.interactionId, t);
          settle(e.interactionId);
        }
      }
      cursor = r.next;
    } catch (err) {
      errors++;
      if (errors > 20) throw err;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
};

const probe = async () => {
  const body = JSON.stringify({ mediaType: 'email', queueName: 'probe', subject: 'feed lag probe' });
  // the first second warms up with the load
  await new Promise((ok) => setTimeout(ok, 1000));
  const end = now() + secs * 1000;
  while (now() < end) {
    const t0 = now();
    try {
      const res = await fetch(`${base}/interactions`, {
        method: 'POST', body,
        headers: { authorization: auth('feeder'), 'content-type': 'application/json' },
      });
      const t = now();
      const r = await res.json();
      if (r.statusCode === 0 && r.id) { acked.set(r.id, t); settle(r.id); } else createErrors++;
    } catch { createErrors++; }
    const left = 50 - (now() - t0);
    if (left > 0) await new Promise((ok) => setTimeout(ok, left));
  }
};

const follower = follow();
await probe();
await loadDone;
// the last probes' events: give the follower up to 5 s to catch up
const until = now() + 5000;
while (seen.size < acked.size && now() < until) await new Promise((ok) => setTimeout(ok, 50));
running = false;
// the follower may be held in a long poll: one more change ends it
await fetch(`${base}/interactions`, {
  method: 'POST', body: JSON.stringify({ mediaType: 'email', queueName: 'probe', subject: 'feed lag end' }),
  headers: { authorization: auth('feeder'), 'content-type': 'application/json' },
}).catch(() => {});
await follower;

const s = [...lags].sort((a, b) => a - b);
const at = (p) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10 : null);
let cycle = null;
try { cycle = JSON.parse(loadOut.trim().split('\n').pop()); } catch { /* reported as null */ }
const missing = [...acked.keys()].filter((id) => !seen.has(id)).length;
const headline = { events_lag_p50_ms: at(0.5), events_lag_p99_ms: at(0.99) };
const markdown = `
## 5. Event feed lag at full write load

While the agent cycle ran at ${cycle ? cycle.connections : '?'} connections (${cycle ? Math.round(cycle.rps) : '?'} requests/s,
${cycle ? Math.round(cycle.cps) : '?'} cycles/s), one integration followed the contact center's
\`GET /events\` (long polls, \`wait=30\`, \`limit=500\`) and a probe interaction was created every
50 ms. Lag = from the API's answer to a probe's create to the follower receiving its event:
p50 **${at(0.5)} ms**, p90 ${at(0.9)} ms, p99 **${at(0.99)} ms**, max ${at(1)} ms
(${lags.length} probes, ${missing} not seen; ${events} events in ${pages} pages).
`;
console.log(JSON.stringify({
  name: 'events', headline, probes: lags.length, missing, pages, events, errors, refused, createErrors,
  p90: at(0.9), max: at(1), cycle, markdown,
}));
