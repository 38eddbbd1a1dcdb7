#!/usr/bin/env bash
# tests/system/debian-package.sh — build the Debian package, install it on this machine, and run
# the installed module for real; then remove it again.
#
#   tests/system/debian-package.sh [--keep]     (as root; --keep leaves package and servers)
#
#   1. dpkg-buildpackage -us -uc -b in a scratch copy of the source tree (the build runs
#      make check: unit tests and scripts/check-directives), after apt-get build-dep;
#   2. lintian: any error fails, warnings are shown;
#   3. the package holds what it promises; apt-get install ./libapache2-mod-interactions_*.deb;
#      a2enmod interactions and apache2ctl -t against Debian's own /etc/apache2 layout,
#      then a2dismod again;
#   4. a throwaway PostgreSQL cluster (scripts/lib/stack pg-up), whose database is then
#      recreated empty and provisioned by the INSTALLED /usr/bin/interactions-migrate (it
#      must find /usr/share/mod_interactions/sql by itself), plus the demo data;
#   5. a private httpd on a free port that loads the INSTALLED module through the installed
#      mods-available/interactions.load and .conf and serves the installed sample site
#      (examples/interactions-site.conf); GET /api/v2/me as agent1 must answer statusCode 0,
#      also for acme, and a wrong password 401 with statusCode 20; the database password comes
#      from a root-only file (InteractionsDatabasePasswordFile), the sample site's protections
#      hold (no version, no TRACE, the desktop's headers), and other clients are answered
#      within 2 s while 200 connections send their headers byte by byte;
#   6. everything is stopped, the package purged, and its files must be gone.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack="$top/scripts/lib/stack"
pkg=libapache2-mod-interactions
keep=0
[ "${1:-}" = --keep ] && keep=1

say() { printf 'debian-package: %s\n' "$*"; }
die() { printf 'debian-package: FAILED: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it installs and removes a Debian package"

installed() { dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; }
if installed; then
    say "$pkg is installed already (a previous run?); purging it first"
    apt-get purge -y -qq "$pkg" >/dev/null
fi

work=$(mktemp -d /tmp/mi-deb.XXXXXX)
chmod 755 "$work"
var="$work/var"
mkdir -p "$var"
t0=$(date +%s)
cleanup() {
    local rc=$?
    if [ $keep = 1 ]; then say "left running under $work"; exit $rc; fi
    "$stack" httpd-stop "$var" pkg 2>/dev/null || true
    "$stack" pg-stop "$var" immediate 2>/dev/null || true
    if installed; then apt-get purge -y -qq "$pkg" >/dev/null 2>&1 || rc=1; fi
    if [ $rc = 0 ]; then rm -rf "$work"; else say "logs kept in $work"; fi
    exit $rc
}
trap cleanup EXIT INT TERM

# ------------------------------------------------------------------ 1. build
export DEBIAN_FRONTEND=noninteractive
need=()
for p in dpkg-dev debhelper lintian; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    # tracked and new files, not what .gitignore hides (builds, var/, node_modules)
    (cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/src")
else
    tar -C "$top" --exclude='./build-*' --exclude=./var --exclude='*/node_modules' -cf - . | tar -C "$work/src" -xf -
fi
(cd "$work/src" && apt-get build-dep -y -qq ./ >"$work/build-dep.log" 2>&1) \
    || { cat "$work/build-dep.log"; die "apt-get build-dep ./ (debian/control Build-Depends)"; }
say "dpkg-buildpackage -us -uc -b"
(cd "$work/src" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) \
    || { tail -40 "$work/build.log"; die "dpkg-buildpackage"; }
deb=$(ls "$work"/${pkg}_*.deb)
{ grep -E '^(PASS|FAIL|ERROR):' "$work/build.log" || true; } | sed 's/^/  make check: /'

# ------------------------------------------------------------------ 2. lintian
# as nobody (lintian warns about root); errors fail the run, warnings and notes are shown
lrc=0
runuser -u nobody -- lintian --pedantic --fail-on error "$work"/*.changes >"$work/lintian.log" 2>&1 || lrc=$?
sed 's/^/  lintian: /' "$work/lintian.log"
[ $lrc = 0 ] || die "lintian (exit status $lrc)"

# ------------------------------------------------------------------ 3. contents, install, a2enmod
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/lib/apache2/modules/mod_interactions.so \
         /etc/apache2/mods-available/interactions.load /etc/apache2/mods-available/interactions.conf \
         /usr/bin/interactions-migrate /usr/share/man/man1/interactions-migrate.1.gz \
         /usr/share/mod_interactions/sql/bootstrap.sql \
         /usr/share/mod_interactions/sql/migrations/V001__foundation.sql \
         /usr/share/mod_interactions/sql/functions/900_security.sql \
         /usr/share/doc/$pkg/copyright /usr/share/doc/$pkg/configuration.md.gz \
         /usr/share/doc/$pkg/deployment.md.gz /usr/share/doc/$pkg/examples/interactions-site.conf \
         /usr/share/mod_interactions/desktop/index.html /usr/share/mod_interactions/desktop/vendor/cometd/cometd.js; do
    grep -qx "$f" "$work/contents" || die "the package lacks $f"
done
migrations=("$top"/sql/migrations/V*.sql)
[ "$(grep -c '^/usr/share/mod_interactions/sql/migrations/V.*\.sql$' "$work/contents")" = "${#migrations[@]}" ] \
    || die "the package lacks migrations"
depends=$(dpkg-deb -f "$deb" Depends)
[[ "$depends" == *apache2-api-* ]] || die "Depends lacks apache2-api-NNNN: $depends"
[[ "$depends" == *libpq5* && "$depends" == *libjson-c* && "$depends" == *libcurl4* ]] || die "Depends lacks the shared libraries: $depends"
say "Depends: $depends"

say "apt-get install ./$(basename "$deb")"
apt-get install -y -qq "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; die "apt-get install"; }
installed || die "$pkg is not installed after apt-get install"
[ ! -e /etc/apache2/mods-enabled/interactions.load ] || die "the package enabled the module by itself"
a2enmod -q interactions
if [ ! -L /etc/apache2/mods-enabled/interactions.load ] || [ ! -L /etc/apache2/mods-enabled/interactions.conf ]; then
    die "a2enmod interactions did not enable the load/conf pair"
fi
apache2ctl -t >"$work/configtest.log" 2>&1 || { cat "$work/configtest.log"; a2dismod -q interactions; die "apache2ctl -t with the module enabled"; }
# the sample site as deployment.md installs it, in Debian's own layout (after security.conf)
enabled_here=()
for m in headers reqtimeout auth_basic; do
    [ -e "/etc/apache2/mods-enabled/$m.load" ] || { a2enmod -q "$m"; enabled_here+=("$m"); }
done
cp "/usr/share/doc/$pkg/examples/interactions-site.conf" /etc/apache2/sites-available/mi-test-deb.conf
a2ensite -q mi-test-deb
rc=0; apache2ctl -t >"$work/configtest-site.log" 2>&1 || rc=$?
a2dissite -q mi-test-deb; rm -f /etc/apache2/sites-available/mi-test-deb.conf
for m in "${enabled_here[@]+"${enabled_here[@]}"}"; do a2dismod -q -f "$m"; done
[ $rc = 0 ] || { cat "$work/configtest-site.log"; a2dismod -q interactions; die "apache2ctl -t with the sample site"; }
a2dismod -q interactions
say "a2enmod interactions; apache2ctl -t (also with the sample site): Syntax OK; a2dismod interactions"

# ------------------------------------------------------------------ 4. PostgreSQL, installed migrate
pgport=$("$stack" free-port)
"$stack" pg-up "$var" "$pgport" fast
# pg-up applied the source tree's SQL: start again from an empty database and no roles
run="$var/pg/run"
psql -X -q -h "$run" -p "$pgport" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE interactions" \
    -c "DROP ROLE interactions_app" -c "DROP ROLE interactions_dba" \
    -c "DROP ROLE interactions_system" -c "DROP ROLE interactions_owner" \
    -c "CREATE DATABASE interactions" >/dev/null
# shellcheck disable=SC1091
. "$var/secrets.env"
say "/usr/bin/interactions-migrate (installed) on an empty database"
(cd / && /usr/bin/interactions-migrate --app-password "$APP_PASSWORD" --dba-password "$DBA_PASSWORD" \
    -h "$run" -p "$pgport" -U postgres -d interactions) >"$work/migrate.log" 2>&1 \
    || { cat "$work/migrate.log"; die "the installed interactions-migrate"; }
# an empty database: a line per migration, then how many it applied (nothing else)
nmig=$(find "$top/sql/migrations" -name 'V*.sql' | wc -l)
if ! grep -q "^interactions-migrate: applied $nmig migrations, schema at V" "$work/migrate.log" \
   || [ "$(grep -cv '^applying V[0-9]*__' "$work/migrate.log")" != 1 ]; then
    cat "$work/migrate.log"; die "interactions-migrate did not say what it applied"
fi
applied=$(psql -X -qtA -h "$run" -p "$pgport" -U postgres -d interactions \
    -c "SELECT count(*) FROM interactions_meta.schema_migrations")
[ "$applied" = "${#migrations[@]}" ] || die "$applied migrations applied"
"$stack" demo "$var"

# ------------------------------------------------------------------ 5. httpd with the installed module
port=$("$stack" free-port)
hd="$var/pkg"
mkdir -p "$hd/run" "$hd/logs"
chown www-data "$hd/run"
mods=/usr/lib/apache2/modules
cat >"$hd/httpd.conf" <<EOF
# the installed module, its installed a2enmod pair and the installed sample site
ServerRoot "$hd"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$hd/run/httpd.pid"
DefaultRuntimeDir "$hd/run"
ErrorLog "$hd/logs/error.log"
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule alias_module $mods/mod_alias.so
LoadModule dir_module $mods/mod_dir.so
LoadModule mime_module $mods/mod_mime.so
LoadModule headers_module $mods/mod_headers.so
LoadModule reqtimeout_module $mods/mod_reqtimeout.so
TypesConfig /etc/mime.types
Include /etc/apache2/mods-available/interactions.load
Include /etc/apache2/mods-available/interactions.conf
InteractionsDatabase "host=127.0.0.1 port=$pgport dbname=interactions user=interactions_app"
InteractionsDatabasePasswordFile "$hd/db.password"
Include /usr/share/doc/$pkg/examples/interactions-site.conf
EOF
# as README.Debian says: root's, mode 0600
( umask 077; printf '%s\n' "$APP_PASSWORD" > "$hd/db.password" )
! grep -qF -- "$APP_PASSWORD" "$hd/httpd.conf" || die "httpd.conf holds the database password"
echo "$port" >"$hd/port"
grep -q "^LoadModule interactions_module $mods/mod_interactions.so" /etc/apache2/mods-available/interactions.load \
    || die "the installed interactions.load does not load $mods/mod_interactions.so"
"$stack" httpd-start "$var" pkg

me() {   # me USER PASSWORD BASE -> "HTTP-status body"
    curl -s -o "$work/body" -w '%{http_code}' -u "$1:$2" "http://127.0.0.1:$port$3/me" || true
}
code=$(me agent1 password /api/v2)
say "GET /api/v2/me as agent1: HTTP $code $(cat "$work/body")"
if ! { [ "$code" = 200 ] && grep -q '"statusCode":0' "$work/body" && grep -q '"userName":"agent1"' "$work/body"; }; then
    die "GET /api/v2/me as agent1"
fi
code=$(me agent1 password /acme/api/v2)
if ! { [ "$code" = 200 ] && grep -q '"statusCode":0' "$work/body"; }; then
    die "GET /acme/api/v2/me as agent1: HTTP $code $(cat "$work/body")"
fi
# the agent desktop, as the sample site serves the installed files: its Alias names them
alias=$(awk '$1 == "Alias" && $2 == "/desktop" { print $3 }' "/usr/share/doc/$pkg/examples/interactions-site.conf")
[ "$alias" = /usr/share/mod_interactions/desktop ] || die "the installed sample's Alias /desktop names '$alias'"
for f in "" vendor/cometd/cometd.js; do
    ct=$(curl -s -o "$work/body" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/desktop/$f" || true)
    case "$f:$ct" in
        :"200 text/html"*|*.js:"200 text/javascript"*) ;;
        *) die "GET /desktop/$f: $ct" ;;
    esac
done
code=$(me agent1 wrong /api/v2)
if ! { [ "$code" = 401 ] && grep -q '"statusCode":20' "$work/body"; }; then
    die "a wrong password: HTTP $code $(cat "$work/body")"
fi
# the sample site's protections
curl -sI "http://127.0.0.1:$port/desktop/" >"$work/desktop.headers"
grep -qi '^Server: Apache\s*$' "$work/desktop.headers" || die "the Server header tells more than Apache"
if ! { grep -qi "^Content-Security-Policy: default-src 'none'.*frame-ancestors 'none'" "$work/desktop.headers" \
         && grep -qi '^X-Frame-Options: DENY' "$work/desktop.headers" \
         && grep -qi '^X-Content-Type-Options: nosniff' "$work/desktop.headers"; }; then
    cat "$work/desktop.headers"; die "the desktop lacks its security headers"
fi
[ "$(curl -s -o /dev/null -w '%{http_code}' -X TRACE "http://127.0.0.1:$port/desktop/")" = 405 ] || die "TRACE is not refused"
node "$top/tests/lib/slowloris.mjs" --port "$port" --path /api/v2/me --user agent1:password \
    --sockets 200 --seconds 10 --max-ms 2000 >"$work/slowloris.json" \
    || { cat "$work/slowloris.json"; die "200 slow connections starve the other clients"; }
say "slowloris against the sample site: $(cat "$work/slowloris.json")"
"$stack" httpd-stop "$var" pkg
if grep -E "\[[a-z_0-9]*:(emerg|alert|crit|error)\]" "$hd/logs/error.log" | grep -v 'AH01617: user agent1: authentication failure'; then
    die "httpd logged errors ($hd/logs/error.log)"
fi

# ------------------------------------------------------------------ 6. remove
[ $keep = 1 ] && exit 0
"$stack" pg-stop "$var" immediate
apt-get purge -y -qq "$pkg" >/dev/null
! installed || die "$pkg is still installed after apt-get purge"
for f in /usr/lib/apache2/modules/mod_interactions.so /usr/bin/interactions-migrate \
         /etc/apache2/mods-available/interactions.load /etc/apache2/mods-available/interactions.conf; do
    [ ! -e "$f" ] || die "$f is left after apt-get purge"
done
say "ok: built, installed, served /api/v2/me with the installed module, purged ($(( $(date +%s) - t0 ))s)"
