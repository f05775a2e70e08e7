import CStrata

// MARK: - calls
//
// A call places the callee's frame on top of the caller's operand stack: the arguments are
// already in the callee's first slots (no copies). Every call to a defined function goes
// through the module's entry table, so a later tier can swap the slot while code runs.

/// Enters interpreted function `fc` (or calls its compiled code). Returns where to continue and
/// the frame pointer to continue with (the callee's, or the
/// caller's `callerFP` when the call ran compiled code or trapped), so the dispatch loop need
/// not read back the `fp` just stored in the state.
///
/// The common case — interpreted callee, room on both stacks, no interrupt, the tier-up
/// threshold not reached, a frame image of at most `smallFrameImageWords` — is straight-line
/// code without calls; everything else goes to one out-of-line call (`enterFunctionSlowly`),
/// so a handler that inlines this saves no registers on its fast path. Three compares: the
/// record's `slowEntry` (compiled code, a large image, a stub), the new frame's end against
/// `callLimit` (a full value stack, or an interrupt), the control stack's top; in tiered mode a
/// fourth, the hotness (`ExecState.callWeight` is 0 in the other modes, which never tier up:
/// their calls count nothing).
///
/// `sameInstance`: the caller knows `calleeVM` is the state's `vmctx` (a direct call), so the
/// call record takes it without reading it back and no instance switch is checked for.
@inline(__always)
func enterFunction(
    _ st: StatePointer, _ fc: UnsafeMutablePointer<FunctionCode>, newFP: FramePointer, callerFP: FramePointer,
    returnPC: CodePointer?, calleeVM: UnsafeMutablePointer<StrataVMContext>, pc: CodePointer, sameInstance: Bool = false
) -> (CodePointer?, FramePointer) {
    let weight = st.pointee.callWeight
    guard _fastPath(
        fc.pointee.slowEntry == 0
            && UInt(bitPattern: newFP + fc.pointee.frameWords) <= strata_load_call_limit(&st.pointee.callLimit)
            && st.pointee.frameTop < st.pointee.frameEnd)
    else {
        return enterFunctionSlowly(st, fc, newFP: newFP, returnPC: returnPC, calleeVM: calleeVM, pc: pc)
    }
    if weight != 0 {
        // Fields one by one: the record's hotness is written by other threads (relaxed atomics).
        let hotness = strata_hotness_count(&fc.pointee.hotness) &+ weight
        guard _fastPath(hotness < strata_hotness_threshold(&fc.pointee.hotness)) else {
            return enterFunctionSlowly(st, fc, newFP: newFP, returnPC: returnPC, calleeVM: calleeVM, pc: pc)
        }
        strata_hotness_set_count(&fc.pointee.hotness, hotness)
    }
    pushCallRecord(st, returnPC: returnPC, callerFP: callerFP, callerVM: sameInstance ? calleeVM : st.pointee.vmctx)
    initializeSmallFrame(newFP + fc.pointee.imageStart, from: fc.pointee.frameImage, words: fc.pointee.imageWords)
    if sameInstance {
        st.pointee.fp = newFP
        st.pointee.current = fc
    } else {
        makeCurrent(st, fc, fp: newFP, vmctx: calleeVM)
    }
    return (fc.pointee.code, newFP)
}

/// `enterFunction` when its fast path does not apply: a compiled callee, a stack or interrupt
/// trap, a large frame image, or a call that reaches the tier-up threshold (counted here, then
/// queued). Six arguments, all in registers (the caller's fp is the state's): with a seventh on
/// the stack, every call handler's fast path set up and tore down stack space for it.
@inline(never)
func enterFunctionSlowly(
    _ st: StatePointer, _ fc: UnsafeMutablePointer<FunctionCode>, newFP: FramePointer,
    returnPC: CodePointer?, calleeVM: UnsafeMutablePointer<StrataVMContext>, pc: CodePointer
) -> (CodePointer?, FramePointer) {
    let callerFP = st.pointee.fp
    if fc.pointee.kind != 0 {
        return (callCompiled(st, fc, newFP: newFP, returnPC: returnPC, calleeVM: calleeVM, pc: pc), callerFP)
    }
    if newFP + fc.pointee.frameWords > st.pointee.stackEnd || st.pointee.frameTop >= st.pointee.frameEnd {
        return (trap(st, .callStackExhausted, pc), callerFP)
    }
    if strata_load_interrupt(st.pointee.interrupt) != 0 { return (trap(st, .interrupted, pc), callerFP) }
    pushCallRecord(st, returnPC: returnPC, callerFP: callerFP, callerVM: st.pointee.vmctx)
    initializeFrame(newFP + fc.pointee.imageStart, from: fc.pointee.frameImage, words: fc.pointee.imageWords)
    if strata_hotness_bump(&fc.pointee.hotness, st.pointee.callWeight) != 0 {
        requestTierUp(fc, vmctx: calleeVM)
    }
    makeCurrent(st, fc, fp: newFP, vmctx: calleeVM)
    return (fc.pointee.code, newFP)
}

/// Saves the caller's state (where to return, its frame, instance and function) on the control
/// stack; the caller has checked there is room. `callerFP` is the state's `fp`, passed in a
/// register: reading it back together with the neighbouring `vmctx` (the compiler merges the
/// two loads into one 16-byte load) would wait for the 8-byte store of `fp` the last call or
/// return made, which cannot be forwarded to a wider load.
@inline(__always)
func pushCallRecord(
    _ st: StatePointer, returnPC: CodePointer?, callerFP: FramePointer, callerVM: UnsafeMutablePointer<StrataVMContext>
) {
    assert(callerFP == st.pointee.fp && callerVM == st.pointee.vmctx, "the caller's frame and instance are the state's")
    let top = st.pointee.frameTop
    top.initialize(to: CallFrame(returnPC: returnPC, fp: callerFP, vmctx: callerVM, function: st.pointee.current))
    st.pointee.frameTop = top + 1
}

/// Makes `fc`'s new frame the current one (with its instance's memory when the instance changes).
@inline(__always)
func makeCurrent(
    _ st: StatePointer, _ fc: UnsafeMutablePointer<FunctionCode>, fp: FramePointer, vmctx: UnsafeMutablePointer<StrataVMContext>
) {
    st.pointee.fp = fp
    st.pointee.current = fc
    if vmctx != st.pointee.vmctx {
        st.pointee.vmctx = vmctx
        st.pointee.reloadMemory()
    }
}

/// [lazy_translate] The first run of a function (the code of its stub record): translates it,
/// once per module (`Module.interpreterRecord`, which also points the entry slot at the
/// translation), then sets up the frame for the translated code (the parameters are in place;
/// the stack is checked for the larger frame, locals zeroed, constants copied) and goes on
/// there. A body the translator refuses (an instruction without a handler) fails the call with
/// the reason as its error.
@inline(never)
func opLazyTranslate(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let stub = st.pointee.current!
    let instance = instanceOf(st)
    let fc: UnsafeMutablePointer<FunctionCode>
    switch instance.module.interpreterRecord(stub.pointee.definedIndex) {
    case .success(let record): fc = record
    case .failure(let error):
        instance.store.setHostError(error)
        return (trap(st, .hostError, pc), fp, st)
    }
    if fp + fc.pointee.frameWords > st.pointee.stackEnd { return (trap(st, .callStackExhausted, pc), fp, st) }
    initializeFrame(fp + fc.pointee.imageStart, from: fc.pointee.frameImage, words: fc.pointee.imageWords)
    st.pointee.current = fc
    return (fc.pointee.code, fp, st)
}

/// Copies a function's frame image (zeroed locals, then constants; `FunctionCode.frameImage`)
/// into a new frame: `words` is a multiple of 4, so the copy is one or two overlapping runs of
/// whole 32-, 64- or 128-byte chunks, straight-line code chosen by size, as WasmKit initializes
/// its frames. Loops here cost a mispredicted exit per call and, written as plain copies, turn
/// into calls to `memmove`; only images over 256 bytes call it.
@inline(__always)
func initializeFrame(_ dst: FramePointer, from image: UnsafeMutablePointer<Slot>, words: Int) {
    if words == 0 { return }
    if words <= smallFrameImageWords {
        initializeSmallFrame(dst, from: image, words: words)
    } else {
        UnsafeMutableRawPointer(dst).copyMemory(from: UnsafeRawPointer(image), byteCount: words &* 8)
    }
}

/// The largest frame image `initializeSmallFrame` copies (256 bytes).
let smallFrameImageWords = 32

/// `initializeFrame` for an image of at most `smallFrameImageWords` words (a multiple of 4): no
/// call. An empty image (a function with no constants and no local to zero) costs one branch;
/// measured on calls to such functions, its copy was a tenth of the call's time.
@inline(__always)
func initializeSmallFrame(_ dst: FramePointer, from image: UnsafeMutablePointer<Slot>, words: Int) {
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(image)
    let bytes = words &* 8
    if bytes == 0 { return }
    if bytes == 32 {
        copyChunk32(d, s, 0)
    } else if bytes <= 64 {
        copyChunk32(d, s, 0)
        copyChunk32(d, s, bytes &- 32)
    } else if bytes <= 128 {
        copyChunk64(d, s, 0)
        copyChunk64(d, s, bytes &- 64)
    } else {
        copyChunk64(d, s, 0)
        copyChunk64(d, s, 64)
        copyChunk64(d, s, bytes &- 128)
        copyChunk64(d, s, bytes &- 64)
    }
}

@inline(__always)
private func copyChunk32(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ at: Int) {
    let a = (s + at).loadUnaligned(as: SIMD2<UInt64>.self), b = (s + at + 16).loadUnaligned(as: SIMD2<UInt64>.self)
    (d + at).storeBytes(of: a, as: SIMD2<UInt64>.self)
    (d + at + 16).storeBytes(of: b, as: SIMD2<UInt64>.self)
}

@inline(__always)
private func copyChunk64(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ at: Int) {
    let a = (s + at).loadUnaligned(as: SIMD2<UInt64>.self), b = (s + at + 16).loadUnaligned(as: SIMD2<UInt64>.self)
    let c = (s + at + 32).loadUnaligned(as: SIMD2<UInt64>.self), e = (s + at + 48).loadUnaligned(as: SIMD2<UInt64>.self)
    (d + at).storeBytes(of: a, as: SIMD2<UInt64>.self)
    (d + at + 16).storeBytes(of: b, as: SIMD2<UInt64>.self)
    (d + at + 32).storeBytes(of: c, as: SIMD2<UInt64>.self)
    (d + at + 48).storeBytes(of: e, as: SIMD2<UInt64>.self)
}

/// Calls a compiled function from the interpreter: the arguments are already in the callee's
/// slots (the same slot-buffer convention), results come back there. Nested interpreter
/// activations the compiled code starts go above these slots.
@inline(never)
func callCompiled(
    _ st: StatePointer, _ fc: UnsafeMutablePointer<FunctionCode>, newFP: FramePointer,
    returnPC: CodePointer?, calleeVM: UnsafeMutablePointer<StrataVMContext>, pc: CodePointer
) -> CodePointer? {
    let needed = max(fc.pointee.paramWords, fc.pointee.resultWords)
    guard newFP + needed <= st.pointee.stackEnd, let entry = st.pointee.compiledEntry else {
        return trap(st, .callStackExhausted, pc)
    }
    // The host entry that started this activation prepared the thread for compiled code
    // (Function.callWithSlots); compiled code sees interrupts itself.
    let savedTop = st.pointee.reentryTop, savedFP = st.pointee.fp
    let savedVM = st.pointee.vmctx, savedCurrent = st.pointee.current
    st.pointee.reentryTop = newFP + needed
    let status = entry(fc.pointee.nativeEntry!, UnsafeMutableRawPointer(calleeVM), newFP, UnsafeRawPointer(fc))
    st.pointee.reentryTop = savedTop
    st.pointee.fp = savedFP
    st.pointee.vmctx = savedVM
    st.pointee.current = savedCurrent
    if status != 0 {
        // The interpreter's own trap carries the compiled frames (and any host error).
        let store = st.pointee.store.takeUnretainedValue()
        store.pendingBacktrace = store.compiledBacktrace(status)
        return trap(st, store.trapKind(compiledStatus: status), pc)
    }
    st.pointee.reloadMemory()
    return returnPC
}

@inline(__always)
func functionCode(_ slot: UnsafePointer<UnsafeRawPointer?>) -> UnsafeMutablePointer<FunctionCode> {
    // Every slot holds a record from the module's creation on (a stub before translation).
    UnsafeMutableRawPointer(mutating: strata_load_entry(slot).unsafelyUnwrapped).assumingMemoryBound(to: FunctionCode.self)
}

/// Calls what a function reference names: Wasm code of any instance, or a host function.
@inline(__always)
func callFunctionReference(
    _ st: StatePointer, _ ref: UnsafeMutablePointer<StrataFuncRef>, newFP: FramePointer, callerFP: FramePointer,
    returnPC: CodePointer?, pc: CodePointer
) -> (CodePointer?, FramePointer) {
    if let slot = ref.pointee.entrySlot {
        // A reference with an entry slot belongs to an instance: its context is set.
        let vm = ref.pointee.vmctx.unsafelyUnwrapped.assumingMemoryBound(to: StrataVMContext.self)
        return enterFunction(st, functionCode(slot), newFP: newFP, callerFP: callerFP, returnPC: returnPC, calleeVM: vm, pc: pc)
    }
    return callHostFunction(st, ref, newFP: newFP, callerFP: callerFP, returnPC: returnPC, pc: pc)
}

/// `callFunctionReference` for a host function: out of line, so that the call handlers' paths
/// into Wasm code save no registers.
@inline(never)
func callHostFunction(
    _ st: StatePointer, _ ref: UnsafeMutablePointer<StrataFuncRef>, newFP: FramePointer, callerFP: FramePointer,
    returnPC: CodePointer?, pc: CodePointer
) -> (CodePointer?, FramePointer) {
    let host = Unmanaged<HostFunction>.fromOpaque(ref.pointee.owner!).takeUnretainedValue()
    if let kind = host.invokeFromWasm(st, slots: newFP) {
        return (trap(st, kind, pc), callerFP)
    }
    st.pointee.reloadMemory()
    return (returnPC, callerFP)
}

/// [entry slot address, argBase]: the callee's slot in the module's entry table (one load
/// less on the call's chain of dependent loads than the table from the VM context, then the
/// index).
@inline(__always) func opCall(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let vm = st.pointee.vmctx
    let fc = functionCode(UnsafePointer(bitPattern: UInt(pc[1])).unsafelyUnwrapped)
    let (next, nextFP) = enterFunction(st, fc, newFP: fp + op(pc, 2), callerFP: fp, returnPC: pc + 3, calleeVM: vm, pc: pc, sameInstance: true)
    return (next, nextFP, st)
}
/// [functionIndex, argBase]: a call to an imported function.
@inline(__always) func opCallImport(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let ref = st.pointee.vmctx.pointee.functions[op(pc, 1)]!
    let (next, nextFP) = callFunctionReference(st, ref, newFP: fp + op(pc, 2), callerFP: fp, returnPC: pc + 3, pc: pc)
    return (next, nextFP, st)
}
/// The table entry an indirect call's operands [table, typeIndex, index, ...] name (bounds
/// checked) and the signature it must have; nil when the index is past the table's end (the
/// trap is set).
@inline(__always)
func indirectEntry(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> (entry: UInt64, expected: UInt32)? {
    // Validation guarantees the table and the type; an instance's context has both arrays, and a
    // table with elements has their storage.
    let vm = st.pointee.vmctx
    let table = vm.pointee.tables.unsafelyUnwrapped[op(pc, 1)].unsafelyUnwrapped
    let i = UInt64(rd32(fp, pc, 3))
    guard i < table.pointee.count else { _ = trap(st, .undefinedElement, pc); return nil }
    return (UInt64(table.pointee.elements.unsafelyUnwrapped[Int(i)]), vm.pointee.typeIDs.unsafelyUnwrapped[op(pc, 2)])
}
/// `ref` if it has the signature `expected`; nil when it trapped.
@inline(__always)
func signatureChecked(_ ref: UnsafeMutablePointer<StrataFuncRef>, expected: UInt32, _ st: StatePointer, _ pc: CodePointer) -> UnsafeMutablePointer<StrataFuncRef>? {
    guard ref.pointee.typeID == expected else { _ = trap(st, .indirectCallTypeMismatch, pc); return nil }
    return ref
}
/// The reference in a table entry if it is one with the signature `expected`; nil when it
/// trapped (null, or another signature).
@inline(__always)
func checkedCallee(_ entry: UInt64, expected: UInt32, _ st: StatePointer, _ pc: CodePointer) -> UnsafeMutablePointer<StrataFuncRef>? {
    guard let ref = UnsafeMutablePointer<StrataFuncRef>(bitPattern: UInt(entry)) else {
        _ = trap(st, .uninitializedElement, pc)
        return nil
    }
    return signatureChecked(ref, expected: expected, st, pc)
}
/// The function an indirect call's operands [table, typeIndex, index, ...] name, checked
/// (bounds, null, signature); nil when it trapped (the trap is set).
@inline(__always)
func indirectCallee(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> UnsafeMutablePointer<StrataFuncRef>? {
    guard let (entry, expected) = indirectEntry(pc, fp, st) else { return nil }
    return checkedCallee(entry, expected: expected, st, pc)
}
/// `indirectCallee` through a monomorphic inline cache: the code word `pc[cache]` holds the
/// reference this call site called last (`noCalleeYet` before its first call). When the table
/// entry is that reference, the callee is reached from the code word, which is known as soon as
/// the instruction starts, instead of from the entry, which is known only after the index and
/// the table's storage were loaded: the loads that find the callee's code (reference, entry
/// slot, record, code) and so the next instruction's address no longer wait for them; only a
/// compare does, and its branch is predicted. The entry is still loaded and compared (a freed
/// reference's address may be reused by another one, so the cache only ever names a
/// candidate), and the signature is still checked. A miss checks as `indirectCallee` does and
/// caches the entry, every time: a site that changes callees in runs keeps most of the gain,
/// and one whose callee changes at random pays a mispredicted compare per miss
/// (docs/ARCHITECTURE.md, "Inline cache for `call_indirect`", says what a megamorphic state
/// measured). The code is shared by every instance of the module and run by any thread: the
/// word is read and written with relaxed atomics, and any value it holds is only compared.
@inline(__always)
func cachedIndirectCallee(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, cache: Int) -> UnsafeMutablePointer<StrataFuncRef>? {
    let last = strata_load_cache_word(pc + cache)
    guard let (entry, expected) = indirectEntry(pc, fp, st) else { return nil }
    if _fastPath(entry == last) {
        // The signature is checked on the code word's reference (the same one), whose address
        // is known first. `last` is never null (`noCalleeYet` is no address).
        return signatureChecked(UnsafeMutablePointer(bitPattern: UInt(last)).unsafelyUnwrapped, expected: expected, st, pc)
    }
    guard let ref = checkedCallee(entry, expected: expected, st, pc) else { return nil }
    strata_store_cache_word(pc + cache, entry)
    return ref
}
/// The value of an inline cache word before its site's first call: no reference's address.
let noCalleeYet: UInt64 = 1
/// [table, typeIndex, index, argBase, last callee (`cachedIndirectCallee`)]
@inline(__always) func opCallIndirect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    guard let ref = cachedIndirectCallee(pc, fp, st, cache: 5) else { return (nil, fp, st) }
    let (next, nextFP) = callFunctionReference(st, ref, newFP: fp + op(pc, 4), callerFP: fp, returnPC: pc + 6, pc: pc)
    return (next, nextFP, st)
}
// MARK: - tail calls
//
// The callee is entered in the caller's frame: the arguments move to the frame's first slots,
// the caller's call record is popped (as `return` pops it), and the callee is entered as if
// the caller's caller had called it at the same place, returning where the caller would have.
// Interpreted callees reuse the frame (constant stack however long a chain of tail calls);
// a compiled or host callee runs as a call whose results land where the caller's would.

/// Moves the arguments down and pops the caller's record. The stack and interrupt checks
/// come first, so a trap there names the tail-calling function. Nil: trapped.
@inline(__always)
func leaveForTailCall(_ st: StatePointer, _ fp: FramePointer, argBase: Int, words: Int, frameWords: Int, pc: CodePointer) -> CallFrame? {
    if fp + max(frameWords, words) > st.pointee.stackEnd { _ = trap(st, .callStackExhausted, pc); return nil }
    if strata_load_interrupt(st.pointee.interrupt) != 0 { _ = trap(st, .interrupted, pc); return nil }
    UnsafeMutableRawPointer(fp).copyMemory(from: UnsafeRawPointer(fp + argBase), byteCount: words &* 8)
    let top = st.pointee.frameTop - 1
    st.pointee.frameTop = top
    let frame = top.pointee
    st.pointee.fp = frame.fp
    st.pointee.current = frame.function
    if frame.vmctx != st.pointee.vmctx {
        st.pointee.vmctx = frame.vmctx
        st.pointee.reloadMemory()
    }
    return frame
}

/// Whether a tail call that just popped the caller's record goes back to the function that
/// runs tail calls (`Interpreter.invoke`'s `handsBackTailCalls`) instead: the popped record is
/// the entry frame of an activation started that way, and `ref` names compiled or host code.
/// Then the reference and the arguments (in the frame's first `words` words) are left in the
/// store's tail-call area and the activation ends. An interpreted callee runs here, in the frame.
@inline(never)
func handBackTailCall(_ st: StatePointer, _ ref: UnsafeMutablePointer<StrataFuncRef>, _ fp: FramePointer, words: Int) -> Bool {
    guard st.pointee.frameCount == st.pointee.tailCallLevel else { return false }
    if let slot = ref.pointee.entrySlot, functionCode(slot).pointee.kind == 0 { return false }
    let area = st.pointee.store.takeUnretainedValue().tailCallArea
    area.pointee.callee = ref
    area.pointee.words = UInt64(words)
    withUnsafeMutablePointer(to: &area.pointee.slots) {
        $0.withMemoryRebound(to: UInt64.self, capacity: words) { $0.update(from: fp, count: words) }
    }
    st.pointee.tailCallHandedBack = true
    return true
}

/// A trap after the caller's record was popped (a compiled or host callee's, or a check on
/// entering the callee) is located at the call site of the function now current, the
/// tail-calling function's caller: the tail-calling function is no longer on the stack, and
/// its code is not the current function's.
@inline(__always)
func locateTrapAfterTailCall(_ st: StatePointer, _ next: CodePointer?, frame: CallFrame, pc: CodePointer) {
    if next == nil, st.pointee.trap != .none, st.pointee.trapPC == pc {
        st.pointee.trapPC = frame.returnPC.map { $0 - 1 }  // inside the call instruction
    }
}

/// [definedIndex, argBase, argWords]
@inline(never) func opReturnCall(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let vm = st.pointee.vmctx
    let fc = functionCode(UnsafePointer(vm.pointee.entryTable! + op(pc, 1)))
    guard let frame = leaveForTailCall(st, fp, argBase: op(pc, 2), words: op(pc, 3), frameWords: fc.pointee.frameWords, pc: pc) else { return (nil, fp, st) }
    if fc.pointee.kind != 0, handBackTailCall(st, vm.pointee.functions[Int(fc.pointee.functionIndex)]!, fp, words: op(pc, 3)) {
        return (nil, fp, st)
    }
    let (next, nextFP) = enterFunction(st, fc, newFP: fp, callerFP: frame.fp, returnPC: frame.returnPC, calleeVM: vm, pc: pc)
    locateTrapAfterTailCall(st, next, frame: frame, pc: pc)
    return (next, nextFP, st)
}
/// [functionIndex, argBase, argWords]: a tail call to an imported function.
@inline(never) func opReturnCallImport(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let ref = st.pointee.vmctx.pointee.functions[op(pc, 1)]!
    guard let frame = leaveForTailCall(st, fp, argBase: op(pc, 2), words: op(pc, 3), frameWords: 0, pc: pc) else { return (nil, fp, st) }
    if handBackTailCall(st, ref, fp, words: op(pc, 3)) { return (nil, fp, st) }
    let (next, nextFP) = callFunctionReference(st, ref, newFP: fp, callerFP: frame.fp, returnPC: frame.returnPC, pc: pc)
    locateTrapAfterTailCall(st, next, frame: frame, pc: pc)
    return (next, nextFP, st)
}
/// [table, typeIndex, index, argBase, argWords]
@inline(never) func opReturnCallIndirect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    guard let ref = indirectCallee(pc, fp, st) else { return (nil, fp, st) }
    guard let frame = leaveForTailCall(st, fp, argBase: op(pc, 4), words: op(pc, 5), frameWords: 0, pc: pc) else { return (nil, fp, st) }
    if handBackTailCall(st, ref, fp, words: op(pc, 5)) { return (nil, fp, st) }
    let (next, nextFP) = callFunctionReference(st, ref, newFP: fp, callerFP: frame.fp, returnPC: frame.returnPC, pc: pc)
    locateTrapAfterTailCall(st, next, frame: frame, pc: pc)
    return (next, nextFP, st)
}

/// []: results are already in slots 0..<n of the frame.
@inline(__always) func opReturn(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let top = st.pointee.frameTop - 1
    st.pointee.frameTop = top
    let frame = top.pointee
    st.pointee.fp = frame.fp
    st.pointee.current = frame.function
    if frame.vmctx != st.pointee.vmctx {
        st.pointee.vmctx = frame.vmctx
        st.pointee.reloadMemory()
    }
    return (frame.returnPC, frame.fp, st)
}

// MARK: - running a chain of handlers, and the host entry

enum Interpreter {
    /// Runs instructions from `start` until an operation returns nil: on the threaded handlers
    /// (`threadedDispatch`), or the switch (`interpreterDispatch`) where there are none.
    static func run(_ st: StatePointer, from start: CodePointer) {
        if let counts = PairProfile.counts {
            profilingDispatch(start, st.pointee.fp, st, counts)
        } else if useThreadedDispatch {
            threadedDispatch(start, st.pointee.fp, st)
        } else {
            interpreterDispatch(start, st.pointee.fp, st)
        }
    }

    /// Calls interpreted code from the host. Arguments and results use one buffer of slots
    /// (the engine-wide host calling convention). Nested calls (host function -> Wasm) start
    /// above the frames of the activation that called the host.
    ///
    /// `handsBackTailCalls` (the caller runs tail calls, `strata_builtin_tail_call`): a tail call
    /// of the entry frame to compiled or host code is not made but left in the store's tail-call
    /// area, and the result is true (no results are written). Without it, such a callee runs as
    /// an ordinary call whose results land where the entry frame's would.
    @discardableResult
    static func invoke(
        store: Store, code fc: UnsafeMutablePointer<FunctionCode>, vmctx: UnsafeMutablePointer<StrataVMContext>,
        slots: UnsafeMutablePointer<Slot>, argumentWords: Int, resultWords: Int, handsBackTailCalls: Bool = false
    ) throws(Trap) -> Bool {
        let st = store.execState()
        let base = st.pointee.reentryTop
        let savedReentry = st.pointee.reentryTop
        let entryLevel = st.pointee.frameCount
        guard store.nesting < store.engine.configuration.maxHostNesting,
              base + fc.pointee.frameWords <= st.pointee.stackEnd,
              entryLevel < st.pointee.frameLimit
        else {
            throw Trap(.callStackExhausted)
        }
        store.nesting += 1
        let savedTailCallLevel = st.pointee.tailCallLevel
        st.pointee.tailCallLevel = handsBackTailCalls ? entryLevel : -1
        // Where this activation is on the native stack, for the guest profiler's sampler.
        let activation = st.pointee.activationCount
        if activation < st.pointee.activationCapacity { st.pointee.activationMarkers[activation] = strata_stack_pointer() }
        st.pointee.activationCount = activation + 1
        defer {
            store.nesting -= 1
            st.pointee.tailCallLevel = savedTailCallLevel
            st.pointee.activationCount = activation
        }
        base.update(from: slots, count: argumentWords)
        st.pointee.trap = .none
        // The entry frame: its nil return pc ends the chain of handlers.
        guard let start = enterFunction(st, fc, newFP: base, callerFP: st.pointee.fp, returnPC: nil, calleeVM: vmctx, pc: fc.pointee.code).0 else {
            let kind = st.pointee.trap
            st.pointee.trap = .none
            if kind == .interrupted { store.interruptHandle.clear() }
            throw Trap(kind)
        }
        // The memory the state caches may have grown since it was loaded: compiled code (or the
        // host) that called this activation may have grown it after an activation below it, of
        // the same instance, last loaded it (entering the same instance reloads nothing).
        st.pointee.reloadMemory()
        run(st, from: start)
        // An exception: resume at the landing pad of a try_table in this activation that
        // catches it, if any.
        while st.pointee.trap == .exception, let pad = catchException(st, entryLevel: entryLevel) {
            st.pointee.trap = .none
            store.pendingBacktrace = []  // frames recorded as it crossed compiled or host code
            run(st, from: pad)
        }
        let kind = st.pointee.trap
        if kind != .none {
            var trace = backtrace(store: store, st, entryLevel: entryLevel)
            if !store.pendingBacktrace.isEmpty {
                trace = store.pendingBacktrace + trace
                store.pendingBacktrace = []
            }
            // Unwind to the state before this activation.
            let entryFrame = st.pointee.frames[entryLevel]
            st.pointee.frameCount = entryLevel
            st.pointee.fp = entryFrame.fp
            st.pointee.current = entryFrame.function
            st.pointee.vmctx = entryFrame.vmctx
            st.pointee.reloadMemory()
            st.pointee.reentryTop = savedReentry
            st.pointee.trap = .none
            if kind == .interrupted { store.interruptHandle.clear() }
            throw store.trap(kind, backtrace: trace)
        }
        st.pointee.reentryTop = savedReentry
        if st.pointee.tailCallHandedBack {
            st.pointee.tailCallHandedBack = false
            return true
        }
        slots.update(from: base, count: resultWords)
        return false
    }

    static func backtrace(store: Store, _ st: StatePointer, entryLevel: Int) -> [BacktraceFrame] {
        var frames: [BacktraceFrame] = []
        func add(_ fc: UnsafeMutablePointer<FunctionCode>?, _ vm: UnsafeMutablePointer<StrataVMContext>, _ pc: CodePointer?, isReturn: Bool) {
            guard let fc else { return }
            let instance = Unmanaged<InstanceRuntime>.fromOpaque(vm.pointee.instance!).takeUnretainedValue()
            frames.append(instance.module.backtraceFrame(fc, pc: pc, isReturnAddress: isReturn))
        }
        add(st.pointee.current, st.pointee.vmctx, st.pointee.trapPC, isReturn: false)
        var k = st.pointee.frameCount - 1
        while k > entryLevel {
            let f = st.pointee.frames[k]
            add(f.function, f.vmctx, f.returnPC, isReturn: true)
            k -= 1
        }
        return frames
    }
}
