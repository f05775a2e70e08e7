import CStrata
import Foundation
import Testing
import WAT
@testable import Strata

/// Tiered mode: hot functions are compiled in the background and swapped in while they run;
/// results never change, whatever runs where.
@Suite struct TieringTests {
    static func tieredEngine(
        threshold: Int = 1, optimizeThreshold: Int = Int(Int32.max), chaos: UInt64? = nil, log: (@Sendable (TierEvent) -> Void)? = nil,
        interpreterOnly: Set<Int> = []
    ) -> Engine {
        var c = EngineConfiguration()
        c.interpreterOnlyFunctions = interpreterOnly
        c.tier = .tiered
        c.tierUpThreshold = threshold
        c.optimizeThreshold = optimizeThreshold
        c.compileThreads = 1
        c.chaosSeed = chaos
        c.tierLog = log
        return Engine(configuration: c)
    }

    /// Waits until every request so far is handled and `done` holds.
    static func settle(_ engine: Engine, timeout: Double = 10, until done: (TieringStatistics) -> Bool = { _ in true }) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let s = engine.tieringStatistics
            if s.finished == s.requests, done(s) { return }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    static let program = """
        (module
          (memory 1)
          (func $square (export "square") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
          (func $sum (export "sum") (param i32) (result i32) (local i32)
            (block $done
              (loop $top
                (br_if $done (i32.eqz (local.get 0)))
                (local.set 1 (i32.add (local.get 1) (call $square (local.get 0))))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br $top)))
            (local.get 1))
          (func $cold (export "cold") (result i32) (i32.const 7))
          (func $vec (export "vec") (param i32) (result i32)
            (i32x4.extract_lane 1 (i32x4.splat (call $sum (local.get 0)))))
          (func (export "fails") (param i32) (result i32)
            (i32.add (call $sum (local.get 0)) (i32.div_u (i32.const 1) (i32.const 0))))
        )
        """

    static func expectedSum(_ n: Int32) -> Int32 {
        var s: Int32 = 0
        for k in stride(from: n, to: 0, by: -1) { s &+= k &* k }
        return s
    }

    /// `flushCodeCache(exiting: true)` drops queued on-stack-replacement compiles (never cached,
    /// useless once no Wasm runs) and still waits for the rest: OSR requests queued behind a
    /// long compile are cancelled, the tier-up in front of them finishes.
    @Test func anExitingFlushDropsQueuedOSRCompiles() throws {
        var body = ""
        for k in 0..<3000 { body += "(local.set 0 (i32.add (i32.mul (local.get 0) (i32.const \(k | 1))) (i32.const \(k))))\n" }
        let engine = Self.tieredEngine(threshold: Int(Int32.max))
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module
              (func (export "big") (param i32) (result i32) \(body) (local.get 0))
              (func (export "loop") (param i32) (result i32)
                (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))) (local.get 0)))
            """))
        engine.tierUp.request(module, index: 0, hotness: 1)  // the compile thread is busy with this
        for k in 0..<5 { engine.tierUp.request(module, index: 1, from: .baseline, to: .optimizing, hotness: Int64(k), osrLoop: 40 + Int32(k)) }
        engine.flushCodeCache(exiting: true)
        let s = engine.tieringStatistics
        #expect(s.cancelled == 5 && s.osrCompiles == 0, "\(s)")
        #expect(s.functionsCompiled[.baseline] == 1 && s.finished == s.requests && s.queueLength == 0, "\(s)")
        #expect(module.currentTier(function: 0) == .baseline)
    }

    @Test func hotFunctionsTierUpAndColdOnesDoNot() throws {
        let events = Locked<[TierEvent]>([])
        let engine = Self.tieredEngine(threshold: 100, log: { e in events.withLock { $0.append(e) } })
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        let instance = try Store(engine: engine).instantiate(module)
        #expect(module.compiledFunctionCount == 0)
        #expect(try instance.function("cold")!.callI32() == 7)
        for _ in 0..<20 { #expect(try instance.function("sum")!.callI32(50) == Self.expectedSum(50)) }
        Self.settle(engine) { ($0.functionsCompiled[.baseline] ?? 0) >= 2 }
        #expect(module.currentTier(function: 0) == .baseline)   // square: 50 calls per sum
        #expect(module.currentTier(function: 1) == .baseline)   // sum: its loop
        #expect(module.currentTier(function: 2) == .interpreter) // cold: called once
        // Same answers from the compiled code.
        #expect(try instance.function("sum")!.callI32(1000) == Self.expectedSum(1000))
        // Compilations; a `sum` activation running when its code arrived may also have moved
        // there (on-stack replacement).
        let all = events.withLock { $0 }
        let log = all.filter { if case .osr = $0.kind { false } else { true } }
        #expect(all.allSatisfy { if case .osr = $0.kind { $0.functionIndex == 1 } else { true } }, "\(all)")
        #expect(log.count == 2, "\(log)")
        #expect(log.allSatisfy { $0.kind == .compiled && $0.from == .interpreter && $0.to == .baseline && $0.codeBytes > 0 })
        #expect(Set(log.map(\.functionIndex)) == [0, 1])
        let s = engine.tieringStatistics
        #expect(s.requests == 2 && s.functionsCompiled[.baseline] == 2 && s.codeBytes > 0 && (s.compileSeconds[.baseline] ?? 0) > 0)
    }

    /// A function the configuration keeps in the interpreter (here the SIMD one) is reported as
    /// not compiled and stays; calls and traps cross between it and compiled code.
    @Test func interpreterOnlyFunctionsStayAndTrapsCrossTiers() throws {
        let events = Locked<[TierEvent]>([])
        let engine = Self.tieredEngine(threshold: 1, log: { e in events.withLock { $0.append(e) } }, interpreterOnly: [3])
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        let instance = try Store(engine: engine).instantiate(module)
        for _ in 0..<3 { #expect(try instance.function("vec")!.callI32(10) == Self.expectedSum(10)) }
        Self.settle(engine) { $0.notCompiled >= 1 && ($0.functionsCompiled[.baseline] ?? 0) >= 2 }
        #expect(module.currentTier(function: 3) == .interpreter)
        #expect(events.withLock { $0 }.contains { if case .notCompiled = $0.kind { $0.functionIndex == 3 } else { false } })
        // An interpreted caller, compiled callees; then the trap in a compiled function.
        #expect(try instance.function("vec")!.callI32(30) == Self.expectedSum(30))
        for _ in 0..<3 { _ = try? instance.function("fails")!.call([.i32(3)]) }
        Self.settle(engine) { ($0.functionsCompiled[.baseline] ?? 0) >= 3 }
        let t = try #require(thrownError { _ = try instance.function("fails")!.call([.i32(3)]) } as? Trap)
        #expect(t.kind == .integerDivideByZero)
        #expect(t.backtrace.first?.functionIndex == 4)
    }

    /// Several threads run the same module (one store each) while its functions are compiled
    /// and, in chaos mode, swapped back and forth between the tiers.
    @Test(arguments: [nil, UInt64(42)])
    func threadsRunWhileFunctionsAreSwapped(chaos: UInt64?) throws {
        let engine = Self.tieredEngine(threshold: 1, optimizeThreshold: 100, chaos: chaos)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            guard let instance = try? Store(engine: engine).instantiate(module) else {
                failures.withLock { $0 += 1 }
                return
            }
            for k in 0..<300 {
                let n = Int32(1 + (k * 7 + t) % 60)
                let ok = (try? instance.function("sum")!.callI32(n)) == Self.expectedSum(n)
                    && (try? instance.function("vec")!.callI32(n)) == Self.expectedSum(n)
                if !ok { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        Self.settle(engine)
    }

    /// The whole chain: interpreter, then baseline code that counts its own calls and loop
    /// iterations, then optimized code; the answers never change.
    @Test func hotFunctionsMoveThroughEveryTier() throws {
        let events = Locked<[TierEvent]>([])
        let engine = Self.tieredEngine(threshold: 1, optimizeThreshold: 200, log: { e in events.withLock { $0.append(e) } })
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        let instance = try Store(engine: engine).instantiate(module)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, module.currentTier(function: 0) != .optimizing || module.currentTier(function: 1) != .optimizing {
            #expect(try instance.function("sum")!.callI32(40) == Self.expectedSum(40))
            Thread.sleep(forTimeInterval: 0.001)
        }
        Self.settle(engine)
        #expect(module.currentTier(function: 0) == .optimizing)
        #expect(module.currentTier(function: 1) == .optimizing)
        #expect(try instance.function("sum")!.callI32(1000) == Self.expectedSum(1000))
        let log = events.withLock { $0 }
        for f: UInt32 in [0, 1] {
            let steps = log.filter { $0.functionIndex == f && $0.kind == .compiled }.map { "\($0.from.rawValue)->\($0.to.rawValue)" }
            #expect(steps == ["interpreter->baseline", "baseline->optimizing"], "func \(f): \(steps)")
        }
        let s = engine.tieringStatistics
        #expect((s.functionsCompiled[.optimizing] ?? 0) >= 2 && (s.compileSeconds[.optimizing] ?? 0) > 0)
        // A trap in optimized code still names the function.
        for _ in 0..<50 { _ = try? instance.function("fails")!.call([.i32(2)]) }
        Self.settle(engine)
        let t = try #require(thrownError { _ = try instance.function("fails")!.call([.i32(2)]) } as? Trap)
        #expect(t.kind == .integerDivideByZero && t.backtrace.first?.functionIndex == 4)
    }

    /// The compile queue's order: a function still interpreted before one already compiled,
    /// whatever their counts (baseline code counts far higher before it asks), then the hotter.
    /// An interpreter record is 128 bytes (one per defined function is made at creation) and
    /// keeps what it is given: sizes through their 32-bit fields, the tiering fields where
    /// compiled code finds them by offset.
    @Test func recordsAre128BytesAndKeepTheirFields() {
        #expect(MemoryLayout<FunctionCode>.stride == 128)
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        defer { words.deallocate() }
        var r = FunctionCode(
            functionIndex: 7, code: words, frameWords: 1 << 30, paramWords: 6, localWords: 100_000, resultWords: 4,
            frameImage: words + 1, imageWords: 12, imageStart: 6, constWords: 3, definedIndex: 999_999,
            osrEntryCount: 5, loopHeaderCount: 9)
        let fields: [Int] = [r.frameWords, r.paramWords, r.localWords, r.resultWords, r.imageWords, r.imageStart, r.constWords,
                             r.definedIndex, r.osrEntryCount, r.loopHeaderCount]
        #expect(fields == [1 << 30, 6, 100_000, 4, 12, 6, 3, 999_999, 5, 9])
        r.frameWords += 2
        r.localWords = 0
        #expect(r.frameWords == (1 << 30) + 2)
        #expect(r.localWords == 0 && r.functionIndex == 7)
        #expect(r.withEntryFlags(stub: true).slowEntry == 1 && r.withEntryFlags().slowEntry == 0)
        #expect(MemoryLayout<FunctionCode>.offset(of: \.nativeEntry) == 0)
        #expect(MemoryLayout<FunctionCode>.offset(of: \.hotness)! % 8 == 0)
    }

    @Test func interpretedFunctionsAreCompiledFirst() {
        #expect(TierUpService.runsBefore(from: .interpreter, hotness: 1_500, from: .baseline, hotness: 1_000_000))
        #expect(!TierUpService.runsBefore(from: .baseline, hotness: 1_000_000, from: .interpreter, hotness: 1_500))
        #expect(TierUpService.runsBefore(from: .interpreter, hotness: 3_000, from: .interpreter, hotness: 1_500))
        #expect(TierUpService.runsBefore(from: .baseline, hotness: 20_000, from: .baseline, hotness: 15_000))
        #expect(!TierUpService.runsBefore(from: .baseline, hotness: 15_000, from: .baseline, hotness: 15_000))
    }

    /// Every instance's function references carry the direct entry of the record in the
    /// entry slot (what optimized `call_indirect` calls), through tier-ups and chaos swaps; an
    /// instance that is gone is no longer written to.
    @Test func referencesFollowTheEntrySlots() throws {
        let engine = Self.tieredEngine(threshold: 1, optimizeThreshold: 50)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        func check(_ instance: Instance, _ name: String, _ defined: Int) -> Bool {
            let slot = strata_load_entry(UnsafeRawPointer(module.entryTable + defined).assumingMemoryBound(to: Optional<UnsafeRawPointer>.self))
            let direct = slot?.assumingMemoryBound(to: FunctionCode.self).pointee.directEntry
            return instance.function(name)!.reference.pointee.directEntry == direct
        }
        var gone: Instance? = try Store(engine: engine).instantiate(module)
        let instance = try Store(engine: engine).instantiate(module)
        #expect(check(instance, "square", 0) && check(gone!, "square", 0))
        #expect(instance.function("square")!.reference.pointee.directEntry == nil)  // interpreted so far
        gone = nil
        let deadline = Date().addingTimeInterval(20)
        // `square` called from the host (calls from `sum` stop once its optimized code inlines it).
        while Date() < deadline, module.currentTier(function: 0) != .optimizing || module.currentTier(function: 1) != .optimizing {
            #expect(try instance.function("square")!.callI32(7) == 49)
            #expect(try instance.function("sum")!.callI32(40) == Self.expectedSum(40))
        }
        Self.settle(engine)
        #expect(module.currentTier(function: 0) == .optimizing)
        #expect(instance.function("square")!.reference.pointee.directEntry != nil)
        #expect(check(instance, "square", 0) && check(instance, "sum", 1))
        // A later instance starts with the current entries.
        let later = try Store(engine: engine).instantiate(module)
        #expect(check(later, "square", 0) && check(later, "sum", 1))
        // Chaos swaps keep them in step too.
        for k in 0..<20 {
            _ = module.chaosSwap(random: UInt64(k) &* 0x9E37_79B9_7F4A_7C15)
            #expect(check(instance, "square", 0) && check(later, "square", 0) && check(later, "sum", 1))
        }
    }

    /// A module dropped while its functions wait for a compile thread: the requests are
    /// dropped, nothing crashes.
    @Test func requestsOfAGoneModuleAreDropped() throws {
        let engine = Self.tieredEngine(threshold: 1)
        for _ in 0..<20 {
            let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
            let instance = try Store(engine: engine).instantiate(module)
            _ = try instance.function("vec")!.callI32(5)
        }
        Self.settle(engine)
        let s = engine.tieringStatistics
        #expect(s.queueLength == 0)
        #expect(s.finished == s.requests)
    }
}
