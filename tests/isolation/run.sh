#!/usr/bin/env bash
# tests/isolation/run.sh — the concurrency specs of the module's SQL API, run by PostgreSQL's
# own isolation tester (pg_isolation_regress and isolationtester, from Debian's
# postgresql-client-NN package).
#
#   tests/isolation/run.sh [--accept] [SPEC...]
#
# Needs the cluster that scripts/test (or scripts/serve) started: MI_VAR (its state
# directory: pg/run is the superuser's socket directory) and MI_PGPORT.  No httpd with the
# module may be connected to that database: its maintenance thread would expire offers and
# route work behind the specs' backs.
#
# tests/isolation/setup.sql provisions contact center "iso" and the schema "isolation" of
# helpers; every spec (specs/NAME.spec, all of them by default) then runs as the isolation
# tester runs it: setup blocks on a superuser connection, each session a connection of its
# own as the module's role (SET SESSION AUTHORIZATION interactions_app), every listed
# permutation or else every interleaving, a step that waits for another session's lock
# reported "<waiting ...>".  The output must equal expected/NAME.out (--accept rewrites it
# from the run); results and regression.diffs go to $MI_VAR/isolation.  The schema
# "isolation" is dropped again at the end.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
accept=0
specs=()
for a in "$@"; do
    case "$a" in
        --accept) accept=1 ;;
        -*) echo "usage: tests/isolation/run.sh [--accept] [SPEC...]" >&2; exit 2 ;;
        *) specs+=("$(basename "$a" .spec)") ;;
    esac
done
if [ ${#specs[@]} = 0 ]; then
    for f in "$here"/specs/*.spec; do specs+=("$(basename "$f" .spec)"); done
fi
if [ -z "${MI_VAR:-}" ] || [ -z "${MI_PGPORT:-}" ]; then
    echo "isolation: MI_VAR and MI_PGPORT must name the running cluster (scripts/test sets them)" >&2; exit 2
fi

# the tester of the server's major version (it sits in the server's PGXS tree)
bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
regress="${bindir%/bin}/lib/pgxs/src/test/isolation/pg_isolation_regress"
[ -x "$regress" ] || { echo "isolation: $regress is missing (apt-get install postgresql-client)" >&2; exit 2; }

host="$MI_VAR/pg/run"
psql_su() { psql -X -q -h "$host" -p "$MI_PGPORT" -U postgres -d interactions -v ON_ERROR_STOP=1 "$@"; }

busy=$(psql_su -tAc "SELECT count(*) FROM pg_stat_activity
                      WHERE datname = 'interactions' AND application_name = 'mod_interactions'")
[ "$busy" = 0 ] || { echo "isolation: an httpd with the module is connected to this database: its maintenance thread would interfere" >&2; exit 2; }

out="$MI_VAR/isolation"
rm -rf "$out"
mkdir -p "$out"
# as root the tester's files are written by root; pg_regress needs nothing else
psql_su -f "$here/setup.sql" >"$out/setup.log"
trap 'psql_su -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS isolation CASCADE"' EXIT

# A step of a session whose previous step still waits cannot run: the tester waits this
# long for it (seconds; the default 360), then cancels, and the output differs
export PGISOLATIONTIMEOUT=${PGISOLATIONTIMEOUT:-60}
rc=0
"$regress" --use-existing --host="$host" --port="$MI_PGPORT" --user=postgres --dbname=interactions \
    --inputdir="$here" --outputdir="$out" "${specs[@]}" >"$out/regress.log" 2>&1 || rc=$?
grep -E '^(test|ok|not ok) |^ *(#|[0-9]+ of)' "$out/regress.log" | sed 's/^/  /' || true
if [ $rc != 0 ] && [ $accept = 1 ]; then
    rc=0
    for s in "${specs[@]}"; do
        # a spec the tester could not run (its error is the output's last line) is not accepted
        if head -n 1 "$out/results/$s.out" 2>/dev/null | grep -q '^Parsed test spec'; then
            cp "$out/results/$s.out" "$here/expected/$s.out"
        else
            echo "isolation: $s did not run: $(tail -n 1 "$out/results/$s.out" 2>/dev/null)" >&2; rc=1
        fi
    done
    echo "isolation: expected output rewritten from this run; review it with git diff"
elif [ $rc != 0 ]; then
    if [ -f "$out/regression.diffs" ]; then cat "$out/regression.diffs"; else cat "$out/regress.log"; fi
fi
exit $rc
