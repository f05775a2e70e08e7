import CStrata

// Runtime functions compiled code calls (C calling convention) through the VM context's builtin
// table. Each returns a trap kind (0 = fine) unless it cannot trap; the semantics are the same
// instance operations the interpreter uses.

typealias VMContextPointer = UnsafeMutablePointer<StrataVMContext>

@inline(__always) private func instance(_ vm: VMContextPointer) -> InstanceRuntime {
    Unmanaged<InstanceRuntime>.fromOpaque(vm.pointee.instance!).takeUnretainedValue()
}
@inline(__always) private func status(_ t: TrapKind?) -> UInt32 { t?.rawValue ?? 0 }

@_cdecl("strata_builtin_memory_grow")
func builtinMemoryGrow(_ vm: VMContextPointer, _ delta: UInt32) -> UInt32 {
    instance(vm).growMemory0(by: UInt64(delta)).map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max
}
@_cdecl("strata_builtin_memory_init")
func builtinMemoryInit(_ vm: VMContextPointer, _ segment: UInt32, _ d: UInt32, _ s: UInt32, _ n: UInt32) -> UInt32 {
    status(instance(vm).memoryInit(segment: Int(segment), dst: d, src: s, count: n))
}
@_cdecl("strata_builtin_data_drop")
func builtinDataDrop(_ vm: VMContextPointer, _ segment: UInt32) -> UInt32 {
    instance(vm).dataDrop(Int(segment)); return 0
}
// Other memories (multi-memory, memory64): the memory index comes as an immediate, operands
// as 64-bit words (a 32-bit memory's are truncated here, so code need not zero-extend them).
@inline(__always) private func memoryOperand(_ v: UInt64, _ is64: Bool) -> UInt64 {
    is64 ? v : UInt64(UInt32(truncatingIfNeeded: v))
}
@_cdecl("strata_builtin_memory_grow_at")
func builtinMemoryGrowAt(_ vm: VMContextPointer, _ memory: UInt32, _ delta: UInt64) -> UInt64 {
    let runtime = instance(vm)
    let is64 = runtime.memories[Int(memory)].type.is64
    return runtime.growMemory(Int(memory), by: memoryOperand(delta, is64)) ?? memoryOperand(UInt64.max, is64)
}
@_cdecl("strata_builtin_memory_init_at")
func builtinMemoryInitAt(_ vm: VMContextPointer, _ segment: UInt32, _ memory: UInt32, _ d: UInt64, _ s: UInt64, _ n: UInt64) -> UInt32 {
    let runtime = instance(vm)
    let dst = memoryOperand(d, runtime.memories[Int(memory)].type.is64)
    return status(runtime.memoryInit(segment: Int(segment), memory: Int(memory), dst: dst,
                                     src: UInt32(truncatingIfNeeded: s), count: UInt32(truncatingIfNeeded: n)))
}
@_cdecl("strata_builtin_memory_copy_at")
func builtinMemoryCopyAt(_ vm: VMContextPointer, _ dm: UInt32, _ sm: UInt32, _ d: UInt64, _ s: UInt64, _ n: UInt64) -> UInt32 {
    let runtime = instance(vm)
    let d64 = runtime.memories[Int(dm)].type.is64, s64 = runtime.memories[Int(sm)].type.is64
    return status(MemoryOperations.copy(vm.pointee.memories[Int(dm)], vm.pointee.memories[Int(sm)],
                                        dst: memoryOperand(d, d64), src: memoryOperand(s, s64), count: memoryOperand(n, d64 && s64)))
}
@_cdecl("strata_builtin_memory_fill_at")
func builtinMemoryFillAt(_ vm: VMContextPointer, _ memory: UInt32, _ d: UInt64, _ v: UInt64, _ n: UInt64) -> UInt32 {
    let is64 = instance(vm).memories[Int(memory)].type.is64
    return status(MemoryOperations.fill(vm.pointee.memories[Int(memory)], dst: memoryOperand(d, is64),
                                        value: UInt8(truncatingIfNeeded: v), count: memoryOperand(n, is64)))
}
// Table operands come as 64-bit words: a 32-bit table's are truncated (code need not
// zero-extend them), a 64-bit table's saturated to 2^32 - 1, which is out of bounds exactly
// when the value is (tables hold at most `Table.maxElements`).
@inline(__always) private func tableOperand(_ v: UInt64, _ is64: Bool) -> UInt32 {
    is64 ? UInt32(min(v, UInt64(UInt32.max))) : UInt32(truncatingIfNeeded: v)
}
@_cdecl("strata_builtin_table_grow")
func builtinTableGrow(_ vm: VMContextPointer, _ table: UInt32, _ initial: UInt64, _ delta: UInt64) -> UInt64 {
    let runtime = instance(vm)
    let is64 = runtime.tables[Int(table)].type.is64
    // A 64-bit table's delta of 2^32 or more cannot be met (the result is -1 either way).
    guard !is64 || delta <= UInt64(UInt32.max) else { return UInt64.max }
    return runtime.tableGrow(table: Int(table), initial: initial, delta: UInt32(truncatingIfNeeded: delta))
        ?? (is64 ? UInt64.max : UInt64(UInt32.max))
}
@_cdecl("strata_builtin_table_fill")
func builtinTableFill(_ vm: VMContextPointer, _ table: UInt32, _ i: UInt64, _ value: UInt64, _ n: UInt64) -> UInt32 {
    let runtime = instance(vm)
    let is64 = runtime.tables[Int(table)].type.is64
    return status(runtime.tableFill(table: Int(table), start: tableOperand(i, is64), value: value, count: tableOperand(n, is64)))
}
@_cdecl("strata_builtin_table_copy")
func builtinTableCopy(_ vm: VMContextPointer, _ dt: UInt32, _ st: UInt32, _ d: UInt64, _ s: UInt64, _ n: UInt64) -> UInt32 {
    let runtime = instance(vm)
    let d64 = runtime.tables[Int(dt)].type.is64, s64 = runtime.tables[Int(st)].type.is64
    return status(runtime.tableCopy(dstTable: Int(dt), srcTable: Int(st), dst: tableOperand(d, d64), src: tableOperand(s, s64),
                                    count: tableOperand(n, d64 && s64)))
}
@_cdecl("strata_builtin_table_init")
func builtinTableInit(_ vm: VMContextPointer, _ table: UInt32, _ segment: UInt32, _ d: UInt64, _ s: UInt64, _ n: UInt64) -> UInt32 {
    let runtime = instance(vm)
    let is64 = runtime.tables[Int(table)].type.is64
    return status(runtime.tableInit(table: Int(table), segment: Int(segment), dst: tableOperand(d, is64),
                                    src: UInt32(truncatingIfNeeded: s), count: UInt32(truncatingIfNeeded: n)))
}
@_cdecl("strata_builtin_elem_drop")
func builtinElemDrop(_ vm: VMContextPointer, _ segment: UInt32) -> UInt32 {
    instance(vm).elemDrop(Int(segment)); return 0
}

/// Calls a host function from compiled code (slot-buffer convention).
@_cdecl("strata_builtin_call_host")
func builtinCallHost(_ vm: VMContextPointer, _ ref: UnsafeMutablePointer<StrataFuncRef>, _ slots: UnsafeMutablePointer<UInt64>) -> UInt32 {
    let caller = instance(vm)
    let store = caller.store
    let host = Unmanaged<HostFunction>.fromOpaque(ref.pointee.owner!).takeUnretainedValue()
    do {
        try host.call(caller: Caller(runtime: caller, store: store), slots: slots)
        return 0
    } catch {
        // A trap from Wasm code the host function called keeps its frames for the backtrace.
        if let t = error as? Trap { store.pendingBacktrace = t.backtrace }
        return store.trapStatus(forHostFailure: error).rawValue
    }
}

/// The conversions compiled code does not inline: float-to-int truncations (trapping and
/// saturating) and u64-to-float. Writes the result's bits to `out`.
@_cdecl("strata_builtin_convert")
func builtinConvert(_ vm: VMContextPointer, _ opcode: UInt32, _ bits: UInt64, _ out: UnsafeMutablePointer<UInt64>) -> UInt32 {
    let f32 = Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
    let f64 = Double(bitPattern: bits)
    func trunc<I: FixedWidthInteger>(_ x: Double, _ lo: Double, _ hi: Double, _: I.Type) -> UInt32 {
        if let t = truncCheck(x, lowerExclusive: lo, upperExclusive: hi) { return t.rawValue }
        out.pointee = UInt64(truncatingIfNeeded: I(x.rounded(.towardZero))) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0)
        return 0
    }
    switch opcode {
    case 0xA8: return trunc(f32, -2147483649.0, 2147483648.0, Int32.self)
    case 0xA9: return trunc(f32, -1.0, 4294967296.0, UInt32.self)
    case 0xAA: return trunc(f64, -2147483649.0, 2147483648.0, Int32.self)
    case 0xAB: return trunc(f64, -1.0, 4294967296.0, UInt32.self)
    case 0xAE: return trunc(f32, -9223373136366403584.0, 9223372036854775808.0, Int64.self)
    case 0xAF: return trunc(f32, -1.0, 18446744073709551616.0, UInt64.self)
    case 0xB0: return trunc(f64, -9223372036854777856.0, 9223372036854775808.0, Int64.self)
    case 0xB1: return trunc(f64, -1.0, 18446744073709551616.0, UInt64.self)
    case 0xB5: out.pointee = UInt64(Float(bits).bitPattern)
    case 0xBA: out.pointee = Double(bits).bitPattern
    case 0xFC00: out.pointee = truncSat(f32, Int32.self)
    case 0xFC01: out.pointee = truncSat(f32, UInt32.self)
    case 0xFC02: out.pointee = truncSat(f64, Int32.self)
    case 0xFC03: out.pointee = truncSat(f64, UInt32.self)
    case 0xFC04: out.pointee = truncSat(f32, Int64.self)
    case 0xFC05: out.pointee = truncSat(f32, UInt64.self)
    case 0xFC06: out.pointee = truncSat(f64, Int64.self)
    default: out.pointee = truncSat(f64, UInt64.self)  // 0xFC07
    }
    return 0
}

/// Baseline code whose hotness reached its threshold, at its entry (`loop` all ones) or at the
/// header of the loop at Wasm offset `loop`: queues the function for the optimizing tier once,
/// and at a loop header returns the optimizing tier's on-stack-replacement entry for that loop
/// when it is compiled (the baseline code then moves its activation there), asking for it
/// otherwise. With OSR the threshold is moved a period ahead, so running activations come back
/// (`osrRevisitPeriod` loop iterations; every header visit when OSR is forced); without it, out
/// of reach.
@_cdecl("strata_builtin_tier_up")
func builtinTierUp(_ vm: VMContextPointer, _ raw: UnsafeMutableRawPointer, _ loop: UInt32) -> UnsafeRawPointer? {
    let record = raw.assumingMemoryBound(to: FunctionCode.self)
    let module = instance(vm).module
    let configuration = module.engine.configuration
    let count = strata_hotness_count(&record.pointee.hotness)
    let osr = configuration.osr
    let period = osr == .firstBackEdge ? 0 : osrRevisitPeriod * max(1, Int64(configuration.loopWeight))
    strata_hotness_set_threshold(&record.pointee.hotness, osr == .disabled ? Int64.max : count &+ period)
    let index = record.pointee.definedIndex
    let service = module.engine.tierUp
    if module.claimOptimize(index) {
        service.request(module, index: index, from: .baseline, to: .optimizing, hotness: count)
    }
    guard osr != .disabled, loop != UInt32.max else { return nil }
    let offset = Int32(bitPattern: loop)
    // An entry at this loop is asked for once the function's own optimized code is in its slot
    // (the activation is then still looping a revisit period later): until then the
    // function's compilation, queued above, is what its calls wait for, and a function with
    // many hot loops would queue a compilation of its whole body per loop (Yosys: 184 of them,
    // four times the compile time of its 190 ordinary optimizing compilations).
    if osr == .firstBackEdge || module.currentTier(function: module.importedFunctionCount + index) == .optimizing, module.claimOSR(index, loop: offset) {
        if osr == .firstBackEdge {
            service.compileNow(module, index: index, hotness: count, osrLoop: offset)
        } else {
            service.request(module, index: index, from: .baseline, to: .optimizing, hotness: count, osrLoop: offset)
        }
    }
    guard let entry = module.osrEntry(index, loop: offset) else { return nil }
    service.noteOSR(module, function: index, loopOffset: offset, from: .baseline, to: .optimizing, times: (entry.requested, entry.compileTime))
    return entry.entry
}

/// Loop iterations (in `loopWeight` units) between two visits of `builtinTierUp` from baseline
/// code, once its function has asked for the optimizing tier.
let osrRevisitPeriod: Int64 = 4096

/// Runs an interpreted function for compiled code (the native entry of interpreter code), as
/// a nested activation on the store's value stack.
@_cdecl("strata_interpreter_entry")
func interpreterEntry(_ vm: VMContextPointer, _ slots: UnsafeMutablePointer<UInt64>, _ record: UnsafeMutableRawPointer) -> UInt32 {
    runInterpreted(vm, slots: slots, record.assumingMemoryBound(to: FunctionCode.self), handsBackTailCalls: false)
}

/// An interpreter activation for compiled code: 0, a trap kind (its host error, exception and
/// frames kept in the store for the caller), or, when `handsBackTailCalls`, the tail-call
/// status for a tail call its entry frame left to compiled or host code.
private func runInterpreted(
    _ vm: VMContextPointer, slots: UnsafeMutablePointer<UInt64>, _ fc: UnsafeMutablePointer<FunctionCode>, handsBackTailCalls: Bool
) -> UInt32 {
    let store = instance(vm).store
    do {
        let handedBack = try Interpreter.invoke(
            store: store, code: fc, vmctx: vm, slots: slots,
            argumentWords: fc.pointee.paramWords, resultWords: fc.pointee.resultWords, handsBackTailCalls: handsBackTailCalls)
        return handedBack ? STRATA_STATUS_TAIL_CALL : 0
    } catch {
        if error.kind == .hostError, let e = error.hostError { store.setHostError(e) }
        if error.kind == .exception { store.pendingException = error.exception }
        store.pendingBacktrace = error.backtrace
        return error.kind.rawValue
    }
}

/// Makes the pending tail call in the store's tail-call area for a tail-call wrapper
/// (`X64MachineLayer.tailCallWrapper`) when the callee is interpreted or a host function (the
/// wrapper calls compiled code itself), with the arguments already in `slots`. An interpreter
/// activation may hand a tail call of its entry frame back (the status says so), for the
/// wrapper to make from its frame. `callerVM` is the wrapper's VM context of the last Wasm
/// callee (a host function's caller). Returns 0 (results in `slots`), the tail-call status, or
/// a trap kind with its frames kept for the wrapper's caller to re-raise.
@_cdecl("strata_builtin_tail_call")
func builtinTailCall(_ vm: VMContextPointer, _ slots: UnsafeMutablePointer<UInt64>, _ callerVM: UnsafeMutablePointer<VMContextPointer>) -> UInt32 {
    let ref = vm.pointee.tailCall!.pointee.callee!
    guard let slot = ref.pointee.entrySlot else { return builtinCallHost(vm, ref, slots) }
    let fc = functionCode(slot)
    let calleeVM = ref.pointee.vmctx!.assumingMemoryBound(to: StrataVMContext.self)
    callerVM.pointee = calleeVM
    if fc.pointee.kind == 0 { return runInterpreted(calleeVM, slots: slots, fc, handsBackTailCalls: true) }
    // Compiled code swapped into the entry slot since the wrapper looked.
    guard case .success(let runtime) = JITRuntime.shared else { return TrapKind.hostError.rawValue }
    let status = runtime.entry(fc.pointee.tailEntry ?? fc.pointee.nativeEntry!, UnsafeMutableRawPointer(calleeVM), slots, UnsafeRawPointer(fc))
    if status != 0 && status != STRATA_STATUS_TAIL_CALL {
        let store = instance(calleeVM).store
        store.pendingBacktrace = store.compiledBacktrace(status)
    }
    return status
}

/// `throw` in compiled code: the exception with tag `tag` of this instance and the payload in
/// `slots` is made and parked in the store; returns the exception status, which the code
/// raises (a compiled frame's landing pad, or the entry, takes it from there).
@_cdecl("strata_builtin_throw")
func builtinThrow(_ vm: VMContextPointer, _ tag: UInt32, _ slots: UnsafeMutablePointer<UInt64>) -> UInt32 {
    let runtime = instance(vm)
    let t = runtime.tags[Int(tag)]
    let words = Array(UnsafeBufferPointer(start: slots, count: 2 * t.type.params.count))
    runtime.store.pendingException = Exception(tag: t, words: words)
    return TrapKind.exception.rawValue
}

/// `throw_ref`: the exception an exnref names is thrown again (null traps).
@_cdecl("strata_builtin_throw_ref")
func builtinThrowRef(_ vm: VMContextPointer, _ reference: UInt64) -> UInt32 {
    guard let exception = Exception.from(reference: reference) else { return TrapKind.nullReference.rawValue }
    instance(vm).store.pendingException = exception
    return TrapKind.exception.rawValue
}

/// A catch clause at a compiled landing pad: when the pending exception has tag `tag` of this
/// instance (any tag for `UInt32.max`: catch_all), its payload goes to `slots` (then, with
/// `withReference`, its exnref), it is no longer pending, and the result is 1; otherwise 0.
@_cdecl("strata_builtin_catch")
func builtinCatch(_ vm: VMContextPointer, _ tag: UInt32, _ slots: UnsafeMutablePointer<UInt64>, _ withReference: UInt32) -> UInt32 {
    let runtime = instance(vm)
    guard let exception = runtime.store.pendingException else { return 0 }
    if tag != UInt32.max && runtime.tags[Int(tag)] !== exception.tag { return 0 }
    var n = 0
    if tag != UInt32.max {
        n = exception.words.count
        exception.words.withUnsafeBufferPointer { slots.update(from: $0.baseAddress!, count: n) }
    }
    if withReference != 0 {
        runtime.store.keepAlive(exception)  // Wasm code holds its exnref now
        slots[n] = exception.reference
        slots[n + 1] = 0
    }
    runtime.store.pendingException = nil
    runtime.store.pendingBacktrace = []  // frames recorded as it crossed interpreted or host code
    return 1
}

extension Builtin {
    var address: UnsafeRawPointer {
        switch self {
        case .memoryGrow: unsafeBitCast(builtinMemoryGrow as @convention(c) (VMContextPointer, UInt32) -> UInt32, to: UnsafeRawPointer.self)
        case .memoryInit: unsafeBitCast(builtinMemoryInit as @convention(c) (VMContextPointer, UInt32, UInt32, UInt32, UInt32) -> UInt32, to: UnsafeRawPointer.self)
        case .dataDrop: unsafeBitCast(builtinDataDrop as @convention(c) (VMContextPointer, UInt32) -> UInt32, to: UnsafeRawPointer.self)
        case .memoryCopy: strata_libc_function(0)  // memmove: see `Builtin`
        case .memoryFill: strata_libc_function(1)  // memset
        case .tableGrow: unsafeBitCast(builtinTableGrow as @convention(c) (VMContextPointer, UInt32, UInt64, UInt64) -> UInt64, to: UnsafeRawPointer.self)
        case .tableFill: unsafeBitCast(builtinTableFill as @convention(c) (VMContextPointer, UInt32, UInt64, UInt64, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .tableCopy: unsafeBitCast(builtinTableCopy as @convention(c) (VMContextPointer, UInt32, UInt32, UInt64, UInt64, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .tableInit: unsafeBitCast(builtinTableInit as @convention(c) (VMContextPointer, UInt32, UInt32, UInt64, UInt64, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .elemDrop: unsafeBitCast(builtinElemDrop as @convention(c) (VMContextPointer, UInt32) -> UInt32, to: UnsafeRawPointer.self)
        case .callHost: unsafeBitCast(builtinCallHost as @convention(c) (VMContextPointer, UnsafeMutablePointer<StrataFuncRef>, UnsafeMutablePointer<UInt64>) -> UInt32, to: UnsafeRawPointer.self)
        case .convert: unsafeBitCast(builtinConvert as @convention(c) (VMContextPointer, UInt32, UInt64, UnsafeMutablePointer<UInt64>) -> UInt32, to: UnsafeRawPointer.self)
        case .tierUp: unsafeBitCast(builtinTierUp as @convention(c) (VMContextPointer, UnsafeMutableRawPointer, UInt32) -> UnsafeRawPointer?, to: UnsafeRawPointer.self)
        case .memoryGrowAt: unsafeBitCast(builtinMemoryGrowAt as @convention(c) (VMContextPointer, UInt32, UInt64) -> UInt64, to: UnsafeRawPointer.self)
        case .memoryInitAt: unsafeBitCast(builtinMemoryInitAt as @convention(c) (VMContextPointer, UInt32, UInt32, UInt64, UInt64, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .memoryCopyAt: unsafeBitCast(builtinMemoryCopyAt as @convention(c) (VMContextPointer, UInt32, UInt32, UInt64, UInt64, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .memoryFillAt: unsafeBitCast(builtinMemoryFillAt as @convention(c) (VMContextPointer, UInt32, UInt64, UInt64, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .throwException: unsafeBitCast(builtinThrow as @convention(c) (VMContextPointer, UInt32, UnsafeMutablePointer<UInt64>) -> UInt32, to: UnsafeRawPointer.self)
        case .throwReference: unsafeBitCast(builtinThrowRef as @convention(c) (VMContextPointer, UInt64) -> UInt32, to: UnsafeRawPointer.self)
        case .catchException: unsafeBitCast(builtinCatch as @convention(c) (VMContextPointer, UInt32, UnsafeMutablePointer<UInt64>, UInt32) -> UInt32, to: UnsafeRawPointer.self)
        case .raise: unsafeBitCast(strata_raise as @convention(c) (UInt, UInt, UInt32) -> StrataResume, to: UnsafeRawPointer.self)
        case .tailCall: unsafeBitCast(builtinTailCall as @convention(c) (VMContextPointer, UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<VMContextPointer>) -> UInt32, to: UnsafeRawPointer.self)
        }
    }
}

/// The native entry of every interpreter record: compiled code calls interpreted functions
/// through it like any other code.
nonisolated(unsafe) let interpreterNativeEntry: UnsafeRawPointer = unsafeBitCast(
    interpreterEntry as @convention(c) (VMContextPointer, UnsafeMutablePointer<UInt64>, UnsafeMutableRawPointer) -> UInt32,
    to: UnsafeRawPointer.self)
