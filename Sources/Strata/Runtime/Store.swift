import CStrata
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lets another thread interrupt code running in a store: the running call (or, if none
/// runs, the next one) ends with an "interrupted" trap at its next loop back edge or call.
///
/// The interpreter polls the flag. Compiled code does not read it: an interrupt also sets the
/// stack limit of every VM context of the store to the top of the address space, so the
/// stack-limit check compiled code makes anyway at function entry fails, and the trap is
/// reported as "interrupted" while the flag is set (V8's stack guard works the same way); and
/// it makes each VM context's interrupt page unreadable, so the read compiled code makes at
/// every loop header faults at a trap site of kind "interrupted" (HotSpot's safepoint polls
/// work the same way). Clearing the flag puts the thread's real limit back and the pages'
/// read access. One lock orders the three writers (interrupt, clear, a new thread's limit),
/// so a limit is never restored over a pending interrupt.
public final class InterruptHandle: @unchecked Sendable {
    let flag: UnsafeMutablePointer<UInt32>
    private struct Contexts {
        var vmctxs: [UnsafeMutablePointer<StrataVMContext>] = []
        /// The stack limit of the thread running the store (0: none yet).
        var limit: UInt64 = 0
        /// The interpreter's call limit (`ExecState.callLimit`) and its value while no
        /// interrupt is pending; nil before the store's execution state exists.
        var interpreterLimit: (field: UnsafeMutablePointer<UInt>, value: UInt)? = nil
    }
    private let contexts = Locked(Contexts())

    init() {
        flag = .allocate(capacity: 1)
        flag.initialize(to: 0)
    }
    deinit { flag.deallocate() }

    public func interrupt() {
        contexts.withLock { c in
            strata_store_interrupt(flag, 1)
            if let l = c.interpreterLimit { strata_store_call_limit(l.field, 0) }
            for v in c.vmctxs {
                strata_store_stack_limit(v, UInt64.max)
                InstanceStorage.setInterruptPage(of: v, pending: true)
            }
        }
    }

    /// Whether an interrupt is pending.
    var isSet: Bool { strata_load_interrupt(flag) != 0 }

    /// Ends a pending interrupt (its trap was reported) and gives compiled code its limit back.
    func clear() {
        contexts.withLock { c in
            strata_store_interrupt(flag, 0)
            if let l = c.interpreterLimit { strata_store_call_limit(l.field, l.value) }
            for v in c.vmctxs {
                strata_store_stack_limit(v, c.limit)
                InstanceStorage.setInterruptPage(of: v, pending: false)
            }
        }
    }

    /// The limit of the thread that runs the store now, for every VM context (still failing
    /// while an interrupt is pending).
    func setStackLimit(_ limit: UInt64) {
        contexts.withLock { c in
            c.limit = limit
            let effective = isSet ? UInt64.max : limit
            for v in c.vmctxs { strata_store_stack_limit(v, effective) }
        }
    }

    /// A VM context of the store that compiled code may run in, until `detachAll`.
    func attach(_ vmctx: UnsafeMutablePointer<StrataVMContext>) {
        contexts.withLock { c in
            c.vmctxs.append(vmctx)
            strata_store_stack_limit(vmctx, isSet ? UInt64.max : c.limit)
            if isSet { InstanceStorage.setInterruptPage(of: vmctx, pending: true) }
        }
    }

    /// The interpreter's call limit of the store's execution state: 0 while an interrupt is
    /// pending (every call then takes the slow path, which sees the flag), `field`'s value
    /// otherwise.
    func attachInterpreter(_ field: UnsafeMutablePointer<UInt>) {
        contexts.withLock { c in
            c.interpreterLimit = (field, strata_load_call_limit(field))
            if isSet { strata_store_call_limit(field, 0) }
        }
    }

    /// The store is going away (the handle may outlive it in another thread's hands).
    func detachAll() {
        contexts.withLock {
            $0.vmctxs.removeAll()
            $0.interpreterLimit = nil
        }
    }
}

/// Owns instances, host functions and the execution state. A store is used by one thread at
/// a time (it is not `Sendable`); modules and the engine are shared.
public final class Store {
    public let engine: Engine
    public let interruptHandle = InterruptHandle()
    var instances: [InstanceRuntime] = []
    var hostFunctions: [HostFunction] = []
    var nesting = 0
    /// The native stack limit last written into this store's VM contexts (compiled code).
    var appliedStackLimit: UInt64 = 0
    /// Frames of an activation that trapped below a compiled call site (innermost first),
    /// waiting to be joined with the compiled frames above it.
    var pendingBacktrace: [BacktraceFrame] = []
    /// The exception being thrown, while it unwinds (trap kind `.exception`).
    var pendingException: Exception?
    /// The exceptions whose `exnref` Wasm code may hold: those a `catch_ref` or `catch_all_ref`
    /// caught and those the host passed in (an exception thrown and caught by `catch` or
    /// `catch_all` is never kept: only `pendingException` holds it while it is in flight).
    /// Released when unreachable after an outermost call (`releaseExceptions`).
    private var exceptions: [ObjectIdentifier: Exception] = [:]
    /// The count of kept exceptions at which the next outermost call looks for unreachable ones.
    private var exceptionCollectionAt = 256
    func keepAlive(_ e: Exception) { exceptions[ObjectIdentifier(e)] = e }
    var keptExceptionCount: Int { exceptions.count }

    /// After an outermost call (no Wasm frame runs, so no local or operand holds an exnref):
    /// keeps the exceptions an exnref global or table of the store's instances, or one of
    /// `results`, points at, and releases the others (host `Value`s hold their own). Runs when
    /// the count has doubled since the last time, so its cost is amortized over the throws.
    func releaseExceptions(results: UnsafePointer<Slot>, types: UnsafeBufferPointer<ValueType>) {
        guard nesting == 0, exceptions.count >= exceptionCollectionAt else { return }
        var reachable = Set<UInt64>()
        for (k, t) in types.enumerated() where Self.holdsExceptions(t) { reachable.insert(results[k * wordsPerSlot]) }
        for instance in instances {
            for g in instance.globals where Self.holdsExceptions(g.type.value) { reachable.insert(g.cell[0]) }
            for t in instance.tables where Self.holdsExceptions(t.type.element) {
                for i in 0..<t.count { reachable.insert(t.elements[i]) }
            }
        }
        if let e = pendingException { reachable.insert(e.reference) }
        // (An exception holds those in its payload itself.)
        exceptions = exceptions.filter { reachable.contains($0.value.reference) }
        exceptionCollectionAt = max(256, 2 * exceptions.count)
    }

    static func holdsExceptions(_ t: ValueType) -> Bool { t.isReference && t.heapType == .exn }
    private var hostError: (any Error)?
    /// Where compiled code leaves a tail call for `strata_builtin_tail_call` (every VM context
    /// of the store points at it; allocated with the first instance that may run compiled code).
    private(set) lazy var tailCallArea: UnsafeMutablePointer<StrataTailCall> = {
        let p = UnsafeMutablePointer<StrataTailCall>.allocate(capacity: 1)
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<StrataTailCall>.size)
        tailCallAreaAllocated = true
        return p
    }()
    private var tailCallAreaAllocated = false
    private var state: UnsafeMutablePointer<ExecState>?
    private var stackMemory: (UnsafeMutableRawPointer, Int)?
    private var frameMemory: (UnsafeMutableRawPointer, Int)?
    /// Whether calls may reach compiled code (every mode but the interpreter's), read on each
    /// call from the host.
    let mayRunCompiledCode: Bool
    /// A placeholder vmctx for the idle state.
    private let idleContext: UnsafeMutablePointer<StrataVMContext>

    public init(engine: Engine) {
        self.engine = engine
        mayRunCompiledCode = engine.configuration.tier != .interpreter
        idleContext = .allocate(capacity: 1)
        idleContext.initialize(to: StrataVMContext())
    }

    deinit {
        interruptHandle.detachAll()
        if let (p, n) = stackMemory { munmap(p, n) }
        if let (p, n) = frameMemory { munmap(p, n) }
        state?.pointee.activationMarkers.deallocate()
        state?.deallocate()
        idleContext.deallocate()
        if tailCallAreaAllocated { tailCallArea.deallocate() }
    }

    /// Asks the running call to stop (same as `interruptHandle.interrupt()`).
    public func interrupt() { interruptHandle.interrupt() }

    func setHostError(_ e: any Error) { hostError = e }
    func takeHostError() -> (any Error)? {
        defer { hostError = nil }
        return hostError
    }

    private static func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != MAP_FAILED else { fatalError("Strata: cannot reserve \(bytes) bytes for the value stack") }
        return p
    }

    /// The execution state, created on first use (pages of the stacks are touched lazily).
    func execState() -> StatePointer {
        if let state { return OpaquePointer(state) }
        let words = max(engine.configuration.stackSlots, 1024) * wordsPerSlot
        let stackBytes = words * MemoryLayout<Slot>.stride
        let stack = Self.reserve(stackBytes)
        let frameCount = max(engine.configuration.maxCallDepth, 16)
        let frameBytes = frameCount * MemoryLayout<CallFrame>.stride
        let frames = Self.reserve(frameBytes)
        stackMemory = (stack, stackBytes)
        frameMemory = (frames, frameBytes)
        let base = stack.assumingMemoryBound(to: Slot.self)
        let markerCapacity = max(engine.configuration.maxHostNesting, 0) + 1
        let s = UnsafeMutablePointer<ExecState>.allocate(capacity: 1)
        s.initialize(to: ExecState(
            fp: base, vmctx: idleContext, memBase: nil, memSize: 0, stackEnd: base + words,
            callLimit: UInt(bitPattern: base + words), frames: frames.assumingMemoryBound(to: CallFrame.self),
            frameTop: frames.assumingMemoryBound(to: CallFrame.self),
            frameEnd: frames.assumingMemoryBound(to: CallFrame.self) + (frameCount - 1),
            current: nil, trap: .none, trapPC: nil, interrupt: interruptHandle.flag,
            store: Unmanaged.passUnretained(self), reentryTop: base,
            compiledEntry: engine.configuration.tier == .interpreter ? nil : (try? JITRuntime.shared.get())?.entry,
            // Only tiered mode tiers up: the other modes' calls count nothing (`enterFunction`).
            callWeight: engine.configuration.tier == .tiered ? Int64(engine.configuration.callWeight) : 0,
            loopWeight: Int64(engine.configuration.loopWeight),
            activationMarkers: .allocate(capacity: markerCapacity), activationCapacity: markerCapacity))
        let configuration = engine.configuration
        s.pointee.countsBackEdges = configuration.tier == .tiered
        if configuration.tier == .tiered && configuration.osr != .disabled {
            s.pointee.osrMode = configuration.osr
            if configuration.osr == .firstBackEdge { s.pointee.backEdgePeriod = 1 }
            s.pointee.chaos = configuration.chaosSeed.map { ChaosGenerator(seed: $0 ^ 0x05E5_05E5) }
        }
        state = s
        interruptHandle.attachInterpreter(
            (UnsafeMutableRawPointer(s) + MemoryLayout<ExecState>.offset(of: \.callLimit)!).assumingMemoryBound(to: UInt.self))
        return OpaquePointer(s)
    }

    /// Instantiates `module` with imports given in the module's import order.
    public func instantiate(_ module: Module, imports: [Extern] = []) throws -> Instance {
        Instance(store: self, runtime: try InstanceRuntime(module: module, store: self, imports: imports))
    }
}
