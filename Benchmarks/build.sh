#!/usr/bin/env bash
# Builds the benchmark corpus: each programs/NAME.c to programs/NAME.wasm (checked in, so the
# harness runs without a Wasm toolchain) and to a native binary in .build/bench/native/ with
# the same optimisation level. simd_kernel is also built without SIMD (simd_kernel_scalar).
set -euo pipefail
cd "$(dirname "$0")"
out=../.build/bench/native
mkdir -p "$out"
wasm_flags="--target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=run"
for src in programs/*.c; do
    name=$(basename "$src" .c)
    extra=""
    case "$name" in
        simd_kernel|image_filter|dot_matrix) extra="-msimd128" ;;
        bulk_copy) extra="-mbulk-memory" ;;
        mandelbrot) extra="-Wl,--export=picture_address" ;;
    esac
    if [ "${SKIP_WASM:-}" != 1 ]; then
        clang $wasm_flags $extra -o "programs/$name.wasm" "$src"
        [ "$name" = simd_kernel ] && clang $wasm_flags -o programs/simd_kernel_scalar.wasm "$src"
    fi
    cc -O2 -o "$out/$name" native_main.c "$src" -lm
    [ "$name" = simd_kernel ] && cp "$out/simd_kernel" "$out/simd_kernel_scalar"
done
echo "built $(ls programs/*.wasm | wc -l) wasm programs and their native builds in $out"

# --large: the compile-speed workload, a generated module of varied functions (several MB).
if [ "${1:-}" = "--large" ]; then
    functions="${2:-10000}"
    python3 make_large_module.py "$functions" > ../.build/bench/large.c
    clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-all -o ../.build/bench/large.wasm ../.build/bench/large.c
    echo "built .build/bench/large.wasm ($(stat -c %s ../.build/bench/large.wasm) bytes, $functions functions)"
fi
