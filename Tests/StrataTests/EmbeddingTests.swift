import Testing
import WAT
@testable import Strata

@Suite struct EmbeddingTests {
    /// The README's embedding example, kept here so it keeps compiling and working.
    @Test func readmeExample() throws {
        let engine = Engine()
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (import "host" "log" (func $log (param i32)))
              (func (export "add") (param i32 i32) (result i32)
                (call $log (local.get 0))
                (i32.add (local.get 0) (local.get 1))))
            """))
        let store = Store(engine: engine)
        var logged: [Int32] = []
        let linker = Linker()
        linker.defineFunction("host", "log", store: store, type: FuncType(params: [.i32], results: [])) { _, args in
            logged.append(args[0].i32!)
            return []
        }
        let instance = try linker.instantiate(module, in: store)
        let sum = try instance.function("add")!.callI32(2, 3)
        #expect(sum == 5)
        if case .function(let f)? = instance.export("add") { #expect(f.type.params == [.i32, .i32]) } else { Issue.record("no export") }
        #expect(instance.export("missing") == nil)
        #expect(logged == [2])
    }

    @Test func hostFunctionsSeeCallerMemoryAndCanFail() throws {
        struct Boom: Error {}
        let engine = Engine()
        let store = Store(engine: engine)
        let linker = Linker()
        linker.defineFunction("env", "peek", store: store, type: FuncType(params: [.i32], results: [.i32])) { caller, args in
            let byte = caller.memory!.read(offset: Int(args[0].i32!), count: 1)![0]
            return [.i32(Int32(byte))]
        }
        linker.defineFunction("env", "boom", store: store, type: FuncType(params: [], results: [])) { _, _ in throw Boom() }
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (import "env" "peek" (func $peek (param i32) (result i32)))
              (import "env" "boom" (func $boom))
              (memory 1) (data (i32.const 5) "\\2a")
              (func (export "peek5") (result i32) (call $peek (i32.const 5)))
              (func (export "boom") (call $boom)))
            """))
        let instance = try linker.instantiate(module, in: store)
        #expect(try instance.function("peek5")!.callI32() == 42)
        let trap = try #require(thrownError { _ = try instance.function("boom")!.call([]) } as? Trap)
        #expect(trap.kind == .hostError)
        #expect(try instance.function("peek5")!.callI32() == 42)
    }

    @Test func hostCanReenterWasm() throws {
        let engine = Engine()
        let store = Store(engine: engine)
        let linker = Linker()
        var inner: Function?
        linker.defineFunction("env", "twice", store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in
            let once = try inner!.call([args[0]])[0].i32!
            return try inner!.call([.i32(once)])
        }
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (import "env" "twice" (func $twice (param i32) (result i32)))
              (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
              (func (export "run") (param i32) (result i32)
                (i32.mul (call $twice (local.get 0)) (i32.const 10))))
            """))
        let instance = try linker.instantiate(module, in: store)
        inner = instance.function("inc")
        #expect(try instance.function("run")!.callI32(5) == 70)
    }

    @Test func badImportsAndArgumentsAreClearErrors() throws {
        let m = try module("""
            (module (import "env" "f" (func (param i32))) (func (export "g") (param i32 i64) (result i32) (local.get 0)))
            """)
        let store = Store(engine: m.engine)
        let unknown = try #require(thrownError { _ = try Linker().instantiate(m, in: store) } as? WasmError)
        #expect(unknown.kind == .unlinkable)
        #expect(unknown.message.contains("unknown import"))
        let linker = Linker()
        linker.defineFunction("env", "f", store: store, type: FuncType(params: [.i64], results: [])) { _, _ in [] }
        let mismatch = try #require(thrownError { _ = try linker.instantiate(m, in: store) } as? WasmError)
        #expect(mismatch.message.contains("incompatible import type"))

        let ok = Linker()
        ok.defineFunction("env", "f", store: store, type: FuncType(params: [.i32], results: [])) { _, _ in [] }
        let instance = try ok.instantiate(m, in: store)
        let g = instance.function("g")!
        #expect((thrownError { _ = try g.call([.i32(1)]) } as? WasmError)?.kind == .usage)
        #expect((thrownError { _ = try g.call([.i32(1), .i32(2)]) } as? WasmError)?.kind == .usage)
        #expect(try g.call([.i32(1), .i64(2)]) == [.i32(1)])
    }

    @Test func globalsAndTablesFromTheHost() throws {
        let engine = Engine()
        let store = Store(engine: engine)
        let g = try Global(store: store, type: GlobalType(value: .i64, mutable: true), value: .i64(41))
        let linker = Linker()
        linker.define("env", "g", .global(g))
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module (global $g (import "env" "g") (mut i64))
              (func (export "inc") (global.set $g (i64.add (global.get $g) (i64.const 1)))))
            """))
        let instance = try linker.instantiate(module, in: store)
        _ = try instance.function("inc")!.call([])
        #expect(g.value == .i64(42))
        #expect((thrownError { try g.set(.i32(1)) } as? WasmError)?.kind == .usage)
    }
}

@Suite struct TableAndErrorOffsetTests {
    @Test func tablesFromTheHost() throws {
        let (store, instance) = try instantiate("""
            (module (table (export "t") 2 funcref) (elem (i32.const 0) $f)
              (func $f (result i32) (i32.const 7))
              (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))
            """)
        let table = try #require(instance.table("t"))
        let f = try #require(table.get(0, store: store))
        #expect(table.get(1, store: store) == .funcref(nil))
        #expect(table.get(2, store: store) == nil)
        try table.set(1, f)
        #expect(try instance.function("call")!.callI32(1) == 7)
        #expect((thrownError { try table.set(1, .externref(3)) } as? WasmError)?.kind == .usage)
        #expect(table.grow(by: 3) == 2)
        #expect(table.count == 5)
    }

    /// Bodies are validated in parallel; the error is still the first invalid body's, whichever
    /// worker finds which first.
    @Test func firstInvalidBodyIsReported() throws {
        var funcs = ""
        for i in 0..<400 {
            switch i {
            case 137: funcs += "(func (result i32) (i32.add (i32.const 1) (i64.const 2)))\n"
            case 300: funcs += "(func (result i32) (i32.load (i32.const 0)))\n"
            default: funcs += "(func (result i32) (i32.add (i32.const \(i)) (i32.const 2)))\n"
            }
        }
        let bytes = try wat2wasm("(module \(funcs))")
        for tier in [Tier.interpreter, .baseline, .tiered] {
            for _ in 0..<5 {
                var configuration = EngineConfiguration()
                configuration.tier = tier
                let e = try #require(thrownError { _ = try Module(engine: Engine(configuration: configuration), bytes: bytes) } as? WasmError)
                #expect(e.kind == .invalid)
                #expect(e.message == "type mismatch", "\(tier): \(e.message)")  // func 137's error, not func 300's
            }
        }
        #expect(thrownError { try Module.validate(bytes: bytes) } != nil)
    }

    @Test func moduleLevelErrorsCarryOffsets() throws {
        let e = try #require(thrownError {
            _ = try module("(module (func $a) (export \"x\" (func $a)) (export \"x\" (func $a)))")
        } as? WasmError)
        #expect(e.message == "duplicate export name")
        #expect(e.offset != nil && e.offset! > 8)
        let m = try module("(module (import \"env\" \"f\" (func)))")
        let u = try #require(thrownError { _ = try Linker().instantiate(m, in: Store(engine: m.engine)) } as? WasmError)
        #expect(u.offset != nil)
    }
}
