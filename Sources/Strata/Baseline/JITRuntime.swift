import CStrata

/// What every compiled tier needs once per process: the host-entry trampoline (the frame the
/// trap handler unwinds to), the signal handlers, the builtin table and the CPU check.
final class JITRuntime: @unchecked Sendable {
    /// The process's runtime, or why compiled tiers cannot run here.
    static let shared: Result<JITRuntime, WasmError> = Result { () throws(WasmError) in try JITRuntime() }

    static func get() throws(WasmError) -> JITRuntime {
        switch shared {
        case .success(let r): return r
        case .failure(let e): throw e
        }
    }
    /// The runtime, when compiled code may use `features` (`EngineConfiguration.codeFeatures`:
    /// the CPU's, less those a configuration masks for tests).
    static func get(features: UInt32) throws(WasmError) -> JITRuntime {
        let r = try get()
        try check(features)
        return r
    }

    // SSE4.2 for pcmpgtq (i64x2 compares, abs and shifts); every CPU with LZCNT has it.
    static let requiredFeatures = STRATA_CPU_SSE41 | STRATA_CPU_SSE42 | STRATA_CPU_POPCNT | STRATA_CPU_LZCNT | STRATA_CPU_BMI1
    static func check(_ features: UInt32) throws(WasmError) {
        guard features & requiredFeatures == requiredFeatures else {
            throw WasmError(.unsupported, "compiled tiers need an x86-64 CPU with SSE4.2, POPCNT, LZCNT and BMI1")
        }
    }

    /// entry(code, vmctx, slots, record) -> trap kind (0 = returned normally).
    typealias EntryFunction = @convention(c) (
        UnsafeRawPointer, UnsafeMutableRawPointer, UnsafeMutablePointer<UInt64>, UnsafeRawPointer
    ) -> UInt32

    let entry: EntryFunction
    private let trampoline: ExecutableMemory
    /// The trampoline's code: start and size (for debuggers).
    let trampolineRange: (start: UInt, size: Int)
    /// Builtin function addresses, indexed by `Builtin.rawValue` (vmctx->builtins).
    let builtins: UnsafeMutablePointer<UnsafeRawPointer?>

    private init() throws(WasmError) {
        try Self.check(strata_cpu_features())
        // The trap handler recognizes exceptions by this kind.
        precondition(TrapKind.exception.rawValue == STRATA_TRAP_KIND_EXCEPTION, "STRATA_TRAP_KIND_EXCEPTION is not TrapKind.exception")
        guard strata_install_signal_handlers() == 0 else {
            throw WasmError(.unsupported, "cannot install signal handlers for compiled code")
        }
        // push rbp; mov rbp, rsp; save callee-saved registers; call code(vmctx, slots, record).
        // The return address of that call marks an entry frame for the trap handler, which
        // resumes a trapping thread right there (the landing) with the trap kind in eax.
        var a = X64Assembler()
        a.push(.rbp); a.mov(.w64, .rbp, .rsp)
        a.push(.rbx); a.push(.r12); a.push(.r13); a.push(.r14); a.push(.r15)
        a.alu(.sub, .w64, .rsp, imm: 8)
        a.mov(.w64, .rax, .rdi)
        a.mov(.w64, .rdi, .rsi)
        a.mov(.w64, .rsi, .rdx)
        a.mov(.w64, .rdx, .rcx)
        a.call(.rax)
        let landing = a.offset
        a.leaveFrame(restoring: [.rbx, .r12, .r13, .r14, .r15])  // the landing comes with any rsp
        a.ret()
        trampoline = try ExecutableMemory(bytes: a.bytes)
        trampolineRange = (UInt(bitPattern: trampoline.base), a.bytes.count)
        let base = UInt(bitPattern: trampoline.base)
        strata_set_entry_trampoline(base + UInt(landing), base + UInt(landing), 48)
        entry = unsafeBitCast(trampoline.base, to: EntryFunction.self)

        builtins = .allocate(capacity: Builtin.allCases.count)
        for b in Builtin.allCases { builtins[b.rawValue] = b.address }
    }

    /// Runs compiled code from the host (or from the interpreter) with the slot-buffer calling
    /// convention. Returns the trap kind, 0 when the code returned.
    @inline(__always)
    func call(_ record: UnsafeMutablePointer<FunctionCode>, vmctx: UnsafeMutablePointer<StrataVMContext>, slots: UnsafeMutablePointer<UInt64>) -> UInt32 {
        entry(record.pointee.nativeEntry!, UnsafeMutableRawPointer(vmctx), slots, UnsafeRawPointer(record))
    }

    /// Calls compiled code from the host: checks nesting and the native stack, runs it, and
    /// turns a trap into a `Trap` with the backtrace the handler recorded.
    static func invoke(
        store: Store, code fc: UnsafeMutablePointer<FunctionCode>, vmctx: UnsafeMutablePointer<StrataVMContext>,
        slots: UnsafeMutablePointer<Slot>
    ) throws(Trap) {
        guard case .success(let runtime) = shared else { throw Trap(.hostError, hostMessage: "compiled code cannot run here") }
        guard store.nesting < store.engine.configuration.maxHostNesting else { throw Trap(.callStackExhausted) }
        store.nesting += 1
        defer { store.nesting -= 1 }
        store.prepareNativeStack()
        let status = runtime.call(fc, vmctx: vmctx, slots: slots)
        if status != 0 { throw store.trapFromCompiledCode(status) }
    }
}

extension Store {
    /// Gives this thread an alternate signal stack and tells compiled code of every instance
    /// where this thread's stack ends.
    func prepareNativeStack() {
        strata_thread_prepare()
        let limit = UInt64(strata_thread_stack_limit())
        if limit != appliedStackLimit {
            appliedStackLimit = limit
            interruptHandle.setStackLimit(limit)
        }
    }

    /// The trap kind compiled code returned. A failed stack check while an interrupt is pending
    /// is the interrupt (it set the limit out of reach, see `InterruptHandle`).
    func trapKind(compiledStatus status: UInt32) -> TrapKind {
        let kind = TrapKind(rawValue: status) ?? .hostError
        return kind == .callStackExhausted && interruptHandle.isSet ? .interrupted : kind
    }

    /// The `Trap` for a trap kind returned by the entry trampoline, with the compiled frames
    /// the handler recorded and the frames of any interpreter activation that trapped inside.
    func trapFromCompiledCode(_ status: UInt32) -> Trap {
        let kind = trapKind(compiledStatus: status)
        let trace = compiledBacktrace(status)
        if kind == .interrupted { interruptHandle.clear() }
        return trap(kind, backtrace: trace)
    }

    /// The `Trap` an activation that stopped with `kind` throws to the host, with the host
    /// error or the exception the store holds for it (taken: they belong to this trap).
    func trap(_ kind: TrapKind, backtrace: [BacktraceFrame]) -> Trap {
        var t = Trap(kind, backtrace: backtrace)
        if kind == .hostError, let error = takeHostError() {
            t.hostMessage = "\(error)"
            t.box = ErrorBox(error)
        }
        if kind == .exception {
            t.exception = pendingException
            pendingException = nil
        }
        return t
    }

    /// The trap status Wasm code sees for what a host function threw: a `Trap` goes on as its
    /// kind (its host error or exception kept in the store), a Wasm `Exception` is thrown into
    /// the calling code, any other error is a host error. One translation for calls from the
    /// interpreter and from compiled code.
    func trapStatus(forHostFailure error: any Error) -> TrapKind {
        switch error {
        case let t as Trap:
            if t.kind == .hostError { setHostError(t.hostError ?? HostMessage(t.hostMessage ?? "host error")) }
            if t.kind == .exception { pendingException = t.exception }
            return t.kind
        case let e as Exception:
            pendingException = e
            return .exception
        default:
            setHostError(error)
            return .hostError
        }
    }

    /// The Wasm frames of a trap the entry trampoline returned: the compiled frames the
    /// handler recorded, after the frames of any activation that trapped inside them.
    func compiledBacktrace(_ status: UInt32) -> [BacktraceFrame] {
        var trace: [BacktraceFrame] = []
        let record = strata_trap_record()!
        if record.pointee.kind == status {
            let count = Int(record.pointee.frameCount)
            withUnsafeBytes(of: &record.pointee.pcs) { raw in
                let pcs = raw.bindMemory(to: UInt.self)
                for k in 0..<count {
                    CompiledCode.appendBacktraceFrames(pc: pcs[k], isReturnAddress: k > 0, to: &trace)
                }
            }
            record.pointee.kind = 0
        }
        // An interpreter activation or host function below the trapping call site left its
        // frames: they are the innermost ones.
        if !pendingBacktrace.isEmpty {
            trace = pendingBacktrace + trace
            pendingBacktrace = []
        }
        return trace
    }
}
