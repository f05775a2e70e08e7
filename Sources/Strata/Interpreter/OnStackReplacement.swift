import CStrata
import Dispatch

// On-stack replacement, the interpreter's side (see docs/ARCHITECTURE.md, "On-stack
// replacement"). A back edge's slow path (`backEdgeSlowPath`, every `backEdgePeriod` back
// edges) looks at the running function's entry slot: when a compiled tier has published code
// with an entry for the loop being entered, the activation moves there. The slow path leaves
// the transfer to the `osr_transfer` instruction (it cannot change the frame pointer itself),
// which pops the activation's call record as a return would, calls the compiled entry with
// the activation's frame (locals, and the slot buffer the results go to) and its operand stack
// at the loop header, and continues where the activation would have returned.

/// How tiered mode moves running interpreter activations to compiled code.
public enum OSRMode: String, Sendable, CaseIterable {
    /// Activations stay in the interpreter; only later calls run compiled code.
    case disabled
    /// At a loop's back edge, once compiled code for the function is ready (the default).
    case enabled
    /// For tests: every back edge visits the slow path, a function without compiled code is
    /// compiled there at once (on the running thread), and the activation moves at the first
    /// back edge of any loop the compiled code can be entered at; baseline code past its
    /// optimizing threshold compiles its OSR entry at once and moves at that loop header (and
    /// asks again at every later header visit until it has moved).
    case firstBackEdge = "first-back-edge"
}

/// A transfer the slow path decided on, for `osr_transfer` (in the execution state).
struct OSRTransfer {
    /// The compiled entry of the loop, and the record whose code it is.
    var entry: UnsafeRawPointer
    var record: UnsafeMutablePointer<FunctionCode>
    /// Word index of the operand stack in the frame.
    var operandWords: Int
    /// The loop's Wasm offset.
    var loopOffset: Int32
}

/// The code the slow path continues at to transfer: one `osr_transfer` instruction, shared.
nonisolated(unsafe) let osrTransferCode: CodePointer = {
    let p = CodePointer.allocate(capacity: 2)
    p[0] = handlerWord(.osr_transfer)
    p[1] = 0
    return p
}()

/// The Wasm offset of the loop whose header is at `header` in `fc`'s interpreter code, if any
/// (its table: pairs of code index and the loop's Wasm offset, sorted by code index).
@inline(__always)
func loopOffset(_ fc: UnsafeMutablePointer<FunctionCode>, at header: CodePointer) -> Int32? {
    guard let table = fc.pointee.loopHeaders else { return nil }
    let index = Int32(truncatingIfNeeded: header - fc.pointee.code)
    var lo = 0, hi = fc.pointee.loopHeaderCount - 1
    while lo <= hi {
        let mid = (lo + hi) / 2
        let at = table[2 * mid]
        if at == index { return table[2 * mid + 1] }
        if at < index { lo = mid + 1 } else { hi = mid - 1 }
    }
    return nil
}

/// The compiled entry of `record` for the loop at Wasm offset `offset` (pairs: Wasm offset,
/// code offset from the native entry), if any.
@inline(__always)
func osrEntry(_ record: UnsafeMutablePointer<FunctionCode>, loop offset: Int32) -> UnsafeRawPointer? {
    guard let table = record.pointee.osrEntries, let code = record.pointee.nativeEntry else { return nil }
    for k in 0..<record.pointee.osrEntryCount where table[2 * k] == UInt32(bitPattern: offset) {
        return code + Int(table[2 * k + 1])
    }
    return nil
}

/// From the back-edge slow path, about to enter the loop header `header` of the running
/// function: the transfer code when the activation moves to compiled code now, else nil.
@inline(never)
func considerOSR(_ st: StatePointer, _ fc: UnsafeMutablePointer<FunctionCode>, header: CodePointer) -> CodePointer? {
    guard st.pointee.compiledEntry != nil, let loop = loopOffset(fc, at: header) else { return nil }
    let vm = st.pointee.vmctx
    var record = functionCode(UnsafePointer(vm.pointee.entryTable! + fc.pointee.definedIndex))
    if record.pointee.kind == 0 && st.pointee.osrMode == .firstBackEdge {
        // Forced: compile now, unless someone else has claimed the function.
        let module = instanceOf(st).module
        if module.claimTierUp(fc.pointee.definedIndex) {
            module.engine.tierUp.compileNow(module, index: fc.pointee.definedIndex, hotness: strata_hotness_count(&fc.pointee.hotness))
            record = functionCode(UnsafePointer(vm.pointee.entryTable! + fc.pointee.definedIndex))
        }
    }
    if record.pointee.kind == Tier.optimizing.recordKind, record.pointee.osrEntries == nil {
        // Optimized code has no entries of its own: the baseline code has, and moves on to the
        // optimizing tier's OSR entry at the loop header.
        guard let baseline = instanceOf(st).module.baselineRecord(fc.pointee.definedIndex) else { return nil }
        record = baseline
    }
    guard record.pointee.kind != 0, let entry = osrEntry(record, loop: loop) else { return nil }
    if st.pointee.chaos != nil, st.pointee.chaos!.next() % 4 != 0 { return nil }  // chaos: some back edges only
    st.pointee.osr = OSRTransfer(
        entry: entry, record: record, operandWords: fc.pointee.paramWords + fc.pointee.localWords + fc.pointee.constWords,
        loopOffset: loop)
    return osrTransferCode
}

/// [] Moves the running activation to the compiled code `st.osr` names (see the top of this file).
@inline(never)
func opOSRTransfer(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let osr = st.pointee.osr!
    st.pointee.osr = nil
    let fc = st.pointee.current.unsafelyUnwrapped
    let vm = st.pointee.vmctx
    let store = st.pointee.store.takeUnretainedValue()
    let module = instanceOf(st).module
    module.engine.tierUp.noteOSR(module, function: fc.pointee.definedIndex, loopOffset: osr.loopOffset, from: .interpreter,
                                 to: Tier(recordKind: osr.record.pointee.kind), times: module.tierUpTimes(fc.pointee.definedIndex))
    // The activation leaves the interpreter: its record is popped as `return` pops it, so a
    // trap or exception from here on shows it once, as the compiled frame.
    st.pointee.frameCount -= 1
    let frame = st.pointee.frames[st.pointee.frameCount]
    let savedTop = st.pointee.reentryTop
    st.pointee.reentryTop = fp + fc.pointee.frameWords  // nested activations go above the whole frame
    st.pointee.fp = frame.fp
    st.pointee.current = frame.function
    st.pointee.vmctx = frame.vmctx
    let status = st.pointee.compiledEntry.unsafelyUnwrapped(osr.entry, UnsafeMutableRawPointer(vm), fp, UnsafeRawPointer(fp + osr.operandWords))
    st.pointee.reentryTop = savedTop
    st.pointee.fp = frame.fp
    st.pointee.current = frame.function
    st.pointee.vmctx = frame.vmctx
    st.pointee.reloadMemory()
    if status != 0 {
        // Located at the caller's call instruction, as after a tail call; an activation's entry
        // frame has no caller in this activation (nothing more to show).
        store.pendingBacktrace = store.compiledBacktrace(status)
        _ = trap(st, store.trapKind(compiledStatus: status), pc)
        st.pointee.trapPC = frame.returnPC.map { $0 - 1 }
        if frame.returnPC == nil { st.pointee.current = nil }
        return (nil, fp, st)
    }
    return (frame.returnPC, frame.fp, st)
}
