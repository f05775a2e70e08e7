import CStrata
import Dispatch
import Glibc
import Synchronization

/// A decoded, fully validated module. Immutable and shared by all its instances and threads.
/// Creating it decodes and validates every function (eagerly: an invalid function is rejected
/// even if never called); a function is translated for the interpreter on its first call
/// (lazy translation: its record's code is one `lazy_translate` instruction until then), so
/// memory for interpreter code grows only with the functions that run.
public final class Module: @unchecked Sendable {
    public let engine: Engine
    let info: ModuleInfo
    let context: ModuleContext
    /// Canonical signature id per type index (read by `call_indirect` through the vmctx).
    let typeIDs: UnsafeMutablePointer<UInt32>
    /// Per type index, the signature calls from the host read (`StrataFuncRef.signature`).
    let callSignatures: CallSignatureTable
    /// Per defined function, its first interpreter record: the lazy stub, whose code translates
    /// the function on its first run (`interpreterRecord`).
    let codes: UnsafeMutablePointer<FunctionCode>
    /// The entry table: one slot per defined function, pointing at the code used for it now.
    /// Later tiers replace a slot with one atomic store.
    let entryTable: UnsafeMutablePointer<UnsafeRawPointer?>
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Functions translated so far, by defined index: the interpreter code (kept alive with the
    /// module) and record, the record being what the entry slot got. Written under the lock by
    /// the first call of a function; read by backtraces and listings. A dictionary: it grows
    /// with the functions that run, not with the module (46,000 functions in Yosys).
    private let translations: Locked<[Int: Translation]>
    private struct Translation {
        let function: CompiledFunction
        let record: UnsafeMutablePointer<FunctionCode>
    }
    /// Machine code placed at creation (shared by all instances).
    private(set) var compiled: CompiledCode?
    /// Per defined function, the machine code (only with `EngineConfiguration.keepMachineCode`).
    private(set) var machineCode: [Int: [UInt8]] = [:]
    /// The module's bytes (bodies are translated and compiled later); in tiered mode, which
    /// functions have been queued, and the code compiled since (kept alive with the module:
    /// running code is never freed while the module lives).
    let bytes: SharedBytes
    private let tierClaims: Locked<[Bool]>
    /// Tiered mode: functions queued for the optimizing tier.
    private let optimizeClaims: Locked<[Bool]>
    /// The hotness at which baseline code asks for the optimizing tier (per module: chaos mode
    /// draws it).
    let optimizeThreshold: Int64
    /// Compiled code of tiered mode, per function: (defined index, code, record index in it).
    private let tieredCode = Locked<[(index: Int, code: CompiledCode, record: Int)]>([])
    /// With a code cache: the key of this module's entry and every compiled function so far
    /// (what the next save writes).
    let cacheKey: CacheKey?
    /// With a code cache: the SHA-256 of the module's bytes (`CacheKey.digest`).
    let moduleDigest: [UInt8]?
    /// A module file whose copy and record (`ModuleCopies`) the first save writes to the
    /// directory caches; nil once written, or when there is none to write.
    private let unsavedFile: Locked<FileIdentity?>
    /// Whether the bytes are a directory cache's copy of the module file (which was not read).
    let bytesFromCache: Bool
    /// The image placed at creation (cached and eagerly compiled functions), and functions
    /// compiled since (which replace nothing: a function is compiled at most once).
    private var initialImage: CodeImage?
    private let cacheFunctions = Locked<[Int: (CodeImage, CodeImage.Function)]>([:])
    /// Functions whose compiled code came from the cache.
    public private(set) var functionsLoadedFromCache = 0

    /// Decodes and validates `bytes`. Throws a `WasmError` (malformed / invalid / unsupported).
    public convenience init(engine: Engine, bytes: [UInt8]) throws(WasmError) {
        try self.init(engine: engine, bytes: SharedBytes(bytes), entry: nil)
    }

    /// `entry`: a code cache entry to use instead of the engine's cache (`init(engine:serialized:)`).
    /// `digest`: the SHA-256 of `bytes`, known or already being hashed, and `file`: the
    /// identity of the file they were read from, when a later run may trust it to name them
    /// (`init(engine:contentsOf:)`), or nil. `knownBodies`: the code section's body extents
    /// from the code cache's copy (`ModuleDecoder.knownBodies`), pointing into `bytes`' mapping.
    init(
        engine: Engine, bytes: SharedBytes, entry preloaded: [UInt8]?, digest: ConcurrentResult<[UInt8]>? = nil,
        file: FileIdentity? = nil, bytesFromCache: Bool = false, knownBodies: UnsafeRawBufferPointer? = nil
    ) throws(WasmError) {
        self.engine = engine
        let configuration = engine.configuration
        let tiered = configuration.tier == .tiered
        // 1. Start the code cache lookup (the key hashes on another thread while sections decode).
        let lookup = CacheLookup(configuration: configuration, bytes: bytes, preloaded: preloaded, digest: digest)
        // 2. Decode and validate; lower every body for the mode (interpreter code, or machine
        //    code from the mode's compilers); bodies a cache hit vouches for are skipped.
        let lowered = try Self.lower(bytes, knownBodies: knownBodies, configuration: configuration, lookup: lookup)
        info = lowered.info
        context = lowered.context
        cacheKey = lookup.key
        moduleDigest = lookup.digest
        unsavedFile = Locked(file)
        self.bytesFromCache = bytesFromCache
        translations = Locked([:])
        typeIDs = .allocate(capacity: max(info.types.count, 1))
        let ids = typeIDs
        do {
            ids.initialize(from: try engine.typeIDs(info.types), count: info.types.count)
        } catch {
            ids.deallocate()
            throw error
        }
        // Signatures as the host sees them: concrete types by canonical id.
        callSignatures = CallSignatureTable(info.types.map { $0.canonicalized(ids) })
        // 3. Interpreter records (lazy stubs, with the tier-up threshold in tiered mode) and the
        //    entry table (every slot starts at its stub).
        var chaos = configuration.chaosSeed.map { ChaosGenerator(seed: $0 ^ UInt64(bytes.count)) }
        let tierUpAt = tiered && chaos == nil ? Int64(max(configuration.tierUpThreshold, 1)) : Int64.max
        let records = Self.makeInterpreterRecords(info: info, tierUpAt: tierUpAt)
        codes = records.codes
        entryTable = records.entryTable
        allocations.append(records.shared)
        // 4. Tiering state: claims and thresholds (chaos mode draws them).
        self.bytes = bytes
        let count = info.bodies.count
        tierClaims = Locked([Bool](repeating: false, count: tiered ? count : 0))
        optimizeClaims = Locked([Bool](repeating: false, count: tiered ? count : 0))
        optimizeThreshold = chaos != nil ? Int64(chaos!.next() % 256) : Int64(max(configuration.optimizeThreshold, 1))
        if tiered, chaos != nil {
            for i in 0..<count { strata_hotness_set_threshold(&codes[i].hotness, Int64(chaos!.next() % 64)) }
        }
        // 5. Place the machine code (from the cache and compiled now) and publish its entries.
        let fromCache = lowered.entry?.image.functions ?? []
        try placeInitialCode(compiled: lowered.compiled, entry: lowered.entry)
        // 6. Report, and queue what the last run found hot but did not finish compiling.
        functionsLoadedFromCache = fromCache.count
        logCreation(fromCache: fromCache, leftOut: lowered.leftOut)
        engine.tierUp.noteCache(hit: !fromCache.isEmpty, loaded: fromCache.count, enabled: lookup.cache != nil)
        if tiered, let entry = lowered.entry {
            optimizeRefusals.withLock { for r in entry.refused { $0[r.index] = OptimizingCompiler.rememberedRefusal(r.reason) } }
            for i in entry.hot where claimTierUp(i) { engine.tierUp.request(self, index: i, hotness: 0) }
        }
        if !tiered, lookup.cache != nil, !lowered.compiled.isEmpty {
            engine.tierUp.scheduleSave(self)  // an eager mode: everything is compiled; keep it
        } else if file != nil, lowered.entry != nil {
            engine.tierUp.scheduleFileCopy(self)
        }
    }

    /// Whether module creation looks the engine's code cache up (so needs the module's key).
    static func looksUpCodeCache(_ configuration: EngineConfiguration) -> Bool {
        configuration.tier != .interpreter && configuration.codeCache != nil
    }

    /// The code cache's entry for a module: read and checked on another thread as soon as the
    /// key is known (while the sections decode), matched with the module when the first body
    /// asks whether it is cached (only then is the function count known).
    private final class CacheLookup {
        let cache: CodeCache?
        /// The module bytes' SHA-256 (`CacheKey.digest`), the entry key made from it, and the
        /// stored entry (not stored, or what it parsed to: nil for not an entry of this build),
        /// worked out on one thread of their own.
        private let pending: ConcurrentResult<(digest: [UInt8], key: CacheKey, read: Read)>?
        private struct Read: @unchecked Sendable {
            var stored: Bool
            var entry: CacheEntry?
        }
        private(set) var entry: CacheEntry?
        private var cached: [Bool] = []
        private let tiered: Bool

        /// An entry given with the module (a serialized module's), used instead of the cache's.
        private let preloaded: [UInt8]?

        /// `digest`: the digest of `bytes`, known already or being hashed
        /// (`init(engine:contentsOf:)`), or nil.
        init(configuration: EngineConfiguration, bytes: SharedBytes, preloaded: [UInt8]? = nil, digest: ConcurrentResult<[UInt8]>? = nil) {
            let cache = Module.looksUpCodeCache(configuration) ? configuration.codeCache : nil
            let preloaded = configuration.tier != .interpreter ? preloaded : nil
            self.cache = cache
            self.preloaded = preloaded
            pending = cache != nil || preloaded != nil ? ConcurrentResult {
                // Dispatch's workers come up now, while the sections decode: the chunked work
                // after decoding (`forEachChunk`) then finds them running.
                startWorkerPool()
                let d = digest?.value ?? bytes.withUnsafeBufferPointer { CacheKey.digest(module: $0) }
                let key = CacheKey.of(moduleDigest: d, configuration: configuration)
                // A directory cache's entry is mapped, and checked whole only until it is known
                // to have checked out (`EntryVerification`); any other cache's is its bytes.
                if preloaded == nil, let directory = cache as? DirectoryCodeCache {
                    let read = EntryVerification.load(key, functionCount: Int(UInt32.max), from: directory)
                    return (d, key, Read(stored: read.stored, entry: read.entry))
                }
                guard let stored = preloaded.map(SharedBytes.init) ?? cache?.load(key).map(SharedBytes.init) else {
                    return (d, key, Read(stored: false))
                }
                return (d, key, Read(stored: true, entry: CacheEntry.parse(stored, key: key, functionCount: Int(UInt32.max))))
            } : nil
            tiered = configuration.tier == .tiered
        }

        var key: CacheKey? { pending?.value.key }
        var digest: [UInt8]? { pending?.value.digest }

        /// Whether body `i` (of `count`) needs no validation now. An entry is only ever written
        /// for a module whose every body was validated (its key covers the bytes and the
        /// features), so on a hit none does in tiered mode: a body's first call translates it
        /// (the validator drives the translator) and a tier-up compiles it the same way. The
        /// eager modes compile the bodies the entry lacks at creation, from their decoded
        /// locals: there only the entry's functions are skipped.
        func skipsBody(count: Int, _ i: Int) -> Bool {
            isCached(count: count, i) || (tiered && entry != nil)
        }

        /// Whether defined function `i` (of `count`) has code in the entry.
        func isCached(count: Int, _ i: Int) -> Bool {
            if cached.count != count {
                cached = [Bool](repeating: false, count: count)
                if let key, let read = pending?.value.read, read.stored {
                    entry = read.entry
                    if let e = entry, e.image.functions.allSatisfy({ $0.index < count }), e.hot.allSatisfy({ $0 < count }),
                       e.refused.allSatisfy({ $0.index < count }) {
                        for f in e.image.functions { cached[f.index] = true }
                    } else {
                        // Corrupt, truncated, from another version or build or settings, or
                        // names functions this module does not have: a miss.
                        if preloaded == nil { cache?.remove(key) }
                        entry = nil
                    }
                }
            }
            return cached[i]
        }
    }

    /// A module's bodies lowered for its mode.
    private struct Lowered {
        var info: ModuleInfo
        var context: ModuleContext
        /// Machine code compiled now (the eager modes).
        var compiled: [TierFunction]
        var leftOut: [LeftOut]
        var entry: CacheEntry?
    }

    /// Decodes and validates `bytes`, and in the eager modes compiles every body not in the cache
    /// (in parallel, after validation). Nothing is translated for the interpreter here: that
    /// happens at a function's first call.
    private static func lower(
        _ bytes: SharedBytes, knownBodies: UnsafeRawBufferPointer?, configuration: EngineConfiguration, lookup: CacheLookup
    ) throws(WasmError) -> Lowered {
        let compilers = Tier.eagerCompilers(configuration)
        return try bytes.withUnsafeBufferPointer { buffer throws(WasmError) -> Lowered in
            let (info, context, _) = try decodeValidating(
                buffer, owner: bytes, knownBodies: knownBodies, features: configuration.features, skip: lookup.skipsBody
            ) { _, _, _, _, validator throws(WasmError) -> Bool? in
                var sink = NullSink()
                try validator.run(sink: &sink)
                return nil
            }
            var out = Lowered(info: info, context: context, compiled: [], leftOut: [], entry: lookup.entry)
            guard !compilers.isEmpty else { return out }
            _ = try JITRuntime.get(features: configuration.codeFeatures)
            var done = [Bool](repeating: false, count: info.bodies.count)
            for f in lookup.entry?.image.functions ?? [] { done[f.index] = true }
            (out.compiled, out.leftOut) = try compileFunctions(
                bytes: buffer, info: info, context: context, threads: configuration.compileThreads, compilers: compilers, skip: done)
            return out
        }
    }

    /// One interpreter record per defined function, the lazy stub, and the entry table pointing
    /// at them. A stub's code is one `lazy_translate` instruction (shared by all stubs, with an
    /// empty constant pool, in `shared`, freed with the module); its frame is the parameters
    /// and results, what a caller places before the code runs; its tier-up threshold
    /// `tierUpAt`. Written in chunks on every core: the cost is the fresh pages (46,000 stubs of
    /// a large program: 5.9 MB), which the kernel fills for both threads at once.
    private static func makeInterpreterRecords(info: ModuleInfo, tierUpAt: Int64) -> (
        codes: UnsafeMutablePointer<FunctionCode>, entryTable: UnsafeMutablePointer<UnsafeRawPointer?>,
        shared: UnsafeMutableRawPointer
    ) {
        let n = info.bodies.count
        let codes = UnsafeMutablePointer<FunctionCode>.allocate(capacity: max(n, 1))
        adviseHugePages(UnsafeMutableRawPointer(codes), bytes: max(n, 1) * MemoryLayout<FunctionCode>.stride)
        let entryTable = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: max(n, 1))
        let shared = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        shared.initialize(to: Opcode.lazy_translate.word)
        (shared + 1).initialize(to: 0)
        let imported = info.importedFunctionTypes.count
        // Per type once (46,000 functions of a large program share a few hundred types).
        let words = info.types.map { (params: $0.params.count * wordsPerSlot, results: $0.results.count * wordsPerSlot) }
        let typeIndices = info.functionTypeIndices
        forEachChunk(count: n, chunk: 8192) { range in
            for i in range {
                let (params, results) = words[Int(typeIndices[i])]
                (codes + i).initialize(to: FunctionCode(
                    functionIndex: UInt32(imported + i), code: shared, frameWords: max(params, results),
                    paramWords: params, localWords: 0, resultWords: results,
                    frameImage: shared + 1, imageWords: 0, imageStart: params, constWords: 0, definedIndex: i,
                    hotness: StrataHotness(count: 0, tierUpAt: tierUpAt)).withEntryFlags(stub: true))
                entryTable[i] = UnsafeRawPointer(codes + i)
            }
        }
        return (codes, entryTable, UnsafeMutableRawPointer(shared))
    }

    /// Defined function `index`'s interpreter record: translated on the first request (under
    /// the module's lock, so once), its entry slot then moved from the stub to it unless a
    /// compiled tier took the slot meanwhile. Nil only if the translator refuses the body (an
    /// instruction without an interpreter handler), with the reason.
    func interpreterRecord(_ index: Int) -> Result<UnsafeMutablePointer<FunctionCode>, WasmError> {
        translations.withLock { translations -> Result<UnsafeMutablePointer<FunctionCode>, WasmError> in
            if let t = translations[index] { return .success(t.record) }
            let info = self.info, context = self.context
            let translated = bytes.withUnsafeBufferPointer { buffer -> Result<CompiledFunction, WasmError> in
                do throws(WasmError) {
                    let body = try Self.decodedBody(index, info: info, buffer)
                    let type = info.types[Int(info.functionTypeIndices[index])]
                    var validator = FunctionValidator(module: context, body: body, type: type, bytes: buffer)
                    let (f, reason) = try Self.translate(
                        context: context, info: info, entryTable: entryTable, type: type, body: body, validator: &validator)
                    if let reason { throw reason }
                    return .success(f!)
                } catch {
                    return .failure(error)
                }
            }
            guard case .success(let f) = translated else { return translated.map { _ in codes + index } }
            let stub = codes + index
            let record = UnsafeMutablePointer<FunctionCode>.allocate(capacity: 1)
            record.initialize(to: FunctionCode(
                functionIndex: stub.pointee.functionIndex, code: f.code, frameWords: f.frameWords,
                paramWords: f.paramWords, localWords: f.localWords, resultWords: f.resultWords,
                frameImage: f.frameImage, imageWords: f.imageWords, imageStart: f.imageStart, constWords: f.constCount, definedIndex: index,
                loopHeaders: UnsafePointer(f.loopHeaders), loopHeaderCount: f.loopHeaderCount).withEntryFlags())
            // Tiering goes on from where the stub's counters stand (the first call counted
            // there; its threshold may be out of reach already: queued).
            record.pointee.hotness = StrataHotness(
                count: strata_hotness_count(&stub.pointee.hotness), tierUpAt: strata_hotness_threshold(&stub.pointee.hotness))
            translations[index] = Translation(function: f, record: record)
            strata_publish_fence()
            _ = strata_replace_entry(entrySlot(index), UnsafeRawPointer(stub), UnsafeRawPointer(record))
            return .success(record)
        }
    }

    /// Defined function `index`'s interpreter record and its instructions' (code word, Wasm
    /// offset) pairs, translated first if no call has (listings, tests).
    func translation(_ index: Int) -> (record: UnsafeMutablePointer<FunctionCode>, offsets: [(Int32, Int32)])? {
        guard case .success(let record) = interpreterRecord(index) else { return nil }
        return (record, translations.withLock { $0[index]?.function.offsets } ?? [])
    }

    /// Defined function `index`'s body with its locals decoded again from the bytes: a body
    /// whose code came from the cache was never decoded past its extent at creation. What
    /// lazy translation and every tier-up compile from.
    static func decodedBody(_ index: Int, info: ModuleInfo, _ buffer: UnsafeBufferPointer<UInt8>) throws(WasmError) -> FunctionBody {
        let extent = info.bodies[index]
        return try ModuleDecoder.decodeLocals(buffer, FunctionBody(
            locals: [], localsStart: extent.localsStart, codeStart: extent.localsStart, codeEnd: extent.codeEnd,
            bodyOffset: extent.bodyOffset))
    }

    /// Functions translated for the interpreter so far.
    public var translatedFunctionCount: Int { translations.withLock { $0.count } }

    /// Places the code of module creation, one image: the cache's as it is, or the functions
    /// compiled now with any cached ones copied in (each function's code says which tier
    /// produced it). Makes it executable, registers it, and publishes each function's entry.
    private func placeInitialCode(compiled fresh: [TierFunction], entry: CacheEntry?) throws(WasmError) {
        let fromCache = entry?.image.functions ?? []
        let image: CodeImage? = fresh.isEmpty ? entry?.image
            : CodeImage.encode(fresh.map { ($0.index, $0.function) }).merged(with: entry.map { e in e.image.functions.map { (e.image, $0) } } ?? [])
        guard let image, !image.functions.isEmpty else { return }
        let code = try place(image)
        compiled = code
        if engine.configuration.keepMachineCode {
            for f in image.functions {
                machineCode[f.index] = Array(UnsafeRawBufferPointer(start: image.base + f.code, count: f.codeSize))
            }
        }
        if engine.configuration.tier == .tiered {
            // Cached functions start compiled: nobody queues them again for the baseline tier;
            // those cached at the baseline tier count on towards the optimizing one.
            tierClaims.withLock { for f in fromCache { $0[f.index] = true } }
            optimizeClaims.withLock { for f in fromCache where f.tier == Tier.optimizing.recordKind { $0[f.index] = true } }
            tieredCode.withLock { parts in for (k, f) in image.functions.enumerated() { parts.append((f.index, code, k)) } }
        }
        // Code is written and executable; publish each entry with a release store.
        strata_publish_fence()
        for (k, f) in image.functions.enumerated() {
            strata_store_entry(entrySlot(f.index), UnsafeRawPointer(code.records + k))
        }
        if cacheKey != nil { initialImage = image }
    }

    /// Makes `image` executable and registers it (trap tables, unwind information); baseline
    /// code in tiered mode counts from zero towards the optimizing tier. What module creation
    /// and every tier-up do with compiled code.
    private func place(_ image: CodeImage) throws(WasmError) -> CompiledCode {
        let wasmBytes = image.functions.reduce(0) { $0 + info.bodies[$1.index].codeEnd - info.bodies[$1.index].codeStart }
        let code = try CompiledCode(
            image: image, interpreterRecords: codes, importedFunctionCount: info.importedFunctionTypes.count,
            names: info.functionNames, bodies: info.bodies, wasmBytes: wasmBytes,
            // perf resolves samples in file mappings by the file, not by the perf map.
            inPlace: engine.configuration.profiler == .none)
        code.moduleName = info.moduleName
        if engine.configuration.gdbJIT { GDBJITInterface.register(code, module: info.moduleName ?? "module") }
        switch engine.configuration.profiler {
        case .none: break
        case .perfmap: PerfMap.add(code, module: info.moduleName ?? "module")
        case .jitdump: JitDump.add(code, module: info.moduleName ?? "module")
        }
        if engine.configuration.tier == .tiered {
            baselineRecords.withLock { records in
                for k in 0..<code.count where code.records[k].kind == Tier.baseline.recordKind && code.records[k].osrEntryCount > 0 {
                    records[code.records[k].definedIndex] = code.records + k
                }
            }
            for k in 0..<code.count where code.records[k].kind == Tier.baseline.recordKind {
                strata_hotness_set_threshold(&code.records[k].hotness, optimizeThreshold)
            }
            // Baseline code counts into the record its entry slot holds: once that is optimized
            // code, the baseline activations still running reach `builtinTierUp` at their next
            // loop header and move (on-stack replacement); optimized code itself never counts.
            if engine.configuration.osr != .disabled {
                for k in 0..<code.count where code.records[k].kind == Tier.optimizing.recordKind {
                    strata_hotness_set_threshold(&code.records[k].hotness, 0)
                }
            }
        }
        return code
    }

    /// Tier-log events of module creation: functions loaded from the cache, and functions a
    /// compiler left to the tier below.
    private func logCreation(fromCache: [CodeImage.Function], leftOut: [LeftOut]) {
        guard let log = engine.configuration.tierLog else { return }
        let now = Double(DispatchTime.now().uptimeNanoseconds - engine.tierUp.start) / 1e9
        let imported = info.importedFunctionTypes.count
        for f in fromCache {
            let index = UInt32(imported + f.index)
            log(TierEvent(
                kind: .loadedFromCache, functionIndex: index, functionName: info.functionNames[index], from: .interpreter,
                to: Tier(recordKind: f.tier), queueWait: 0, compileTime: 0, swappedAt: now, codeBytes: f.codeSize, hotness: 0))
        }
        for l in leftOut {
            let index = UInt32(imported + l.index)
            log(TierEvent(
                kind: .notCompiled(l.reason.message), functionIndex: index, functionName: info.functionNames[index],
                from: l.tier == .optimizing ? .baseline : .interpreter, to: l.tier, queueWait: 0, compileTime: 0, swappedAt: 0,
                codeBytes: 0, hotness: 0))
        }
    }

    /// Tiered mode: queues every function not compiled yet (ahead-of-time compilation, say to
    /// fill the code cache). `Engine.flushCodeCache()` waits for the result.
    public func precompile() {
        guard engine.configuration.tier == .tiered else { return }
        for i in 0..<info.bodies.count where claimTierUp(i) {
            engine.tierUp.request(self, index: i, hotness: 0)
        }
    }

    /// Writes this module's compiled code and hotness profile to the engine's code cache.
    func saveToCache() {
        guard let cache = engine.configuration.codeCache, let key = cacheKey else { return }
        // Functions that ran but never got hot (initialization, code run once) get baseline
        // code in the entry too, so the next run's start-up is compiled as well (as V8's code
        // cache keeps every function compiled while the script ran).
        let ran = translations.withLock { $0.keys.sorted() }
        guard let entry = cacheEntry(compilingInBaseline: ran) else { return }
        cache.store(key, entry.serialize(key: key))
        saveFileCopy()
    }

    /// Writes the module file's copy and record (`ModuleCopies`) to the directory caches, once:
    /// with the first save of the module's entry, or after creation when the entry was there
    /// already (a run that compiles nothing new saves no entry).
    func saveFileCopy() {
        guard let cache = engine.configuration.codeCache, let moduleDigest,
              let file = unsavedFile.withLock({ f in defer { f = nil }; return f }) else { return }
        // The largest active data segment at a constant address: the copy lays it out so that
        // instantiation can map its whole pages (`Instance.initializeData`).
        let mapped = info.data.compactMap { seg -> (offset: Int, address: UInt64, count: Int)? in
            switch seg.mode {
            case .active(_, .i32(let at)): (seg.bytes.lowerBound, UInt64(UInt32(bitPattern: at)), seg.bytes.count)
            case .active(_, .i64(let at)): (seg.bytes.lowerBound, UInt64(bitPattern: at), seg.bytes.count)
            default: nil
            }
        }.max { $0.count < $1.count }
        ModuleCopies.store(bytes, digest: moduleDigest, id: file, align: mapped.map { ($0.offset, $0.address) }, bodies: info.bodies, in: cache)
    }

    /// This module's compiled code, each function's best, and hotness profile as a code cache
    /// entry (nil when there is neither). In tiered mode, `compilingInBaseline` functions
    /// without code are compiled by the baseline compiler for it (here, on the calling thread,
    /// each once; not placed in this run).
    private func cacheEntry(compilingInBaseline missing: [Int]) -> CacheEntry? {
        // One code per function, the best: a function placed at creation (from the cache or
        // compiled eagerly) may have moved up a tier since. (Writing both made the entry
        // invalid, so the next run found nothing.)
        var best: [Int: (CodeImage, CodeImage.Function)] = [:]
        if let image = initialImage ?? compiled?.image { for f in image.functions { best[f.index] = (image, f) } }
        // Tier-ups: kept for the cache, or (without one) read back from the placed code.
        var fresher = cacheFunctions.withLock { $0 }
        if cacheKey == nil {
            for part in tieredCode.withLock({ $0 }) {
                let f = part.code.image.functions[part.record]
                if fresher[part.index].map({ $0.1.tier < f.tier }) ?? true { fresher[part.index] = (part.code.image, f) }
            }
        }
        for (index, fresh) in fresher where best[index].map({ $0.1.tier < fresh.1.tier }) ?? true {
            best[index] = fresh
        }
        if engine.configuration.tier == .tiered, let compiler = Tier.tierUpCompiler(to: .baseline, configuration: engine.configuration) {
            // On the compile threads' budget, plus the caller's thread at exit (the last save of
            // a run is waited for then; Yosys: thousands of functions ran once since the save
            // before).
            let todo = missing.filter { best[$0] == nil }
            let compiled = Locked<[Int: (CodeImage, CodeImage.Function)]>([:])
            let next = Atomic<Int>(0)
            nonisolated(unsafe) let baseline = compiler
            DispatchQueue.concurrentPerform(iterations: min(todo.count, engine.tierUp.saveWorkers)) { _ in
                while true {
                    let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard k < todo.count else { return }
                    guard let f = try? self.compileOne(todo[k], with: baseline) else { continue }
                    let image = CodeImage.encode([(todo[k], f)])
                    compiled.withLock { $0[todo[k]] = (image, image.functions[0]) }
                }
            }
            let fresh = compiled.withLock { $0 }
            cacheFunctions.withLock { for (i, c) in fresh { $0[i] = c } }
            for (i, c) in fresh { best[i] = c }
        }
        let functions = best.values.sorted { $0.1.index < $1.1.index }
        let hot = tierClaims.withLock { claims in claims.indices.filter { claims[$0] } }
        let refused = optimizeRefusals.withLock { $0.map { (index: $0.key, reason: OptimizingCompiler.refusalCode($0.value)) } }
            .sorted { $0.index < $1.index }
        guard !functions.isEmpty || !hot.isEmpty else { return nil }
        return CacheEntry(tier: functions.map(\.1.tier).max() ?? 1, image: CodeImage.encode([], copying: functions), hot: hot, refused: refused)
    }

    /// The module as bytes to keep or send: its binary and its compiled code in the code
    /// cache's format (each function's best code; in tiered mode every function without code
    /// is compiled by the baseline compiler first). `init(engine:serialized:)` on an engine of
    /// the same build and settings places that code without compiling it.
    public func serialized() -> [UInt8] {
        var out = Self.serializedMagic
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { out += $0 }
        out += bytes.buffer
        if engine.configuration.tier != .interpreter, let entry = cacheEntry(compilingInBaseline: Array(0..<info.bodies.count)) {
            let key = cacheKey ?? bytes.withUnsafeBufferPointer { CacheKey.of(module: $0, configuration: engine.configuration) }
            out += entry.serialize(key: key)
        }
        return out
    }

    /// A module from `serialized()`'s bytes. The binary is decoded (and validated where no
    /// compiled code is given for it); the compiled code is used when it was made by this build
    /// with this engine's settings, else the module is compiled as `init(engine:bytes:)` would.
    /// The code is run as it is: deserialize only what you serialized (checksums catch
    /// corruption, not tampering).
    public convenience init(engine: Engine, serialized: [UInt8]) throws(WasmError) {
        let m = Self.serializedMagic
        guard serialized.count >= m.count + 8, serialized.starts(with: m) else {
            throw WasmError(.malformed, "not a serialized Strata module")
        }
        let length = serialized[m.count..<(m.count + 8)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let start = m.count + 8
        guard length <= UInt64(serialized.count - start) else { throw WasmError(.malformed, "a serialized Strata module cut short") }
        let end = start + Int(length)
        try self.init(engine: engine, bytes: SharedBytes(Array(serialized[start..<end])), entry: end < serialized.count ? Array(serialized[end...]) : nil)
    }

    static let serializedMagic = Array("strata-module\u{0}v1\u{0}".utf8)

    /// The machine code of defined function `index` (function index space), when the module
    /// was created with `EngineConfiguration.keepMachineCode` and the function was compiled.
    public func machineCode(function index: Int) -> [UInt8]? {
        machineCode[index - importedFunctionCount]
    }

    /// Functions whose entry is compiled code now (the rest run in the interpreter).
    public var compiledFunctionCount: Int {
        var n = 0
        for i in 0..<info.bodies.count {
            let record = strata_load_entry(UnsafeRawPointer(entryTable + i).assumingMemoryBound(to: Optional<UnsafeRawPointer>.self))
            if let record, record.assumingMemoryBound(to: FunctionCode.self).pointee.kind != 0 { n += 1 }
        }
        return n
    }

    /// Functions whose entry runs `tier`'s code now.
    public func functionCount(in tier: Tier) -> Int {
        var n = 0
        for i in 0..<info.bodies.count {
            let record = strata_load_entry(UnsafeRawPointer(entryTable + i).assumingMemoryBound(to: Optional<UnsafeRawPointer>.self))
            if let record, record.assumingMemoryBound(to: FunctionCode.self).pointee.kind == tier.recordKind { n += 1 }
        }
        return n
    }

    /// The tier running defined function `index` (function index space) now.
    public func currentTier(function index: Int) -> Tier? {
        let d = index - importedFunctionCount
        guard d >= 0, d < info.bodies.count else { return nil }
        let record = strata_load_entry(UnsafeRawPointer(entryTable + d).assumingMemoryBound(to: Optional<UnsafeRawPointer>.self))
        return record.map { Tier(recordKind: $0.assumingMemoryBound(to: FunctionCode.self).pointee.kind) }
    }

    // MARK: tiering

    /// When each function compiled in the background was requested, and how long its
    /// compilation took (for the tier log's on-stack-replacement events).
    private let tierUps = Locked<[Int: (requested: UInt64, compileTime: Double)]>([:])
    func noteTierUp(_ index: Int, requested: UInt64, compileTime: Double) {
        tierUps.withLock { $0[index] = (requested, compileTime) }
    }
    func tierUpTimes(_ index: Int) -> (requested: UInt64, compileTime: Double)? { tierUps.withLock { $0[index] } }

    /// Marks defined function `index` as queued; false when it already was.
    func claimTierUp(_ index: Int) -> Bool {
        tierClaims.withLock { claims in
            guard index < claims.count, !claims[index] else { return false }
            claims[index] = true
            return true
        }
    }

    /// Marks defined function `index` as queued for the optimizing tier; false when it already was.
    func claimOptimize(_ index: Int) -> Bool {
        optimizeClaims.withLock { claims in
            guard index < claims.count, !claims[index] else { return false }
            claims[index] = true
            return true
        }
    }

    /// Compiles defined function `index` for `tier` (baseline or optimizing, on a compile
    /// thread), makes it executable, registers it, and swaps its entry. Returns the machine
    /// code size; a failure carries the reason the function stays in its tier.
    func compileForTierUp(_ index: Int, to tier: Tier, requested: UInt64 = 0) -> Result<Int, WasmError> {
        let begin = DispatchTime.now().uptimeNanoseconds
        do throws(WasmError) {
            guard let compiler = Tier.tierUpCompiler(to: tier, configuration: engine.configuration) else {
                throw WasmError(.unsupported, "no compiler for the \(tier.rawValue) tier")
            }
            if tier == .optimizing, let refusal = optimizeRefusal(index) { throw refusal }
            let image = CodeImage.encode([(index, try compileOne(index, with: compiler, optimizing: tier == .optimizing))])
            let code = try place(image)
            tieredCode.withLock { $0.append((index, code, 0)) }
            if cacheKey != nil { cacheFunctions.withLock { $0[index] = (image, image.functions[0]) } }
            // Before it is reachable: a running activation may move to it at once.
            noteTierUp(index, requested: requested, compileTime: Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
            // Written, executable and registered; now reachable with one release store.
            strata_publish_fence()
            publish(index, UnsafeRawPointer(code.records))
            return .success(code.codeBytes)
        } catch {
            return .failure(error)
        }
    }

    /// On-stack-replacement code of the optimizing tier (see docs/ARCHITECTURE.md, "On-stack
    /// replacement"), per (defined index << 32 | the loop's Wasm offset): the code (alive with the
    /// module), its entry, and the request and compile times. Never in an entry slot (its entry
    /// takes a moved frame, not a slot buffer), never cached.
    private let osrCode = Locked<[Int64: (code: CompiledCode, entry: UnsafeRawPointer, requested: UInt64, compileTime: Double)]>([:])
    private let osrClaims = Locked<Set<Int64>>([])
    /// Functions the optimizing tier refused for their size (`OptimizingCompiler.refusesFunction`),
    /// with the reason: the next request for one, its tier-up or an OSR entry at another of its
    /// loops, fails at once instead of building the same IR up to the same bound (a compile
    /// thread spent seconds per request on such a function, and the other functions' tier-ups
    /// waited behind it).
    private let optimizeRefusals = Locked<[Int: WasmError]>([:])
    private func optimizeRefusal(_ index: Int) -> WasmError? { optimizeRefusals.withLock { $0[index] } }

    /// Tiered mode: each function's baseline record with OSR entries, once placed. An
    /// interpreted activation whose function has moved on to optimized code moves to these
    /// (`considerOSR`), and from there on to the optimizing tier's OSR entry.
    private let baselineRecords = Locked<[Int: UnsafeMutablePointer<FunctionCode>]>([:])
    func baselineRecord(_ index: Int) -> UnsafeMutablePointer<FunctionCode>? { baselineRecords.withLock { $0[index] } }

    /// Marks the OSR entry of defined function `index` at `loop` as requested; false when it was.
    func claimOSR(_ index: Int, loop: Int32) -> Bool {
        osrClaims.withLock { $0.insert(Int64(index) << 32 | Int64(UInt32(bitPattern: loop))).inserted }
    }
    /// The OSR entry of defined function `index` at `loop`, once compiled.
    func osrEntry(_ index: Int, loop: Int32) -> (entry: UnsafeRawPointer, requested: UInt64, compileTime: Double)? {
        osrCode.withLock { $0[Int64(index) << 32 | Int64(UInt32(bitPattern: loop))].map { ($0.entry, $0.requested, $0.compileTime) } }
    }

    /// Defined function `index` compiled by `compiler` after the fact (tier-up and OSR entries):
    /// its body decoded again from the bytes, the compiled tiers checked available on this CPU.
    /// `optimizing`: a refusal for the function's size is remembered (`optimizeRefusals`).
    private func compileOne(_ index: Int, with compiler: some TierCompiler, optimizing: Bool = false) throws(WasmError) -> MachineFunction {
        let info = self.info, context = self.context
        _ = try JITRuntime.get(features: engine.configuration.codeFeatures)
        let result = try bytes.withUnsafeBufferPointer { buffer throws(WasmError) -> Result<MachineFunction, WasmError> in
            let body = try Self.decodedBody(index, info: info, buffer)
            return try compiler.compileUnlessInterpreterOnly(FunctionSource(index, bytes: buffer, info: info, context: context, body: body))
        }
        if optimizing, case .failure(let reason) = result, OptimizingCompiler.refusesFunction(reason) {
            optimizeRefusals.withLock { $0[index] = reason }
            unsavedRefusals.withLock { $0 = true }
        }
        return try result.get()
    }

    /// Whether a refusal was found since the last call (the code cache entry should get it).
    func takeUnsavedRefusals() -> Bool { cacheKey != nil && unsavedRefusals.withLock { r in defer { r = false }; return r } }
    private let unsavedRefusals = Locked(false)

    /// Compiles the optimizing tier's OSR entry of defined function `index` at the loop at Wasm
    /// offset `loop` (a compile thread, or the running one when forced) and makes it available
    /// to `osrEntry`. Returns the machine code size or why there is none.
    func compileForOSR(_ index: Int, loop: Int32, requested: UInt64) -> Result<Int, WasmError> {
        let begin = DispatchTime.now().uptimeNanoseconds
        do throws(WasmError) {
            if let refusal = optimizeRefusal(index) { throw refusal }
            var compiler = OptimizingTierCompiler(engine.configuration)
            compiler.osrLoop = loop
            let code = try place(CodeImage.encode([(index, try compileOne(index, with: compiler, optimizing: true))]))
            let compileTime = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
            strata_publish_fence()
            osrCode.withLock {
                $0[Int64(index) << 32 | Int64(UInt32(bitPattern: loop))] = (code, code.records.pointee.nativeEntry!, requested, compileTime)
            }
            return .success(code.codeBytes)
        } catch {
            return .failure(error)
        }
    }

    /// The defined functions' references of every live instance (one array per instance, a
    /// reference per defined function): their `directEntry` follows the entry slots, so an
    /// optimized `call_indirect` reaches a callee's register-argument entry in one load from
    /// the reference instead of three (slot, record, entry). Changed under the lock, with the
    /// slot, by `publish`.
    private let references = Locked<[UnsafeMutablePointer<StrataFuncRef>]>([])

    /// A new instance's references: their direct entries are set from the slots now and kept
    /// current until `unregisterReferences`.
    func registerReferences(_ refs: UnsafeMutablePointer<StrataFuncRef>) {
        references.withLock { list in
            for i in 0..<info.bodies.count {
                let record = strata_load_entry(UnsafeRawPointer(entryTable + i).assumingMemoryBound(to: Optional<UnsafeRawPointer>.self))
                refs[i].directEntry = record?.assumingMemoryBound(to: FunctionCode.self).pointee.directEntry
            }
            list.append(refs)
        }
    }
    func unregisterReferences(_ refs: UnsafeMutablePointer<StrataFuncRef>) {
        references.withLock { list in list.removeAll { $0 == refs } }
    }

    /// Points defined function `index`'s entry slot at `record` (a release store: the code is
    /// written, executable and registered) and every instance's reference at its direct entry.
    func publish(_ index: Int, _ record: UnsafeRawPointer) {
        let direct = record.assumingMemoryBound(to: FunctionCode.self).pointee.directEntry
        references.withLock { list in
            strata_store_entry(entrySlot(index), record)
            for refs in list { strata_store_entry(&refs[index].directEntry, direct) }
        }
    }

    func entrySlot(_ index: Int) -> UnsafeMutablePointer<UnsafeRawPointer?> {
        UnsafeMutablePointer(mutating: entryTable + index).withMemoryRebound(to: Optional<UnsafeRawPointer>.self, capacity: 1) { $0 }
    }

    /// Chaos mode: swaps one compiled function (chosen by `random`) to another of its tiers
    /// (the interpreter, or any tier that compiled it).
    func chaosSwap(random: UInt64) -> (Int, Tier, Tier)? {
        tieredCode.withLock { parts -> (Int, Tier, Tier)? in
            guard !parts.isEmpty else { return nil }
            let index = parts[Int(random % UInt64(parts.count))].index
            let interpreted = translations.withLock { $0[index]?.record } ?? codes + index
            var choices = [UnsafeRawPointer(interpreted)]
            for p in parts where p.index == index { choices.append(UnsafeRawPointer(p.code.records + p.record)) }
            let slot = entrySlot(index)
            guard let current = strata_load_entry(slot) else { return nil }
            let others = choices.filter { $0 != current }
            guard !others.isEmpty else { return nil }
            let next = others[Int((random >> 32) % UInt64(others.count))]
            publish(index, next)
            let kind = { (p: UnsafeRawPointer) in Tier(recordKind: p.assumingMemoryBound(to: FunctionCode.self).pointee.kind) }
            return (index, kind(current), kind(next))
        }
    }

    /// Translates one body for the interpreter (the validator runs it).
    static func translate(
        context: ModuleContext, info: ModuleInfo, entryTable: UnsafeMutablePointer<UnsafeRawPointer?>, type: FuncType,
        body: FunctionBody, validator: inout FunctionValidator
    ) throws(WasmError) -> (CompiledFunction?, WasmError?) {
        var translator = Translator(
            context: context, importedFunctionCount: info.importedFunctionTypes.count, entryTable: entryTable,
            localCount: type.params.count + body.locals.count, resultCount: type.results.count,
            bodyBytes: body.codeEnd - body.codeStart, paramCount: type.params.count,
            valueLocals: body.locals.firstIndex { $0.isReference } ?? body.locals.count)
        try validator.run(sink: &translator)
        if let reason = translator.unsupported { return (nil, reason) }
        let frameWords = translator.finish()
        let codeCount = translator.code.count
        let paramWords = type.params.count * wordsPerSlot, localWords = body.locals.count * wordsPerSlot
        // The frame image (`FunctionCode.frameImage`): zeros for the locals from the first one
        // the body may read before writing it, the constants, zeros to a whole number of 32-byte
        // chunks (the frame covers them); none when there is nothing to set.
        let skippedWords = translator.localInitialization.firstReadUnwritten * wordsPerSlot
        let zeroWords = localWords - skippedWords
        let usedWords = zeroWords + translator.constImage.count
        var image = [UInt64](repeating: 0, count: (usedWords + 3) & ~3)
        image.withUnsafeMutableBufferPointer { image in
            for (k, word) in translator.constImage.enumerated() { image[zeroWords + k] = word }
        }
        let imageStart = paramWords + skippedWords
        // Records keep frame sizes in 32 bits (`FunctionCode`); every other size is within it.
        guard max(frameWords, imageStart + image.count) <= Int(Int32.max) else {
            return (nil, WasmError(.unsupported, "the function's interpreter frame is too large"))
        }
        return (CompiledFunction(
            code: translator.code.take(appending: image), codeCount: codeCount,
            constCount: translator.constImage.count, imageWords: image.count, imageStart: imageStart,
            frameWords: max(frameWords, imageStart + image.count),
            paramWords: paramWords, localWords: localWords,
            resultWords: type.results.count * wordsPerSlot, offsets: translator.offsets, handlers: translator.handlers,
            loopHeaders: translator.loopHeaders), nil)
    }

    /// Decodes and validates without translating for any tier (what `strata validate` runs).
    public static func validate(bytes: [UInt8], features: WasmFeatures = .all) throws(WasmError) {
        try bytes.withUnsafeBufferPointer { buffer throws(WasmError) in
            _ = try decodeValidating(buffer, features: features) { _, _, _, _, validator throws(WasmError) -> Bool? in
                var sink = NullSink()
                try validator.run(sink: &sink)
                return nil
            }
        }
    }

    /// Decodes a module, then validates every function body: `lower` runs each body's validator
    /// with the sink of a tier. Sections are decoded first (bodies by extent only), then the
    /// bodies' locals, so every malformed error in the sections comes before an invalid one.
    /// `skip(count, i)` true: body `i` is neither decoded further, validated nor lowered (its
    /// code comes from the code cache, written by a run that validated it). `lower` gets the
    /// body's index. `owner`: the shared bytes `buffer` is, which the module info may keep
    /// referring to (function names) instead of copying from it.
    static func decodeValidating<Lowered: Sendable>(
        _ buffer: UnsafeBufferPointer<UInt8>,
        owner: SharedBytes? = nil,
        knownBodies: UnsafeRawBufferPointer? = nil,
        features: WasmFeatures = .all,
        skip: (_ functionCount: Int, _ index: Int) -> Bool = { _, _ in false },
        threads: Int = Module.creationThreads,
        lower: @Sendable (ModuleContext, ModuleInfo, FuncType, FunctionBody, inout FunctionValidator) throws(WasmError) -> Lowered?
    ) throws(WasmError) -> (ModuleInfo, ModuleContext, [Lowered?]) {
        var decoder = ModuleDecoder(bytes: buffer, features: features, owner: owner, knownBodies: knownBodies)
        var info: ModuleInfo
        do throws(WasmError) {
            info = try decoder.decode()
        } catch {
            throw firstMalformedBody(buffer, decoder.info, features: features, before: error) ?? error
        }
        let count = info.bodies.count
        // Everything outside the bodies first (it needs no locals), while the code cache's key
        // may still be hashing; its error is thrown after the locals' malformed ones.
        let moduleCheck = Result { () throws(WasmError) in try ModuleValidator(info: info, features: features).validate() }
        // Only the bodies to validate are decoded further and handed out. A cache hit may skip
        // all of them: then `info.bodies` is not written (so not copied: the decoder still
        // shares it), and no workers contend on the counter over every index.
        let todo = (0..<count).filter { !skip(count, $0) }
        if !todo.isEmpty {
            for i in todo {
                info.bodies[i] = try ModuleDecoder.decodeLocals(buffer, info.bodies[i], typed: features.contains(.functionReferences))
            }
        }
        let context = try moduleCheck.get()
        let workers = min(threads, todo.count)
        if workers <= 1 {
            var lowered = [Lowered?](repeating: nil, count: count)
            for i in todo {
                let type = info.types[Int(info.functionTypeIndices[i])]
                var validator = FunctionValidator(module: context, body: info.bodies[i], type: type, bytes: buffer)
                lowered[i] = try lower(context, info, type, info.bodies[i], &validator)
            }
            return (info, context, lowered)
        }
        // In parallel: workers take bodies in order and write only their own slots; the error
        // reported is the one of the first failing body, as in a sequential pass (bodies after
        // a failure found so far are skipped).
        let errors = UnsafeMutableBufferPointer<WasmError?>.allocate(capacity: count)
        errors.initialize(repeating: nil)
        let results = UnsafeMutableBufferPointer<Lowered?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer {
            errors.deinitialize(); errors.deallocate()
            results.deinitialize(); results.deallocate()
        }
        nonisolated(unsafe) let errorsOut = errors
        nonisolated(unsafe) let resultsOut = results
        nonisolated(unsafe) let code = buffer
        let next = Atomic<Int>(0)
        let firstFailure = Atomic<Int>(Int.max)
        let frozen = info
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if k >= todo.count { return }
                let i = todo[k]
                guard i < firstFailure.load(ordering: .relaxed) else { continue }
                let type = frozen.types[Int(frozen.functionTypeIndices[i])]
                var validator = FunctionValidator(module: context, body: frozen.bodies[i], type: type, bytes: code)
                do throws(WasmError) {
                    resultsOut[i] = try lower(context, frozen, type, frozen.bodies[i], &validator)
                } catch {
                    errorsOut[i] = error
                    var seen = firstFailure.load(ordering: .relaxed)
                    while i < seen {
                        let (exchanged, now) = firstFailure.compareExchange(expected: seen, desired: i, ordering: .relaxed)
                        if exchanged { break }
                        seen = now
                    }
                }
            }
        }
        let failed = firstFailure.load(ordering: .relaxed)
        if failed < count, let error = errors[failed] { throw error }
        return (info, context, Array(results))
    }

    /// Workers for validating and translating bodies at module creation: every core (the
    /// creating thread waits for the result).
    static let creationThreads = EngineConfiguration.processorCount

    /// Bodies are validated once all sections are decoded, but a malformed instruction in a
    /// body comes before a later section's decoding error (`error`) in the binary: the error
    /// a streaming decoder would report first. Checks the bodies recorded so far in order, as
    /// such a decoder would: up to the first invalid one.
    private static func firstMalformedBody(_ buffer: UnsafeBufferPointer<UInt8>, _ info: ModuleInfo, features: WasmFeatures, before error: WasmError) -> WasmError? {
        guard !info.bodies.isEmpty, let context = try? ModuleValidator(info: info, features: features).validate() else { return nil }
        for i in info.bodies.indices where i < info.functionTypeIndices.count {
            do throws(WasmError) {
                let body = try ModuleDecoder.decodeLocals(buffer, info.bodies[i], typed: features.contains(.functionReferences))
                var validator = FunctionValidator(module: context, body: body, type: info.types[Int(info.functionTypeIndices[i])], bytes: buffer)
                var sink = NullSink()
                try validator.run(sink: &sink)
            } catch {
                return error.kind == .malformed ? error : nil
            }
        }
        return nil
    }

    deinit {
        for a in allocations { a.deallocate() }
        translations.withLock { for t in $0.values { t.record.deallocate() } }
        codes.deallocate()
        entryTable.deallocate()
        typeIDs.deallocate()
        callSignatures.deallocate()
    }

    /// One function's interpreter code and constants, in one allocation made by the thread
    /// that translated it; freed with the object (the module keeps it while it lives).
    final class CompiledFunction: @unchecked Sendable {
        let code: CodePointer
        let codeCount: Int
        /// The frame image (see `FunctionCode.frameImage`), after the code.
        var frameImage: UnsafeMutablePointer<Slot> { code + codeCount }
        let constCount: Int
        let imageWords: Int
        /// Where the image goes in the frame (see `FunctionCode.imageStart`).
        let imageStart: Int
        let frameWords: Int
        let paramWords: Int
        let localWords: Int
        let resultWords: Int
        let offsets: [(Int32, Int32)]
        /// The `try_table`s, innermost first where they nest (exception handling).
        let handlers: [ExceptionHandler]
        /// The loop headers (`Translator.loopHeaders`), where the record points.
        let loopHeaders: UnsafeMutablePointer<Int32>?
        let loopHeaderCount: Int

        /// Takes `code` (words of code then of the frame image, from `CodeBuffer.take`; freed
        /// with the object).
        init(code: UnsafeMutablePointer<UInt64>, codeCount: Int, constCount: Int, imageWords: Int, imageStart: Int, frameWords: Int, paramWords: Int, localWords: Int, resultWords: Int, offsets: [(Int32, Int32)], handlers: [ExceptionHandler] = [], loopHeaders: [Int32] = []) {
            self.code = code
            self.codeCount = codeCount
            self.constCount = constCount
            self.imageWords = imageWords
            self.imageStart = imageStart
            self.frameWords = frameWords
            self.paramWords = paramWords
            self.localWords = localWords
            self.resultWords = resultWords
            self.offsets = offsets
            self.handlers = handlers
            loopHeaderCount = loopHeaders.count / 2
            if loopHeaders.isEmpty {
                self.loopHeaders = nil
            } else {
                let table = UnsafeMutablePointer<Int32>.allocate(capacity: loopHeaders.count)
                table.initialize(from: loopHeaders, count: loopHeaders.count)
                self.loopHeaders = table
            }
        }

        deinit {
            free(code)
            loopHeaders?.deallocate()
        }
    }

    // MARK: public description

    public var imports: [Import] { info.imports }
    /// Number of functions the module defines (not imports).
    public var definedFunctionCount: Int { info.bodies.count }
    public var exports: [Export] { info.exports }
    /// Name of a function from the `name` section.
    public func functionName(_ index: UInt32) -> String? { info.functionNames[index] }
    public var customSectionNames: [String] { info.customSections.map(\.name) }

    /// The type of an export, when it is a function.
    public func exportedFunctionType(_ name: String) -> FuncType? {
        guard let e = info.exports.first(where: { $0.name.utf8.elementsEqual(name.utf8) && $0.kind == .function }) else { return nil }
        return info.functionType(Int(e.index))
    }

    var importedFunctionCount: Int { info.importedFunctionTypes.count }

    /// A listing of the interpreter code of defined function `index` (in the module's
    /// function index space): one instruction per line, with its Wasm offset, handler and
    /// operand words. A debugging aid (`strata dump`); translates the function if no call has.
    public func interpreterListing(function index: Int) -> String? {
        let d = index - importedFunctionCount
        guard d >= 0, d < info.bodies.count else { return nil }
        guard let (record, offsets) = translation(d) else { return "func \(index): not translated for the interpreter\n" }
        let fc = record.pointee
        var out = "func \(index)\(info.functionNames[UInt32(index)].map { " (\($0))" } ?? ""): frame \(fc.frameWords) words "
            + "(\(fc.paramWords / wordsPerSlot) params, \(fc.localWords / wordsPerSlot) locals, \(fc.constWords) words of constants "
            + "at word \(fc.paramWords + fc.localWords), \(fc.imageWords) words set at entry from word \(fc.imageStart); "
            + "operands are word indices, 2 words per slot)\n"
        for (k, entry) in offsets.enumerated() {
            let start = Int(entry.0)
            let end = k + 1 < offsets.count ? Int(offsets[k + 1].0) : start + 1
            var words = (start + 1..<end).map { Int64(bitPattern: fc.code[$0]) }
            let opcode = Opcode(rawValue: UInt16(truncatingIfNeeded: fc.code[start]))
            let name = opcode.map { "\($0)" } ?? "?"
            if opcode == .call, !words.isEmpty {  // the callee's entry slot: shown as its defined index
                words[0] = (words[0] - Int64(Int(bitPattern: entryTable))) / Int64(MemoryLayout<UnsafeRawPointer?>.stride)
            }
            let at = String(start)
            out += "  " + at + String(repeating: " ", count: max(0, 6 - at.count)) + "@0x\(String(entry.1, radix: 16))  \(name) \(words.map(String.init).joined(separator: " "))\n"
        }
        return out
    }

    /// The landing pad of the innermost `try_table` around `pc` in interpreted function `fc`
    /// that catches `exception` (tags compared in `instance`), if any.
    func landingPad(_ fc: UnsafeMutablePointer<FunctionCode>, pc: CodePointer, exception: Exception, instance: InstanceRuntime) -> CodePointer? {
        let translation = translations.withLock { $0[fc.pointee.definedIndex] }
        guard let function = translation?.function, function.code == fc.pointee.code else { return nil }
        let at = Int32(pc - fc.pointee.code)
        for h in function.handlers where h.start <= at && at < h.end {
            for c in h.clauses where c.kind == .catchAll || c.kind == .catchAllRef || instance.tags[Int(c.tag)] === exception.tag {
                return fc.pointee.code + Int(c.pad)
            }
        }
        return nil
    }

    func backtraceFrame(_ fc: UnsafeMutablePointer<FunctionCode>, pc: CodePointer?, isReturnAddress: Bool) -> BacktraceFrame {
        let index = fc.pointee.functionIndex
        var offset: Int?
        if let pc {
            let ci = Int32(pc - fc.pointee.code) - (isReturnAddress ? 1 : 0)
            // The stub (code not translated when the frame was made) has no instructions.
            let translation = translations.withLock { $0[fc.pointee.definedIndex] }
            let table = translation.map { $0.function.code == fc.pointee.code ? $0.function.offsets : [] } ?? []
            var lo = 0, hi = table.count - 1, found = -1
            while lo <= hi {
                let mid = (lo + hi) / 2
                if table[mid].0 <= ci { found = mid; lo = mid + 1 } else { hi = mid - 1 }
            }
            if found >= 0 { offset = Int(table[found].1) }
        }
        return BacktraceFrame(
            functionIndex: index, names: info.functionNames, offset: offset,
            bodyStart: info.bodies[Int(fc.pointee.definedIndex)].bodyOffset)
    }
}
