import CStrata
import Foundation
import Testing
import WAT
@testable import Strata

@Suite struct InterpreterTests {
    static let lazyWat = """
        (module
          (func $a (export "a") (param i32) (result i32) (call $b (i32.add (local.get 0) (i32.const 1))))
          (func $b (param i32) (result i32) (local i64 f64) (i32.mul (local.get 0) (i32.const 3)))
          (func $c (export "c") (result i32) (i32.const 7))
          (func $d (export "d") (param i32) (result i32)
            (if (result i32) (local.get 0) (then (i32.const 1)) (else (unreachable)))))
        """

    /// Functions are translated for the interpreter at their first call, not at module creation
    /// (memory for interpreter code grows with the functions that run): the entry slot then
    /// points at the translation; a listing translates on demand; a trap in a function's first
    /// run has its offset.
    @Test(arguments: [Tier.interpreter, .tiered]) func functionsAreTranslatedAtTheirFirstCall(tier: Tier) throws {
        var c = EngineConfiguration()
        c.tier = tier
        c.tierUpThreshold = 1_000_000
        let engine = Engine(configuration: c)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.lazyWat))
        #expect(module.translatedFunctionCount == 0)
        let instance = try Store(engine: engine).instantiate(module)
        #expect(module.translatedFunctionCount == 0)
        #expect(try instance.function("a")!.callI32(4) == 15)
        #expect(module.translatedFunctionCount == 2)
        #expect(try instance.function("a")!.callI32(5) == 18)
        #expect(module.translatedFunctionCount == 2)
        #expect(module.currentTier(function: 0) == .interpreter)
        let listing = try #require(module.interpreterListing(function: 2))
        #expect(listing.contains("1 constants") || listing.contains("constants"))
        // `call` holds its callee's entry slot address; the listing names the callee by index.
        #expect(try #require(module.interpreterListing(function: 0)).contains("  call 1 "))
        #expect(module.translatedFunctionCount == 3)
        #expect(try instance.function("c")!.callI32() == 7)
        do {
            _ = try instance.function("d")!.callI32(0)
            Issue.record("no trap")
        } catch let trap as Trap {
            #expect(trap.kind == .unreachable)
            #expect(trap.backtrace.first?.functionIndex == 3)
            #expect(trap.backtrace.first?.offset != nil)
        }
        #expect(module.translatedFunctionCount == 4)
    }

    /// Threads making a function's first call at once (a store each, one module) all run it:
    /// one translation is kept, and every call after it runs that one.
    @Test func concurrentFirstCallsShareOneTranslation() throws {
        var c = EngineConfiguration()
        c.tier = .interpreter
        let engine = Engine(configuration: c)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.lazyWat))
        let results = Locked([Int32](repeating: 0, count: 16))
        DispatchQueue.concurrentPerform(iterations: 16) { k in
            let value = (try? Store(engine: engine).instantiate(module).function("a")!.callI32(Int32(k))) ?? -1
            results.withLock { $0[k] = value }
        }
        let expected: [Int32] = (0..<16).map { k in Int32((k + 1) * 3) }
        let got = results.withLock { $0 }
        #expect(got == expected)
        #expect(module.translatedFunctionCount == 2)
        let record = try module.interpreterRecord(0).get()
        let slot = UnsafeRawPointer(module.entrySlot(0)).assumingMemoryBound(to: Optional<UnsafeRawPointer>.self)
        let published = strata_load_entry(slot)
        #expect(published == UnsafeRawPointer(record))
    }

    /// The constant pool holds each distinct constant once, through the linear search (up to 8
    /// constants), the hash table and its growth (past 32): 300 distinct i64 constants, each
    /// used three times, one word each (`Translator.constImage`); f64 and i64 constants with the
    /// same bits share one word, while a v128 with that low word has its own two (v128s keep
    /// slot alignment, before the scalars).
    @Test func constantPoolsKeepEachConstantOnce() throws {
        var body = "(i64.const 0)\n"
        var expected: Int64 = 0
        for k in 0..<300 {
            let c = Int64(k) &* 0x1_0000_0001 &- 7
            body += "(i64.add (i64.const \(c))) (i64.sub (i64.const \(c))) (i64.add (i64.const \(c)))\n"
            expected &+= c
        }
        let wat = """
            (module
              (func (export "sum") (result i64) \(body))
              (func (export "mixed") (result f64)
                (f64.add (f64.const 1) (f64.reinterpret_i64 (i64.const 0x3ff0000000000000)))
                (f64.add (f64x2.extract_lane 0 (v128.const i64x2 0x3ff0000000000000 0)))
                (f64.add (f64.const 1)))
            )
            """
        let module = try Module(engine: Engine(configuration: { var c = EngineConfiguration(); c.tier = .interpreter; return c }()),
                                bytes: try wat2wasm(wat))
        let store = Store(engine: module.engine)
        let instance = try store.instantiate(module)
        #expect(try instance.function("sum")!.callI64() == expected)
        #expect((try module.interpreterRecord(0).get()).pointee.constWords == 1 + 300 + 1)  // padded to a slot
        #expect(try instance.function("mixed")!.callF64() == 4)
        // 1.0 as f64 and as i64 bits share one word; the v128 (same low word, zero high) has two
        // words of its own, first; one word of padding.
        let mixed = try module.interpreterRecord(1).get()
        #expect(mixed.pointee.constWords == 2 + 1 + 1)
        let image = mixed.pointee.frameImage + (mixed.pointee.paramWords + mixed.pointee.localWords - mixed.pointee.imageStart)
        #expect([image[0], image[1], image[2], image[3]] == [0x3ff0_0000_0000_0000, 0, 0x3ff0_0000_0000_0000, 0])
    }

    /// A frame starts from its function's image (zeroed locals, then the constant pool), copied
    /// in chunks chosen by the image's size: every size class (none, 32, 64, 128, 256 bytes and
    /// the loop above) gets zero locals and its constants, although the frame lands on slots a
    /// call before it filled with other values.
    @Test func framesStartWithZeroedLocalsAndTheirConstants() throws {
        let counts = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33, 70]
        var wat = "(module\n"
        wat += "(func $dirty (local \(String(repeating: "i64 ", count: 160)))"
        for i in 0..<160 { wat += " (local.set \(i) (i64.const -1))" }
        wat += ")\n"
        var expected: [Int64] = []
        for (k, n) in counts.enumerated() {
            // n locals and n distinct constants: p + sum(local_i + c_i).
            var body = "(local.get 0)"
            var sum: Int64 = 5
            for i in 0..<n {
                let c = Int64(1000 * i + 7 + k)
                body = "(i64.add \(body) (i64.add (local.get \(i + 1)) (i64.const \(c))))"
                sum += c
            }
            expected.append(sum)
            wat += "(func $f\(k) (param i64) (result i64) \(n > 0 ? "(local \(String(repeating: "i64 ", count: n)))" : "") \(body))\n"
            wat += "(func (export \"run\(k)\") (result i64) (call $dirty) (call $f\(k) (i64.const 5)))\n"
        }
        wat += ")"
        let engine = Engine(configuration: { var c = EngineConfiguration(); c.tier = .interpreter; return c }())
        let (_, instance) = try instantiate(wat, engine: engine)
        for k in counts.indices {
            #expect(try instance.function("run\(k)")!.callI64() == expected[k], "\(counts[k]) locals")
        }
    }

    @Test func arithmeticAndCalls() throws {
        let (_, instance) = try instantiate("""
            (module
              (func $fib (export "fib") (param i32) (result i32)
                (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                  (then (local.get 0))
                  (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                                 (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
              (func (export "fac") (param i64) (result i64)
                (local i64)
                (local.set 1 (i64.const 1))
                (block (loop
                  (br_if 1 (i64.eqz (local.get 0)))
                  (local.set 1 (i64.mul (local.get 1) (local.get 0)))
                  (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                  (br 0)))
                (local.get 1)))
            """)
        #expect(try instance.function("fib")!.callI32(20) == 6765)
        #expect(try instance.function("fac")!.callI64(20) == 2_432_902_008_176_640_000)
    }

    @Test func multiValueBlocksAndBranches() throws {
        let (_, instance) = try instantiate("""
            (module
              (func (export "swap") (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
              (func (export "pick") (param i32) (result i32 i64)
                (block $b (result i32 i64)
                  (i32.const 7) (i64.const 8)
                  (br_if $b (local.get 0))
                  (drop) (drop) (i32.const 1) (i64.const 2)))
              (func (export "table") (param i32) (result i32)
                (block $a (block $b (block $c
                  (br_table $a $b $c (local.get 0)))
                  (return (i32.const 30)))
                  (return (i32.const 20)))
                (i32.const 10)))
            """)
        #expect(try instance.function("swap")!.call([.i32(1), .i32(2)]) == [.i32(2), .i32(1)])
        #expect(try instance.function("pick")!.call([.i32(1)]) == [.i32(7), .i64(8)])
        #expect(try instance.function("pick")!.call([.i32(0)]) == [.i32(1), .i64(2)])
        let table = instance.function("table")!
        #expect(try table.callI32(0) == 10)
        #expect(try table.callI32(1) == 20)
        #expect(try table.callI32(2) == 30)
        #expect(try table.callI32(99) == 30)
    }

    /// `local.get x` values still on the stack must keep the old value when x is set.
    @Test func localReferencesSurviveLaterSets() throws {
        let (_, instance) = try instantiate("""
            (module
              (func (export "f") (param i32) (result i32)
                (local.get 0)
                (local.set 0 (i32.add (local.get 0) (i32.const 100)))
                (local.get 0)
                (i32.sub))
              (func (export "tee") (param i32) (result i32)
                (local.get 0)
                (local.tee 0 (i32.const 5))
                (i32.add (local.get 0))
                (i32.sub))
              (func (export "rot") (param i32 i32) (result i32 i32)
                (local.get 1) (local.get 0)
                (local.set 1) (local.set 0)
                (local.get 0) (local.get 1)))
            """)
        #expect(try instance.function("f")!.callI32(1) == -100)
        #expect(try instance.function("tee")!.callI32(3) == -7)
        #expect(try instance.function("rot")!.call([.i32(1), .i32(2)]) == [.i32(2), .i32(1)])
    }

    /// A result written straight into slot 0 must not disturb locals a conditional return
    /// still needs, nor read its operands after writing.
    @Test func returnsWriteResultsSafely() throws {
        let (_, instance) = try instantiate("""
            (module
              (func (export "sub") (param i32 i32) (result i32) (i32.sub (local.get 1) (local.get 0)))
              (func (export "early") (param i32) (result i32)
                (i32.add (local.get 0) (i32.const 100))
                (br_if 0 (i32.eqz (local.get 0)))
                (drop)
                (i32.mul (local.get 0) (i32.const 3)))
              (func (export "explicit") (param i32) (result i32)
                (if (local.get 0) (then (return (i32.add (local.get 0) (local.get 0)))))
                (i32.const -1))
              (func (export "pair") (param i32 i32) (result i32 i32)
                (i32.add (local.get 0) (local.get 1)) (i32.sub (local.get 0) (local.get 1))))
            """)
        #expect(try instance.function("sub")!.callI32(3, 10) == 7)
        #expect(try instance.function("early")!.callI32(0) == 100)
        #expect(try instance.function("early")!.callI32(5) == 15)
        #expect(try instance.function("explicit")!.callI32(21) == 42)
        #expect(try instance.function("explicit")!.callI32(0) == -1)
        #expect(try instance.function("pair")!.call([.i32(5), .i32(3)]) == [.i32(8), .i32(2)])
    }

    /// Scalar globals move their 8 bytes, v128 globals all 16 (`global_get_v128`), each type
    /// after the shadow-stack-pointer pattern (`i32.sub` of a constant, then `global.set`).
    @Test func globalsKeepTheirValues() throws {
        let module = try Module(engine: Engine(configuration: { var c = EngineConfiguration(); c.tier = .interpreter; return c }()),
                                bytes: try wat2wasm("""
            (module
              (global $sp (mut i32) (i32.const 4096))
              (global $l (mut i64) (i64.const 0))
              (global $f (mut f32) (f32.const 0))
              (global $d (mut f64) (f64.const 0))
              (global $v (mut v128) (v128.const i64x2 0 0))
              (func (export "sp") (param i32) (result i32)
                (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
                (global.set $sp (i32.add (global.get $sp) (local.get 0)))
                (global.get $sp))
              (func (export "l") (param i64) (result i64) (global.set $l (local.get 0)) (global.get $l))
              (func (export "f") (param f32) (result f32) (global.set $f (local.get 0)) (global.get $f))
              (func (export "d") (param f64) (result f64) (global.set $d (local.get 0)) (global.get $d))
              (func (export "v") (param i64 i64) (result i64 i64) (local v128)
                (global.set $v (i64x2.replace_lane 1 (i64x2.splat (local.get 0)) (local.get 1)))
                (local.set 2 (global.get $v))
                (i64x2.extract_lane 0 (local.get 2)) (i64x2.extract_lane 1 (local.get 2))))
            """))
        let instance = try Store(engine: module.engine).instantiate(module)
        #expect(try instance.function("sp")!.call([.i32(3)]) == [.i32(4083)])
        #expect(try instance.function("sp")!.call([.i32(0)]) == [.i32(4067)])
        #expect(try instance.function("l")!.call([.i64(-2)]) == [.i64(-2)])
        #expect(try instance.function("f")!.call([.f32(-1.5)]) == [.f32(-1.5)])
        #expect(try instance.function("d")!.call([.f64(6.25e300)]) == [.f64(6.25e300)])
        #expect(try instance.function("v")!.call([.i64(-7), .i64(0x0123_4567_89AB_CDEF)]) == [.i64(-7), .i64(0x0123_4567_89AB_CDEF)])
        let words = opcodeWords(module, 4)
        #expect(words.contains(handlerWord(Opcode.global_set_v128)) && words.contains(handlerWord(Opcode.global_get_v128)))
        #expect(!opcodeWords(module, 1).contains(handlerWord(Opcode.global_set_v128)))
    }

    /// `x + 0` and `x - 0` emit nothing (the value stays where it is, like a `local.get`), and a
    /// single result goes straight to slot 0 (no move when it is there already), also when the
    /// local it reads is overwritten before the value is used.
    @Test func identitiesAndSingleResultsNeedNoMoves() throws {
        let module = try Module(engine: Engine(configuration: { var c = EngineConfiguration(); c.tier = .interpreter; return c }()),
                                bytes: try wat2wasm("""
            (module
              (func (export "param") (param i32) (result i32) (i32.add (local.get 0) (i32.const 0)))
              (func (export "local") (param i32) (result i32) (local i32)
                (local.set 1 (i32.mul (local.get 0) (i32.const 3)))
                (i32.sub (local.get 1) (i32.const 0)))
              (func (export "overwritten") (param i32) (result i32)
                (i32.add (local.get 0) (i32.const 0))
                (local.set 0 (i32.const 9))
                (i32.add (local.get 0)))
              (func (export "early") (param i32 i32) (result i32)
                (if (local.get 0) (then (return (local.get 1))))
                (i32.add (local.get 1) (i32.const 0)) (return))
              (func (export "const") (result i32) (i32.const 5))
              (func (export "v") (param v128) (result v128) (local v128) (local.set 1 (local.get 0)) (local.get 1)))
            """))
        let instance = try Store(engine: module.engine).instantiate(module)
        #expect(try instance.function("param")!.call([.i32(-4)]) == [.i32(-4)])
        #expect(try instance.function("local")!.call([.i32(7)]) == [.i32(21)])
        #expect(try instance.function("overwritten")!.call([.i32(4)]) == [.i32(13)])
        #expect(try instance.function("early")!.call([.i32(1), .i32(6)]) == [.i32(6)])
        #expect(try instance.function("early")!.call([.i32(0), .i32(8)]) == [.i32(8)])
        #expect(try instance.function("const")!.call([]) == [.i32(5)])
        let v = V128(lo: 0x0123_4567_89AB_CDEF, hi: 0xFEDC_BA98_7654_3210)
        #expect(try instance.function("v")!.call([.v128(v)]) == [.v128(v)])
        // `param`: only the return; `local`: the multiply into local 1, its move to slot 0, the return.
        #expect(opcodeWords(module, 0) == [handlerWord(Opcode.return)])
        #expect(!opcodeWords(module, 1).contains(handlerWord(Opcode.i32_add_imm)))
        #expect(opcodeWords(module, 1).count == 3)
        #expect(!opcodeWords(module, 3).contains(handlerWord(Opcode.i32_add_imm)))
    }

    @Test func floatsAreBitExact() throws {
        let (_, instance) = try instantiate("""
            (module
              (func (export "neg") (param f32) (result f32) (f32.neg (local.get 0)))
              (func (export "copysign") (param f64 f64) (result f64) (f64.copysign (local.get 0) (local.get 1)))
              (func (export "min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
              (func (export "nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
              (func (export "bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0))))
            """)
        let payloadNaN = Float(bitPattern: 0x7FA0_0001)  // signalling NaN with payload
        let negated = try instance.function("neg")!.call([.f32(payloadNaN)])
        #expect(negated == [.f32(Float(bitPattern: 0xFFA0_0001))])
        #expect(try instance.function("bits")!.call([.f32(payloadNaN)]) == [.i32(0x7FA0_0001)])
        #expect(try instance.function("copysign")!.call([.f64(2.5), .f64(-0.0)]) == [.f64(-2.5)])
        #expect(try instance.function("min")!.call([.f32(0.0), .f32(-0.0)]) == [.f32(-0.0)])
        #expect(try instance.function("nearest")!.call([.f64(2.5)]) == [.f64(2.0)])
        #expect(try instance.function("nearest")!.call([.f64(-0.5)]) == [.f64(-0.0)])
    }

    @Test func trapsCarryKindAndBacktrace() throws {
        let bytes = try wat2wasm("""
            (module
              (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
              (func $outer (export "run") (param i32) (result i32) (call $inner (local.get 0))))
            """, options: EncodeOptions(nameSection: true))
        let engine = Engine()
        let store = Store(engine: engine)
        let instance = try store.instantiate(try Module(engine: engine, bytes: bytes))
        let error = thrownError { _ = try instance.function("run")!.call([.i32(0)]) }
        let trap = try #require(error as? Trap)
        #expect(trap.kind == .integerDivideByZero)
        #expect(trap.message == "integer divide by zero")
        #expect(trap.backtrace.map(\.functionIndex) == [0, 1])
        #expect(trap.backtrace.map(\.name) == ["inner", "outer"])
        #expect(trap.backtrace.allSatisfy { $0.offset != nil })
        // The trapping instruction's offset points at i32.div_s (0x6d) in the binary.
        #expect(bytes[trap.backtrace[0].offset!] == 0x6D)
        // The store is usable after a trap.
        #expect(try instance.function("run")!.callI32(1) == 1)
    }

    @Test func deepRecursionIsExhaustionNotACrash() throws {
        let (_, instance) = try instantiate("""
            (module (func $f (export "f") (param i64) (result i64)
              (i64.add (call $f (i64.add (local.get 0) (i64.const 1))) (i64.const 1))))
            """)
        let trap = try #require(thrownError { _ = try instance.function("f")!.call([.i64(0)]) } as? Trap)
        #expect(trap.kind == .callStackExhausted)
    }

    @Test func hugeFramesExhaustTheStack() throws {
        var config = EngineConfiguration()
        config.stackSlots = 4096
        let (_, instance) = try instantiate("""
            (module (func (export "f") (local i64 i64 i64 i64) (local \(String(repeating: "i64 ", count: 5000)))))
            """, engine: Engine(configuration: config))
        let trap = try #require(thrownError { _ = try instance.function("f")!.call([]) } as? Trap)
        #expect(trap.kind == .callStackExhausted)
    }

    @Test func interruptFromAnotherThread() throws {
        let (store, instance) = try instantiate("""
            (module (func (export "spin") (loop (br 0))))
            """)
        let handle = store.interruptHandle
        let trap = try #require(trapWhenInterrupted(handle) { _ = try instance.function("spin")!.call([]) })
        #expect(trap.kind == .interrupted)
        #expect(trap.message == "interrupted")
    }

    /// Interpreted calls see an interrupt through the call limit (`ExecState.callLimit`, 0 while
    /// one is pending), in the same compare as the value stack's end: recursion without loops
    /// stops, a pending interrupt stops the next call only, and once it is reported the limit
    /// is back (deep recursion is "call stack exhausted", calls run), twice over. Without
    /// tiering, loops read the same limit at their back edges (nothing is counted there).
    @Test func interruptStopsInterpretedRecursion() throws {
        var c = EngineConfiguration()
        c.tier = .interpreter
        let (store, instance) = try instantiate("""
            (module
              (func $fib (export "fib") (param i64) (result i64)
                (if (result i64) (i64.lt_u (local.get 0) (i64.const 2)) (then (local.get 0))
                  (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                                 (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
              (func $deep (export "deep") (param i32) (result i32)
                (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
              (func (export "spin") (loop (br 0)))
              (func (export "count") (param i32)
                (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))
            """, engine: Engine(configuration: c))
        let fib = instance.function("fib")!, deep = instance.function("deep")!
        let st = store.execState()
        let stackEnd = UInt(bitPattern: st.pointee.stackEnd)
        #expect(st.pointee.callLimit == stackEnd)
        for _ in 0..<2 {
            let t = try #require(trapWhenInterrupted(store.interruptHandle) { _ = try fib.call([.i64(90)]) })  // years, uninterrupted
            #expect(t.kind == .interrupted)
            #expect(try fib.call([.i64(20)]) == [.i64(6765)])
            #expect((thrownError { _ = try deep.call([.i32(0)]) } as? Trap)?.kind == .callStackExhausted)
            #expect(trapWhenInterrupted(store.interruptHandle) { _ = try instance.function("spin")!.call([]) }?.kind == .interrupted)
        }
        // Back edges store nothing without tiering: the budget is where the last poll left it.
        #expect(st.pointee.countsBackEdges == false)
        let budget = st.pointee.backEdgeBudget
        _ = try instance.function("count")!.call([.i32(1000)])
        #expect(st.pointee.backEdgeBudget == budget)
        // Reported: the fast path is open again (the slow path would give the same results).
        #expect(st.pointee.callLimit == stackEnd)
        store.interrupt()
        #expect(st.pointee.callLimit == 0)
        #expect((thrownError { _ = try fib.call([.i64(3)]) } as? Trap)?.kind == .interrupted)
        #expect(st.pointee.callLimit == stackEnd)
        #expect(try fib.call([.i64(10)]) == [.i64(55)])
    }

    @Test func hotnessCountsCallsAndBackEdges() throws {
        let m = try module("""
            (module
              (func $leaf)
              (func (export "loop") (param i32)
                (loop (call $leaf)
                  (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))
            """)
        let store = Store(engine: m.engine)
        let instance = try store.instantiate(m)
        _ = try instance.function("loop")!.call([.i32(10)])
        let c = m.engine.configuration
        #expect((try m.interpreterRecord(0).get()).pointee.hotness.count == Int64(10 * c.callWeight))                   // $leaf: 10 calls
        // Back edges are charged in batches of `backEdgePeriod`, the first one at the first back
        // edge of a store: 9 back edges are one batch.
        #expect((try m.interpreterRecord(1).get()).pointee.hotness.count == Int64(1 * c.callWeight + backEdgePeriod * c.loopWeight))
        // 130 more: batches at back edges 65 and 129 of the store's count (139 in all).
        _ = try instance.function("loop")!.call([.i32(131)])
        #expect((try m.interpreterRecord(1).get()).pointee.hotness.count == Int64(2 * c.callWeight + 3 * backEdgePeriod * c.loopWeight))
    }

    /// Only tiered mode tiers up, so only there do calls count: in interpreter mode the state's
    /// call weight is 0 and a call leaves the callee's hotness alone (the call's fast path skips
    /// the count), while the calls themselves, direct and through a table, still run.
    @Test func interpreterModeCallsCountNothing() throws {
        let wat = """
            (module
              (type $t (func (param i32) (result i32)))
              (table funcref (elem $leaf))
              (func $leaf (type $t) (i32.add (local.get 0) (i32.const 1)))
              (func (export "loop") (param i32) (result i32) (local i32)
                (loop
                  (local.set 1 (call $leaf (local.get 1)))
                  (local.set 1 (call_indirect (type $t) (local.get 1) (i32.const 0)))
                  (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get 1)))
            """
        for tier in [Tier.interpreter, .tiered] {
            var c = EngineConfiguration()
            c.tier = tier
            c.tierUpThreshold = 1 << 40  // tiered: counted, never reached
            let engine = Engine(configuration: c)
            let m = try Module(engine: engine, bytes: try wat2wasm(wat))
            let store = Store(engine: engine)
            let instance = try store.instantiate(m)
            #expect(store.execState().pointee.callWeight == (tier == .tiered ? Int64(c.callWeight) : 0))
            #expect(try instance.function("loop")!.callI32(10) == 20)
            let leafCount = (try m.interpreterRecord(0).get()).pointee.hotness.count
            #expect(leafCount == (tier == .tiered ? Int64(20 * c.callWeight) : 0), "\(tier)")
        }
    }

    /// A `br_table` whose targets are all forward is the plain form (no back-edge count); one
    /// with a loop header among its targets is `br_table_back`, whose backward jumps count as
    /// back edges: they charge hotness and see interrupts. (Each table has more than
    /// `Translator.brTableBranchLimit` entries going elsewhere than its default, so it stays a
    /// table; `smallBrTablesBecomeBranches` covers the smaller ones.)
    @Test func brTableBackEdgesCount() throws {
        #expect(Translator.brTableBranchLimit < 4)
        let m = try module("""
            (module
              (func (export "pick") (param i32) (result i32)
                (block (block (block (block (block (br_table 0 1 2 3 4 (local.get 0)))
                  (return (i32.const 10))) (return (i32.const 11))) (return (i32.const 12))) (return (i32.const 13)))
                (i32.const 14))
              (func (export "count") (param i32) (result i32) (local i32)
                (block $out
                  (loop $top
                    (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                    (br_table $top $out $out $out $out $top (i32.ge_u (local.get 1) (local.get 0)))))
                (local.get 1))
              (func (export "spin") (block $x (loop $top (br_table $top $x $x $x $x $top (i32.const 0))))))
            """)
        let store = Store(engine: m.engine)
        let instance = try store.instantiate(m)
        for (x, r): (Int32, Int32) in [(0, 10), (1, 11), (2, 12), (3, 13), (4, 14), (5, 14), (-1, 14)] {
            #expect(try instance.function("pick")!.callI32(x) == r)
        }
        #expect(operationWords(m, 0).contains(handlerWord(Opcode.br_table)))
        #expect(!operationWords(m, 0).contains(handlerWord(Opcode.br_table_back)))
        #expect(operationWords(m, 1).contains(handlerWord(Opcode.br_table_back)))
        #expect(!operationWords(m, 1).contains(handlerWord(Opcode.br_table)))

        #expect(try instance.function("count")!.callI32(200) == 200)
        // 199 backward jumps: the first batch at the store's first back edge, then at 65, 129, 193.
        let c = m.engine.configuration
        #expect((try m.interpreterRecord(1).get()).pointee.hotness.count == Int64(c.callWeight + 4 * backEdgePeriod * c.loopWeight))

        let trap = try #require(trapWhenInterrupted(store.interruptHandle) { _ = try instance.function("spin")!.call([]) })
        #expect(trap.kind == .interrupted)
    }

    /// A `br_table` with at most `Translator.brTableBranchLimit` entries going elsewhere than its
    /// default is translated into compare-and-branch instructions: the same results as the
    /// baseline tier (which compiles the table from the Wasm) for every index, including past
    /// the table and negative ones, with block results moved into place, a function-level
    /// target, loop targets whose backward jumps still count and see interrupts, and an index
    /// handed over in the integer accumulator.
    @Test func smallBrTablesBecomeBranches() throws {
        let wat = """
            (module
              (func (export "pick") (param i32) (result i32)
                (block (block (block (br_table 0 1 2 (local.get 0))) (return (i32.const 10))) (return (i32.const 11)))
                (i32.const 12))
              (func (export "holes") (param i32) (result i32)
                ;; Entries that go where the default goes need no compare: two cases here.
                (block (block (block (br_table 2 0 2 1 2 2 (i32.and (local.get 0) (i32.const 7))))
                  (return (i32.const 20))) (return (i32.const 21)))
                (i32.const 22))
              (func (export "values") (param i32) (result i32 i64)
                ;; Each label takes two values, constants until the branch: moved into place.
                (block $a (result i32 i64)
                  (block $b (result i32 i64)
                    (i32.const 7) (i64.const 8)
                    (br_table $a $b $a (local.get 0)))
                  (i64.add (i64.const 100))
                  (return))
                (i64.add (i64.const 200)))
              (func (export "ret") (param i32) (result i32)
                ;; Entry 1 returns from the function.
                (i32.const 5)
                (block (result i32) (i32.const 6) (br_table 0 1 0 (local.get 0)))
                (i32.add))
              (func (export "count") (param i32) (result i32) (local i32)
                (block $out
                  (loop $top
                    (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                    (br_table $top $out (i32.ge_u (local.get 1) (local.get 0)))))
                (local.get 1))
              (func (export "spin") (loop $top (br_table $top $top (i32.const 0)))))
            """
        // Tiered mode, which counts hotness, with a threshold no call here reaches: every
        // function stays in the interpreter.
        var configuration = EngineConfiguration()
        configuration.tierUpThreshold = 1 << 40
        let interpreted = try Module(engine: Engine(configuration: configuration), bytes: try wat2wasm(wat))
        let compiled = try module(wat, tier: .baseline)
        let store = Store(engine: interpreted.engine), compiledStore = Store(engine: compiled.engine)
        let instance = try store.instantiate(interpreted), reference = try compiledStore.instantiate(compiled)
        for i in 0..<6 {
            #expect(!operationWords(interpreted, i).isEmpty)
            #expect(!operationWords(interpreted, i).contains(handlerWord(Opcode.br_table)))
            #expect(!operationWords(interpreted, i).contains(handlerWord(Opcode.br_table_back)))
        }
        for name in ["pick", "holes", "values", "ret"] {
            for x: Int32 in [0, 1, 2, 3, 4, 5, 6, 7, 8, 99, -1, Int32.min] {
                let got = try instance.function(name)!.call([.i32(x)])
                #expect(got == (try reference.function(name)!.call([.i32(x)])), "\(name)(\(x))")
            }
        }
        #expect(try instance.function("pick")!.callI32(1) == 11)
        #expect(try instance.function("holes")!.callI32(1) == 20)
        #expect(try instance.function("holes")!.callI32(3) == 21)
        #expect(try instance.function("values")!.call([.i32(0)]) == [.i32(7), .i64(208)])
        #expect(try instance.function("values")!.call([.i32(1)]) == [.i32(7), .i64(108)])
        #expect(try instance.function("ret")!.callI32(1) == 6)
        #expect(try instance.function("ret")!.callI32(2) == 11)

        #expect(try instance.function("count")!.callI32(200) == 200)
        // 199 backward jumps, counted as `br_table_back`'s are (brTableBackEdgesCount).
        let c = interpreted.engine.configuration
        #expect((try interpreted.interpreterRecord(4).get()).pointee.hotness.count == Int64(c.callWeight + 4 * backEdgePeriod * c.loopWeight))

        let trap = try #require(trapWhenInterrupted(store.interruptHandle) { _ = try instance.function("spin")!.call([]) })
        #expect(trap.kind == .interrupted)
    }

    @Test func memoryGrowAndHostAccess() throws {
        let (_, instance) = try instantiate("""
            (module (memory (export "mem") 1 3)
              (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
              (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
              (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))
            """)
        let mem = try #require(instance.memory("mem"))
        #expect(mem.pages == 1)
        #expect(try instance.function("grow")!.callI32(1) == 1)
        #expect(mem.pages == 2)
        #expect(try instance.function("grow")!.callI32(2) == -1)
        _ = try instance.function("store")!.call([.i32(70000), .i32(0x0403_0201)])
        #expect(mem.read(offset: 70000, count: 4) == [1, 2, 3, 4])
        #expect(mem.write(offset: 8, bytes: [9, 0, 0, 0]))
        #expect(try instance.function("load")!.callI32(8) == 9)
        let trap = try #require(thrownError { _ = try instance.function("load")!.call([.i32(2 * 65536 - 2)]) } as? Trap)
        #expect(trap.kind == .memoryOutOfBounds)
    }

    @Test func callIndirectChecksSignatures() throws {
        let (_, instance) = try instantiate("""
            (module
              (type $i (func (result i32)))
              (table 3 funcref)
              (elem (i32.const 0) $one $two)
              (func $one (result i32) (i32.const 1))
              (func $two (param i32) (result i32) (local.get 0))
              (func (export "call") (param i32) (result i32) (call_indirect (type $i) (local.get 0))))
            """)
        let call = instance.function("call")!
        #expect(try call.callI32(0) == 1)
        #expect((thrownError { _ = try call.callI32(1) } as? Trap)?.kind == .indirectCallTypeMismatch)
        #expect((thrownError { _ = try call.callI32(2) } as? Trap)?.kind == .uninitializedElement)
        #expect((thrownError { _ = try call.callI32(3) } as? Trap)?.kind == .undefinedElement)
    }

    static let inlineCacheWat = """
        (module
          (type $ii (func (param i32) (result i32)))
          (global $k (mut i32) (i32.const 0))
          (table $t 8 funcref)
          ;; Slots 0-2 are the call's targets; 3 has another type, 4 stays null; 5-7 keep the
          ;; originals for `put`.
          (elem (table $t) (i32.const 0) func $add $times $neg $other)
          (elem (table $t) (i32.const 5) func $add $times $neg)
          (func $add (type $ii) (i32.add (i32.add (local.get 0) (i32.const 1)) (global.get $k)))
          (func $times (type $ii) (i32.mul (local.get 0) (i32.const 2)))
          (func $neg (type $ii) (i32.sub (i32.const 0) (local.get 0)))
          (func $other (result i32) (i32.const 99))
          (func (export "setk") (param i32) (global.set $k (local.get 0)))
          (func (export "put") (param i32 i32) (table.set $t (local.get 0) (table.get $t (local.get 1))))
          (func (export "call") (param i32 i32) (result i32)
            (call_indirect $t (type $ii) (local.get 0) (local.get 1)))
          (func (export "loop") (param i32) (result i32) (local i32 i32)
            ;; Calls slots 0, 1, 2 in runs of four, n calls: the cache hits and misses.
            (loop $top
              (local.set 2 (call_indirect $t (type $ii) (local.get 2) (i32.rem_u (i32.shr_u (local.get 1) (i32.const 2)) (i32.const 3))))
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br_if $top (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 2)))
        """

    /// `call_indirect`'s inline cache (`cachedIndirectCallee`): the site's cache word names the
    /// last callee (the same after a hit, another after a miss, back after a miss back); a table
    /// entry replaced under a cached site, with a function of the same type, another type or
    /// null, is called or trapped as the table now says; an index past the end still traps.
    @Test func callIndirectInlineCacheFollowsTheTable() throws {
        let module = try Module(engine: Engine(configuration: { var c = EngineConfiguration(); c.tier = .interpreter; return c }()),
                                bytes: try wat2wasm(Self.inlineCacheWat))
        let instance = try Store(engine: module.engine).instantiate(module)
        let call = instance.function("call")!, put = instance.function("put")!
        let callIndex = 6  // defined function 6: "call"
        let (record, offsets) = try #require(module.translation(callIndex))
        let site = try #require(offsets.first { record.pointee.code[Int($0.0)] == handlerWord(Opcode.call_indirect) })
        func cacheWord() -> UInt64 { record.pointee.code[Int(site.0) + 5] }
        #expect(cacheWord() == noCalleeYet)
        #expect(try call.call([.i32(5), .i32(0)]) == [.i32(6)])
        let add = cacheWord()
        #expect(add != noCalleeYet)
        #expect(try call.call([.i32(5), .i32(0)]) == [.i32(6)])
        #expect(cacheWord() == add)
        #expect(try call.call([.i32(5), .i32(1)]) == [.i32(10)])
        let times = cacheWord()
        #expect(times != add)
        #expect(try call.call([.i32(5), .i32(0)]) == [.i32(6)])
        #expect(cacheWord() == add)
        // Slot 0 replaced while the site caches its old function.
        _ = try put.call([.i32(0), .i32(6)])
        #expect(try call.call([.i32(5), .i32(0)]) == [.i32(10)])
        #expect(cacheWord() == times)
        _ = try put.call([.i32(0), .i32(3)])
        #expect((thrownError { _ = try call.call([.i32(5), .i32(0)]) } as? Trap)?.kind == .indirectCallTypeMismatch)
        _ = try put.call([.i32(0), .i32(4)])
        #expect((thrownError { _ = try call.call([.i32(5), .i32(0)]) } as? Trap)?.kind == .uninitializedElement)
        #expect((thrownError { _ = try call.call([.i32(5), .i32(8)]) } as? Trap)?.kind == .undefinedElement)
        #expect(cacheWord() == times)
        _ = try put.call([.i32(0), .i32(5)])
        #expect(try call.call([.i32(5), .i32(0)]) == [.i32(6)])
        // Runs of hits and misses in a loop: slot 0 adds 1, 1 doubles, 2 negates.
        var expected: Int32 = 0
        for j in 0..<100 {
            switch (j >> 2) % 3 {
            case 0: expected &+= 1
            case 1: expected &*= 2
            default: expected = 0 &- expected
            }
        }
        #expect(try instance.function("loop")!.callI32(100) == expected)
    }

    /// Instances of one module share its code and so each cache word; each call still runs the
    /// function of its own instance's table (`$add` reads its instance's global), on one thread
    /// alternating and on many at once (also under ThreadSanitizer, `Tests/run.sh`).
    @Test func concurrentInstancesShareOneInlineCache() throws {
        let module = try Module(engine: Engine(configuration: { var c = EngineConfiguration(); c.tier = .interpreter; return c }()),
                                bytes: try wat2wasm(Self.inlineCacheWat))
        let a = try Store(engine: module.engine).instantiate(module), b = try Store(engine: module.engine).instantiate(module)
        _ = try a.function("setk")!.call([.i32(100)])
        _ = try b.function("setk")!.call([.i32(200)])
        for _ in 0..<3 {
            #expect(try a.function("call")!.call([.i32(5), .i32(0)]) == [.i32(106)])
            #expect(try b.function("call")!.call([.i32(5), .i32(0)]) == [.i32(206)])
        }
        let results = Locked([Int32](repeating: 0, count: 8))
        DispatchQueue.concurrentPerform(iterations: 8) { k in
            let value: Int32? = try? {
                let instance = try Store(engine: module.engine).instantiate(module)
                _ = try instance.function("setk")!.call([.i32(Int32(k))])
                var sum: Int32 = 0
                for j in 0..<2000 { sum &+= try instance.function("call")!.callI32(Int32(j), Int32(j % 3)) }
                return sum
            }()
            results.withLock { $0[k] = value ?? -1 }
        }
        func target(_ k: Int, _ j: Int) -> Int32 {
            let x = Int32(j)
            switch j % 3 {
            case 0: return x + 1 + Int32(k)
            case 1: return x * 2
            default: return -x
            }
        }
        let expected: [Int32] = (0..<8).map { k in (0..<2000).reduce(Int32(0)) { $0 &+ target(k, $1) } }
        #expect(results.withLock { $0 } == expected)
    }

    /// Moves are typed: scalars move one word (`copy`, `select`), v128 values both
    /// (`copy_v128`, `select_v128`), wherever the translator moves a value: block results,
    /// branch values, locals, call arguments, and after control flow rejoins.
    @Test func movesKeepV128ValuesWhole() throws {
        let wat = """
            (module
              (func (export "blk") (param v128 i64) (result v128 i64)
                (block (result v128 i64) (local.get 0) (local.get 1)))
              (func (export "sel") (param v128 v128 i32) (result v128) (select (local.get 0) (local.get 1) (local.get 2)))
              (func (export "selI") (param i64 i64 i32) (result i64) (select (local.get 0) (local.get 1) (local.get 2)))
              (func (export "loopv") (param v128) (result v128) (local v128 i32)
                (local.set 1 (local.get 0))
                (block (loop
                  (local.set 1 (i32x4.add (local.get 1) (local.get 0)))
                  (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                  (br_if 0 (i32.lt_u (local.get 2) (i32.const 3)))))
                (local.get 1))
              (func (export "brv") (param v128 i32) (result v128)
                (block (result v128) (br_if 0 (local.get 0) (local.get 1)) (drop) (v128.const i64x2 7 8)))
              (func (export "mixed") (param i32 v128) (result v128 i32)
                (local.get 1) (local.get 0) (call $swap))
              (func $swap (param v128 i32) (result v128 i32) (local.get 0) (local.get 1))
              ;; No v128 until the middle of the body: types are tracked from the first one on.
              (func (export "late") (param i32 i64) (result v128 i64)
                (local.set 1 (i64.add (local.get 1) (i64.const 1)))
                (block (result v128 i64)
                  (v128.const i64x2 5 6) (local.get 1) (br_if 0 (local.get 0))
                  (drop) (drop) (v128.const i64x2 1 2) (i64.const 0))))
            """
        let (_, instance) = try instantiate(wat)
        let v = Value.v128(V128(lo: 0x1111_2222_3333_4444, hi: 0x5555_6666_7777_8888))
        let w = Value.v128(V128(lo: 0x0102_0304_0506_0708, hi: 0x090A_0B0C_0D0E_0F10))
        #expect(try instance.function("blk")!.call([v, .i64(-5)]) == [v, .i64(-5)])
        #expect(try instance.function("sel")!.call([v, w, .i32(1)]) == [v])
        #expect(try instance.function("sel")!.call([v, w, .i32(0)]) == [w])
        #expect(try instance.function("selI")!.call([.i64(-1), .i64(2), .i32(0)]) == [.i64(2)])
        // 4 x v in each 32-bit lane (wrapping)
        let lanes: [UInt32] = [0x3333_4444, 0x1111_2222, 0x7777_8888, 0x5555_6666]
        let times4 = lanes.map { $0 &* 4 }
        let expected = V128(lo: UInt64(times4[0]) | UInt64(times4[1]) << 32, hi: UInt64(times4[2]) | UInt64(times4[3]) << 32)
        #expect(try instance.function("loopv")!.call([v]) == [.v128(expected)])
        #expect(try instance.function("brv")!.call([v, .i32(1)]) == [v])
        #expect(try instance.function("brv")!.call([v, .i32(0)]) == [.v128(V128(lo: 7, hi: 8))])
        #expect(try instance.function("mixed")!.call([.i32(9), v]) == [v, .i32(9)])
        #expect(try instance.function("late")!.call([.i32(1), .i64(41)]) == [.v128(V128(lo: 5, hi: 6)), .i64(42)])
        #expect(try instance.function("late")!.call([.i32(0), .i64(41)]) == [.v128(V128(lo: 1, hi: 2)), .i64(0)])

        let m = try module(wat)
        func words(_ i: Int) -> [UInt64] { operationWords(m, i) }
        #expect(words(0).contains(handlerWord(Opcode.copy_v128)) && words(0).contains(handlerWord(Opcode.copy)))
        #expect(words(1).contains(handlerWord(Opcode.select_v128)) && !words(1).contains(handlerWord(Opcode.select)))
        #expect(words(2).contains(handlerWord(Opcode.select)) && !words(2).contains(handlerWord(Opcode.select_v128)))
        #expect(words(5).contains(handlerWord(Opcode.copy_v128)) && words(5).contains(handlerWord(Opcode.copy)))
        #expect(words(7).contains(handlerWord(Opcode.copy_v128)) && words(7).contains(handlerWord(Opcode.copy)))
    }

    /// The dispatch loop's placement (CStrataLayout.c): its section starts on a 64-byte boundary
    /// with the 48-byte anchor first, so the loop sits at the same offset from a cache line in
    /// every build.
    #if compiler(>=6.3)
    @Test func dispatchLoopPlacement() {
        var start: UInt = 0, end: UInt = 0, anchor: UInt = 0
        strata_dispatch_layout(&start, &end, &anchor)
        #expect(start % 64 == 0)
        #expect(anchor == start, "the linker placed the anchor after the dispatch loop")
        #expect(end > start + 48, "the dispatch loop is not in its section")
    }
    #endif
}
