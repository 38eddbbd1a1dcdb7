#!/usr/bin/env bash
# tests/system/serve.sh — the README's first command, as a user runs it: scripts/serve
# starts, prints "ready:", answers as documented, stops cleanly on SIGTERM, and keeps its
# data across a restart.  Free ports and a temporary state directory; run by scripts/test.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack="$top/scripts/lib/stack"
var=$(mktemp -d /tmp/mi-serve-test.XXXXXX)
chmod 755 "$var"
INTERACTIONS_PORT=$("$stack" free-port)
INTERACTIONS_PGPORT=$("$stack" free-port)
export INTERACTIONS_VAR="$var" INTERACTIONS_PORT INTERACTIONS_PGPORT
base="http://127.0.0.1:$INTERACTIONS_PORT/api/v2"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
    "$stack" httpd-stop "$var" httpd >/dev/null 2>&1 || true
    "$stack" pg-stop "$var" immediate >/dev/null 2>&1 || true
    rm -rf "$var"
}
trap cleanup EXIT

start() {
    "$top/scripts/serve" > "$var/serve.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        grep -q "^ready: $base\$" "$var/serve.out" && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$var/serve.out"; echo "scripts/serve exited"; return 1; }
        sleep 0.2
    done
    cat "$var/serve.out"; echo "scripts/serve did not get ready"; return 1
}
stop() {
    kill -TERM "$pid"
    wait "$pid" || true
    pid=""
    grep -q "stopped; data kept" "$var/serve.out" || { cat "$var/serve.out"; echo "no clean stop"; return 1; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$INTERACTIONS_PORT") 2>/dev/null; then echo "httpd still listening"; return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$INTERACTIONS_PGPORT") 2>/dev/null; then echo "PostgreSQL still listening"; return 1; fi
}

start
grep -q "PGPASSWORD=.* psql -h 127.0.0.1 -p $INTERACTIONS_PGPORT -U interactions_dba interactions" "$var/serve.out" \
    || { echo "no psql command for DBAs printed"; exit 1; }
# the module's database password: in a root-only file, nowhere the httpd user or others can read
app_pw=$(sed -n 's/^APP_PASSWORD=//p' "$var/secrets.env")
if [ -z "$app_pw" ] || [ "$(stat -c %a "$var/app.password")" != 600 ]; then echo "var/app.password is not 0600"; exit 1; fi
! grep -qF -- "$app_pw" "$var/httpd/httpd.conf" || { echo "httpd.conf holds the database password"; exit 1; }
for u in www-data nobody; do
    leak=$(runuser -u "$u" -- grep -rlsF -- "$app_pw" "$var" || true)
    [ -z "$leak" ] || { echo "$u can read the database password in: $leak"; exit 1; }
    if runuser -u "$u" -- cat "$var/httpd/logs/error.log" >/dev/null 2>&1; then echo "$u can read the error log"; exit 1; fi
done
# no version, no TRACE, the desktop's security headers
curl -sI "$base/me" | grep -qi '^Server: Apache\s*$' || { echo "Server header tells more than Apache"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -X TRACE "$base/me")" = 405 ] || { echo "TRACE is not refused"; exit 1; }
curl -sI "http://127.0.0.1:$INTERACTIONS_PORT/desktop/" > "$var/desktop.headers"
if ! { grep -qi "^Content-Security-Policy: .*frame-ancestors 'none'" "$var/desktop.headers" \
         && grep -qi '^X-Frame-Options: DENY' "$var/desktop.headers" \
         && grep -qi '^X-Content-Type-Options: nosniff' "$var/desktop.headers"; }; then
    cat "$var/desktop.headers"; echo "the desktop lacks its security headers"; exit 1
fi
# 200 connections sending their headers byte by byte: other clients still answered within 2 s
node "$top/tests/lib/slowloris.mjs" --port "$INTERACTIONS_PORT" --path /api/v2/me --user agent1:password \
    --sockets 200 --seconds 10 --max-ms 2000 > "$var/slowloris.json" \
    || { cat "$var/slowloris.json"; echo "slow clients starve the others"; exit 1; }
echo "slowloris against scripts/serve: $(cat "$var/slowloris.json")"
curl -sf -u agent1:password "$base/me" | grep -q '"userName":"agent1"'
# the agent desktop: its URL is printed and httpd serves it
desk="http://127.0.0.1:$INTERACTIONS_PORT/desktop/"
grep -q "^desktop: $desk " "$var/serve.out" || { cat "$var/serve.out"; echo "no desktop URL printed"; exit 1; }
curl -sf -o "$var/desktop.html" "$desk"   # to a file: grep -q quitting early would fail curl (pipefail)
grep -q '<title>Agent desktop' "$var/desktop.html"
curl -sf -o /dev/null "${desk}vendor/cometd/cometd.js"
id=$(curl -sf -u feeder:password -H 'Content-Type: application/json' \
        -d '{"mediaType":"email","queueName":"support","subject":"persist me"}' "$base/interactions" \
     | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
[ -n "$id" ]
curl -sf -u admin:password "$base/interactions?fields=*" | grep -q "$id"
# acme users never see demo data
if curl -sf -u admin:password "http://127.0.0.1:$INTERACTIONS_PORT/acme/api/v2/interactions" | grep -q "$id"; then
    echo "acme sees demo's interaction"; exit 1
fi
psql_cmd=$(sed -n 's/^ *\(PGPASSWORD=.*\)$/\1/p' "$var/serve.out")
eval "$psql_cmd -tAc \"SELECT count(*) FROM interactions.interactions WHERE id = '$id'\"" | grep -qx 1
stop
start
curl -sf -u admin:password "$base/interactions/$id" | grep -q '"subject":"persist me"'
stop
echo "scripts/serve: starts, answers, keeps its secrets and its threads, stops cleanly, keeps its data"
