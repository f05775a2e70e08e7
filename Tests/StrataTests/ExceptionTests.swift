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

    func instance(_ tier: Tier) throws -> Instance {
        var c = EngineConfiguration()
        c.tier = tier
        c.tierUpThreshold = 1
        c.optimizeThreshold = 1
        let engine = Engine(configuration: c)
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
            // The function between thrower and catcher is compiled; those that throw or catch are not yet.
            // (Imports first: $middle is function 3, "catch" 4.)
            #expect(i.module.currentTier(function: 3) == tier)
            #expect(i.module.currentTier(function: 4) == .interpreter)
        }
    }

    @Test(arguments: [Tier.interpreter, .baseline])
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
