#!/usr/bin/env node
// tests/load/drive.mjs — run the mixed workload of tests/lib/load.mjs against a running
// httpd, optionally inject a fault in the middle, then drain and check the database.
// Used by tests/system/patroni-failover.sh and tests/system/soak.sh.
//
//   node tests/load/drive.mjs --port P --cc demo --agents agent1,agent2 --prefix run1
//        --db 'host=... port=P1[,P2] user=... password=... dbname=interactions'
//        [--duration S]                 load this long (without --fault-cmd)
//        [--fault-at S --fault-cmd CMD --after S]   run CMD (sh -c) S seconds in, then go on
//                                       S seconds more; CMD's output is shown
//        [--rate N]                     at most N creates per second (default: as fast as
//                                       the agents finish them)
//        [--noise N]                    N requests per second that must be refused (unknown
//                                       id: 404, malformed JSON: 400, wrong password: 401)
//        [--push 1]                     a supervisor's CometD session (ack extension) on
//                                       /v2/interactions all along: every acknowledged
//                                       interaction's completion must reach it exactly once
//        [--out FILE]                   the report as JSON
//
// --db may name several hosts/ports (as libpq's multi-host syntax): the checks use the one
// that is not in recovery.  Exit status 1 when the database disagrees with what the
// clients were told (lost or doubled interactions, lost writes, invariant violations) or
// when the load could not drain.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { Stats, Client, mixedLoad, verifyLoad, pushProblems } from '../lib/load.mjs';

const args = {};
for (let k = 2; k < process.argv.length; k += 2) args[process.argv[k].replace(/^--/, '')] = process.argv[k + 1];
const port = Number(args.port);
const cc = args.cc || 'demo';
const agents = (args.agents || 'agent1,agent2').split(',');
const prefix = args.prefix || `load-${Date.now()}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...m);

// ------------------------------------------------------------------ the database

function conninfo(s) {
  const o = {};
  for (const m of s.matchAll(/(\w+)=('(?:[^'\\]|\\.)*'|\S+)/g)) o[m[1]] = m[2].replace(/^'|'$/g, '');
  const hosts = (o.host || '127.0.0.1').split(',');
  const ports = (o.port || '5432').split(',');
  return hosts.map((h, k) => ({ host: h, port: Number(ports[k] ?? ports[0]), user: o.user, password: o.password,
    database: o.dbname || 'interactions', connectionTimeoutMillis: 3000 }));
}
const candidates = conninfo(args.db || '');

/** A query on the primary (the candidate not in recovery), retried while there is none. */
async function onPrimary(sql, params = [], waitMs = 60000) {
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
}
const q = async (sql, params) => (await onPrimary(sql, params)).rows;

// ------------------------------------------------------------------ noise: refusals

async function noise(perSecond, stats, stopped) {
  const good = new Client({ port, cc, user: agents[0], stats });
  const bad = new Client({ port, cc, user: agents[0], password: 'wrong', stats });
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
}

// ------------------------------------------------------------------ timeline of a fault

function timeline(stats, faultAt) {
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
}

// ------------------------------------------------------------------ main

async function main() {
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
  const push = args.push ? await (await import('../lib/push.mjs')).cometdClient({ cc, user: 'supervisor',
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

main().then((rc) => process.exit(rc), (e) => { console.error(e); process.exit(2); });
