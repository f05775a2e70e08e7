import CStrata

// Typed function references in the interpreter. A function reference is a `StrataFuncRef`
// pointer (0: null) whatever its static type, so `call_ref` is an indirect call without the
// table lookup and without a signature check (validation proved the type), and the null tests
// compare the whole 64-bit slot. These run in the secondary dispatch loop.

/// [ref, argBase]: calls the function `ref` names (null traps).
@inline(never)
func opCallRef(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    guard let ref = UnsafeMutablePointer<StrataFuncRef>(bitPattern: UInt(rd64(fp, pc, 1))) else {
        return (trap(st, .nullFunctionReference, pc), fp, st)
    }
    let (next, nextFP) = callFunctionReference(st, ref, newFP: fp + op(pc, 2), callerFP: fp, returnPC: pc + 3, pc: pc)
    return (next, nextFP, st)
}

/// [ref, argBase, argWords]: the tail-call form (`Interpreter.swift`, tail calls).
@inline(never)
func opReturnCallRef(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    guard let ref = UnsafeMutablePointer<StrataFuncRef>(bitPattern: UInt(rd64(fp, pc, 1))) else {
        return (trap(st, .nullFunctionReference, pc), fp, st)
    }
    guard let frame = leaveForTailCall(st, fp, argBase: op(pc, 2), words: op(pc, 3), frameWords: 0, pc: pc) else { return (nil, fp, st) }
    if handBackTailCall(st, ref, fp, words: op(pc, 3)) { return (nil, fp, st) }
    let (next, nextFP) = callFunctionReference(st, ref, newFP: fp, callerFP: frame.fp, returnPC: frame.returnPC, pc: pc)
    locateTrapAfterTailCall(st, next, frame: frame, pc: pc)
    return (next, nextFP, st)
}

/// [ref]: traps when the reference is null; the value stays where it is.
@inline(never)
func opRefAsNonNull(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (rd64(fp, pc, 1) == 0 ? trap(st, .nullReference, pc) : pc + 2, fp, st)
}

/// [ref, target]: branches when the reference is null.
@inline(never)
func opBrOnNull(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (rd64(fp, pc, 1) == 0 ? pc + op(pc, 2) : pc + 3, fp, st)
}

/// [ref, target]: branches when the reference is not null.
@inline(never)
func opBrOnNonNull(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (rd64(fp, pc, 1) != 0 ? pc + op(pc, 2) : pc + 3, fp, st)
}
