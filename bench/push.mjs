// push.mjs — the push parts of scripts/bench (sections 3 and 4 of docs/benchmarks.md):
//
//   3. the cost of push: the agent cycle's throughput (bench/loadgen, 64 agents, closed loop)
//      with 100 CometD sessions of supervisors subscribed to /v2/interactions — every change
//      of the contact center reaches all 100 — against the same with no session, runs
//      alternating; each session's message count is checked against the history rows;
//   4. push latency and scale: commit-to-client latency with 100 and 1,000 agents' sessions
//      (/v2/me/interactions) while loadgen runs the agent cycle at a fixed rate (open loop,
//      round robin over the agents), against the Faye Node.js server (bench/faye-peer.mjs)
//      under the same client load; then the most held polls this node sustains, and the
//      memory of the httpd children per held poll.
//
// "Commit" is the moment the HTTP answer of the causing request reached loadgen: the
// transaction committed before the module answered, and nothing can be seen of it
// earlier.  Latency = when the client had the whole connect answer carrying the message
// (matched by referenceId) minus that moment; both are CLOCK_MONOTONIC readings of the
// same machine.  The "from request sent" figures bound it from the other side.
//
// Run by scripts/bench, which passes its servers in MI_BENCH_* variables; writes one JSON
// line {"name":"push","headline":{...},"markdown":"..."} to stdout, progress to stderr.
// Stage ws-cost is section 3 again with the sessions on CometD's websocket transport, and
// the latency stage measures mod_interactions over WebSocket too (server
// "mod_interactions-ws": the same raw sessions, one WebSocket each).
// MI_BENCH_PUSH_STAGES (cost,ws-cost,latency,scale) selects stages; MI_BENCH_PUSH_RATE the request
// rate of section 4 (default 200/s); MI_BENCH_HELD_MAX the largest held-poll step.
import { execFile, execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const top = path.resolve(here, '..');
const stack = path.join(top, 'scripts/lib/stack');
const env = process.env;
const v = env.MI_BENCH_VAR;
const port = Number(env.MI_BENCH_PORT);
const secs = Number(env.MI_BENCH_SECONDS || 10);
const loadgen = env.MI_BENCH_LOADGEN;
const moduleSo = env.MI_BENCH_MODULE;
const quick = env.MI_BENCH_QUICK === '1';
const stages = new Set((env.MI_BENCH_PUSH_STAGES || 'cost,ws-cost,latency,scale').split(','));
const rate = Number(env.MI_BENCH_PUSH_RATE || 200);
const warm = quick ? 3 : 5;   // seconds of unmeasured load before each latency run
const costPerProcess = Number(env.MI_BENCH_COST_PER_PROCESS || 25);   // CometD sessions per Node process
const heldMax = Number(env.MI_BENCH_HELD_MAX || (quick ? 2000 : 12000));
// for experiments: which session counts and servers section 4 measures
const latSizes = (env.MI_BENCH_LAT_SIZES || '100,1000').split(',').map(Number);
const latServers = (env.MI_BENCH_LAT_SERVERS || 'mod_interactions,mod_interactions-ws,faye').split(',');
const base = '/bench/api/v2';
const url = `http://127.0.0.1:${port}${base}/notifications`;
const execFileP = promisify(execFile);

const log = (...a) => console.error('   push:', ...a);

// every process started here ends with this one, whatever happens
const children = new Set();
const track = (c) => { children.add(c); c.on('exit', () => children.delete(c)); return c; };
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const r1 = (x) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 100) / 100);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const psql = (sql) => execFileSync(stack, ['psql', v, '-tAc', sql], { encoding: 'utf8' }).trim();

// ------------------------------------------------------------------ httpd

// One benchmark user stands for many desktops (ten supervisors hold 1,000 sessions, each
// agent a dozen in the held-poll scan): the per-user shares of the push channel are lifted.
const manyDesktops = { HELD_PER_USER: 0, SESSIONS_PER_USER: 0, HANDSHAKES: 0 };
const httpdConfs = {
  // sections 3 and 4: either child can hold every session (the event MPM does not spread
  // connections evenly), plus threads for loadgen's 64 connections
  push: { SERVERS: 2, THREADS: 1100, MAXWAITERS: 1000, ...manyDesktops },
  // the held-poll scan: 4 children, each holding up to 2,900
  scale: { SERVERS: 4, THREADS: 3000, MAXWAITERS: 2900, ...manyDesktops },
};

// What the push configurations add to scripts/bench's static.conf: ExtendedStatus Off, as
// docs/push.md advises for thousands of threads per child (with it on, httpd calls times()
// for every request, which the kernel answers by walking every thread of the process).
function pushConfFile() {
  const f = path.join(v, 'push.conf');
  fs.writeFileSync(f, `Include "${v}/static.conf"\nExtendedStatus Off\n`);
  return f;
}

function httpd(name) {
  const c = httpdConfs[name];
  execFileSync(stack, ['httpd-stop', v, 'httpd']);
  execFileSync(stack, ['httpd-conf', v, 'httpd', String(port), moduleSo, 'CCS=bench', 'LOGLEVEL=error',
    `EXTRA=${pushConfFile()}`, ...Object.entries(c).map(([k, x]) => `${k}=${x}`)]);
  execFileSync(stack, ['httpd-start', v, 'httpd']);
  return c;
}

/** Wait until every child runs all its threads (thousands take a few seconds to start). */
async function httpdReady(c) {
  const want = c.SERVERS * c.THREADS, end = Date.now() + 120000;
  for (;;) {
    try {
      const st = await serverStatus();
      if (st.busy + st.idle >= want) return;
    } catch { /* not answering yet */ }
    if (Date.now() > end) throw new Error(`httpd: not all ${want} threads started`);
    await sleep(500);
  }
}

async function login(users) {   // the password checks happen now, not while measuring
  for (let i = 0; i < users.length; i += 32) {
    await Promise.all(users.slice(i, i + 32).map(async (u) => {
      const res = await fetch(`http://127.0.0.1:${port}${base}/me`,
        { headers: { Authorization: 'Basic ' + Buffer.from(`${u}:password`).toString('base64') } });
      if (res.status !== 200) throw new Error(`${u}: GET /me ${res.status}`);
      await res.arrayBuffer();
    }));
  }
}

function httpdChildren() {
  const pid = fs.readFileSync(`${v}/httpd/run/httpd.pid`, 'utf8').trim();
  return execFileSync('ps', ['--ppid', pid, '-o', 'pid='], { encoding: 'utf8' }).split('\n')
    .map((s) => s.trim()).filter(Boolean);
}

// CPU seconds (user + system) of processes: /proc/PID/stat fields 14 and 15, in clock ticks
const TICK = 100;
function cpuOf(pids) {
  let t = 0;
  for (const p of pids) {
    try {
      const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      t += (Number(rest[11]) + Number(rest[12])) / TICK;
    } catch { /* gone */ }
  }
  return t;
}
const pgChildren = () => {
  const pid = fs.readFileSync(`${v}/pg/data/postmaster.pid`, 'utf8').split('\n')[0].trim();
  return execFileSync('ps', ['--ppid', pid, '-o', 'pid='], { encoding: 'utf8' }).split('\n').map((x) => x.trim()).filter(Boolean);
};
/** CPU seconds httpd's children and PostgreSQL's processes spend while @fn runs. */
async function serverCpu(fn) {
  const h = httpdChildren(), pg = pgChildren();
  const h0 = cpuOf(h), p0 = cpuOf(pg);
  const out = await fn();
  const pg1 = pgChildren();   // connections opened meanwhile count from zero
  return { out, httpd: r1(cpuOf(h) - h0), pg: r1(cpuOf(pg1) - p0) };
}

function memKiB(pids) {   // VmRSS and Pss of processes, summed (KiB)
  let rss = 0, pss = 0;
  for (const p of pids) {
    try {
      rss += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
      pss += Number(/Pss:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))[1]);
    } catch { /* gone */ }
  }
  return { rss, pss };
}

async function serverStatus() {
  const t = await (await fetch(`http://127.0.0.1:${port}/server-status?auto`)).text();
  const get = (k) => Number((new RegExp(`^${k}: (\\d+)`, 'm').exec(t) || [])[1]);
  return { busy: get('BusyWorkers'), idle: get('IdleWorkers') };
}

// ------------------------------------------------------------------ load and clients

async function runLoadgen(args) {
  const { stdout } = await execFileP(loadgen, ['-p', String(args.port || port), ...args.argv],
    { maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

/** Fork client processes (at most @per sessions each) and start @sessions in them. */
async function clients(kind, target, sessions, per = 500) {
  const procs = [];
  for (let i = 0; i < sessions.length; i += per) {
    const child = track(fork(path.join(here, '../tests/lib/load.mjs'), ['push-sessions'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const waiting = [];
    child.on('message', (m) => { const w = waiting.findIndex((x) => x.ev === m.ev); if (w >= 0) waiting.splice(w, 1)[0].resolve(m); });
    const ask = (msg, ev) => new Promise((resolve) => { waiting.push({ ev, resolve }); child.send(msg); });
    procs.push({ child, ask, slice: sessions.slice(i, i + per), offset: i });
  }
  const ready = await Promise.all(procs.map((p) => p.ask({ cmd: 'start', kind, url: target, sessions: p.slice }, 'ready')));
  const all = (msg, ev) => Promise.all(procs.map((p) => p.ask(msg, ev)));
  return {
    ok: ready.reduce((a, r) => a + r.ok, 0),
    failed: ready.reduce((a, r) => a + r.failed, 0),
    lastError: ready.map((r) => r.lastError).find(Boolean),
    ms: Math.max(...ready.map((r) => r.ms)),
    async stats() {
      const s = await all({ cmd: 'stats' }, 'stats');
      const sum = (k) => s.reduce((a, x) => a + x[k], 0);
      return { received: s.flatMap((x) => x.received), inflight: sum('inflight'), polling: sum('polling'),
        busyAdvice: sum('busyAdvice'), errors: sum('errors'), connects: sum('connects'),
        handshakes: sum('handshakes'), cpuS: s.reduce((a, x) => a + (x.cpu.user + x.cpu.system) / 1e6, 0),
        lastError: s.map((x) => x.lastError).find(Boolean) };
    },
    reset: () => all({ cmd: 'reset' }, 'reset'),
    async dump(prefix) {
      const files = procs.map((p, k) => `${prefix}.${k}`);
      await Promise.all(procs.map((p, k) => p.ask({ cmd: 'dump', file: files[k] }, 'dumped')));
      const recs = [];
      files.forEach((f, k) => {
        for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
          if (!line) continue;
          const [ref, t, s] = line.split(' ').map(Number);
          recs.push({ ref, t, s: s + procs[k].offset });
        }
        fs.unlinkSync(f);
      });
      return recs;
    },
    async stop(wait = 10000) {
      await Promise.all(procs.map((p) => new Promise((resolve) => {
        const t = setTimeout(() => { p.child.kill('SIGKILL'); resolve(); }, wait + 2000);
        p.child.on('exit', () => { clearTimeout(t); resolve(); });
        p.child.send({ cmd: 'stop', wait });
      })));
    },
  };
}

/** Wait until @done(stats) or @ms passed; returns the last stats. */
async function until(group, done, ms) {
  const end = Date.now() + ms;
  let s;
  for (;;) {
    s = await group.stats();
    if (done(s) || Date.now() > end) return s;
    await sleep(250);
  }
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function readLoadLog(file) {
  const reqs = new Map();
  let first = Infinity;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [ref, sent, done, kind, status] = line.split(' ');
    if (Number(status) !== 200 || ref === '0') continue;
    reqs.set(Number(ref), { sent: Number(sent), done: Number(done), kind });
    first = Math.min(first, Number(sent));
  }
  return { reqs, first };
}

/** Latency of the messages in @recs caused by requests of the load log (after the warm-up). */
function latency(recs, load, warmupUs) {
  const fromDone = [], fromSent = [], byKind = {};
  for (const r of recs) {
    const q = load.reqs.get(r.ref);
    if (!q || q.sent < load.first + warmupUs) continue;
    const ms = (r.t - q.done) / 1000;
    fromDone.push(ms);
    fromSent.push((r.t - q.sent) / 1000);
    (byKind[q.kind] = byKind[q.kind] || []).push(ms);
  }
  const sort = (a) => a.sort((x, y) => x - y);
  sort(fromDone);
  sort(fromSent);
  return { n: fromDone.length, min: r1(fromDone[0]), p50: r1(pct(fromDone, 0.5)), p90: r1(pct(fromDone, 0.9)),
    p99: r1(pct(fromDone, 0.99)), max: r1(fromDone[fromDone.length - 1]),
    sent_p50: r1(pct(fromSent, 0.5)), sent_p99: r1(pct(fromSent, 0.99)),
    by_kind: Object.fromEntries(Object.entries(byKind).map(([k, a]) => [k, { n: a.length, p50: r1(pct(sort(a), 0.5)), p99: r1(pct(a, 0.99)) }])) };
}

// ------------------------------------------------------------------ 3. the cost of push

const ccId = () => Number(psql("SELECT interactions.contact_center_id('bench')"));
const historyMark = (cc) => Number(psql(`SELECT coalesce(max(seq), 0) FROM interactions.history WHERE cc_id = ${cc}`));
const notifications = (cc, from, to) => Number(psql(`SELECT count(*) FROM interactions.history WHERE cc_id = ${cc}
  AND seq > ${from} AND seq <= ${to} AND notification IN ('StatusChange', 'PropertiesUpdated')`));

async function cost(kind = env.MI_BENCH_COST_CLIENT || 'cometd') {
  const nSessions = 100, conns = 64, rounds = quick ? 1 : 2;
  const cc = ccId();
  const cycle = ['-c', String(conns), '-d', String(secs), '-w', '2', '-s', 'cycle', '-b', base];
  const runs = [];
  log('cost: warm-up');
  await runLoadgen({ argv: ['-c', String(conns), '-d', String(warm), '-w', '0', '-s', 'cycle', '-b', base] });
  for (let round = 0; round < rounds; round++) {
    if (env.MI_BENCH_COST_SKIP_IDLE !== '1') {
      log(`cost: push idle (round ${round + 1}/${rounds})`);
      const c = await serverCpu(() => runLoadgen({ argv: cycle }));
      runs.push({ push: false, result: c.out, cpu: { httpd: c.httpd, pg: c.pg } });
    }

    log(`cost: ${nSessions} CometD sessions (${kind}) on /v2/interactions (round ${round + 1}/${rounds})`);
    const sessions = Array.from({ length: nSessions }, (_, i) => ({ user: `sup${(i % 10) + 1}`, channel: '/v2/interactions' }));
    const g = await clients(kind, url, sessions, costPerProcess);
    if (g.failed) throw new Error(`cost: ${g.failed} sessions failed: ${g.lastError}`);
    await sleep(1000);
    await g.reset();
    const from = historyMark(cc);
    const cpu0 = (await g.stats()).cpuS;
    const logFile = path.join(v, `cost-${round}.log`);
    const sc = await serverCpu(() => runLoadgen({ argv: [...cycle, '-L', logFile] }));
    const result = sc.out;
    const c = { httpd: sc.httpd, pg: sc.pg };
    // Every session must get one message per StatusChange/PropertiesUpdated row written
    // since the mark, the run's and any the maintenance thread adds (routing leftovers).
    const t0 = Date.now();
    let expected = 0, s;
    for (;;) {
      expected = notifications(cc, from, historyMark(cc));
      s = await g.stats();
      if (Math.min(...s.received) >= expected || Date.now() - t0 > 60000) break;
      await sleep(250);
    }
    const drainMs = Date.now() - t0;
    expected = notifications(cc, from, historyMark(cc));
    const recs = await g.dump(path.join(v, `cost-${round}.recs`));
    const lat = latency(recs, readLoadLog(logFile), 2e6);
    fs.unlinkSync(logFile);
    await g.stop();
    const total = s.received.reduce((a, x) => a + x, 0);
    runs.push({ push: true, result, cpu: c, expected, min: Math.min(...s.received), max: Math.max(...s.received),
      total, drainMs, clientCpuS: r1(s.cpuS - cpu0), handshakes: s.handshakes, lat });
    log(`cost: push ${result.cps} cycles/s; each session got ${Math.min(...s.received)}..${Math.max(...s.received)} of ${expected}`);
  }
  const mean = (xs) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const idleRuns = runs.filter((r) => !r.push), pushRuns = runs.filter((r) => r.push);
  const idle = mean(idleRuns.map((r) => r.result.cps));
  const push = mean(pushRuns.map((r) => r.result.cps));
  // server CPU (httpd children + PostgreSQL) per cycle without push, and what push adds per
  // delivered message on top of the cycles it ran
  const cycles = (r) => r.result.cps * r.result.seconds;
  const cpuS = (r) => r.cpu.httpd + r.cpu.pg;
  const perCycle = idleRuns.length ? mean(idleRuns.map((r) => cpuS(r) / cycles(r))) : null;
  const perMessage = perCycle === null ? null
    : mean(pushRuns.map((r) => (cpuS(r) - perCycle * cycles(r)) / Math.max(1, r.total)));
  return { kind, sessions: nSessions, conns, rounds, runs, idle_cps: r1(idle), push_cps: r1(push), ratio: r1(push / idle),
    cpu_ms_per_cycle: perCycle === null ? null : r1(perCycle * 1000),
    cpu_us_per_message: perMessage === null ? null : r1(perMessage * 1e6),
    // the same ratio from server CPU alone, when push keeps up (5 messages per cycle per
    // session): what the run's ratio tends to when clients run elsewhere and push is not
    // behind at the end of the run
    cpu_ratio: perCycle && perMessage !== null ? r1(perCycle / (perCycle + 5 * nSessions * perMessage)) : null,
    backlog_s: r1(mean(pushRuns.map((r) => r.drainMs / 1000))),
    complete: pushRuns.every((r) => r.min === r.expected && r.max === r.expected) };
}

// ------------------------------------------------------------------ 4. latency against Faye

async function fayePeer() {
  const p = track(spawn(process.execPath, [path.join(here, 'faye-peer.mjs'), '0', base], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const peerPort = await new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => { const m = /ready (\d+)/.exec(String(d)); if (m) resolve(Number(m[1])); });
    p.on('exit', () => reject(new Error('faye-peer exited')));
  });
  return { port: peerPort, stop: () => new Promise((resolve) => { p.on('exit', resolve); p.kill('SIGTERM'); }) };
}

async function latencyRun(server, n) {
  const peer = server === 'faye' ? await fayePeer() : null;
  const target = peer ? `http://127.0.0.1:${peer.port}/faye` : url;
  const sessions = Array.from({ length: n }, (_, i) => ({ user: `agent${i + 1}`,
    channel: peer ? `/agents/agent${i + 1}` : '/v2/me/interactions' }));
  const g = await clients(server === 'mod_interactions-ws' ? 'raw-ws' : 'raw', target, sessions, 500);
  if (g.failed) throw new Error(`${server} ${n}: ${g.failed} sessions failed: ${g.lastError}`);
  // the same load unmeasured first: connections to the server, pooled database connections
  // and their prepared statements, the clients' sockets all exist when measuring starts
  const load = (extra) => runLoadgen({ port: peer ? peer.port : port,
    argv: ['-c', String(n), '-r', String(rate), '-s', 'cycle', '-b', base, ...extra] });
  await load(['-d', String(warm), '-w', '0']);
  await sleep(1000);
  await g.reset();
  const logFile = path.join(v, `lat-${server}-${n}.log`);
  const result = await load(['-d', String(secs), '-w', '2', '-L', logFile]);
  const ll = readLoadLog(logFile);
  const expected = ll.reqs.size;            // one message to the agent per answered request
  const s = await until(g, (x) => x.received.reduce((a, y) => a + y, 0) >= expected, 30000);
  const recs = await g.dump(path.join(v, `lat-${server}-${n}.recs`));
  const refs = new Set(recs.map((r) => r.ref));
  let missing = 0;
  for (const ref of ll.reqs.keys()) if (!refs.has(ref)) missing++;
  const lat = latency(recs, ll, 2e6);
  if (env.MI_BENCH_KEEP_LOGS === '1') fs.writeFileSync(`${logFile}.recs`, recs.map((r) => `${r.ref} ${r.t} ${r.s}`).join('\n'));
  else fs.unlinkSync(logFile);
  await g.stop();
  if (peer) await peer.stop();
  const out = { server, sessions: n, rate, requests: result.requests, req_errors: result.errors,
    req_p99_ms: r1(result.p99_us / 1000), expected, received: recs.length, missing,
    busyAdvice: s.busyAdvice, clientErrors: s.errors, ...lat };
  log(`latency ${server} ${n} sessions: p50 ${lat.p50} ms, p99 ${lat.p99} ms, ${recs.length}/${expected} messages`);
  return out;
}

// ------------------------------------------------------------------ 4. held polls

async function scale(conf) {
  const users = 1000;
  // up to the children's room (SERVERS x MAXWAITERS = 11,600) and past it: beyond it
  // connects are told to poll, by design
  const steps = [1000, 2000, 4000, 6000, 8000, 10000, 11000, 12000].filter((k) => k <= heldMax);
  const groups = [];
  const rows = [];
  await sleep(1000);
  const m0 = memKiB(httpdChildren());
  const st0 = await serverStatus();
  let have = 0, best = null;
  for (const k of steps) {
    log(`held polls: ${k}`);
    const add = Array.from({ length: k - have }, (_, i) => ({ user: `agent${((have + i) % users) + 1}`, channel: '/v2/me/interactions' }));
    const t0 = Date.now();
    const g = await clients('raw', url, add, 2500);
    groups.push(g);
    have = k;
    // all held: every session has a connect in flight, none told to poll
    let s;
    const end = Date.now() + 30000;
    for (;;) {
      const ss = await Promise.all(groups.map((x) => x.stats()));
      s = { inflight: ss.reduce((a, x) => a + x.inflight, 0), polling: ss.reduce((a, x) => a + x.polling, 0),
        errors: ss.reduce((a, x) => a + x.errors, 0), busyAdvice: ss.reduce((a, x) => a + x.busyAdvice, 0),
        lastError: ss.map((x) => x.lastError).find(Boolean) };
      if (s.inflight >= k || Date.now() > end) break;
      await sleep(500);
    }
    const rampS = (Date.now() - t0) / 1000;
    await sleep(2000);
    const st = await serverStatus();
    const mem = memKiB(httpdChildren());
    const probe = await runLoadgen({ argv: ['-c', '4', '-d', '2', '-w', '0.5', '-s', 'get', '-P', `${base}/me`, '-U', 'agent1:password'] });
    const row = { sessions: k, held: s.inflight, polling: s.polling, busyAdvice: s.busyAdvice, clientErrors: s.errors,
      busyWorkers: st.busy, rampS: r1(rampS), rssMiB: r1(mem.rss / 1024), pssMiB: r1(mem.pss / 1024),
      kibPerHeld: r1((mem.rss - m0.rss) / Math.max(1, st.busy - st0.busy)),
      probe_p50_ms: r1(probe.p50_us / 1000), probe_p99_ms: r1(probe.p99_us / 1000), probe_errors: probe.errors,
      lastError: s.lastError };
    rows.push(row);
    log(`held polls: ${JSON.stringify(row)}`);
    const ok = s.inflight >= k && s.polling === 0 && probe.errors === 0 && probe.p99_us < 1e6 && st.busy >= k;
    if (!ok) break;
    best = row;
  }
  // disconnects answer the held connects now rather than at their timeout
  await Promise.all(groups.map((g) => g.stop(15000)));
  return { conf, base: { rssMiB: r1(m0.rss / 1024), pssMiB: r1(m0.pss / 1024), busyWorkers: st0.busy }, rows, best };
}

// ------------------------------------------------------------------ main

// A failure says what the server logged (scripts/bench removes its directory afterwards).
process.on('uncaughtException', (e) => {
  console.error(e);
  try {
    const lines = fs.readFileSync(`${v}/httpd/logs/error.log`, 'utf8').split('\n').filter((l) => / MI\d{5}/.test(l));
    if (lines.length) console.error(`httpd error log (${lines.length} module lines, the last 10):\n${lines.slice(-10).join('\n')}`);
  } catch { /* no log */ }
  process.exit(1);
});

const out = { name: 'push', headline: {}, markdown: '' };
const res = {};
const agents = 1000;
log(`users: ${agents} agents, 10 supervisors`);
execFileSync(stack, ['psql', v, '-v', `agents=${agents}`, '-v', 'supervisors=10', '-f', path.join(here, 'push-setup.sql')], { stdio: ['ignore', 'ignore', 'inherit'] });
const pushConf = env.MI_BENCH_KEEP_HTTPD === '1' ? httpdConfs.push : httpd('push');
await httpdReady(pushConf);
const users = [...Array.from({ length: agents }, (_, i) => `agent${i + 1}`), ...Array.from({ length: 10 }, (_, i) => `sup${i + 1}`), 'feeder'];
if (env.MI_BENCH_KEEP_HTTPD !== '1') await login(users);
if (stages.has('cost')) res.cost = await cost();
if (stages.has('ws-cost')) res.wsCost = await cost('cometd-ws');
if (stages.has('latency')) {
  res.latency = [];
  for (const n of latSizes) {
    for (const server of latServers) res.latency.push(await latencyRun(server, n));
  }
}
if (stages.has('scale')) {
  const conf = httpd('scale');
  await httpdReady(conf);
  await login(['agent1', 'feeder']);
  res.scale = await scale(conf);
}
res.pushConf = pushConf;

// ------------------------------------------------------------------ report

const L = (server, n) => (res.latency || []).find((x) => x.server === server && x.sessions === n) || {};
out.headline = {
  push_cost_ratio: res.cost ? res.cost.ratio : null,
  push_cpu_us_per_message: res.cost ? res.cost.cpu_us_per_message : null,
  push_cost_ratio_server_cpu: res.cost ? res.cost.cpu_ratio : null,
  push_p50_ms_100: L('mod_interactions', 100).p50 ?? null, push_p99_ms_100: L('mod_interactions', 100).p99 ?? null,
  push_p50_ms_1000: L('mod_interactions', 1000).p50 ?? null, push_p99_ms_1000: L('mod_interactions', 1000).p99 ?? null,
  faye_p50_ms_1000: L('faye', 1000).p50 ?? null, faye_p99_ms_1000: L('faye', 1000).p99 ?? null,
  ws_cost_ratio: res.wsCost ? res.wsCost.ratio : null,
  ws_p50_ms_100: L('mod_interactions-ws', 100).p50 ?? null, ws_p99_ms_100: L('mod_interactions-ws', 100).p99 ?? null,
  ws_p50_ms_1000: L('mod_interactions-ws', 1000).p50 ?? null, ws_p99_ms_1000: L('mod_interactions-ws', 1000).p99 ?? null,
  held_polls_max: res.scale && res.scale.best ? res.scale.best.held : null,
  kib_per_held_poll: res.scale && res.scale.best ? res.scale.best.kibPerHeld : null,
};
out.results = res;
out.markdown = markdown(res);
process.stdout.write(JSON.stringify(out) + '\n');

function markdown(r) {
  const t = (x) => (x === null || x === undefined ? '–' : String(x));
  let md = '';
  if (r.cost) {
    const c = r.cost;
    md += `
## 3. The cost of push

The agent cycle of section 1 (${c.conns} connections, closed loop, ${secs} s after a 2 s
warm-up) with ${c.sessions} Bayeux sessions open — the official CometD client
(\`cometd\` + \`cometd-nodejs-client\`, one Node process), 10 supervisors, each session
subscribed to \`/v2/interactions\`, so every change of the contact center (5 messages per
cycle) reaches all ${c.sessions} — against the same without sessions; ${c.rounds} round(s),
alternating, after one unmeasured warm-up. httpd: ${r.pushConf.SERVERS} children ×
${r.pushConf.THREADS} threads, \`InteractionsPushMaxWaiters ${r.pushConf.MAXWAITERS}\`. After each run
every session's message count is compared with the history rows written meanwhile. Server
CPU is the user + system time of httpd's children and PostgreSQL's processes during the run
(\`/proc/PID/stat\`); the clients run on the same cores, their CPU is shown apart.

| run | cycles/s | requests/s | errors | server CPU s (httpd + PostgreSQL) | messages per session (expected) | client CPU s | drained after | latency p50 / p99 ms |
|---|---|---|---|---|---|---|---|---|
${c.runs.map((x) => `| ${x.push ? `${c.sessions} sessions` : 'no session'} | ${x.result.cps} | ${x.result.rps} | ${x.result.errors} | ${r1(x.cpu.httpd + x.cpu.pg)} (${x.cpu.httpd} + ${x.cpu.pg}) | ${x.push ? `${x.min}–${x.max} (${x.expected})` : '–'} | ${x.push ? x.clientCpuS : '–'} | ${x.push ? `${x.drainMs} ms` : '–'} | ${x.push ? `${t(x.lat.p50)} / ${t(x.lat.p99)}` : '–'} |`).join('\n')}

Throughput with push ÷ without: **${t(c.ratio)}** (target ≥ 0.9)${c.complete ? '; every session received every message exactly once.' : '; **not every session received every message** (see the table; a session that had to handshake again starts over).'}
Server CPU: ${t(c.cpu_ms_per_cycle)} ms per cycle without push; push adds **${t(c.cpu_us_per_message)} µs per
delivered message**, ${c.cpu_us_per_message && c.cpu_ms_per_cycle ? r1(5 * c.sessions * c.cpu_us_per_message / 1000) : '–'} ms per cycle at ${c.sessions} sessions: from server CPU alone the
ratio would be **${t(c.cpu_ratio)}**. The two differ because the clients (100 CometD clients parsing
every message) share the two cores, and because at full write load push falls behind:
the sessions were still receiving ${t(c.backlog_s)} s after the load stopped (the latency
column, measured like in section 4, shows how far behind), work the run's ratio does not
count.
`;
  }
  if (r.wsCost) {
    const c = r.wsCost;
    md += `
### The cost of push over WebSocket

The same runs with the ${c.sessions} CometD sessions on the client's preferred \`websocket\`
transport (one WebSocket each; each holds a worker thread for as long as it is open):

| run | cycles/s | requests/s | errors | server CPU s (httpd + PostgreSQL) | messages per session (expected) | client CPU s | drained after | latency p50 / p99 ms |
|---|---|---|---|---|---|---|---|---|
${c.runs.map((x) => `| ${x.push ? `${c.sessions} sessions` : 'no session'} | ${x.result.cps} | ${x.result.rps} | ${x.result.errors} | ${r1(x.cpu.httpd + x.cpu.pg)} (${x.cpu.httpd} + ${x.cpu.pg}) | ${x.push ? `${x.min}–${x.max} (${x.expected})` : '–'} | ${x.push ? x.clientCpuS : '–'} | ${x.push ? `${x.drainMs} ms` : '–'} | ${x.push ? `${t(x.lat.p50)} / ${t(x.lat.p99)}` : '–'} |`).join('\n')}

Throughput with push over WebSocket ÷ without: **${t(c.ratio)}** (target ≥ 0.95)${c.complete ? '; every session received every message exactly once.' : '; **not every session received every message**.'}
`;
  }
  if (r.latency) {
    md += `
## 4. Push latency and scale

### Commit-to-client latency

Each agent \`agentN\` has one session on \`/v2/me/interactions\` (a plain long-polling Bayeux
client, \`tests/lib/load.mjs push-sessions\`, ≤ 500 sessions per Node process) while \`bench/loadgen\`
runs the agent cycle for agents 1…N at ${rate} requests/s (open loop, the agents in turn,
${secs} s after a 2 s warm-up); every request changes one interaction of that agent, so each
answered request means exactly one message to one session. **Latency** is measured from
the moment the request's HTTP answer reached loadgen (the transaction had committed) to
the moment the client had the connect answer carrying the message (matched by
\`referenceId\`); "from sent" counts from when the request was sent instead.
The peer is the Faye ${fayeVersion()} Node.js server (in-memory engine, long-polling;
\`bench/faye-peer.mjs\`) in front of which a small imitation of the same REST calls keeps
the interactions in memory and publishes the same message to \`/agents/agentN\`; the same
clients and the same loadgen drive it. "mod_interactions-ws" is mod_interactions with the
same sessions over CometD's websocket transport (one WebSocket per session, the same
exchange as text frames).

| server | sessions | messages expected / missing | p50 ms | p90 ms | p99 ms | max ms | from sent p50 / p99 ms | requests p99 ms |
|---|---|---|---|---|---|---|---|---|
${r.latency.map((x) => `| ${x.server} | ${x.sessions} | ${x.expected} / ${x.missing} | **${t(x.p50)}** | ${t(x.p90)} | **${t(x.p99)}** | ${t(x.max)} | ${t(x.sent_p50)} / ${t(x.sent_p99)} | ${t(x.req_p99_ms)} |`).join('\n')}

Target: p99 < 50 ms at 1,000 sessions, ahead of Faye.

![push latency and memory](benchmarks-push.png)
`;
  }
  if (r.scale) {
    const s = r.scale;
    md += `
### Held polls on one node

httpd ${s.conf.SERVERS} children × ${s.conf.THREADS} threads (\`ThreadStackSize 262144\`),
\`InteractionsPushMaxWaiters ${s.conf.MAXWAITERS}\`; sessions of agents 1…1000 added in steps,
each keeping a connect held (\`InteractionsPushTimeout\` 25 s, so every session polls again
every 25 s). At each step: the connects in flight, the busy workers (server-status), the
memory of the httpd children (VmRSS and PSS summed), and a probe of \`GET /me\`
(4 connections, 2 s). A step counts when every session's connect is held and the probe
answers without errors within 1 s at p99. Idle (0 held): RSS ${s.base.rssMiB} MiB, PSS ${s.base.pssMiB} MiB.

| sessions | held | told to poll | busy workers | RSS MiB | PSS MiB | KiB per held poll (RSS) | GET /me p50 / p99 ms | ramp s |
|---|---|---|---|---|---|---|---|---|
${s.rows.map((x) => `| ${x.sessions} | ${x.held} | ${x.busyAdvice} | ${x.busyWorkers} | ${x.rssMiB} | ${x.pssMiB} | ${x.kibPerHeld} | ${x.probe_p50_ms} / ${x.probe_p99_ms} | ${x.rampS} |`).join('\n')}

Most held polls sustained: **${s.best ? s.best.held : '–'}**${s.best && s.best.sessions === s.rows[s.rows.length - 1].sessions ? ' (the largest step tried)' : ''}; memory **${s.best ? s.best.kibPerHeld : '–'} KiB** of httpd RSS per held poll.
`;
  }
  return md;
}

function fayeVersion() {
  try { return JSON.parse(fs.readFileSync(path.join(top, 'tests/node_modules/faye/package.json'), 'utf8')).version; } catch { return ''; }
}
