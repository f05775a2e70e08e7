import Foundation
import CStrata
import Testing
import WAT
@testable import Strata

/// On-stack replacement: a running activation moves to compiled code at a loop header. Every
/// program here runs in tiered mode with the transfers forced (`OSRMode.firstBackEdge`) and is
/// compared with the interpreter alone: results, traps and their backtraces, exceptions. Two
/// chains: interpreter -> baseline, and interpreter -> baseline -> optimizing (the baseline
/// code, entered at the loop, moves on to the optimizing tier's OSR entry at once).
@Suite struct OSRTests {
    /// How far a forced transfer goes.
    enum Chain: CaseIterable { case toBaseline, toOptimizing }

    static func engine(osr: OSRMode = .firstBackEdge, chain: Chain = .toBaseline, threshold: Int = Int(Int32.max), chaos: UInt64? = nil,
                       log: (@Sendable (TierEvent) -> Void)? = nil) -> Engine {
        var c = EngineConfiguration()
        c.tier = .tiered
        c.osr = osr
        c.tierUpThreshold = threshold  // only the forced transfers compile (unless a test lowers it)
        c.optimizeThreshold = chain == .toOptimizing ? 1 : Int(Int32.max)
        c.compileThreads = 1
        c.chaosSeed = chaos
        c.tierLog = log
        return Engine(configuration: c)
    }
    static func interpreter() -> Engine {
        var c = EngineConfiguration()
        c.tier = .interpreter
        return Engine(configuration: c)
    }

    static let program = """
        (module
          (type $t (func (result i32)))
          (table 2 funcref)
          (elem (i32.const 0) $seven $nine)
          (tag $e (param i32))
          (func $seven (result i32) (i32.const 7))
          (func $nine (result i32) (i32.const 9))

          ;; Every kind of live state at the loop header: parameters and locals of every type,
          ;; a reference, a v128, the loop's own parameters, and values that enclosing blocks
          ;; (and the function) hold on the operand stack below them. Several results.
          (func (export "state") (param $n i32) (param $x i64) (param $f f32) (param $d f64) (result i64 f64 i32)
            (local $v v128) (local $r funcref) (local $k i32) (local $tx i64) (local $td f64)
            (local.set $v (v128.const i32x4 1 2 3 4))
            (local.set $r (ref.func $nine))
            (i64.const 1000)
            (block $outer (param i64) (result i64 f64 i32)
              (f64.const 0.25)
              (local.get $x) (local.get $d)
              (loop $l (param i64 f64) (result i64 f64)
                (local.set $td)
                (local.set $tx)
                (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $k))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (i64.add (i64.mul (local.get $tx) (i64.const 3)) (i64.extend_i32_u (local.get $k)))
                (f64.add (local.get $td) (f64.promote_f32 (local.get $f)))
                (br_if $l (i32.lt_u (local.get $k) (local.get $n))))
              (local.set $td)
              (local.set $tx)
              (f64.add (local.get $td))
              (local.set $td)
              (i64.add (local.get $tx))
              (local.get $td)
              (i32.add (i32x4.extract_lane 2 (local.get $v))
                       (i32.add (call_indirect (type $t) (i32.const 1)) (ref.is_null (local.get $r))))))

          ;; Nested loops: the first back edge is the inner loop's.
          (func (export "nested") (param $n i32) (result i64) (local $i i32) (local $j i32) (local $acc i64)
            (loop $outer
              (local.set $j (i32.const 0))
              (loop $inner
                (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.mul (local.get $i) (local.get $j)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $inner (i32.lt_u (local.get $j) (local.get $n))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $acc))

          ;; Two loops with nothing between their headers: back edges to either reach one place.
          (func (export "adjacent") (param $n i32) (result i32) (local $i i32) (local $k i32)
            (loop $a
              (loop $b
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $b (i32.and (local.get $i) (i32.const 3))))
              (local.set $k (i32.add (local.get $k) (local.get $i)))
              (br_if $a (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $k))

          ;; Traps after the transfer, called directly (the activation's entry frame moves) and
          ;; from another function (a caller frame stays in the interpreter).
          (func $inner (export "inner") (param $n i32) (result i32) (local $i i32)
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (if (i32.eq (local.get $i) (local.get $n)) (then unreachable))
              (br $l))
            (i32.const 0))
          (func (export "outer") (param i32) (result i32) (i32.add (i32.const 1) (call $inner (local.get 0))))

          ;; Exceptions thrown after the transfer: caught by an interpreted caller, and by a
          ;; try_table around the loop in the function that moved.
          (func $thrower (param $n i32) (result i32) (local $i i32)
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (if (i32.eq (local.get $i) (local.get $n)) (then (throw $e (local.get $i))))
              (br $l))
            (i32.const 0))
          (func (export "catchOutside") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h) (call $thrower (local.get 0)))
              (return))
            (i32.add (i32.const 1000)))
          (func (export "catchInside") (param $n i32) (result i32) (local $i i32)
            (i32.const 5)
            (block $h (result i32)
              (try_table (catch $e $h)
                (loop $l
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (if (i32.eq (local.get $i) (local.get $n)) (then (throw $e (i32.mul (local.get $i) (i32.const 2)))))
                  (br $l)))
              (i32.const -1))
            (i32.add))

          ;; Recursion inside the loop: every level starts interpreted and moves at its first
          ;; back edge after the deeper ones returned, one transfer per level.
          (func $rec (export "rec") (param $d i32) (result i32) (local $i i32) (local $s i32)
            (loop $l
              (if (i32.and (i32.eqz (local.get $i)) (i32.ne (local.get $d) (i32.const 0)))
                (then (local.set $s (call $rec (i32.sub (local.get $d) (i32.const 1))))))
              (local.set $s (i32.add (local.get $s) (local.get $i)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 4))))
            (local.get $s))

          ;; A small callee inlined before and inside the loop (the optimizing tier's entry
          ;; loads only the function's own locals).
          (func $helper (param i32) (result i32) (local i32)
            (local.set 1 (i32.mul (local.get 0) (i32.const 3)))
            (i32.add (local.get 1) (i32.const 1)))
          (func (export "inlined") (param $n i32) (result i32) (local $i i32) (local $acc i32)
            (local.set $acc (call $helper (local.get $n)))
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (call $helper (local.get $i))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $acc))

          ;; Moves, then recurses without end: the stack limit stops it.
          (func $down (export "down") (param $n i32) (result i32) (local $i i32)
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
            (i32.add (i32.const 1) (call $down (i32.add (local.get $n) (i32.const 1)))))

          ;; A long loop (for the default mode and interruption).
          (func (export "spin") (param $n i32) (result i32) (local $x i32)
            (loop $l
              (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))
            (local.get $x))
        )
        """

    static let calls: [(String, [Value])] = [
        ("state", [.i32(10), .i64(5), .f32(1.5), .f64(2.0)]),
        ("state", [.i32(2), .i64(-3), .f32(-0.5), .f64(1e10)]),
        ("nested", [.i32(37)]),
        ("adjacent", [.i32(50)]),
        ("catchOutside", [.i32(9)]),
        ("catchInside", [.i32(12)]),
        ("rec", [.i32(300)]),
        ("inlined", [.i32(25)]),
        ("spin", [.i32(100_000)]),
    ]

    static func run(_ engine: Engine, _ name: String, _ args: [Value]) throws -> [Value] {
        let instance = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: try wat2wasm(program)))
        return try instance.function(name)!.call(args)
    }

    /// Each kind of live state arrives in the compiled frame: the same results as the
    /// interpreter's, and the transfers happened.
    @Test(arguments: 0..<OSRTests.calls.count, Chain.allCases)
    func liveStateMovesIntact(call: Int, chain: Chain) throws {
        let (name, args) = Self.calls[call]
        let expected = try Self.run(Self.interpreter(), name, args)
        let engine = Self.engine(chain: chain)
        #expect(try Self.run(engine, name, args) == expected, "\(name)")
        let s = engine.tieringStatistics
        #expect(s.osrTransfers >= (chain == .toBaseline ? 1 : 2), "\(name)")
        #expect(chain == .toBaseline ? s.osrCompiles == 0 : s.osrCompiles >= 1, "\(name)")
    }

    /// The recursive function moves once per level (the levels return one by one into
    /// interpreted activations that are in their loop).
    @Test(arguments: Chain.allCases)
    func deepRecursionMovesEveryLevel(chain: Chain) throws {
        let engine = Self.engine(chain: chain)
        let depth = 2000
        #expect(try Self.run(engine, "rec", [.i32(Int32(depth))]) == [.i32(Int32(6 * (depth + 1)))])
        // Each interpreted level moves once; with the optimizing tier, each level's baseline
        // code moves on once more.
        #expect(engine.tieringStatistics.osrTransfers == (chain == .toBaseline ? 1 : 2) * (depth + 1))
    }

    /// A trap after the transfer shows the function once, at the trapping instruction, and its
    /// callers as the interpreter shows them.
    @Test(arguments: ["inner", "outer"], Chain.allCases)
    func trapsShowTheActivationOnce(name: String, chain: Chain) throws {
        func backtrace(_ engine: Engine) throws -> [String] {
            let t = try #require(thrownError { _ = try Self.run(engine, name, [.i32(50)]) } as? Trap)
            #expect(t.kind == .unreachable)
            return t.backtrace.map { "\($0.functionIndex)@\($0.offset ?? -1)" }
        }
        let expected = try backtrace(Self.interpreter())
        let engine = Self.engine(chain: chain)
        #expect(try backtrace(engine) == expected)
        #expect(expected.count == (name == "inner" ? 1 : 2))
        #expect(engine.tieringStatistics.osrTransfers == (chain == .toBaseline ? 1 : 2))
    }

    /// A moved activation that recurses without end stops at the stack limit, as in the
    /// interpreter, and the store runs again afterwards.
    @Test(arguments: Chain.allCases)
    func theStackLimitHoldsAfterAMove(chain: Chain) throws {
        let engine = Self.engine(chain: chain)
        let store = Store(engine: engine)
        let instance = try store.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.program)))
        let t = try #require(thrownError { _ = try instance.function("down")!.call([.i32(0)]) } as? Trap)
        #expect(t.kind == .callStackExhausted)
        #expect(engine.tieringStatistics.osrTransfers >= 1)
        #expect(try instance.function("nested")!.call([.i32(3)]) == [.i64(9)])
    }

    /// The tier log reports the transfer with the loop's offset; the function runs baseline code
    /// from then on.
    @Test func transfersAreLogged() throws {
        let events = Locked<[TierEvent]>([])
        let engine = Self.engine(log: { e in events.withLock { $0.append(e) } })
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        let instance = try Store(engine: engine).instantiate(module)
        _ = try instance.function("nested")!.call([.i32(5)])
        let osr = events.withLock { $0 }.filter { if case .osr = $0.kind { true } else { false } }
        #expect(osr.count == 1)
        let e = try #require(osr.first)
        #expect(e.from == .interpreter && e.to == .baseline)
        guard case .osr(let loop) = e.kind else { return }
        #expect(loop > 0)
        #expect(e.description.hasPrefix("osr func \(e.functionIndex) loop at offset 0x\(String(loop, radix: 16)): interpreter -> baseline, waited"))
        #expect(module.currentTier(function: Int(e.functionIndex)) == .baseline)
    }

    /// Interrupting a loop that moved stops it; the store runs again afterwards.
    @Test(arguments: Chain.allCases)
    func interruptStopsALoopThatMoved(chain: Chain) throws {
        let engine = Self.engine(chain: chain)
        let store = Store(engine: engine)
        let instance = try store.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.program)))
        let t = try #require(trapWhenInterrupted(store.interruptHandle) { _ = try instance.function("spin")!.call([.i32(0)]) })  // 2^32 iterations
        #expect(t.kind == .interrupted)
        #expect(engine.tieringStatistics.osrTransfers == (chain == .toBaseline ? 1 : 2))
        #expect(try instance.function("nested")!.call([.i32(3)]) == [.i64(9)])
    }

    /// Default mode: the background compilations finish while the loop runs, and the
    /// activation moves without being forced, to baseline code, then to optimized code.
    @Test func aLongLoopMovesOnceItsCodeIsReady() throws {
        let events = Locked<[TierEvent]>([])
        var configuration = EngineConfiguration()
        configuration.tier = .tiered
        configuration.tierUpThreshold = 1000
        configuration.optimizeThreshold = 20_000
        configuration.compileThreads = 1
        configuration.tierLog = { e in events.withLock { $0.append(e) } }
        let engine = Engine(configuration: configuration)
        let n: Int32 = 50_000_000
        // x -> a*x + c, n times from 0: composed by squaring (a debug-built loop would be slow).
        var (a, c): (Int32, Int32) = (1, 0), (stepA, stepC): (Int32, Int32) = (1103515245, 12345), k = n
        while k > 0 {
            if k & 1 != 0 { (a, c) = (a &* stepA, c &* stepA &+ stepC) }
            (stepA, stepC) = (stepA &* stepA, stepC &* stepA &+ stepC)
            k >>= 1
        }
        let x = c
        #expect(try Self.run(engine, "spin", [.i32(n)]) == [.i32(x)])
        #expect(engine.tieringStatistics.osrTransfers == 2)
        let osr = events.withLock { $0 }.filter { if case .osr = $0.kind { true } else { false } }
        #expect(osr.map { "\($0.from.rawValue)->\($0.to.rawValue)" } == ["interpreter->baseline", "baseline->optimizing"])
        #expect(osr.allSatisfy { $0.compileTime > 0 && $0.queueWait >= $0.compileTime }, "\(osr)")
        #expect(events.withLock { $0 }.contains { if case .compiledForOSR = $0.kind { true } else { false } })
    }

    /// Without OSR, the activation finishes in the interpreter.
    @Test func disabledOSRLeavesActivationsWhereTheyAre() throws {
        let engine = Self.engine(osr: .disabled, threshold: 1)
        #expect(try Self.run(engine, "nested", [.i32(40)]) == (try Self.run(Self.interpreter(), "nested", [.i32(40)])))
        #expect(engine.tieringStatistics.osrTransfers == 0)
    }

    /// The entries travel through the code cache: code loaded from it has them too.
    @Test func cachedCodeKeepsItsEntries() throws {
        let cache = InMemoryCodeCache()
        func engine() -> Engine {
            var c = EngineConfiguration()
            c.tier = .tiered
            c.osr = .firstBackEdge
            c.codeCache = cache
            c.compileThreads = 1
            return Engine(configuration: c)
        }
        let first = engine()
        let warm = try Module(engine: first, bytes: try wat2wasm(Self.program))  // alive until saved
        #expect(try Store(engine: first).instantiate(warm).function("nested")!.call([.i32(6)]) == [.i64(225)])
        first.flushCodeCache()
        let second = engine()
        let module = try Module(engine: second, bytes: try wat2wasm(Self.program))
        #expect(module.functionsLoadedFromCache >= 1)
        let nested = try #require(module.exports.first { $0.name == "nested" }).index
        let record = try #require(strata_load_entry(UnsafeRawPointer(module.entryTable + Int(nested) - module.importedFunctionCount)
            .assumingMemoryBound(to: Optional<UnsafeRawPointer>.self))).assumingMemoryBound(to: FunctionCode.self)
        #expect(record.pointee.kind == Tier.baseline.recordKind && record.pointee.osrEntryCount == 2)
    }

    /// Several threads run the module (a store each) while activations move, in chaos mode
    /// too (transfers at random back edges, entries swapped between tiers).
    @Test(arguments: [nil, UInt64(7)])
    func threadsMoveConcurrently(chaos: UInt64?) throws {
        let engine = Self.engine(osr: chaos == nil ? .firstBackEdge : .enabled, chain: .toOptimizing,
                                 threshold: chaos == nil ? Int(Int32.max) : 1, chaos: chaos)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        let reference = try Store(engine: Self.interpreter()).instantiate(try Module(engine: Self.interpreter(), bytes: try wat2wasm(Self.program)))
        let expected = try Self.calls.map { (name, args) in try reference.function(name)!.call(args) }
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            guard let instance = try? Store(engine: engine).instantiate(module) else {
                failures.withLock { $0.append("instantiate") }
                return
            }
            for k in 0..<40 {
                let c = (k + t) % Self.calls.count
                let (name, args) = Self.calls[c]
                let result = try? instance.function(name)!.call(args)
                if result != expected[c] { failures.withLock { $0.append("\(name): \(String(describing: result))") } }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(engine.tieringStatistics.osrTransfers >= 1)
        TieringTests.settle(engine)
    }
}
