// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Strata",
    products: [
        .library(name: "Strata", targets: ["Strata"]),
        .library(name: "StrataSpecTest", targets: ["StrataSpecTest"]),
        .library(name: "StrataWASI", targets: ["StrataWASI"]),
        .executable(name: "strata", targets: ["strata"]),
        // The WebAssembly C API (wasm.h) for C and C++ programs: libstrata_c.so and
        // libstrata_c_static.a, headers in Sources/CStrataAPI/include (see docs/C-API.md).
        .library(name: "strata_c", type: .dynamic, targets: ["StrataCAPI"]),
        .library(name: "strata_c_static", type: .static, targets: ["StrataCAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", from: "0.4.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // libunwind, found with pkg-config: unwinds compiled frames when a trap is raised.
        .systemLibrary(name: "CLibunwind", pkgConfig: "libunwind", providers: [.apt(["libunwind-dev"])]),
        // C layout for the VM context and other contracts compiled code reads, and the trap
        // signal handler.
        .target(name: "CStrata", dependencies: ["CLibunwind"]),
        // The engine: decode -> validate -> module -> runtime -> tiers.
        // SHA-256 for the code cache's keys and checksums comes from swift-crypto.
        // The interpreter's threaded handlers (a header the Strata module compiles in, generated
        // from its dispatch switch by Utilities/generate_threaded_dispatch.py).
        .target(name: "CStrataDispatch"),
        .target(name: "Strata", dependencies: ["CStrata", "CStrataDispatch", .product(name: "Crypto", package: "swift-crypto")]),
        // openat2(2) for Strata's own WASI calls (confined to a preopened folder by the kernel).
        .target(name: "CStrataWASI"),
        // WASI preview 1 for Strata: WasmKit's engine-agnostic WASI product bridged to Strata,
        // with Strata's own implementation in front of the calls it gets wrong.
        .target(
            name: "StrataWASI",
            dependencies: ["Strata", "CStrataWASI", .product(name: "WASI", package: "WasmKit")]
        ),
        // The .wast spec-test runner (parses scripts with WasmKit's WAT product) and the WASI
        // testsuite runner.
        .target(
            name: "StrataSpecTest",
            dependencies: ["Strata", "StrataWASI", .product(name: "WAT", package: "WasmKit")]
        ),
        // The C API: wasm.h, and its engine-independent C parts (vectors, the casts and
        // ownership functions every object shares).
        .target(name: "CStrataAPI", dependencies: ["CStrataAPIInternal"]),
        // What the C part of the C API calls in its Swift part (not installed with wasm.h).
        .target(name: "CStrataAPIInternal"),
        // The C API's objects over the Swift API (strata.h's WASI and text too).
        .target(
            name: "StrataCAPI",
            dependencies: ["Strata", "CStrataAPI", "CStrataAPIInternal", "StrataWASI", .product(name: "WAT", package: "WasmKit")]
        ),
        .executableTarget(
            name: "strata",
            dependencies: [
                "Strata", "StrataSpecTest", "StrataWASI",
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "StrataTests",
            dependencies: ["Strata", "StrataSpecTest", "StrataWASI", .product(name: "WAT", package: "WasmKit")]
        ),
    ]
)
