// load.mjs — a mixed contact-center workload through HTTP that counts everything the
// clients see, for the fault tests (process kills, graceful restarts, database failover)
// and the soak: a feeder creates interactions (each with its own externalId, retried with
// the same one until acknowledged), agents accept what they are offered, write user data
// and complete.  Every simulated user has its own keep-alive connection, like a desktop.
//
// What counts as a failed request: no HTTP response at all (connection refused, reset,
// timeout) after the one retry every HTTP client makes when a *reused* keep-alive connection
// turns out to have been closed by the server before it answered (Node's documented
// `request.reusedSocket` pattern; browsers do the same).  Those retries are counted apart.
import http from 'node:http';

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
