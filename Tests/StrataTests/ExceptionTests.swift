import Testing
import WAT
@testable import Strata

/// Exception handling: tags, `throw`, `throw_ref`, `try_table` with every catch clause, exnref;
/// exceptions crossing interpreted, compiled and host frames; the embedding API (a host function
/// throws, the host catches and reads the payload); the feature switch.
@Suite struct ExceptionTests {
    static let wat = """
        (module
          (import "host" "fail" (func $hostThrow (param i32)))
          (import "host" "call" (func $hostCall (param i32) (result i32)))
          (tag $e (export "e") (param i32))
          (tag $other (param i64 f64))
          (func $thrower (export "thrower") (param i32) (result i32)
            (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 42))))
            (local.get 0))
          ;; No exception handling here: compiled in the compiled modes, between thrower and catcher.
          (func $middle (export "middle") (param i32) (result i32)
            (i32.add (call $thrower (local.get 0)) (i32.const 1000)))
          (func (export "catch") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h)
                (call $middle (local.get 0)))
              (return))
            (i32.add (i32.const 5000)))
          (func (export "catchAll") (param i32) (result i32)
            (block $h
              (try_table (result i32) (catch_all $h)
                (call $middle (local.get 0)))
              (return))
            (i32.const -1))
          ;; catch_ref keeps the exception; throw_ref rethrows it to the outer try_table.
          (func (export "rethrow") (result i32)
            (block $outer (result i32)
              (try_table (result i32) (catch $e $outer)
                (block $h (result i32 exnref)
                  (try_table (result i32) (catch_ref $e $h)
                    (call $middle (i32.const 0)))
                  (return))
                (throw_ref)))
            (i32.add (i32.const 7)))
          ;; An exception of another tag passes a clause that does not match.
          (func (export "other") (result f64) (local f64)
            (block $h (result i64 f64)
              (block $eh (result i32)
                (try_table (catch $e $eh) (catch $other $h)
                  (throw $other (i64.const 3) (f64.const 2.5)))
                (unreachable))
              (return (f64.const -1)))
            (local.set 0)
            (drop)
            (local.get 0))
          (func (export "fromHost") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (call $hostThrow (local.get 0)))
              (return (i32.const 0)))
            (i32.add (i32.const 100)))
          (func (export "throwNullRef") (throw_ref (ref.null exn)))
          (func (export "boom") (unreachable))
          ;; Wasm -> host -> Wasm: the inner exception crosses the host frame to this catch.
          (func (export "throughHost") (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h) (call $hostCall (i32.const 0)))
              (return))
            (i32.add (i32.const 9000))))
        """

    final class Box: @unchecked Sendable { var instance: Instance? }

    /// An engine of `tier` (tiered mode: functions move up at their first call).
    static func engine(_ tier: Tier, interpreterOnly: Set<Int> = []) -> Engine {
        var c = EngineConfiguration()
        c.interpreterOnlyFunctions = interpreterOnly
        c.tier = tier
        c.tierUpThreshold = 1
        c.optimizeThreshold = 1
        return Engine(configuration: c)
    }

    func instance(_ tier: Tier) throws -> Instance {
        let engine = Self.engine(tier)
        let store = Store(engine: engine)
        let linker = Linker()
        let box = Box()
        linker.defineFunction("host", "fail", store: store, type: FuncType(params: [.i32], results: [])) { _, args in
            guard case .i32(let x) = args[0] else { return [] }
            throw try Exception(tag: box.instance!.tag("e")!, values: [.i32(x * 2)])
        }
        linker.defineFunction("host", "call", store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in
            try box.instance!.function("thrower")!.call(args)
        }
        let i = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.wat)), in: store)
        box.instance = i
        return i
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing, .tiered])
    func exceptionsCrossEveryKindOfFrame(tier: Tier) throws {
        let i = try instance(tier)
        func call(_ name: String, _ args: [Value] = []) throws -> [Value] { try i.function(name)!.call(args) }
        for _ in 0..<3 {
            #expect(try call("catch", [.i32(1)]) == [.i32(1001)])
            #expect(try call("catch", [.i32(0)]) == [.i32(5042)])
            #expect(try call("catchAll", [.i32(0)]) == [.i32(-1)])
            #expect(try call("rethrow") == [.i32(49)])
            #expect(try call("other") == [.f64(2.5)])
            #expect(try call("fromHost", [.i32(21)]) == [.i32(142)])
            #expect(try call("throughHost") == [.i32(9042)])
        }
        if tier == .baseline || tier == .optimizing {
            // Every function is compiled in the mode's tier, those that throw or catch too.
            // (Imports first: $thrower is function 2, $middle 3, "catch" 4.)
            for f in 2...4 { #expect(i.module.currentTier(function: f) == tier, "function \(f)") }
        }
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func uncaughtExceptionsReachTheHost(tier: Tier) throws {
        let i = try instance(tier)
        let t = try #require(thrownError { _ = try i.function("middle")!.call([.i32(0)]) } as? Trap)
        #expect(t.kind == .exception)
        let e = try #require(t.exception)
        #expect(e.tag === i.tag("e"))
        #expect(e.values() == [.i32(42)])
        let null = try #require(thrownError { _ = try i.function("throwNullRef")!.call([]) } as? Trap)
        #expect(null.kind == .nullReference)
        // A caught exception that crossed compiled frames leaves nothing behind: the next
        // trap's backtrace is its own.
        #expect(try i.function("catch")!.call([.i32(0)]) == [.i32(5042)])
        let boom = try #require(thrownError { _ = try i.function("boom")!.call([]) } as? Trap)
        #expect(boom.backtrace.count == 1)
        // The store is usable afterwards.
        #expect(try i.function("catch")!.call([.i32(0)]) == [.i32(5042)])
    }

    /// try_table in compiled code: the trap handler finds the landing pad of the innermost
    /// try_table around the frame's Wasm instruction while it unwinds, with either unwinder;
    /// operands under the try_table, locals set before the throw, nested handlers of other
    /// tags, a catch to the function's own label, a throw and catch per loop iteration, and
    /// exceptions from interpreted code.
    static let handlers = """
        (module
          (tag $e (param i32))
          (tag $f (param i64 f64))
          (func $deep (param i32) (result i32)
            (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 7))))
            (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
          (func $simd (param i32) (result i32)
            ;; kept in the interpreter by the test's configuration
            (drop (i32x4.splat (local.get 0)))
            (throw $e (i32.add (local.get 0) (i32.const 100))))
          (func (export "deep") (param i32) (result i32) (local i32)
            (i32.add (i32.const 1000)
              (block $h (result i32)
                (try_table (result i32) (catch $e $h)
                  (local.set 1 (i32.const 50))
                  (call $deep (local.get 0)))))
            (local.get 1)
            (i32.add))
          (func (export "nested") (param i32) (result i64)
            (block $outer (result i64 f64)
              (try_table (catch $f $outer)
                (block $inner (result i32)
                  (try_table (catch $e $inner)
                    (if (local.get 0) (then (throw $f (i64.const 5) (f64.const 1.5))))
                    (drop (call $deep (i32.const 3))))
                  (return (i64.const -1)))
                (return (i64.extend_i32_u)))
              (return (i64.const -2)))
            (drop))
          (func (export "direct") (param i32) (result i32)
            (try_table (catch $e 0) (drop (call $deep (local.get 0))))
            (i32.const -1))
          (func (export "loop") (param i32) (result i32) (local i32)
            (loop $l
              (block $h (result i32)
                (try_table (catch $e $h) (drop (call $deep (i32.const 2))))
                (unreachable))
              (local.set 1 (i32.add (local.get 1)))
              (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get 1))
          (func (export "fromInterpreter") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h) (call $simd (local.get 0)))))
          (func (export "rethrow") (result f64) (local f64)
            (block $outer (result i64 f64 exnref)
              (try_table (catch_ref $f $outer)
                (block $h (result exnref)
                  (try_table (catch_all_ref $h) (throw $f (i64.const 9) (f64.const 4.5)))
                  (unreachable))
                (throw_ref))
              (unreachable))
            (drop)
            (local.set 0)
            (drop)
            (local.get 0)))
        """

    @Test(arguments: [Tier.baseline, .optimizing, .tiered], [TrapUnwinder.libunwind, .framePointers])
    func compiledHandlersCatch(tier: Tier, unwinder: TrapUnwinder) throws {
        let saved = Engine.trapUnwinder
        Engine.trapUnwinder = unwinder
        defer { Engine.trapUnwinder = saved }
        let engine = Self.engine(tier, interpreterOnly: [1])  // $simd: an interpreted thrower
        let store = Store(engine: engine)
        let i = try store.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.handlers)))
        func call(_ name: String, _ args: [Value] = []) throws -> [Value] { try i.function(name)!.call(args) }
        for _ in 0..<3 {
            #expect(try call("deep", [.i32(5)]) == [.i32(1057)])
            #expect(try call("nested", [.i32(0)]) == [.i64(7)])
            #expect(try call("nested", [.i32(1)]) == [.i64(5)])
            #expect(try call("direct", [.i32(4)]) == [.i32(7)])
            #expect(try call("loop", [.i32(10_000)]) == [.i32(70_000)])
            #expect(try call("fromInterpreter", [.i32(5)]) == [.i32(105)])
            #expect(try call("rethrow") == [.f64(4.5)])
        }
        if tier != .tiered {
            #expect(i.module.currentTier(function: 1) == .interpreter)
            for f in [0, 2, 3, 4, 5, 6, 7] { #expect(i.module.currentTier(function: f) == tier, "function \(f)") }
        }
    }

    /// Handlers in optimized code: values and locals live into landing blocks (set between the
    /// calls of one try_table, in a loop, ints and floats, a value a loop keeps in a register),
    /// an inner try_table's handler passing an exception on to an outer one in the same
    /// function, a catch to a loop label, throw_ref inside a try_table. Every tier gives the
    /// interpreter's results, with either unwinder.
    static let optimizedHandlers = """
        (module
          (tag $e (param i32))
          (tag $f (param f64))
          (global $g (mut i32) (i32.const 0))
          (func $spin (param i32) (result i32)
            (loop $l (br_if $l (local.tee 0 (i32.shr_u (local.get 0) (i32.const 1)))))
            (local.get 0))
          ;; Values live across its call of $spin take the callee-saved registers, which hold
          ;; them, not the caller's values, when it throws.
          (func $maybe (param i32) (result i32) (local $p i32) (local $q i32) (local $r i32)
            (local.set $p (i32.mul (local.get 0) (i32.const 3)))
            (local.set $q (i32.xor (local.get 0) (i32.const 0x55)))
            (local.set $r (i32.add (local.get 0) (i32.const 77)))
            (drop (call $spin (local.get 0)))
            (if (i32.and (local.get 0) (i32.const 1)) (then (throw $e (local.get 0))))
            (global.set $g (i32.add (local.get $p) (i32.add (local.get $q) (local.get $r))))
            (local.get 0))
          (func $maybeF (param i32) (result f64)
            (if (i32.eqz (i32.rem_u (local.get 0) (i32.const 3))) (then (throw $f (f64.convert_i32_u (local.get 0)))))
            (f64.const 0.5))
          (func (export "sum") (param $n i32) (result f64)
            (local $i i32) (local $a i64) (local $x f64) (local $y f64) (local $k i32) (local $b i64) (local $p i32)
            (local.set $x (f64.const 1.25))
            (local.set $b (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 3)))
            (loop $l
              (block $hf (result f64)
                (try_table (catch $f $hf)
                  (block $h (result i32)
                    (try_table (catch $e $h)
                      (local.set $k (i32.const 1))
                      (drop (call $maybe (i32.mul (local.get $i) (i32.const 2))))
                      (local.set $k (i32.const 2))
                      (local.set $a (i64.add (local.get $a) (i64.extend_i32_u (call $maybe (local.get $i)))))
                      (local.set $k (i32.const 3))
                      (local.set $y (f64.add (local.get $y) (call $maybeF (local.get $i))))
                      (local.set $k (i32.const 4)))
                    (i32.const 0))
                  (local.set $p (i32.add (i32.mul (local.get $k) (i32.const 1000))))
                  (local.set $a (i64.add (local.get $a) (i64.extend_i32_u (local.get $p)))))
                (f64.const 0))
              (local.set $y (f64.add (local.get $y)))
              (local.set $a (i64.add (local.get $a) (local.get $b)))
              (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
            (f64.add (f64.add (f64.convert_i64_u (local.get $a)) (local.get $y)) (local.get $x)))
          ;; A catch clause whose label is a loop: each caught exception starts the next iteration
          ;; with its payload as the loop's parameter; throw_ref in a try_table of the same function.
          (func (export "retry") (param $n i32) (result i32) (local $tries i32) (local $x i32) (local $v i32)
            (i32.const 0)
            (loop $l (param i32) (result i32)
              (local.set $x)
              (local.set $tries (i32.add (local.get $tries) (i32.const 1)))
              (block $h (result exnref)
                (try_table (catch_all_ref $h)
                  (local.set $v (call $maybe (i32.add (local.get $x) (i32.const 1))))
                  (if (i32.lt_u (local.get $v) (local.get $n))
                    (then (throw $e (i32.add (local.get $v) (i32.const 1))))))
                (return (local.get $tries)))
              (block $again (param exnref) (result i32)
                (try_table (param exnref) (catch $e $again) (throw_ref))
                (unreachable))
              (br $l))))
        """

    @Test(arguments: [Tier.baseline, .optimizing, .tiered], [TrapUnwinder.libunwind, .framePointers])
    func handlersKeepValuesLiveIntoThem(tier: Tier, unwinder: TrapUnwinder) throws {
        let saved = Engine.trapUnwinder
        Engine.trapUnwinder = unwinder
        defer { Engine.trapUnwinder = saved }
        func instance(_ tier: Tier) throws -> Instance {
            let engine = Self.engine(tier)
            return try Store(engine: engine).instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.optimizedHandlers)))
        }
        let i = try instance(tier), reference = try instance(.interpreter)
        func expected(_ n: Int) -> Double {
            var a = 0, y = 0.0, x = 1.25
            for k in 0..<n {
                if k % 2 == 1 { a += k + 2000 } else {
                    a += k
                    if k % 3 == 0 { y += Double(k) } else { y += 0.5; a += 4000 }
                }
                a += 3 * n
                x += 0.5
            }
            return Double(a) + y + x
        }
        for n in [1, 2, 7, 100, 1000] {
            #expect(try i.function("sum")!.call([.i32(Int32(n))]) == [.f64(expected(n))])
            #expect(try reference.function("sum")!.call([.i32(Int32(n))]) == [.f64(expected(n))])
        }
        for n in [0, 1, 2, 3, 9, 10] {
            #expect(try i.function("retry")!.call([.i32(Int32(n))]) == reference.function("retry")!.call([.i32(Int32(n))]))
        }
        if tier != .tiered {
            for f in 0..<5 { #expect(i.module.currentTier(function: f) == tier, "function \(f)") }
        }
    }

    /// The store keeps an exception while an exnref global or table (or a host value, or
    /// another kept exception's payload) can reach it, and releases the others after an
    /// outermost call: a program that throws in a loop does not grow.
    static let retention = """
        (module
          (tag $e (param i32))
          (tag $box (param exnref))
          (global $kept (mut exnref) (ref.null exn))
          (table $t 1 exnref)
          (func $make (export "make") (param i32) (result exnref) (local exnref)
            (block $h (result i32 exnref)
              (try_table (catch_ref $e $h) (throw $e (local.get 0)))
              (unreachable))
            (local.set 1)
            (drop)
            (local.get 1))
          (func (export "churn") (param i32) (result i32) (local i32)
            (loop $l
              (drop (call $make (local.get 0)))
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get 1))
          (func (export "keep") (param i32) (local exnref)
            (global.set $kept (call $make (local.get 0)))
            (block $h (result exnref exnref)
              (try_table (catch_ref $box $h) (throw $box (call $make (i32.add (local.get 0) (i32.const 1)))))
              (unreachable))
            (local.set 1)
            (drop)
            (table.set $t (i32.const 0) (local.get 1)))
          (func (export "rethrowKept") (result i32)
            (block $h (result i32) (try_table (catch $e $h) (throw_ref (global.get $kept))) (unreachable)))
          (func (export "rethrowBoxed") (result i32)
            (block $h (result i32)
              (try_table (catch $e $h)
                (block $b (result exnref)
                  (try_table (catch $box $b) (throw_ref (table.get $t (i32.const 0))))
                  (unreachable))
                (throw_ref))
              (unreachable))))
        """

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func unreachableExceptionsAreReleased(tier: Tier) throws {
        let engine = Self.engine(tier)
        let store = Store(engine: engine)
        let i = try store.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.retention)))
        func call(_ name: String, _ args: [Value] = []) throws -> [Value] { try i.function(name)!.call(args) }
        _ = try call("keep", [.i32(11)])
        let held = try call("make", [.i32(5)])
        for _ in 0..<3 {
            #expect(try call("churn", [.i32(3000)]) == [.i32(3000)])
            #expect(store.keptExceptionCount < 300)
            #expect(try call("rethrowKept") == [.i32(11)])
            #expect(try call("rethrowBoxed") == [.i32(12)])
        }
        guard case .exnref(let e?) = held.first else { Issue.record("no exnref"); return }
        #expect(e.values() == [.i32(5)])
    }

    /// An exception thrown and caught by `catch` or `catch_all` (its exnref never reaches Wasm
    /// code) is not kept: a long call that throws in a loop holds none of them (a host
    /// function inside the call reads the count), in every tier, the host's thrown ones too.
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func caughtExceptionsAreNotKept(tier: Tier) throws {
        let engine = Self.engine(tier)
        let store = Store(engine: engine)
        let linker = Linker()
        var counts: [Int] = []
        let box = Box()
        linker.defineFunction("host", "probe", store: store, type: FuncType(params: [], results: [])) { _, _ in
            counts.append(store.keptExceptionCount)
            return []
        }
        linker.defineFunction("host", "fail", store: store, type: FuncType(params: [.i32], results: [])) { _, args in
            throw try Exception(tag: box.instance!.tag("e")!, values: [args[0]])
        }
        let wat = """
            (module
              (import "host" "probe" (func $probe))
              (import "host" "fail" (func $fail (param i32)))
              (tag $e (export "e") (param i32))
              (func (export "throwLoop") (param i32) (result i32) (local i32)
                (loop $l
                  (block $h (result i32)
                    (try_table (catch $e $h)
                      (if (i32.and (local.get 0) (i32.const 1)) (then (call $fail (local.get 0))))
                      (throw $e (local.get 0)))
                    (unreachable))
                  (local.set 1 (i32.add (local.get 1)))
                  (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (call $probe)
                (local.get 1)))
            """
        let i = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm(wat)), in: store)
        box.instance = i
        #expect(try i.function("throwLoop")!.call([.i32(5000)]) == [.i32(12_502_500)])
        #expect(counts == [0])
    }

    @Test func validationAndFeatureSwitch() throws {
        let bad = try wat2wasm("(module (tag (param i32)) (func (throw 0)))")
        let e = try #require(creationError(bad))
        #expect(e.kind == .invalid && e.message == "type mismatch")
        let ok = try wat2wasm("(module (tag $t) (func (throw $t)))")
        #expect(creationError(ok) == nil)
        let off = try #require(creationError(ok, features: .wasm2))
        #expect(off.kind == .malformed)
        // A host exception's payload must match its tag.
        let tag = Tag(type: FuncType(params: [.i32], results: []))
        #expect(thrownError { _ = try Exception(tag: tag, values: [.i64(1)]) } != nil)
    }
}
