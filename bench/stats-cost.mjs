// stats-cost.mjs — what a supervisor wall costs the agents: the agent cycle's throughput
// (bench/loadgen, 16 connections) with a poller asking GET /queues/{name}/statistics of
// every queue of the bench contact center once a second, against the same cycle without
// it; runs alternate, the medians are compared.  Prints one JSON line for report.mjs:
// {"name":"stats_cost","headline":{"stats_cost_ratio":..},"markdown":"..."}.
//
//   MI_BENCH_PORT MI_BENCH_SECONDS MI_BENCH_LOADGEN [MI_BENCH_REPS] node bench/stats-cost.mjs
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const port = process.env.MI_BENCH_PORT;
const secs = Number(process.env.MI_BENCH_SECONDS || 10);
const loadgen = process.env.MI_BENCH_LOADGEN;
const reps = Number(process.env.MI_BENCH_REPS || 3);
const base = `http://127.0.0.1:${port}/bench/api/v2`;
const auth = 'Basic ' + Buffer.from('supervisor:password').toString('base64');
const run = promisify(execFile);

async function get(p) {
  const res = await fetch(base + p, { headers: { authorization: auth } });
  const json = await res.json();
  if (res.status !== 200 || json.statusCode !== 0) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// Every queue once a second (one after the other, then a wait for the next second) until
// stopped; counts the calls and their latency.
function poller(names) {
  const st = { stop: false, calls: 0, errors: 0, us: [] };
  st.done = (async () => {
    while (!st.stop) {
      const second = Date.now();
      for (const n of names) {
        const t0 = process.hrtime.bigint();
        try { await get(`/queues/${encodeURIComponent(n)}/statistics`); st.calls++; } catch { st.errors++; }
        st.us.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (st.stop) break;
      }
      const rest = 1000 - (Date.now() - second);
      if (rest > 0 && !st.stop) await new Promise((r) => setTimeout(r, rest));
    }
  })();
  return st;
}

async function cycle() {
  const { stdout } = await run(loadgen, ['-p', port, '-c', '16', '-d', String(secs), '-w', '2', '-s', 'cycle',
    '-b', '/bench/api/v2'], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)];

const names = (await get('/queues')).queues.map((q) => q.name);
const without = [], withPoller = [], latencies = [];
let calls = 0, errors = 0, cycleErrors = 0;
for (let i = 0; i < reps; i++) {
  const a = await cycle();
  without.push(a.cps);
  cycleErrors += a.errors;
  const p = poller(names);
  const b = await cycle();
  p.stop = true;
  await p.done;
  withPoller.push(b.cps);
  cycleErrors += b.errors;
  calls += p.calls;
  errors += p.errors;
  latencies.push(...p.us);
}
const ratio = Math.round((median(withPoller) / median(without)) * 100) / 100;
const r1 = (x) => Math.round(x * 10) / 10;
const markdown = `
## Queue statistics: what a supervisor wall costs the agents

The agent cycle at 16 connections, alone and while a poller asks
\`GET /queues/{name}/statistics\` of every one of the ${names.length} queues once a second
(runs alternated, ${reps} of each, ${secs} s each; medians compared).

| cycle alone (cycles/s) | with the poller (cycles/s) | ratio | statistics calls/s | their p50 / p99 ms | errors |
|---|---|---|---|---|---|
| ${r1(median(without))} (${without.map(r1).join(', ')}) | ${r1(median(withPoller))} (${withPoller.map(r1).join(', ')}) | **${ratio}** | ${r1(calls / (reps * (secs + 2)))} | ${latencies.length ? r1(pct(latencies, 0.5) / 1000) : '–'} / ${latencies.length ? r1(pct(latencies, 0.99) / 1000) : '–'} | ${errors + cycleErrors} |

Target: ≥ 0.9.
`;
console.log(JSON.stringify({
  name: 'stats_cost', headline: { stats_cost_ratio: ratio }, markdown,
  without, with: withPoller, calls, errors, cycle_errors: cycleErrors,
  p50_ms: latencies.length ? pct(latencies, 0.5) / 1000 : null, p99_ms: latencies.length ? pct(latencies, 0.99) / 1000 : null,
}));
