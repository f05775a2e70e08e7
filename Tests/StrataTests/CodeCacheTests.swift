import Foundation
import CStrata
import Testing
import WAT
@testable import Strata

/// The persistent code cache: a second run starts compiled; anything wrong with an entry is a
/// miss, never a crash; keys separate configurations; the size bound holds; processes share a
/// folder safely.
@Suite struct CodeCacheTests {
    static let program = TieringTests.program

    static func tempDir() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-cache-\(UUID().uuidString)").path
        return dir
    }

    static func engine(
        _ cache: (any CodeCache)?, tier: Tier = .tiered, optimizeThreshold: Int = 1 << 30, log: (@Sendable (TierEvent) -> Void)? = nil
    ) -> Engine {
        var c = EngineConfiguration()
        c.tier = tier
        c.tierUpThreshold = 100
        c.optimizeThreshold = optimizeThreshold
        c.compileThreads = 1
        c.codeCache = cache
        c.tierLog = log
        return Engine(configuration: c)
    }

    /// A serialized module carries its compiled code in the code cache's format: on an engine of
    /// the same settings every function starts compiled (tiered: the serializing engine's code
    /// and baseline code for the rest; eager modes: their tier), and computes what the
    /// interpreter does. An engine with other settings compiles again; bytes cut short or not
    /// a serialized module are errors; a corrupted code part is a miss, not a crash.
    @Test func serializedModulesCarryTheirCode() throws {
        let bytes = try wat2wasm(Self.program)
        for tier in [Tier.tiered, .baseline, .optimizing] {
            let first = Self.engine(nil, tier: tier)
            let module = try Module(engine: first, bytes: bytes)
            let instance = try Store(engine: first).instantiate(module)
            #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50))
            let serialized = module.serialized()
            #expect(serialized.count > bytes.count)

            let second = Self.engine(nil, tier: tier)
            let again = try Module(engine: second, serialized: serialized)
            #expect(again.functionsLoadedFromCache == again.definedFunctionCount, "\(tier)")
            for f in 0..<again.definedFunctionCount {
                #expect(again.currentTier(function: f + again.imports.count) == (tier == .tiered ? .baseline : tier), "\(tier) \(f)")
            }
            let store = Store(engine: second)
            #expect(try store.instantiate(again).function("sum")!.callI32(50) == TieringTests.expectedSum(50))

            // Another tier: the code does not fit, the module is compiled again.
            let other = Self.engine(nil, tier: tier == .optimizing ? .baseline : .optimizing)
            let recompiled = try Module(engine: other, serialized: serialized)
            #expect(recompiled.functionsLoadedFromCache == 0)
            #expect(try Store(engine: other).instantiate(recompiled).function("sum")!.callI32(50) == TieringTests.expectedSum(50))

            // A flipped byte in the code part: the checksum makes it a miss.
            var corrupt = serialized
            corrupt[corrupt.count - 5] ^= 0xFF
            let checked = try Module(engine: second, serialized: corrupt)
            #expect(checked.functionsLoadedFromCache == 0)
            #expect(try Store(engine: second).instantiate(checked).function("sum")!.callI32(50) == TieringTests.expectedSum(50))

            #expect(throws: WasmError.self) { try Module(engine: second, serialized: Array(serialized.prefix(40))) }
            #expect(throws: WasmError.self) { try Module(engine: second, serialized: bytes) }
        }
        // The interpreter keeps no code: the binary alone, and it still runs.
        let interpreter = Self.engine(nil, tier: .interpreter)
        let plain = try Module(engine: interpreter, bytes: bytes).serialized()
        #expect(plain.count == Module.serializedMagic.count + 8 + bytes.count)
        #expect(try Store(engine: interpreter).instantiate(try Module(engine: interpreter, serialized: plain)).function("sum")!.callI32(50)
            == TieringTests.expectedSum(50))
    }

    /// Runs the program hot enough to tier up `sum` and `square`, and waits for the cache write.
    static func warmUp(_ engine: Engine) throws -> Module {
        let module = try Module(engine: engine, bytes: try wat2wasm(program))
        let instance = try Store(engine: engine).instantiate(module)
        for _ in 0..<20 { #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50)) }
        engine.flushCodeCache()
        return module
    }

    /// A directory cache remembers the build identity per binary outside its entries; a
    /// remembered value of another form is not taken.
    @Test func theBuildIdentityIsRememberedBesideTheEntries() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try DirectoryCodeCache(directory: dir)
        let key = try #require(CodeCacheFormat.identityKey, "SwiftPM's linker writes a build id")
        cache.storeMemo(key, Array(CodeCacheFormat.identity.utf8))
        #expect(cache.loadMemo(key).flatMap(CodeCacheFormat.rememberedIdentity) == CodeCacheFormat.identity)
        #expect(cache.statistics.entries == 0)
        cache.clean()
        #expect(cache.loadMemo(key) != nil)
        for bad in ["", "strata 0.0 format 1 codegen 00", CodeCacheFormat.identity + "0", CodeCacheFormat.identity.uppercased(),
                    String(CodeCacheFormat.identity.dropLast()) + "g"] {
            #expect(CodeCacheFormat.rememberedIdentity(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(CodeCacheFormat.identity(using: cache) == CodeCacheFormat.identity)
    }

    @Test func aSecondRunStartsCompiled() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = Self.engine(try DirectoryCodeCache(directory: dir))
        let m1 = try Self.warmUp(first)
        #expect(m1.functionsLoadedFromCache == 0)
        #expect(first.tieringStatistics.cacheStores >= 1 && first.tieringStatistics.cacheMisses == 1)

        let events = Locked<[TierEvent]>([])
        let second = Self.engine(try DirectoryCodeCache(directory: dir), log: { e in events.withLock { $0.append(e) } })
        let m2 = try Module(engine: second, bytes: try wat2wasm(Self.program))
        #expect(m2.functionsLoadedFromCache == 2)
        #expect(m2.currentTier(function: 0) == .baseline && m2.currentTier(function: 1) == .baseline)
        #expect(m2.currentTier(function: 2) == .interpreter)
        #expect(events.withLock { $0 }.filter { $0.kind == .loadedFromCache }.map(\.functionIndex).sorted() == [0, 1])
        let instance = try Store(engine: second).instantiate(m2)
        #expect(try instance.function("sum")!.callI32(1000) == TieringTests.expectedSum(1000))
        #expect(second.tieringStatistics.cacheHits == 1)
        // A trap in cached code still carries its backtrace (trap tables and unwind information came along).
        #expect(try instance.function("vec")!.callI32(20) == TieringTests.expectedSum(20))
    }

    /// A directory cache's entry is mapped, not read: the module's image stays inside the
    /// mapping, and the entry written again when more code is compiled (the mapped image
    /// merged with the new code) is whole even though the file it was mapped from is gone.
    @Test func aMappedEntryOutlivesItsFile() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try DirectoryCodeCache(directory: dir)
        let key = try #require(try Self.warmUp(Self.engine(cache)).cacheKey)
        let mapped = try #require(cache.loadMapped(key))
        #expect(Array(mapped.bytes) == cache.load(key))

        let second = Self.engine(cache)
        let m2 = try Module(engine: second, bytes: try wat2wasm(Self.program))
        #expect(m2.functionsLoadedFromCache == 2)
        cache.remove(key)
        #expect(cache.load(key) == nil)
        let instance = try Store(engine: second).instantiate(m2)
        #expect(try instance.function("sum")!.callI32(1000) == TieringTests.expectedSum(1000))
        #expect(try instance.function("cold")!.callI32() == 7)
        m2.saveToCache()  // what a tier-up's save does: the mapped image and `cold`, compiled now

        let m3 = try Module(engine: Self.engine(cache), bytes: try wat2wasm(Self.program))
        #expect(m3.functionsLoadedFromCache == 3)
        #expect(try Store(engine: m3.engine).instantiate(m3).function("sum")!.callI32(50) == TieringTests.expectedSum(50))
    }

    /// A directory cache's entry holds the code as it is placed: a hit runs it where the entry
    /// is mapped (no copy), with the unwind information that came along, so libunwind finds
    /// each function and both trap unwinders give the backtrace through cached frames.
    @Test(arguments: BaselineTests.tiers) func cachedCodeRunsWhereTheEntryIsMapped(tier: Tier) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func create() throws -> (Module, Instance) {
            let engine = Self.engine(try DirectoryCodeCache(directory: dir), tier: tier)
            let store = Store(engine: engine)
            let linker = Linker()
            linker.defineFunction("host", "callback", store: store, type: FuncType(params: [.i32], results: [.i32])) { _, args in [args[0]] }
            let module = try Module(engine: engine, bytes: try wat2wasm(BaselineTests.traps))
            return (module, try linker.instantiate(module, in: store))
        }
        let (m1, _) = try create()
        m1.engine.flushCodeCache()
        let (m2, instance) = try create()
        #expect(m2.functionsLoadedFromCache == m1.compiledFunctionCount && m2.functionsLoadedFromCache > 0)
        let code = try #require(m2.compiled)
        let entry = try #require(code.image.storage?.bytes)
        let base = UnsafeRawPointer(code.memory.base)
        #expect(base >= entry.baseAddress! && base + code.codeBytes <= entry.baseAddress! + entry.count, "placed where the entry lies")
        for k in 0..<code.count {
            let r = code.ranges[k]
            var start: UInt = 0, end: UInt = 0
            #expect(strata_unwind_lookup(r.start + 5, &start, &end) == 1 && start == r.start)
            #expect(strata_unwind_lookup(r.end - 1, &start, &end) == 1 && end == r.end)
        }
        var traces: [[String]] = []
        for unwinder in [STRATA_UNWIND_LIBUNWIND, STRATA_UNWIND_FRAME_POINTERS] {
            strata_set_trap_unwinder(unwinder)
            let t = try #require(thrownError { _ = try instance.function("outer")!.call([.i32(0)]) } as? Trap)
            #expect(t.kind == .integerDivideByZero && t.backtrace.map(\.functionIndex) == [2, 3, 4], "\(t)")
            traces.append(t.backtrace.map(\.description))
        }
        strata_set_trap_unwinder(STRATA_UNWIND_LIBUNWIND)
        #expect(traces[0] == traces[1])
        #expect(try instance.function("outer")!.callI32(1) == 3)
    }

    /// A function that ran but never got hot (`cold`, called once) is in the entry as baseline
    /// code: the next run starts it compiled, without calling it first; one that never ran
    /// (`vec`) is not.
    @Test func functionsThatRanOnceAreCachedAsBaseline() throws {
        let cache = InMemoryCodeCache()
        let first = Self.engine(cache)
        let m1 = try Module(engine: first, bytes: try wat2wasm(Self.program))
        let instance = try Store(engine: first).instantiate(m1)
        #expect(try instance.function("cold")!.callI32() == 7)
        for _ in 0..<20 { #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50)) }
        first.flushCodeCache()
        #expect(m1.currentTier(function: 2) == .interpreter, "not placed in the run that saved it")

        let second = Self.engine(cache)
        let m2 = try Module(engine: second, bytes: try wat2wasm(Self.program))
        #expect(m2.functionsLoadedFromCache == 3)
        #expect(m2.currentTier(function: 2) == .baseline)
        #expect(m2.currentTier(function: 3) == .interpreter)
        #expect(try Store(engine: second).instantiate(m2).function("cold")!.callI32() == 7)
    }

    /// An entry keeps each function's best tier: optimized code comes back optimized, and the
    /// optimizing mode's own entries work the same way.
    @Test func optimizedCodeIsCachedAsOptimized() throws {
        let cache = InMemoryCodeCache()
        let first = Self.engine(cache, optimizeThreshold: 50)
        let m1 = try Module(engine: first, bytes: try wat2wasm(Self.program))
        let instance = try Store(engine: first).instantiate(m1)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, m1.currentTier(function: 0) != .optimizing || m1.currentTier(function: 1) != .optimizing {
            _ = try instance.function("sum")!.callI32(50)
            // `square` directly too: once `sum` is optimized with `square` inlined, calls
            // through `sum` no longer count for `square` (a loaded machine hit that order and
            // spun here until the deadline).
            _ = try instance.function("square")!.callI32(3)
        }
        first.flushCodeCache()
        let events = Locked<[TierEvent]>([])
        let second = Self.engine(cache, optimizeThreshold: 50, log: { e in events.withLock { $0.append(e) } })
        let m2 = try Module(engine: second, bytes: try wat2wasm(Self.program))
        #expect(m2.currentTier(function: 0) == .optimizing && m2.currentTier(function: 1) == .optimizing)
        #expect(events.withLock { $0 }.filter { $0.kind == .loadedFromCache }.allSatisfy { $0.to == .optimizing })
        #expect(try Store(engine: second).instantiate(m2).function("sum")!.callI32(1000) == TieringTests.expectedSum(1000))
        second.flushCodeCache()
        #expect(second.tieringStatistics.requests == 0)

        let o1 = try Module(engine: Self.engine(cache, tier: .optimizing), bytes: try wat2wasm(Self.program))
        // All five functions optimized (the SIMD one too); all five come back.
        #expect(o1.functionsLoadedFromCache == 0 && o1.functionCount(in: .optimizing) == 5)
        o1.engine.flushCodeCache()
        let o2 = try Module(engine: Self.engine(cache, tier: .optimizing), bytes: try wat2wasm(Self.program))
        #expect(o2.functionsLoadedFromCache == 5 && o2.functionCount(in: .optimizing) == 5)
        #expect(try Store(engine: o2.engine).instantiate(o2).function("sum")!.callI32(100) == TieringTests.expectedSum(100))
    }

    /// Baseline code from the cache moves on to the optimizing tier: the body is decoded for
    /// that compilation (cached bodies are not decoded at creation; compiling the undecoded
    /// bytes once gave code that trapped as `unreachable`).
    @Test func cachedBaselineCodeTiersUpToOptimized() throws {
        let cache = InMemoryCodeCache()
        _ = try Self.warmUp(Self.engine(cache))  // baseline code only (optimizeThreshold out of reach)
        let engine = Self.engine(cache, optimizeThreshold: 50)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        #expect(module.currentTier(function: 0) == .baseline && module.currentTier(function: 1) == .baseline)
        let instance = try Store(engine: engine).instantiate(module)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, module.currentTier(function: 0) != .optimizing || module.currentTier(function: 1) != .optimizing {
            #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50))
        }
        engine.flushCodeCache()
        #expect(module.currentTier(function: 0) == .optimizing && module.currentTier(function: 1) == .optimizing)
        #expect(try instance.function("sum")!.callI32(300) == TieringTests.expectedSum(300))
        // The entry now holds each function once, at its best tier: the next run starts there
        // (an entry with both the cached baseline code and the newer optimized code was
        // rejected as invalid, and the next run started cold).
        let next = try Module(engine: Self.engine(cache, optimizeThreshold: 50), bytes: try wat2wasm(Self.program))
        #expect(next.functionsLoadedFromCache > 0)
        #expect(next.currentTier(function: 0) == .optimizing && next.currentTier(function: 1) == .optimizing)
        #expect(try Store(engine: next.engine).instantiate(next).function("sum")!.callI32(300) == TieringTests.expectedSum(300))
    }

    @Test func baselineModeSkipsCompilationOnAHit() throws {
        let cache = InMemoryCodeCache()
        let m1 = try Module(engine: Self.engine(cache, tier: .baseline), bytes: try wat2wasm(Self.program))
        m1.engine.flushCodeCache()
        #expect(cache.count == 1)
        let m2 = try Module(engine: Self.engine(cache, tier: .baseline), bytes: try wat2wasm(Self.program))
        #expect(m2.functionsLoadedFromCache == m1.compiledFunctionCount)
        #expect(m2.compiledFunctionCount == m1.compiledFunctionCount)
        let instance = try Store(engine: m2.engine).instantiate(m2)
        #expect(try instance.function("sum")!.callI32(100) == TieringTests.expectedSum(100))
        let t = try #require(thrownError { _ = try instance.function("fails")!.call([.i32(3)]) } as? Trap)
        #expect(t.kind == .integerDivideByZero && t.backtrace.first?.functionIndex == 4 && t.backtrace.first?.offset != nil)
    }

    /// Entries damaged by hand: a flipped byte, a truncation, another module's entry, garbage.
    /// Each is a miss (the entry is removed and written again), never a crash.
    @Test(arguments: ["flip", "truncate", "swap", "garbage", "empty"])
    func damagedEntriesAreMisses(damage: String) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try DirectoryCodeCache(directory: dir)
        let m1 = try Self.warmUp(Self.engine(cache))
        let key = try #require(m1.cacheKey)
        let path = cache.path(for: key)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        switch damage {
        case "flip": bytes[bytes.count - 9] ^= 0x40
        case "truncate": bytes.removeLast(bytes.count / 3)
        case "swap":
            // The entry of another module, under this module's name.
            let other = try Module(engine: Self.engine(InMemoryCodeCache(), tier: .baseline), bytes: try wat2wasm("(module (func (export \"f\") (result i32) (i32.const 1)))"))
            bytes = CacheEntry(tier: 1, image: CodeImage.encode([(0, MachineFunction(code: [0xC3], traps: [], callSites: [], tier: 1))]), hot: [])
                .serialize(key: other.cacheKey ?? key)
        case "garbage": bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        default: bytes = []
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let engine = Self.engine(cache)
        let m2 = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        #expect(m2.functionsLoadedFromCache == 0)
        #expect(engine.tieringStatistics.cacheMisses == 1)
        let instance = try Store(engine: engine).instantiate(m2)
        for _ in 0..<20 { #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50)) }
        engine.flushCodeCache()
        // Written again, whole: the next run hits.
        let m3 = try Module(engine: Self.engine(cache), bytes: try wat2wasm(Self.program))
        #expect(m3.functionsLoadedFromCache == 2)
    }

    /// An entry file that checked out whole is trusted by its identity afterwards
    /// (`EntryVerification`): a record is written once the file had stood unchanged for
    /// `settledNanoseconds` before the check, and later reads check only the headers (bytes
    /// whose damage only the checksum or the tables show parse on that path, and on no other).
    /// Cached code read that way runs and traps with its backtrace. A write to the file in place
    /// changes its identity: it is checked whole again, a miss. A hit refreshes an entry's time
    /// only once it is an hour old (a refresh changes the identity too).
    @Test func anEntryCheckedWholeIsTrustedByItsIdentity() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try DirectoryCodeCache(directory: dir)
        let key = try #require(try Self.warmUp(Self.engine(cache)).cacheKey)
        let path = cache.path(for: key), recordKey = EntryVerification.recordKey(key)
        func load() -> (stored: Bool, entry: CacheEntry?, verified: Bool) {
            EntryVerification.load(key, functionCount: 3, from: cache)
        }
        // Just written: checked whole, and not recorded.
        var read = load()
        #expect(read.stored && read.entry?.image.functions.count == 2 && !read.verified)
        #expect(cache.load(recordKey) == nil)
        Thread.sleep(forTimeInterval: Double(FileIdentity.settledNanoseconds) / 1e9 + 0.2)
        read = load()
        #expect(read.entry != nil && !read.verified)
        #expect(cache.load(recordKey)?.count == FileRecord.size)
        read = load()
        #expect(read.entry?.image.functions.count == 2 && read.verified)

        let engine = Self.engine(cache)
        let module = try Module(engine: engine, bytes: try wat2wasm(Self.program))
        #expect(module.functionsLoadedFromCache == 2)
        let instance = try Store(engine: engine).instantiate(module)
        #expect(try instance.function("sum")!.callI32(1000) == TieringTests.expectedSum(1000))
        #expect(try instance.function("vec")!.callI32(20) == TieringTests.expectedSum(20))

        // A flipped byte of code: only the checksum sees it.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 9] ^= 0x40
        #expect(CacheEntry.parse(SharedBytes(bytes), key: key, functionCount: 3, verified: true) != nil)
        #expect(CacheEntry.parse(SharedBytes(bytes), key: key, functionCount: 3) == nil)
        // The same byte flipped in the file, in place: another identity, checked whole, a miss.
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0 && pwrite(fd, &bytes[bytes.count - 9], 1, off_t(bytes.count - 9)) == 1)
        close(fd)
        read = load()
        #expect(read.stored && read.entry == nil && !read.verified)
        let recompiled = try Module(engine: Self.engine(cache), bytes: try wat2wasm(Self.program))
        #expect(recompiled.functionsLoadedFromCache == 0)

        // Refreshing: an entry last used two hours ago gets the time now, and no identity (the
        // refresh changed it); one used just now keeps its time.
        cache.store(key, try #require(cache.load(recordKey)))  // any bytes will do
        var old = [timespec(tv_sec: time(nil) - 7200, tv_nsec: 0), timespec(tv_sec: time(nil) - 7200, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &old, 0) == 0)
        #expect(cache.loadMappedWithIdentity(key).map { $0.identity == nil } == true)
        let refreshed = try #require(FileIdentity(path: path))
        #expect(refreshed.modified > (Int64(time(nil)) - 60) * 1_000_000_000)
        #expect(cache.loadMappedWithIdentity(key)?.identity == refreshed)
        #expect(FileIdentity(path: path) == refreshed)
    }

    /// A large payload's checksum is summed chunk by chunk on several threads: it is the same
    /// over an array and over a file mapping whose pages the workers populate, a payload of one
    /// chunk keeps the one-chunk sum, and a change anywhere (in any chunk, across a chunk
    /// boundary, two chunks swapped, one byte less) changes it.
    @Test func payloadChecksumsCoverEveryChunk() throws {
        let chunk = checksumChunkBytes
        var state: UInt64 = 0x1234_5678
        let bytes = (0..<(3 * chunk + chunk / 2)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let sum = bytes.withUnsafeBytes { payloadChecksum($0) }
        let dir = Self.tempDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/payload"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let mapped = try #require(SharedBytes(mapping: fd, size: bytes.count, populate: false))
        #expect(payloadChecksum(mapped.bytes) == sum)
        let small = Array(bytes[0..<1000])
        #expect(small.withUnsafeBytes { payloadChecksum($0) } == small.withUnsafeBytes { chunkChecksum($0) })
        for at in [0, chunk - 1, chunk, 2 * chunk + 17, bytes.count - 1] {
            var changed = bytes
            changed[at] ^= 0x01
            #expect(changed.withUnsafeBytes { payloadChecksum($0) } != sum, "a flipped bit at \(at)")
        }
        var swapped = bytes
        swapped.replaceSubrange(0..<chunk, with: bytes[chunk..<(2 * chunk)])
        swapped.replaceSubrange(chunk..<(2 * chunk), with: bytes[0..<chunk])
        #expect(swapped.withUnsafeBytes { payloadChecksum($0) } != sum)
        #expect(Array(bytes.dropLast()).withUnsafeBytes { payloadChecksum($0) } != sum)
    }

    @Test func keysSeparateConfigurations() throws {
        let bytes = try wat2wasm(Self.program)
        let keys = bytes.withUnsafeBufferPointer { b in
            [CacheKey.of(module: b, tier: .tiered, cpuFeatures: 15), CacheKey.of(module: b, tier: .baseline, cpuFeatures: 15),
             CacheKey.of(module: b, tier: .tiered, cpuFeatures: 7)]
        }
        var other = bytes
        other[other.count - 1] ^= 1
        let otherKey = other.withUnsafeBufferPointer { CacheKey.of(module: $0, tier: .tiered, cpuFeatures: 15) }
        #expect(Set(keys + [otherKey]).count == 4)
        // A tiered run's entry is not a baseline run's.
        let cache = InMemoryCodeCache()
        _ = try Self.warmUp(Self.engine(cache))
        let baseline = try Module(engine: Self.engine(cache, tier: .baseline), bytes: bytes)
        #expect(baseline.functionsLoadedFromCache == 0)
    }

    @Test func hotFunctionsOfTheLastRunAreCompiledAtOnce() throws {
        let cache = InMemoryCodeCache()
        let bytes = try wat2wasm(Self.program)
        let key = bytes.withUnsafeBufferPointer { CacheKey.of(module: $0, configuration: Self.engine(cache).configuration) }
        // A profile without code: the last run found `sum` hot but stopped before compiling it.
        cache.store(key, CacheEntry(tier: 1, image: CodeImage.encode([]), hot: [1]).serialize(key: key))
        let engine = Self.engine(cache)
        let module = try Module(engine: engine, bytes: bytes)
        engine.flushCodeCache()
        #expect(module.currentTier(function: 1) == .baseline)
        #expect(engine.tieringStatistics.requests == 1)
    }

    /// The functions the optimizing tier refused for their size are in the entry: the next run
    /// refuses them at once, with the reason the entry kept, without building their IR again
    /// (Yosys's warm runs rebuilt 800,000 definitions each, and the process waited for it at
    /// exit). Refusals survive a write and a read of the entry.
    @Test func refusalsOfTheOptimizingTierAreRemembered() throws {
        let cache = InMemoryCodeCache()
        let bytes = try wat2wasm(Self.program)
        let key = bytes.withUnsafeBufferPointer { CacheKey.of(module: $0, configuration: Self.engine(cache).configuration) }
        let written = CacheEntry(tier: 1, image: CodeImage.encode([]), hot: [1], refused: [(1, 0), (3, 1)])
        let read = try #require(CacheEntry.parse(written.serialize(key: key), key: key, functionCount: 5))
        #expect(read.hot == [1] && read.refused.map(\.index) == [1, 3] && read.refused.map(\.reason) == [0, 1])
        #expect(CacheEntry.parse(written.serialize(key: key), key: key, functionCount: 3) == nil, "a refused function the module lacks")

        cache.store(key, written.serialize(key: key))
        let events = Locked<[TierEvent]>([])
        let engine = Self.engine(cache, optimizeThreshold: 1, log: { e in events.withLock { $0.append(e) } })
        let module = try Module(engine: engine, bytes: bytes)
        let instance = try Store(engine: engine).instantiate(module)
        TieringTests.settle(engine) { ($0.functionsCompiled[.baseline] ?? 0) >= 1 }
        for _ in 0..<50 { #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50)) }
        TieringTests.settle(engine) { $0.notCompiled >= 1 }
        #expect(module.currentTier(function: 1) == .baseline)
        let refusals = events.withLock { $0 }.compactMap { e -> String? in
            if case .notCompiled(let why) = e.kind, e.functionIndex == 1 { why } else { nil }
        }
        #expect(refusals.count == 1 && refusals[0].hasPrefix(OptimizingCompiler.tooLarge) && refusals[0].contains("earlier run"), "\(refusals)")
        // The entry written again keeps the refusal.
        module.saveToCache()
        let again = try #require(cache.load(key).flatMap { CacheEntry.parse($0, key: key, functionCount: 5) })
        #expect(again.refused.map(\.index).contains(1))
    }

    /// `Module(engine:contentsOf:)` hashes the key while it reads: the key is the one of the
    /// bytes, so a second creation from the file is a hit; a malformed file, a missing one and
    /// an engine without a cache get what `init(engine:bytes:)` gives.
    @Test func aModuleReadFromAFileHashesItsKeyWhileReading() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/program.wasm"
        let bytes = try wat2wasm(Self.program)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let cache = try DirectoryCodeCache(directory: dir + "/cache")
        let first = try Self.warmUp(Self.engine(cache))
        let engine = Self.engine(cache)
        let m = try Module(engine: engine, contentsOf: path)
        #expect(m.cacheKey == first.cacheKey && m.cacheKey == bytes.withUnsafeBufferPointer { CacheKey.of(module: $0, configuration: engine.configuration) })
        #expect(m.functionsLoadedFromCache == 2)
        #expect(try Store(engine: engine).instantiate(m).function("sum")!.callI32(100) == TieringTests.expectedSum(100))
        #expect(try Module(engine: Self.engine(nil), contentsOf: path).cacheKey == nil)

        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(bytes.count - 3))))
        let cut = thrownError { _ = try Module(engine: Self.engine(cache), contentsOf: path) } as? WasmError
        #expect(cut?.kind == .malformed, "\(String(describing: cut))")
        let missing = thrownError { _ = try Module(engine: Self.engine(cache), contentsOf: dir + "/none.wasm") } as? WasmError
        #expect(missing?.kind == .usage, "\(String(describing: missing))")
    }

    /// A module file the cache has seen, unchanged since, is not read again: its bytes are the
    /// cache's copy, its key comes from the record's digest. A file too fresh to vouch for its
    /// identity gets no record; a file rewritten in place, a damaged copy header and a corrupt
    /// record all mean reading the file, and the next save writes copy and record again.
    @Test func aFileSeenBeforeIsTakenFromTheCachesCopy() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/program.wasm", fresh = dir + "/fresh.wasm"
        let bytes = try wat2wasm(Self.program)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        Thread.sleep(forTimeInterval: Double(FileIdentity.settledNanoseconds) / 1e9 + 0.2)
        #expect(FileManager.default.createFile(atPath: fresh, contents: Data(bytes)))
        let cache = try DirectoryCodeCache(directory: dir + "/cache")
        func run(_ file: String, square: Int32 = 9) throws -> Module {
            let engine = Self.engine(cache)
            let m = try Module(engine: engine, contentsOf: file)
            let instance = try Store(engine: engine).instantiate(m)
            for _ in 0..<20 { #expect(try instance.function("sum")!.callI32(50) == TieringTests.expectedSum(50)) }
            #expect(try instance.function("square")!.callI32(3) == square)
            engine.flushCodeCache()
            return m
        }
        let first = try run(path)
        #expect(!first.bytesFromCache)
        #expect(cache.statistics.entries == 3, "the entry, the module's copy and the file's record")
        let second = try run(path)
        #expect(second.bytesFromCache && second.cacheKey == first.cacheKey && second.functionsLoadedFromCache == 2)
        #expect(second.binary == bytes)
        // Its bodies came from the copy's table: the extents a walk finds.
        #expect(second.info.bodies.map { [$0.bodyOffset, $0.localsStart, $0.codeEnd] } == first.info.bodies.map { [$0.bodyOffset, $0.localsStart, $0.codeEnd] })

        // Written just now: read each time, no record (the copy is the same bytes', shared).
        #expect(try !run(fresh).bytesFromCache)
        #expect(try !run(fresh).bytesFromCache)
        #expect(cache.statistics.entries == 3)

        // A copy cut short, a copy naming another digest, a corrupt record: the file is read,
        // and copy and record are written again.
        let digest = try #require(first.moduleDigest)
        let copyKey = ModuleCopies.copyKey(digest), recordKey = ModuleCopies.recordKey(FileIdentity(try Self.fileStatus(path)))
        for (damaged, change) in [(copyKey, { (b: inout [UInt8]) in b.removeLast() }), (copyKey, { $0[20] ^= 1 }),
                                  (recordKey, { $0[$0.count - 9] ^= 1 })] {
            var stored = try #require(cache.load(damaged))
            change(&stored)
            cache.store(damaged, stored)
            #expect(try !run(path).bytesFromCache)
            #expect(try run(path).bytesFromCache)
        }

        // The file rewritten in place (same inode, same size, other code): read, and it runs.
        let doubled = try wat2wasm(Self.program.replacingOccurrences(of: "(i32.mul (local.get 0) (local.get 0))", with: "(i32.add (local.get 0) (local.get 0))"))
        #expect(doubled.count == bytes.count)
        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0 && doubled.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } == doubled.count)
        close(fd)
        let rewritten = try Module(engine: Self.engine(cache), contentsOf: path)
        #expect(!rewritten.bytesFromCache && rewritten.binary == doubled && rewritten.cacheKey != first.cacheKey)
        #expect(try Store(engine: rewritten.engine).instantiate(rewritten).function("square")!.callI32(3) == 6)
    }

    /// A module whose bytes are the cache's copy maps its largest data segment's whole pages
    /// copy-on-write from that copy: the memory holds what copying gives (segments applied in
    /// order), writes stay private to the instance, and the copy is unchanged. A later segment
    /// that overlaps those pages, or a copy evicted since the module was created, means
    /// copying as usual.
    @Test func dataSegmentsAreMappedFromTheCachesCopy() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let big = (0..<12_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let text = big.map { String(format: "\\%02x", $0) }.joined()
        func program(_ later: String) -> String {
            """
            (module
              (memory (export "memory") 1)
              (data (i32.const 100) "small")
              (data (i32.const 5000) "\(text)")
              \(later)
              (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
            """
        }
        let apart = dir + "/apart.wasm", overlapping = dir + "/overlapping.wasm"
        let sources = [apart: program("(data (i32.const 20000) \"after\")"), overlapping: program("(data (i32.const 9000) \"over\")")]
        for (path, source) in sources { #expect(FileManager.default.createFile(atPath: path, contents: Data(try wat2wasm(source)))) }
        Thread.sleep(forTimeInterval: Double(FileIdentity.settledNanoseconds) / 1e9 + 0.2)
        let cache = try DirectoryCodeCache(directory: dir + "/cache")
        for (path, _) in sources {
            var expected = [UInt8](repeating: 0, count: 65536)
            expected.replaceSubrange(100..<105, with: Array("small".utf8))
            expected.replaceSubrange(5000..<17000, with: big)
            if path == apart { expected.replaceSubrange(20000..<20005, with: Array("after".utf8)) } else { expected.replaceSubrange(9000..<9004, with: Array("over".utf8)) }

            let first = Self.engine(cache, tier: .baseline)
            let m = try Module(engine: first, contentsOf: path)
            #expect(try Store(engine: first).instantiate(m).memory("memory")!.read(offset: 0, count: 65536) == expected)
            first.flushCodeCache()

            let engine = Self.engine(cache, tier: .baseline)
            let warm = try Module(engine: engine, contentsOf: path)
            #expect(warm.bytesFromCache)
            let copyPath = cache.path(for: ModuleCopies.copyKey(try #require(warm.moduleDigest)))
            let copyBefore = try #require(FileManager.default.contents(atPath: copyPath))
            let store = Store(engine: engine)
            let instance = try store.instantiate(warm)
            let memory = try #require(instance.memory("memory"))
            #expect(memory.read(offset: 0, count: 65536) == expected)
            let maps = Self.mappings().filter { $0.hasSuffix(copyPath) }
            // The module's bytes, plus the memory's pages when they are mapped.
            #expect(maps.count == (path == apart ? 2 : 1), "\(maps)")

            try instance.function("store")!.call([.i32(8192), .i32(0xEE)])
            #expect(memory.read(offset: 8192, count: 1) == [0xEE])
            let again = try Store(engine: engine).instantiate(warm)
            #expect(again.memory("memory")!.read(offset: 0, count: 65536) == expected)
            #expect(FileManager.default.contents(atPath: copyPath) == copyBefore)
            // The copy evicted meanwhile: the segments are copied, from the bytes still mapped.
            cache.remove(ModuleCopies.copyKey(try #require(warm.moduleDigest)))
            #expect(try Store(engine: engine).instantiate(warm).memory("memory")!.read(offset: 0, count: 65536) == expected)
        }
    }

    /// A module whose largest data segment has no whole page of its own (within one page, or
    /// across one boundary) starts warm from the cache's copy with its segments copied. A
    /// segment inside one page once crashed the host here (a range from the first whole page
    /// to the last, backwards).
    @Test(arguments: [(100, 5), (5000, 3000), (1000, 5000)])
    func segmentsWithoutAWholePageAreCopiedOnAWarmStart(at offset: Int, size: Int) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let text = bytes.map { String(format: "\\%02x", $0) }.joined()
        let path = dir + "/m.wasm"
        let source = """
            (module
              (memory (export "memory") 1)
              (data (i32.const \(offset)) "\(text)")
              (func (export "f") (result i32) (i32.load8_u (i32.const \(offset)))))
            """
        #expect(FileManager.default.createFile(atPath: path, contents: Data(try wat2wasm(source))))
        Thread.sleep(forTimeInterval: Double(FileIdentity.settledNanoseconds) / 1e9 + 0.2)
        let cache = try DirectoryCodeCache(directory: dir + "/cache")
        var expected = [UInt8](repeating: 0, count: 65536)
        expected.replaceSubrange(offset..<(offset + size), with: bytes)
        let first = Self.engine(cache, tier: .baseline)
        #expect(try Store(engine: first).instantiate(try Module(engine: first, contentsOf: path)).memory("memory")!
            .read(offset: 0, count: 65536) == expected)
        first.flushCodeCache()
        let engine = Self.engine(cache, tier: .baseline)
        let warm = try Module(engine: engine, contentsOf: path)
        #expect(warm.bytesFromCache)
        let instance = try Store(engine: engine).instantiate(warm)
        #expect(instance.memory("memory")!.read(offset: 0, count: 65536) == expected)
        #expect(try instance.function("f")!.callI32() == Int32(bytes[0]))
        let copyPath = cache.path(for: ModuleCopies.copyKey(try #require(warm.moduleDigest)))
        #expect(Self.mappings().filter { $0.hasSuffix(copyPath) }.count == 1)  // the module's bytes only
    }

    /// A 64-bit data segment far out of bounds, on a warm start from the cache's copy: the
    /// instantiation traps, as on a cold one (choosing pages to map must not overflow first).
    @Test func anOutOfBoundsSegmentTrapsOnAWarmStart() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/m.wasm"
        let source = """
            (module
              (memory i64 1)
              (data (i64.const 0xFFFFFFFFFFFFF800) "far")
              (func (export "f") (result i32) (i32.const 1)))
            """
        #expect(FileManager.default.createFile(atPath: path, contents: Data(try wat2wasm(source))))
        Thread.sleep(forTimeInterval: Double(FileIdentity.settledNanoseconds) / 1e9 + 0.2)
        let cache = try DirectoryCodeCache(directory: dir + "/cache")
        let first = Self.engine(cache, tier: .baseline)
        #expect(throws: Trap.self) { try Store(engine: first).instantiate(try Module(engine: first, contentsOf: path)) }
        first.flushCodeCache()
        let engine = Self.engine(cache, tier: .baseline)
        let warm = try Module(engine: engine, contentsOf: path)
        #expect(warm.bytesFromCache)
        #expect(throws: Trap.self) { try Store(engine: engine).instantiate(warm) }
    }

    /// This process's mappings (`/proc/self/maps` read to its end: its size reads as 0).
    static func mappings() -> [Substring] {
        let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }

    static func fileStatus(_ path: String) throws -> Glibc.stat {
        var st = Glibc.stat()
        try #require(lstat(path, &st) == 0)
        return st
    }

    /// A copy larger than a quarter of a cache's size bound is not kept (it would evict the
    /// entries it speeds up), nor is its record; a smaller one is, with its record.
    @Test func largeCopiesStayOutOfSmallCaches() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try DirectoryCodeCache(directory: dir, sizeLimit: 1 << 20, minimumFreeSpace: 0)
        for (size, kept) in [(300_000, false), (200_000, true)] {
            let bytes = SharedBytes([UInt8](repeating: 7, count: size))
            let digest = bytes.withUnsafeBufferPointer { CacheKey.digest(module: $0) }
            let id = FileIdentity(device: 1, inode: UInt64(size), size: UInt64(size), modified: 1, changed: 2)
            ModuleCopies.store(bytes, digest: digest, id: id, align: nil, bodies: [], in: cache)
            #expect((ModuleCopies.load(id, from: cache) != nil) == kept, "\(size)")
            #expect(cache.statistics.entries == (kept ? 2 : 0), "\(size)")
        }
    }

    /// Known body extents are taken only when they partition the code section as a walk
    /// would; anything else (a shifted start, a body past the end, a gap, another count) leaves
    /// the decoder to walk, with the same result.
    @Test func knownBodyExtentsAreTakenOnlyWhenTheyFit() throws {
        let bytes = try wat2wasm(Self.program)
        let walked = try bytes.withUnsafeBufferPointer { b throws(WasmError) in
            var decoder = ModuleDecoder(bytes: b)
            return try decoder.decode()
        }
        var table: [UInt8] = []
        for body in walked.bodies {
            for v in [body.bodyOffset, body.localsStart, body.codeEnd] { table.appendLittleEndian(UInt32(v)) }
        }
        let first = walked.bodies[0].bodyOffset, end = walked.bodies.last!.codeEnd, count = walked.bodies.count
        let extents = { (bodies: [FunctionBody]) in bodies.map { [$0.bodyOffset, $0.localsStart, $0.codeEnd] } }
        var bodies: [FunctionBody] = []
        #expect(table.withUnsafeBytes { ModuleDecoder.appendKnownBodies($0, count: count, from: first, to: end, into: &bodies) } == end)
        #expect(extents(bodies) == extents(walked.bodies))
        func damaged(_ at: Int, _ delta: Int32) -> [UInt8] {
            var t = table
            let v = UInt32(Int32(t[at..<at + 4].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }) + delta)
            for k in 0..<4 { t[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
            return t
        }
        for bad in [damaged(0, 1), damaged(4, 6), damaged(8, -1), damaged(12 * count - 4, 1), Array(table.dropLast(12))] {
            var none: [FunctionBody] = []
            #expect(bad.withUnsafeBytes { ModuleDecoder.appendKnownBodies($0, count: count, from: first, to: end, into: &none) } == nil)
            #expect(none.isEmpty)
            let decoded = try bytes.withUnsafeBufferPointer { b in
                try bad.withUnsafeBytes { t in
                    var decoder = ModuleDecoder(bytes: b, knownBodies: t)
                    return try decoder.decode()
                }
            }
            #expect(extents(decoded.bodies) == extents(walked.bodies))
        }
    }

    /// A file record names its digest only for exactly the identity it was written for, and
    /// only whole.
    @Test func fileRecordsMatchOnlyTheirIdentity() {
        let id = FileIdentity(device: 3, inode: 77, size: 1000, modified: 1_700_000_000_000_000_001, changed: 1_700_000_000_000_000_002)
        let digest = (0..<32).map { UInt8($0 * 7) }
        let record = ModuleCopies.serializeRecord(id, digest: digest)
        #expect(record.count == ModuleCopies.recordSize)
        #expect(ModuleCopies.parseRecord(SharedBytes(record), id) == digest)
        for other in [
            FileIdentity(device: 4, inode: 77, size: 1000, modified: id.modified, changed: id.changed),
            FileIdentity(device: 3, inode: 78, size: 1000, modified: id.modified, changed: id.changed),
            FileIdentity(device: 3, inode: 77, size: 1001, modified: id.modified, changed: id.changed),
            FileIdentity(device: 3, inode: 77, size: 1000, modified: id.modified + 1, changed: id.changed),
            FileIdentity(device: 3, inode: 77, size: 1000, modified: id.modified, changed: id.changed + 1),
        ] {
            #expect(ModuleCopies.parseRecord(SharedBytes(record), other) == nil)
        }
        for at in [0, 8, 20, 60, record.count - 1] {
            var bad = record
            bad[at] ^= 0x10
            #expect(ModuleCopies.parseRecord(SharedBytes(bad), id) == nil, "\(at)")
        }
        #expect(ModuleCopies.parseRecord(SharedBytes(Array(record.dropLast())), id) == nil)
        // Settled: unchanged for `settledNanoseconds` before the read began.
        let now = id.changed + FileIdentity.settledNanoseconds
        #expect(id.isSettled(at: now) && !id.isSettled(at: now - 1))
    }

    /// Reading in chunks reports each one; a file of another size than asked for is not complete.
    @Test func readingExactlyReportsChunksAndSizeChanges() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/data"
        let data = (0..<100).map { UInt8($0) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(data)))
        for (count, complete) in [(100, true), (99, false), (101, false)] {
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            var reports: [Int] = []
            let read = FileBytes.read(fd, exactly: count, chunk: 30) { _, filled in reports.append(filled) }
            #expect(read.complete == complete, "\(count)")
            #expect(read.bytes == Array(data.prefix(count + 1)), "\(count)")
            #expect(reports.first == 30 && reports.allSatisfy { $0 <= count } && reports == reports.sorted(), "\(reports)")
        }
    }

    @Test func evictionKeepsTheSizeBound() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try DirectoryCodeCache(directory: dir, sizeLimit: 1 << 20, minimumFreeSpace: 0)
        for k in 0..<40 {
            let key = CacheKey(digest: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ k) })
            cache.store(key, [UInt8](repeating: UInt8(k), count: 100_000))
            #expect(cache.statistics.bytes <= 1 << 20)
        }
        #expect(cache.statistics.entries >= 5)
        // The most recent entry survived.
        let last = CacheKey(digest: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 39) })
        #expect(cache.load(last)?.count == 100_000)
    }

    @Test func foldersOthersCanWriteAreRefused() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o777)
        let error = thrownError { _ = try DirectoryCodeCache(directory: dir) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("writable by other users"))
        chmod(dir, 0o700)
        #expect(thrownError { _ = try DirectoryCodeCache(directory: dir) } == nil)
        // A fresh folder is created owner-only.
        let fresh = dir + "/a/b"
        _ = try DirectoryCodeCache(directory: fresh)
        var st = stat()
        #expect(lstat(fresh, &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    @Test func memoryThenDiskFallback() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = try DirectoryCodeCache(directory: dir)
        _ = try Self.warmUp(Self.engine(disk))
        let memory = InMemoryCodeCache()
        let chain = FallbackCodeCache([memory, disk])
        let m = try Module(engine: Self.engine(chain), bytes: try wat2wasm(Self.program))
        #expect(m.functionsLoadedFromCache == 2)
        #expect(memory.count == 1)  // the disk hit was copied into memory
    }

    /// Several processes fill and read one folder at once: all succeed, and the entry they
    /// leave is whole.
    @Test func processesShareAFolder() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let strata = try #require(BaselineTests.strataExecutable(), "strata executable not built next to the tests")
        let module = FileManager.default.temporaryDirectory.appendingPathComponent("strata-cache-\(UUID().uuidString).wasm")
        defer { try? FileManager.default.removeItem(at: module) }
        try Data(try wat2wasm(Self.program)).write(to: module)
        var processes: [Process] = []
        for k in 0..<8 {
            let p = Process()
            p.executableURL = strata
            p.arguments = k % 2 == 0
                ? ["compile", "--cache-dir", dir, module.path]
                : ["run", "--cache-dir", dir, "--tier-up-threshold", "1", "--invoke", "sum", module.path, "300"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            processes.append(p)
        }
        for p in processes { p.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        // The CLI remembered its build identity beside the entries: the probe's, the same as
        // this test binary's (same code generator), so the two share entries. (Listed before
        // this process opens the folder: it may remember its own identity there too, under its
        // own build id, when no earlier test has computed it yet.)
        let memos = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("build-") }
        let m = try Module(engine: Self.engine(try DirectoryCodeCache(directory: dir)), bytes: try wat2wasm(Self.program))
        #expect(m.functionsLoadedFromCache >= 2)
        #expect(memos.count == 1)
        if let memo = memos.first {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + memo)))
            #expect(CodeCacheFormat.rememberedIdentity(bytes) == CodeCacheFormat.identity)
        }
        #expect(try DirectoryCodeCache(directory: dir).entries().allSatisfy { !$0.path.contains(".tmp-") })
    }
}
