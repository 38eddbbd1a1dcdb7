#!/usr/bin/env bash
# bench/page-memory.sh — how much memory one httpd child needs for big collection pages.
#
#   bench/page-memory.sh TOP MODULE_SO DIR
#
# TOP is a source tree (its sql/ is migrated and its scripts/lib/stack used), MODULE_SO the
# module built from it, DIR a scratch directory (wiped).  Provisions 500 Queued interactions
# in the demo contact center, each with 32 KB of user data and 8 addresses of 1 KB, starts
# httpd with one child (event MPM, 64 threads) and sends 8, then 8 more, concurrent
# GET /interactions?fields=*&limit=500 as admin; prints each answer's status and size and the
# child's VmHWM (peak RSS) and VmRSS before and after.  Compare two trees by running it on
# each (git archive COMMIT | tar -x -C /tmp/old; build it with scripts/lib/stack build).
set -euo pipefail
TOP=$1 MOD=$2 DIR=$3
MOD=$(cd "$(dirname "$MOD")" && pwd)/$(basename "$MOD")
stack=$TOP/scripts/lib/stack
rm -rf "$DIR"; mkdir -p "$DIR"
"$stack" pg-up "$DIR" "$("$stack" free-port)" fast >/dev/null
"$stack" demo "$DIR" >/dev/null
"$stack" psql "$DIR" -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
WITH q AS (SELECT id FROM interactions.queues WHERE cc_id = 1 AND name = 'support'),
ins AS (
  INSERT INTO interactions.interactions (cc_id, media_type, state, queue_id, subject, from_address, to_addresses, queued_at)
  SELECT 1, 'email', 'Queued', (SELECT id FROM q), 'subject ' || g, 'customer@example.com',
         ARRAY(SELECT repeat(md5(g::text || '-' || k), 31) || '@example.com' FROM generate_series(1, 8) k), now()
    FROM generate_series(1, 500) g RETURNING cc_id, id)
INSERT INTO interactions.user_data (cc_id, interaction_id, key, value)
SELECT ins.cc_id, ins.id, 'notes', to_jsonb((SELECT string_agg(md5(ins.id::text || k), '') FROM generate_series(1, 1000) k))
  FROM ins;
SQL
hport=$("$stack" free-port)
"$stack" httpd-conf "$DIR" httpd "$hport" "$MOD" SERVERS=1 >/dev/null
"$stack" httpd-start "$DIR" httpd >/dev/null
sleep 1
url="http://127.0.0.1:$hport/api/v2/interactions?fields=*&limit=500"
curl -s -o /dev/null -u admin:password "http://127.0.0.1:$hport/api/v2/me"   # the password check, once
kids=$(pgrep -P "$(cat "$DIR/httpd/run/httpd.pid")" | tr '\n' ' ')
mem() { for k in $kids; do awk -v k="$k" '/VmHWM|VmRSS/{printf "child %s %s %s kB  ", k, $1, $2}' "/proc/$k/status"; done; echo; }
echo "before: $(mem)"
for round in 1 2; do
    for _ in 1 2 3 4 5 6 7 8; do
        curl -s -u admin:password -o /dev/null -w "%{http_code} %{size_download} bytes\n" "$url" &
    done
    wait
    echo "after $((round * 8)) pages: $(mem)"
done
"$stack" httpd-stop "$DIR" httpd >/dev/null
"$stack" pg-stop "$DIR" >/dev/null
