import Foundation
import Testing
@testable import Strata

/// Runs randomly mutated modules that still validate: every outcome must be a result, a trap
/// or a WasmError, never a crash or a hang. STRATA_FUZZ_ITERATIONS raises the count locally.
@Suite struct ExecutionFuzzTests {
    static let seeds: [[UInt8]] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Benchmarks/programs").standardizedFileURL
        let names = ["fib", "sieve", "quicksort", "bytecode_vm", "crc32", "indirect_calls", "mandelbrot", "simd_kernel"]
        return names.compactMap { FileManager.default.contents(atPath: dir.appendingPathComponent("\($0).wasm").path).map { [UInt8]($0) } }
    }()

    @Test func mutatedValidModulesNeverCrashTheHost() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["STRATA_FUZZ_ITERATIONS"] ?? "") ?? 300
        var config = EngineConfiguration()
        config.stackSlots = 1 << 16
        let engine = Engine(configuration: config)
        var rng = SystemRandomNumberGenerator()
        var ran = 0
        for _ in 0..<iterations {
            guard var bytes = Self.seeds.randomElement(using: &rng) else { break }
            // Mutate the code section area (past the header and type section).
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: (bytes.count / 4)..<bytes.count, using: &rng)
                bytes[i] = Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : bytes[i] ^ (1 << UInt8.random(in: 0...7, using: &rng))
            }
            guard let module = try? Module(engine: engine, bytes: bytes) else { continue }
            let store = Store(engine: engine)
            guard let instance = try? store.instantiate(module), let run = instance.function("run") else { continue }
            let handle = store.interruptHandle
            let timer = DispatchSource.makeTimerSource()
            timer.schedule(deadline: .now() + .milliseconds(30))
            timer.setEventHandler { handle.interrupt() }
            timer.resume()
            do {
                _ = try run.call([])
            } catch is Trap {
            } catch is WasmError {
            }
            timer.cancel()
            ran += 1
        }
        #expect(Self.seeds.count == 8)
        #expect(ran > 0 || iterations < 50)
    }
}
