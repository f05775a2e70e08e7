#!/usr/bin/env bash
# The C API tests (part of Tests/run.sh): builds libstrata_c, then compiles the C and C++
# programs in this folder against it with the toolchain's clang and runs them: as they are,
# and the C one again under AddressSanitizer with LeakSanitizer (objects created and dropped
# in loops must not leak). The modules come from the .wat files here (wasm-tools parse).
set -euo pipefail
cd "$(dirname "$0")/../.."

WASM_TOOLS="${STRATA_WASM_TOOLS:-$(command -v wasm-tools)}"
CC="${CC:-clang}"
CXX="${CXX:-clang++}"
swift build -c release --product strata_c
LIB="$(swift build -c release --show-bin-path)"
OUT=.build/test-output/capi
mkdir -p "$OUT"
"$WASM_TOOLS" parse Tests/capi/main.wat -o "$OUT/main.wasm"
"$WASM_TOOLS" parse Tests/capi/start_trap.wat -o "$OUT/start_trap.wasm"
"$WASM_TOOLS" parse Tests/capi/add.wat -o "$OUT/add.wasm"

# What a C user passes to build and link against the library (see README, "From C").
USE=(-I Sources/CStrataAPI/include -L "$LIB" -lstrata_c "-Wl,-rpath,$LIB" -lpthread -fuse-ld=lld)

"$CC" -std=c11 -Wall -Wextra -Werror Tests/capi/capi_test.c "${USE[@]}" -o "$OUT/capi_test"
"$OUT/capi_test" "$OUT/main.wasm" "$OUT/start_trap.wasm"

"$CC" -std=c11 -Wall -Wextra -Werror Tests/capi/readme_example.c "${USE[@]}" -o "$OUT/readme_example"
"$OUT/readme_example" "$OUT/add.wasm" | grep -q "add(2, 3) = 5"

"$CC" -std=c11 -Wall -Wextra -Werror Tests/capi/strata_test.c "${USE[@]}" -o "$OUT/strata_test"
"$OUT/strata_test" "$OUT"

"$CC" -std=c11 -g -fsanitize=address -fno-omit-frame-pointer Tests/capi/capi_test.c "${USE[@]}" -o "$OUT/capi_test_asan"
ASAN_OPTIONS=detect_leaks=1 "$OUT/capi_test_asan" "$OUT/main.wasm" "$OUT/start_trap.wasm"
"$CC" -std=c11 -g -fsanitize=address -fno-omit-frame-pointer Tests/capi/strata_test.c "${USE[@]}" -o "$OUT/strata_test_asan"
ASAN_OPTIONS=detect_leaks=1 "$OUT/strata_test_asan" "$OUT"

# The static library: Strata's objects in the program, the Swift runtime from the toolchain
# (swiftrt.o registers the Swift metadata sections, as swiftc's own links do).
swift build -c release --product strata_c_static
SWIFT_LIB="$(dirname "$(command -v swiftc)")/../lib/swift/linux"
"$CC" -std=c11 -Wall -Wextra -Werror Tests/capi/capi_test.c -I Sources/CStrataAPI/include "$LIB/libstrata_c_static.a" \
    "$SWIFT_LIB/x86_64/swiftrt.o" -L "$SWIFT_LIB" "-Wl,-rpath,$SWIFT_LIB" -lswiftCore -lswift_Concurrency -lswiftSynchronization \
    -lswift_StringProcessing -lswift_RegexParser -lswiftGlibc -lswiftDispatch -lFoundationEssentials -ldispatch \
    -lBlocksRuntime -lunwind -lstdc++ -lpthread -lm -fuse-ld=lld -o "$OUT/capi_test_static"
"$OUT/capi_test_static" "$OUT/main.wasm" "$OUT/start_trap.wasm"

"$CXX" -std=c++17 -Wall -Wextra -Werror Tests/capi/cpp_test.cpp "${USE[@]}" -o "$OUT/cpp_test"
"$OUT/cpp_test" "$OUT/main.wasm"
echo "C API tests: passed"
