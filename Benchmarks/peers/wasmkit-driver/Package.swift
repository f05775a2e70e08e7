// swift-tools-version:6.1
// The WasmKit peer for `strata bench`: runs a benchmark program's `run` export in WasmKit 0.4.2
// (its library, in one process) and prints the harness protocol (load, result, an iteration
// time per run, cpu, rss), so WasmKit is measured per iteration like Strata, native code and
// Wasmtime rather than as whole processes. A package of its own, so that Strata never depends
// on it. Build: swift build -c release --package-path Benchmarks/peers/wasmkit-driver
import PackageDescription

let package = Package(
    name: "wasmkit-driver",
    dependencies: [.package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2")],
    targets: [
        .executableTarget(name: "wasmkit-driver", dependencies: [
            .product(name: "WasmKit", package: "WasmKit"), .product(name: "WAT", package: "WasmKit"),
        ])
    ]
)
