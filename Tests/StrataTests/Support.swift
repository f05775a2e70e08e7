import Foundation
import Dispatch
import Strata
import WAT

/// Compiles WAT text and instantiates it with no imports (or the given linker).
func instantiate(_ wat: String, engine: Engine = Engine(), linker: Linker = Linker()) throws -> (Store, Instance) {
    let module = try Module(engine: engine, bytes: try wat2wasm(wat))
    let store = Store(engine: engine)
    return (store, try linker.instantiate(module, in: store))
}

func module(_ wat: String) throws -> Module {
    try Module(engine: Engine(), bytes: try wat2wasm(wat))
}

/// Unsigned LEB128, for modules written in binary (what the text parser cannot express).
func leb128(_ value: UInt64) -> [UInt8] {
    var v = value, out: [UInt8] = []
    repeat {
        let byte = UInt8(v & 0x7F)
        v >>= 7
        out.append(v == 0 ? byte : byte | 0x80)
    } while v != 0
    return out
}

/// A module in binary: the header, then sections given as (id, payload).
func binaryModule(_ sections: [(UInt8, [UInt8])]) -> [UInt8] {
    var b: [UInt8] = [0, 0x61, 0x73, 0x6D, 1, 0, 0, 0]
    for (id, payload) in sections { b += [id] + leb128(UInt64(payload.count)) + payload }
    return b
}

/// What calling `name` in a fresh instance of `m` gives, as text to compare across tiers: the
/// results (floats by their bits, so NaN payloads count) and the first `memoryBytes` bytes of
/// the memory exported as "m", or the trap.
func callOutcome(_ m: Module, _ name: String, _ args: [Value], memoryBytes: Int) throws -> String {
    let instance = try Store(engine: m.engine).instantiate(m)
    do {
        let results = try instance.function(name)!.call(args).map { v -> String in
            switch v {
            case .f64(let d): "f64 \(d.bitPattern)"
            case .f32(let f): "f32 \(f.bitPattern)"
            default: "\(v)"
            }
        }
        let bytes = instance.memory("m")!.withUnsafeMutableBytes { Array($0.prefix(memoryBytes)) }
        return "\(results) \(bytes)"
    } catch let trap as Trap {
        return "trap \(trap.kind)"
    }
}

/// A module from WAT text on an engine running `tier` (for comparing tiers).
func module(_ wat: String, tier: Tier) throws -> Module {
    var c = EngineConfiguration()
    c.tier = tier
    return try Module(engine: Engine(configuration: c), bytes: try wat2wasm(wat))
}

/// The error a block throws, or nil.
func thrownError(_ body: () throws -> Void) -> (any Error)? {
    do { try body(); return nil } catch { return error }
}

/// The error creating a module from `bytes` gives with only `features` on (every proposal by
/// default), or nil when the module is created.
func creationError(_ bytes: [UInt8], features: WasmFeatures = .all) -> WasmError? {
    var c = EngineConfiguration()
    c.features = features
    return thrownError { _ = try Module(engine: Engine(configuration: c), bytes: bytes) } as? WasmError
}

/// Interrupts a store after `seconds`, from a thread of its own: not from Dispatch's pool,
/// whose few threads (one per core) may all be running the Wasm code to interrupt, in
/// tests that run in parallel. `cancel()` when the call is over.
final class InterruptTimer: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(after seconds: Double, _ handle: InterruptHandle) {
        let done = self.done
        let thread = Thread {
            if done.wait(timeout: .now() + seconds) == .timedOut { handle.interrupt() }
        }
        thread.start()
    }

    func cancel() { done.signal() }
}

/// Runs `body` while an `InterruptTimer` interrupts `handle`'s store after `seconds` (cancelled
/// when `body` ends) and returns the trap `body` ended with, nil when it returned or threw
/// something else: how the tests stop code that would otherwise run for years.
func trapWhenInterrupted(_ handle: InterruptHandle, after seconds: Double = 0.05, _ body: () throws -> Void) -> Trap? {
    let timer = InterruptTimer(after: seconds, handle)
    defer { timer.cancel() }
    return thrownError(body) as? Trap
}

/// `v` as an unsigned LEB128 (hand-built binary sections in tests).
func unsignedLEB128(_ v: Int) -> [UInt8] {
    var v = v, out: [UInt8] = []
    repeat {
        var b = UInt8(v & 0x7F)
        v >>= 7
        if v != 0 { b |= 0x80 }
        out.append(b)
    } while v != 0
    return out
}
