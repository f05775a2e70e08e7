// Strata's regression benchmarks (package-benchmark). Each measures one thing an embedder pays
// for: creating a module (decode, validate, translate or compile), instantiating it, a call
// from the host, a trap, and running programs of the corpus in each tier. Run from this folder:
//
//   swift package benchmark                                   # the table
//   swift package --allow-writing-to-package-directory benchmark baseline update before
//   swift package benchmark baseline compare before           # after a change
//   swift package benchmark thresholds check                  # allocation counts (CI)
//
// Times depend on the machine; the allocation counts do not, so only those have checked-in
// thresholds (Thresholds/, read by file name: benchmark names keep to letters, digits, `-`, `_`). The cross-tier table against native code and other engines is
// `strata bench`.

import Benchmark
import CStrataAPI
import Foundation
import Strata
import WAT

/// Benchmarks/programs/, found from this file's place in the repository.
let programs = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("programs")

func corpus(_ name: String) -> [UInt8] {
    let url = programs.appendingPathComponent("\(name).wasm")
    guard let data = try? Data(contentsOf: url) else { fatalError("missing \(url.path)") }
    return [UInt8](data)
}

func engine(_ tier: Tier) -> Engine {
    var configuration = EngineConfiguration()
    configuration.tier = tier
    return Engine(configuration: configuration)
}

/// A module built from WAT text, in one tier, and its instance.
func instance(_ wat: String, _ tier: Tier) throws -> (Store, Instance) {
    let module = try Module(engine: engine(tier), bytes: try wat2wasm(wat))
    let store = Store(engine: module.engine)
    return (store, try store.instantiate(module))
}

let calls = """
    (module
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "nop"))
      (func (export "trap") (param i32) (result i32)
        (if (i32.eqz (local.get 0)) (then unreachable))
        (local.get 0)))
    """

let hostCalls = """
    (module
      (import "env" "inc" (func $inc (param i32) (result i32)))
      (func (export "run") (param $n i32) (result i32) (local $acc i32)
        (loop $again
          (local.set $acc (call $inc (local.get $acc)))
          (br_if $again (i32.lt_u (local.get $acc) (local.get $n))))
        (local.get $acc)))
    """

/// An export of a module made through the C API, with the objects it needs kept until the
/// benchmark is done.
final class CAPIFunction: @unchecked Sendable {
    let engine: OpaquePointer, store: OpaquePointer, module: OpaquePointer, instance: OpaquePointer
    var exports = wasm_extern_vec_t()
    let function: OpaquePointer

    init(_ wat: String, tier: Tier, name: String) throws {
        let config = wasm_config_new()!
        strata_config_tier_set(config, tier == .interpreter ? UInt8(STRATA_TIER_INTERPRETER.rawValue) : UInt8(STRATA_TIER_BASELINE.rawValue))
        engine = wasm_engine_new_with_config(config)
        store = wasm_store_new(engine)
        var bytes = wasm_byte_vec_t()
        let binary = try wat2wasm(wat)
        binary.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { wasm_byte_vec_new(&bytes, b.count, $0.baseAddress) }
        }
        module = wasm_module_new(store, &bytes)
        wasm_byte_vec_delete(&bytes)
        var imports = wasm_extern_vec_t()
        wasm_extern_vec_new_empty(&imports)
        instance = wasm_instance_new(store, module, &imports, nil)
        wasm_instance_exports(instance, &exports)
        var types = wasm_exporttype_vec_t()
        wasm_module_exports(module, &types)
        var found: OpaquePointer?
        for i in 0..<types.size {
            let n = wasm_exporttype_name(types.data[i])!.pointee
            if String(decoding: UnsafeRawBufferPointer(start: n.data, count: n.size), as: UTF8.self) == name {
                found = wasm_extern_as_func(exports.data[i])
            }
        }
        wasm_exporttype_vec_delete(&types)
        function = found!
    }

    deinit {
        wasm_extern_vec_delete(&exports)
        wasm_instance_delete(instance)
        wasm_module_delete(module)
        wasm_store_delete(store)
        wasm_engine_delete(engine)
    }
}

/// Allocation counts are exact, so a threshold of zero tolerance catches any new allocation on
/// these paths; time metrics keep the package's default tolerances.
func allocations() -> [BenchmarkMetric: BenchmarkThresholds] {
    [.mallocCountTotal: .init(relative: [:], absolute: [.p50: 0, .p90: 0])]
}

/// `NAME-x1000-TIER`: 1000 operations on the function `setup` returns, with exact allocation
/// thresholds (the function keeps its store alive).
func allocationBenchmark(
    _ name: String, _ tier: Tier, setup: @escaping () throws -> Function,
    _ body: @escaping (Benchmark, Function) throws -> Void
) {
    Benchmark("\(name)-x1000-\(tier)", configuration: .init(scalingFactor: .kilo, thresholds: allocations())) {
        benchmark, function in try body(benchmark, function)
    } setup: {
        try setup()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        maxDuration: .seconds(2),
        maxIterations: 1000
    )
    let tiers: [Tier] = [.interpreter, .baseline]

    for tier in tiers {
        let export = { (name: String) in { () throws -> Function in try instance(calls, tier).1.function(name)! } }
        // A host -> Wasm call and back: argument checks, the value buffer, the entry into the tier.
        allocationBenchmark("call-add", tier, setup: export("add")) { benchmark, add in
            var sum: Int32 = 0
            for i in benchmark.scaledIterations { sum &+= try add.callI32(Int32(truncatingIfNeeded: i), 1) }
            blackHole(sum)
        }
        // The same through `call([Value]) -> [Value]`: the two arrays are the caller's.
        allocationBenchmark("call-add-values", tier, setup: export("add")) { benchmark, add in
            var last: [Value] = []
            for i in benchmark.scaledIterations { last = try add.call([.i32(Int32(truncatingIfNeeded: i)), .i32(1)]) }
            blackHole(last)
        }
        allocationBenchmark("call-nop", tier, setup: export("nop")) { benchmark, nop in
            for _ in benchmark.scaledIterations { blackHole(try nop.call([])) }
        }
        // Wasm calling a host function: the slot buffer read into `[Value]`, the closure, its
        // results written back (1000 calls from one loop in Wasm).
        allocationBenchmark("host-function", tier, setup: {
            let module = try Module(engine: engine(tier), bytes: try wat2wasm(hostCalls))
            let store = Store(engine: module.engine)
            let linker = Linker()
            linker.defineFunction("env", "inc", store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in
                [.i32(args[0].i32! &+ 1)]
            }
            return try linker.instantiate(module, in: store).function("run")!
        }) { benchmark, run in
            blackHole(try run.callI32(Int32(benchmark.scaledIterations.count)))
        }
        // The same call as call-add through the C API (wasm.h): the vectors of `wasm_val_t`,
        // their conversion and the C object lookup over the Swift call. (Not named call-*:
        // its allocations have no checked threshold.)
        Benchmark("c-api-add-x1000-\(tier)", configuration: .init(scalingFactor: .kilo)) { benchmark, add in
            var args = [wasm_val_t](repeating: wasm_val_t(), count: 2)
            var results = [wasm_val_t](repeating: wasm_val_t(), count: 1)
            var sum: Int32 = 0
            args.withUnsafeMutableBufferPointer { a in
                results.withUnsafeMutableBufferPointer { r in
                    var av = wasm_val_vec_t(size: 2, data: a.baseAddress), rv = wasm_val_vec_t(size: 1, data: r.baseAddress)
                    for i in benchmark.scaledIterations {
                        a[0].kind = wasm_valkind_t(WASM_I32.rawValue)
                        a[0].of.i32 = Int32(truncatingIfNeeded: i)
                        a[1].kind = wasm_valkind_t(WASM_I32.rawValue)
                        a[1].of.i32 = 1
                        if let trap = wasm_func_call(add.function, &av, &rv) { wasm_trap_delete(trap) }
                        sum &+= r[0].of.i32
                    }
                }
            }
            blackHole(sum)
        } setup: {
            try CAPIFunction(calls, tier: tier, name: "add")
        }
        // A trap unwound to the host, with its backtrace.
        allocationBenchmark("trap", tier, setup: export("trap")) { benchmark, trap in
            for _ in benchmark.scaledIterations {
                do { _ = try trap.callI32(0); fatalError("no trap") } catch let t as Trap { blackHole(t.kind) }
            }
        }
    }

    // Module creation from bytes: decode, validate, translate (interpreter) or compile (baseline).
    for name in ["bytecode_vm", "quicksort", "nbody"] {
        let bytes = corpus(name)
        for tier in tiers {
            Benchmark("module-\(name)-\(tier)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try Module(engine: engine(tier), bytes: bytes))
                }
            }
        }
    }

    // Instantiation: a store, linear memory (16 MiB of data for random_access), data segments.
    for name in ["sieve", "random_access"] {
        Benchmark("instantiate-\(name)") { benchmark, module in
            for _ in benchmark.scaledIterations {
                let store = Store(engine: module.engine)
                blackHole(try store.instantiate(module))
            }
        } setup: { () throws -> Module in
            try Module(engine: engine(.interpreter), bytes: corpus(name))
        }
    }

    // Whole programs of the corpus, one run() per iteration, in each tier.
    for name in ["fib", "sieve", "crc32", "quicksort", "bytecode_vm", "nbody", "simd_kernel"] {
        for tier in tiers {
            Benchmark(
                "run-\(name)-\(tier)",
                configuration: .init(maxDuration: .seconds(3), maxIterations: 20)
            ) { benchmark, run in
                for _ in benchmark.scaledIterations { blackHole(try run.callI32()) }
            } setup: { () throws -> Function in
                let module = try Module(engine: engine(tier), bytes: corpus(name))
                let store = Store(engine: module.engine)
                return try store.instantiate(module).function("run")!
            }
        }
    }
}
