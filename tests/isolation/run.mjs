#!/usr/bin/env node
// tests/isolation/run.mjs — concurrency specs in the style of PostgreSQL's isolation tester
// (src/test/isolation), for the module's SQL API.
//
//   node tests/isolation/run.mjs [--accept] [--only REGEX] [SPEC...]
//
// Needs the cluster that scripts/test (or scripts/serve) started: MI_VAR (the state
// directory: pg/run is the superuser's socket directory, secrets.env the passwords) and
// MI_PGPORT.  No httpd with the module may be connected to that database while it runs:
// its maintenance thread would expire offers and route work behind the specs' backs.
//
// A spec (tests/isolation/NAME.spec) reads like the isolation tester's:
//
//   setup { SQL }          run as superuser before every permutation, after the runner has
//                          wiped contact center "iso" (every agent NotReady, capacity 1);
//                          a setup whose last statement returns one row defines variables
//                          named after its columns (like psql's \gset)
//   teardown { SQL }       as superuser after every permutation
//   session NAME           a connection as the module's role, interactions_app, over TCP with
//     setup { SQL }        its password; opened afresh for every permutation
//     step NAME { SQL }    one statement (or several) sent as one query
//   check { SQL }          as superuser after every permutation; the result is printed
//   permutation A B C ...  steps in this order; without any permutation line, every
//                          interleaving of the sessions' steps (each session's in its order)
//
// In SQL, :name is replaced by a variable's value and :'name' by it as a quoted literal;
// :cc is the id of contact center "iso".  Steps call interactions.api(cc, login, op, args),
// the one function the module calls for every request, so each autocommit step is exactly
// one API request; BEGIN/COMMIT steps hold a request's locks open to force interleavings.
//
// A step that waits for a lock held by another session (pg_isolation_test_session_is_blocked,
// i.e. pg_blocking_pids) is reported "<waiting ...>" and the next step runs; when the lock
// goes the step's result is reported "<... completed>".  API results print as a digest
// (statusCode, statusMessage, and the interaction's state, assignedTo, queue, workbin and
// user data) because ids, dates and referenceIds differ from run to run.
//
// After every permutation the runner prints every interaction of the contact center with
// its history and each agent's load, and runs the invariant checker
// interactions.invariant_violations(cc, true): any violation is printed and fails the spec.
// The output is compared with tests/isolation/expected/NAME.out (--accept rewrites it);
// results go to $MI_VAR/isolation/NAME.out.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const CC = 'iso';
const STEP_TIMEOUT_MS = 120000;   // "did not hang", never a timing assertion

// ------------------------------------------------------------------ spec parsing

export function parseSpec(text, name = 'spec') {
  const spec = { name, setups: [], teardowns: [], checks: [], sessions: [], permutations: [] };
  let i = 0;
  let session = null;
  const err = (m) => { throw new Error(`${name}: ${m} (offset ${i})`); };
  const skipSpace = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] === '#' || (text[i] === '-' && text[i + 1] === '-')) {
        while (i < text.length && text[i] !== '\n') i++;
      } else return;
    }
  };
  const word = () => {
    skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) err('expected a name');
    i += m[0].length;
    return m[0];
  };
  const block = () => {
    skipSpace();
    if (text[i] !== '{') err('expected {');
    let depth = 0;
    let quote = false;
    const start = i + 1;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === "'") quote = !quote;
      else if (!quote && ch === '{') depth++;
      else if (!quote && ch === '}' && --depth === 0) {
        const sql = text.slice(start, i).trim().replace(/\s*\n\s*/g, ' ');
        i++;
        return sql;
      }
    }
    return err('unterminated {');
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) break;
    const kw = word();
    switch (kw) {
      case 'setup': (session ? session.setups : spec.setups).push(block()); break;
      case 'teardown': (session ? session.teardowns : spec.teardowns).push(block()); break;
      case 'check': spec.checks.push(block()); break;
      case 'session':
        session = { name: word(), setups: [], teardowns: [], steps: [] };
        spec.sessions.push(session);
        break;
      case 'step': {
        if (!session) err('step outside a session');
        const sname = word();
        session.steps.push({ name: sname, sql: block(), session });
        break;
      }
      case 'permutation': {
        const line = text.slice(i, text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i));
        i += line.length;
        spec.permutations.push(line.trim().split(/\s+/));
        session = null;
        break;
      }
      default: err(`unexpected "${kw}"`);
    }
  }
  spec.steps = new Map();
  for (const s of spec.sessions) {
    for (const st of s.steps) {
      if (spec.steps.has(st.name)) throw new Error(`${name}: step ${st.name} defined twice`);
      spec.steps.set(st.name, st);
    }
  }
  for (const p of spec.permutations) {
    for (const st of p) if (!spec.steps.has(st)) throw new Error(`${name}: permutation names unknown step ${st}`);
  }
  if (spec.permutations.length === 0) spec.permutations = interleavings(spec.sessions.map((s) => s.steps.map((x) => x.name)));
  return spec;
}

/** Every interleaving of the lists, each list's order kept. */
export function interleavings(lists) {
  const out = [];
  const walk = (idx, acc) => {
    if (acc.length === lists.reduce((n, l) => n + l.length, 0)) { out.push([...acc]); return; }
    lists.forEach((l, k) => {
      if (idx[k] < l.length) {
        acc.push(l[idx[k]]);
        idx[k]++;
        walk(idx, acc);
        idx[k]--;
        acc.pop();
      }
    });
  };
  walk(lists.map(() => 0), []);
  return out;
}

// ------------------------------------------------------------------ values and printing

function substitute(sql, vars) {
  return sql
    .replace(/(?<!:):'([A-Za-z_][A-Za-z0-9_]*)'/g, (m, n) => (n in vars ? `'${String(vars[n]).replace(/'/g, "''")}'` : m))
    .replace(/(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g, (m, n) => (n in vars ? String(vars[n]) : m));
}

/** What of an interactions.api() result does not change from run to run. */
function digest(v) {
  const d = { statusCode: v.statusCode };
  if (v.statusCode !== 0) d.statusMessage = v.statusMessage;
  if ('created' in v) d.created = v.created;
  const i = v.interaction;
  if (i) {
    d.state = i.state;
    if (i.assignedTo) d.assignedTo = i.assignedTo;
    if (i.queue) d.queue = i.queue;
    if (i.workbin) d.workbin = i.workbin;
    if (i.userData && Object.keys(i.userData).length) d.userData = i.userData;
  }
  return d;
}

function show(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object' && !(v instanceof Date)) {
    if (!Array.isArray(v) && 'statusCode' in v) return JSON.stringify(digest(v));
    return JSON.stringify(v);
  }
  if (typeof v === 'string' && /^\s*\{"statusCode"/.test(v)) {
    try { return JSON.stringify(digest(JSON.parse(v))); } catch { return v; }
  }
  return String(v);
}

function printResults(out, res) {
  for (const r of Array.isArray(res) ? res : [res]) {
    if (!r.fields || r.fields.length === 0) continue;
    out.push(r.fields.map((f) => f.name).join('|'));
    for (const row of r.rows) out.push(r.fields.map((f) => show(row[f.name])).join('|'));
    out.push(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the database

function readSecrets(varDir) {
  const out = {};
  for (const line of fs.readFileSync(path.join(varDir, 'secrets.env'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_]+)=(.*)$/);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

class Runner {
  constructor({ varDir, pgPort }) {
    this.varDir = varDir;
    this.pgPort = pgPort;
    this.appPassword = readSecrets(varDir).APP_PASSWORD;
  }

  async start() {
    this.su = new pg.Client({ host: path.join(this.varDir, 'pg/run'), port: this.pgPort, user: 'postgres', database: 'interactions' });
    await this.su.connect();
    const busy = await this.su.query(`SELECT count(*)::int AS n FROM pg_stat_activity
                                       WHERE datname = 'interactions' AND application_name = 'mod_interactions'`);
    if (busy.rows[0].n > 0) {
      throw new Error('an httpd with the module is connected to this database: its maintenance thread would interfere');
    }
    await this.provision();
  }

  async stop() { await this.su.end(); }

  async provision() {
    const q = (sql, p) => this.su.query(sql, p);
    this.ccId = (await q(`SELECT interactions.create_contact_center($1) AS id`, [CC])).rows[0].id;
    const users = [['admin', ['admin']], ['supervisor', ['supervisor']], ['agent1', ['agent']],
      ['agent2', ['agent']], ['agent3', ['agent']], ['agent4', ['agent']], ['feeder', ['apiuser']]];
    for (const [login, roles] of users) {
      const have = await q(`SELECT 1 FROM interactions.users WHERE cc_id = $1 AND login = $2`, [this.ccId, login]);
      if (have.rowCount === 0) await q(`SELECT interactions.create_user($1, $2, NULL, $3)`, [CC, login, roles]);
    }
    await q(`SELECT interactions.create_queue($1, 'support')`, [CC]);
    await q(`SELECT interactions.create_queue($1, 'sales')`, [CC]);
    for (const [queue, who] of [['support', ['agent1', 'agent2', 'agent3']], ['sales', ['agent1', 'agent2', 'agent3', 'agent4']]]) {
      for (const a of who) await q(`SELECT interactions.add_queue_member($1, $2, $3)`, [CC, queue, a]);
    }
    for (const a of ['agent1', 'agent2', 'agent3', 'agent4']) await q(`SELECT interactions.create_workbin($1, 'drafts', $2)`, [CC, a]);
    await q(`SELECT interactions.create_workbin($1, 'team')`, [CC]);
    // The specs run the maintenance tick, which is cluster-wide: an offer that the SQL tests
    // left in another contact center would expire during some spec (when depends on how
    // long the specs before it took) and be counted in its output.  Those offers never
    // expire while the specs run.
    await q(`UPDATE interactions.interactions SET offer_expires_at = 'infinity'
              WHERE state = 'Invited' AND cc_id <> $1`, [this.ccId]);
  }

  /** Contact center "iso" without interactions, every agent NotReady with capacity 1 and
   *  the same (null) last offer, so that routing's choice depends only on the spec. */
  async reset() {
    const q = (sql) => this.su.query(sql, [this.ccId]);
    await this.su.query('BEGIN');
    await this.su.query(`SELECT set_config('interactions.purging', 'on', true)`);
    await q(`DELETE FROM interactions.history WHERE cc_id = $1`);
    await q(`DELETE FROM interactions.user_data WHERE cc_id = $1`);
    await q(`UPDATE interactions.interactions SET parent_id = NULL WHERE cc_id = $1`);
    await q(`DELETE FROM interactions.interactions WHERE cc_id = $1`);
    await q(`DELETE FROM interactions.agent_channels WHERE cc_id = $1 AND media <> 'email'`);
    // and for the agent's day: the same idle time for all, no reason, wrap-up, Do Not Disturb
    // or missed offers; queues without wrap-up
    await q(`UPDATE interactions.agent_channels SET state = 'NotReady', capacity = 1, last_offer_at = NULL,
               reason = NULL, wrap_up_until = NULL, dnd_state = NULL, dnd_reason = NULL, missed_offers = 0,
               idle_since = '2000-01-01' WHERE cc_id = $1`);
    await q(`UPDATE interactions.queues SET wrap_up = '0', max_no_answer = 3 WHERE cc_id = $1`);
    // and for routing policy (V021): longest-idle queues without limits, nobody's turn taken
    if ((await this.su.query(`SELECT to_regclass('interactions.agent_skills') AS t`)).rows[0].t) {
      await q(`UPDATE interactions.queues SET strategy = 'longest-idle', priority_per_minute = 0, max_wait = NULL,
                 overflow_queue_id = NULL, max_size = NULL WHERE cc_id = $1`);
      await q(`UPDATE interactions.queue_members SET last_offer_at = NULL WHERE cc_id = $1`);
      await q(`DELETE FROM interactions.agent_handled WHERE cc_id = $1`);
    }
    await this.su.query('COMMIT');
  }

  async isBlocked(pid, pids) {
    const r = await this.su.query(`SELECT pg_catalog.pg_isolation_test_session_is_blocked($1, $2) AS b`, [pid, pids]);
    return r.rows[0].b;
  }

  /** Wait until the step's query has ended ('done') or waits for another session ('blocked'). */
  async waitStep(run, pids) {
    const until = Date.now() + STEP_TIMEOUT_MS;
    let pause = 1;
    while (Date.now() < until) {
      if (run.settled) return 'done';
      if (await this.isBlocked(run.pid, pids)) {
        if (run.settled) return 'done';
        return 'blocked';
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 20);
    }
    throw new Error(`step ${run.step.name} neither finished nor waited for a lock within ${STEP_TIMEOUT_MS} ms`);
  }

  async runPermutation(spec, perm, out) {
    out.push('', `starting permutation: ${perm.join(' ')}`);
    await this.reset();
    const vars = { cc: this.ccId, ccname: CC };
    for (const sql of spec.setups) {
      const res = await this.su.query(substitute(sql, vars));
      const last = [].concat(res).filter((r) => r.fields && r.fields.length).pop();
      if (last && last.rows.length === 1) Object.assign(vars, last.rows[0]);
    }
    const sessions = new Map();
    for (const s of spec.sessions) {
      const client = new pg.Client({ host: '127.0.0.1', port: this.pgPort, user: 'interactions_app',
        password: this.appPassword, database: 'interactions', application_name: `iso-${s.name}` });
      client.on('notice', () => {});
      await client.connect();
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      for (const sql of s.setups) await client.query(substitute(sql, vars));
      sessions.set(s.name, { def: s, client, pid, waiting: null });
    }
    const pids = [...sessions.values()].map((s) => s.pid);
    const waiting = [];   // runs reported <waiting ...>, in launch order

    const report = (run, completed) => {
      out.push(completed ? `step ${run.step.name}: <... completed>` : `step ${run.step.name}: ${run.step.sql}`);
      if (run.error) out.push(`ERROR:  ${run.error.message}`);
      else printResults(out, run.result);
    };
    // After a step: report every waiting step that could go on, in launch order.
    const settleWaiting = async () => {
      for (;;) {
        let progressed = false;
        for (const run of waiting) {
          if (run.reported) continue;
          if (!run.settled) {
            const st = await this.waitStep(run, pids);
            if (st !== 'done') continue;
          }
          await run.promise;
          run.reported = true;
          progressed = true;
        }
        if (!progressed) break;
      }
      for (const run of waiting.filter((r) => r.reported)) {
        report(run, true);
        sessions.get(run.step.session.name).waiting = null;
        waiting.splice(waiting.indexOf(run), 1);
      }
    };

    let invalid = false;
    for (const name of perm) {
      const step = spec.steps.get(name);
      const sess = sessions.get(step.session.name);
      if (sess.waiting) {
        out.push(`invalid permutation detected: ${name} while ${sess.waiting.step.name} waits`);
        invalid = true;
        break;
      }
      const run = { step, pid: sess.pid, settled: false, reported: false };
      run.promise = sess.client.query(substitute(step.sql, vars)).then(
        (r) => { run.result = r; run.settled = true; },
        (e) => { run.error = e; run.settled = true; });
      const st = await this.waitStep(run, pids);
      if (st === 'done') {
        await run.promise;
        report(run, false);
      } else {
        out.push(`step ${name}: ${step.sql} <waiting ...>`);
        sess.waiting = run;
        waiting.push(run);
      }
      await settleWaiting();
    }
    if (invalid) {
      for (const s of sessions.values()) if (!s.waiting) await s.client.query('ROLLBACK').catch(() => {});
      await settleWaiting();
    }
    if (waiting.length) {
      out.push(`still waiting at the end: ${waiting.map((r) => r.step.name).join(' ')}`);
      for (const r of waiting) await r.promise;
      this.failed = true;
    }
    for (const s of sessions.values()) {
      for (const sql of s.def.teardowns) await s.client.query(substitute(sql, vars)).catch((e) => out.push(`ERROR:  ${e.message}`));
      await s.client.query('ROLLBACK').catch(() => {});
      await s.client.end();
    }
    for (const sql of spec.teardowns) await this.su.query(substitute(sql, vars));
    await this.finalState(out, spec, vars);
  }

  async finalState(out, spec, vars) {
    const cc = this.ccId;
    const rows = await this.su.query(`
      SELECT coalesce(i.subject, '') AS interaction, i.state, o.login AS owner, v.login AS invitee,
             q.name AS queue, w.name AS workbin,
             CASE WHEN interactions.user_data_of(i.cc_id, i.id) = '{}' THEN NULL
                  ELSE interactions.user_data_of(i.cc_id, i.id)::text END AS user_data,
             (SELECT string_agg(h.operation || coalesce(' by ' || h.actor_login, '')
                                || CASE WHEN h.to_invitee IS NOT NULL
                                        THEN ' to ' || (SELECT u.login FROM interactions.users u
                                                         WHERE u.cc_id = h.cc_id AND u.id = h.to_invitee)
                                        ELSE '' END, ', ' ORDER BY h.seq)
                FROM interactions.history h WHERE h.cc_id = i.cc_id AND h.interaction_id = i.id) AS history
        FROM interactions.interactions i
        LEFT JOIN interactions.users o ON o.cc_id = i.cc_id AND o.id = i.owner_id
        LEFT JOIN interactions.users v ON v.cc_id = i.cc_id AND v.id = i.invitee_id
        LEFT JOIN interactions.queues q ON q.cc_id = i.cc_id AND q.id = i.queue_id
        LEFT JOIN interactions.workbins w ON w.cc_id = i.cc_id AND w.id = i.workbin_id
       WHERE i.cc_id = $1 ORDER BY i.subject, i.received_at`, [cc]);
    out.push('final state:');
    printResults(out, rows);
    const loads = await this.su.query(`
      SELECT u.login AS agent, ch.state, ch.capacity, interactions.agent_load(ch.cc_id, ch.user_id, ch.media) AS load
        FROM interactions.agent_channels ch JOIN interactions.users u ON u.cc_id = ch.cc_id AND u.id = ch.user_id
       WHERE ch.cc_id = $1 AND (ch.state = 'Ready' OR interactions.agent_load(ch.cc_id, ch.user_id, ch.media) > 0)
       ORDER BY u.login, ch.media`, [cc]);
    printResults(out, loads);
    for (const sql of spec.checks) printResults(out, await this.su.query(substitute(sql, vars)));
    const bad = await this.su.query(`SELECT v FROM interactions.invariant_violations($1, true) v`, [cc]);
    for (const r of bad.rows) {
      out.push(`INVARIANT VIOLATION: ${r.v.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')}`);
      this.failed = true;
    }
  }

  async runSpec(file) {
    const name = path.basename(file, '.spec');
    const spec = parseSpec(fs.readFileSync(file, 'utf8'), name);
    const out = [`Parsed test spec with ${spec.sessions.length} sessions`];
    this.failed = false;
    for (const perm of spec.permutations) await this.runPermutation(spec, perm, out);
    return { name, text: out.join('\n') + '\n', permutations: spec.permutations.length, invariantsFailed: this.failed };
  }
}

// ------------------------------------------------------------------ main

async function main(argv) {
  let accept = false;
  let only = null;
  const files = [];
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--accept') accept = true;
    else if (argv[k] === '--only') only = new RegExp(argv[++k]);
    else files.push(argv[k]);
  }
  const specs = (files.length ? files : fs.readdirSync(here).filter((f) => f.endsWith('.spec')).sort()
    .map((f) => path.join(here, f))).filter((f) => !only || only.test(path.basename(f)));
  const varDir = process.env.MI_VAR;
  const pgPort = Number(process.env.MI_PGPORT);
  if (!varDir || !pgPort) throw new Error('MI_VAR and MI_PGPORT must name the running cluster (scripts/test sets them)');
  const resultsDir = path.join(varDir, 'isolation');
  fs.mkdirSync(resultsDir, { recursive: true });
  const runner = new Runner({ varDir, pgPort });
  await runner.start();
  let failures = 0;
  let passes = 0;
  try {
    for (const file of specs) {
      const t0 = Date.now();
      const r = await runner.runSpec(file);
      const result = path.join(resultsDir, `${r.name}.out`);
      const expected = path.join(here, 'expected', `${r.name}.out`);
      fs.writeFileSync(result, r.text);
      let same = fs.existsSync(expected) && fs.readFileSync(expected, 'utf8') === r.text;
      if (!same && accept) {
        fs.mkdirSync(path.dirname(expected), { recursive: true });
        fs.writeFileSync(expected, r.text);
        same = true;
      }
      const okSpec = same && !r.invariantsFailed;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`  ${r.name.padEnd(28)} ${String(r.permutations).padStart(3)} permutations  ${okSpec ? 'ok' : 'FAILED'}  (${secs}s)`);
      if (!okSpec) {
        failures++;
        if (r.invariantsFailed) console.log(`    the invariant checker reported violations (see ${result})`);
        if (!same) {
          try {
            execFileSync('diff', ['-u', fs.existsSync(expected) ? expected : '/dev/null', result], { stdio: 'inherit' });
          } catch { /* diff exits 1 when the files differ */ }
        }
      } else passes++;
    }
  } finally {
    await runner.stop();
  }
  console.log(`isolation: ${passes} passed, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(2); });
