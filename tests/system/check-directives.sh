#!/usr/bin/env bash
# tests/system/check-directives.sh — scripts/check-directives must pass on the tree and
# fail on each kind of drift it promises to catch.  Each case copies the files it reads into
# a scratch tree, breaks one thing, and expects a failure that names it.
#
# The structs, create, merge, defaults and the command table are generated from the
# directive table by the compiler, so a directive forgotten in one of them cannot happen any
# more; what remains to drift is the table itself, the docs and conf/, and those are the
# cases below.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
check="$top/scripts/check-directives"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fails=0

fresh() {
    rm -rf "$scratch/t"
    mkdir -p "$scratch/t/mod_interactions" "$scratch/t/docs" "$scratch/t/conf"
    cp "$top/mod_interactions/mod_interactions_directives.h" "$top/mod_interactions/mi_limits.h" \
       "$top/mod_interactions/mi_tunables.h" "$scratch/t/mod_interactions/"
    cp "$top/docs/configuration.md" "$scratch/t/docs/"
    cp "$top"/conf/* "$scratch/t/conf/"
}

# expect_failure NAME PATTERN FILE SED-EXPRESSION
expect_failure() {
    local name=$1 pattern=$2 file=$3 expr=$4 out lines
    fresh
    sed -i "$expr" "$scratch/t/$file"
    if cmp -s "$scratch/t/$file" "$top/$file"; then
        echo "  $name: the edit changed nothing (fix the test)"; fails=$((fails + 1)); return
    fi
    if out=$("$check" "$scratch/t" 2>&1); then
        echo "  $name: not detected"; fails=$((fails + 1))
    elif ! grep -q -- "$pattern" <<<"$out"; then
        mapfile -t lines <<<"$out"
        echo "  $name: failed without naming the problem:"; printf '    %s\n' "${lines[@]}"; fails=$((fails + 1))
    else
        echo "  $name: detected"
    fi
}

fresh
"$check" "$scratch/t" >/dev/null || { echo "check-directives fails on the unmodified tree"; exit 1; }

tab=mod_interactions/mod_interactions_directives.h
# the table itself
expect_failure "a row that is not nine fields" "a row of MI_DIRECTIVES cannot be read" $tab \
    's/X("InteractionsPoolTTL", DB, INT, pool_ttl_s, 60, 0, INNER, -,/X("InteractionsPoolTTL", DB, INT, pool_ttl_s, 60, INNER, -,/'
expect_failure "two rows with one name" "InteractionsPoolMin: two rows of MI_DIRECTIVES have this name" $tab \
    's/X("InteractionsPoolKeep", /X("InteractionsPoolMin", /'
expect_failure "two rows with one field" "the field 'pool_min' is InteractionsPoolMin's already" $tab \
    's/DB, INT, pool_keep, 4,/DB, INT, pool_min, 4,/'
expect_failure "an unknown type" "InteractionsPoolTTL: unknown type 'INTEGER'" $tab \
    's/"InteractionsPoolTTL", DB, INT,/"InteractionsPoolTTL", DB, INTEGER,/'
expect_failure "an unknown scope" "InteractionsPoolTTL: unknown scope 'GLOBAL'" $tab \
    's/"InteractionsPoolTTL", DB,/"InteractionsPoolTTL", GLOBAL,/'
expect_failure "an unknown merge rule" "InteractionsPoolTTL: unknown merge rule 'APPEND'" $tab \
    's/pool_ttl_s, 60, 0, INNER,/pool_ttl_s, 60, 0, APPEND,/'
expect_failure "a default constant nobody defines" "InteractionsMaxBodySize: the default MI_NO_SUCH_LIMIT is not a number" $tab \
    's/max_body, MI_DEFAULT_MAX_BODY,/max_body, MI_NO_SUCH_LIMIT,/'
expect_failure "a number without a floor" "InteractionsPoolTTL: the floor of a number must be a number" $tab \
    's/pool_ttl_s, 60, 0, INNER,/pool_ttl_s, 60, -, INNER,/'
expect_failure "a string without a setter" "InteractionsContactCenter: a STR needs a setter function" $tab \
    's/^      set_contact_center, "the contact center/      -, "the contact center/'
expect_failure "a number with its own setter" "InteractionsPoolTTL: INT has a generic setter" $tab \
    's/pool_ttl_s, 60, 0, INNER, -,/pool_ttl_s, 60, 0, INNER, set_pool_ttl,/'
expect_failure "a flag with a number for a default" "InteractionsPushJSONP: the default of a FLAG is On or Off" $tab \
    's/push_jsonp, On,/push_jsonp, 1,/'
expect_failure "help that states its own default" "InteractionsPoolKeep: the help states a default" $tab \
    's/"idle connections each child keeps"/"idle connections each child keeps (default 4)"/'
# the table against the docs
expect_failure "a default changed in the table only" "InteractionsPoolMax: the default must read '\*\*Default:\*\* \`20\`'" $tab \
    's/pool_max, 16, 1,/pool_max, 20, 1,/'
expect_failure "a default changed through its constant" "InteractionsPushCacheRows: the default must read '\*\*Default:\*\* \`8192\`'" \
    mod_interactions/mi_tunables.h 's/^#define MI_PUSH_CACHE_ROWS 4096/#define MI_PUSH_CACHE_ROWS 8192/'
expect_failure "a new directive without docs or conf" "InteractionsNew is not documented" $tab \
    's/^    X("InteractionsPoolMin", /    X("InteractionsNew", SRV, INT, new_thing, 1, 0, INNER, -, "a new thing") \\\n&/'
expect_failure "a per-location directive turned server-wide" "InteractionsMaxPageSize: the context" $tab \
    's/"InteractionsMaxPageSize", DIR,/"InteractionsMaxPageSize", SRV,/'
expect_failure "undocumented directive" "InteractionsRetryAfter is not documented" docs/configuration.md \
    's/^### InteractionsRetryAfter$/### Retry-After/'
# shellcheck disable=SC2016 # Markdown's backticks
expect_failure "wrong default in the docs" "InteractionsPushTimeout: the default must read" docs/configuration.md \
    's/^\*\*Default:\*\* `25000`/**Default:** `30000`/'
expect_failure "wrong context in the docs" "InteractionsMaxPageSize: the context" docs/configuration.md \
    '/^### InteractionsMaxPageSize/,/^###/ s/^\*\*Context:\*\* .*/**Context:** server config/'
# shellcheck disable=SC2016  # the backquotes are Markdown's, not the shell's
expect_failure "wrong syntax line in the docs" "InteractionsPoolTTL: no '\*\*Syntax:\*\*" docs/configuration.md \
    '/^### InteractionsPoolTTL/,/^###/ s/^\*\*Syntax:\*\* `InteractionsPoolTTL/**Syntax:** `InteractionsPoolTtl/'
expect_failure "docs of a directive that does not exist" "documents 'InteractionsGone'" docs/configuration.md \
    's/^## Sizing, in short/### InteractionsGone\n\n&/'
# the table against conf/
expect_failure "server-wide directive missing from the sample" "InteractionsPushJSONP (server-wide) is not mentioned" \
    conf/interactions.conf '/InteractionsPushJSONP/d'
expect_failure "per-location directive missing from conf/" "InteractionsAllowOrigin (per location) is not mentioned" \
    conf/interactions-site.conf '/InteractionsAllowOrigin/d'

[ $fails = 0 ] || { echo "check-directives.sh: $fails case(s) failed"; exit 1; }
echo "check-directives.sh: every kind of drift is detected"
