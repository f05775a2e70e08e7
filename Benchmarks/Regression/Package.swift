// swift-tools-version:6.1
// Regression benchmarks for Strata with ordo-one's package-benchmark: what one change costs or
// saves (time, CPU, allocations) against a stored baseline, with thresholds checked in CI for
// the metrics that do not depend on the machine (allocation counts). A package of its own, so
// that depending on Strata never pulls in the benchmark tooling. The cross-tier comparison with
// native code and other engines is `strata bench` (the main README).
import PackageDescription

let package = Package(
    name: "StrataRegression",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Strata", path: "../.."),
        .package(url: "https://github.com/swiftwasm/WasmKit", from: "0.4.2"),
        // The malloc interposer gives the allocation counts; the trait list leaves out the
        // Swift 6.3 runtime interposer (ARC counts), whose package is not needed here.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "StrataRegression",
            dependencies: [
                .product(name: "Strata", package: "Strata"),
                // The C API, to measure a call through wasm.h against the Swift call.
                .product(name: "strata_c_static", package: "Strata"),
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/StrataRegression",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
