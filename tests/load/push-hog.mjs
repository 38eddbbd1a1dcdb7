// push-hog.mjs — one user tries to take the server with push connects; another user's plain
// GETs are timed meanwhile (docs/security.md, "Connections, threads and held push connects").
//
//   node tests/load/push-hog.mjs --port P --cc t18 [--hog agent1] [--other agent2]
//        [--sessions 140] [--seconds 30] [--every 200] [--handshakes]
//
// The hog runs --sessions clients of one user that behave as CometD does: each handshakes,
// keeps a /meta/connect outstanding, comes back after the advice's interval, and handshakes
// again when told to.  The other user sends GET /me every --every ms, each given up after
// 30 s.
// Prints one JSON line: sessions opened and refused, connects answered (how many within a
// second, how many found their session expired), and the other user's GET latencies in ms
// (a GET given up after 30 s counts as 30000).
//
// With --handshakes the hog's --sessions clients instead handshake and disconnect in a loop,
// as fast as they are answered, and the line says how many handshakes a second opened a
// session and how many were refused.
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({ options: {
  port: { type: 'string' }, cc: { type: 'string', default: 't18' },
  hog: { type: 'string', default: 'agent1' }, other: { type: 'string', default: 'agent2' },
  sessions: { type: 'string', default: '140' }, seconds: { type: 'string', default: '30' },
  every: { type: 'string', default: '200' }, handshakes: { type: 'boolean', default: false },
} });
if (!o.port) { console.error('usage: push-hog.mjs --port P [--cc t18] [--sessions 140] [--seconds 30]'); process.exit(2); }
const base = `http://127.0.0.1:${o.port}/${o.cc}/api/v2`;
const auth = (u) => 'Basic ' + Buffer.from(`${u}:password`).toString('base64');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let id = 0;

async function bayeux(msg) {
  const r = await fetch(`${base}/notifications`, { method: 'POST', signal: AbortSignal.timeout(60000),
    headers: { Authorization: auth(o.hog), 'Content-Type': 'application/json' }, body: JSON.stringify([msg]) });
  return (await r.json())[0];
}

// opened/refused: handshakes; connects: answered (atOnce: within a second, not held); lost:
// the session had expired meanwhile (402: its connects waited too long for a thread)
const stats = { opened: 0, refused: 0, connects: 0, atOnce: 0, lost: 0, errors: 0 };
const end = Date.now() + Number(o.seconds) * 1000;

if (o.handshakes) {
  const n = { opened: 0, refused: 0, errors: 0 };
  await Promise.all(Array.from({ length: Number(o.sessions) }, async () => {
    while (Date.now() < end) {
      try {
        const r = await bayeux({ id: String(++id), channel: '/meta/handshake', version: '1.0',
          supportedConnectionTypes: ['long-polling'] });
        if (!r.successful) { n.refused++; continue; }
        n.opened++;
        await bayeux({ channel: '/meta/disconnect', clientId: r.clientId });
      } catch { n.errors++; }
    }
  }));
  const secs = Number(o.seconds);
  console.log(JSON.stringify({ openedPerSecond: Math.round(n.opened / secs), refusedPerSecond: Math.round(n.refused / secs),
    ...n }));
  process.exit(0);
}

// the hog: --sessions clients, each behaving as CometD does (handshake, keep one connect
// outstanding, come back after the advice's interval, handshake again when its session is
// unknown), all of one user and without cookies (each its own browser)
const sessions = new Set();
const loops = Array.from({ length: Number(o.sessions) }, async () => {
  let clientId = null;
  while (Date.now() < end) {
    let r;
    try {
      if (clientId === null) {
        r = await bayeux({ id: String(++id), channel: '/meta/handshake', version: '1.0',
          supportedConnectionTypes: ['long-polling'] });
        if (r.successful) { stats.opened++; clientId = r.clientId; sessions.add(clientId); }
        else { stats.refused++; await sleep(r.advice && r.advice.interval > 0 ? r.advice.interval : 1000); }
        continue;
      }
      const t0 = Date.now();
      r = await bayeux({ id: String(++id), channel: '/meta/connect', connectionType: 'long-polling', clientId });
      if (!r.successful) { stats.lost++; sessions.delete(clientId); clientId = null; continue; }
      stats.connects++;
      if (Date.now() - t0 < 1000) stats.atOnce++;
      if (r.advice && r.advice.interval > 0) await sleep(r.advice.interval);
    } catch { stats.errors++; await sleep(1000); }
  }
});

// the other user
await sleep(1000);
const times = [];
while (Date.now() < end) {
  const t0 = Date.now();
  try {
    const r = await fetch(`${base}/me`, { headers: { Authorization: auth(o.other) }, signal: AbortSignal.timeout(30000) });
    await r.text();
    times.push(r.status === 200 ? Date.now() - t0 : 30000);
  } catch { times.push(30000); }   // given up after 30 s
  await sleep(Number(o.every));
}
// a disconnect answers the session's held connect; the loops then end
await Promise.allSettled([...sessions].map((clientId) => bayeux({ channel: '/meta/disconnect', clientId })));
await Promise.allSettled(loops);

times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
console.log(JSON.stringify({ ...stats, gets: times.length, p50: q(0.5), p99: q(0.99), max: times[times.length - 1],
  over2s: times.filter((t) => t > 2000).length }));
