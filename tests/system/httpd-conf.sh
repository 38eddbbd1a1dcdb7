#!/usr/bin/env bash
# tests/system/httpd-conf.sh — what "scripts/lib/stack httpd-conf" writes for its settings,
# and what it refuses.  It renders scripts/lib/httpd/*.conf.in into a scratch directory (no
# server is started) and checks the result: every placeholder filled, a location per
# contact center, the optional directives only when asked for, each MPM's limits; and that
# an unknown setting, or a number that is not digits, is refused before anything of it
# reaches the shell.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack="$top/scripts/lib/stack"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/v/pg"
echo 5999 >"$scratch/v/pg/port"
fails=0
fail() { echo "  $*"; fails=$((fails + 1)); }

# conf NAME SETTING... -> the file written
conf() {
    local name=$1; shift
    "$stack" httpd-conf "$scratch/v" "$name" 8000 /modules/mod_interactions.so "$@" >/dev/null
    echo "$scratch/v/$name/httpd.conf"
}
has() { grep -qxF -- "$2" "$1" || fail "$(basename "$(dirname "$1")"): no line '$2'"; }
lacks() { ! grep -qF -- "$2" "$1" || fail "$(basename "$(dirname "$1")"): holds '$2'"; }

f=$(conf plain)
if grep -n '@[A-Z_]*@' "$f"; then fail "plain: a placeholder is left"; fi
has "$f" 'Listen 127.0.0.1:8000'
has "$f" 'LoadModule interactions_module /modules/mod_interactions.so'
has "$f" 'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so'
has "$f" 'ThreadsPerChild 256'
has "$f" 'MaxRequestWorkers 512'
has "$f" '<Location /api/v2>'
has "$f" '    InteractionsContactCenter demo'
has "$f" '<Location /acme/api/v2>'
has "$f" 'InteractionsDatabase "host=127.0.0.1 port=5999 dbname=interactions user=interactions_app target_session_attrs=read-write"'
has "$f" "InteractionsDatabasePasswordFile \"$scratch/v/app.password\""
has "$f" 'ServerTokens Prod'
lacks "$f" 'InteractionsPushMaxWaiters'
lacks "$f" 'InteractionsAuthnCacheEntries'
lacks "$f" 'Alias /desktop'
lacks "$f" 'Include '
[ "$(stat -c %a "$scratch/v/app.password")" = 600 ] || fail "the password file is not 0600"

f=$(conf tests NOLOC=1 CCS="t1 t2" MAXWAITERS=0 HANDSHAKES=5 AUTHN_CACHE=7 EXTRA=/x.conf DESKTOP=/d DBPORT=1,2 DBHOST=a,b)
lacks "$f" '<Location /api/v2>'
lacks "$f" 'InteractionsContactCenter acme'
has "$f" '<Location /t1/api/v2>'
has "$f" '    AuthName "t2 contact center"'
has "$f" 'InteractionsPushMaxWaiters 0'
has "$f" 'InteractionsPushHandshakesPerMinute 5'
has "$f" 'InteractionsAuthnCacheEntries 7'
has "$f" 'Include "/x.conf"'
has "$f" 'Alias /desktop "/d"'
has "$f" '        Header always set X-Frame-Options "DENY"'
has "$f" 'InteractionsDatabase "host=a,b port=1,2 dbname=interactions user=interactions_app target_session_attrs=read-write"'
[ "$(grep -c '^<Location /t[12]/api/v2>$' "$f")" = 2 ] || fail "tests: not one location per contact center"

f=$(conf prefork MPM=prefork THREADS=8 SERVERS=3)
has "$f" 'LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so'
has "$f" 'StartServers 3'
has "$f" 'MaxRequestWorkers 8'
lacks "$f" 'ThreadsPerChild'

# refusals: nothing of a refused setting is run or written
for bad in BOGUS=1 =1 MPM "THREADS=HOME[\$(touch $scratch/ran)]" "SERVERS=1+1" "TICK=5s"; do
    if "$stack" httpd-conf "$scratch/v" refused 8000 /m.so "$bad" >/dev/null 2>"$scratch/err"; then
        fail "'$bad' was accepted"
    elif ! grep -q 'stack: httpd-conf: ' "$scratch/err"; then
        fail "'$bad' was refused without saying why: $(cat "$scratch/err")"
    fi
done
[ ! -e "$scratch/ran" ] || fail "a setting's value was run as a command"
[ ! -e "$scratch/v/refused/httpd.conf" ] || fail "a refused setting still wrote httpd.conf"

[ $fails = 0 ] || { echo "httpd-conf.sh: $fails problem(s)"; exit 1; }
echo "httpd-conf.sh: settings rendered and refused as they should"
