#!/usr/bin/env bash
# Profilers and debuggers see Wasm functions, through the CLI:
# - gdb (batch mode): a breakpoint in the host's write(2), reached from compiled code through
#   WASI's fd_write, prints a backtrace naming the Wasm callers and going on through the entry
#   trampoline into the host (GDB JIT interface, --gdb-jit);
# - the guest profiler (--profile guest): in every mode, the profile of a program whose time is
#   almost all in one function shows it there, and its flame graph opens in headless Chromium
#   without errors (the screenshot is kept: STRATA_TEST_OUTPUT, default .build/test-output).
# Needs clang with the wasm32 target and Debian's wasi-libc, gdb and chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
strata="${STRATA:-$here/../../.build/release/strata}"
output="${STRATA_TEST_OUTPUT:-$here/../../.build/test-output}"
mkdir -p "$output"
builtins=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | head -n 1)
for tool in gdb chromium python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is needed (see Tests/install-deps.sh)" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
clang --target=wasm32-wasi --sysroot=/usr -O2 -nodefaultlibs -o "$work/hot.wasm" "$here/hot.c" -lc "$builtins"

passed=0; failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# gdb: stop at the write of the program's output (fd 1) and print the backtrace.
# (Checks read their text from here-strings: `echo "$bt" | grep -q` fails under pipefail when
# grep exits at a match before echo has written the rest, which a long backtrace makes likely.)
cat > "$work/gdb-commands" <<'GDB'
set pagination off
set confirm off
break write if $rdi == 1
run
bt
kill
GDB
for tier in baseline optimizing; do
    bt=$(timeout 300 gdb -batch -x "$work/gdb-commands" --args "$strata" run --tier "$tier" --no-cache --gdb-jit "$work/hot.wasm" 10 2>&1 | grep '^#' || true)
    missing=""
    for f in __wasi_fd_write printf report main __original_main _start; do
        grep -qF "in wasm[hot.wasm]::$f [$tier] ()" <<< "$bt" || missing="$missing $f"
    done
    # ... and goes on through the entry trampoline into the host (the CLI's Run.run).
    grep -qF "in strata entry trampoline ()" <<< "$bt" || missing="$missing (the entry trampoline)"
    grep -q "strata3RunV3run" <<< "$bt" || missing="$missing (the host frames below it)"
    if [ -z "$missing" ]; then pass; else fail "gdb backtrace ($tier) lacks the Wasm frames:$missing"; echo "$bt" | tail -25; fi
done
# Without --gdb-jit, gdb cannot name them (the check above can fail).
bt=$(timeout 300 gdb -batch -x "$work/gdb-commands" --args "$strata" run --tier optimizing --no-cache "$work/hot.wasm" 10 2>&1 | grep '^#' || true)
if grep -qF "wasm[hot.wasm]" <<< "$bt"; then fail "gdb names Wasm functions without --gdb-jit"; else pass; fi

# The guest profiler in every mode: checksum takes about 97% of the time natively (fill the
# rest); the profile must show checksum on at least 85% of the stacks, under main.
for tier in interpreter baseline optimizing tiered; do
    rounds=4000; [ "$tier" = interpreter ] && rounds=2000
    "$strata" run --tier "$tier" --no-cache --profile "guest=$work/$tier.svg" --profile-interval 1 "$work/hot.wasm" "$rounds" > "$work/out.txt" 2> "$work/err.txt"
    if python3 - "$work/$tier.speedscope.json" "$tier" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [f["name"] for f in d["shared"]["frames"]]
samples = d["profiles"][0]["samples"]
def share(fn): return sum(1 for s in samples if any(names[i].split(" [")[0] == fn for i in s)) / len(samples)
ok = len(samples) >= 100 and share("checksum") >= 0.85 and share("main") >= 0.99
ok = ok and all(names[s[0]].startswith("_start") for s in samples)
print(f"{sys.argv[2]}: {len(samples)} samples, checksum {share('checksum'):.3f}, fill {share('fill'):.3f}, main {share('main'):.3f}")
sys.exit(0 if ok else 1)
PY
    then pass; else fail "guest profile ($tier)"; fi
done

# The flame graph in headless Chromium: the DOM is the SVG (no parser error page), and a
# screenshot of it is written.
svg="$work/tiered.svg"
height=$(sed -n 's/.*<svg [^>]* height="\([0-9]*\)".*/\1/p' "$svg" | head -n 1)
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars)
dom=$(timeout 120 "${chrome[@]}" --dump-dom "file://$svg" 2>/dev/null || true)
if grep -q "<svg" <<< "$dom" && ! grep -qi "parsererror\|This page contains the following errors" <<< "$dom"; then pass; else fail "Chromium did not load the flame graph as SVG"; echo "$dom" | head -5; fi
rm -f "$output/flamegraph.png"
timeout 120 "${chrome[@]}" --screenshot="$output/flamegraph.png" --window-size="1200,${height:-400}" "file://$svg" >/dev/null 2>&1 || true
size=$(stat -c %s "$output/flamegraph.png" 2>/dev/null || echo 0)
if [ "$size" -gt 5000 ]; then pass; echo "flame graph screenshot: $output/flamegraph.png ($size bytes)"; else fail "no screenshot of the flame graph"; fi

echo "profiler tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
