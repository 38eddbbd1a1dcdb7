#!/usr/bin/env bash
# tests/soak/soak.sh — a long mixed workload against one httpd with the module, watching for
# leaks: memory, file descriptors, PostgreSQL connections, error-log lines.
#
#   tests/soak/soak.sh [--minutes N] [--interval S] [--warmup S] [--rate N] [--out DIR] [--keep]
#     --minutes   how long the load runs (default 10)
#     --interval  seconds between samples (default 15)
#     --warmup    seconds of load before the baseline is taken (default 120)
#     --rate      creates per second (default 20; each interaction then takes 7 more
#                 requests: lists, Accept, UpdateUserData, Complete)
#     --out       run directory (default var/soak-DATE); the CSV, the summary and the
#                 load's own report go there
#
# Builds the module, starts a throwaway PostgreSQL cluster and an httpd (event MPM, 2
# children of 32 threads, children never recycled), runs tests/load/drive.mjs (3 agents, a
# feeder, and 5 requests a second that must be refused: unknown id, malformed JSON, wrong
# password) and samples every interval, per httpd child: RSS (VmRSS), open file descriptors
# (/proc/PID/fd), threads; PostgreSQL connections of application_name mod_interactions;
# [error]/[warn] lines of the error log.  Fails (exit 1) when after the warm-up:
#   - a child's RSS grows by more than max(4 MiB, 5 %) from the first third of the
#     measured period (median) to the last third (median),
#   - a child's fd count or the module's connection count is higher at the end (maximum of
#     the last third) than it ever was in the first third,
#   - a child was replaced (crash), or any [error]/[warn] line appears other than httpd's
#     own AH01617 for the wrong passwords the load sends on purpose,
#   - the load's database check fails (lost or doubled interactions, invariants).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack="$top/scripts/lib/stack"
minutes=10 interval=15 warmup=120 rate=20 out="" keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift ;;
        --interval) interval=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rate) rate=$2; shift ;;
        --out) out=$2; shift ;;
        --keep) keep=1 ;;
        *) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    shift
done
[ -n "$out" ] || out="$top/var/soak-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf '\n==> %s\n' "$*"; }
say "dependencies and build"
"$stack" deps
(cd "$top/tests" && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund --loglevel=error; })
"$stack" build "$top/build-test" --enable-werror
module="$top/build-test/.libs/mod_interactions.so"

var=$(mktemp -d /tmp/mi-soak.XXXXXX)
chmod 755 "$var"
loadpid=""
cleanup() {
    local rc=$?
    [ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null || true
    if [ $keep = 1 ]; then echo "servers left running under $var"; exit $rc; fi
    "$stack" httpd-stop "$var" httpd || true
    "$stack" pg-stop "$var" immediate || true
    cp "$var/httpd/logs/error.log" "$out/error.log" 2>/dev/null || true
    rm -rf "$var"
    exit $rc
}
trap cleanup EXIT INT TERM

say "PostgreSQL and httpd"
pgport=$("$stack" free-port)
"$stack" pg-up "$var" "$pgport" fast
"$stack" demo "$var"
"$stack" psql "$var" -c "SELECT interactions.add_queue_member('demo', 'support', 'agent3')" \
    -c "SELECT interactions.set_agent_capacity('demo', a, 'email', 2) FROM unnest(ARRAY['agent1','agent2','agent3']) a" >/dev/null
port=$("$stack" free-port)
"$stack" httpd-conf "$var" httpd "$port" "$module" SERVERS=2 THREADS=32
"$stack" httpd-start "$var" httpd
parent=$(cat "$var/httpd/run/httpd.pid")
. "$var/secrets.env"

say "load for $minutes min at $rate creates/s, sampling every ${interval}s (warm-up ${warmup}s) -> $out"
node "$top/tests/load/drive.mjs" --port "$port" --cc demo --agents agent1,agent2,agent3 --prefix soak \
    --db "host=127.0.0.1 port=$pgport user=interactions_dba password=$DBA_PASSWORD dbname=interactions" \
    --duration $((minutes * 60)) --rate "$rate" --noise 5 --out "$out/load.json" > "$out/load.log" 2>&1 &
loadpid=$!

csv="$out/samples.csv"
echo "t_s,pid,rss_kb,fds,threads,pg_conns,log_lines" > "$csv"
t0=$(date +%s)
errlog="$var/httpd/logs/error.log"
sample() {
    local t conns lines pid
    t=$(( $(date +%s) - t0 ))
    conns=$("$stack" psql "$var" -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mod_interactions'")
    lines=$(grep -cE '\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]' "$errlog" || true)
    for pid in $(pgrep -P "$parent"); do
        [ -r "/proc/$pid/status" ] || continue
        echo "$t,$pid,$(awk '/^VmRSS/{print $2}' "/proc/$pid/status"),$(ls "/proc/$pid/fd" | wc -l),$(awk '/^Threads/{print $2}' "/proc/$pid/status"),$conns,$lines" >> "$csv"
    done
    echo "  t=${t}s conns=$conns log_lines=$lines $(tail -n +2 "$csv" | awk -F, -v t="$t" '$1==t{printf "pid %s rss %d kB fds %d; ", $2, $3, $4}')"
}
while kill -0 "$loadpid" 2>/dev/null; do
    sample
    for _ in $(seq 1 "$interval"); do kill -0 "$loadpid" 2>/dev/null || break; sleep 1; done
done
sample
load_rc=0
wait "$loadpid" || load_rc=$?
loadpid=""
cp "$errlog" "$out/error.log"

say "analysis"
node - "$csv" "$warmup" "$out" "$load_rc" <<'JS'
const fs = require('fs');
const [csv, warmup, out, loadRc] = process.argv.slice(2);
const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
  .map(([t, pid, rss, fds, threads, conns, lines]) => ({ t, pid, rss, fds, threads, conns, lines }));
const end = Math.max(...rows.map((r) => r.t));
const measured = rows.filter((r) => r.t >= Number(warmup));
const span = end - Number(warmup);
const first = (r) => r.t < Number(warmup) + span / 3;
const last = (r) => r.t >= end - span / 3;
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const problems = [];
const pids = [...new Set(rows.map((r) => r.pid))];
const startPids = new Set(rows.filter((r) => r.t === rows[0].t).map((r) => r.pid));
const children = [];
for (const pid of pids) {
  const m = measured.filter((r) => r.pid === pid);
  const a = m.filter(first);
  const b = m.filter(last);
  if (!startPids.has(pid) || a.length === 0 || b.length === 0) { problems.push(`child ${pid} did not live through the run (replaced?)`); continue; }
  const rssA = median(a.map((r) => r.rss)), rssB = median(b.map((r) => r.rss));
  const tol = Math.max(4096, rssA * 0.05);
  const fdsA = Math.max(...a.map((r) => r.fds)), fdsB = Math.max(...b.map((r) => r.fds));
  children.push({ pid, rssKbAtStart: rows.find((r) => r.pid === pid).rss, rssKbFirstThird: rssA, rssKbLastThird: rssB,
    rssGrowthKb: rssB - rssA, toleranceKb: Math.round(tol), fdsMaxFirstThird: fdsA, fdsMaxLastThird: fdsB,
    threads: m[m.length - 1].threads });
  if (rssB - rssA > tol) problems.push(`child ${pid}: RSS grew ${rssB - rssA} kB after the warm-up (tolerance ${Math.round(tol)} kB)`);
  if (fdsB > fdsA) problems.push(`child ${pid}: ${fdsB} open fds at the end, at most ${fdsA} in the first third`);
}
const bySample = new Map(measured.map((r) => [r.t, r.conns]));
const connA = Math.max(...[...bySample].filter(([t]) => first({ t })).map(([, c]) => c));
const connB = Math.max(...[...bySample].filter(([t]) => last({ t })).map(([, c]) => c));
if (connB > connA) problems.push(`${connB} PostgreSQL connections at the end, at most ${connA} in the first third`);
const log = fs.readFileSync(`${out}/error.log`, 'utf8').split('\n')
  .filter((l) => /\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]/.test(l));
const unexpected = log.filter((l) => !/AH01617: user agent1: authentication failure .*Password Mismatch/.test(l));
if (unexpected.length) problems.push(`${unexpected.length} unexpected error-log lines, e.g. ${unexpected[0]}`);
let load = {};
try { load = JSON.parse(fs.readFileSync(`${out}/load.json`, 'utf8')); } catch { problems.push('the load wrote no report'); }
if (Number(loadRc) !== 0) problems.push(`the load's database check failed (exit ${loadRc}): ${JSON.stringify((load.problems || []).slice(0, 5))}`);
const summary = {
  minutes: Math.round(end / 6) / 10, warmupSeconds: Number(warmup), samples: new Set(rows.map((r) => r.t)).size,
  children, pgConnectionsMaxFirstThird: connA, pgConnectionsMaxLastThird: connB,
  errorLogLines: { expectedWrongPasswords: log.length - unexpected.length, unexpected: unexpected.length },
  clients: load.clients, refusalsProvoked: load.refusalsProvoked, database: load.database, problems,
};
fs.writeFileSync(`${out}/summary.json`, JSON.stringify(summary, null, 2) + '\n');
const lines = [
  `soak: ${summary.minutes} min of load, ${summary.samples} samples, baseline after ${warmup}s`,
  ...children.map((c) => `  child ${c.pid}: RSS ${c.rssKbAtStart} kB at start, ${c.rssKbFirstThird} -> ${c.rssKbLastThird} kB after warm-up (growth ${c.rssGrowthKb} kB, tolerance ${c.toleranceKb}); fds max ${c.fdsMaxFirstThird} -> ${c.fdsMaxLastThird}; ${c.threads} threads`),
  `  PostgreSQL connections (mod_interactions): max ${connA} in the first third, ${connB} in the last`,
  `  error log: ${unexpected.length} unexpected [error]/[warn] lines (${log.length - unexpected.length} AH01617 for the wrong passwords sent on purpose)`,
  `  clients: ${load.clients?.requests} requests, ${JSON.stringify(load.clients?.http)}, no response ${JSON.stringify(load.clients?.noResponse)}; provoked refusals ${JSON.stringify(load.refusalsProvoked?.http)}`,
  `  database: ${JSON.stringify(load.database)}`,
  problems.length ? `FAILED:\n  ${problems.join('\n  ')}` : 'soak: 1 passed, 0 failed',
];
fs.writeFileSync(`${out}/summary.txt`, lines.join('\n') + '\n');
console.log(lines.join('\n'));
process.exit(problems.length ? 1 : 0);
JS
