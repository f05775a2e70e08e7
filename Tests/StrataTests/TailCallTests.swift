import Testing
import WAT
@testable import Strata

/// Tail calls (`return_call`, `return_call_indirect`, `return_call_ref`): constant stack space
/// for unbounded chains, in every mode, compiled in both compiled tiers; callees compiled,
/// interpreted, imported from the host or reached through a table, in chains that cross tiers;
/// validation of the callee's results, and the feature switch.
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
        if tier == .baseline || tier == .optimizing {
            // Every function is compiled: tail calls are no reason to stay interpreted.
            for f in 1..<10 { #expect(i.module.currentTier(function: f) == tier, "function \(f)") }
        }
    }

    /// Chains whose functions run in different tiers: a function kept in the interpreter (by
    /// `interpreterOnlyFunctions`), its partner compiled, and they tail-call each other a million times
    /// (each interpreter activation hands its tail call back to the compiled caller's loop
    /// instead of nesting); a callee with more parameters than the caller's slot buffer holds;
    /// self tail calls (a loop in compiled code); `return_call_ref`; chaos mode.
    static let mixed = """
        (module
          (type $i64_i32 (func (param i64) (result i32)))
          (table 2 funcref)
          (elem (i32.const 0) $even $odd)
          (elem declare func $odd)
          (func $even (export "even") (param i64) (result i32)
            (drop (i32x4.splat (i32.const 0)))  ;; a v128 value (compiled by the baseline tier)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
              (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
          (func $odd (export "odd") (param i64) (result i32)
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
              (else (return_call_indirect (type $i64_i32) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
          (func $viaRef (export "via-ref") (param i64) (result i32)
            (return_call_ref $i64_i32 (local.get 0) (ref.func $odd)))
          (func $count (export "count") (param i64 i64) (result i64) (local i64)
            ;; The extra local starts at zero on every round.
            (if (i64.ne (local.get 2) (i64.const 0)) (then unreachable))
            (local.set 2 (i64.const 5))
            (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
              (else (return_call $count (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (i64.const 2))))))
          (func $many (export "many") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
              (then (i32.add (local.get 1) (i32.add (local.get 8) (local.get 9))))
              (else (return_call $few (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (local.get 9))))))
          (func $few (param i32 i32) (result i32)
            (return_call $many (local.get 0) (local.get 1) (i32.const 1) (i32.const 2) (i32.const 3)
              (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7) (i32.const 8)))
          (func (export "spin") (param i64) (result i64)
            (return_call $count (i64.const -1) (local.get 0)))
          (func (export "deep") (param i64) (result i32)
            ;; Ordinary recursion around a function that tail-calls: the stack fills up.
            (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
              (else (i32.add (call $odd (i64.const 3)) (call 7 (i64.sub (local.get 0) (i64.const 1))))))))
        """

    func mixedInstance(_ configure: (inout EngineConfiguration) -> Void) throws -> Instance {
        var c = EngineConfiguration()
        c.interpreterOnlyFunctions = [0]  // $even
        configure(&c)
        let engine = Engine(configuration: c)
        let store = Store(engine: engine)
        return try store.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.mixed)))
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing, .tiered])
    func chainsAcrossTiers(tier: Tier) throws {
        let i = try mixedInstance {
            $0.tier = tier
            if tier == .tiered { $0.tierUpThreshold = 1; $0.optimizeThreshold = 1 }
        }
        if tier == .baseline || tier == .optimizing {
            #expect(i.module.currentTier(function: 0) == .interpreter)  // kept there
            for f in 1..<6 { #expect(i.module.currentTier(function: f) == tier, "function \(f)") }
        }
        #expect(try i.function("even")!.call([.i64(1_000_000)]) == [.i32(1)])
        #expect(try i.function("odd")!.call([.i64(1_000_001)]) == [.i32(1)])
        #expect(try i.function("via-ref")!.call([.i64(1_000_000)]) == [.i32(0)])
        #expect(try i.function("count")!.call([.i64(2_000_000), .i64(1)]) == [.i64(4_000_001)])
        // many(n, a, ..., x9) -> few(n - 1, a + x9) -> many(n - 1, a + x9, 1, ..., 8): 8 per
        // round after the first, then a + 7 + 8 at the end.
        #expect(try i.function("many")!.call([.i32(500_000), .i32(0), .i32(0), .i32(0), .i32(0), .i32(0), .i32(0),
                                               .i32(0), .i32(0), .i32(0)]) == [.i32(4_000_007)])
        #expect(try i.function("many")!.call([.i32(0), .i32(3), .i32(0), .i32(0), .i32(0), .i32(0), .i32(0),
                                               .i32(0), .i32(4), .i32(5)]) == [.i32(12)])
        let t = try #require(thrownError { _ = try i.function("deep")!.call([.i64(10_000_000)]) } as? Trap)
        #expect(t.kind == .callStackExhausted)
        #expect(try i.function("deep")!.call([.i64(100)]) == [.i32(100)])
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func chainsInChaosMode(seed: UInt64) throws {
        let i = try mixedInstance {
            $0.tier = .tiered
            $0.chaosSeed = seed
        }
        for _ in 0..<3 {
            #expect(try i.function("even")!.call([.i64(300_000)]) == [.i32(1)])
            #expect(try i.function("via-ref")!.call([.i64(300_001)]) == [.i32(1)])
            #expect(try i.function("count")!.call([.i64(300_000), .i64(0)]) == [.i64(600_000)])
            #expect(try i.function("many")!.call([.i32(100_000), .i32(0), .i32(0), .i32(0), .i32(0), .i32(0), .i32(0),
                                                   .i32(0), .i32(0), .i32(0)]) == [.i32(800_007)])
        }
    }

    /// An endless tail recursion stops at an interrupt, in compiled code too (a self tail call
    /// is a jump that checks for interrupts as a loop header does; a jump to another function
    /// goes through its entry's stack check).
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func interruptStopsEndlessTailRecursion(tier: Tier) throws {
        let i = try mixedInstance { $0.tier = tier }
        let handle = i.store.interruptHandle
        let t = try #require(trapWhenInterrupted(handle) { _ = try i.function("spin")!.call([.i64(0)]) })
        #expect(t.kind == .interrupted)
        #expect(try i.function("count")!.call([.i64(3), .i64(0)]) == [.i64(6)])
        // Two compiled functions jumping to each other: each entry's stack check sees it.
        let u = try #require(trapWhenInterrupted(handle) { _ = try i.function("odd")!.call([.i64(-1)]) })
        #expect(u.kind == .interrupted)
        #expect(try i.function("odd")!.call([.i64(3)]) == [.i32(1)])
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
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
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
