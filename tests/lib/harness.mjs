// harness.mjs — what every integration test needs: the running servers that scripts/test
// started (or others a test starts itself), an HTTP client for the API, SQL access as the
// cluster's superuser, fresh contact centers, and the error-log check.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import pg from 'pg';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the integration tests through scripts/test`);
  return v;
}

export const env = {
  top: need('MI_TOP'),
  varDir: need('MI_VAR'),
  port: Number(need('MI_PORT')),
  module: need('MI_MODULE'),
  pgPort: Number(need('MI_PGPORT')),
  get base() { return `http://127.0.0.1:${this.port}`; },
};
export const stackBin = path.join(env.top, 'scripts/lib/stack');

/** Run scripts/lib/stack with arguments; returns its stdout. */
export function stack(...args) {
  return execFileSync(stackBin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// ------------------------------------------------------------------ SQL (superuser)

const pool = new pg.Pool({
  host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres',
  database: 'interactions', max: 4,
  allowExitOnIdle: true,   // the test process ends when the tests do
});
pool.on('error', () => {});   // a restarted server kills idle clients; the next query reconnects

export const db = {
  async query(sql, params = []) { return (await pool.query(sql, params)).rows; },
  async one(sql, params = []) {
    const rows = await this.query(sql, params);
    assert.equal(rows.length, 1, `expected one row from ${sql}`);
    return rows[0];
  },
  async value(sql, params = []) { const r = await this.one(sql, params); return Object.values(r)[0]; },
  async end() { await pool.end(); },
};

/** The passwords scripts/lib/stack generated for the cluster (APP_PASSWORD, DBA_PASSWORD). */
export function secrets() {
  const out = {};
  for (const line of fs.readFileSync(path.join(env.varDir, 'secrets.env'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_]+)=(.*)$/);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** A connection as one of the project's roles over TCP with its password:
 *  'interactions_app' (the module's role) or 'interactions_dba'.  Caller must end() it. */
export async function connectAs(role) {
  const s = secrets();
  const password = role === 'interactions_app' ? s.APP_PASSWORD : s.DBA_PASSWORD;
  const client = new pg.Client({ host: '127.0.0.1', port: env.pgPort, user: role, password, database: 'interactions' });
  await client.connect();
  return client;
}

// ------------------------------------------------------------------ HTTP

/** The base path of a contact center's location in the test configuration. */
export function basePath(cc) {
  if (cc === 'demo') return '/api/v2';
  return `/${cc}/api/v2`;
}

/**
 * Call the API.  api('agent1', 'GET', '/me', {cc: 't1'}) -> {status, json, headers, text}.
 * user null: no credentials.  body: an object is sent as JSON; a string as is.
 */
export async function api(user, method, p, opts = {}) {
  const { cc = 'demo', body, password = 'password', headers = {}, port = env.port } = opts;
  const h = { ...headers };
  if (user) h.Authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
  }
  const url = p.startsWith('http') ? p : `http://127.0.0.1:${port}${basePath(cc)}${p}`;
  const res = await fetch(url, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, headers: res.headers, text };
}

/** api() that must succeed (statusCode 0); returns the JSON body. */
export async function ok(user, method, p, opts = {}) {
  const r = await api(user, method, p, opts);
  assert.equal(r.json?.statusCode, 0, `${method} ${p} as ${user}: ${r.status} ${r.text}`);
  assert.equal(r.status, 200);
  return r.json;
}

/** api() that must fail with this HTTP status and statusCode; returns the response. */
export async function fails(user, method, p, status, statusCode, opts = {}) {
  const r = await api(user, method, p, opts);
  assert.equal(r.status, status, `${method} ${p} as ${user}: expected ${status}, got ${r.status} ${r.text}`);
  assert.equal(r.json?.statusCode, statusCode, `${method} ${p}: ${r.text}`);
  assert.equal(r.json.status, 'error');
  assert.equal(typeof r.json.statusMessage, 'string');
  assert.equal(r.json.errorDescription, r.json.statusMessage);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  return r;
}

// ------------------------------------------------------------------ contact centers for tests

/**
 * Wipe a test contact center's interactions, history and push sessions (cheap: call it
 * before every test that needs a clean slate), and provision once its standard cast: admin, supervisor, agent1..agent4, feeder (apiuser); queues support
 * (agent1, agent2), sales (agent1..agent3), quick (agent1, agent2; offer timeout 1 s);
 * personal workbins "drafts" and a shared "team".  All agents NotReady, capacity 1.
 */
export async function freshContactCenter(cc) {
  await db.query(`SELECT interactions.create_contact_center($1)`, [cc]);
  const id = await db.value(`SELECT id FROM interactions.contact_centers WHERE name = $1`, [cc]);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('interactions.purging', 'on', true)`);
    for (const t of ['history', 'user_data']) {
      await client.query(`DELETE FROM interactions.${t} WHERE cc_id = $1`, [id]);
    }
    // the queue statistics' rollups (V024) of the history just deleted; with the maintenance
    // tick's lock, so that a tick folding that history in does not write them back
    if ((await client.query(`SELECT to_regclass('interactions.queue_rollups') AS t`)).rows[0].t) {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('interactions-maintenance'))`);
      await client.query(`DELETE FROM interactions.queue_rollups WHERE cc_id = $1`, [id]);
    }
    const hasSessions = (await client.query(`SELECT to_regclass('interactions.push_sessions') AS t`)).rows[0].t;
    if (hasSessions) await client.query(`DELETE FROM interactions.push_sessions WHERE cc_id = $1`, [id]);
    await client.query(`UPDATE interactions.interactions SET parent_id = NULL WHERE cc_id = $1`, [id]);
    await client.query(`DELETE FROM interactions.interactions WHERE cc_id = $1`, [id]);
    await client.query(`DELETE FROM interactions.agent_channels WHERE cc_id = $1 AND media <> 'email'`, [id]);
    // the agent's day (V012): no reason, wrap-up, Do Not Disturb or missed offers left over;
    // queues without wrap-up, max_no_answer at its default
    const hasStates = (await client.query(`SELECT to_regclass('interactions.not_ready_reasons') AS t`)).rows[0].t;
    if (hasStates) {
      await client.query(`UPDATE interactions.agent_channels SET state = 'NotReady', capacity = 1,
                            last_offer_at = NULL, reason = NULL, wrap_up_until = NULL, dnd_state = NULL,
                            dnd_reason = NULL, missed_offers = 0, idle_since = now() WHERE cc_id = $1`, [id]);
      await client.query(`UPDATE interactions.queues SET wrap_up = '0', max_no_answer = 3 WHERE cc_id = $1`, [id]);
    } else {
      await client.query(`UPDATE interactions.agent_channels SET state = 'NotReady', capacity = 1,
                            last_offer_at = NULL WHERE cc_id = $1`, [id]);
    }
    // routing policy (V021): every queue longest-idle without ageing, limits or overflow; no
    // skills or requirements; nobody offered or handled anything yet
    const hasPolicy = (await client.query(`SELECT to_regclass('interactions.agent_skills') AS t`)).rows[0].t;
    if (hasPolicy) {
      await client.query(`UPDATE interactions.queues SET strategy = 'longest-idle', priority_per_minute = 0,
                            max_wait = NULL, overflow_queue_id = NULL, max_size = NULL WHERE cc_id = $1`, [id]);
      await client.query(`DELETE FROM interactions.agent_skills WHERE cc_id = $1`, [id]);
      await client.query(`DELETE FROM interactions.queue_requirements WHERE cc_id = $1`, [id]);
      await client.query(`UPDATE interactions.queue_members SET last_offer_at = NULL WHERE cc_id = $1`, [id]);
      await client.query(`DELETE FROM interactions.agent_handled WHERE cc_id = $1`, [id]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
  // the cast is provisioned once; later calls only wiped the data above
  if (await db.value(`SELECT count(*)::int FROM interactions.users WHERE cc_id = $1`, [id]) >= 7) return id;
  const users = [['admin', ['admin']], ['supervisor', ['supervisor']], ['agent1', ['agent']],
    ['agent2', ['agent']], ['agent3', ['agent']], ['agent4', ['agent']], ['feeder', ['apiuser']]];
  for (const [login, roles] of users) {
    await db.query(`SELECT interactions.create_user($1, $2, 'password', $3)`, [cc, login, roles]);
  }
  await db.query(`SELECT interactions.create_queue($1, 'support')`, [cc]);
  await db.query(`SELECT interactions.create_queue($1, 'sales')`, [cc]);
  await db.query(`SELECT interactions.create_queue($1, 'quick', '1 second')`, [cc]);
  for (const [q, who] of [['support', ['agent1', 'agent2']], ['sales', ['agent1', 'agent2', 'agent3']],
    ['quick', ['agent1', 'agent2']]]) {
    for (const a of who) await db.query(`SELECT interactions.add_queue_member($1, $2, $3)`, [cc, q, a]);
  }
  for (const a of ['agent1', 'agent2', 'agent3', 'agent4']) {
    await db.query(`SELECT interactions.create_workbin($1, 'drafts', $2)`, [cc, a]);
  }
  await db.query(`SELECT interactions.create_workbin($1, 'team')`, [cc]);
  return id;
}

/** The user id of a login in a contact center. */
export async function userId(cc, login) {
  return db.value(`SELECT u.id FROM interactions.users u JOIN interactions.contact_centers c
                    ON c.id = u.cc_id WHERE c.name = $1 AND u.login = $2`, [cc, login]);
}

// ------------------------------------------------------------------ error log discipline

/** The httpd error log of instance @name (default: the one scripts/test started). */
export function errorLogPath(name = process.env.MI_HTTPD_NAME || 'httpd') {
  return path.join(env.varDir, name, 'logs/error.log');
}

function readFrom(file, offset) {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(offset).toString('utf8');
  } catch { return ''; }
}

/**
 * Fail the test file when the error log gains [error] or [warn] lines that were not
 * expected.  Call once at the top level of a test file; @allow lists regular expressions
 * of lines that file provokes on purpose.
 */
export function watchErrorLog(allow = [], name = process.env.MI_HTTPD_NAME || 'httpd') {
  const file = errorLogPath(name);
  let start = 0;
  before(() => { try { start = fs.statSync(file).size; } catch { start = 0; } });
  after(async () => {
    const lines = readFrom(file, start).split('\n')
      .filter((l) => /\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]/.test(l))
      .filter((l) => !allow.some((re) => re.test(l)));
    assert.deepEqual(lines, [], `unexpected lines in ${file}`);
  });
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/** Poll @fn until it returns a truthy value (or throw after @ms). */
export async function eventually(fn, ms = 5000, step = 25) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await sleep(step);
  }
  throw new Error(`condition not met within ${ms} ms (last: ${JSON.stringify(last)})`);
}

// ------------------------------------------------------------------ more httpd instances

/**
 * Start another httpd with the module on a free port: httpdInstance('httpd2', {CCS: 't7'})
 * -> {name, port, stop(), graceful(), kill(), start()}.  Settings are those of
 * `scripts/lib/stack httpd-conf` (MPM, THREADS, EXTRA, NOLOC, ...).
 */
export function httpdInstance(name, settings = {}) {
  const port = Number(stack('free-port').trim());
  const conf = () => stack('httpd-conf', env.varDir, name, String(port), env.module,
    ...Object.entries({ CCS: process.env.MI_TEST_CCS || '', WEBHOOK_ATTEMPTS: 4, ...settings })
      .map(([k, v]) => `${k}=${v}`));
  const inst = {
    name, port,
    start() { conf(); stack('httpd-start', env.varDir, name); return inst; },
    stop() { stack('httpd-stop', env.varDir, name); },
    graceful() { stack('httpd-graceful', env.varDir, name); },
    kill() { stack('httpd-kill', env.varDir, name); },
    rewrite(more) { Object.assign(settings, more); },
  };
  return inst;
}
