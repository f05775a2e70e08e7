import CStrata

// Instruction semantics of the interpreter. Each handler reads its operands (slot indices
// relative to the frame pointer, or immediates) from the words after its own, and returns the
// next pc. Operand layouts are documented at each group and produced by `Translator`.

@inline(__always) func op(_ pc: CodePointer, _ i: Int) -> Int { Int(truncatingIfNeeded: pc[i]) }
@inline(__always) func rd32(_ fp: FramePointer, _ pc: CodePointer, _ i: Int) -> UInt32 {
    UInt32(truncatingIfNeeded: fp[op(pc, i)])
}
@inline(__always) func rd64(_ fp: FramePointer, _ pc: CodePointer, _ i: Int) -> UInt64 { fp[op(pc, i)] }
@inline(__always) func rdF32(_ fp: FramePointer, _ pc: CodePointer, _ i: Int) -> Float {
    Float(bitPattern: rd32(fp, pc, i))
}
@inline(__always) func rdF64(_ fp: FramePointer, _ pc: CodePointer, _ i: Int) -> Double {
    Double(bitPattern: rd64(fp, pc, i))
}
@inline(__always) func wr(_ fp: FramePointer, _ pc: CodePointer, _ i: Int, _ v: UInt64) { fp[op(pc, i)] = v }
/// Moves one 16-byte slot (any value type). The source may be a scalar constant's word, not
/// slot-aligned (`Translator.constImage`): SIMD's `vload`, an unaligned load.
@inline(__always) func move16(_ dst: FramePointer, _ src: FramePointer) {
    vstore(UnsafeMutableRawPointer(dst), vload(UnsafeRawPointer(src), U64x2.self))
}
@inline(__always) func wr32(_ fp: FramePointer, _ pc: CodePointer, _ i: Int, _ v: UInt32) { fp[op(pc, i)] = UInt64(v) }

@inline(__always)
func trap(_ st: StatePointer, _ kind: TrapKind, _ pc: CodePointer) -> CodePointer? {
    st.pointee.trap = kind
    st.pointee.trapPC = pc
    return nil
}

// MARK: - operand-shape helpers ([dst, a, b] and [dst, a])

@inline(__always) func bin32(_ pc: CodePointer, _ fp: FramePointer, _ f: (UInt32, UInt32) -> UInt32) -> CodePointer? {
    wr32(fp, pc, 1, f(rd32(fp, pc, 2), rd32(fp, pc, 3))); return pc + 4
}
@inline(__always) func bin64(_ pc: CodePointer, _ fp: FramePointer, _ f: (UInt64, UInt64) -> UInt64) -> CodePointer? {
    wr(fp, pc, 1, f(rd64(fp, pc, 2), rd64(fp, pc, 3))); return pc + 4
}
@inline(__always) func cmp32(_ pc: CodePointer, _ fp: FramePointer, _ f: (UInt32, UInt32) -> Bool) -> CodePointer? {
    wr(fp, pc, 1, f(rd32(fp, pc, 2), rd32(fp, pc, 3)) ? 1 : 0); return pc + 4
}
@inline(__always) func cmp64(_ pc: CodePointer, _ fp: FramePointer, _ f: (UInt64, UInt64) -> Bool) -> CodePointer? {
    wr(fp, pc, 1, f(rd64(fp, pc, 2), rd64(fp, pc, 3)) ? 1 : 0); return pc + 4
}
@inline(__always) func cmpF32(_ pc: CodePointer, _ fp: FramePointer, _ f: (Float, Float) -> Bool) -> CodePointer? {
    wr(fp, pc, 1, f(rdF32(fp, pc, 2), rdF32(fp, pc, 3)) ? 1 : 0); return pc + 4
}
@inline(__always) func cmpF64(_ pc: CodePointer, _ fp: FramePointer, _ f: (Double, Double) -> Bool) -> CodePointer? {
    wr(fp, pc, 1, f(rdF64(fp, pc, 2), rdF64(fp, pc, 3)) ? 1 : 0); return pc + 4
}
@inline(__always) func binF32(_ pc: CodePointer, _ fp: FramePointer, _ f: (Float, Float) -> Float) -> CodePointer? {
    wr32(fp, pc, 1, f(rdF32(fp, pc, 2), rdF32(fp, pc, 3)).bitPattern); return pc + 4
}
@inline(__always) func binF64(_ pc: CodePointer, _ fp: FramePointer, _ f: (Double, Double) -> Double) -> CodePointer? {
    wr(fp, pc, 1, f(rdF64(fp, pc, 2), rdF64(fp, pc, 3)).bitPattern); return pc + 4
}
@inline(__always) func un32(_ pc: CodePointer, _ fp: FramePointer, _ f: (UInt32) -> UInt32) -> CodePointer? {
    wr32(fp, pc, 1, f(rd32(fp, pc, 2))); return pc + 3
}
@inline(__always) func un64(_ pc: CodePointer, _ fp: FramePointer, _ f: (UInt64) -> UInt64) -> CodePointer? {
    wr(fp, pc, 1, f(rd64(fp, pc, 2))); return pc + 3
}
@inline(__always) func unF32(_ pc: CodePointer, _ fp: FramePointer, _ f: (Float) -> Float) -> CodePointer? {
    wr32(fp, pc, 1, f(rdF32(fp, pc, 2)).bitPattern); return pc + 3
}
@inline(__always) func unF64(_ pc: CodePointer, _ fp: FramePointer, _ f: (Double) -> Double) -> CodePointer? {
    wr(fp, pc, 1, f(rdF64(fp, pc, 2)).bitPattern); return pc + 3
}

// MARK: - float semantics shared by all tiers' slow paths

@inline(__always) func wasmMin<F: BinaryFloatingPoint>(_ a: F, _ b: F) -> F {
    if a.isNaN || b.isNaN { return a + b }
    if a == b { return a.sign == .minus ? a : b }
    return a < b ? a : b
}
@inline(__always) func wasmMax<F: BinaryFloatingPoint>(_ a: F, _ b: F) -> F {
    if a.isNaN || b.isNaN { return a + b }
    if a == b { return a.sign == .minus ? b : a }
    return a > b ? a : b
}
@inline(__always) func wasmNearest<F: BinaryFloatingPoint>(_ a: F) -> F { a.rounded(.toNearestOrEven) }

/// Float-to-int truncation: nil for NaN (invalid conversion), or when out of range (overflow).
@inline(__always) func truncCheck(_ x: Double, lowerExclusive: Double, upperExclusive: Double) -> TrapKind? {
    if x.isNaN { return .invalidConversion }
    if !(x > lowerExclusive && x < upperExclusive) { return .integerOverflow }
    return nil
}

// MARK: - data movement

/// [dst, src]
@inline(__always) func opCopy(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyCopy(pc, fp, st)
    return (next, fp, st)
}
/// Scalars and references move one word: a 16-byte load right after an 8-byte store of the
/// same slot (the usual producer) cannot be store-forwarded and stalls.
@inline(__always) func bodyCopy(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    fp[op(pc, 1)] = fp[op(pc, 2)]; return pc + 3
}
/// [dst, value]: a constant's low word into a slot (a scalar constant's slot needs no other).
@inline(__always) func opConstSet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyConstSet(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyConstSet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    fp[op(pc, 1)] = pc[2]; return pc + 3
}
/// [dst, src]
@inline(__always) func opCopyV128(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    move16(fp + op(pc, 1), fp + op(pc, 2)); return (pc + 3, fp, st)
}
/// [dst, a, b, cond]
@inline(__always) func opSelect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodySelect(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodySelect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    fp[op(pc, 1)] = fp[op(pc, rd32(fp, pc, 4) != 0 ? 2 : 3)]; return pc + 5
}
/// [dst, a, b, cond]
@inline(__always) func opSelectV128(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    move16(fp + op(pc, 1), fp + op(pc, rd32(fp, pc, 4) != 0 ? 2 : 3)); return (pc + 5, fp, st)
}
@inline(__always) func opUnreachable(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyUnreachable(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyUnreachable(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    trap(st, .unreachable, pc)
}

// MARK: - branches (offsets are in words, relative to the branch's own pc)

/// [offset]
@inline(__always) func opBr(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyBr(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyBr(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    pc + op(pc, 1)
}
/// [cond, offset]
@inline(__always) func opBrIf(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyBrIf(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyBrIf(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    rd32(fp, pc, 1) != 0 ? pc + op(pc, 2) : pc + 3
}
/// [cond, offset]
@inline(__always) func opBrIfNot(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyBrIfNot(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyBrIfNot(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    rd32(fp, pc, 1) == 0 ? pc + op(pc, 2) : pc + 3
}

/// A loop back edge. In tiered mode back edges are counted down in the execution state; every
/// `backEdgePeriod` of them the function running then gets their weight added to its hotness
/// and the interrupt flag is polled (`backEdgeSlowPath`), so the common case is one decrement.
/// Without tiering nothing is counted: the back edge only reads the call limit, which is 0
/// while an interrupt is pending. No store, because the decrement is a read-modify-write of
/// one word at every back edge, which chains the iterations of a short loop through memory
/// (store-to-load forwarding): `nested_loops` ran 0.79 of its time with no count at all.
@inline(__always) func backEdge(_ st: StatePointer, _ pc: CodePointer, _ target: CodePointer) -> CodePointer? {
    if st.pointee.countsBackEdges {
        st.pointee.backEdgeBudget &-= 1
        if st.pointee.backEdgeBudget < 0 { return backEdgeSlowPath(st, pc, target) }
        return target
    }
    if strata_load_call_limit(&st.pointee.callLimit) == 0 { return backEdgeSlowPath(st, pc, target) }
    return target
}

/// Back edges between two visits of the slow path (`ExecState.backEdgePeriod`: 1 when on-stack
/// replacement is forced at the first back edge).
let backEdgePeriod = 64

/// Counts the back edges since the last visit, polls the interrupt flag, and moves the
/// activation to compiled code when there is some for the loop (`considerOSR`).
@inline(never) func backEdgeSlowPath(_ st: StatePointer, _ pc: CodePointer, _ target: CodePointer) -> CodePointer? {
    let period = st.pointee.backEdgePeriod
    st.pointee.backEdgeBudget = period - 1
    let fc = st.pointee.current.unsafelyUnwrapped
    if strata_hotness_bump(&fc.pointee.hotness, st.pointee.loopWeight &* Int64(period)) != 0 {
        requestTierUp(fc, vmctx: st.pointee.vmctx)
    }
    if strata_load_interrupt(st.pointee.interrupt) != 0 { return trap(st, .interrupted, pc) }
    if st.pointee.osrMode != .disabled, let transfer = considerOSR(st, fc, header: target) { return transfer }
    return target
}
/// Backward branch to a loop header: counts for tiering and polls the interrupt flag. [offset]
@inline(__always) func opBrBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyBrBack(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyBrBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    backEdge(st, pc, pc + op(pc, 1))
}
/// [cond, offset]
@inline(__always) func opBrIfBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyBrIfBack(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyBrIfBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    rd32(fp, pc, 1) != 0 ? backEdge(st, pc, pc + op(pc, 2)) : pc + 3
}
/// [index, count, off_0 ... off_count-1, off_default]: jumps by the offset the index picks (the
/// default when the index is out of range). Every offset is forward (a table with a loop among
/// its targets is a `br_table_back`), so this one counts no back edge and never stops.
@inline(__always) func opBrTable(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyBrTable(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyBrTable(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    brTableTarget(pc, fp)
}
/// `br_table` with a loop header among its targets: a jump backward, or to itself (the table
/// is the first instruction of the loop), counts as a back edge.
@inline(__always) func opBrTableBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let target = brTableTarget(pc, fp)
    return (target <= pc ? backEdge(st, pc, target) : target, fp, st)
}
@inline(__always) func brTableTarget(_ pc: CodePointer, _ fp: FramePointer) -> CodePointer {
    let count = op(pc, 2)
    let i = Int(rd32(fp, pc, 1))
    return pc + op(pc, 3 + (i < count ? i : count))
}

// MARK: - integer arithmetic

@inline(__always) func opI32Eqz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Eqz(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Eqz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, rd32(fp, pc, 2) == 0 ? 1 : 0); return pc + 3
}
@inline(__always) func opI64Eqz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Eqz(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Eqz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, rd64(fp, pc, 2) == 0 ? 1 : 0); return pc + 3
}

@inline(__always) func opI32Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Eq(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { $0 == $1 }
}
@inline(__always) func opI32Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Ne(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { $0 != $1 }
}
@inline(__always) func opI32LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32LtS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { Int32(bitPattern: $0) < Int32(bitPattern: $1) }
}
@inline(__always) func opI32LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32LtU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { $0 < $1 }
}
@inline(__always) func opI32GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32GtS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { Int32(bitPattern: $0) > Int32(bitPattern: $1) }
}
@inline(__always) func opI32GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32GtU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { $0 > $1 }
}
@inline(__always) func opI32LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32LeS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { Int32(bitPattern: $0) <= Int32(bitPattern: $1) }
}
@inline(__always) func opI32LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32LeU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { $0 <= $1 }
}
@inline(__always) func opI32GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32GeS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { Int32(bitPattern: $0) >= Int32(bitPattern: $1) }
}
@inline(__always) func opI32GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32GeU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp32(pc, fp) { $0 >= $1 }
}
@inline(__always) func opI64Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Eq(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { $0 == $1 }
}
@inline(__always) func opI64Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Ne(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { $0 != $1 }
}
@inline(__always) func opI64LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64LtS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { Int64(bitPattern: $0) < Int64(bitPattern: $1) }
}
@inline(__always) func opI64LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64LtU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { $0 < $1 }
}
@inline(__always) func opI64GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64GtS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { Int64(bitPattern: $0) > Int64(bitPattern: $1) }
}
@inline(__always) func opI64GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64GtU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { $0 > $1 }
}
@inline(__always) func opI64LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64LeS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { Int64(bitPattern: $0) <= Int64(bitPattern: $1) }
}
@inline(__always) func opI64LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64LeU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { $0 <= $1 }
}
@inline(__always) func opI64GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64GeS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { Int64(bitPattern: $0) >= Int64(bitPattern: $1) }
}
@inline(__always) func opI64GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64GeU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmp64(pc, fp) { $0 >= $1 }
}

@inline(__always) func opF32Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Eq(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF32(pc, fp) { $0 == $1 }
}
@inline(__always) func opF32Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Ne(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF32(pc, fp) { $0 != $1 }
}
@inline(__always) func opF32Lt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Lt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Lt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF32(pc, fp) { $0 < $1 }
}
@inline(__always) func opF32Gt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Gt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Gt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF32(pc, fp) { $0 > $1 }
}
@inline(__always) func opF32Le(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Le(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Le(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF32(pc, fp) { $0 <= $1 }
}
@inline(__always) func opF32Ge(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Ge(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Ge(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF32(pc, fp) { $0 >= $1 }
}
@inline(__always) func opF64Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Eq(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF64(pc, fp) { $0 == $1 }
}
@inline(__always) func opF64Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Ne(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF64(pc, fp) { $0 != $1 }
}
@inline(__always) func opF64Lt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Lt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Lt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF64(pc, fp) { $0 < $1 }
}
@inline(__always) func opF64Gt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Gt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Gt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF64(pc, fp) { $0 > $1 }
}
@inline(__always) func opF64Le(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Le(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Le(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF64(pc, fp) { $0 <= $1 }
}
@inline(__always) func opF64Ge(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Ge(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Ge(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    cmpF64(pc, fp) { $0 >= $1 }
}

@inline(__always) func opI32Clz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Clz(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Clz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { UInt32($0.leadingZeroBitCount) }
}
@inline(__always) func opI32Ctz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Ctz(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Ctz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { UInt32($0.trailingZeroBitCount) }
}
@inline(__always) func opI32Popcnt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Popcnt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Popcnt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { UInt32($0.nonzeroBitCount) }
}
@inline(__always) func opI32Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Add(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &+ $1 }
}
/// [dst, a, value]: a + value, the constant in the code (no frame slot).
@inline(__always) func opI32AddImm(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32AddImm(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32AddImm(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, rd32(fp, pc, 2) &+ UInt32(truncatingIfNeeded: pc[3])); return pc + 4
}
@inline(__always) func opI32Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Sub(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &- $1 }
}
@inline(__always) func opI32Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Mul(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &* $1 }
}
@inline(__always) func opI32DivS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32DivS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32DivS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = Int32(bitPattern: rd32(fp, pc, 2)), b = Int32(bitPattern: rd32(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    if a == Int32.min && b == -1 { return trap(st, .integerOverflow, pc) }
    wr32(fp, pc, 1, UInt32(bitPattern: a / b)); return pc + 4
}
@inline(__always) func opI32DivU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32DivU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32DivU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = rd32(fp, pc, 2), b = rd32(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr32(fp, pc, 1, a / b); return pc + 4
}
@inline(__always) func opI32RemS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32RemS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32RemS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = Int32(bitPattern: rd32(fp, pc, 2)), b = Int32(bitPattern: rd32(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr32(fp, pc, 1, b == -1 ? 0 : UInt32(bitPattern: a % b)); return pc + 4
}
@inline(__always) func opI32RemU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32RemU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32RemU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = rd32(fp, pc, 2), b = rd32(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr32(fp, pc, 1, a % b); return pc + 4
}
@inline(__always) func opI32And(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32And(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32And(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 & $1 }
}
@inline(__always) func opI32Or(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Or(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Or(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 | $1 }
}
@inline(__always) func opI32Xor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Xor(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Xor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 ^ $1 }
}
@inline(__always) func opI32Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Shl(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &<< $1 }
}
@inline(__always) func opI32ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32ShrS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { UInt32(bitPattern: Int32(bitPattern: $0) &>> Int32(bitPattern: $1)) }
}
@inline(__always) func opI32ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32ShrU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &>> $1 }
}
@inline(__always) func opI32Rotl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Rotl(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Rotl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &<< $1 | $0 &>> (32 &- ($1 & 31)) }
}
@inline(__always) func opI32Rotr(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Rotr(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Rotr(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { $0 &>> $1 | $0 &<< (32 &- ($1 & 31)) }
}

@inline(__always) func opI64Clz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Clz(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Clz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { UInt64($0.leadingZeroBitCount) }
}
@inline(__always) func opI64Ctz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Ctz(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Ctz(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { UInt64($0.trailingZeroBitCount) }
}
@inline(__always) func opI64Popcnt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Popcnt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Popcnt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { UInt64($0.nonzeroBitCount) }
}
@inline(__always) func opI64Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Add(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &+ $1 }
}
@inline(__always) func opI64Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Sub(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &- $1 }
}
@inline(__always) func opI64Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Mul(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &* $1 }
}
@inline(__always) func opI64DivS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64DivS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64DivS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = Int64(bitPattern: rd64(fp, pc, 2)), b = Int64(bitPattern: rd64(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    if a == Int64.min && b == -1 { return trap(st, .integerOverflow, pc) }
    wr(fp, pc, 1, UInt64(bitPattern: a / b)); return pc + 4
}
@inline(__always) func opI64DivU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64DivU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64DivU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = rd64(fp, pc, 2), b = rd64(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr(fp, pc, 1, a / b); return pc + 4
}
@inline(__always) func opI64RemS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64RemS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64RemS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = Int64(bitPattern: rd64(fp, pc, 2)), b = Int64(bitPattern: rd64(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr(fp, pc, 1, b == -1 ? 0 : UInt64(bitPattern: a % b)); return pc + 4
}
@inline(__always) func opI64RemU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64RemU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64RemU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let a = rd64(fp, pc, 2), b = rd64(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr(fp, pc, 1, a % b); return pc + 4
}
@inline(__always) func opI64And(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64And(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64And(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 & $1 }
}
@inline(__always) func opI64Or(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Or(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Or(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 | $1 }
}
@inline(__always) func opI64Xor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Xor(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Xor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 ^ $1 }
}
@inline(__always) func opI64Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Shl(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &<< $1 }
}
@inline(__always) func opI64ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64ShrS(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { UInt64(bitPattern: Int64(bitPattern: $0) &>> Int64(bitPattern: $1)) }
}
@inline(__always) func opI64ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64ShrU(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &>> $1 }
}
@inline(__always) func opI64Rotl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Rotl(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Rotl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &<< $1 | $0 &>> (64 &- ($1 & 63)) }
}
@inline(__always) func opI64Rotr(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Rotr(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Rotr(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { $0 &>> $1 | $0 &<< (64 &- ($1 & 63)) }
}

// MARK: - float arithmetic (sign operations on bits keep NaN payloads)

@inline(__always) func opF32Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Abs(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { $0 & 0x7FFF_FFFF }
}
@inline(__always) func opF32Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Neg(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { $0 ^ 0x8000_0000 }
}
@inline(__always) func opF32Ceil(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Ceil(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Ceil(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF32(pc, fp) { $0.rounded(.up) }
}
@inline(__always) func opF32Floor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Floor(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Floor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF32(pc, fp) { $0.rounded(.down) }
}
@inline(__always) func opF32Trunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Trunc(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Trunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF32(pc, fp) { $0.rounded(.towardZero) }
}
@inline(__always) func opF32Nearest(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Nearest(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Nearest(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF32(pc, fp) { wasmNearest($0) }
}
@inline(__always) func opF32Sqrt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Sqrt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Sqrt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF32(pc, fp) { $0.squareRoot() }
}
@inline(__always) func opF32Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Add(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF32(pc, fp) { $0 + $1 }
}
@inline(__always) func opF32Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Sub(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF32(pc, fp) { $0 - $1 }
}
@inline(__always) func opF32Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Mul(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF32(pc, fp) { $0 * $1 }
}
@inline(__always) func opF32Div(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Div(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Div(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF32(pc, fp) { $0 / $1 }
}
@inline(__always) func opF32Min(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Min(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Min(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF32(pc, fp) { wasmMin($0, $1) }
}
@inline(__always) func opF32Max(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Max(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Max(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF32(pc, fp) { wasmMax($0, $1) }
}
@inline(__always) func opF32Copysign(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32Copysign(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32Copysign(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin32(pc, fp) { ($0 & 0x7FFF_FFFF) | ($1 & 0x8000_0000) }
}
@inline(__always) func opF64Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Abs(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { $0 & 0x7FFF_FFFF_FFFF_FFFF }
}
@inline(__always) func opF64Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Neg(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { $0 ^ 0x8000_0000_0000_0000 }
}
@inline(__always) func opF64Ceil(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Ceil(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Ceil(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF64(pc, fp) { $0.rounded(.up) }
}
@inline(__always) func opF64Floor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Floor(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Floor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF64(pc, fp) { $0.rounded(.down) }
}
@inline(__always) func opF64Trunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Trunc(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Trunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF64(pc, fp) { $0.rounded(.towardZero) }
}
@inline(__always) func opF64Nearest(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Nearest(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Nearest(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF64(pc, fp) { wasmNearest($0) }
}
@inline(__always) func opF64Sqrt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Sqrt(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Sqrt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    unF64(pc, fp) { $0.squareRoot() }
}
@inline(__always) func opF64Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Add(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF64(pc, fp) { $0 + $1 }
}
@inline(__always) func opF64Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Sub(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF64(pc, fp) { $0 - $1 }
}
@inline(__always) func opF64Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Mul(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF64(pc, fp) { $0 * $1 }
}
@inline(__always) func opF64Div(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Div(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Div(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF64(pc, fp) { $0 / $1 }
}
@inline(__always) func opF64Min(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Min(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Min(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF64(pc, fp) { wasmMin($0, $1) }
}
@inline(__always) func opF64Max(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Max(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Max(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    binF64(pc, fp) { wasmMax($0, $1) }
}
@inline(__always) func opF64Copysign(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64Copysign(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64Copysign(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    bin64(pc, fp) { ($0 & 0x7FFF_FFFF_FFFF_FFFF) | ($1 & 0x8000_0000_0000_0000) }
}

// MARK: - conversions

@inline(__always) func opI32WrapI64(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32WrapI64(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32WrapI64(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, rd32(fp, pc, 2)); return pc + 3
}
@inline(__always) func opI64ExtendI32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64ExtendI32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64ExtendI32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, UInt64(bitPattern: Int64(Int32(bitPattern: rd32(fp, pc, 2))))); return pc + 3
}
@inline(__always) func opI64ExtendI32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64ExtendI32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64ExtendI32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, UInt64(rd32(fp, pc, 2))); return pc + 3
}
@inline(__always) func opI32Extend8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Extend8S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Extend8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: $0))) }
}
@inline(__always) func opI32Extend16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Extend16S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Extend16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un32(pc, fp) { UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: $0))) }
}
@inline(__always) func opI64Extend8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Extend8S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Extend8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: $0))) }
}
@inline(__always) func opI64Extend16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Extend16S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Extend16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: $0))) }
}
@inline(__always) func opI64Extend32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Extend32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Extend32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    un64(pc, fp) { UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: $0))) }
}

@inline(__always) func truncTo<I: FixedWidthInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer,
    _ x: Double, _ lo: Double, _ hi: Double, _ as: I.Type
) -> CodePointer? {
    if let t = truncCheck(x, lowerExclusive: lo, upperExclusive: hi) { return trap(st, t, pc) }
    let v = I(x.rounded(.towardZero))
    wr(fp, pc, 1, UInt64(truncatingIfNeeded: v))
    if I.bitWidth == 32 { fp[op(pc, 1)] &= 0xFFFF_FFFF }
    return pc + 3
}
@inline(__always) func opI32TruncF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncF32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -2147483649.0, 2147483648.0, Int32.self)
}
@inline(__always) func opI32TruncF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncF32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -1.0, 4294967296.0, UInt32.self)
}
@inline(__always) func opI32TruncF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncF64S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, rdF64(fp, pc, 2), -2147483649.0, 2147483648.0, Int32.self)
}
@inline(__always) func opI32TruncF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncF64U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, rdF64(fp, pc, 2), -1.0, 4294967296.0, UInt32.self)
}
@inline(__always) func opI64TruncF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncF32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -9223373136366403584.0, 9223372036854775808.0, Int64.self)
}
@inline(__always) func opI64TruncF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncF32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -1.0, 18446744073709551616.0, UInt64.self)
}
@inline(__always) func opI64TruncF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncF64S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, rdF64(fp, pc, 2), -9223372036854777856.0, 9223372036854775808.0, Int64.self)
}
@inline(__always) func opI64TruncF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncF64U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    truncTo(pc, fp, st, rdF64(fp, pc, 2), -1.0, 18446744073709551616.0, UInt64.self)
}

@inline(__always) func truncSat<I: FixedWidthInteger>(_ x: Double, _ as: I.Type) -> UInt64 {
    if x.isNaN { return 0 }
    if x <= Double(I.min) { return UInt64(truncatingIfNeeded: I.min) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0) }
    if x >= Double(I.max) { return UInt64(truncatingIfNeeded: I.max) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0) }
    return UInt64(truncatingIfNeeded: I(x.rounded(.towardZero))) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0)
}
@inline(__always) func opI32TruncSatF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncSatF32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncSatF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), Int32.self)); return pc + 3
}
@inline(__always) func opI32TruncSatF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncSatF32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncSatF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), UInt32.self)); return pc + 3
}
@inline(__always) func opI32TruncSatF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncSatF64S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncSatF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), Int32.self)); return pc + 3
}
@inline(__always) func opI32TruncSatF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32TruncSatF64U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32TruncSatF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), UInt32.self)); return pc + 3
}
@inline(__always) func opI64TruncSatF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncSatF32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncSatF32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), Int64.self)); return pc + 3
}
@inline(__always) func opI64TruncSatF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncSatF32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncSatF32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), UInt64.self)); return pc + 3
}
@inline(__always) func opI64TruncSatF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncSatF64S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncSatF64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), Int64.self)); return pc + 3
}
@inline(__always) func opI64TruncSatF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64TruncSatF64U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64TruncSatF64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), UInt64.self)); return pc + 3
}

@inline(__always) func opF32ConvertI32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32ConvertI32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32ConvertI32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, Float(Int32(bitPattern: rd32(fp, pc, 2))).bitPattern); return pc + 3
}
@inline(__always) func opF32ConvertI32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32ConvertI32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32ConvertI32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, Float(rd32(fp, pc, 2)).bitPattern); return pc + 3
}
@inline(__always) func opF32ConvertI64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32ConvertI64S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32ConvertI64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, Float(Int64(bitPattern: rd64(fp, pc, 2))).bitPattern); return pc + 3
}
@inline(__always) func opF32ConvertI64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32ConvertI64U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32ConvertI64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, Float(rd64(fp, pc, 2)).bitPattern); return pc + 3
}
@inline(__always) func opF32DemoteF64(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF32DemoteF64(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF32DemoteF64(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, Float(rdF64(fp, pc, 2)).bitPattern); return pc + 3
}
@inline(__always) func opF64ConvertI32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64ConvertI32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64ConvertI32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, Double(Int32(bitPattern: rd32(fp, pc, 2))).bitPattern); return pc + 3
}
@inline(__always) func opF64ConvertI32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64ConvertI32U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64ConvertI32U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, Double(rd32(fp, pc, 2)).bitPattern); return pc + 3
}
@inline(__always) func opF64ConvertI64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64ConvertI64S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64ConvertI64S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, Double(Int64(bitPattern: rd64(fp, pc, 2))).bitPattern); return pc + 3
}
@inline(__always) func opF64ConvertI64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64ConvertI64U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64ConvertI64U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, Double(rd64(fp, pc, 2)).bitPattern); return pc + 3
}
@inline(__always) func opF64PromoteF32(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyF64PromoteF32(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyF64PromoteF32(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, Double(rdF32(fp, pc, 2)).bitPattern); return pc + 3
}
/// Reinterpretations are plain copies of the 32 or 64 bits.
@inline(__always) func opMove32(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyMove32(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyMove32(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr32(fp, pc, 1, rd32(fp, pc, 2)); return pc + 3
}

/// The handler of a plain numeric instruction (see `NumericSignature`).
func numericHandler(_ opcode: UInt16) -> Handler {
    switch opcode {
    case 0x45: Opcode.i32_eqz
    case 0x46: Opcode.i32_eq
    case 0x47: Opcode.i32_ne
    case 0x48: Opcode.i32_lt_s
    case 0x49: Opcode.i32_lt_u
    case 0x4A: Opcode.i32_gt_s
    case 0x4B: Opcode.i32_gt_u
    case 0x4C: Opcode.i32_le_s
    case 0x4D: Opcode.i32_le_u
    case 0x4E: Opcode.i32_ge_s
    case 0x4F: Opcode.i32_ge_u
    case 0x50: Opcode.i64_eqz
    case 0x51: Opcode.i64_eq
    case 0x52: Opcode.i64_ne
    case 0x53: Opcode.i64_lt_s
    case 0x54: Opcode.i64_lt_u
    case 0x55: Opcode.i64_gt_s
    case 0x56: Opcode.i64_gt_u
    case 0x57: Opcode.i64_le_s
    case 0x58: Opcode.i64_le_u
    case 0x59: Opcode.i64_ge_s
    case 0x5A: Opcode.i64_ge_u
    case 0x5B: Opcode.f32_eq
    case 0x5C: Opcode.f32_ne
    case 0x5D: Opcode.f32_lt
    case 0x5E: Opcode.f32_gt
    case 0x5F: Opcode.f32_le
    case 0x60: Opcode.f32_ge
    case 0x61: Opcode.f64_eq
    case 0x62: Opcode.f64_ne
    case 0x63: Opcode.f64_lt
    case 0x64: Opcode.f64_gt
    case 0x65: Opcode.f64_le
    case 0x66: Opcode.f64_ge
    case 0x67: Opcode.i32_clz
    case 0x68: Opcode.i32_ctz
    case 0x69: Opcode.i32_popcnt
    case 0x6A: Opcode.i32_add
    case 0x6B: Opcode.i32_sub
    case 0x6C: Opcode.i32_mul
    case 0x6D: Opcode.i32_div_s
    case 0x6E: Opcode.i32_div_u
    case 0x6F: Opcode.i32_rem_s
    case 0x70: Opcode.i32_rem_u
    case 0x71: Opcode.i32_and
    case 0x72: Opcode.i32_or
    case 0x73: Opcode.i32_xor
    case 0x74: Opcode.i32_shl
    case 0x75: Opcode.i32_shr_s
    case 0x76: Opcode.i32_shr_u
    case 0x77: Opcode.i32_rotl
    case 0x78: Opcode.i32_rotr
    case 0x79: Opcode.i64_clz
    case 0x7A: Opcode.i64_ctz
    case 0x7B: Opcode.i64_popcnt
    case 0x7C: Opcode.i64_add
    case 0x7D: Opcode.i64_sub
    case 0x7E: Opcode.i64_mul
    case 0x7F: Opcode.i64_div_s
    case 0x80: Opcode.i64_div_u
    case 0x81: Opcode.i64_rem_s
    case 0x82: Opcode.i64_rem_u
    case 0x83: Opcode.i64_and
    case 0x84: Opcode.i64_or
    case 0x85: Opcode.i64_xor
    case 0x86: Opcode.i64_shl
    case 0x87: Opcode.i64_shr_s
    case 0x88: Opcode.i64_shr_u
    case 0x89: Opcode.i64_rotl
    case 0x8A: Opcode.i64_rotr
    case 0x8B: Opcode.f32_abs
    case 0x8C: Opcode.f32_neg
    case 0x8D: Opcode.f32_ceil
    case 0x8E: Opcode.f32_floor
    case 0x8F: Opcode.f32_trunc
    case 0x90: Opcode.f32_nearest
    case 0x91: Opcode.f32_sqrt
    case 0x92: Opcode.f32_add
    case 0x93: Opcode.f32_sub
    case 0x94: Opcode.f32_mul
    case 0x95: Opcode.f32_div
    case 0x96: Opcode.f32_min
    case 0x97: Opcode.f32_max
    case 0x98: Opcode.f32_copysign
    case 0x99: Opcode.f64_abs
    case 0x9A: Opcode.f64_neg
    case 0x9B: Opcode.f64_ceil
    case 0x9C: Opcode.f64_floor
    case 0x9D: Opcode.f64_trunc
    case 0x9E: Opcode.f64_nearest
    case 0x9F: Opcode.f64_sqrt
    case 0xA0: Opcode.f64_add
    case 0xA1: Opcode.f64_sub
    case 0xA2: Opcode.f64_mul
    case 0xA3: Opcode.f64_div
    case 0xA4: Opcode.f64_min
    case 0xA5: Opcode.f64_max
    case 0xA6: Opcode.f64_copysign
    case 0xA7: Opcode.i32_wrap_i64
    case 0xA8: Opcode.i32_trunc_f32_s
    case 0xA9: Opcode.i32_trunc_f32_u
    case 0xAA: Opcode.i32_trunc_f64_s
    case 0xAB: Opcode.i32_trunc_f64_u
    case 0xAC: Opcode.i64_extend_i32_s
    case 0xAD: Opcode.i64_extend_i32_u
    case 0xAE: Opcode.i64_trunc_f32_s
    case 0xAF: Opcode.i64_trunc_f32_u
    case 0xB0: Opcode.i64_trunc_f64_s
    case 0xB1: Opcode.i64_trunc_f64_u
    case 0xB2: Opcode.f32_convert_i32_s
    case 0xB3: Opcode.f32_convert_i32_u
    case 0xB4: Opcode.f32_convert_i64_s
    case 0xB5: Opcode.f32_convert_i64_u
    case 0xB6: Opcode.f32_demote_f64
    case 0xB7: Opcode.f64_convert_i32_s
    case 0xB8: Opcode.f64_convert_i32_u
    case 0xB9: Opcode.f64_convert_i64_s
    case 0xBA: Opcode.f64_convert_i64_u
    case 0xBB: Opcode.f64_promote_f32
    case 0xBC, 0xBE: Opcode.move32
    case 0xBD, 0xBF: Opcode.copy
    case 0xC0: Opcode.i32_extend8_s
    case 0xC1: Opcode.i32_extend16_s
    case 0xC2: Opcode.i64_extend8_s
    case 0xC3: Opcode.i64_extend16_s
    case 0xC4: Opcode.i64_extend32_s
    case 0xFC00: Opcode.i32_trunc_sat_f32_s
    case 0xFC01: Opcode.i32_trunc_sat_f32_u
    case 0xFC02: Opcode.i32_trunc_sat_f64_s
    case 0xFC03: Opcode.i32_trunc_sat_f64_u
    case 0xFC04: Opcode.i64_trunc_sat_f32_s
    case 0xFC05: Opcode.i64_trunc_sat_f32_u
    case 0xFC06: Opcode.i64_trunc_sat_f64_s
    default: Opcode.i64_trunc_sat_f64_u  // 0xFC07
    }
}
