// Process faults under load: httpd child processes killed with SIGKILL in the middle of a
// mixed workload (creates, accepts, user-data writes, completes by four agents), and
// graceful restarts (apachectl -k graceful) in the middle of the same workload.
//
// kill -9: requests in flight on the killed child get no answer (their clients retry: the
// creates with the same externalId, the agents by reading their interactions again); the
// other children keep serving; nothing acknowledged is lost, nothing is stored twice, no
// transaction is left half done (the invariant checker replays every history), and every
// interaction ends Completed exactly once.
// graceful: not one request fails and every answer is a 200.
// Both: a supervisor's CometD session (ack extension) opened before the faults goes on
// across them, without a new handshake, and receives every completion exactly once.
//
// Each test prints what was injected, what the clients saw and what the database holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { db, env, secrets, freshContactCenter, httpdInstance, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { Stats, Client, mixedLoad, verifyLoad, pushProblems } from '../lib/load.mjs';
import { cometdClient } from '../lib/push.mjs';

const NAME = 'httpd-faults';
const SERVERS = 3;
const APP = 'mi-faults';
// what killing children provokes on purpose: the parent notices them dying in a row
// what killing children provokes on purpose: the parent notices them dying in a row; and a
// maintenance tick (an unnamed "query") that races pg_terminate_backend loses its connection
watchErrorLog([/AH10392: children are killed successively/,
  /MI00112: database connection lost during query: FATAL:  terminating connection due to administrator command/,
  /MI00801: webhook worker: the database failed: FATAL:  terminating connection due to administrator command/,
  // a connection that the same pg_terminate_backend ends while it is being set up
  /\(104\)Connection reset by peer: MI00102: cannot connect to PostgreSQL: initializing the connection failed/], NAME);
const AGENTS = ['agent1', 'agent2', 'agent3', 'agent4'];

let inst;
before(async () => {
  // three children of 32 threads; MinSpareThreads (above two children's threads, far below
  // all three's, so never short of spares) makes the parent replace a killed child
  const extra = path.join(env.varDir, `${NAME}.extra.conf`);
  // its own application_name, so that this test can tell its connections from the others'
  fs.writeFileSync(extra, `MinSpareThreads 70
InteractionsDatabase "host=127.0.0.1 port=${env.pgPort} dbname=interactions user=interactions_app password=${secrets().APP_PASSWORD} application_name=${APP}"
`);
  inst = httpdInstance(NAME, { SERVERS, THREADS: 32, EXTRA: extra });
  inst.start();
  await eventually(async () => children().length === SERVERS, 10000, 100);
});
after(() => inst?.stop());

function parentPid() { return Number(fs.readFileSync(path.join(env.varDir, NAME, 'run/httpd.pid'), 'utf8')); }
function children() {
  try {
    return execFileSync('pgrep', ['-P', String(parentPid())], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch { return []; }
}

async function prepare(cc) {
  const ccId = await freshContactCenter(cc);
  // agent4 is in no queue yet: it joins support here; two interactions at a time each
  await db.query(`SELECT interactions.add_queue_member($1, 'support', 'agent3')`, [cc]);
  await db.query(`SELECT interactions.add_queue_member($1, 'support', 'agent4')`, [cc]);
  for (const a of AGENTS) await db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', 2)`, [cc, a]);
  return ccId;
}

/** Does a request on a new connection get an answer (from whichever child accepts it)? */
async function answers(cc, port) {
  const c = new Client({ port, cc, user: 'supervisor' });
  try { return (await c.call('GET', '/me')).status === 200; } finally { c.close(); }
}

const unfinished = (ccId) => async () => (await db.value(
  `SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1 AND state <> 'Completed'`, [ccId])) === 0;

/** A supervisor's CometD session (ack extension) following the whole contact center. */
function supervisorPush(cc) {
  return cometdClient({ cc, user: 'supervisor', channels: ['/v2/interactions'], ack: true, port: inst.port });
}

/** Every acknowledged interaction's completion reached the push session exactly once, on the
 *  session it opened before the faults. */
async function checkPush(push, acks) {
  await eventually(async () => pushProblems(push.messages, acks).length === 0, 30000, 200).catch(() => {});
  const problems = pushProblems(push.messages, acks);
  const seen = { messages: push.messages.length, handshakes: push.meta.handshakes,
    connectFailures: push.meta.connectFailures.length, problems: problems.length ? problems.slice(0, 5) : 'none' };
  await push.disconnect();
  return { problems, seen };
}

function report(t, title, lines) {
  t.diagnostic(`${title}`);
  for (const [k, v] of Object.entries(lines)) t.diagnostic(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

test('kill -9 of httpd children under load: the others serve, nothing acknowledged is lost or doubled', { timeout: 180000 }, async (t) => {
  const cc = 't13';
  const ccId = await prepare(cc);
  const stats = new Stats();
  const killed = [];
  let killing = true;
  const killer = (async () => {
    try {
      await sleep(1500);
      for (let k = 0; k < 4; k++) {
        const kids = children();
        assert.ok(kids.length >= 2, `only ${kids.length} children left`);
        const victim = kids[k % kids.length];
        process.kill(victim, 'SIGKILL');
        killed.push(victim);
        // the server keeps answering: a new connection lands on a live child
        await eventually(() => answers(cc, inst.port), 15000, 50);
        // and the parent replaces the killed child
        await eventually(async () => children().length === SERVERS && !children().includes(victim), 15000, 100);
        await sleep(1000);
      }
    } finally {
      killing = false;
    }
  })();
  const push = await supervisorPush(cc);
  const acks = await mixedLoad({ port: inst.port, cc, agents: AGENTS, prefix: 'kill', stats,
    stop: async () => !killing, drained: unfinished(ccId) });
  await killer;
  const v = await verifyLoad((sql, p) => db.query(sql, p), ccId, acks);
  const p = await checkPush(push, acks);
  report(t, 'kill -9 of httpd children under load', {
    injected: `SIGKILL to ${killed.length} child processes (pids ${killed.join(', ')}), one at a time, each replaced before the next`,
    clients: stats.summary(),
    push: p.seen,
    database: v.counts,
    problems: v.problems.length ? `${v.problems.length}: ${v.problems.slice(0, 10).join('; ')}` : 'none',
  });
  assert.ok(acks.drained, 'every interaction was completed after the kills');
  assert.deepEqual(v.problems, []);
  assert.deepEqual(p.problems, [], 'every completion pushed exactly once');
  assert.equal(p.seen.handshakes, 1, 'the push session went on across the kills');
  assert.equal(killed.length, 4);
  // what a kill may cost: requests in flight on the killed child got no answer, and an
  // operation whose answer was lost may be repeated and refused as already done (2)
  for (const key of Object.keys(stats.api)) assert.match(key, /^409\/2$/, `unexpected answers: ${JSON.stringify(stats.api)}`);
  assert.equal(stats.count((s) => s >= 500), 0);
  assert.ok(stats.ok > 30, `only ${stats.ok} requests succeeded`);   // the load did run (ASan on a busy machine: a few hundred)
  assert.ok(v.counts.stored >= 3, `only ${v.counts.stored} interactions went through`);
});

test('graceful restarts under load: not one request fails', { timeout: 180000 }, async (t) => {
  const cc = 't15';
  const ccId = await prepare(cc);
  const stats = new Stats();
  const generations = [];
  let restarting = true;
  const restarter = (async () => {
    try {
      await sleep(1500);
      for (let k = 0; k < 3; k++) {
        const before = children();
        inst.graceful();
        generations.push(before);
        // the old children are replaced by new ones
        await eventually(async () => {
          const now = children();
          return now.length >= SERVERS && before.every((p) => !now.includes(p));
        }, 30000, 100);
        await sleep(1500);
      }
    } finally {
      restarting = false;
    }
  })();
  const push = await supervisorPush(cc);
  const acks = await mixedLoad({ port: inst.port, cc, agents: AGENTS, prefix: 'graceful', stats,
    stop: async () => !restarting, drained: unfinished(ccId) });
  await restarter;
  const v = await verifyLoad((sql, p) => db.query(sql, p), ccId, acks);
  const p = await checkPush(push, acks);
  report(t, 'graceful restarts under load', {
    injected: `${generations.length} graceful restarts (SIGUSR1 to the parent), each waited for until every old child had gone`,
    clients: stats.summary(),
    push: p.seen,
    database: v.counts,
    problems: v.problems.length ? `${v.problems.length}: ${v.problems.slice(0, 10).join('; ')}` : 'none',
  });
  assert.ok(acks.drained, 'every interaction was completed');
  assert.deepEqual(v.problems, []);
  assert.deepEqual(p.problems, [], 'every completion pushed exactly once');
  assert.equal(p.seen.handshakes, 1, 'the push session went on across the restarts');
  assert.deepEqual(stats.netErrors, {}, 'requests without an answer');
  assert.deepEqual(stats.api, {}, 'answers other than 200');
  assert.ok(stats.ok > 30, `only ${stats.ok} requests succeeded`);   // the load did run (ASan on a busy machine: a few hundred)
});

test('kill -9 of every child while a request\'s transaction is in the database: all of it or none of it', { timeout: 120000 }, async (t) => {
  const cc = 't16';
  const ccId = await freshContactCenter(cc);
  const { invitedTo } = await import('../lib/flows.mjs');
  const id = await invitedTo(cc, ccId, 'agent1', { userData: { a: 1 } });
  // hold the interaction's row so that the Accept waits inside the database
  const { default: pg } = await import('pg');
  const holder = new pg.Client({ host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres', database: 'interactions' });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM interactions.interactions WHERE cc_id = $1 AND id = $2 FOR UPDATE`, [ccId, id]);
    const c = new Client({ port: inst.port, cc, user: 'agent1' });
    const accepting = c.call('POST', `/me/interactions/${id}`, { operationName: 'Accept' });
    const backend = await eventually(async () => (await db.query(`SELECT pid FROM pg_stat_activity
        WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE '%interactions.api%'`, [APP]))[0]?.pid, 15000, 20);
    const kids = children();
    for (const pid of kids) process.kill(pid, 'SIGKILL');
    const r = await accepting;
    c.close();
    await holder.query('COMMIT');
    // the request's backend finishes what it was doing once the lock goes, then finds its
    // client gone; nothing is left half done either way
    await eventually(async () => (await db.value(`SELECT count(*)::int FROM pg_stat_activity WHERE pid = $1`, [backend])) === 0, 15000, 50);
    const row = await db.one(`SELECT i.state, u.login AS owner,
        (SELECT count(*)::int FROM interactions.history h WHERE h.cc_id = i.cc_id AND h.interaction_id = i.id AND h.operation = 'Accept') AS accepts
        FROM interactions.interactions i LEFT JOIN interactions.users u ON u.cc_id = i.cc_id AND u.id = i.owner_id
        WHERE i.cc_id = $1 AND i.id = $2`, [ccId, id]);
    report(t, 'kill -9 of every child while an Accept waits for a row lock in PostgreSQL', {
      injected: `SIGKILL to all ${kids.length} children while the Accept's transaction waited`,
      client: r.status === 0 ? `no response (${r.error.code})` : `HTTP ${r.status}`,
      database: row,
    });
    assert.equal(r.status, 0, 'the client of a killed child gets no answer');
    assert.ok((row.state === 'Processing' && row.owner === 'agent1' && row.accepts === 1)
      || (row.state === 'Invited' && row.accepts === 0), JSON.stringify(row));
    const v = await db.query(`SELECT interactions.invariant_violations($1, true) AS v`, [ccId]);
    assert.deepEqual(v, []);
    // the parent starts new children and they serve; the agent sees the outcome
    await eventually(() => answers(cc, inst.port), 15000, 100);
    const mine = new Client({ port: inst.port, cc, user: 'agent1' });
    const list = await mine.call('GET', '/me/interactions?fields=*');
    mine.close();
    assert.equal(list.json.interactions.find((i) => i.id === id).state, row.state);
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    await holder.end();
  }
});

test('a graceful restart lets a request in progress finish and answer', { timeout: 120000 }, async (t) => {
  const cc = 't16';
  const ccId = await freshContactCenter(cc);
  const { invitedTo } = await import('../lib/flows.mjs');
  const id = await invitedTo(cc, ccId, 'agent2');
  const { default: pg } = await import('pg');
  const holder = new pg.Client({ host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres', database: 'interactions' });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM interactions.interactions WHERE cc_id = $1 AND id = $2 FOR UPDATE`, [ccId, id]);
    const c = new Client({ port: inst.port, cc, user: 'agent2' });   // a new connection: no retry possible
    const accepting = c.call('POST', `/me/interactions/${id}`, { operationName: 'Accept' });
    await eventually(async () => (await db.value(`SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1
        AND wait_event_type = 'Lock' AND query LIKE '%interactions.api%'`, [APP])) === 1, 15000, 20);
    const old = children();
    inst.graceful();
    // the new generation serves while the old child still works on the request
    await eventually(async () => children().some((p) => !old.includes(p)) && (await answers(cc, inst.port)), 30000, 100);
    await holder.query('COMMIT');
    const r = await accepting;
    c.close();
    report(t, 'graceful restart while an Accept waits in PostgreSQL', {
      injected: 'SIGUSR1 to the parent while the request was in progress; the row lock released after the new children answered',
      client: r.status === 0 ? `no response (${r.error.code})` : `HTTP ${r.status} statusCode ${r.json?.statusCode}`,
    });
    assert.equal(r.status, 200, r.error?.message || r.text);
    assert.equal(r.json.interaction.state, 'Processing');
    await eventually(async () => old.every((p) => !children().includes(p)), 30000, 100);
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    await holder.end();
  }
});

test('PostgreSQL ending the pool\'s idle connections (pg_terminate_backend) costs no request', { timeout: 120000 }, async (t) => {
  const cc = 't16';
  await freshContactCenter(cc);
  const answered = {};
  let terminated = 0;
  for (let round = 0; round < 5; round++) {
    // busy enough that every child holds several connections
    await Promise.all(Array.from({ length: 24 }, () => answers(cc, inst.port)));
    // the pool's connections, not the push listeners' (LISTEN, push_wakeups, push_stream_head, the doorbell)
    const pids = (await db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'
        AND query !~ '(push_wakeups|push_stream_head|pg_notify|^LISTEN)'`, [APP])).map((r) => r.pid);
    await db.query(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid`, [pids]);
    terminated += pids.length;
    await eventually(async () => (await db.value(`SELECT count(*)::int FROM pg_stat_activity WHERE pid = ANY ($1)`, [pids])) === 0, 10000, 20);
    const rs = await Promise.all(Array.from({ length: 24 }, async () => {
      const c = new Client({ port: inst.port, cc, user: 'supervisor' });
      try { return (await c.call('GET', '/me')).status; } finally { c.close(); }
    }));
    for (const st of rs) answered[st] = (answered[st] || 0) + 1;
  }
  report(t, 'idle pooled connections terminated by the server', {
    injected: `pg_terminate_backend() of all ${terminated} connections of the httpd, 5 times, while idle`,
    clients: answered,
  });
  assert.deepEqual(answered, { 200: 120 });
});
