#!/usr/bin/env bash
# tests/fuzz/run.sh — build the libFuzzer targets and run them.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#   tests/fuzz/run.sh --add-seed TARGET FILE...   append FILEs to tests/fuzz/TARGET.seeds
#
# SECONDS is the fuzzing budget of each target (default 60; 0 builds and replays only).
# TARGET defaults to every tests/fuzz/fuzz_*.c.  For each target:
#   1. the core (libmi.la) is built with clang under -fsanitize=fuzzer-no-link,address,undefined
#      in build-fuzz/, and the target linked against it with -fsanitize=fuzzer;
#   2. every input under tests/fuzz/regressions/TARGET/ is replayed: one failure fails the run;
#   3. the target fuzzes for SECONDS, starting from its seed inputs (tests/fuzz/TARGET.seeds,
#      one a line, written to tests/fuzz/out/seeds/TARGET/ afresh each run) and the working
#      corpus tests/fuzz/out/corpus/TARGET/ (kept between runs, git-ignored), with the
#      dictionary tests/fuzz/TARGET.dict when there is one;
#   4. a crash, leak, timeout or out-of-memory input is copied to
#      tests/fuzz/regressions/TARGET/ (commit it together with the fix) and fails the run.
# Needs clang and libFuzzer (Debian: clang libclang-rt-dev); installs them when run as root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

# ------------------------------------------------------------------ seed files
# One input a line (the format is described at the top of each TARGET.seeds): bytes that
# are not printable ASCII, and the backslash, are escapes printf's %b reads back.
seed_line() {
    od -An -v -tx1 "$1" | awk '
        function byte(h) { return (index(X, substr(h, 1, 1)) - 1) * 16 + index(X, substr(h, 2, 1)) - 1 }
        BEGIN { X = "0123456789abcdef" }
        { for (f = 1; f <= NF; f++) b[n++] = $f }
        END {
            for (i = 0; i < n; i++) {
                c = byte(b[i])
                if (c == 92) s = s "\\\\"
                else if (c == 10) s = s "\\n"
                else if (c == 9) s = s "\\t"
                else if (c == 13) s = s "\\r"
                else if ((c == 35 && i == 0) || (c == 32 && i == n - 1) || c < 32 || c > 126) s = s "\\x" b[i]
                else s = s sprintf("%c", c)
            }
            print s
        }'
}
# unpack_seeds FILE DIR: every input of FILE as a file of its own in DIR
unpack_seeds() {
    local line n=0
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in ''|'#'*) continue ;; esac
        n=$((n + 1))
        printf '%b' "$line" >"$2/seed-$n"
    done <"$1"
}
if [ "${1:-}" = --add-seed ]; then
    if [ $# -lt 3 ] || [ ! -f "$here/$2.c" ]; then
        echo "usage: tests/fuzz/run.sh --add-seed TARGET FILE..." >&2; exit 2
    fi
    t=$2; shift 2
    for f in "$@"; do
        [ -s "$f" ] || { echo "fuzz: $f is empty or missing" >&2; exit 2; }
        seed_line "$f" >>"$here/$t.seeds"
    done
    echo "fuzz: $# input(s) appended to tests/fuzz/$t.seeds"
    exit 0
fi

seconds=${1:-60}
[ $# -gt 0 ] && shift
case "$seconds" in ''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
    for f in "$here"/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

bdir="$top/build-fuzz"
out="$here/out"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# -Werror as in every build, except a clang warning that APR's own ring and array macros
# trigger (APR_RING_*, APR_ARRAY_IDX: casts from char * to a stricter alignment)
cflags="-g -O1 $san -fsanitize=fuzzer-no-link -Wno-cast-align"

# ------------------------------------------------------------------ clang and libFuzzer
have_libfuzzer() {
    local t
    t=$(mktemp -d)
    printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$t/t.c"
    clang -fsanitize=fuzzer,address,undefined "$t/t.c" -o "$t/t" >/dev/null 2>&1
    local rc=$?
    rm -rf "$t"
    return $rc
}
if ! command -v clang >/dev/null || ! have_libfuzzer; then
    [ "$(id -u)" = 0 ] || { echo "fuzz: clang with libFuzzer is missing (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
    echo "fuzz: installing clang and libFuzzer"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
    have_libfuzzer || { echo "fuzz: clang cannot link a libFuzzer target" >&2; exit 1; }
fi

# ------------------------------------------------------------------ build
if ! { [ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] \
       && [ "$top/Makefile.in" -nt "$top/Makefile.am" ]; }; then
    (cd "$top" && autoreconf -fi >/dev/null 2>&1)
fi
mkdir -p "$bdir"
args="CC=clang CFLAGS=$cflags --enable-werror --disable-unit-tests"
if [ ! -f "$bdir/Makefile" ] || [ "$top/configure" -nt "$bdir/Makefile" ] \
   || [ "$args" != "$(cat "$bdir/.configure-args" 2>/dev/null)" ]; then
    (cd "$bdir" && "$top/configure" CC=clang CFLAGS="$cflags" --enable-werror --disable-unit-tests \
        >configure.out 2>&1) || { cat "$bdir/configure.out" >&2; exit 1; }
    echo "$args" >"$bdir/.configure-args"
fi
make -C "$bdir" -j"$(nproc)" libmi.la >"$bdir/make.out" 2>&1 || { tail -40 "$bdir/make.out" >&2; exit 1; }
libs=$(make -s -C "$bdir" --no-print-directory -f Makefile -f - print-libs <<'EOF' 2>/dev/null || true
print-libs:
	@echo $(APR_LIBS) $(LIBPQ_LIBS) $(JSONC_LIBS) $(LIBCRYPT_LIBS) $(LIBCRYPTO_LIBS) $(LIBCURL_LIBS)
EOF
)
[ -n "$libs" ] || { echo "fuzz: cannot read the link flags from $bdir/Makefile" >&2; exit 1; }
incs=$(make -s -C "$bdir" --no-print-directory -f Makefile -f - print-incs <<'EOF'
print-incs:
	@echo $(APR_CFLAGS) $(LIBPQ_CFLAGS) $(JSONC_CFLAGS) $(LIBCRYPTO_CFLAGS)
EOF
)
for t in "${targets[@]}"; do
    [ -f "$here/$t.c" ] || { echo "fuzz: no target $t" >&2; exit 2; }
    if [ ! -x "$bdir/$t" ] || [ "$here/$t.c" -nt "$bdir/$t" ] || [ "$bdir/.libs/libmi.a" -nt "$bdir/$t" ] \
       || [ "$here/harness.c" -nt "$bdir/$t" ] || [ "$here/harness.h" -nt "$bdir/$t" ]; then
        # shellcheck disable=SC2086
        clang -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -g -O1 $san -fsanitize=fuzzer \
            -I"$here" -I"$top/mod_interactions" -I"$bdir/mod_interactions" $incs \
            "$here/$t.c" "$here/harness.c" "$bdir/.libs/libmi.a" $libs -o "$bdir/$t"
    fi
done

# ------------------------------------------------------------------ replay and fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# LeakSanitizer stops the world with ptrace; some containers forbid it.  Then fuzz without
# leak detection rather than fail on every input, and say so.
probe=$(mktemp)
printf 'GET /me\n' >"$probe"
if "$bdir/${targets[0]}" -runs=1 "$probe" 2>&1 | grep -q 'LeakSanitizer has encountered a fatal error'; then
    echo "fuzz: LeakSanitizer cannot run here (ptrace refused?); leaks are not checked"
    export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi
rm -f "$probe"
fail=0
for t in "${targets[@]}"; do
    bin="$bdir/$t"
    reg="$here/regressions/$t"
    inputs=()
    if [ -d "$reg" ]; then
        while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$reg" -type f ! -name '*.md' -print0 | sort -z)
    fi
    if [ ${#inputs[@]} -gt 0 ]; then
        printf 'fuzz: %s: replaying %d regression inputs ... ' "$t" "${#inputs[@]}"
        if "$bin" -runs=1 "${inputs[@]}" >"$bdir/$t.replay.log" 2>&1; then
            echo ok
        else
            echo FAILED; tail -40 "$bdir/$t.replay.log"; fail=1; continue
        fi
    else
        echo "fuzz: $t: no regression inputs yet"
    fi
    [ "$seconds" -gt 0 ] || continue

    work="$out/corpus/$t"
    crashes="$out/crashes/$t"
    mkdir -p "$work" "$crashes"
    rm -f "$crashes"/*
    dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    seeds=()
    if [ -f "$here/$t.seeds" ]; then
        rm -rf "$out/seeds/$t"
        mkdir -p "$out/seeds/$t"
        unpack_seeds "$here/$t.seeds" "$out/seeds/$t"
        seeds=("$out/seeds/$t")
    fi
    printf 'fuzz: %s: %ss ... ' "$t" "$seconds"
    start=$(date +%s)
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
            -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
            "$work" "${seeds[@]}" >"$bdir/$t.fuzz.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bdir/$t.fuzz.log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$bdir/$t.fuzz.log" | tail -1)
        echo "ok ($(( $(date +%s) - start ))s, ${runs:-?} runs, ${cov:-cov: ?}, corpus $(find "$work" -type f | wc -l))"
    else
        echo FAILED
        grep -E 'ERROR|SUMMARY|invariant|fuzz_' "$bdir/$t.fuzz.log" | head -20
        mkdir -p "$reg"
        for c in "$crashes"/*; do
            [ -f "$c" ] || continue
            cp "$c" "$reg/"
            echo "fuzz: $t: kept $(basename "$c") as a regression input in ${reg#"$top"/}"
        done
        echo "fuzz: full log in $bdir/$t.fuzz.log"
        fail=1
    fi
done
exit $fail
