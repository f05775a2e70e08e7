import CStrata
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lets another thread interrupt code running in a store: the running call (or, if none
/// runs, the next one) ends with an "interrupted" trap at its next loop back edge or call.
public final class InterruptHandle: @unchecked Sendable {
    let flag: UnsafeMutablePointer<UInt32>
    init() {
        flag = .allocate(capacity: 1)
        flag.initialize(to: 0)
    }
    deinit { flag.deallocate() }
    public func interrupt() { strata_store_interrupt(flag, 1) }
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
    private var hostError: (any Error)?
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
        if let (p, n) = stackMemory { munmap(p, n) }
        if let (p, n) = frameMemory { munmap(p, n) }
        state?.deallocate()
        idleContext.deallocate()
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
        let s = UnsafeMutablePointer<ExecState>.allocate(capacity: 1)
        s.initialize(to: ExecState(
            fp: base, vmctx: idleContext, memBase: nil, memSize: 0, stackEnd: base + words,
            frames: frames.assumingMemoryBound(to: CallFrame.self), frameCount: 0, frameLimit: frameCount - 1,
            current: nil, trap: .none, trapPC: nil, interrupt: interruptHandle.flag,
            store: Unmanaged.passUnretained(self), reentryTop: base,
            compiledEntry: engine.configuration.tier == .interpreter ? nil : (try? JITRuntime.shared.get())?.entry,
            callWeight: Int64(engine.configuration.callWeight), loopWeight: Int64(engine.configuration.loopWeight)))
        state = s
        return OpaquePointer(s)
    }

    /// Instantiates `module` with imports given in the module's import order.
    public func instantiate(_ module: Module, imports: [Extern] = []) throws -> Instance {
        Instance(store: self, runtime: try InstanceRuntime(module: module, store: self, imports: imports))
    }
}
