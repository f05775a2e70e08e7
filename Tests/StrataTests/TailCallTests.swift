import Testing
import WAT
@testable import Strata

/// Tail calls (`return_call`, `return_call_indirect`): constant stack space for unbounded
/// chains, in every mode; callees compiled, imported from the host or reached through a
/// table; validation of the callee's results, and the feature switch.
@Suite struct TailCallTests {
    static let wat = """
        (module
          (import "host" "twice" (func $twice (param i32) (result i32)))
          (type $i64_i32 (func (param i64) (result i32)))
          (table 3 funcref)
          (elem (i32.const 0) $even $odd)
          (func $even (export "even") (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
              (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
          (func $odd (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
              (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
          ;; The same chain through the table: element (n mod 2).
          (func $parity (export "parity") (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 7))
              (else (return_call_indirect (type $i64_i32)
                      (i64.sub (local.get 0) (i64.const 1))
                      (i32.wrap_i64 (i64.and (local.get 0) (i64.const 1)))))))
          (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
          ;; Tail calls to a function without tail calls (compiled in the compiled modes) and
          ;; to a host function; the frame's other values must not leak into the callee.
          (func (export "sum") (param i32) (result i32) (local i32)
            (local.set 1 (i32.const 99))
            (return_call $add (local.get 0) (i32.const 5)))
          (func (export "host") (param i32) (result i32)
            (return_call $twice (i32.add (local.get 0) (i32.const 1))))
          (func (export "bad-index") (result i32)
            (return_call_indirect (type $i64_i32) (i64.const 0) (i32.const 5)))
          (func (export "null-element") (result i32)
            (return_call_indirect (type $i64_i32) (i64.const 0) (i32.const 2)))
          (func (export "nested") (param i64) (result i32)
            ;; A normal call whose callee tail-calls: the result comes back here.
            (i32.add (call $even (local.get 0)) (i32.const 10))))
        """

    func instance(_ tier: Tier, thresholds: Int? = nil) throws -> Instance {
        var c = EngineConfiguration()
        c.tier = tier
        if let t = thresholds {
            c.tierUpThreshold = t
            c.optimizeThreshold = t
        }
        let engine = Engine(configuration: c)
        let store = Store(engine: engine)
        let linker = Linker()
        linker.defineFunction("host", "twice", store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in
            guard case .i32(let x) = args[0] else { return [] }
            return [.i32(2 * x)]
        }
        return try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.wat)), in: store)
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing, .tiered])
    func chainsRunInConstantSpace(tier: Tier) throws {
        let i = try instance(tier, thresholds: tier == .tiered ? 1 : nil)
        // A million tail calls: far deeper than the call depth limit (100,000 frames).
        #expect(try i.function("even")!.call([.i64(1_000_000)]) == [.i32(1)])
        #expect(try i.function("even")!.call([.i64(999_999)]) == [.i32(0)])
        #expect(try i.function("parity")!.call([.i64(0)]) == [.i32(7)])
        // 300,000 -> even(299,999), a chain of 300,000 calls: 0.
        #expect(try i.function("parity")!.call([.i64(300_000)]) == [.i32(0)])
        #expect(try i.function("nested")!.call([.i64(200_001)]) == [.i32(10)])
        #expect(try i.function("sum")!.call([.i32(37)]) == [.i32(42)])
        #expect(try i.function("host")!.call([.i32(20)]) == [.i32(42)])
        let trap = try #require(thrownError { _ = try i.function("bad-index")!.call([]) } as? Trap)
        #expect(trap.message == "undefined element")
        let null = try #require(thrownError { _ = try i.function("null-element")!.call([]) } as? Trap)
        #expect(null.message == "uninitialized element")
    }

    @Test func validation() throws {
        // The callee's results must be the caller's.
        let mismatch = try wat2wasm("""
            (module (func $f (result i64) (i64.const 0)) (func (result i32) (return_call $f)))
            """)
        let e = try #require(creationError(mismatch))
        #expect(e.kind == .invalid && e.message == "type mismatch")
        // Without the feature, the opcode does not exist.
        let ok = try wat2wasm("(module (func $f) (func (return_call $f)))")
        #expect(creationError(ok) == nil)
        let off = try #require(creationError(ok, features: .wasm2))
        #expect(off.kind == .malformed && off.message == "illegal opcode")
    }

    /// A trap in a compiled or host callee reached by a tail call: the backtrace names the
    /// callee and the tail-calling function's caller (at its call), never the tail-calling
    /// function, whose frame is gone. (The trap's location used to be the tail-calling
    /// function's instruction, read against its caller's code.)
    @Test(arguments: [Tier.interpreter, .baseline])
    func trapsAfterATailCallNameTheCallSite(tier: Tier) throws {
        let wat = """
            (module
              (import "host" "fail" (func $fail))
              (func $boom (unreachable))
              (func $tail (return_call $boom))
              (func $tailhost (return_call $fail))
              (func (export "run") (nop) (call $tail))
              (func (export "runhost") (nop) (call $tailhost)))
            """
        var c = EngineConfiguration()
        c.tier = tier
        let engine = Engine(configuration: c)
        let store = Store(engine: engine)
        let linker = Linker()
        struct Failure: Error {}
        linker.defineFunction("host", "fail", store: store, type: FuncType(params: [], results: [])) { _, _ in throw Failure() }
        let bytes = try wat2wasm(wat)
        let i = try linker.instantiate(try Module(engine: engine, bytes: bytes), in: store)
        let trap = try #require(thrownError { _ = try i.function("run")!.call([]) } as? Trap)
        #expect(trap.kind == .unreachable)
        #expect(trap.backtrace.first?.functionIndex == 1)
        // Indices: $fail 0, $boom 1, $tail 2, $tailhost 3, run 4, runhost 5.
        #expect(!trap.backtrace.contains { $0.functionIndex == 2 })
        let host = try #require(thrownError { _ = try i.function("runhost")!.call([]) } as? Trap)
        #expect(host.kind == .hostError)
        #expect(!host.backtrace.contains { $0.functionIndex == 3 })
        if tier == .interpreter {
            // "runhost" at its call instruction (the byte after its nop: 0x10).
            let frame = try #require(host.backtrace.first { $0.functionIndex == 5 })
            let offset = try #require(frame.offset)
            #expect(bytes[offset] == 0x10)
            #expect(trap.backtrace.map(\.functionIndex) == [1, 4])
        }
    }
}
