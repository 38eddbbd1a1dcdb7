#!/usr/bin/env bash
# tests/system/check-directives.sh — scripts/check-directives must pass on the tree and
# fail on each kind of drift it promises to catch.  Each case copies the files it reads into
# a scratch tree, breaks one thing, and expects a failure that names it.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
check="$top/scripts/check-directives"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fails=0

fresh() {
    rm -rf "$scratch/t"
    mkdir -p "$scratch/t/mod_interactions" "$scratch/t/docs" "$scratch/t/conf"
    cp "$top"/mod_interactions/mod_interactions_config.[ch] "$top/mod_interactions/mi_limits.h" "$scratch/t/mod_interactions/"
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

cfg=mod_interactions/mod_interactions_config.c
expect_failure "member missing from merge" "pool_ttl_s is not merged" $cfg '/c->pool_ttl_s = PICK/d'
expect_failure "member missing from create" "max_page is not set in mi_create_dir_conf" $cfg \
    's/c->max_depth = c->max_string = c->max_page = /c->max_depth = c->max_string = /'
expect_failure "member without a default" "retry_after_s has no default" $cfg '/^    \.retry_after_s = /d'
expect_failure "member not finalized" "tick_ms is not given its default" $cfg '/c->tick_ms = DEF/d; /if (c->tick_ms < 10)/d'
expect_failure "default differs from help and docs" "InteractionsPoolMax: the help string says default 16" $cfg \
    's/^    \.pool_max = 16,/    .pool_max = 20,/'
expect_failure "name not in the table" "D_NEW (InteractionsNew) is defined but not in mi_cmds" $cfg \
    's/^#define D_TICK .*/&\n#define D_NEW "InteractionsNew"/'
expect_failure "undocumented directive" "InteractionsRetryAfter is not documented" docs/configuration.md \
    's/^### InteractionsRetryAfter$/### Retry-After/'
# shellcheck disable=SC2016 # Markdown's backticks
expect_failure "wrong default in the docs" "InteractionsPushTimeout: the default must read" docs/configuration.md \
    's/^\*\*Default:\*\* `25000`/**Default:** `30000`/'
expect_failure "wrong context in the docs" "InteractionsMaxPageSize: the context" docs/configuration.md \
    '/^### InteractionsMaxPageSize/,/^###/ s/^\*\*Context:\*\* .*/**Context:** server config/'
expect_failure "docs of a directive that does not exist" "documents 'InteractionsGone'" docs/configuration.md \
    's/^## Sizing, in short/### InteractionsGone\n\n&/'
expect_failure "server-wide directive missing from the sample" "InteractionsPushJSONP (server-wide) is not mentioned" \
    conf/interactions.conf '/InteractionsPushJSONP/d'
expect_failure "per-location directive missing from conf/" "InteractionsAllowOrigin (per location) is not mentioned" \
    conf/interactions-site.conf '/InteractionsAllowOrigin/d'

[ $fails = 0 ] || { echo "check-directives.sh: $fails case(s) failed"; exit 1; }
echo "check-directives.sh: every kind of drift is detected"
