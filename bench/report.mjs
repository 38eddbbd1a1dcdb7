// report.mjs — turn the measurements of scripts/bench into docs/benchmarks.md, its PNG plots
// and a last line of JSON.
//   node bench/report.mjs results.jsonl TOP WRITE_DOC SECONDS
//   node bench/report.mjs --replot TOP     draw docs/benchmarks*.png again from the tables of
//                                          docs/benchmarks.md (no measurement is run)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

if (process.argv[2] === '--replot') {
  replot(process.argv[3] || '.');
  process.exit(0);
}

const [file, top, writeDoc, seconds] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
// A measurement repeated (scripts/bench alternates pgbench and HTTP runs) counts by its
// median run; all runs are listed in the table.
const all = {};
for (const r of rows) (all[r.name] ||= []).push(r);
const key = (r) => r.cps ?? r.result?.cps ?? r.result?.rps ?? 0;
const by = Object.fromEntries(Object.entries(all).map(([k, rs]) =>
  [k, [...rs].sort((a, b) => key(a) - key(b))[Math.floor((rs.length - 1) / 2)]]));
const runs = (name) => (all[name] || []).map((r) => Math.round(key(r) * 4)).join(', ');
const sh = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const r1 = (x) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 100) / 100);

const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?';
const machine = {
  cpu, cores: os.cpus().length, memory_gb: Math.round(os.totalmem() / 2 ** 30),
  kernel: os.release(), postgresql: sh('psql', ['--version']), httpd: sh('apache2', ['-v']).split('\n')[0],
  date: new Date().toISOString(),
};

const h = {};
for (const c of [16, 64]) {
  const http = by[`http_${c}`]?.result;
  const pgb = by[`pgbench_${c}`]?.cps;
  const pgbSu = by[`pgbench_su_${c}`]?.cps;
  const stat = by[`static_${c}`]?.result;
  h[c] = {
    http_cycles_s: r1(http?.cps), http_requests_s: r1(http?.rps), pgbench_cycles_s: r1(pgb),
    static_requests_s: r1(stat?.rps), ratio_vs_pgbench: r1(http && pgb ? http.cps / pgb : null),
    pgbench_su_cycles_s: r1(pgbSu), ratio_vs_pgbench_su: r1(http && pgbSu ? http.cps / pgbSu : null),
    ratio_vs_static: r1(http && stat ? http.rps / stat.rps : null), errors: http?.errors ?? null,
    p50_ms: r1(http ? http.p50_us / 1000 : null), p99_ms: r1(http ? http.p99_us / 1000 : null),
  };
}
const lat = by.latency_half?.result;
const push = rows.find((r) => r.name === 'push');
const events = rows.find((r) => r.name === 'events');
const routing = rows.find((r) => r.name === 'routing');
const statsCost = rows.find((r) => r.name === 'stats_cost');
const headline = {
  cycle_ratio_vs_pgbench_16: h[16].ratio_vs_pgbench, cycle_ratio_vs_pgbench_64: h[64].ratio_vs_pgbench,
  cycle_ratio_vs_pgbench_superuser_16: h[16].ratio_vs_pgbench_su,
  cycle_ratio_vs_pgbench_superuser_64: h[64].ratio_vs_pgbench_su,
  http_ops_s_16: h[16].http_requests_s, http_ops_s_64: h[64].http_requests_s,
  pgbench_ops_s_16: r1((h[16].pgbench_cycles_s || 0) * 4), pgbench_ops_s_64: r1((h[64].pgbench_cycles_s || 0) * 4),
  static_rps_64: h[64].static_requests_s,
  latency_half_rate_rps: r1(lat?.rate), latency_half_p50_ms: r1(lat ? lat.p50_us / 1000 : null),
  latency_half_p99_ms: r1(lat ? lat.p99_us / 1000 : null),
  ...(push ? push.headline : {}),
  events_lag_p99_ms: events ? events.headline.events_lag_p99_ms : null,
  routing_create_p99_ratio: routing ? routing.headline.routing_create_p99_ratio : null,
  routing_tick_ms_1000: routing ? routing.headline.routing_tick_ms_1000 : null,
  ...(statsCost ? statsCost.headline : {}),
};

if (writeDoc === '1') {
  throughputPlot([16, 64].map((c) => ({
    connections: c, static: h[c].static_requests_s || 0, pgbench: (h[c].pgbench_cycles_s || 0) * 4,
    http: h[c].http_requests_s || 0,
  })), machine.cores, path.dirname(file), path.join(top, 'docs/benchmarks.png'));
  if (push && push.results) pushPlot(push.results, path.dirname(file), path.join(top, 'docs/benchmarks-push.png'));
  const t = (x) => (x === null || x === undefined ? '–' : String(x));
  let md = `# Benchmarks

Measured by \`scripts/bench\` (this page is written by it) on ${machine.date}.
Every figure is compared with a baseline measured in the same run on the same machine:
client and servers share the CPUs, so absolute numbers move between runs and machines;
the ratios are what to compare.

Machine: ${machine.cores} × ${machine.cpu}, ${machine.memory_gb} GiB, Linux ${machine.kernel};
${machine.postgresql}; ${machine.httpd}. PostgreSQL runs with its durable defaults
(fsync, synchronous_commit on); httpd with the event MPM, 2 children × 96 threads.

## 1. Operation throughput

The agent cycle — create (feeder) → Accept → UpdateUserData → Complete (the agent) — run
by \`bench/loadgen\` (C, epoll, keep-alive; each connection is one agent with its own queue)
for ${seconds} s after a 2 s warm-up, against \`pgbench -M prepared\` running the same four
\`interactions.api(...)\` calls per cycle (\`bench/cycle.pgbench\`) at the same concurrency,
and against httpd serving a ${fs.statSync(path.join(path.dirname(file), 'static/me.json')).size}-byte static file.
pgbench connects the way the module does — as \`interactions_app\` over TCP, so the same
row-level security policies apply to the same SQL; the last column is pgbench as the
superuser over the Unix socket (no RLS, no TCP), for reference. No push clients are
connected here (section 3 measures what they cost).

| connections | static file req/s | pgbench cycles/s (ops/s) | HTTP cycles/s (ops/s) | HTTP ÷ pgbench | errors | p50 / p99 (ms) | pgbench superuser cycles/s (HTTP ÷ it) |
|---|---|---|---|---|---|---|---|
${[16, 64].map((c) => `| ${c} | ${t(h[c].static_requests_s)} | ${t(h[c].pgbench_cycles_s)} (${t(r1((h[c].pgbench_cycles_s || 0) * 4))}) | ${t(h[c].http_cycles_s)} (${t(h[c].http_requests_s)}) | **${t(h[c].ratio_vs_pgbench)}** | ${t(h[c].errors)} | ${t(h[c].p50_ms)} / ${t(h[c].p99_ms)} | ${t(h[c].pgbench_su_cycles_s)} (${t(h[c].ratio_vs_pgbench_su)}) |`).join('\n')}

Runs alternated, three of each; the table shows the medians. Every run's operations/s:
${[16, 64].map((c) => `${c} connections: pgbench ${runs(`pgbench_${c}`) || '–'}; HTTP ${runs(`http_${c}`) || '–'}`).join('; ')}.

Target: HTTP ≥ 0.8 × pgbench.

![throughput](benchmarks.png)

## 2. Latency at half the highest throughput

Open loop at ${t(r1(lat?.rate))} requests/s (half the best HTTP rate above), 16 connections,
latency measured from when each request was due: p50 **${t(headline.latency_half_p50_ms)} ms**,
p90 ${t(r1(lat ? lat.p90_us / 1000 : null))} ms, p99 **${t(headline.latency_half_p99_ms)} ms**, max ${t(r1(lat ? lat.max_us / 1000 : null))} ms
(${t(lat?.requests)} requests, ${t(lat?.errors)} errors). Target: p99 < 10 ms.
${lat ? '\n| request | p50 ms | p99 ms |\n|---|---|---|\n' + Object.entries(lat.by_kind).map(([k, v]) => `| ${k} | ${r1(v.p50_us / 1000)} | ${r1(v.p99_us / 1000)} |`).join('\n') + '\n' : ''}
`;
  if (push) md += push.markdown;
  else md += `
## 3–4. Push channel

Not measured in this run (${by.push_failed ? 'the measurement failed; scripts/bench printed why' : 'the module does not answer on the push channel'}).
`;
  md += events ? events.markdown : `
## 5. Event feed lag

Not measured in this run (${by.events_failed ? 'the measurement failed; scripts/bench printed why' : 'the stage did not run'}).
`;
  md += routing ? routing.markdown : `
## 6. Routing policy at 1,000 agents

Not measured in this run (${by.routing_failed ? 'the measurement failed; scripts/bench printed why' : 'no routing measurement'}).
`;
  if (statsCost) md += statsCost.markdown;
  md += `
## Where the time goes

What the profiles showed, what was changed because of them, and why the targets that are
missed are missed: [performance.md](performance.md).

## How to reproduce

\`\`\`sh
scripts/bench                 # about ${push ? 10 : Math.round((Number(seconds) + 2) * 8 / 60) + 2} minutes; --seconds N per measurement, --quick
\`\`\`

The last line of its output is the JSON below.

\`\`\`json
${JSON.stringify(headline)}
\`\`\`
`;
  fs.writeFileSync(path.join(top, 'docs/benchmarks.md'), md);
}
console.log(JSON.stringify(headline));

// gnuplot with plain text: its default "enhanced" text would read the "_" of
// "mod_interactions" as a subscript.
function gnuplot(script) {
  try { execFileSync('gnuplot', { input: script }); } catch (e) { console.error('gnuplot failed:', e.message); }
}

// Throughput: [{connections, static, pgbench, http}] in requests (operations) per second.
function throughputPlot(bars, cores, dir, png) {
  const plotDat = path.join(dir, 'throughput.dat');
  fs.writeFileSync(plotDat, bars.map((b) => `${b.connections} ${b.static} ${b.pgbench} ${b.http}`).join('\n') + '\n');
  gnuplot(`set terminal pngcairo noenhanced size 900,500 font "sans,10"
set output "${png}"
set title "Requests per second (agent-cycle operations), ${cores} cores, one machine"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "per second (log scale)"
set xlabel "concurrent connections / clients"
set key top left
plot "${plotDat}" using 2:xtic(1) title "httpd static file", '' using 3 title "pgbench: same SQL functions (operations)", '' using 4 title "mod_interactions over HTTP (operations)"
`);
}

// Push: latency of mod_interactions and Faye (left), httpd memory against held polls (right).
function pushPlot(r, dir, png) {
  const lat = r.latency || [];
  const rows = (r.scale && r.scale.rows) || [];
  drawPush(lat, [[0, r.scale ? r.scale.base.rssMiB : 0], ...rows.map((x) => [x.held, x.rssMiB])], dir, png);
}

// lat: [{server, sessions, p50, p99}]; mem: [[held polls, RSS MiB]].
function drawPush(lat, mem, dir, png) {
  const get = (server, n, k) => (lat.find((x) => x.server === server && x.sessions === n) || {})[k] ?? 0;
  const sizes = [...new Set(lat.map((x) => x.sessions))];
  const latDat = path.join(dir, 'push-latency.dat');
  fs.writeFileSync(latDat, sizes.map((n) => `"${n} sessions" ${get('mod_interactions', n, 'p50')} ${get('mod_interactions', n, 'p99')} ${get('faye', n, 'p50')} ${get('faye', n, 'p99')}`).join('\n') + '\n');
  const memDat = path.join(dir, 'push-held.dat');
  fs.writeFileSync(memDat, mem.map(([held, rss]) => `${held} ${rss}`).join('\n') + '\n');
  gnuplot(`set terminal pngcairo noenhanced size 1000,420 font "sans,10"
set output "${png}"
set multiplot layout 1,2
set title "Commit-to-client latency (ms)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set key top left
set yrange [0:*]
plot "${latDat}" using 2:xtic(1) title "mod_interactions p50", '' using 3 title "mod_interactions p99", '' using 4 title "Faye p50", '' using 5 title "Faye p99"
set title "httpd children's memory (RSS) against held polls"
set style data linespoints
set xlabel "held polls"
set ylabel "MiB"
set key off
plot "${memDat}" using 1:2 with linespoints pt 7
unset multiplot
`);
}

// The plots again from what docs/benchmarks.md says (its tables were written above): for a
// change of the plots alone, without a new run of scripts/bench.
function replot(top) {
  const md = fs.readFileSync(path.join(top, 'docs/benchmarks.md'), 'utf8');
  const num = (cell) => Number(cell.replace(/\*/g, '').trim());
  const table = (header) => {   // the rows of the table whose header line starts so
    const lines = md.split('\n');
    const at = lines.findIndex((l) => l.startsWith(header));
    if (at < 0) throw new Error(`docs/benchmarks.md has no table "${header}"`);
    const out = [];
    for (let i = at + 2; i < lines.length && lines[i].startsWith('|'); i++) {
      out.push(lines[i].split('|').slice(1, -1).map((c) => c.trim()));
    }
    return out;
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mi-replot-'));
  try {
    const cores = Number((md.match(/^Machine: (\d+) ×/m) || [])[1]);
    const inParens = (cell) => Number(cell.match(/\(([\d.]+)\)/)[1]);
    throughputPlot(table('| connections | static file req/s |').map((c) => ({
      connections: Number(c[0]), static: num(c[1]), pgbench: inParens(c[2]), http: inParens(c[3]),
    })), cores, dir, path.join(top, 'docs/benchmarks.png'));
    console.log('docs/benchmarks.png drawn again from docs/benchmarks.md');
    if (md.includes('| server | sessions | messages expected / missing |')) {
      const lat = table('| server | sessions | messages expected / missing |').map((c) => ({
        server: c[0], sessions: Number(c[1]), p50: num(c[3]), p99: num(c[5]),
      }));
      const idle = Number((md.match(/Idle \(0 held\): RSS ([\d.]+) MiB/) || [])[1] ?? 0);
      const mem = [[0, idle], ...table('| sessions | held | told to poll |').map((c) => [Number(c[1]), num(c[4])])];
      drawPush(lat, mem, dir, path.join(top, 'docs/benchmarks-push.png'));
      console.log('docs/benchmarks-push.png drawn again from docs/benchmarks.md');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
