import Testing
import WAT
@testable import Strata

/// Typed function references: `(ref null? $t)` types, `call_ref`, `return_call_ref`,
/// `ref.as_non_null`, `br_on_null`, `br_on_non_null`, non-nullable locals, typed tables with
/// initializers; type equivalence inside a module and across modules; the embedding API's
/// checks; the feature switch.
@Suite struct TypedReferenceTests {
    static let wat = """
        (module
          (type $i2i (func (param i32) (result i32)))
          (elem declare func $double $square)
          (func $double (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
          (func $square (type $i2i) (i32.mul (local.get 0) (local.get 0)))
          ;; A table of non-nullable references needs its initializer.
          (table $fns 2 (ref $i2i) (ref.func $double))
          ;; 0: null, 1: $double, other: $square.
          (func $pick (param i32) (result (ref null $i2i))
            (if (result (ref null $i2i)) (local.get 0)
              (then (if (result (ref null $i2i)) (i32.eq (local.get 0) (i32.const 1))
                (then (ref.func $double)) (else (ref.func $square))))
              (else (ref.null $i2i))))
          (func (export "callRef") (param i32 i32) (result i32)
            (call_ref $i2i (local.get 1) (call $pick (local.get 0))))
          (func (export "orMinus") (param i32 i32) (result i32)
            (block $null
              (return (call_ref $i2i (local.get 1) (br_on_null $null (call $pick (local.get 0))))))
            (i32.const -1))
          ;; br_on_non_null carries the reference (and the values below it) to its label.
          (func (export "nonNull") (param i32) (result i32) (local $f (ref $i2i))
            (block $found (result i32 (ref $i2i))
              (br_on_non_null $found (i32.const 10) (call $pick (local.get 0)))
              (return (i32.const -2)))
            (local.set $f)
            (call_ref $i2i (local.get $f)))
          (func (export "asNonNull") (param i32) (result i32)
            (call_ref $i2i (i32.const 3) (ref.as_non_null (call $pick (local.get 0)))))
          (func (export "table") (param i32 i32) (result i32)
            (call_ref $i2i (local.get 1) (table.get $fns (local.get 0))))
          (func (export "tail") (param i32) (result i32)
            (return_call_ref $i2i (i32.const 7) (ref.as_non_null (call $pick (local.get 0)))))
          ;; A reference passed in from the host, and one handed out.
          (func (export "apply") (param (ref $i2i) i32) (result i32)
            (call_ref $i2i (local.get 1) (local.get 0)))
          (func (export "square") (result (ref $i2i)) (ref.func $square))
          ;; A loop of calls through references (the compiled tiers' loops and calls).
          (func (export "sum") (param $n i32) (result i32) (local $acc i32) (local $i i32)
            (loop $l
              (local.set $acc (i32.add (local.get $acc)
                (call_ref $i2i (local.get $i) (ref.as_non_null (call $pick (i32.add (i32.rem_u (local.get $i) (i32.const 2)) (i32.const 1)))))))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
            (local.get $acc)))
        """

    func instance(_ tier: Tier) throws -> Instance {
        var c = EngineConfiguration()
        c.tier = tier
        c.tierUpThreshold = 1
        c.optimizeThreshold = 1
        return try instantiate(Self.wat, engine: Engine(configuration: c)).1
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing, .tiered])
    func typedReferencesRunInEveryTier(tier: Tier) throws {
        let i = try instance(tier)
        func call(_ name: String, _ args: Int32...) throws -> [Value] { try i.function(name)!.call(args.map { .i32($0) }) }
        func trap(_ name: String, _ args: Int32...) -> TrapKind? {
            (thrownError { _ = try i.function(name)!.call(args.map { .i32($0) }) } as? Trap)?.kind
        }
        for _ in 0..<3 {
            #expect(try call("callRef", 1, 5) == [.i32(10)])
            #expect(try call("callRef", 2, 5) == [.i32(25)])
            #expect(trap("callRef", 0, 5) == .nullFunctionReference)
            #expect(try call("orMinus", 0, 5) == [.i32(-1)])
            #expect(try call("orMinus", 2, 6) == [.i32(36)])
            #expect(try call("nonNull", 0) == [.i32(-2)])
            #expect(try call("nonNull", 1) == [.i32(20)])
            #expect(try call("asNonNull", 2) == [.i32(9)])
            #expect(trap("asNonNull", 0) == .nullReference)
            #expect(try call("table", 1, 4) == [.i32(8)])  // the initializer filled every element
            #expect(try call("tail", 2) == [.i32(49)])
            #expect(trap("tail", 0) == .nullReference)
            // sum over i < 10 of (i even ? 2i : i*i) = 2*(0+2+4+6+8) + (1+9+25+49+81)
            #expect(try call("sum", 10) == [.i32(40 + 165)])
        }
        if tier == .baseline || tier == .optimizing {
            // Every function is compiled: functions 3...8 and 11 use the new instructions.
            for f in 0..<12 { #expect(i.module.currentTier(function: f) == tier, "function \(f)") }
        }
        // The host passes a function reference in and gets one out; the parameter's type is
        // checked against the function's.
        let square = try #require(try i.function("square")!.call([]).first)
        #expect(try i.function("apply")!.call([square, .i32(6)]) == [.i32(36)])
        #expect(thrownError { _ = try i.function("apply")!.call([.funcref(nil), .i32(6)]) } is WasmError)
        let other = Function(store: i.store, type: FuncType(params: [], results: [])) { _, _ in [] }
        #expect(thrownError { _ = try i.function("apply")!.call([.funcref(other), .i32(6)]) } is WasmError)
    }

    @Test func validation() throws {
        func error(_ wat: String) throws -> String? { creationError(try wat2wasm(wat))?.message }
        // Structurally equal types are one type; a nullable reference is no non-nullable one.
        #expect(try error("(module (type $a (func)) (type $b (func)) (func (param (ref $a)) (result (ref null $b)) (local.get 0)))") == nil)
        #expect(try error("(module (type $a (func)) (func (param (ref null $a)) (result (ref $a)) (local.get 0)))") == "type mismatch")
        #expect(try error("(module (type $a (func)) (type $b (func (param i32))) (func (param (ref $a)) (result (ref $b)) (local.get 0)))") == "type mismatch")
        #expect(try error("(module (func (result (ref func)) (ref.null func)))") == "type mismatch")
        // Locals without a default value are set before use; a set inside a block ends with it.
        #expect(try error("(module (func (local (ref func)) (drop (local.get 0))))") == "uninitialized local")
        #expect(try error("""
            (module (elem declare func 0) (func (local (ref func))
              (block (local.set 0 (ref.func 0))) (drop (local.get 0))))
            """) == "uninitialized local")
        #expect(try error("""
            (module (elem declare func 0) (func (local (ref func))
              (local.set 0 (ref.func 0)) (block (drop (local.get 0))) (drop (local.get 0))))
            """) == nil)
        // A table of non-nullable references without an initializer.
        #expect(try error("(module (type $t (func)) (table 1 (ref $t)))") == "type mismatch")
        // Typed function references switched off: a Wasm 2.0 decoder.
        let typed = try wat2wasm("(module (type $t (func)) (func (param (ref null $t))))")
        #expect(creationError(typed) == nil)
        let off = try #require(creationError(typed, features: WasmFeatures.all.subtracting(.functionReferences)))
        #expect(off.kind == .malformed)
    }

    /// Types compare by structure across modules (canonical ids), including types that refer
    /// to other types: imports link and call_indirect finds the same type.
    @Test(arguments: [Tier.interpreter, .baseline])
    func typesAreEquivalentAcrossModules(tier: Tier) throws {
        var c = EngineConfiguration()
        c.tier = tier
        let engine = Engine(configuration: c)
        let store = Store(engine: engine)
        let a = try Linker().instantiate(try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (type $i2i (func (param i32) (result i32)))
              (type $apply (func (param (ref $i2i)) (result i32)))
              (func $apply (export "apply") (type $apply) (call_ref $i2i (i32.const 4) (local.get 0)))
              (func $sq (export "sq") (type $i2i) (i32.mul (local.get 0) (local.get 0)))
              (table (export "t") 1 funcref)
              (elem (i32.const 0) $apply))
            """)), in: store)
        let linker = Linker()
        linker.define(instance: a, as: "A")
        // Declared in another order, with an unrelated type first.
        let b = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (type $unit (func))
              (type $int (func (param i32) (result i32)))
              (type $applier (func (param (ref $int)) (result i32)))
              (import "A" "apply" (func $apply (type $applier)))
              (import "A" "sq" (func $sq (type $int)))
              (import "A" "t" (table 1 funcref))
              (elem declare func $sq)
              (func (export "direct") (result i32) (call $apply (ref.func $sq)))
              (func (export "indirect") (result i32) (call_indirect (type $applier) (ref.func $sq) (i32.const 0))))
            """)), in: store)
        #expect(try b.function("direct")!.call([]) == [.i32(16)])
        #expect(try b.function("indirect")!.call([]) == [.i32(16)])
        // A type that refers to itself is the same type in every module (iso-recursive); one
        // that refers to a different type is not.
        let selfRef = "(type $s (func (param (ref null $s)) (result i32)))"
        let recursive = try Linker().instantiate(try Module(engine: engine, bytes: try wat2wasm("""
            (module \(selfRef)
              (func $f (export "f") (type $s) (if (result i32) (ref.is_null (local.get 0)) (then (i32.const 1))
                (else (i32.add (i32.const 10) (call_ref $s (ref.null $s) (local.get 0))))))
              (elem declare func $f)
              (func (export "self") (result i32) (call $f (ref.func $f))))
            """)), in: store)
        let cl = Linker()
        cl.define(instance: recursive, as: "C")
        let d = try cl.instantiate(try Module(engine: engine, bytes: try wat2wasm("""
            (module (type $other (func (param i64))) \(selfRef)
              (import "C" "f" (func $f (type $s)))
              (func (export "viaImport") (result i32) (call $f (ref.null $s))))
            """)), in: store)
        #expect(try recursive.function("self")!.call([]) == [.i32(11)])
        #expect(try d.function("viaImport")!.call([]) == [.i32(1)])
        let notSelf = try Module(engine: engine, bytes: try wat2wasm("""
            (module (type $t (func (param i32) (result i32))) (type $u (func (param (ref null $t)) (result i32)))
              (import "C" "f" (func (type $u))))
            """))
        #expect((thrownError { _ = try cl.instantiate(notSelf, in: store) } as? WasmError)?.kind == .unlinkable)
        // A parameter of another type: no link.
        let bad = try Module(engine: engine, bytes: try wat2wasm("""
            (module (import "A" "apply" (func (param (ref func)) (result i32))))
            """))
        let e = try #require(thrownError { _ = try linker.instantiate(bad, in: store) } as? WasmError)
        #expect(e.kind == .unlinkable)
    }

    @Test func hostTablesOfNonNullableReferences() throws {
        let (store, i) = try instantiate(Self.wat)
        let type = TableType(element: .ref(.func, nullable: false), limits: Limits(min: 2, max: nil))
        #expect(thrownError { _ = try Table(type: type) } is WasmError)
        #expect(thrownError { _ = try Table(type: type, initial: .funcref(nil)) } is WasmError)
        let square = try #require(try i.function("square")!.call([]).first)
        let t = try Table(type: type, initial: square)
        #expect(t.get(1, store: store) == square)
        #expect(thrownError { try t.set(0, .funcref(nil)) } is WasmError)
        #expect(t.grow(by: 1) == nil)
    }
}
