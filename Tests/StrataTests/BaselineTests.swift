import Foundation
import Testing
import WAT
import CStrata
@testable import Strata

/// The compiled tiers (baseline and optimizing, each test runs in both): code they compile
/// gives the interpreter's answers, traps in every position come back as `Trap`s with Wasm
/// backtraces, and the engine stays usable afterwards.
@Suite struct BaselineTests {
    static let tiers: [Tier] = [.baseline, .optimizing]

    static func baselineEngine(threads: Int = 2, tier: Tier = .baseline, interpreterOnly: Set<Int> = []) -> Engine {
        var c = EngineConfiguration()
        c.tier = tier
        c.compileThreads = threads
        c.interpreterOnlyFunctions = interpreterOnly
        return Engine(configuration: c)
    }

    /// Instantiates `wat` in a compiled tier, checking every function got compiled (by that tier).
    func compiled(
        _ wat: String, tier: Tier = .baseline, linker: Linker? = nil, store: Store? = nil, allCompiled: Bool = true, interpreterOnly: Set<Int> = []
    ) throws -> (Store, Instance, Module) {
        let engine = store?.engine ?? Self.baselineEngine(tier: tier, interpreterOnly: interpreterOnly)
        let module = try Module(engine: engine, bytes: try wat2wasm(wat))
        if allCompiled { #expect(module.functionCount(in: tier) == module.definedFunctionCount) }
        let s = store ?? Store(engine: engine)
        return (s, try (linker ?? Linker()).instantiate(module, in: s), module)
    }

    static let arithmetic = """
        (module
          (memory 1)
          (global $g (mut i64) (i64.const 7))
          (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          (func (export "mix") (param i32 i64 f32 f64) (result f64)
            (local i32 i64)
            (local.set 4 (i32.rotl (local.get 0) (i32.const 5)))
            (local.set 5 (i64.mul (local.get 1) (i64.extend_i32_s (local.get 4))))
            (global.set $g (i64.add (global.get $g) (local.get 5)))
            (f64.add (f64.convert_i64_s (global.get $g))
                     (f64.mul (f64.promote_f32 (local.get 2)) (local.get 3))))
          (func (export "divs") (param i32 i32) (result i32 i32 i32 i32)
            (i32.div_s (local.get 0) (local.get 1)) (i32.div_u (local.get 0) (local.get 1))
            (i32.rem_s (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
          (func (export "shifts") (param i64 i64) (result i64)
            (i64.xor (i64.shl (local.get 0) (local.get 1))
                     (i64.xor (i64.shr_s (local.get 0) (local.get 1)) (i64.rotr (local.get 0) (i64.const 13)))))
          (func (export "bits") (param i32) (result i32)
            (i32.add (i32.clz (local.get 0)) (i32.add (i32.ctz (local.get 0)) (i32.mul (i32.popcnt (local.get 0)) (i32.const 100)))))
          (func (export "minmax") (param f32 f32) (result f32 f32 f32)
            (f32.min (local.get 0) (local.get 1)) (f32.max (local.get 0) (local.get 1))
            (f32.copysign (local.get 0) (local.get 1)))
          (func (export "round") (param f64) (result f64 f64 f64 f64 f64)
            (f64.ceil (local.get 0)) (f64.floor (local.get 0)) (f64.trunc (local.get 0)) (f64.nearest (local.get 0))
            (f64.neg (f64.abs (local.get 0))))
          (func (export "cmp") (param f64 f64) (result i32)
            (i32.add (i32.add (f64.eq (local.get 0) (local.get 1)) (i32.shl (f64.ne (local.get 0) (local.get 1)) (i32.const 1)))
                     (i32.add (i32.shl (f64.lt (local.get 0) (local.get 1)) (i32.const 2)) (i32.shl (f64.ge (local.get 0) (local.get 1)) (i32.const 3)))))
          (func (export "sum") (param i32) (result i64) (local i64)
            (block $done
              (loop $top
                (br_if $done (i32.eqz (local.get 0)))
                (i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (i64.extend_i32_u (local.get 0))))
                (local.set 1 (i64.add (local.get 1) (i64.load8_u (local.get 0))))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br $top)))
            (i64.add (local.get 1) (i64.load (i32.const 64))))
          (func (export "switch") (param i32) (result i32)
            (block $d (block $c (block $b (block $a
              (br_table $a $b $c $d (local.get 0)))
              (return (i32.const 10)))
              (return (i32.const 11)))
              (return (i32.const 12)))
            (i32.const 13))
          (func (export "sel") (param i32 i64 i64) (result i64)
            (select (local.get 1) (local.get 2) (local.get 0)))
          (func (export "trunc") (param f64) (result i32 i64)
            (i32.trunc_sat_f64_s (local.get 0)) (i64.trunc_f64_u (f64.abs (local.get 0))))
        )
        """

    @Test(arguments: BaselineTests.tiers) func compiledCodeGivesTheInterpretersAnswers(tier: Tier) throws {
        let interp = try instantiate(Self.arithmetic).1
        let (_, jit, _) = try compiled(Self.arithmetic, tier: tier)
        let cases: [(String, [Value])] = [
            ("fib", [.i32(20)]),
            ("mix", [.i32(-3), .i64(1 << 40), .f32(1.5), .f64(-2.25)]),
            ("divs", [.i32(-7), .i32(2)]), ("divs", [.i32(Int32.min), .i32(-1 + 2)]), ("divs", [.i32(7), .i32(-1)]),
            ("shifts", [.i64(0x1234_5678_9ABC_DEF0), .i64(67)]),
            ("bits", [.i32(0x00F0_0100)]), ("bits", [.i32(0)]),
            ("minmax", [.f32(-0.0), .f32(0.0)]), ("minmax", [.f32(.nan), .f32(1)]), ("minmax", [.f32(3), .f32(-2)]),
            ("round", [.f64(-2.5)]), ("round", [.f64(3.5)]), ("round", [.f64(.infinity)]),
            ("cmp", [.f64(1), .f64(2)]), ("cmp", [.f64(.nan), .f64(2)]), ("cmp", [.f64(2), .f64(2)]),
            ("sum", [.i32(1000)]),
            ("switch", [.i32(0)]), ("switch", [.i32(2)]), ("switch", [.i32(3)]), ("switch", [.i32(99)]),
            ("sel", [.i32(0), .i64(1), .i64(2)]), ("sel", [.i32(5), .i64(1), .i64(2)]),
            ("trunc", [.f64(-1e12)]), ("trunc", [.f64(12345.75)]),
        ]
        for (name, args) in cases {
            let want = try interp.function(name)!.call(args)
            let got = try jit.function(name)!.call(args)
            #expect("\(got)" == "\(want)", "\(name)\(args)")
        }
    }

    static let traps = """
        (module
          (type $v (func))
          (type $i (func (param i32) (result i32)))
          (import "host" "callback" (func $callback (param i32) (result i32)))
          (memory 1)
          (table 4 funcref)
          (elem (i32.const 0) $ok $leaf)
          (func $ok (type $v))
          (func $leaf (export "leaf") (param i32) (result i32)
            (i32.div_u (i32.const 1) (local.get 0)))
          (func $middle (export "middle") (param i32) (result i32)
            (i32.add (call $leaf (local.get 0)) (i32.const 1)))
          (func (export "outer") (param i32) (result i32)
            (i32.add (call $middle (local.get 0)) (i32.const 1)))
          (func (export "reenter") (param i32) (result i32)
            (call $callback (local.get 0)))
          (func (export "grow_then_touch") (param i32) (result i32)
            (drop (memory.grow (i32.const 1)))
            (i32.load (local.get 0)))
          (func $deep (export "deep") (param i32) (result i32)
            (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
          (func (export "indirect") (param i32)
            (call_indirect (type $v) (local.get 0)))
          (elem (i32.const 2) $leaf)
          (func (export "indirect_leaf") (param i32) (result i32)
            (i32.add (call_indirect (type $i) (local.get 0) (i32.const 2)) (i32.const 1)))
          (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
          (func (export "convert") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
          (func (export "unreachable") (unreachable))
          (func (export "copy") (memory.copy (i32.const 65530) (i32.const 0) (i32.const 100)))
          (func (export "spin") (loop $l (br $l)))
        )
        """

    func trapsInstance(_ tier: Tier) throws -> (Store, Instance) {
        let engine = Self.baselineEngine(tier: tier)
        let store = Store(engine: engine)
        let linker = Linker()
        var inner: Function?
        linker.defineFunction("host", "callback", store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in
            // host -> Wasm again: the inner call traps, the host sees it and passes it on.
            _ = try inner!.call([args[0]])
            return [.i32(0)]
        }
        let (_, instance, _) = try compiled(Self.traps, tier: tier, linker: linker, store: store)
        inner = instance.function("outer")
        return (store, instance)
    }

    func trap(_ body: () throws -> Void) -> Trap? { thrownError(body) as? Trap }

    @Test(arguments: BaselineTests.tiers) func trapsInNestedCallsCarryTheWasmBacktrace(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        let t = try #require(trap { _ = try instance.function("outer")!.call([.i32(0)]) })
        #expect(t.kind == .integerDivideByZero)
        #expect(t.backtrace.map(\.functionIndex) == [2, 3, 4], "\(t)")
        #expect(t.backtrace.allSatisfy { $0.offset != nil })
        // Still usable, with the same instance.
        #expect(try instance.function("outer")!.callI32(1) == 3)
    }

    /// `memory.copy` and `memory.fill` in compiled code check the ranges themselves and call
    /// `memmove` and `memset` (`X64MachineLayer.memoryCopyOrFill`): copies that overlap either
    /// way, copies and fills that end exactly at the memory's end or start there with nothing
    /// to do, and every way out of bounds (one byte past, a start past the end with nothing to
    /// do, sums that wrap 32 bits) give what the interpreter gives, and a trapped one writes
    /// nothing; a fill takes its value's low byte. Each tier runs them all in one instance, so
    /// the memory after all of them is compared too.
    @Test(arguments: BaselineTests.tiers) func memoryCopyAndFillCheckTheirRanges(tier: Tier) throws {
        let wat = """
            (module
              (memory (export "m") 1)
              (data (i32.const 0) "0123456789abcdefghijklmnopqrstuvwxyz")
              (data (i32.const 65520) "ABCDEFGHIJKLMNOP")
              (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
              (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))
            """
        let copies: [(UInt32, UInt32, UInt32)] = [
            (100, 0, 36), (2, 0, 20), (40, 45, 20), (65526, 0, 10), (0, 65526, 10), (65536, 0, 0), (0, 65536, 0),
            (65527, 0, 10), (0, 65527, 10), (65537, 0, 0), (0, 65537, 0), (0xFFFF_FFFF, 0, 2), (0, 0xFFFF_FFF0, 0x20),
            (10, 20, 0xFFFF_FFFF), (200, 65520, 16),
        ]
        let fills: [(UInt32, UInt32, UInt32)] = [
            (300, 0x1_41, 20), (65530, 0x42, 6), (65536, 0x43, 0), (65531, 0x44, 6), (65537, 0x45, 0), (0xFFFF_FFFF, 0x46, 2),
            (310, 0xFFFF_FF47, 5),
        ]
        func run(_ tier: Tier) throws -> [String] {
            let m = try module(wat, tier: tier)
            let instance = try Store(engine: m.engine).instantiate(m)
            var out: [String] = []
            for (name, d, s, n) in copies.map({ ("copy", $0.0, $0.1, $0.2) }) + fills.map({ ("fill", $0.0, $0.1, $0.2) }) {
                do {
                    _ = try instance.function(name)!.call([.i32(Int32(bitPattern: d)), .i32(Int32(bitPattern: s)), .i32(Int32(bitPattern: n))])
                    out.append("ok")
                } catch let t as Trap {
                    out.append("\(t.kind) at \(t.backtrace.first.map { "\($0.functionIndex)" } ?? "none")")
                }
            }
            let memory = try #require(instance.memory("m"))
            out.append("\(memory.read(offset: 0, count: 400))")
            out.append("\(memory.read(offset: 65400, count: 136))")
            return out
        }
        let expected = try run(.interpreter)
        #expect(expected.filter { $0 == "ok" }.count == 12)
        #expect(try run(tier) == expected)
    }

    /// libunwind finds the unwind information registered for each compiled function, and both
    /// trap unwinders (libunwind, frame pointers) give the same backtraces.
    @Test(arguments: BaselineTests.tiers) func unwindInformationIsRegistered(tier: Tier) throws {
        let module = try Module(engine: Self.baselineEngine(tier: tier), bytes: try wat2wasm(Self.traps))
        let code = try #require(module.compiled)
        for k in 0..<code.count {
            let r = code.ranges[k]
            var start: UInt = 0, end: UInt = 0
            #expect(strata_unwind_lookup(r.start + 5, &start, &end) == 1)
            // An optimized function with a direct entry has two procedures: its slot-buffer
            // wrapper, then the direct entry up to the end.
            #expect(start == r.start && (end == r.end || tier == .optimizing && end < r.end))
            #expect(strata_unwind_lookup(r.end - 1, &start, &end) == 1)
            #expect(end == r.end)
        }
        let (_, instance) = try trapsInstance(tier)
        var traces: [[String]] = []
        for unwinder in [STRATA_UNWIND_LIBUNWIND, STRATA_UNWIND_FRAME_POINTERS, STRATA_UNWIND_LIBUNWIND] {
            strata_set_trap_unwinder(unwinder)
            let t = try #require(trap { _ = try instance.function("outer")!.call([.i32(0)]) })
            traces.append(t.backtrace.map(\.description))
        }
        #expect(traces[0] == traces[1] && traces[1] == traces[2] && traces[0].count == 3, "\(traces)")
    }

    /// `fdeSize` counts what `write` lays out, for every set of saved registers: each FDE
    /// starts where the sizes before it say (and `fdeOffsets` says), its length field covers
    /// exactly that size, and its pc_begin, relative to the field, leads to its code.
    @Test func unwindEntrySizesMatchTheWrittenEntries() {
        let segments = (0..<32).map { UnwindInfo.Segment(start: 64 * $0, size: 64, saved: SavedRegisters(mask: UInt8($0))) }
        let total = UnwindInfo.byteCount(segments)
        let mapping = UnsafeMutableRawPointer.allocate(byteCount: 64 * 32 + total, alignment: 16)
        defer { mapping.deallocate() }
        let fdes = UnwindInfo.write(segments, base: mapping, at: 64 * 32)
        #expect(fdes == UnwindInfo.fdeOffsets(segments, at: 64 * 32))
        var expected = 64 * 32 + UnwindInfo.cie.count
        for (s, at) in zip(segments, fdes) {
            let size = UnwindInfo.fdeSize(s.saved)
            #expect(at == expected)
            #expect(size % 8 == 0 && size == UnwindInfo.padded([UInt8](repeating: 0, count: 17) + UnwindInfo.fdeInstructions(s.saved)).count)
            #expect(Int(mapping.load(fromByteOffset: at, as: UInt32.self)) + 4 == size)
            #expect(at + 8 + Int(mapping.loadUnaligned(fromByteOffset: at + 8, as: Int32.self)) == s.start)
            #expect(Int(mapping.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self)) == s.size)
            expected += size
        }
        #expect(expected == 64 * 32 + total)
    }

    @Test(arguments: BaselineTests.tiers) func trapThroughHostAndBackIntoWasm(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        let t = try #require(trap { _ = try instance.function("reenter")!.call([.i32(0)]) })
        #expect(t.kind == .integerDivideByZero, "\(t)")
        #expect(try instance.function("reenter")!.callI32(5) == 0)
    }

    @Test(arguments: BaselineTests.tiers) func trapRightAfterMemoryGrow(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        // The grown page is accessible, the one after it is not.
        #expect(try instance.function("grow_then_touch")!.callI32(65536 + 8) == 0)
        let t = try #require(trap { _ = try instance.function("grow_then_touch")!.call([.i32(4 * 65536)]) })
        #expect(t.kind == .memoryOutOfBounds)
        let t2 = try #require(trap { _ = try instance.function("grow_then_touch")!.call([.i32(-4)]) })
        #expect(t2.kind == .memoryOutOfBounds)
    }

    @Test(arguments: BaselineTests.tiers) func deepRecursionExhaustsTheStackWithATrap(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        for _ in 0..<3 {
            let t = try #require(trap { _ = try instance.function("deep")!.call([.i32(0)]) })
            #expect(t.kind == .callStackExhausted)
        }
        #expect(try instance.function("outer")!.callI32(1) == 3)
    }

    @Test(arguments: BaselineTests.tiers) func trapsInIndirectCalls(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        try instance.function("indirect")!.call([.i32(0)]).forEach { _ in }
        #expect(trap { _ = try instance.function("indirect")!.call([.i32(1)]) }?.kind == .indirectCallTypeMismatch)
        #expect(trap { _ = try instance.function("indirect")!.call([.i32(2)]) }?.kind == .indirectCallTypeMismatch)
        #expect(trap { _ = try instance.function("indirect")!.call([.i32(3)]) }?.kind == .uninitializedElement)
        #expect(trap { _ = try instance.function("indirect")!.call([.i32(4)]) }?.kind == .undefinedElement)
        // A trap inside the function an indirect call reached: both frames in the backtrace.
        let t = try #require(trap { _ = try instance.function("indirect_leaf")!.call([.i32(0)]) })
        #expect(t.kind == .integerDivideByZero)
        #expect(t.backtrace.map(\.functionIndex) == [2, 9], "\(t)")
        #expect(try instance.function("indirect_leaf")!.callI32(1) == 2)
    }

    /// On a thread with a small stack, deep recursion still ends in a trap.
    @Test(arguments: BaselineTests.tiers) func stackExhaustionOnASmallThread(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        // The store moves to the thread and back; the main thread waits meanwhile.
        let deep = instance.function("deep")!
        nonisolated(unsafe) var kind: TrapKind?
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            kind = (thrownError { _ = try deep.call([.i32(0)]) } as? Trap)?.kind
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        #expect(kind == .callStackExhausted)
    }

    @Test(arguments: BaselineTests.tiers) func everyTrapKind(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        #expect(trap { _ = try instance.function("overflow")!.call([]) }?.kind == .integerOverflow)
        #expect(trap { _ = try instance.function("convert")!.call([.f32(.nan)]) }?.kind == .invalidConversion)
        #expect(trap { _ = try instance.function("convert")!.call([.f32(3e9)]) }?.kind == .integerOverflow)
        #expect(trap { _ = try instance.function("unreachable")!.call([]) }?.kind == .unreachable)
        #expect(trap { _ = try instance.function("copy")!.call([]) }?.kind == .memoryOutOfBounds)
    }

    @Test(arguments: BaselineTests.tiers) func manyTrapsLeaveTheEngineUsable(tier: Tier) throws {
        let (_, instance) = try trapsInstance(tier)
        let leaf = instance.function("leaf")!
        for i in 0..<2000 {
            if i % 2 == 0 {
                #expect(trap { _ = try leaf.call([.i32(0)]) }?.kind == .integerDivideByZero)
            } else {
                #expect(try leaf.callI32(1) == 1)
            }
        }
    }

    /// A loop header's poll is a read of the VM context's interrupt page, which an interrupt
    /// makes unreadable: the fault is an "interrupted" trap in the looping function, the page
    /// is readable again once the trap is reported, and a second interrupt stops the loop again.
    @Test(arguments: BaselineTests.tiers) func interruptStopsALoop(tier: Tier) throws {
        let (store, instance) = try trapsInstance(tier)
        for _ in 0..<2 {
            let t = try #require(trapWhenInterrupted(store.interruptHandle) { _ = try instance.function("spin")!.call([]) })
            #expect(t.kind == .interrupted)
            let spin = try #require(instance.module.exports.first { $0.name == "spin" }?.index)
            #expect(t.backtrace.count == 1 && t.backtrace.first?.functionIndex == spin, "\(t.backtrace)")
            #expect(try instance.function("outer")!.callI32(1) == 3)
        }
    }

    /// Compiled code sees an interrupt through its stack-limit checks (the interrupt moves every
    /// VM context's limit out of reach): a pending interrupt stops the next call with
    /// "interrupted", also in an instance created after it; once reported, the real limit is
    /// back, so calls run and deep recursion is "call stack exhausted" again, not "interrupted".
    @Test(arguments: BaselineTests.tiers) func pendingInterruptStopsTheNextCallOnly(tier: Tier) throws {
        let (store, instance) = try trapsInstance(tier)
        store.interrupt()
        #expect(trap { _ = try instance.function("outer")!.call([.i32(1)]) }?.kind == .interrupted)
        #expect(try instance.function("outer")!.callI32(1) == 3)
        #expect(trap { _ = try instance.function("deep")!.call([.i32(0)]) }?.kind == .callStackExhausted)

        store.interrupt()
        let (_, second, _) = try compiled("(module (func (export \"f\") (result i32) (i32.const 7)))", tier: tier, store: store)
        #expect(trap { _ = try second.function("f")!.call([]) }?.kind == .interrupted)
        #expect(try second.function("f")!.callI32() == 7)
        #expect(try instance.function("outer")!.callI32(1) == 3)

        // The same from a thread with another stack limit (the limit follows the store's thread).
        store.interrupt()
        nonisolated(unsafe) var kinds: [TrapKind?] = []
        let done = DispatchSemaphore(value: 0)
        let outer = instance.function("outer")!, deep = instance.function("deep")!
        let thread = Thread {
            kinds.append((thrownError { _ = try outer.call([.i32(1)]) } as? Trap)?.kind)
            kinds.append((thrownError { _ = try deep.call([.i32(0)]) } as? Trap)?.kind)
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        #expect(kinds == [.interrupted, .callStackExhausted])
        #expect(try instance.function("outer")!.callI32(1) == 3)
    }

    /// Recursion without any loop runs for a long time too (exponential fib): the stack-limit
    /// check at every function's entry stops it.
    @Test(arguments: BaselineTests.tiers) func interruptStopsRecursionWithoutLoops(tier: Tier) throws {
        var c = EngineConfiguration()
        c.tier = tier
        let engine = Engine(configuration: c)
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (func $two (result i32) (i32.const 2))
              (func $fib (export "fib") (param i64) (result i64)
                (if (result i64) (i64.lt_u (local.get 0) (i64.extend_i32_u (call $two))) (then (local.get 0))
                  (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                                 (call $fib (i64.sub (local.get 0) (i64.const 2))))))))
            """))
        #expect(module.functionCount(in: tier) == 2)
        let store = Store(engine: engine)
        let fib = try store.instantiate(module).function("fib")!
        #expect(try fib.call([.i64(20)]) == [.i64(6765)])
        let t = try #require(trapWhenInterrupted(store.interruptHandle) { _ = try fib.call([.i64(90)]) })  // years, uninterrupted
        #expect(t.kind == .interrupted)
    }

    /// Functions kept in the interpreter (`interpreterOnlyFunctions`) between compiled ones:
    /// calls cross between the tiers both ways, and traps too.
    @Test(arguments: BaselineTests.tiers) func mixedTiers(tier: Tier) throws {
        let wat = """
            (module
              (func $twice (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
              (func $vec (export "vec") (param i32) (result i32)
                (i32x4.extract_lane 0 (i32x4.splat (call $twice (local.get 0)))))
              (func (export "outer") (param i32) (result i32)
                (i32.add (call $vec (local.get 0)) (i32.const 1)))
              (func (export "vec_trap") (param i32) (result i32)
                (i32x4.extract_lane 0 (i32x4.splat (i32.div_s (i32.const 1) (local.get 0)))))
              (func $leaf (param i32) (result i32) (i32.div_u (i32.const 7) (local.get 0)))
              (func $middle (param i32) (result i32)
                (i32x4.extract_lane 0 (i32x4.splat (call $leaf (local.get 0)))))
              (func (export "chain") (param i32) (result i32)
                (i32.add (call $middle (local.get 0)) (i32.const 1))))
            """
        let (_, instance, module) = try compiled(wat, tier: tier, allCompiled: false, interpreterOnly: [1, 3, 5])
        #expect(module.compiledFunctionCount == 4)
        #expect(try instance.function("outer")!.callI32(20) == 41)
        #expect(trap { _ = try instance.function("vec_trap")!.call([.i32(0)]) }?.kind == .integerDivideByZero)
        // compiled (chain) -> interpreted (middle) -> compiled (leaf) traps: every frame, in order.
        let t = try #require(trap { _ = try instance.function("chain")!.call([.i32(0)]) })
        #expect(t.kind == .integerDivideByZero)
        #expect(t.backtrace.map(\.functionIndex) == [4, 5, 6], "\(t)")
        #expect(t.backtrace.allSatisfy { $0.offset != nil }, "\(t)")
        #expect(try instance.function("chain")!.callI32(7) == 2)
    }

    /// An interpreted function (`$outer`) calls compiled code that grows memory and then calls
    /// an interpreted one (`$store`) that writes to the new page: the nested interpreter
    /// activation must see the grown memory, not the size its store's interpreter state cached
    /// before the compiled call. (Found on Yosys in tiered mode: its allocator, compiled, grew
    /// memory under an activation moved to compiled code by OSR, and an interpreted copy
    /// constructor then trapped writing to the new heap.)
    @Test(arguments: BaselineTests.tiers) func interpretedCodeCalledFromCompiledCodeSeesMemoryItGrew(tier: Tier) throws {
        let wat = """
            (module
              (memory 1)
              (func $store (param i32 i32)
                ;; A loop, so the optimizing tier does not inline it into its compiled caller.
                (loop $once (i32.store (local.get 0) (local.get 1)) (br_if $once (i32.const 0))))
              (func $grow (param i32) (result i32)
                (drop (memory.grow (i32.const 1)))
                (call $store (local.get 0) (i32.const 42))
                (i32.load (local.get 0)))
              (func (export "outer") (param i32) (result i32)
                (i32.add (call $grow (local.get 0)) (i32.load (local.get 0)))))
            """
        let (_, instance, _) = try compiled(wat, tier: tier, allCompiled: false, interpreterOnly: [0, 2])
        // 65536 + 8: on the page $grow adds.
        #expect(try instance.function("outer")!.callI32(65544) == 84)
        #expect(try instance.function("outer")!.callI32(2 * 65536 + 8) == 84)
    }

    @Test(arguments: BaselineTests.tiers) func compiledModulesLinkInOneStore(tier: Tier) throws {
        // A compiled module importing another compiled instance's function (the import path
        // through the callee's function reference).
        let engine = Self.baselineEngine(tier: tier)
        let store = Store(engine: engine)
        let (_, a, _) = try compiled("""
            (module (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
            """, tier: tier, store: store)
        let linker = Linker()
        linker.define(instance: a, as: "a")
        let (_, b, _) = try compiled("""
            (module (import "a" "f" (func $f (param i32) (result i32)))
              (func (export "g") (param i32) (result i32) (call $f (call $f (local.get 0)))))
            """, tier: tier, linker: linker, store: store)
        #expect(try b.function("g")!.callI32(1) == 3)
    }

    /// The process's own SIGSEGV handler still runs for faults outside Wasm code (checked in
    /// a child process: `strata self-test signals`).
    /// The `strata` executable built next to the test bundle.
    static func strataExecutable() -> URL? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("strata"), dir.deletingLastPathComponent().appendingPathComponent("strata")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        return nil
    }

    @Test func hostSignalHandlerStillFires() throws {
        let strata = try #require(Self.strataExecutable(), "strata executable not built next to the tests")
        let p = Process()
        p.executableURL = strata
        p.arguments = ["self-test", "signals"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("wasm trap caught: integer divide by zero"))
        #expect(text.contains("host SIGSEGV handler ran"))
    }
}
