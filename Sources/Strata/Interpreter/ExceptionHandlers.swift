import CStrata

// Exception handling in the interpreter. `throw` makes the exception, parks it in the store
// (`pendingException`) and stops with trap kind `.exception`; the activation's host entry
// (`Interpreter.invoke`) then looks for a `try_table` around the throwing instruction, or
// around the call instruction of each caller frame in turn (`Interpreter.catchException`).
// A handler found there resumes the activation at the clause's landing pad, in its frame; an
// exception nobody in the activation catches leaves it like a trap, through compiled frames
// (a trap status) and host frames (a `Trap` of kind `.exception` carrying it) to the next
// activation's entry, which looks again.

/// A `try_table` of an interpreted function: its body's code range and its clauses in order,
/// each with the code index of its landing pad.
struct ExceptionHandler: Sendable {
    struct Clause: Sendable {
        var kind: CatchClause.Kind
        var tag: UInt32
        var pad: Int32
    }
    var start: Int32
    var end: Int32
    var clauses: [Clause]
}

/// [tag, argBase, count]: throws an exception with tag `tag` of this instance and the `count`
/// values at argBase as its payload.
@inline(never)
func opThrow(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let instance = instanceOf(st)
    let words = Array(UnsafeBufferPointer(start: fp + op(pc, 2), count: op(pc, 3) * wordsPerSlot))
    let exception = Exception(tag: instance.tags[op(pc, 1)], words: words)
    return (raise(exception, st, pc), fp, st)
}

/// [src]: throws the exception an exnref names again (null traps).
@inline(never)
func opThrowRef(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    guard let exception = Exception.from(reference: rd64(fp, pc, 1)) else {
        return (trap(st, .nullReference, pc), fp, st)
    }
    return (raise(exception, st, pc), fp, st)
}

@inline(__always)
func raise(_ exception: Exception, _ st: StatePointer, _ pc: CodePointer) -> CodePointer? {
    st.pointee.store.takeUnretainedValue().pendingException = exception
    return trap(st, .exception, pc)
}

/// [withReference, count, slot...]: the start of a landing pad. Writes the caught exception's
/// payload into the slots (and, for catch_ref and catch_all_ref, its exnref into the last).
@inline(never)
func opExceptionLanding(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let store = st.pointee.store.takeUnretainedValue()
    let exception = store.pendingException!
    store.pendingException = nil
    let count = op(pc, 2)
    let withReference = pc[1] != 0
    let values = count - (withReference ? 1 : 0)
    exception.words.withUnsafeBufferPointer { w in
        for i in 0..<values {
            let dst = fp + op(pc, 3 + i)
            dst[0] = w[2 * i]
            dst[1] = w[2 * i + 1]
        }
    }
    if withReference {
        store.keepAlive(exception)  // Wasm code holds its exnref now
        wr(fp, pc, 3 + values, exception.reference)
    }
    return (pc + 3 + count, fp, st)
}

extension Interpreter {
    /// After the activation that started at frame `entryLevel` stopped with an exception: finds
    /// the innermost `try_table` that catches it, from the current function out to the
    /// activation's entry function; on success the state is that function's again (the frames
    /// above it popped) and the result is its landing pad.
    static func catchException(_ st: StatePointer, entryLevel: Int) -> CodePointer? {
        let store = st.pointee.store.takeUnretainedValue()
        guard let exception = store.pendingException else { return nil }
        func pad(_ fc: UnsafeMutablePointer<FunctionCode>?, _ vm: UnsafeMutablePointer<StrataVMContext>, _ pc: CodePointer?) -> CodePointer? {
            guard let fc, let pc, fc.pointee.kind == 0 else { return nil }
            let instance = Unmanaged<InstanceRuntime>.fromOpaque(vm.pointee.instance!).takeUnretainedValue()
            return instance.module.landingPad(fc, pc: pc, exception: exception, instance: instance)
        }
        if let p = pad(st.pointee.current, st.pointee.vmctx, st.pointee.trapPC) { return p }
        var k = st.pointee.frameCount - 1
        while k > entryLevel {
            let f = st.pointee.frames[k]
            if let p = pad(f.function, f.vmctx, f.returnPC.map { $0 - 1 }) {
                st.pointee.frameCount = k
                st.pointee.fp = f.fp
                st.pointee.current = f.function
                st.pointee.vmctx = f.vmctx
                st.pointee.reloadMemory()
                return p
            }
            k -= 1
        }
        return nil
    }
}
