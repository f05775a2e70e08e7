import CStrata
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One tiering event, as `EngineConfiguration.tierLog` receives it.
public struct TierEvent: Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Compiled and swapped in.
        case compiled
        /// The compiler left the function to the interpreter (the reason).
        case notCompiled(String)
        /// Chaos mode swapped the function's entry back to another tier.
        case swapped
        /// The module's creation found the function's compiled code in the code cache.
        case loadedFromCache
        /// A running activation moved to the compiled code at the loop at this Wasm offset
        /// (on-stack replacement). `queueWait` is the time from the request of the code it moved
        /// to until the transfer, `compileTime` that code's compile time.
        case osr(loopOffset: Int)
        /// An on-stack-replacement entry at the loop at this Wasm offset was compiled (code a
        /// running activation of a lower tier moves to; it is not the function's entry).
        case compiledForOSR(loopOffset: Int)
    }
    public var kind: Kind
    public var functionIndex: UInt32
    public var functionName: String?
    public var from: Tier
    public var to: Tier
    /// Time from the request to the start of compilation.
    public var queueWait: Double
    public var compileTime: Double
    /// When the new code became the function's entry, from the engine's creation.
    public var swappedAt: Double
    public var codeBytes: Int
    /// The function's hotness when it was queued.
    public var hotness: Int

    public var description: String {
        let name = functionName.map { " (\($0))" } ?? ""
        func ms(_ seconds: Double) -> String {
            let micro = Int((seconds * 1e6).rounded())
            let frac = String(micro % 1000)
            return "\(micro / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac) ms"
        }
        switch kind {
        case .compiled:
            return "tier-up func \(functionIndex)\(name): \(from.rawValue) -> \(to.rawValue), hotness \(hotness), "
                + "waited \(ms(queueWait)), compiled in \(ms(compileTime)), \(codeBytes) bytes, swapped at \(ms(swappedAt))"
        case .notCompiled(let reason):
            return "tier-up func \(functionIndex)\(name): stays in the \(from.rawValue) (\(reason))"
        case .swapped:
            return "chaos func \(functionIndex)\(name): \(from.rawValue) -> \(to.rawValue) at \(ms(swappedAt))"
        case .loadedFromCache:
            return "cached func \(functionIndex)\(name): starts in the \(to.rawValue) tier (code cache, \(codeBytes) bytes), at \(ms(swappedAt))"
        case .compiledForOSR(let loop):
            return "osr-compile func \(functionIndex)\(name) loop at offset 0x\(String(loop, radix: 16)): \(from.rawValue) -> \(to.rawValue), "
                + "hotness \(hotness), waited \(ms(queueWait)), compiled in \(ms(compileTime)), \(codeBytes) bytes, ready at \(ms(swappedAt))"
        case .osr(let loop):
            return "osr func \(functionIndex)\(name) loop at offset 0x\(String(loop, radix: 16)): \(from.rawValue) -> \(to.rawValue), "
                + "waited \(ms(queueWait)), compiled in \(ms(compileTime)), at \(ms(swappedAt))"
        }
    }
}

/// What tiering has done so far in an engine.
public struct TieringStatistics: Sendable {
    /// Functions compiled per tier (all modules of the engine).
    public var functionsCompiled: [Tier: Int] = [:]
    /// Seconds spent compiling per tier.
    public var compileSeconds: [Tier: Double] = [:]
    /// Machine code produced, in bytes.
    public var codeBytes = 0
    /// Requests waiting for a compile thread now.
    public var queueLength = 0
    /// Compile requests so far (each function at most once per tier, and each OSR entry once).
    public var requests = 0
    /// Functions the compiler left to the interpreter.
    public var notCompiled = 0
    /// Requests dropped because their module was gone before a compile thread took them.
    public var cancelled = 0
    /// Modules created with a code cache whose entry held compiled code, and those without.
    public var cacheHits = 0
    public var cacheMisses = 0
    /// Functions that started compiled from the cache.
    public var functionsLoadedFromCache = 0
    /// Entries written to the code cache.
    public var cacheStores = 0
    /// Running activations moved to compiled code at a loop (on-stack replacement).
    public var osrTransfers = 0
    /// OSR entries compiled (optimizing tier code entered at a loop by a moving activation).
    public var osrCompiles = 0
    /// Requests fully handled (compiled, left to the interpreter, or cancelled).
    public var finished: Int { functionsCompiled.values.reduce(0, +) + osrCompiles + notCompiled + cancelled }
}

private struct WeakModule: @unchecked Sendable {
    weak var module: Module?
}

/// The background compile service of an engine: hot functions are queued (interpreted ones
/// first, then by hotness; never twice), compiled by at most `threads` workers on Dispatch, and swapped in with one
/// release store into the module's entry table. A request whose module is gone is dropped.
final class TierUpService: @unchecked Sendable {
    /// Pending requests in `runsBefore` order (a binary heap).
    private struct RequestHeap {
        var items: [Request] = []
        var isEmpty: Bool { items.isEmpty }
        var count: Int { items.count }
        mutating func push(_ r: Request) {
            items.append(r)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.runsBefore(items[i], items[parent]) else { break }
                items.swapAt(parent, i)
                i = parent
            }
        }
        static func runsBefore(_ a: Request, _ b: Request) -> Bool {
            TierUpService.runsBefore(from: a.from, hotness: a.hotness, from: b.from, hotness: b.hotness)
        }
        mutating func popHottest() -> Request? {
            guard !items.isEmpty else { return nil }
            items.swapAt(0, items.count - 1)
            let top = items.removeLast()
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.runsBefore(items[l], items[m]) { m = l }
                if r < items.count && Self.runsBefore(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
            return top
        }
    }

    /// The queue's order: a function still in the interpreter before any that already runs
    /// compiled, then the hotter first. Baseline code counts far higher before it asks for the
    /// optimizing tier than the interpreter does before it asks for the baseline tier: by
    /// hotness alone the optimizing requests always went first, and interpreted functions waited
    /// for seconds behind them (Yosys: a median of 9.3 s), where leaving the interpreter gains
    /// the most and compiles fastest.
    static func runsBefore(from a: Tier, hotness ha: Int64, from b: Tier, hotness hb: Int64) -> Bool {
        let aInterpreted = a == .interpreter, bInterpreted = b == .interpreter
        if aInterpreted != bInterpreted { return aInterpreted }
        return ha > hb
    }

    /// One function to move up one tier. The tier list is open-ended: a request names its
    /// source and target, and a compiled tier will queue its own hot functions for the next.
    private struct Request {
        var module: WeakModule
        var index: Int
        var from: Tier
        var to: Tier
        var hotness: Int64
        var enqueued: UInt64
        /// An OSR entry at the loop at this Wasm offset instead of the function's code.
        var osrLoop: Int32? = nil
    }
    private struct State {
        var queue = RequestHeap()
        var running = 0
        var statistics = TieringStatistics()
        var chaosModules: [WeakModule] = []
        /// Modules with compiled code not yet written to the code cache.
        var unsaved: [WeakModule] = []
        var saving = 0
        /// The process is exiting and its calling thread works the queue too (`helpDrain`).
        var exitDrain = false
    }

    let threads: Int
    let log: (@Sendable (TierEvent) -> Void)?
    let start = DispatchTime.now().uptimeNanoseconds
    private let state = Locked(State())
    private var chaosTimer: DispatchSourceTimer?

    init(configuration: EngineConfiguration) {
        threads = max(1, configuration.compileThreads)
        log = configuration.tierLog
        if let seed = configuration.chaosSeed { startChaos(seed: seed) }
    }

    deinit { chaosTimer?.cancel() }

    var statistics: TieringStatistics {
        state.withLock { s in
            var r = s.statistics
            r.queueLength = s.queue.count
            return r
        }
    }

    /// Queues function `index` of `module` (the caller has claimed it: no duplicates).
    func request(_ module: Module, index: Int, from: Tier = .interpreter, to: Tier = .baseline, hotness: Int64, osrLoop: Int32? = nil) {
        let now = DispatchTime.now().uptimeNanoseconds
        let launch = state.withLock { s -> Bool in
            s.queue.push(Request(
                module: WeakModule(module: module), index: index, from: from, to: to, hotness: hotness, enqueued: now, osrLoop: osrLoop))
            s.statistics.requests += 1
            guard s.running < threads else { return false }
            s.running += 1
            return true
        }
        if launch { DispatchQueue.global(qos: .utility).async { self.work() } }
    }

    /// Compiles function `index` of `module` now, on this thread (the caller has claimed it):
    /// forced on-stack replacement (`OSRMode.firstBackEdge`), for the baseline tier or an
    /// optimizing OSR entry at `osrLoop`.
    func compileNow(_ module: Module, index: Int, hotness: Int64, osrLoop: Int32? = nil) {
        state.withLock { $0.statistics.requests += 1 }
        run(Request(module: WeakModule(module: module), index: index, from: osrLoop == nil ? .interpreter : .baseline,
                    to: osrLoop == nil ? .baseline : .optimizing, hotness: hotness,
                    enqueued: DispatchTime.now().uptimeNanoseconds, osrLoop: osrLoop))
        // The code cache is written by a worker when the queue drains: start one if none runs.
        let launch = state.withLock { s -> Bool in
            guard !s.unsaved.isEmpty, s.running < threads else { return false }
            s.running += 1
            return true
        }
        if launch { DispatchQueue.global(qos: .utility).async { self.work() } }
    }

    /// Counts a transfer of a running activation of defined function `function` from tier
    /// `from` to compiled code of tier `to` at the loop at `loopOffset`, and logs it. `times`:
    /// when that code was requested and how long it took to compile.
    func noteOSR(_ module: Module, function: Int, loopOffset: Int32, from: Tier, to: Tier, times: (requested: UInt64, compileTime: Double)?) {
        state.withLock { $0.statistics.osrTransfers += 1 }
        guard let log else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let index = UInt32(module.importedFunctionCount + function)
        log(TierEvent(
            kind: .osr(loopOffset: Int(loopOffset)), functionIndex: index, functionName: module.functionName(index),
            from: from, to: to,
            queueWait: times.map { Double(now &- $0.requested) / 1e9 } ?? 0, compileTime: times?.compileTime ?? 0,
            swappedAt: Double(now - start) / 1e9, codeBytes: 0, hotness: 0))
    }

    private func work() {
        while true {
            let next = state.withLock { s -> Request? in s.queue.popHottest() }
            guard let r = next else {
                // Nothing left to compile: write what was compiled to the code cache, then stop
                // (unless a request arrived meanwhile).
                saveUnsaved()
                let stop = state.withLock { s -> Bool in
                    guard s.queue.isEmpty else { return false }
                    s.running -= 1
                    return true
                }
                if stop { return }
                continue
            }
            run(r)
        }
    }

    /// Compiles what `r` asks for, swaps it in, counts and logs it.
    private func run(_ r: Request) {
        guard let module = r.module.module else {  // cancelled: the module is gone
            state.withLock { $0.statistics.cancelled += 1 }
            return
        }
        let begin = DispatchTime.now().uptimeNanoseconds
        let outcome = r.osrLoop.map { module.compileForOSR(r.index, loop: $0, requested: r.enqueued) }
            ?? module.compileForTierUp(r.index, to: r.to, requested: r.enqueued)
        let end = DispatchTime.now().uptimeNanoseconds
        let refused = module.takeUnsavedRefusals()  // the entry keeps refusals too
        let index = UInt32(module.importedFunctionCount + r.index)
        var event = TierEvent(
            kind: .compiled, functionIndex: index, functionName: module.functionName(index), from: r.from, to: r.to,
            queueWait: Double(begin - r.enqueued) / 1e9, compileTime: Double(end - begin) / 1e9,
            swappedAt: Double(end - start) / 1e9, codeBytes: 0, hotness: Int(r.hotness))
        state.withLock { s in
            switch outcome {
            case .success(let bytes) where r.osrLoop != nil:
                event.kind = .compiledForOSR(loopOffset: Int(r.osrLoop!))
                event.codeBytes = bytes
                s.statistics.osrCompiles += 1
                s.statistics.compileSeconds[r.to, default: 0] += event.compileTime
                s.statistics.codeBytes += bytes
            case .success(let bytes):
                event.codeBytes = bytes
                s.statistics.functionsCompiled[r.to, default: 0] += 1
                s.statistics.compileSeconds[r.to, default: 0] += event.compileTime
                s.statistics.codeBytes += bytes
                if chaosTimer != nil, !s.chaosModules.contains(where: { $0.module === module }) {
                    s.chaosModules.append(WeakModule(module: module))
                }
                if module.cacheKey != nil, !s.unsaved.contains(where: { $0.module === module }) {
                    s.unsaved.append(WeakModule(module: module))
                }
            case .failure(let reason):
                event.kind = .notCompiled(reason.message)
                s.statistics.notCompiled += 1
                if refused, !s.unsaved.contains(where: { $0.module === module }) {
                    s.unsaved.append(WeakModule(module: module))
                }
            }
        }
        log?(event)
    }

    /// Writes every module with unsaved compiled code to the code cache.
    private func saveUnsaved() {
        let modules = state.withLock { s -> [Module] in
            let m = s.unsaved.compactMap(\.module)
            s.unsaved.removeAll()
            s.saving += m.count
            return m
        }
        for m in modules { m.saveToCache() }
        if !modules.isEmpty {
            state.withLock { s in
                s.saving -= modules.count
                s.statistics.cacheStores += modules.count
            }
        }
    }

    /// Saves `module` to the code cache in the background (the baseline tier's eager compile).
    func scheduleSave(_ module: Module) {
        let launch = state.withLock { s -> Bool in
            s.unsaved.append(WeakModule(module: module))
            guard s.running < threads else { return false }
            s.running += 1
            return true
        }
        // A strong reference until the save is done: the module is written even if dropped.
        if launch { DispatchQueue.global(qos: .utility).async { withExtendedLifetime(module) { self.work() } } }
    }

    /// Writes `module`'s file copy and record to the code cache in the background
    /// (`Module.saveFileCopy`); waiting for idle waits for it too.
    func scheduleFileCopy(_ module: Module) {
        state.withLock { $0.saving += 1 }
        DispatchQueue.global(qos: .utility).async {
            module.saveFileCopy()
            self.state.withLock { $0.saving -= 1 }
        }
    }

    func noteCache(hit: Bool, loaded: Int, enabled: Bool) {
        guard enabled else { return }
        state.withLock { s in
            if hit { s.statistics.cacheHits += 1 } else { s.statistics.cacheMisses += 1 }
            s.statistics.functionsLoadedFromCache += loaded
        }
    }

    /// Runs the queue on the calling thread as one more worker, until it is empty (then saves,
    /// as any worker does).
    func helpDrain() {
        let join = state.withLock { s -> Bool in
            s.exitDrain = true
            guard !s.queue.isEmpty else { return false }
            s.running += 1
            return true
        }
        if join { work() }
    }

    /// Threads a save may compile on: `compileThreads`, one more once the exiting caller helps.
    var saveWorkers: Int { threads + (state.withLock { $0.exitDrain } ? 1 : 0) }

    /// Drops the queued on-stack-replacement requests (counted as cancelled).
    func dropQueuedOSR() {
        state.withLock { s in
            let kept = s.queue.items.filter { $0.osrLoop == nil }
            s.statistics.cancelled += s.queue.count - kept.count
            s.queue = RequestHeap()
            for r in kept { s.queue.push(r) }
        }
    }

    /// Waits until nothing is queued, compiling or being saved (at most `timeout` seconds).
    func waitUntilIdle(timeout: Double) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            let idle = state.withLock { $0.queue.isEmpty && $0.running == 0 && $0.saving == 0 && $0.unsaved.isEmpty }
            if idle { return }
            usleep(1000)
        }
    }

    /// Chaos mode: every millisecond, one compiled function of a live module has its entry
    /// swapped to the other tier (interpreter <-> baseline), from a seeded generator.
    private func startChaos(seed: UInt64) {
        var rng = ChaosGenerator(seed: seed)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "strata.chaos"))
        timer.schedule(deadline: .now() + .milliseconds(1), repeating: .milliseconds(1))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            let modules = self.state.withLock { s -> [Module] in
                s.chaosModules.removeAll { $0.module == nil }
                return s.chaosModules.compactMap(\.module)
            }
            guard !modules.isEmpty else { return }
            let module = modules[Int(rng.next() % UInt64(modules.count))]
            if let (index, from, to) = module.chaosSwap(random: rng.next()) {
                let f = UInt32(module.importedFunctionCount + index)
                self.log?(TierEvent(
                    kind: .swapped, functionIndex: f, functionName: module.functionName(f), from: from, to: to,
                    queueWait: 0, compileTime: 0, swappedAt: Double(DispatchTime.now().uptimeNanoseconds - self.start) / 1e9,
                    codeBytes: 0, hotness: 0))
            }
        }
        timer.resume()
        chaosTimer = timer
    }
}

struct ChaosGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The interpreter's slow path when a function's hotness reaches its threshold: the function
/// is queued once (the threshold is raised out of reach first).
@inline(never)
func requestTierUp(_ fc: UnsafeMutablePointer<FunctionCode>, vmctx: UnsafeMutablePointer<StrataVMContext>) {
    strata_hotness_set_threshold(&fc.pointee.hotness, Int64.max)
    guard let opaque = vmctx.pointee.instance else { return }
    let module = Unmanaged<InstanceRuntime>.fromOpaque(opaque).takeUnretainedValue().module
    let index = fc.pointee.definedIndex
    guard module.claimTierUp(index) else { return }
    module.engine.tierUp.request(module, index: index, hotness: strata_hotness_count(&fc.pointee.hotness))
}
