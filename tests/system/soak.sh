#!/usr/bin/env bash
# tests/system/soak.sh — a long mixed workload against one httpd with the module, watching for
# leaks: memory, file descriptors, PostgreSQL connections, error-log lines.
#
#   tests/system/soak.sh [--minutes N] [--interval S] [--warmup S] [--rate N] [--out DIR] [--keep]
#     --minutes   how long the load runs (default 10)
#     --interval  seconds between samples (default 15)
#     --warmup    seconds of load before the baseline is taken (default 120)
#     --rate      creates per second (default 20; each interaction then takes 7 more
#                 requests: lists, Accept, UpdateUserData, Complete)
#     --maxmemfree  httpd's MaxMemFree in KiB (default 64, so that memory a thread's allocator
#                 keeps for reuse does not hide or imitate a leak; 0: httpd's default, 2 MiB)
#     --out       run directory (default var/soak-DATE); the CSV, the summary and the
#                 load's own report go there
#
# Builds the module, starts a throwaway PostgreSQL cluster and an httpd (event MPM, 2
# children of 32 threads, children never recycled), runs tests/lib/load.mjs mixed (3 agents, a
# feeder, a supervisor's CometD session with the ack extension following every change, and
# 5 requests a second that must be refused: unknown id, malformed JSON, admin's wrong password) and samples every interval, per httpd child: RSS (VmRSS), open file descriptors
# (/proc/PID/fd) and how many of them are connections to PostgreSQL, threads; the module's
# PostgreSQL connections (pg_stat_activity, application_name mod_interactions); [error] and
# [warn] lines of the error log.  One sample before the load (baseline), then every interval,
# then a cool-down of 70 s after the load (longer than InteractionsPoolTTL, 60 s).
# Fails (exit 1) when:
#   - a child's RSS grows by more than max(4 MiB, 5 %) from the first third of the loaded
#     period after the warm-up (median) to its last third (median),
#   - after the cool-down a child holds more file descriptors other than its PostgreSQL
#     connections than at the baseline (the load's clients have disconnected by then),
#   - the module ever holds more PostgreSQL connections than children x InteractionsPoolMax
#     (32), or after the cool-down more than children x InteractionsPoolKeep (8): idle
#     connections beyond the pool's keep must have been closed,
#   - a child was replaced (crash), or any [error]/[warn] line appears other than httpd's
#     own AH01617 for admin's wrong passwords the load sends on purpose, and the module's
#     MI00211 for the lock they put on admin at the load's address,
#   - the load's database check fails (lost or doubled interactions, invariants).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack="$top/scripts/lib/stack"
minutes=10 interval=15 warmup=120 rate=20 out="" keep=0 maxmemfree=64
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift ;;
        --interval) interval=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rate) rate=$2; shift ;;
        --maxmemfree) maxmemfree=$2; shift ;;
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
# a copy: a rebuild while this runs must not change the code under the running httpd
cp "$module" "$var/mod_interactions.so"
module="$var/mod_interactions.so"
loadpid=""
cleanup() {
    local rc=$?
    if [ -n "$loadpid" ]; then kill "$loadpid" 2>/dev/null || true; fi
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
# MaxMemFree: each worker thread's allocator keeps at most this much freed memory (httpd's
# default, 2 MiB per thread, lets RSS creep toward threads x 2 MiB as more threads serve
# large replies, which looks like a leak and is not one)
if [ "$maxmemfree" = 0 ]; then : > "$var/soak.conf"; else echo "MaxMemFree $maxmemfree" > "$var/soak.conf"; fi
"$stack" httpd-conf "$var" httpd "$port" "$module" SERVERS=2 THREADS=32 EXTRA="$var/soak.conf"
"$stack" httpd-start "$var" httpd
parent=$(cat "$var/httpd/run/httpd.pid")
# shellcheck source=/dev/null
. "$var/secrets.env"

csv="$out/samples.csv"
echo "phase,t_s,pid,rss_kb,fds,pg_fds,threads,pg_conns,log_lines" > "$csv"
t0=$(date +%s)
errlog="$var/httpd/logs/error.log"
pghex=$(printf ':%04X' "$pgport")
pg_fds() {   # PID -> its sockets connected to PostgreSQL's port
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null \
        | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' > "$var/inodes"
    awk -v port="$pghex" 'NR > 1 && substr($3, length($3) - 4) == port { print $10 }' /proc/net/tcp \
        | grep -cFxf "$var/inodes" || true
}
sample() {   # PHASE
    local t conns lines pid
    t=$(( $(date +%s) - t0 ))
    conns=$("$stack" psql "$var" -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mod_interactions'")
    lines=$(grep -cE '\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]' "$errlog" || true)
    for pid in $(pgrep -P "$parent"); do
        [ -r "/proc/$pid/status" ] || continue
        echo "$1,$t,$pid,$(awk '/^VmRSS/{print $2}' "/proc/$pid/status"),$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l),$(pg_fds "$pid"),$(awk '/^Threads/{print $2}' "/proc/$pid/status"),$conns,$lines" >> "$csv"
    done
    echo "  $1 t=${t}s conns=$conns log_lines=$lines $(tail -n +2 "$csv" | awk -F, -v t="$t" '$2==t{printf "pid %s rss %d kB fds %d (pg %d); ", $3, $4, $5, $6}')"
}

say "load for $minutes min at $rate creates/s, sampling every ${interval}s (warm-up ${warmup}s) -> $out"
sample baseline
node "$top/tests/lib/load.mjs" mixed --port "$port" --cc demo --agents agent1,agent2,agent3 --prefix soak \
    --db "host=127.0.0.1 port=$pgport user=interactions_dba password=$DBA_PASSWORD dbname=interactions" \
    --duration $((minutes * 60)) --rate "$rate" --noise 5 --push 1 --out "$out/load.json" > "$out/load.log" 2>&1 &
loadpid=$!

while kill -0 "$loadpid" 2>/dev/null; do
    sample load
    for _ in $(seq 1 "$interval"); do kill -0 "$loadpid" 2>/dev/null || break; sleep 1; done
done
sample load
load_rc=0
wait "$loadpid" || load_rc=$?
loadpid=""
say "cool-down: 70 s without load"
for _ in 1 2 3 4 5 6 7; do sleep 10; sample cooldown; done
cp "$errlog" "$out/error.log"

say "analysis"
node - "$csv" "$warmup" "$out" "$load_rc" <<'JS'
const fs = require('fs');
const [csv, warmup, out, loadRc] = process.argv.slice(2);
const POOL_MAX = 32, POOL_KEEP = 8;
const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
  .map(([phase, ...n]) => { const [t, pid, rss, fds, pgFds, threads, conns, lines] = n.map(Number);
    return { phase, t, pid, rss, fds, pgFds, other: fds - pgFds, threads, conns, lines }; });
const load = rows.filter((r) => r.phase === 'load');
const end = Math.max(...load.map((r) => r.t));
const measured = load.filter((r) => r.t >= Number(warmup));
const span = end - Number(warmup);
const first = (r) => r.t < Number(warmup) + span / 3;
const last = (r) => r.t >= end - span / 3;
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const problems = [];
const base = rows.filter((r) => r.phase === 'baseline');
const coolT = Math.max(...rows.filter((r) => r.phase === 'cooldown').map((r) => r.t));
const cool = rows.filter((r) => r.phase === 'cooldown' && r.t === coolT);
const children = [];
for (const b of base) {
  const pid = b.pid;
  const m = measured.filter((r) => r.pid === pid);
  const a = m.filter(first), z = m.filter(last);
  const c = cool.find((r) => r.pid === pid);
  if (a.length === 0 || z.length === 0 || !c) { problems.push(`child ${pid} did not live through the run (replaced?)`); continue; }
  const rssA = median(a.map((r) => r.rss)), rssZ = median(z.map((r) => r.rss));
  const tol = Math.max(4096, rssA * 0.05);
  children.push({ pid, rssKbBaseline: b.rss, rssKbFirstThird: rssA, rssKbLastThird: rssZ, rssKbAfterCooldown: c.rss,
    rssGrowthKb: rssZ - rssA, toleranceKb: Math.round(tol), fdsBaseline: `${b.fds} (${b.pgFds} to PostgreSQL)`,
    fdsMaxUnderLoad: Math.max(...m.map((r) => r.fds)), fdsAfterCooldown: `${c.fds} (${c.pgFds} to PostgreSQL)`,
    threads: c.threads });
  if (rssZ - rssA > tol) problems.push(`child ${pid}: RSS grew ${rssZ - rssA} kB after the warm-up (tolerance ${Math.round(tol)} kB)`);
  if (c.other > b.other) problems.push(`child ${pid}: ${c.other} fds besides PostgreSQL connections after the cool-down, ${b.other} at the baseline`);
}
for (const r of rows) {
  const same = rows.filter((x) => x.t === r.t && x.phase === r.phase);
  if (same.length !== base.length || same.some((x) => !base.find((b) => b.pid === x.pid))) {
    problems.push(`the set of children changed at t=${r.t}s`);
    break;
  }
}
const nChildren = base.length;
const connMax = Math.max(...rows.map((r) => r.conns));
const connCool = cool.length ? cool[0].conns : NaN;
if (connMax > nChildren * POOL_MAX) problems.push(`${connMax} PostgreSQL connections, more than ${nChildren} x InteractionsPoolMax`);
if (!(connCool <= nChildren * POOL_KEEP)) problems.push(`${connCool} PostgreSQL connections after the cool-down, more than ${nChildren} x InteractionsPoolKeep`);
const pgFdsCool = cool.reduce((n, r) => n + r.pgFds, 0);
if (pgFdsCool !== connCool) problems.push(`the children hold ${pgFdsCool} sockets to PostgreSQL, the server sees ${connCool} connections`);
const log = fs.readFileSync(`${out}/error.log`, 'utf8').split('\n')
  .filter((l) => /\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]/.test(l));
// the wrong passwords sent on purpose (admin's), and the lock they put on admin at this address
const unexpected = log.filter((l) => !/AH01617: user admin: authentication failure .*Password Mismatch/.test(l)
  && !/MI00211: [0-9]+ failed logins of user and address \(user "admin", address 127\.0\.0\.1\)/.test(l));
if (unexpected.length) problems.push(`${unexpected.length} unexpected error-log lines, e.g. ${unexpected[0]}`);
let rep = {};
try { rep = JSON.parse(fs.readFileSync(`${out}/load.json`, 'utf8')); } catch { problems.push('the load wrote no report'); }
if (Number(loadRc) !== 0) problems.push(`the load's database check failed (exit ${loadRc}): ${JSON.stringify((rep.problems || []).slice(0, 5))}`);
const conns = (f) => Math.max(...load.filter(f).map((r) => r.conns));
const summary = {
  minutesOfLoad: Math.round(end / 6) / 10, warmupSeconds: Number(warmup), samples: new Set(rows.map((r) => r.t)).size,
  children, pgConnections: { baseline: base[0]?.conns, maxFirstThird: conns((r) => r.t >= Number(warmup) && first(r)),
    maxLastThird: conns(last), max: connMax, afterCooldown: connCool },
  errorLogLines: { expectedWrongPasswords: log.length - unexpected.length, unexpected: unexpected.length },
  clients: rep.clients, refusalsProvoked: rep.refusalsProvoked, database: rep.database, problems,
};
fs.writeFileSync(`${out}/summary.json`, JSON.stringify(summary, null, 2) + '\n');
const lines = [
  `soak: ${summary.minutesOfLoad} min of load, ${summary.samples} samples, RSS baseline after a ${warmup}s warm-up`,
  ...children.map((c) => `  child ${c.pid}: RSS ${c.rssKbBaseline} kB before the load, ${c.rssKbFirstThird} -> ${c.rssKbLastThird} kB from the first to the last third (growth ${c.rssGrowthKb} kB, tolerance ${c.toleranceKb}), ${c.rssKbAfterCooldown} kB after; fds ${c.fdsBaseline} before, max ${c.fdsMaxUnderLoad} under load, ${c.fdsAfterCooldown} after; ${c.threads} threads`),
  `  PostgreSQL connections (mod_interactions): ${JSON.stringify(summary.pgConnections)}`,
  `  error log: ${unexpected.length} unexpected [error]/[warn] lines (${log.length - unexpected.length} AH01617 for the wrong passwords sent on purpose)`,
  `  clients: ${rep.clients?.requests} requests, ${JSON.stringify(rep.clients?.http)}, no response ${JSON.stringify(rep.clients?.noResponse)}; provoked refusals ${JSON.stringify(rep.refusalsProvoked?.http)}`,
  `  push: ${JSON.stringify(rep.push)}`,
  `  database: ${JSON.stringify(rep.database)}`,
  problems.length ? `FAILED:\n  ${problems.join('\n  ')}` : 'soak: 1 passed, 0 failed',
];
fs.writeFileSync(`${out}/summary.txt`, lines.join('\n') + '\n');
console.log(lines.join('\n'));
process.exit(problems.length ? 1 : 0);
JS
