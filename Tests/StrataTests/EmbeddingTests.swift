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

    /// Calls from the host read each function's signature through its funcref: every value
    /// type in and out, several results, the typed helpers and their shape checks, functions
    /// reached through a table or an export of an import, in each tier.
    @Test func callsFromTheHostInEveryTier() throws {
        let wasm = try wat2wasm("""
            (module
              (import "env" "double" (func $double (param i64) (result i64)))
              (export "double" (func $double))
              (table (export "t") 1 funcref)
              (elem (i32.const 0) $sub)
              (func $sub (export "sub") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
              (func (export "mix") (param i32 i64 f32 f64) (result f64 i64 f32 i32)
                (f64.add (local.get 3) (f64.convert_i32_s (local.get 0)))
                (i64.mul (local.get 1) (i64.const 3))
                (f32.neg (local.get 2))
                (local.get 0))
              (func (export "scale") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 2.5)))
              (func (export "wide") (param i64 i64) (result i64) (call $double (i64.sub (local.get 0) (local.get 1))))
              (func (export "none"))
              (func (export "refs") (param externref) (result externref funcref) (local.get 0) (ref.func $sub))
              (func (export "vec") (param v128) (result v128) (i32x4.add (local.get 0) (local.get 0))))
            """)
        for tier in [Tier.interpreter, .baseline, .tiered] {
            var configuration = EngineConfiguration()
            configuration.tier = tier
            configuration.tierUpThreshold = 1
            let engine = Engine(configuration: configuration)
            let store = Store(engine: engine)
            let linker = Linker()
            linker.defineFunction("env", "double", store: store, type: FuncType(params: [.i64], results: [.i64])) { _, args in
                guard case .i64(let v) = args[0] else { return [] }
                return [.i64(v &* 2)]
            }
            let instance = try linker.instantiate(try Module(engine: engine, bytes: wasm), in: store)
            for _ in 0..<3 {  // tiered: later rounds run compiled code
                let sub = try #require(instance.function("sub"))
                #expect(try sub.callI32(10, 3) == 7, "\(tier)")
                #expect(try sub.call([.i32(Int32.min), .i32(1)]) == [.i32(Int32.max)], "\(tier)")
                #expect(try instance.function("mix")!.call([.i32(-2), .i64(5), .f32(1.5), .f64(0.25)])
                    == [.f64(-1.75), .i64(15), .f32(-1.5), .i32(-2)], "\(tier)")
                #expect(try instance.function("scale")!.callF64(4) == 10, "\(tier)")
                #expect(try instance.function("wide")!.callI64(Int64.min, 1) == -2, "\(tier)")
                #expect(try instance.function("none")!.call([]) == [], "\(tier)")
                // A host function, called directly and through the export of its import.
                #expect(try instance.function("double")!.callI64(21) == 42, "\(tier)")
                let refs = try instance.function("refs")!.call([.externref(7)])
                #expect(refs.count == 2 && refs[0] == .externref(7), "\(tier)")
                guard case .funcref(let f?) = refs[1] else { Issue.record("no funcref"); continue }
                #expect(try f.callI32(1, 2) == -1, "\(tier)")
                guard case .funcref(let g?) = instance.table("t")!.get(0, store: store) else { Issue.record("no table entry"); continue }
                #expect(try g.callI32(5, 5) == 0, "\(tier)")
                let v = V128(lo: 0x0000_0002_0000_0001, hi: 0x0000_0004_0000_0003)
                #expect(try instance.function("vec")!.call([.v128(v)])
                    == [.v128(V128(lo: 0x0000_0004_0000_0002, hi: 0x0000_0008_0000_0006))], "\(tier)")
                engine.flushCodeCache()
            }

            // Shapes the typed helpers and `call` refuse, before anything runs.
            let sub = instance.function("sub")!
            for bad: () throws -> Void in [
                { _ = try sub.callI32(1) },
                { _ = try sub.callI32(1, 2, 3) },
                { _ = try sub.callI64(1, 2) },
                { _ = try sub.callF64(1, 2) },
                { _ = try instance.function("none")!.callI32() },
                { _ = try instance.function("scale")!.callI32(1) },
                { _ = try sub.call([.i32(1), .i64(2)]) },
                { _ = try sub.call([.i32(1)]) },
            ] {
                let error = try #require(thrownError(bad) as? WasmError, "\(tier)")
                #expect(error.kind == .usage, "\(tier)")
            }
            #expect(sub.type == FuncType(params: [.i32, .i32], results: [.i32]))
            #expect(instance.function("double")!.type == FuncType(params: [.i64], results: [.i64]))
        }
    }

    /// A host function's arguments are read, and its results checked, against its signature:
    /// a wrong count or type of results is a host-error trap naming both, in every tier.
    @Test func hostFunctionResultsAreChecked() throws {
        let wasm = try wat2wasm("""
            (module
              (import "env" "f" (func $f (param i32 f64) (result i64)))
              (func (export "run") (param i32) (result i64) (call $f (local.get 0) (f64.const 2.5))))
            """)
        for tier in [Tier.interpreter, .baseline] {
            let engine = Engine(configuration: { var c = EngineConfiguration(); c.tier = tier; return c }())
            let store = Store(engine: engine)
            let linker = Linker()
            linker.defineFunction("env", "f", store: store, type: FuncType(params: [.i32, .f64], results: [.i64])) { _, args in
                guard case .i32(let mode) = args[0], case .f64(let x) = args[1] else { return [] }
                switch mode {
                case 0: return [.i64(Int64(x * 2))]
                case 1: return [.i64(1), .i64(2)]
                default: return [.i32(7)]
                }
            }
            let run = try linker.instantiate(try Module(engine: engine, bytes: wasm), in: store).function("run")!
            #expect(try run.call([.i32(0)]) == [.i64(5)], "\(tier)")
            let count = try #require(thrownError { _ = try run.call([.i32(1)]) } as? Trap, "\(tier)")
            #expect(count.kind == .hostError && (count.hostMessage ?? "").contains("returned 2 values, expected 1"), "\(tier): \(count)")
            let type = try #require(thrownError { _ = try run.call([.i32(2)]) } as? Trap, "\(tier)")
            #expect(type.kind == .hostError && (type.hostMessage ?? "").contains("returned i32, expected i64"), "\(tier): \(type)")
            #expect(try run.call([.i32(0)]) == [.i64(5)], "\(tier): usable after the traps")
        }
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

    /// Backtrace frames give each instruction's offset in its function's body as well as in the
    /// module, in every tier (the C API's frames report both).
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func backtraceFramesGiveFunctionOffsets(tier: Tier) throws {
        var configuration = EngineConfiguration()
        configuration.tier = tier
        let engine = Engine(configuration: configuration)
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (func $inner (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
              (func (export "div") (param i32 i32) (result i32) (call $inner (local.get 0) (local.get 1))))
            """))
        let instance = try Store(engine: engine).instantiate(module)
        do {
            _ = try instance.function("div")!.call([.i32(1), .i32(0)])
            Issue.record("no trap")
        } catch let trap as Trap {
            // After the body's size byte, its locals byte and two local.gets: offset 6, for the
            // division and for the call alike.
            #expect(trap.backtrace.map(\.functionIndex) == [0, 1])
            #expect(trap.backtrace.map(\.functionOffset) == [6, 6])
            let starts = trap.backtrace.map { ($0.offset ?? 0) - ($0.functionOffset ?? 0) }
            #expect(starts[0] > 0 && starts[1] > starts[0])
        }
    }

    /// Memories start at a 2 MiB boundary, where transparent huge pages can back them
    /// (`mapHugePageAligned`), host memories and instances' alike; a memory grown across
    /// several huge pages keeps every write, in every tier.
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func memoriesStartAtHugePageBoundaries(tier: Tier) throws {
        let hugePage = 2 << 20
        let host = try Memory(type: MemoryType(limits: Limits(min: 1, max: nil)))
        #expect(Int(bitPattern: host.baseAddress) % hugePage == 0)
        var configuration = EngineConfiguration()
        configuration.tier = tier
        let engine = Engine(configuration: configuration)
        // Grows to 5 MiB + 64 KiB, writes a word at every 4 KiB from the top down, sums them.
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (memory (export "mem") 1)
              (func (export "run") (result i64)
                (local $a i32) (local $sum i64)
                (drop (memory.grow (i32.const 80)))
                (local.set $a (i32.const 0x510000))
                (loop $write
                  (local.set $a (i32.sub (local.get $a) (i32.const 4096)))
                  (i64.store (local.get $a) (i64.extend_i32_u (i32.add (local.get $a) (i32.const 7))))
                  (br_if $write (local.get $a)))
                (loop $read
                  (local.set $sum (i64.add (local.get $sum) (i64.load (local.get $a))))
                  (local.set $a (i32.add (local.get $a) (i32.const 4096)))
                  (br_if $read (i32.lt_u (local.get $a) (i32.const 0x510000))))
                (local.get $sum)))
            """))
        let instance = try Store(engine: engine).instantiate(module)
        let memory = try #require(instance.memory("mem"))
        #expect(Int(bitPattern: memory.baseAddress) % hugePage == 0)
        let pages = 0x510000 / 4096
        let expected = (0..<pages).reduce(Int64(0)) { $0 + Int64($1 * 4096 + 7) }
        #expect(try instance.function("run")!.call([]) == [.i64(expected)])
        #expect(memory.pages == 81)
        #expect(memory.read(offset: 0x200000, count: 8) == withUnsafeBytes(of: Int64(0x200007).littleEndian, Array.init))
    }

    /// A store whose instance imports one of the store's host functions is freed once the
    /// embedder drops it (and the function's closure with it): the instance does not hold the
    /// function's store (it used to: a cycle that kept every such store alive, and leaked it).
    @Test func aStoreWithImportedHostFunctionsIsFreed() throws {
        final class Probe { var freed: (() -> Void)?; deinit { freed?() } }
        var freed = 0
        weak var weakStore: Store?
        do {
            let engine = Engine()
            let store = Store(engine: engine)
            weakStore = store
            let probe = Probe()
            probe.freed = { freed += 1 }
            let f = Function(store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in
                _ = probe
                return [.i32(args[0].i32! + 1)]
            }
            let module = try Module(engine: engine, bytes: try wat2wasm("""
                (module (import "h" "inc" (func $inc (param i32) (result i32)))
                  (func (export "run") (param i32) (result i32) (call $inc (local.get 0))))
                """))
            let instance = try store.instantiate(module, imports: [.function(f)])
            #expect(try instance.function("run")!.call([.i32(41)]) == [.i32(42)])
        }
        #expect(weakStore == nil)
        #expect(freed == 1)
    }

    /// A defined global's cell lives past its instance's VM context (compiled code reads it with
    /// one load): code of every tier, the host and an importing instance see one cell, and an
    /// exported global stays readable after its instance, store and module are gone.
    @Test func definedGlobalsAreSharedAndOutliveTheirInstance() throws {
        for tier in [Tier.interpreter, .baseline, .optimizing] {
            var c = EngineConfiguration()
            c.tier = tier
            let engine = Engine(configuration: c)
            var exported: Global?
            do {
                let store = Store(engine: engine)
                let host = try Global(store: store, type: GlobalType(value: .i32, mutable: true), value: .i32(5))
                let linker = Linker()
                linker.define("env", "h", .global(host))
                let first = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm("""
                    (module (global $h (import "env" "h") (mut i32))
                      (global $a (export "a") (mut i64) (i64.const 40))
                      (global $b (mut f64) (f64.const 1.5))
                      (global $v (mut v128) (v128.const i64x2 7 9))
                      (global $c i32 (i32.const 11))
                      (func (export "bump") (result i64)
                        (global.set $a (i64.add (global.get $a) (i64.const 2)))
                        (global.set $b (f64.mul (global.get $b) (f64.const 2)))
                        (global.set $v (i64x2.add (global.get $v) (global.get $v)))
                        (global.set $h (i32.add (global.get $h) (global.get $c)))
                        (i64.add (i64.add (global.get $a) (i64.trunc_f64_s (global.get $b)))
                                 (i64.add (i64x2.extract_lane 1 (global.get $v)) (i64.extend_i32_s (global.get $h))))))
                    """)), in: store)
                // a = 42, b = 3.0, v = (14, 18), h = 16: 42 + 3 + 18 + 16.
                #expect(try first.function("bump")!.call([]) == [.i64(79)], "\(tier)")
                #expect(host.value == .i32(16), "\(tier)")
                let a = try #require(first.global("a"))
                #expect(a.value == .i64(42), "\(tier)")
                try a.set(.i64(100))
                linker.define("first", "a", .global(a))
                let second = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm("""
                    (module (global $a (import "first" "a") (mut i64))
                      (global $own (mut i64) (i64.const 1))
                      (func (export "add") (param i64) (result i64)
                        (global.set $own (i64.add (global.get $own) (local.get 0)))
                        (global.set $a (i64.add (global.get $a) (global.get $own)))
                        (global.get $a)))
                    """)), in: store)
                #expect(try second.function("add")!.call([.i64(2)]) == [.i64(103)], "\(tier)")
                // The first instance's code sees what the second one wrote: a = 103 + 2.
                #expect(try first.function("bump")!.call([]) == [.i64(105 + 6 + 36 + 27)], "\(tier)")
                exported = a
            }
            #expect(exported?.value == .i64(105), "\(tier): the global outlives its instance and store")
        }
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
