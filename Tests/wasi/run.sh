#!/usr/bin/env bash
# WASI check: C programs built for wasm32-wasi run under `strata run` and must match the same
# sources built natively (stdout, exit status, files written); plus a denied path and a trap.
# Needs clang with the wasm32 target, Debian's wasi-libc and libclang-rt-14-dev-wasm32.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
strata="${STRATA:-$here/../../.build/release/strata}"
tier="${STRATA_TIER:-interpreter}"
builtins=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | head -n 1)
if [ ! -f /usr/lib/wasm32-wasi/libc.a ] || [ -z "$builtins" ]; then
    echo "error: wasi-libc and libclang-rt-14-dev-wasm32 are needed (apt-get install wasi-libc libclang-rt-14-dev-wasm32)" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wasmcc() { clang --target=wasm32-wasi --sysroot=/usr -O2 -nodefaultlibs "$@" -lc "$builtins"; }

wasmcc -o "$work/textstats.wasm" "$here"/textstats/*.c
cc -O2 -o "$work/textstats" "$here"/textstats/*.c

mkdir -p "$work/data/in" "$work/native-out" "$work/wasm-out"
printf 'The quick brown fox\njumps over the lazy dog.\nThe dog sleeps; the fox runs!\n' > "$work/data/in/a.txt"
for i in $(seq 1 200); do echo "line $i of the second file, with words words words and $((i * 7)) numbers"; done > "$work/data/in/b.txt"
printf 'no trailing newline here' > "$work/data/in/c.txt"
stdin_text='standard input text: the fox again'

passed=0; failed=0
check() { if [ "$1" = "$2" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $3"; diff <(echo "$1") <(echo "$2") | head -20 || true; fi; }

# Same program, same inputs: native in the data folder, Wasm with it granted as /data.
set +e
native=$(cd "$work/data" && echo "$stdin_text" | TEXTSTATS_TOP=7 TEXTSTATS_TITLE=corpus "$work/textstats" ../native-out in/a.txt in/b.txt in/missing.txt in/c.txt - 2>&1); native_status=$?
# (--env KEY alone passes the host's value on: TEXTSTATS_TITLE comes from this environment.)
wasm=$(echo "$stdin_text" | TEXTSTATS_TITLE=corpus "$strata" run --tier "$tier" --env TEXTSTATS_TOP=7 --env TEXTSTATS_TITLE --dir "$work/data::/data" --dir "$work/wasm-out::/out" \
    "$work/textstats.wasm" /out /data/in/a.txt /data/in/b.txt /data/in/missing.txt /data/in/c.txt - 2>&1); wasm_status=$?
set -e
native_cmp=$(echo "$native" | sed -e 's#^in/#/data/in/#' -e 's#\.\./native-out#/out#')
check "$native_cmp" "$wasm" "textstats stdout differs from the native build"
check "$native_status" "$wasm_status" "textstats exit status (native $native_status, wasm $wasm_status)"
check "1" "$wasm_status" "textstats exit status is the count of unreadable files"
check "$(sed 's#^== .*#==#' "$work/native-out/report.txt")" "$(sed 's#^== .*#==#' "$work/wasm-out/report.txt")" "report.txt differs"

# A path outside the granted directories is denied.
set +e
probe=$(TEXTSTATS_PROBE=/etc/hostname "$strata" run --tier "$tier" --env TEXTSTATS_PROBE=/etc/hostname --dir "$work/data::/data" --dir "$work/wasm-out::/out" "$work/textstats.wasm" /out /data/in/a.txt 2>&1)
set -e
check "probe /etc/hostname: denied" "$(echo "$probe" | grep '^probe')" "a path outside --dir must be denied"

# A trap in a WASI program prints the Wasm backtrace and exits non-zero.
cat > "$work/crash.c" <<'C'
#include <stdio.h>
__attribute__((noinline)) int divide(int a, int b) { return a / b; }
int main(int argc, char **argv) { printf("before\n"); fflush(stdout); return divide(argc, argc - 1); }
C
wasmcc -o "$work/crash.wasm" "$work/crash.c"
set +e
crash=$("$strata" run --tier "$tier" "$work/crash.wasm" 2>&1); crash_status=$?
set -e
check "134" "$crash_status" "a trap exits with status 134"
check "yes" "$(echo "$crash" | grep -q 'integer divide by zero' && echo "$crash" | grep -q '  at ' && echo yes || echo no)" "a trap prints its message and backtrace"

# A reactor: _initialize runs first, then --invoke calls an export with typed arguments.
cat > "$work/reactor.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
static int base;
__attribute__((constructor)) static void setup(void) { base = getenv("BASE") ? atoi(getenv("BASE")) : 1; }
__attribute__((export_name("scale"))) int scale(int x) { printf("scaling %d\n", x); fflush(stdout); return base * x; }
C
clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -nodefaultlibs -o "$work/reactor.wasm" "$work/reactor.c" -lc "$builtins"
reactor=$("$strata" run --tier "$tier" --env BASE=6 --invoke scale "$work/reactor.wasm" 7 2>&1)
check "$(printf 'scaling 7\n42')" "$reactor" "a reactor's _initialize runs before --invoke"

echo "WASI: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
