#!/usr/bin/env bash
# bench/routing.sh — routing policy at scale (scripts/bench, last step; CONTRACT 8.3).
#
# Two contact centers of 1,000 agents, 100 queues (bench/routing-setup.sql): one with
# plain longest-idle routing and no skills, one with the full policy (every strategy,
# skills, ageing, overflow).  Creates arrive at a steady rate (pgbench -R, as the module's
# role over TCP), each routed in its own transaction; the p99 of their latency is compared
# between the two, measured in the same run.  Then the maintenance tick's time with both
# contact centers in place (routing_tick_ms_1000).  Prints one JSON line:
#   {"name":"routing","headline":{...},"markdown":"..."}
# Needs the cluster scripts/bench started and no httpd on it (its maintenance thread would
# run the tick concurrently): MI_BENCH_VAR, MI_BENCH_PGPORT, MI_BENCH_SECONDS, MI_BENCH_QUICK;
# MI_BENCH_ROUTING_RATE (creates/s, default 50).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stack="$top/scripts/lib/stack"
var=$MI_BENCH_VAR pgport=$MI_BENCH_PGPORT secs=${MI_BENCH_SECONDS:-10} quick=${MI_BENCH_QUICK:-0}
rate=${MI_BENCH_ROUTING_RATE:-50}
reps=2; [ "$quick" = 1 ] && reps=1
say() { printf '    %s\n' "$*" >&2; }

for kind in plain full; do
    full=0; [ $kind = full ] && full=1
    "$stack" psql "$var" -q -v name="route_$kind" -v full=$full -f "$top/bench/routing-setup.sql" >/dev/null
done
# statistics as autovacuum would keep them: freshly filled tables without them are taken
# for empty, and plans scan what they should look up (bench/tick.sql does the same)
"$stack" psql "$var" -qc "ANALYZE"
cc_plain=$("$stack" psql "$var" -tAc "SELECT interactions.contact_center_id('route_plain')")
cc_full=$("$stack" psql "$var" -tAc "SELECT interactions.contact_center_id('route_full')")
app_password=$(sed -n 's/^APP_PASSWORD=//p' "$var/secrets.env")
work=$(mktemp -d "$var/routing.XXXXXX")

# $1 kind, $2 cc, $3 full, $4 run: pgbench at $rate creates/s; its per-transaction log
# (latency in microseconds, third column) is kept for the percentiles
creates() {
    mkdir -p "$work/$1-$4"
    (cd "$work/$1-$4" && PGPASSWORD="$app_password" pgbench -h 127.0.0.1 -p "$pgport" -U interactions_app \
        -n -M prepared -c 4 -j 2 -R "$rate" -T "$secs" -D cc="$2" -D full="$3" -l \
        -f "$top/bench/routing-create.pgbench" interactions >/dev/null 2>"$work/$1-$4.err") \
        || { cat "$work/$1-$4.err" >&2; exit 1; }
}
# the tick: 20 runs of interactions.maintenance() after a warm one, average in ms
tick() {
    "$stack" psql "$var" -qtA <<'SQL'
ANALYZE;
SELECT interactions.maintenance();
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    FOR i IN 1 .. 20 LOOP
        PERFORM interactions.maintenance();
    END LOOP;
    RAISE NOTICE 'tick_ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000 / 20, 2);
END $$;
SQL
}
tick_ms() { tick 2>&1 | sed -n 's/.*tick_ms \([0-9.]*\).*/\1/p'; }

for run in $(seq 1 $reps); do
    say "routing: plain longest-idle, $rate creates/s for ${secs} s ($run/$reps)"
    creates plain "$cc_plain" 0 "$run"
done
tick_plain=$(tick_ms)
for run in $(seq 1 $reps); do
    say "routing: full policy, $rate creates/s for ${secs} s ($run/$reps)"
    creates full "$cc_full" 1 "$run"
done
tick_full=$(tick_ms)
waiting=$("$stack" psql "$var" -tAc "SELECT count(*) FILTER (WHERE state = 'Queued') || ' ' || count(*) FILTER (WHERE state = 'Invited') || ' ' || count(*) FILTER (WHERE unservable) FROM interactions.interactions WHERE cc_id = $cc_full")
ringing=$("$stack" psql "$var" -tAc "SELECT count(*) FROM interactions.ring_offers WHERE cc_id = $cc_full")

node - "$work" "$rate" "$secs" "$tick_plain" "$tick_full" "$waiting" "$ringing" <<'JS'
const fs = require('fs');
const path = require('path');
const [work, rate, secs, tickPlain, tickFull, waiting, ringing] = process.argv.slice(2);
const lat = (kind) => fs.readdirSync(work).filter((d) => d.startsWith(kind + '-') && !d.endsWith('.err'))
  .flatMap((d) => fs.readdirSync(path.join(work, d)).filter((f) => f.startsWith('pgbench_log'))
    .flatMap((f) => fs.readFileSync(path.join(work, d, f), 'utf8').split('\n').filter(Boolean)
      .map((l) => Number(l.split(' ')[2]) / 1000)))
  .sort((a, b) => a - b);
const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(a.length * p))] : null);
const r2 = (x) => (x === null || Number.isNaN(x) ? null : Math.round(x * 100) / 100);
const plain = lat('plain');
const full = lat('full');
const [queued, invited, unservable] = waiting.split(' ').map(Number);
const h = {
  routing_create_p99_ratio: r2(pct(full, 0.99) / pct(plain, 0.99)),
  routing_tick_ms_1000: r2(Number(tickFull)),
  routing_create_p99_ms_plain: r2(pct(plain, 0.99)), routing_create_p99_ms_full: r2(pct(full, 0.99)),
  routing_tick_ms_1000_plain: r2(Number(tickPlain)),
};
const markdown = `
## 6. Routing policy at 1,000 agents

Two contact centers of 1,000 agents (capacity 5, all Ready), 100 queues of 30 members
(\`bench/routing-setup.sql\`): one routing as before (longest-idle, no skills), one with the
whole policy — the five strategies in turn, ten skills (three per agent), every third queue
requiring one, priority ageing, overflow every tenth queue. Creates at ${rate}/s for ${secs} s per
run (pgbench -R as \`interactions_app\` over TCP; each routes in its own transaction):

| policy | creates | p50 ms | p99 ms |
|---|---|---|---|
| longest-idle, no skills | ${plain.length} | ${r2(pct(plain, 0.5))} | ${h.routing_create_p99_ms_plain} |
| full policy | ${full.length} | ${r2(pct(full, 0.5))} | ${h.routing_create_p99_ms_full} |

Create p99 full ÷ plain: **${h.routing_create_p99_ratio}** (target ≤ 1.5). The maintenance tick
with both contact centers in place: **${h.routing_tick_ms_1000} ms** (target ≤ 10 ms; ${h.routing_tick_ms_1000_plain} ms before
the full-policy creates). The full-policy center ended with ${queued} waiting (${unservable} of them
unservable: nobody has the skills), ${invited} offered, ${ringing} ring-all offers to other agents.
`;
console.log(JSON.stringify({ name: 'routing', headline: h, markdown }));
JS
