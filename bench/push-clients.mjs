// push-clients.mjs — Bayeux sessions for bench/push.mjs, run as a child process (fork) so
// that many sessions can be spread over several processes.  The parent sends one command:
//
//   {cmd: 'start', kind: 'raw'|'raw-ws'|'cometd'|'cometd-ws', url, sessions: [{user, channel}], ramp}
//
// 'raw' is a plain long-polling Bayeux client over node:http (what CometD does on the wire:
// handshake, subscribe, then one /meta/connect after the other, honouring advice.interval),
// cheap enough to run thousands per process, and usable against any Bayeux server (Faye
// too); 'raw-ws' the same over one WebSocket per session (the ws package, as CometD's Node
// adapter uses it).  'cometd' uses the official CometD JavaScript client
// (tests/lib/push.mjs) with long-polling, 'cometd-ws' with its preferred websocket transport.
//
// The child answers {ev: 'ready', ok, failed, ms} once every session is subscribed and its
// first held connect is on its way, and then to
//   {cmd: 'stats'}  -> {ev: 'stats', received: [per session], inflight, polling, busyAdvice,
//                       errors, handshakes, connects}
//   {cmd: 'dump', file} -> writes "referenceId received_us session" lines for every data
//                       message received (received_us: CLOCK_MONOTONIC microseconds, as
//                       bench/loadgen -L writes them) -> {ev: 'dumped', n}
//   {cmd: 'reset'}  -> forgets what was received -> {ev: 'reset'}
//   {cmd: 'stop'}   -> disconnects the sessions and exits.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

// the ws package of the tests' node_modules (bench/ has none of its own)
const { WebSocket } = createRequire(new URL('../tests/package.json', import.meta.url))('ws');

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const basic = (user) => 'Basic ' + Buffer.from(`${user}:password`).toString('base64');

let received = [];          // per session: data messages
let recRef = new Float64Array(1 << 16), recT = new Float64Array(1 << 16), recS = new Int32Array(1 << 16);
let nrec = 0;
const counters = { errors: 0, handshakes: 0, connects: 0, busyAdvice: 0, inflight: 0, polling: 0,
  lastError: null };
const stopping = { on: false };
let countHandshakes = () => counters.handshakes;
const live = new Map();     // raw sessions: index -> {url, user, clientId}
let disconnectAll = async () => {
  // a disconnect answers the session's held connect at once, so no server thread stays
  // blocked on a connection that is gone
  const all = [...live.values()];
  for (let i = 0; i < all.length; i += 200) {
    await Promise.all(all.slice(i, i + 200).map((s) =>
      post(s.url, s.user, [{ channel: '/meta/disconnect', clientId: s.clientId }]).catch(() => {})));
  }
};

function record(session, ref, t) {
  received[session]++;
  if (nrec === recRef.length) {
    const grow = (a, C) => { const b = new C(a.length * 2); b.set(a); return b; };
    recRef = grow(recRef, Float64Array); recT = grow(recT, Float64Array); recS = grow(recS, Int32Array);
  }
  recRef[nrec] = typeof ref === 'number' ? ref : 0;
  recT[nrec] = t;
  recS[nrec] = session;
  nrec++;
}

// ------------------------------------------------------------------ raw Bayeux

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100000 });

function post(url, user, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) };
    if (user) headers.Authorization = basic(user);
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const t = nowUs();
        try {
          resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()), t });
        } catch (e) {
          reject(new Error(`HTTP ${res.statusCode}: not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rawSession(i, url, user, channel, onReady) {
  let id = 0, attempts = 0;
  for (;;) {
    if (stopping.on) return;
    let clientId;
    try {
      const hs = await post(url, user, [{ id: String(++id), channel: '/meta/handshake', version: '1.0',
        minimumVersion: '1.0', supportedConnectionTypes: ['long-polling'] }]);
      if (!hs.json[0] || !hs.json[0].successful) throw new Error(`handshake: ${JSON.stringify(hs.json)}`);
      counters.handshakes++;
      clientId = hs.json[0].clientId;
      live.set(i, { url, user, clientId });
      const sub = await post(url, user, [{ id: String(++id), channel: '/meta/subscribe', clientId,
        subscription: channel }]);
      if (!sub.json[0] || !sub.json[0].successful) throw new Error(`subscribe: ${JSON.stringify(sub.json)}`);
      // the first connect answers at once (CometD sends advice.timeout 0); the next one is held
      let first = true;
      for (;;) {
        if (stopping.on) return;
        const m = { id: String(++id), channel: '/meta/connect', clientId, connectionType: 'long-polling' };
        if (first) m.advice = { timeout: 0 };
        counters.inflight++;
        if (!first && onReady) { const f = onReady; onReady = null; f(true); }
        let r;
        try {
          r = await post(url, user, [m]);
        } finally {
          counters.inflight--;
        }
        counters.connects++;
        first = false;
        let reply;
        for (const x of r.json) {
          if (x.channel === '/meta/connect') reply = x;
          else if (x.data !== undefined) record(i, x.data && x.data.referenceId, r.t);
        }
        if (!reply || !reply.successful) {
          const adv = (reply && reply.advice) || {};
          if (adv.reconnect === 'handshake' || adv.reconnect === undefined) break;   // handshake again
          throw new Error(`connect: ${JSON.stringify(reply)}`);
        }
        const interval = (reply.advice && reply.advice.interval) || 0;
        if (interval > 0) {
          counters.busyAdvice++;
          counters.polling++;
          await sleep(interval);
          counters.polling--;
        }
      }
    } catch (e) {
      counters.errors++;
      counters.lastError = String(e.message || e);
      // a session not yet ready gets a few more tries (a loaded server may let a fresh
      // session expire before its subscribe arrives)
      if (onReady && ++attempts >= 20) { const f = onReady; onReady = null; f(false); }
      await sleep(500);
    }
  }
}

// ------------------------------------------------------------------ raw Bayeux over WebSocket

const wsLive = new Map();   // raw-ws sessions: index -> {ws, clientId}

/** One session over its own WebSocket: the same exchange as rawSession(), each message a
 *  text frame; data messages may come in any frame (Faye sends them apart from the connect
 *  reply, mod_interactions with it). */
async function rawWsSession(i, url, user, channel, onReady) {
  let id = 0, attempts = 0;
  for (;;) {
    if (stopping.on) return;
    let ws;
    try {
      ws = new WebSocket(url.replace(/^http/, 'ws'), { headers: { Authorization: basic(user) }, perMessageDeflate: false });
      const pending = new Map();
      const fail = (e) => { for (const [, p] of pending) p.reject(e); pending.clear(); };
      ws.on('message', (buf) => {
        const t = nowUs();
        let msgs;
        try { msgs = JSON.parse(buf.toString()); } catch { fail(new Error('not JSON')); return; }
        for (const x of Array.isArray(msgs) ? msgs : [msgs]) {
          if (x.data !== undefined && x.channel && !x.channel.startsWith('/meta/')) record(i, x.data && x.data.referenceId, t);
          else if (x.id !== undefined && pending.has(x.id)) { pending.get(x.id).resolve(x); pending.delete(x.id); }
        }
      });
      ws.on('close', () => fail(new Error('closed')));
      ws.on('error', (e) => fail(e));
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); ws.once('unexpected-response', (q, res) => reject(new Error(`upgrade: HTTP ${res.statusCode}`))); });
      const call = (m) => new Promise((resolve, reject) => {
        m.id = String(++id);
        pending.set(m.id, { resolve, reject });
        ws.send(JSON.stringify([m]));
      });
      const hs = await call({ channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0',
        supportedConnectionTypes: ['websocket', 'long-polling'] });
      if (!hs.successful) throw new Error(`handshake: ${JSON.stringify(hs)}`);
      counters.handshakes++;
      const clientId = hs.clientId;
      wsLive.set(i, { ws, clientId });
      const sub = await call({ channel: '/meta/subscribe', clientId, subscription: channel });
      if (!sub.successful) throw new Error(`subscribe: ${JSON.stringify(sub)}`);
      let first = true;
      for (;;) {
        if (stopping.on) return;
        const m = { channel: '/meta/connect', clientId, connectionType: 'websocket' };
        if (first) m.advice = { timeout: 0 };
        counters.inflight++;
        if (!first && onReady) { const f = onReady; onReady = null; f(true); }
        let reply;
        try {
          reply = await call(m);
        } finally {
          counters.inflight--;
        }
        counters.connects++;
        first = false;
        if (!reply.successful) {
          const adv = reply.advice || {};
          if (adv.reconnect === 'handshake' || adv.reconnect === undefined) break;
          throw new Error(`connect: ${JSON.stringify(reply)}`);
        }
        const interval = (reply.advice && reply.advice.interval) || 0;
        if (interval > 0) {
          counters.busyAdvice++;
          counters.polling++;
          await sleep(interval);
          counters.polling--;
        }
      }
      ws.close();
    } catch (e) {
      if (ws) ws.terminate();
      wsLive.delete(i);
      if (stopping.on) return;
      counters.errors++;
      counters.lastError = String(e.message || e);
      if (onReady && ++attempts >= 20) { const f = onReady; onReady = null; f(false); }
      await sleep(500);
    }
  }
}

// ------------------------------------------------------------------ the official CometD client

async function cometdSessions(url, sessions, websocket = false) {
  const { cometdClient } = await import('../tests/lib/push.mjs');
  const clients = [];
  let ok = 0, failed = 0;
  await Promise.all(sessions.map(async (s, i) => {
    try {
      // CometD's WebSocket carries no configured header: the credentials go in the URL
      const u = websocket ? url.replace('://', `://${s.user}:password@`) : url;
      const c = await cometdClient({ user: s.user, channels: [s.channel], url: u, websocket, logLevel: 'error' });
      if (websocket && c.cometd.getTransport().type !== 'websocket') throw new Error(`${s.user}: not on websocket`);
      // count and time instead of keeping every message
      c.messages.push = (m) => { record(i, m.data && m.data.referenceId, nowUs()); return 0; };
      clients.push(c);
      ok++;
    } catch (e) {
      counters.errors++;
      counters.lastError = String(e.message || e);
      failed++;
    }
  }));
  disconnectAll = () => Promise.all(clients.map((c) => c.disconnect()));
  countHandshakes = () => clients.reduce((a, c) => a + c.meta.handshakes, 0);
  return { ok, failed };
}

// ------------------------------------------------------------------ commands

// never outlive the benchmark
process.on('disconnect', () => process.exit(0));

process.on('message', async (msg) => {
  if (msg.cmd === 'start') {
    const t0 = Date.now();
    received = new Array(msg.sessions.length).fill(0);
    let res;
    if (msg.kind === 'cometd' || msg.kind === 'cometd-ws') {
      res = await cometdSessions(msg.url, msg.sessions, msg.kind === 'cometd-ws');
    } else {
      const session = msg.kind === 'raw-ws' ? rawWsSession : rawSession;
      if (msg.kind === 'raw-ws') {
        disconnectAll = async () => {
          for (const s of wsLive.values()) {
            try { s.ws.send(JSON.stringify([{ channel: '/meta/disconnect', clientId: s.clientId }])); } catch { /* gone */ }
          }
          await sleep(500);
          for (const s of wsLive.values()) s.ws.close();
        };
      }
      let ok = 0, failed = 0;
      const ready = [];
      // start a few at a time: thousands of simultaneous handshakes measure nothing useful
      const batch = msg.ramp || 50;
      for (let i = 0; i < msg.sessions.length; i += batch) {
        const part = msg.sessions.slice(i, i + batch).map((s, k) => new Promise((resolve) => {
          session(i + k, msg.url, s.user, s.channel, (good) => { if (good) ok++; else failed++; resolve(); });
        }));
        ready.push(...part);
        await Promise.all(part);
      }
      await Promise.all(ready);
      res = { ok, failed };
    }
    process.send({ ev: 'ready', ...res, ms: Date.now() - t0, lastError: counters.lastError });
  } else if (msg.cmd === 'stats') {
    process.send({ ev: 'stats', received, ...counters, handshakes: countHandshakes(), cpu: process.cpuUsage(),
      rss: process.memoryUsage().rss });
  } else if (msg.cmd === 'dump') {
    const lines = [];
    for (let k = 0; k < nrec; k++) lines.push(`${recRef[k]} ${recT[k]} ${recS[k]}`);
    fs.writeFileSync(msg.file, lines.join('\n') + (nrec ? '\n' : ''));
    process.send({ ev: 'dumped', n: nrec });
  } else if (msg.cmd === 'reset') {
    received = received.map(() => 0);
    nrec = 0;
    process.send({ ev: 'reset' });
  } else if (msg.cmd === 'stop') {
    stopping.on = true;
    await Promise.race([disconnectAll(), sleep(msg.wait || 10000)]);
    process.exit(0);
  }
});
