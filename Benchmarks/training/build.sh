#!/usr/bin/env bash
# The training set for the interpreter's superinstructions (docs/ARCHITECTURE.md, "Interpreter"):
# real C libraries from PyPI source distributions (SQLite from sqlean.py, LZ4 from lz4, Brotli
# from brotli, Zstandard from zstandard), built for wasm32-wasi with the drivers here, then run
# in the interpreter with --pair-profile. None of them is in the benchmark corpus.
#
# Usage: Benchmarks/training/build.sh [--apply N]
#   builds into .build/training, writes one pair profile per program there and prints the pairs
#   choose_sequence_pairs.py picks; with --apply N it makes the N best the interpreter's
#   sequences (then rebuild). Needs pip, clang with the wasm32 target, wasi-libc and the wasm32
#   compiler-rt builtins (Tests/install-deps.sh --tests), and a release build of strata.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=.build/training
mkdir -p "$out"
cd "$out"
builtins=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | head -n 1)
wasmcc() { clang --target=wasm32-wasi --sysroot=/usr -O2 -nodefaultlibs "$@" -lc "$builtins"; }
for pkg in sqlean.py==3.50.4.5 lz4==4.4.5 brotli==1.2.1 zstandard==0.25.0; do
    name=${pkg%%==*}
    ls ${name//./_}-*.tar.gz > /dev/null 2>&1 || ls ${name}-*.tar.gz > /dev/null 2>&1 \
        || pip download --quiet --no-binary :all: --no-deps "$pkg"
done
for f in *.tar.gz; do [ -d "${f%.tar.gz}" ] || tar xzf "$f"; done
S=$(ls -d sqlean_py-*/sqlite); L=$(ls -d lz4-*/lz4libs); B=$(ls -d brotli-*/c); Z=$(ls -d zstandard-*/zstd)
wasmcc -I"$S" -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0 \
    -DSQLITE_OMIT_SHARED_CACHE -D_WASI_EMULATED_GETPID -o sqlite.wasm "$root/Benchmarks/training/sqlite_bench.c" \
    "$S/sqlite3.c" -lwasi-emulated-getpid
wasmcc -I"$L" -o lz4.wasm "$root/Benchmarks/training/lz4_bench.c" "$L/lz4.c" "$L/lz4hc.c"
# The Brotli tool sets file owners and modes, which WASI lacks.
wasmcc -I"$B/include" '-Dchmod(a,b)=0' '-Dchown(a,b,c)=0' -D_WASI_EMULATED_PROCESS_CLOCKS -o brotli.wasm \
    "$B"/common/*.c "$B"/dec/*.c "$B"/enc/*.c "$B/tools/brotli.c" -lwasi-emulated-process-clocks
# The amalgamation turns multithreading on; wasm32-wasi has no threads here.
sed 's/^#define ZSTD_MULTITHREAD$//' "$Z/zstd.c" > zstd_single_thread.c
wasmcc -I"$Z" -DZSTD_DISABLE_ASM -o zstd.wasm "$root/Benchmarks/training/zstd_bench.c" zstd_single_thread.c
# The input the compressors work on: the first 3 MB of SQLite's source.
head -c 3000000 "$S/sqlite3.c" > input.txt
strata="$root/.build/release/strata"
run() { "$strata" run --tier interpreter --dir . --pair-profile "$@" > /dev/null; }
run pairs-sqlite.txt sqlite.wasm
run pairs-lz4.txt lz4.wasm input.txt
run pairs-zstd.txt zstd.wasm input.txt
run pairs-brotli-c.txt brotli.wasm -q 6 -f -o input.br input.txt
run pairs-brotli-d.txt brotli.wasm -d -f -o input.back input.br
cmp input.txt input.back
apply=(); n=80
if [ "${1:-}" = "--apply" ]; then apply=(--apply); n=${2:-80}; fi
python3 "$root/Utilities/choose_sequence_pairs.py" "${apply[@]}" "$n" sqlite=pairs-sqlite.txt lz4=pairs-lz4.txt \
    brotli=pairs-brotli-c.txt+pairs-brotli-d.txt zstd=pairs-zstd.txt
if [ ${#apply[@]} -gt 0 ]; then python3 "$root/Utilities/generate_threaded_dispatch.py"; fi
