#!/usr/bin/env bash
# tests/system/patroni-failover.sh — mod_interactions on a two-node Patroni cluster, through a
# planned switchover and an unplanned failover, under load.
#
#   tests/system/patroni-failover.sh [--keep] [--no-build]
#
# As root on Debian 12: installs patroni and etcd-server (apt-get) if missing, builds the
# module, then under a temporary directory starts etcd and two Patroni nodes of PostgreSQL
# 15 (as the postgres user, loopback ports), with synchronous_mode on (every commit is on
# the standby before it is acknowledged).  It applies the migrations and the demo data to
# the primary, starts httpd with
#   InteractionsDatabase "host=127.0.0.1,127.0.0.1 port=P1,P2 ... target_session_attrs=read-write"
# and, while agents work through HTTP (tests/lib/load.mjs mixed):
#   1. switchover: `patronictl switchover` moves the primary to the other node;
#   2. failover:   the primary node dies (SIGKILL to its Patroni and its postmaster); after
#                  the leader key's TTL the standby is promoted.
# Between the two, reports on the streaming replica: as interactions_dba on the standby, the
# DBA views answer, a one-day report reads one partition of the history, the standby's lag is
# shown by interactions.replication_status (and the primary's row for its standby), a change
# made through the API becomes readable there, and the module holds no connection to it.
# After each it checks that the module found the new primary by itself (every httpd
# connection to PostgreSQL is on the new primary, each child's push listener included,
# requests succeed again), that a supervisor's CometD session (ack extension) opened before
# the fault received every completion exactly once, without a new handshake, that every
# interaction a client was told was created exists once, every acknowledged write is there,
# everything drained to Completed, and the invariant checker is silent; it prints what
# the clients saw (statuses, how long requests failed) and exits non-zero on any problem.
# Takes about three minutes.  The last step of the full scripts/test (not --quick).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack="$top/scripts/lib/stack"
keep=0 build=1
for a in "$@"; do
    case "$a" in
        --keep) keep=1 ;;
        --no-build) build=0 ;;
        *) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "run as root (PostgreSQL runs as postgres, httpd children as www-data)" >&2; exit 2; }

say() { printf '\n==> %s\n' "$*"; }
now_ms() { date +%s%3N; }

say "dependencies"
"$stack" deps
need=()
for p in patroni etcd-server etcd-client; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
(cd "$top/tests" && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund --loglevel=error; })
if [ $build = 1 ]; then
    say "build"
    "$stack" build "$top/build-test" --enable-werror
fi
module="$top/build-test/.libs/mod_interactions.so"
bindir=$(ls -d /usr/lib/postgresql/15/bin)

dir=$(mktemp -d /tmp/mi-ha.XXXXXX)
chmod 755 "$dir"
# a copy: a rebuild while this runs must not change the code under the running httpd
cp "$module" "$dir/mod_interactions.so"
module="$dir/mod_interactions.so"
pids=()
cleanup() {
    local rc=$?
    if [ $keep = 1 ]; then echo "left running under $dir"; exit $rc; fi
    "$stack" httpd-stop "$dir" httpd 2>/dev/null || true
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 2
    for n in node1 node2; do
        if [ -f "$dir/$n/data/postmaster.pid" ]; then
            runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/$n/data" -m immediate stop >/dev/null 2>&1 || true
        fi
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if [ $rc = 0 ]; then rm -rf "$dir"; else echo "logs kept in $dir"; fi
    exit $rc
}
trap cleanup EXIT INT TERM

port() { "$stack" free-port; }
E=$(port); EP=$(port); P1=$(port); P2=$(port); R1=$(port); R2=$(port); H=$(port)
SU_PW=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
REPL_PW=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
printf 'APP_PASSWORD=%s\nDBA_PASSWORD=%s\n' "$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" \
    "$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" > "$dir/secrets.env"
chmod 600 "$dir/secrets.env"
# shellcheck source=/dev/null
. "$dir/secrets.env"
id postgres >/dev/null
# the postgres user must reach the checkout (the Patroni and etcd configurations are written into $dir)
chown postgres "$dir"

say "etcd on 127.0.0.1:$E"
runuser -u postgres -- mkdir -p "$dir/etcd"
runuser -u postgres -- etcd --name e1 --data-dir "$dir/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$E" --advertise-client-urls "http://127.0.0.1:$E" \
    --listen-peer-urls "http://127.0.0.1:$EP" --initial-advertise-peer-urls "http://127.0.0.1:$EP" \
    --initial-cluster "e1=http://127.0.0.1:$EP" --initial-cluster-state new \
    >"$dir/etcd/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$E/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$E/health" >/dev/null || { tail "$dir/etcd/etcd.log"; exit 1; }

node_conf() {   # NAME PGPORT RESTPORT
    local n=$1 pp=$2 rp=$3
    runuser -u postgres -- mkdir -p "$dir/$n/run"
    runuser -u postgres -- chmod 700 "$dir/$n"
    cat > "$dir/$n.yml" <<EOF
scope: mi-ha
namespace: /mi/
name: $n
log:
  level: INFO
  dir: $dir/$n
restapi:
  listen: 127.0.0.1:$rp
  connect_address: 127.0.0.1:$rp
etcd3:
  hosts: 127.0.0.1:$E
bootstrap:
  dcs:
    # a dead primary's leader key expires after ttl; loop_wait + 2 * retry_timeout <= ttl
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    # every commit waits for the standby: a failover loses nothing acknowledged
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 300
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_log_hints: "on"
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - auth-local: trust
    - auth-host: scram-sha-256
  pg_hba:
    - local all postgres trust
    - local all all scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:$pp
  connect_address: 127.0.0.1:$pp
  data_dir: $dir/$n/data
  bin_dir: $bindir
  pgpass: $dir/$n/pgpass
  authentication:
    superuser:
      username: postgres
      password: "$SU_PW"
    replication:
      username: replicator
      password: "$REPL_PW"
    rewind:
      username: postgres
      password: "$SU_PW"
  parameters:
    unix_socket_directories: "$dir/$n/run"
    log_min_messages: warning
tags: {}
EOF
    chown postgres "$dir/$n.yml"
}
start_node() {   # patroni.pid: Patroni's own pid (not runuser's), for the failover's kill
    # shellcheck disable=SC2016 # $$, $1 and $2 are the inner shell's
    runuser -u postgres -- sh -c 'echo $$ > "$1"; exec patroni "$2"' sh "$dir/$1/patroni.pid" "$dir/$1.yml" \
        >"$dir/$1/patroni.out" 2>&1 &
    pids+=($!)
    wait_for 10 test -s "$dir/$1/patroni.pid"
    pids+=("$(cat "$dir/$1/patroni.pid")")
}
role_of() {   # RESTPORT -> primary|replica|down
    local s
    s=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/primary" 2>/dev/null || true)
    if [ "$s" = 200 ]; then echo primary; elif [ "$s" = 503 ]; then echo replica; else echo down; fi
}
wait_for() {  # SECONDS CMD...
    local t=$1; shift
    local until=$(( $(date +%s) + t ))
    until "$@"; do
        [ "$(date +%s)" -lt "$until" ] || return 1
        sleep 0.2
    done
}
psql_on() {  # PORT SQL...
    local p=$1; shift
    PGPASSWORD="$SU_PW" psql -X -q -h 127.0.0.1 -p "$p" -U postgres -d "${DB:-interactions}" -v ON_ERROR_STOP=1 "$@"
}
patronictl_() { runuser -u postgres -- patronictl -c "$dir/node1.yml" "$@"; }

say "Patroni node1 (PostgreSQL on :$P1, REST :$R1) and node2 (:$P2, REST :$R2)"
node_conf node1 "$P1" "$R1"
node_conf node2 "$P2" "$R2"
start_node node1
wait_for 90 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$R1/primary)\" = 200 ]" \
    || { tail -30 "$dir/node1/patroni.out"; exit 1; }
start_node node2
wait_for 120 bash -c "curl -s http://127.0.0.1:$R1/cluster | grep -q '\"sync_standby\"'" \
    || { tail -30 "$dir/node2/patroni.out"; patronictl_ list || true; exit 1; }
patronictl_ list

say "schema and demo data on the primary"
DB=postgres psql_on "$P1" -c "CREATE DATABASE interactions"
PGPASSWORD="$SU_PW" "$top/scripts/interactions-migrate" --sqldir "$top/sql" --app-password "$APP_PASSWORD" \
    --dba-password "$DBA_PASSWORD" -h 127.0.0.1 -p "$P1" -U postgres -d interactions >/dev/null
psql_on "$P1" -f "$top/scripts/lib/demo.sql" >/dev/null
psql_on "$P1" -c "SELECT interactions.add_queue_member('demo', 'support', 'agent3')" \
    -c "SELECT interactions.set_agent_capacity('demo', a, 'email', 2) FROM unnest(ARRAY['agent1','agent2','agent3']) a" >/dev/null

say "httpd on :$H with InteractionsDatabase host=127.0.0.1,127.0.0.1 port=$P1,$P2 target_session_attrs=read-write"
"$stack" httpd-conf "$dir" httpd "$H" "$module" DBHOST=127.0.0.1,127.0.0.1 DBPORT="$P1,$P2" SERVERS=2 THREADS=32
grep InteractionsDatabase "$dir/httpd/httpd.conf" | sed 's/password=[^ ]*/password=.../'
"$stack" httpd-start "$dir" httpd
curl -sf -u agent1:password "http://127.0.0.1:$H/api/v2/me" >/dev/null

db="host=127.0.0.1,127.0.0.1 port=$P1,$P2 user=postgres password=$SU_PW dbname=interactions"
backends_on() {   # PORT -> number of the module's connections there
    DB=interactions psql_on "$1" -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mod_interactions'" 2>/dev/null || echo down
}
listeners_on() {   # PORT -> the push listeners' connections there (LISTEN, push_wakeups)
    # what a listener last ran: LISTEN, a read of the stream (push_stream, push_stream_head),
    # the cursors written back (push_advance), the old wakeup read, or a doorbell; a pattern
    # that misses one of them counts a listener that is there as missing
    DB=interactions psql_on "$1" -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mod_interactions'
        AND query ~ '(interactions\.push_(stream|advance|wakeups)|pg_notify|^LISTEN)'" 2>/dev/null || echo down
}
failures=0

# one scenario: load, the fault at 10 s, 25 s more, drain, check
scenario() {   # NAME FAULT-CMD EXPECTED-NEW-PRIMARY-PORT OTHER-PORT
    local name=$1 cmd=$2 newp=$3 oldp=$4 rc=0
    say "$name under load"
    local newr; newr=$([ "$newp" = "$P1" ] && echo "$R1" || echo "$R2")
    echo "before: module connections on :$oldp = $(backends_on "$oldp"), on :$newp = $(backends_on "$newp")"
    # when does the new primary take writes (Patroni's /primary answers 200)?
    ( until [ "$(role_of "$newr")" = primary ]; do sleep 0.1; done; now_ms > "$dir/$name.promoted" ) &
    local watcher=$!
    node "$top/tests/lib/load.mjs" mixed --port "$H" --cc demo --agents agent1,agent2,agent3 --prefix "$name" \
        --db "$db" --fault-at 10 --fault-cmd "$cmd" --after 25 --push 1 --out "$dir/$name.json" || rc=$?
    kill "$watcher" 2>/dev/null || true
    if [ -f "$dir/$name.promoted" ]; then
        # shellcheck disable=SC2016 # JavaScript
        node -e '
            const r = require(process.argv[1]); const promoted = Number(process.argv[2]);
            const f = r.fault;
            console.log(`new primary took writes ${promoted - f.faultAtEpochMs} ms after the fault; `
              + (f.recoveredAtEpochMs ? `the clients succeeded again ${f.recoveredAtEpochMs - f.faultAtEpochMs} ms after it, `
                 + `${f.recoveredAtEpochMs - promoted} ms after the promotion` : "no failure seen by the clients"));
            if (f.recoveredAtEpochMs && f.recoveredAtEpochMs - promoted > 15000) { console.log("FAILED: the module took more than 15 s to follow the new primary"); process.exit(1); }
        ' "$dir/$name.json" "$(cat "$dir/$name.promoted")" | tee -a "$dir/timings.txt" || rc=1
    else
        echo "FAILED: :$newp never became the primary"; rc=1
    fi
    echo "after: module connections on :$newp (new primary) = $(backends_on "$newp"), on :$oldp = $(backends_on "$oldp")"
    patronictl_ list || true
    # the module is on the new primary by itself: its pools reconnected there, and each
    # child's push listener LISTENs there (it reads the history on a connection of its own)
    if [ "$(backends_on "$newp")" = down ] || [ "$(backends_on "$newp")" -lt 1 ]; then
        echo "FAILED: no module connection on the new primary :$newp"; rc=1
    fi
    local l; l=$(listeners_on "$newp")
    echo "push listeners on the new primary: $l (children: $(pgrep -P "$(cat "$dir/httpd/run/httpd.pid")" | wc -l))"
    if [ "$l" != "$(pgrep -P "$(cat "$dir/httpd/run/httpd.pid")" | wc -l)" ]; then
        echo "FAILED: not every child's push listener is on the new primary"; rc=1
    fi
    if [ "$(role_of "$newr")" != primary ]; then
        echo "FAILED: :$newp is not the primary"; rc=1
    fi
    if [ $rc = 0 ]; then echo "$name: ok"; else echo "$name: FAILED"; failures=$((failures + 1)); fi
}

scenario switchover "runuser -u postgres -- patronictl -c $dir/node1.yml switchover mi-ha --leader node1 --candidate node2 --force" "$P2" "$P1"
# bring the cluster back to two nodes in sync before the next fault
wait_for 120 bash -c "curl -s http://127.0.0.1:$R2/cluster | grep -q '\"sync_standby\"'" || { patronictl_ list; exit 1; }
# Reports read on the standby (docs/deployment.md): node1 replays node2's WAL now.  As the DBA
# role: the views answer there, a one-day report reads one partition, and the replica says
# how far behind it is; the primary shows the standby and its lag.
say "reports on the streaming replica :$P1 (interactions_dba)"
dba_on() {  # PORT SQL -> one value
    PGPASSWORD="$DBA_PASSWORD" psql -X -q -h 127.0.0.1 -p "$1" -U interactions_dba -d interactions -v ON_ERROR_STOP=1 -tAc "$2"
}
replica_ok=1
check() {  # WHAT VALUE EXPECTED-REGEX
    if [[ "$2" =~ $3 ]]; then echo "  $1: $2"; else echo "FAILED: $1: '$2' (expected $3)"; replica_ok=0; fi
}
check "standby in recovery" "$(dba_on "$P1" "SELECT pg_is_in_recovery()")" '^t$'
check "interaction_history rows of demo" "$(dba_on "$P1" "SELECT count(*) FROM interactions.interaction_history WHERE contact_center = 'demo'")" '^[1-9][0-9]*$'
check "agent_activity rows of demo" "$(dba_on "$P1" "SELECT count(*) FROM interactions.agent_activity WHERE contact_center = 'demo'")" '^[1-9][0-9]*$'
check "queue_statistics of demo" "$(dba_on "$P1" "SELECT string_agg(queue || ':' || accepted_24h, ',' ORDER BY queue) FROM interactions.queue_statistics WHERE contact_center = 'demo'")" '^sales:[0-9]+,support:[1-9][0-9]*$'
plan=$(dba_on "$P1" "EXPLAIN (COSTS OFF) SELECT operation, count(*) FROM interactions.history
        WHERE cc_id = (SELECT id FROM interactions.contact_centers WHERE name = 'demo')
          AND at >= date_trunc('day', now()) AND at < date_trunc('day', now()) + interval '1 day' GROUP BY 1")
check "partitions a one-day report reads" "$(grep -o 'history_[0-9]\{6\}' <<<"$plan" | sort -u | tr '\n' ' ')" '^history_[0-9]{6} $'
check "the standby's own status" "$(dba_on "$P1" "SELECT role || ' backlog=' || replay_backlog_bytes || ' heartbeat_age_ms=' || (extract(epoch FROM heartbeat_age) * 1000)::int FROM interactions.replication_status")" '^standby backlog=[0-9]+ heartbeat_age_ms=[0-9]+$'
check "heartbeat within 5 s" "$(dba_on "$P1" "SELECT heartbeat_age < interval '5 seconds' FROM interactions.replication_status")" '^t$'
check "the primary sees its standby" "$(dba_on "$P2" "SELECT role || ' ' || standby || ' ' || sync_state || ' lag=' || coalesce(replay_lag::text, 'none') FROM interactions.replication_status")" '^primary node1 (sync|quorum|async) lag='
# how long a change takes to be readable on the replica: the probe goes to a queue without
# members, so that no agent of the load takes it (the failover's checks count their own)
DB=interactions psql_on "$P2" -tAc "SELECT interactions.create_queue('demo', 'replica-probe')" >/dev/null
t0=$(now_ms)
id=$(curl -sf -u feeder:password -H 'Content-Type: application/json' -d '{"mediaType":"email","queueName":"replica-probe","subject":"replica probe"}' \
    "http://127.0.0.1:$H/api/v2/interactions" | sed -E 's/.*"id":"([^"]+)".*/\1/')
if wait_for 10 bash -c "[ \"\$(PGPASSWORD=$DBA_PASSWORD psql -X -q -h 127.0.0.1 -p $P1 -U interactions_dba -d interactions -tAc \"SELECT count(*) FROM interactions.interaction_history WHERE interaction_id = '$id'\")\" -ge 1 ]"; then
    echo "  a change was readable on the replica $(( $(now_ms) - t0 )) ms after the API answered its creation"
else
    echo "FAILED: the change never reached the replica"; replica_ok=0
fi
# the module never connected to the standby
check "module connections on the standby" "$(backends_on "$P1")" '^0$'
if [ $replica_ok = 1 ]; then echo "replica reports: ok"; else echo "replica reports: FAILED"; failures=$((failures + 1)); fi

scenario failover "kill -KILL \$(cat $dir/node2/patroni.pid) \$(head -1 $dir/node2/data/postmaster.pid)" "$P1" "$P2"

say "httpd error log (warnings and errors)"
grep -E '\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]' "$dir/httpd/logs/error.log" \
    | sed -E 's/^\[[^]]*\] //; s/\[pid [0-9]+:tid [0-9]+\] //' | sed -E 's/[0-9]{4,}/N/g' | sort | uniq -c | sort -rn | head -20
unexpected=$(grep -E '\[[a-z_0-9]*:(error|warn|crit|alert|emerg)\]' "$dir/httpd/logs/error.log" \
    | grep -vE 'MI00102: cannot connect to PostgreSQL|MI00112: database connection lost|MI00113: database call .* failed \(SQLSTATE (57P0[1-3]|25006)\)|MI00601: maintenance cannot run|MI005[0-9][0-9]: |MI00801: webhook worker: the database failed' || true)
if [ -n "$unexpected" ]; then echo "unexpected lines:"; echo "$unexpected" | head; failures=$((failures + 1)); fi

say "summary"
for n in switchover failover; do
    [ -f "$dir/$n.json" ] || continue
    # shellcheck disable=SC2016 # JavaScript
    node -e '
        const r = require(process.argv[1]);
        console.log(`${process.argv[2]}: ${r.clients.requests} requests, ${JSON.stringify(r.clients.http)}, no response ${JSON.stringify(r.clients.noResponse)}; push ${JSON.stringify(r.push)}; `
          + `after the fault: ${JSON.stringify(r.fault)}; database: ${JSON.stringify(r.database)}; problems: ${r.problems.length}`);
    ' "$dir/$n.json" "$n"
done
cat "$dir/timings.txt" 2>/dev/null || true
if [ $failures = 0 ]; then echo "patroni-failover: 3 passed, 0 failed"; else echo "patroni-failover: $failures failed"; exit 1; fi
