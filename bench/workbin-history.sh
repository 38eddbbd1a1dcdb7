#!/usr/bin/env bash
# bench/workbin-history.sh — how much one agent reading a workbin adds to the history.
#
#   bench/workbin-history.sh TOP MODULE_SO DIR [SECONDS]
#
# TOP is a source tree (its sql/ is migrated and its scripts/lib/stack used), MODULE_SO the
# module built from it, DIR a scratch directory (wiped).  Puts 20 interactions with 32 KB of
# user data each in the demo contact center's shared workbin "team", starts httpd, and has
# agent1 call GetWorkbinContent on it back to back (one request at a time) for SECONDS
# (default 10); prints the calls made and the size of interactions.history (table, TOAST and
# indexes) and its rows before and after.
set -euo pipefail
TOP=$1 MOD=$2 DIR=$3 SECONDS_=${4:-10}
MOD=$(cd "$(dirname "$MOD")" && pwd)/$(basename "$MOD")
stack=$TOP/scripts/lib/stack
rm -rf "$DIR"; mkdir -p "$DIR"
"$stack" pg-up "$DIR" "$("$stack" free-port)" fast >/dev/null
"$stack" demo "$DIR" >/dev/null
"$stack" psql "$DIR" -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
WITH q AS (SELECT id FROM interactions.queues WHERE cc_id = 1 AND name = 'support'),
w AS (SELECT id FROM interactions.workbins WHERE cc_id = 1 AND name = 'team' AND owner_id IS NULL),
ins AS (
  INSERT INTO interactions.interactions (cc_id, media_type, state, queue_id, workbin_id, subject, from_address, to_addresses)
  SELECT 1, 'email', 'InWorkbin', (SELECT id FROM q), (SELECT id FROM w), 'subject ' || g, 'customer@example.com',
         ARRAY['support@example.com'] FROM generate_series(1, 20) g RETURNING cc_id, id)
INSERT INTO interactions.user_data (cc_id, interaction_id, key, value)
SELECT ins.cc_id, ins.id, 'notes', to_jsonb((SELECT string_agg(md5(ins.id::text || k), '') FROM generate_series(1, 1000) k))
  FROM ins;
SQL
hport=$("$stack" free-port)
"$stack" httpd-conf "$DIR" httpd "$hport" "$MOD" >/dev/null
"$stack" httpd-start "$DIR" httpd >/dev/null
sleep 1
size() { "$stack" psql "$DIR" -Atc "SELECT pg_total_relation_size('interactions.history') || ' bytes, ' || (SELECT count(*) FROM interactions.history) || ' rows'"; }
echo "history before: $(size)"
node --input-type=module - "$hport" "$SECONDS_" <<'JS'
const [port, seconds] = process.argv.slice(2);
const auth = 'Basic ' + Buffer.from('agent1:password').toString('base64');
const until = Date.now() + Number(seconds) * 1000;
const statuses = {};
let calls = 0;
while (Date.now() < until) {
  const r = await fetch(`http://127.0.0.1:${port}/api/v2/me/interactions`, { method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ operationName: 'GetWorkbinContent', workbin: 'team' }) });
  await r.arrayBuffer();
  statuses[r.status] = (statuses[r.status] || 0) + 1;
  calls++;
}
console.log(`${calls} calls in ${seconds} s: ${JSON.stringify(statuses)}`);
JS
echo "history after:  $(size)"
"$stack" httpd-stop "$DIR" httpd >/dev/null
"$stack" pg-stop "$DIR" >/dev/null
