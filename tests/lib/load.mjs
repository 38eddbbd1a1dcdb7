// load.mjs — the load generator of the tests and of the push benchmark, as a library and as a
// command (bench/loadgen.c is the other one: the benchmarks' fixed HTTP request shapes at
// the highest rates, in C).
//
// The library:
//   mixedLoad()/verifyLoad()  a mixed contact-center workload through HTTP that counts
//       everything the clients see, for the fault tests (process kills, graceful restarts,
//       database failover) and the soak: a feeder creates interactions (each with its own
//       externalId, retried with the same one until acknowledged), agents accept what they
//       are offered, write user data and complete; then what the database holds, against
//       what the clients were told.  Every simulated user has its own keep-alive connection,
//       like a desktop (Client);
//   bayeuxSession()  one push client that behaves on the wire as CometD does, cheap enough
//       to run thousands per process, against any Bayeux server (Faye too).
//   bayeuxWsSession()  the same over one WebSocket (CometD's websocket transport).
//
// The command, one scenario a run:
//   node tests/lib/load.mjs mixed --port P ...      the mixed workload, a fault injected on
//       the way, then drain and check (tests/system/patroni-failover.sh, soak.sh)
//   node tests/lib/load.mjs push-hog --port P ...   one user trying to take the server with
//       push connects while another user's GETs are timed (docs/security.md)
//   node tests/lib/load.mjs push-sessions           Bayeux sessions in a child process that
//       bench/push.mjs forks and drives over IPC
// Each scenario's options are at its function below.
//
// What counts as a failed request: no HTTP response at all (connection refused, reset,
// timeout) after the one retry every HTTP client makes when a *reused* keep-alive connection
// turns out to have been closed by the server before it answered (Node's documented
// `request.reusedSocket` pattern; browsers do the same).  Those retries are counted apart.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { WebSocket } from 'ws';

export function basePath(cc) { return cc === 'demo' ? '/api/v2' : `/${cc}/api/v2`; }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Everything the clients saw. */
export class Stats {
  constructor() {
    this.http = {};          // HTTP status -> count
    this.api = {};           // "HTTP/statusCode" of non-200 answers -> count
    this.netErrors = {};     // error code -> count (requests that got no response)
    this.reusedRetries = 0;  // requests re-sent after a reused keep-alive connection closed
    this.requests = 0;
    this.maxMs = 0;
    this.samples = [];       // [t, ok] of every request, for the time line of a fault
  }
  response(status, statusCode, ms) {
    this.requests++;
    this.http[status] = (this.http[status] || 0) + 1;
    if (status !== 200) this.api[`${status}/${statusCode}`] = (this.api[`${status}/${statusCode}`] || 0) + 1;
    this.maxMs = Math.max(this.maxMs, ms);
    this.samples.push([Date.now(), status]);
  }
  failure(code, ms) {
    this.requests++;
    this.netErrors[code] = (this.netErrors[code] || 0) + 1;
    this.maxMs = Math.max(this.maxMs, ms);
    this.samples.push([Date.now(), 0]);
  }
  get ok() { return this.http[200] || 0; }
  get failed() { return Object.values(this.netErrors).reduce((a, b) => a + b, 0); }
  count(pred) { return Object.entries(this.http).filter(([s]) => pred(Number(s))).reduce((a, [, n]) => a + n, 0); }
  summary() {
    return { requests: this.requests, http: this.http, refusals: this.api, noResponse: this.netErrors,
      reusedConnectionRetries: this.reusedRetries, slowestMs: this.maxMs };
  }
}

/** One user's keep-alive HTTP client. */
export class Client {
  constructor({ port, cc, user, password = 'password', stats, timeoutMs = 30000, host = '127.0.0.1' }) {
    Object.assign(this, { port, cc, user, stats, timeoutMs, host });
    this.auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }
  close() { this.agent.destroy(); }

  once(method, path, payload) {
    return new Promise((resolve, reject) => {
      const headers = { Authorization: this.auth };
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      const req = http.request({ host: this.host, port: this.port, method, path: basePath(this.cc) + path,
        headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, json, text });
        });
        res.on('error', (e) => { e.reused = req.reusedSocket; reject(e); });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => { e.reused = req.reusedSocket; reject(e); });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** A request; resolves {status, json} or, when no response came, {status: 0, error}. */
  async call(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.once(method, path, payload);
        this.stats?.response(r.status, r.json?.statusCode, Date.now() - t0);
        return r;
      } catch (e) {
        if (attempt === 0 && e.reused && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          if (this.stats) this.stats.reusedRetries++;
          continue;
        }
        this.stats?.failure(e.code || e.message, Date.now() - t0);
        return { status: 0, error: e };
      }
    }
  }
}

/**
 * Run the mixed workload until stop() resolves true, then drain until drained() does.
 *   port, cc, agents (logins, made Ready here), prefix (externalIds), stats,
 *   backlog: how many unfinished interactions the feeder allows before it waits,
 *   rate: at most this many creates per second,
 *   stop: async () => bool (polled), drained: async () => bool, drainMs (bound).
 * Returns what was acknowledged: {created: Map(externalId -> id), attempted, updates:
 * [{id, key, value}], completed: Set(id)}.
 */
export async function mixedLoad(o) {
  const { port, cc, agents, prefix, stats, backlog = 2 * agents.length, stop, drained, drainMs = 60000,
    host, rate } = o;
  const acks = { created: new Map(), attempted: 0, updates: [], completed: new Set(), accepted: new Set() };
  let stopping = false;
  let finished = false;
  const feeder = new Client({ port, cc, user: 'feeder', stats, host });
  const clients = agents.map((user) => new Client({ port, cc, user, stats, host }));

  for (const c of clients) {
    for (;;) {
      const r = await c.call('POST', '/me/channels/email', { operationName: 'Ready' });
      if (r.status === 200) break;
      await sleep(200);
    }
  }

  const feed = async () => {
    let n = 0;
    const t0 = Date.now();
    while (!stopping) {
      if (acks.created.size - acks.completed.size >= backlog) { await sleep(5); continue; }
      if (rate && n >= ((Date.now() - t0) / 1000) * rate) { await sleep(10); continue; }
      const externalId = `${prefix}-${++n}`;
      acks.attempted++;
      // retried with the same externalId until acknowledged: it exists once, whatever happened
      for (;;) {
        const r = await feeder.call('POST', '/interactions', { mediaType: 'email', queueName: 'support',
          subject: externalId, externalId, userData: { seq: n } });
        if (r.status === 200 && r.json?.statusCode === 0) { acks.created.set(externalId, r.json.id); break; }
        if (finished) return;
        await sleep(r.status === 503 ? 200 : 50);
      }
    }
  };

  const work = async (c) => {
    let n = 0;
    while (!finished) {
      const r = await c.call('GET', '/me/interactions?fields=*');
      if (r.status !== 200 || !r.json?.interactions) { await sleep(r.status === 503 ? 200 : 50); continue; }
      if (r.json.interactions.length === 0) { await sleep(10); continue; }
      for (const i of r.json.interactions) {
        if (finished) break;
        const opPath = `/me/interactions/${i.id}`;
        if (i.state === 'Invited') {
          const a = await c.call('POST', opPath, { operationName: 'Accept' });
          if (a.status === 200) acks.accepted.add(i.id);
        } else if (i.state === 'Processing' && !(`by_${c.user}` in (i.userData || {}))) {
          const value = `${c.user}-${++n}`;
          const u = await c.call('POST', opPath, { operationName: 'UpdateUserData', userData: { [`by_${c.user}`]: value } });
          if (u.status === 200) acks.updates.push({ id: i.id, key: `by_${c.user}`, value });
        } else if (i.state === 'Processing') {
          const d = await c.call('POST', opPath, { operationName: 'Complete' });
          if (d.status === 200) acks.completed.add(i.id);
        }
      }
    }
  };

  const feeding = feed();
  const working = clients.map(work);
  while (!(await stop())) await sleep(100);
  stopping = true;
  await feeding;
  const until = Date.now() + drainMs;
  while (!(await drained()) && Date.now() < until) await sleep(100);
  finished = true;
  await Promise.all(working);
  for (const c of clients) {
    await c.call('POST', '/me/channels/email', { operationName: 'NotReady' });
    c.close();
  }
  feeder.close();
  acks.drained = await drained();
  return acks;
}

/**
 * What the database says about a load run: every acknowledged create exists exactly once,
 * nothing else was created, every interaction was completed exactly once, every
 * acknowledged user-data write is in the history, and the invariant checker is silent.
 * @q: async (sql, params) => rows (as a superuser or the DBA role); @prefix: only the
 * interactions whose externalId starts with it (other runs may share the contact center).
 */
export async function verifyLoad(q, ccId, acks, { prefix } = {}) {
  const mine = prefix ? `AND external_id LIKE '${prefix.replace(/'/g, "''")}-%'` : '';
  const rows = await q(`SELECT i.external_id, i.id::text, i.state,
        (SELECT count(*)::int FROM interactions.history h WHERE h.cc_id = i.cc_id AND h.interaction_id = i.id AND h.operation = 'Create') AS creates,
        (SELECT count(*)::int FROM interactions.history h WHERE h.cc_id = i.cc_id AND h.interaction_id = i.id AND h.operation = 'Complete') AS completes
      FROM interactions.interactions i WHERE i.cc_id = $1 ${mine}`, [ccId]);
  const byExt = new Map(rows.map((r) => [r.external_id, r]));
  const problems = [];
  for (const [ext, id] of acks.created) {
    const r = byExt.get(ext);
    if (!r) problems.push(`acknowledged create ${ext} (${id}) is missing`);
    else if (r.id !== id) problems.push(`${ext}: acknowledged as ${id}, stored as ${r.id}`);
  }
  for (const r of rows) {
    if (!acks.created.has(r.external_id)) problems.push(`${r.external_id} exists but was never acknowledged`);
    if (r.creates !== 1) problems.push(`${r.external_id}: ${r.creates} Create rows in the history`);
    if (r.state !== 'Completed' || r.completes !== 1) problems.push(`${r.external_id}: ${r.state}, ${r.completes} Complete rows`);
  }
  const dup = await q(`SELECT external_id, count(*)::int AS n FROM interactions.interactions WHERE cc_id = $1 ${mine}
                        GROUP BY 1 HAVING count(*) > 1`, [ccId]);
  for (const d of dup) problems.push(`${d.external_id} stored ${d.n} times`);
  const hist = await q(`SELECT interaction_id::text AS id, user_data_change FROM interactions.history
                         WHERE cc_id = $1 AND operation = 'UpdateUserData'`, [ccId]);
  const written = new Set(hist.flatMap((h) => Object.entries(h.user_data_change?.set || {}).map(([k, v]) => `${h.id}/${k}/${v}`)));
  for (const u of acks.updates) {
    if (!written.has(`${u.id}/${u.key}/${u.value}`)) problems.push(`acknowledged user data ${u.key}=${u.value} of ${u.id} is not in the history`);
  }
  for (const id of acks.completed) {
    const r = rows.find((x) => x.id === id);
    if (!r || r.state !== 'Completed') problems.push(`acknowledged Complete of ${id} is not stored`);
  }
  const v = await q(`SELECT interactions.invariant_violations($1, true) AS v`, [ccId]);
  for (const x of v) problems.push(`invariant: ${x.v}`);
  return {
    problems,
    counts: { attempted: acks.attempted, acknowledgedCreates: acks.created.size, stored: rows.length,
      completed: rows.filter((r) => r.state === 'Completed').length, acknowledgedUpdates: acks.updates.length,
      acknowledgedCompletes: acks.completed.size },
  };
}

/**
 * What a supervisor's push session (subscribed to /v2/interactions) must have received for a
 * load run: for every acknowledged interaction, its completion exactly once.  @messages:
 * {channel, data} as tests/lib/push.mjs collects them.
 */
export function pushProblems(messages, acks) {
  const completed = new Map();
  for (const m of messages) {
    const i = m.data?.interaction;
    if (i && i.state === 'Completed') completed.set(i.id, (completed.get(i.id) || 0) + 1);
  }
  const problems = [];
  for (const [ext, id] of acks.created) {
    const n = completed.get(id) || 0;
    if (n !== 1) problems.push(`${ext}: its completion was pushed ${n} times`);
  }
  return problems;
}

// ------------------------------------------------------------------ Bayeux over HTTP

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const basic = (user) => 'Basic ' + Buffer.from(`${user}:password`).toString('base64');
// thousands of sessions, each with its own held request
const bayeuxAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100000 });

/**
 * POST Bayeux @messages (an array) to @url as @user (none: no credentials) ->
 * {status, json, t}: t is when the answer ended, in CLOCK_MONOTONIC microseconds (the clock
 * of process.hrtime, which bench/loadgen -L writes too).  Rejects when the answer is not
 * JSON, or after @timeoutMs without one.
 */
export function bayeuxPost(url, user, messages, { timeoutMs } = {}) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(messages);
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) };
    if (user) headers.Authorization = basic(user);
    const req = http.request(url, { method: 'POST', agent: bayeuxAgent, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const t = nowUs();
        try {
          resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()), t });
        } catch {
          reject(new Error(`HTTP ${res.statusCode}: not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * One push client that behaves as CometD does on the wire, until stop() says so: handshake,
 * subscribe to @channel (when given), then one /meta/connect after the other (the first with
 * advice.timeout 0 when @firstAtOnce, as CometD sends it), waiting advice.interval between
 * them, and a new handshake when the server has forgotten the session.
 *   url, user, channel, firstAtOnce (true), timeoutMs (per request; none), stop,
 *   errorPauseMs: the pause after an error (500),
 *   retryConnectOnError: after an error on a connect, connect again with the same session
 *       rather than handshake anew (false),
 *   on: what the caller counts, each optional:
 *     handshake(clientId)          a session opened
 *     refused(reply) -> ms         a handshake refused; the pause before the next (without
 *                                  this hook a refusal is an error)
 *     connecting(first)            a connect is sent;  answered()  it ended, however
 *     reply(reply)                 the connect's reply (undefined when there was none)
 *     message(msg, t)              a data message, t as bayeuxPost's
 *     connect(reply, ms)           a successful connect and its round trip
 *     lost(reply, clientId)        an unsuccessful connect: handshake again (without this
 *                                  hook: again when the advice says handshake, else an error)
 *     pause(on)                    the advice's interval starts (true) and ends (false)
 *     error(e)                     anything else went wrong
 */
export async function bayeuxSession({ url, user, channel, firstAtOnce = true, timeoutMs, stop = () => false,
  errorPauseMs = 500, retryConnectOnError = false, on = {} }) {
  let id = 0;
  let clientId = null;
  let first = firstAtOnce;
  while (!stop()) {
    try {
      if (clientId === null) {
        const hs = await bayeuxPost(url, user, [{ id: String(++id), channel: '/meta/handshake', version: '1.0',
          minimumVersion: '1.0', supportedConnectionTypes: ['long-polling'] }], { timeoutMs });
        const h = hs.json[0];
        if (!h || !h.successful) {
          if (!on.refused) throw new Error(`handshake: ${JSON.stringify(hs.json)}`);
          await sleep(on.refused(h));
          continue;
        }
        clientId = h.clientId;
        first = firstAtOnce;
        on.handshake?.(clientId);
        if (channel) {
          const sub = await bayeuxPost(url, user, [{ id: String(++id), channel: '/meta/subscribe', clientId,
            subscription: channel }], { timeoutMs });
          if (!sub.json[0] || !sub.json[0].successful) throw new Error(`subscribe: ${JSON.stringify(sub.json)}`);
        }
      }
      const m = { id: String(++id), channel: '/meta/connect', clientId, connectionType: 'long-polling' };
      if (first) m.advice = { timeout: 0 };
      on.connecting?.(first);
      const t0 = Date.now();
      let r;
      try {
        r = await bayeuxPost(url, user, [m], { timeoutMs });
      } finally {
        on.answered?.();
      }
      first = false;
      let reply;
      for (const x of r.json) {
        if (x.channel === '/meta/connect') reply = x;
        else if (x.data !== undefined) on.message?.(x, r.t);
      }
      on.reply?.(reply);
      if (!reply || !reply.successful) {
        const lostId = clientId;
        clientId = null;
        if (on.lost) { on.lost(reply, lostId); continue; }
        const adv = (reply && reply.advice) || {};
        if (adv.reconnect === 'handshake' || adv.reconnect === undefined) continue;
        throw new Error(`connect: ${JSON.stringify(reply)}`);
      }
      on.connect?.(reply, Date.now() - t0);
      const interval = (reply.advice && reply.advice.interval) || 0;
      if (interval > 0) {
        on.pause?.(true);
        await sleep(interval);
        on.pause?.(false);
      }
    } catch (e) {
      if (!retryConnectOnError) clientId = null;
      on.error?.(e);
      await sleep(errorPauseMs);
    }
  }
}

/**
 * bayeuxSession() over one WebSocket (CometD's websocket transport): the same exchange, each
 * request a text frame, with the same hooks (message's t: when its frame arrived).  Data
 * messages may come in any frame (Faye sends them apart from the connect reply,
 * mod_interactions with it).  A connection that fails or closes is opened anew with a new
 * handshake.  on.open(ws, clientId) says which connection carries the session.
 */
export async function bayeuxWsSession({ url, user, channel, firstAtOnce = true, stop = () => false,
  errorPauseMs = 500, on = {} }) {
  let id = 0;
  while (!stop()) {
    let ws;
    try {
      ws = new WebSocket(url.replace(/^http/, 'ws'), { headers: { Authorization: basic(user) }, perMessageDeflate: false });
      const pending = new Map();
      const fail = (e) => { for (const [, p] of pending) p.reject(e); pending.clear(); };
      ws.on('message', (buf) => {
        const t = nowUs();
        let msgs;
        try { msgs = JSON.parse(buf.toString()); } catch { fail(new Error('a frame that is not JSON')); return; }
        for (const x of Array.isArray(msgs) ? msgs : [msgs]) {
          if (x.data !== undefined && x.channel && !x.channel.startsWith('/meta/')) on.message?.(x, t);
          else if (x.id !== undefined && pending.has(x.id)) { pending.get(x.id).resolve(x); pending.delete(x.id); }
        }
      });
      ws.on('close', () => fail(new Error('the WebSocket closed')));
      ws.on('error', (e) => fail(e));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
        ws.once('unexpected-response', (q, res) => reject(new Error(`upgrade: HTTP ${res.statusCode}`)));
      });
      const call = (m) => new Promise((resolve, reject) => {
        m.id = String(++id);
        pending.set(m.id, { resolve, reject });
        ws.send(JSON.stringify([m]));
      });
      const h = await call({ channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0',
        supportedConnectionTypes: ['websocket', 'long-polling'] });
      if (!h.successful) throw new Error(`handshake: ${JSON.stringify(h)}`);
      const clientId = h.clientId;
      on.handshake?.(clientId);
      on.open?.(ws, clientId);
      if (channel) {
        const sub = await call({ channel: '/meta/subscribe', clientId, subscription: channel });
        if (!sub.successful) throw new Error(`subscribe: ${JSON.stringify(sub)}`);
      }
      let first = firstAtOnce;
      while (!stop()) {
        const m = { channel: '/meta/connect', clientId, connectionType: 'websocket' };
        if (first) m.advice = { timeout: 0 };
        on.connecting?.(first);
        let reply;
        try {
          reply = await call(m);
        } finally {
          on.answered?.();
        }
        first = false;
        on.reply?.(reply);
        if (!reply.successful) break;   // a new connection and handshake
        on.connect?.(reply);
        const interval = (reply.advice && reply.advice.interval) || 0;
        if (interval > 0) {
          on.pause?.(true);
          await sleep(interval);
          on.pause?.(false);
        }
      }
      ws.close();
    } catch (e) {
      if (ws) ws.terminate();
      if (stop()) return;
      on.error?.(e);
      await sleep(errorPauseMs);
    }
  }
}

// ------------------------------------------------------------------ command: mixed

/** The --name value pairs of a command line; a --name without a value is a flag ('1'). */
function options(argv) {
  const o = {};
  for (let k = 0; k < argv.length; k++) {
    const name = argv[k].replace(/^--/, '');
    o[name] = k + 1 < argv.length && !argv[k + 1].startsWith('--') ? argv[++k] : '1';
  }
  return o;
}
const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...m);

/**
 * node tests/lib/load.mjs mixed --port P --cc demo --agents agent1,agent2 --prefix run1
 *      --db 'host=... port=P1[,P2] user=... password=... dbname=interactions'
 *      [--duration S]                 load this long (without --fault-cmd)
 *      [--fault-at S --fault-cmd CMD --after S]   run CMD (sh -c) S seconds in, then go on
 *                                     S seconds more; CMD's output is shown
 *      [--rate N]                     at most N creates per second (default: as fast as
 *                                     the agents finish them)
 *      [--noise N]                    N requests per second that must be refused (unknown
 *                                     id: 404, malformed JSON: 400, admin's wrong password:
 *                                     401)
 *      [--push 1]                     a supervisor's CometD session (ack extension) on
 *                                     /v2/interactions all along: every acknowledged
 *                                     interaction's completion must reach it exactly once
 *      [--out FILE]                   the report as JSON
 *
 * --db may name several hosts/ports (as libpq's multi-host syntax): the checks use the one
 * that is not in recovery.  Exit status 1 when the database disagrees with what the clients
 * were told (lost or doubled interactions, lost writes, invariant violations) or when the
 * load could not drain.
 */
async function mixedCommand(argv) {
  const args = options(argv);
  const port = Number(args.port);
  const cc = args.cc || 'demo';
  const agents = (args.agents || 'agent1,agent2').split(',');
  const prefix = args.prefix || `load-${Date.now()}`;

  // the database: each candidate of --db, the checks on the one that is the primary
  const conninfo = (text) => {
    const o = {};
    for (const m of text.matchAll(/(\w+)=('(?:[^'\\]|\\.)*'|\S+)/g)) o[m[1]] = m[2].replace(/^'|'$/g, '');
    const hosts = (o.host || '127.0.0.1').split(',');
    const ports = (o.port || '5432').split(',');
    return hosts.map((h, k) => ({ host: h, port: Number(ports[k] ?? ports[0]), user: o.user, password: o.password,
      database: o.dbname || 'interactions', connectionTimeoutMillis: 3000 }));
  };
  const candidates = conninfo(args.db || '');
  /** A query on the primary (the candidate not in recovery), retried while there is none. */
  const onPrimary = async (sql, params = [], waitMs = 60000) => {
    const until = Date.now() + waitMs;
    for (;;) {
      for (const c of candidates) {
        const client = new pg.Client(c);
        client.on('error', () => {});
        try {
          await client.connect();
          if ((await client.query('SELECT pg_is_in_recovery() AS r')).rows[0].r) continue;
          return { rows: (await client.query(sql, params)).rows, primary: `${c.host}:${c.port}` };
        } catch { /* down or not ready: try the next */ } finally { client.end().catch(() => {}); }
      }
      if (Date.now() > until) throw new Error('no primary answered');
      await sleep(200);
    }
  };
  const q = async (sql, params) => (await onPrimary(sql, params)).rows;

  // noise: requests that must be refused.  The wrong passwords are admin's, whom the load
  // does not play: ten of them lock the user at this address (InteractionsAuthnLock...),
  // which must not shut out an agent of the load.
  const noise = async (perSecond, stats, stopped) => {
    const good = new Client({ port, cc, user: agents[0], stats });
    const bad = new Client({ port, cc, user: 'admin', password: 'wrong', stats });
    const kinds = [
      () => good.call('GET', '/interactions/00000000-0000-4000-8000-000000000000'),
      () => good.call('POST', '/me/interactions/00000000-0000-4000-8000-000000000000', '{"operationName":'),
      () => bad.call('GET', '/me'),
    ];
    for (let n = 0; !stopped(); n++) {
      await kinds[n % kinds.length]();
      await sleep(1000 / perSecond);
    }
    good.close();
    bad.close();
  };

  // the time line of a fault: when requests started failing and when they stopped
  const timeline = (stats, faultAt) => {
    const s = stats.samples.filter(([t]) => t >= faultAt);
    const bad = s.filter(([, st]) => st !== 200);
    if (bad.length === 0) return { faultAtEpochMs: faultAt, failedAfterFault: 0 };
    const first = bad[0][0];
    const last = bad[bad.length - 1][0];
    const recovered = s.find(([t, st]) => t > last && st === 200);
    const statuses = {};
    for (const [, st] of bad) statuses[st || 'no response'] = (statuses[st || 'no response'] || 0) + 1;
    return {
      faultAtEpochMs: faultAt,
      recoveredAtEpochMs: recovered ? recovered[0] : null,
      failedAfterFault: bad.length,
      statuses,
      firstFailureMsAfterFault: first - faultAt,
      failureWindowMs: last - first,
      firstSuccessAfterLastFailureMsAfterFault: recovered ? recovered[0] - faultAt : null,
    };
  };

  const stats = new Stats();
  const noiseStats = new Stats();
  const ccId = (await q(`SELECT id FROM interactions.contact_centers WHERE name = $1`, [cc]))[0].id;
  const t0 = Date.now();
  let faultAt = null;
  let faultDone = false;
  let faultOutput = '';
  const duration = Number(args.duration || 30) * 1000;
  const stop = async () => {
    if (!args['fault-cmd']) return Date.now() - t0 >= duration;
    if (faultAt === null && Date.now() - t0 >= Number(args['fault-at'] || 10) * 1000) {
      faultAt = Date.now();
      log(`fault: ${args['fault-cmd']}`);
      const child = spawn('sh', ['-c', args['fault-cmd']], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d) => { faultOutput += d; process.stdout.write(d); });
      child.stderr.on('data', (d) => { faultOutput += d; process.stdout.write(d); });
      child.on('exit', (code) => { faultDone = true; log(`fault command ended (${code})`); });
    }
    return faultDone && Date.now() - faultAt >= Number(args.after || 20) * 1000;
  };
  let stopped = false;
  const noisy = args.noise ? noise(Number(args.noise), noiseStats, () => stopped) : null;
  let lastLog = Date.now();
  const drained = async () => {
    const n = (await q(`SELECT count(*)::int AS n FROM interactions.interactions WHERE cc_id = $1 AND state <> 'Completed'
                         AND external_id LIKE $2`, [ccId, `${prefix}-%`]))[0].n;
    if (Date.now() - lastLog > 5000) { log(`draining: ${n} unfinished`); lastLog = Date.now(); }
    return n === 0;
  };
  const push = args.push ? await (await import('./push.mjs')).cometdClient({ cc, user: 'supervisor',
    channels: ['/v2/interactions'], ack: true, port }) : null;
  const progress = setInterval(() => log(`requests ${stats.requests}, ok ${stats.ok}, no response ${stats.failed}`), 10000);
  log(`load: ${agents.length} agents on ${cc} at :${port}, prefix ${prefix}`);
  const acks = await mixedLoad({ port, cc, agents, prefix, stats, stop, drained, drainMs: 120000,
    rate: args.rate ? Number(args.rate) : undefined });
  stopped = true;
  await noisy;
  clearInterval(progress);
  const { primary } = await onPrimary('SELECT 1');
  const v = await verifyLoad(q, ccId, acks, { prefix });
  let pushSeen;
  if (push) {
    // the last completions may still be on their way
    const until = Date.now() + 30000;
    while (pushProblems(push.messages, acks).length && Date.now() < until) await sleep(200);
    const pp = pushProblems(push.messages, acks);
    v.problems.push(...pp.map((x) => `push: ${x}`));
    // the session lives in PostgreSQL: it goes on across faults without a new handshake
    if (push.meta.handshakes !== 1) v.problems.push(`push: ${push.meta.handshakes} handshakes, the session did not go on`);
    pushSeen = { messages: push.messages.length, handshakes: push.meta.handshakes,
      connectFailures: push.meta.connectFailures.length, completionsMissingOrRepeated: pp.length };
    await push.disconnect();
  }
  const report = {
    injected: args['fault-cmd'] ? { command: args['fault-cmd'], atSecond: (faultAt - t0) / 1000, output: faultOutput.trim() } : 'nothing',
    durationSeconds: (Date.now() - t0) / 1000,
    clients: stats.summary(),
    refusalsProvoked: args.noise ? noiseStats.summary() : undefined,
    push: pushSeen,
    fault: faultAt ? timeline(stats, faultAt) : undefined,
    database: { checkedOn: primary, ...v.counts },
    drained: acks.drained,
    problems: v.problems,
  };
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify({ ...report, problems: v.problems.slice(0, 20), problemCount: v.problems.length }, null, 2));
  return v.problems.length === 0 && acks.drained ? 0 : 1;
}

// ------------------------------------------------------------------ command: push-hog

/**
 * node tests/lib/load.mjs push-hog --port P [--cc t18] [--hog agent1] [--other agent2]
 *      [--sessions 140] [--seconds 30] [--every 200] [--handshakes]
 *
 * One user tries to take the server with push connects; another user's plain GETs are timed
 * meanwhile (docs/security.md, "Connections, threads and held push connects").  The hog runs
 * --sessions clients of one user that behave as CometD does (bayeuxSession: each
 * handshakes, keeps a /meta/connect outstanding, comes back after the advice's interval,
 * and handshakes again when told to), without cookies (each its own browser).  The other
 * user sends GET /me every --every ms, each given up after 30 s.
 * Prints one JSON line: sessions opened and refused, connects answered (how many within a
 * second, how many found their session expired), and the other user's GET latencies in ms
 * (a GET given up after 30 s counts as 30000).
 *
 * With --handshakes the hog's --sessions clients instead handshake and disconnect in a
 * loop, as fast as they are answered, and the line says how many handshakes a second opened
 * a session and how many were refused.
 */
async function pushHogCommand(argv) {
  const o = { cc: 't18', hog: 'agent1', other: 'agent2', sessions: '140', seconds: '30', every: '200',
    handshakes: '', ...options(argv) };
  if (!o.port) {
    console.error('usage: load.mjs push-hog --port P [--cc t18] [--sessions 140] [--seconds 30] [--handshakes]');
    return 2;
  }
  const url = `http://127.0.0.1:${o.port}${basePath(o.cc)}/notifications`;
  const end = Date.now() + Number(o.seconds) * 1000;
  const bayeux = async (msg) => (await bayeuxPost(url, o.hog, [msg], { timeoutMs: 60000 })).json[0];
  let id = 0;

  if (o.handshakes && o.handshakes !== '0') {
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
    return 0;
  }

  // opened/refused: handshakes; connects: answered (atOnce: within a second, not held); lost:
  // the session had expired meanwhile (402: its connects waited too long for a thread)
  const stats = { opened: 0, refused: 0, connects: 0, atOnce: 0, lost: 0, errors: 0 };
  const sessions = new Set();
  const loops = Array.from({ length: Number(o.sessions) }, () => bayeuxSession({
    url, user: o.hog, firstAtOnce: false, timeoutMs: 60000, errorPauseMs: 1000, retryConnectOnError: true,
    stop: () => Date.now() >= end,
    on: {
      handshake: (clientId) => { stats.opened++; sessions.add(clientId); },
      refused: (r) => { stats.refused++; return r && r.advice && r.advice.interval > 0 ? r.advice.interval : 1000; },
      lost: (r, clientId) => { stats.lost++; sessions.delete(clientId); },
      connect: (r, ms) => { stats.connects++; if (ms < 1000) stats.atOnce++; },
      error: () => { stats.errors++; },
    },
  }));

  // the other user
  await sleep(1000);
  const other = new Client({ port: Number(o.port), cc: o.cc, user: o.other, timeoutMs: 30000 });
  const times = [];
  while (Date.now() < end) {
    const t0 = Date.now();
    const r = await other.call('GET', '/me');
    times.push(r.status === 200 ? Date.now() - t0 : 30000);   // given up after 30 s
    await sleep(Number(o.every));
  }
  other.close();
  // a disconnect answers the session's held connect; the loops then end
  await Promise.allSettled([...sessions].map((clientId) => bayeux({ channel: '/meta/disconnect', clientId })));
  await Promise.allSettled(loops);

  times.sort((a, b) => a - b);
  const pq = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(JSON.stringify({ ...stats, gets: times.length, p50: pq(0.5), p99: pq(0.99), max: times[times.length - 1],
    over2s: times.filter((t) => t > 2000).length }));
  return 0;
}

// ------------------------------------------------------------------ command: push-sessions

/**
 * node tests/lib/load.mjs push-sessions — Bayeux sessions for bench/push.mjs, run as a child
 * process (fork) so that many sessions can be spread over several processes.  The parent
 * sends one command:
 *
 *   {cmd: 'start', kind: 'raw'|'raw-ws'|'cometd'|'cometd-ws', url, sessions: [{user, channel}], ramp}
 *
 * 'raw' is bayeuxSession (a plain long-polling Bayeux client over node:http), 'raw-ws'
 * bayeuxWsSession (the same over one WebSocket per session); 'cometd' uses the official
 * CometD JavaScript client (tests/lib/push.mjs) with long-polling, 'cometd-ws' with its
 * preferred websocket transport.
 *
 * The child answers {ev: 'ready', ok, failed, ms} once every session is subscribed and its
 * first held connect is on its way, and then to
 *   {cmd: 'stats'}  -> {ev: 'stats', received: [per session], inflight, polling, busyAdvice,
 *                       errors, handshakes, connects}
 *   {cmd: 'dump', file} -> writes "referenceId received_us session" lines for every data
 *                       message received (received_us: CLOCK_MONOTONIC microseconds, as
 *                       bench/loadgen -L writes them) -> {ev: 'dumped', n}
 *   {cmd: 'reset'}  -> forgets what was received -> {ev: 'reset'}
 *   {cmd: 'stop'}   -> disconnects the sessions and exits.
 */
function pushSessionsChild() {
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
        bayeuxPost(s.url, s.user, [{ channel: '/meta/disconnect', clientId: s.clientId }]).catch(() => {})));
    }
  };

  const record = (session, ref, t) => {
    received[session]++;
    if (nrec === recRef.length) {
      const grow = (a, C) => { const b = new C(a.length * 2); b.set(a); return b; };
      recRef = grow(recRef, Float64Array); recT = grow(recT, Float64Array); recS = grow(recS, Int32Array);
    }
    recRef[nrec] = typeof ref === 'number' ? ref : 0;
    recT[nrec] = t;
    recS[nrec] = session;
    nrec++;
  };

  const wsLive = new Map();   // raw-ws sessions: index -> {ws, clientId}
  const rawSession = (i, url, user, channel, onReady, websocket = false) => {
    let attempts = 0;
    const ready = (good) => { if (onReady) { const f = onReady; onReady = null; f(good); } };
    return (websocket ? bayeuxWsSession : bayeuxSession)({ url, user, channel, stop: () => stopping.on, on: {
      handshake: (clientId) => { counters.handshakes++; if (!websocket) live.set(i, { url, user, clientId }); },
      open: (ws, clientId) => { wsLive.set(i, { ws, clientId }); },
      // the first connect answers at once (advice.timeout 0); once the next is sent, the
      // session is ready
      connecting: (first) => { counters.inflight++; if (!first) ready(true); },
      answered: () => { counters.inflight--; },
      reply: () => { counters.connects++; },
      message: (x, t) => record(i, x.data && x.data.referenceId, t),
      pause: (on) => { if (on) { counters.busyAdvice++; counters.polling++; } else counters.polling--; },
      error: (e) => {
        counters.errors++;
        counters.lastError = String(e.message || e);
        // a session not yet ready gets a few more tries (a loaded server may let a fresh
        // session expire before its subscribe arrives)
        if (onReady && ++attempts >= 20) ready(false);
      },
    } });
  };

  const cometdSessions = async (url, sessions, websocket = false) => {
    const { cometdClient } = await import('./push.mjs');
    const clients = [];
    let ok = 0, failed = 0;
    await Promise.all(sessions.map(async (s, i) => {
      try {
        // CometD's WebSocket carries none of the configured headers: the credentials go in the URL
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
  };

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
        const websocket = msg.kind === 'raw-ws';
        if (websocket) {
          disconnectAll = async () => {
            for (const x of wsLive.values()) {
              try { x.ws.send(JSON.stringify([{ channel: '/meta/disconnect', clientId: x.clientId }])); } catch { /* gone */ }
            }
            await sleep(500);
            for (const x of wsLive.values()) x.ws.close();
          };
        }
        let ok = 0, failed = 0;
        const ready = [];
        // start a few at a time: thousands of simultaneous handshakes measure nothing useful
        const batch = msg.ramp || 50;
        for (let i = 0; i < msg.sessions.length; i += batch) {
          const part = msg.sessions.slice(i, i + batch).map((s, k) => new Promise((resolve) => {
            rawSession(i + k, msg.url, s.user, s.channel, (good) => { if (good) ok++; else failed++; resolve(); }, websocket);
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
}

// ------------------------------------------------------------------ the command line

const commands = { mixed: mixedCommand, 'push-hog': pushHogCommand };
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, ...rest] = process.argv.slice(2);
  if (name === 'push-sessions') {
    pushSessionsChild();
  } else if (commands[name]) {
    commands[name](rest).then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(2); });
  } else {
    console.error('usage: node tests/lib/load.mjs mixed|push-hog|push-sessions [options] (see the header of load.mjs)');
    process.exit(2);
  }
}
