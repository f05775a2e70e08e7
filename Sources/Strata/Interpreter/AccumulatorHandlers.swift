// The float accumulator: one f64 value passed from an instruction to the next in a register
// (`facc`) instead of through a frame slot.
//
// When the translator emits an f64 operation, compare-and-branch or store whose operand is the
// result of the instruction emitted just before it (a temporary no other instruction reads), it
// re-emits that producer in a form that leaves its result in the accumulator (`f64_load_facc`,
// `f64_mul_to_facc`, `f64_mul_add_to_facc`, ...), without its destination operand, and emits the
// consumer in a form that reads it from there (`f64_sub_facc_l`: the left operand; `_facc_r`: the
// right one; `br_if_not_f64_le_facc`). A consumer that is itself consumed at once produces into
// the accumulator too (`f64_sub_facc_r_to_facc`). So a chain such as `c[j] += a * b[j]` runs
// load -> multiply, load -> add -> store with three of its four intermediate values in a
// register: each value through a slot costs a store and a store-forwarded load on the chain's
// latency. A loaded value stored at once stays a load and a store through a slot, which the
// `i64_load__i64_store` sequence runs with one dispatch.
//
// The accumulator is live only from a producer to the instruction right after it, never across
// a branch target (`Translator.produceIntoAccumulator` checks the barrier) or a dispatch to any
// other kind of instruction, so no other handler keeps it: the threaded handlers of the other
// operations pass an undefined value on, and the switch keeps it in a local of its loop. Only
// these operations take it (the `&facc` in their switch cases makes the generator give their
// handlers the accumulator); none of them is in a sequence pair.

/// The operand word `i` as an f64 in the frame.
@inline(__always) private func operand(_ fp: FramePointer, _ pc: CodePointer, _ i: Int) -> Double { rdF64(fp, pc, i) }

/// [addr, offset]: facc = f64 at addr + offset.
@inline(__always) func opF64LoadFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double) -> NextInstruction {
    guard let p = memoryAddress(pc, fp, st, addr: 1, offset: 2, width: 8) else {
        return (trap(st, .memoryOutOfBounds, pc), fp, st)
    }
    facc = Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
    return (pc + 3, fp, st)
}

/// [a, b, offset]: facc = f64 at (a + b as i32) + offset (an i32.add that computed the address, fused).
@inline(__always) func opF64LoadAddFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double) -> NextInstruction {
    let ea = UInt64(rd32(fp, pc, 1) &+ rd32(fp, pc, 2)) &+ pc[3]
    guard let p = memoryAddress(ea: ea, st, width: 8) else {
        return (trap(st, .memoryOutOfBounds, pc), fp, st)
    }
    facc = Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
    return (pc + 4, fp, st)
}

/// [addr, offset]: f64 at addr + offset = facc.
@inline(__always) func opF64StoreFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double) -> NextInstruction {
    guard let p = memoryAddress(pc, fp, st, addr: 1, offset: 2, width: 8) else {
        return (trap(st, .memoryOutOfBounds, pc), fp, st)
    }
    p.storeBytes(of: facc.bitPattern.littleEndian, as: UInt64.self)
    return (pc + 3, fp, st)
}

/// [a, b]: facc = a op b.
@inline(__always) func binF64ToFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ f: (Double, Double) -> Double) -> NextInstruction {
    facc = f(operand(fp, pc, 1), operand(fp, pc, 2))
    return (pc + 3, fp, st)
}

/// [dst, b]: dst = facc op b.
@inline(__always) func binF64FaccL(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ f: (Double, Double) -> Double) -> NextInstruction {
    wr(fp, pc, 1, f(facc, operand(fp, pc, 2)).bitPattern)
    return (pc + 3, fp, st)
}

/// [dst, a]: dst = a op facc.
@inline(__always) func binF64FaccR(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ f: (Double, Double) -> Double) -> NextInstruction {
    wr(fp, pc, 1, f(operand(fp, pc, 2), facc).bitPattern)
    return (pc + 3, fp, st)
}

/// [b]: facc = facc op b.
@inline(__always) func binF64FaccLToFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ f: (Double, Double) -> Double) -> NextInstruction {
    facc = f(facc, operand(fp, pc, 1))
    return (pc + 2, fp, st)
}

/// [a]: facc = a op facc.
@inline(__always) func binF64FaccRToFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ f: (Double, Double) -> Double) -> NextInstruction {
    facc = f(operand(fp, pc, 1), facc)
    return (pc + 2, fp, st)
}

/// An f64 add, sub, mul or div with one operand an f64 at addr + offset in memory 0: an f64.load
/// that the instruction right after it consumes, folded into that instruction (as x86 folds a
/// load into a memory operand), so the pair is one dispatch and the loaded value never goes
/// through a slot. The operands are [dst, x, addr, offset], without dst when the result goes to
/// the accumulator (`toAccumulator`) and without x when x comes from it (`xInAccumulator`), and
/// with two address operands [a, b] for an add-and-load (`addedAddress`: the address is the
/// i32 sum a + b, `f64_load_add_facc`'s); the result is x op m, or m op x (`memoryLeft`). A trap
/// names the load (the instruction's Wasm offset is the load's).
@inline(__always) func binF64Memory(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double,
    xInAccumulator: Bool, toAccumulator: Bool, memoryLeft: Bool, addedAddress: Bool, _ f: (Double, Double) -> Double
) -> NextInstruction {
    let x = xInAccumulator ? facc : operand(fp, pc, toAccumulator ? 1 : 2)
    let addr = 1 + (toAccumulator ? 0 : 1) + (xInAccumulator ? 0 : 1)
    let offset = addr + (addedAddress ? 2 : 1)
    let base = addedAddress ? rd32(fp, pc, addr) &+ rd32(fp, pc, addr + 1) : rd32(fp, pc, addr)
    guard let p = memoryAddress(ea: UInt64(base) &+ pc[offset], st, width: 8) else {
        return (trap(st, .memoryOutOfBounds, pc), fp, st)
    }
    let m = Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
    let r = memoryLeft ? f(m, x) : f(x, m)
    if toAccumulator { facc = r } else { wr(fp, pc, 1, r.bitPattern) }
    return (pc + offset + 1, fp, st)
}

/// The forms of f64 binary `opcode` with a memory operand (`binF64Memory`): x op m, with x in a
/// slot or in the accumulator, and m op x (the same as x op m for add and mul). When the load
/// computed the left operand, x was pushed after it without an instruction (the load was the
/// last one emitted), so x is never in the accumulator then.
/// `addedAddress`: the forms whose address is an add-and-load's (`_memadd`).
func memoryOperandForms(_ opcode: UInt16, addedAddress: Bool) -> (right: Opcode, rightFacc: Opcode, left: Opcode)? {
    switch (opcode, addedAddress) {
    case (0xA0, false): (.f64_add_mem, .f64_add_mem_facc, .f64_add_mem)
    case (0xA1, false): (.f64_sub_mem, .f64_sub_mem_facc, .f64_sub_mem_r)
    case (0xA2, false): (.f64_mul_mem, .f64_mul_mem_facc, .f64_mul_mem)
    case (0xA3, false): (.f64_div_mem, .f64_div_mem_facc, .f64_div_mem_r)
    case (0xA0, true): (.f64_add_memadd, .f64_add_memadd_facc, .f64_add_memadd)
    case (0xA1, true): (.f64_sub_memadd, .f64_sub_memadd_facc, .f64_sub_memadd_r)
    case (0xA2, true): (.f64_mul_memadd, .f64_mul_memadd_facc, .f64_mul_memadd)
    case (0xA3, true): (.f64_div_memadd, .f64_div_memadd_facc, .f64_div_memadd_r)
    default: nil
    }
}

/// The form of `producer` (the instruction emitted just before) that leaves its result in the
/// accumulator instead of its destination, its operand word 1, which the form drops. An
/// `i64_load` here is an f64.load: its consumer is an f64 operation.
func accumulatorProducerForm(_ producer: Opcode) -> Opcode? {
    switch producer {
    case .i64_load: .f64_load_facc
    case .i64_load_add: .f64_load_add_facc
    case .f64_add: .f64_add_to_facc
    case .f64_sub: .f64_sub_to_facc
    case .f64_mul: .f64_mul_to_facc
    case .f64_div: .f64_div_to_facc
    case .f64_add_facc_l: .f64_add_facc_l_to_facc
    case .f64_sub_facc_l: .f64_sub_facc_l_to_facc
    case .f64_mul_facc_l: .f64_mul_facc_l_to_facc
    case .f64_div_facc_l: .f64_div_facc_l_to_facc
    case .f64_sub_facc_r: .f64_sub_facc_r_to_facc
    case .f64_div_facc_r: .f64_div_facc_r_to_facc
    case .f64_add_add: .f64_add_add_to_facc
    case .f64_add_add_r: .f64_add_add_r_to_facc
    case .f64_add_sub: .f64_add_sub_to_facc
    case .f64_add_sub_r: .f64_add_sub_r_to_facc
    case .f64_add_mul: .f64_add_mul_to_facc
    case .f64_add_mul_r: .f64_add_mul_r_to_facc
    case .f64_sub_add: .f64_sub_add_to_facc
    case .f64_sub_add_r: .f64_sub_add_r_to_facc
    case .f64_sub_sub: .f64_sub_sub_to_facc
    case .f64_sub_sub_r: .f64_sub_sub_r_to_facc
    case .f64_sub_mul: .f64_sub_mul_to_facc
    case .f64_sub_mul_r: .f64_sub_mul_r_to_facc
    case .f64_mul_add: .f64_mul_add_to_facc
    case .f64_mul_add_r: .f64_mul_add_r_to_facc
    case .f64_mul_sub: .f64_mul_sub_to_facc
    case .f64_mul_sub_r: .f64_mul_sub_r_to_facc
    case .f64_mul_mul: .f64_mul_mul_to_facc
    case .f64_mul_mul_r: .f64_mul_mul_r_to_facc
    case .f64_div_add: .f64_div_add_to_facc
    case .f64_div_add_r: .f64_div_add_r_to_facc
    case .f64_div_sub: .f64_div_sub_to_facc
    case .f64_div_sub_r: .f64_div_sub_r_to_facc
    case .f64_div_mul: .f64_div_mul_to_facc
    case .f64_div_mul_r: .f64_div_mul_r_to_facc
    case .f64_sqrt: .f64_sqrt_to_facc
    case .f64_add_mem: .f64_add_mem_to_facc
    case .f64_add_mem_facc: .f64_add_mem_facc_to_facc
    case .f64_sub_mem: .f64_sub_mem_to_facc
    case .f64_sub_mem_facc: .f64_sub_mem_facc_to_facc
    case .f64_sub_mem_r: .f64_sub_mem_r_to_facc
    case .f64_mul_mem: .f64_mul_mem_to_facc
    case .f64_mul_mem_facc: .f64_mul_mem_facc_to_facc
    case .f64_div_mem: .f64_div_mem_to_facc
    case .f64_div_mem_facc: .f64_div_mem_facc_to_facc
    case .f64_div_mem_r: .f64_div_mem_r_to_facc
    case .f64_add_memadd: .f64_add_memadd_to_facc
    case .f64_add_memadd_facc: .f64_add_memadd_facc_to_facc
    case .f64_sub_memadd: .f64_sub_memadd_to_facc
    case .f64_sub_memadd_facc: .f64_sub_memadd_facc_to_facc
    case .f64_sub_memadd_r: .f64_sub_memadd_r_to_facc
    case .f64_mul_memadd: .f64_mul_memadd_to_facc
    case .f64_mul_memadd_facc: .f64_mul_memadd_facc_to_facc
    case .f64_div_memadd: .f64_div_memadd_to_facc
    case .f64_div_memadd_facc: .f64_div_memadd_facc_to_facc
    case .f64_div_memadd_r: .f64_div_memadd_r_to_facc
    default: nil
    }
}

/// For f64 binary operation `opcode` (0xA0-0xA3): its forms taking the left and the right
/// operand from the accumulator. Addition and multiplication take either side with their left
/// form: the compiler treats `facc + b` and `b + facc` as one function anyway (it merged the two
/// handlers into one that jumps to the other), and Wasm leaves the payload of a NaN result open
/// when both operands are NaNs.
func accumulatorConsumerForms(_ opcode: UInt16) -> (left: Opcode, right: Opcode)? {
    switch opcode {
    case 0xA0: (.f64_add_facc_l, .f64_add_facc_l)
    case 0xA1: (.f64_sub_facc_l, .f64_sub_facc_r)
    case 0xA2: (.f64_mul_facc_l, .f64_mul_facc_l)
    case 0xA3: (.f64_div_facc_l, .f64_div_facc_r)
    default: nil
    }
}

/// [x, y, z]: facc = g(f(x, y), z), or g(z, f(x, y)) for the reversed forms (a fused pair of
/// binary operations, FusedBinaryHandlers.swift, whose result goes on in the accumulator).
@inline(__always) func fusedF64ToFacc(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ f: FusedFloatOp, _ g: FusedFloatOp, reversed: Bool
) -> NextInstruction {
    let t = applyFused(f, operand(fp, pc, 1), operand(fp, pc, 2))
    let z = operand(fp, pc, 3)
    facc = reversed ? applyFused(g, z, t) : applyFused(g, t, z)
    return (pc + 4, fp, st)
}

/// [a]: facc = sqrt(a).
@inline(__always) func opF64SqrtToFacc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double) -> NextInstruction {
    facc = operand(fp, pc, 1).squareRoot()
    return (pc + 2, fp, st)
}

/// [b, offset]: a fused f64 compare-and-branch (FusedBranchHandlers.swift) whose left operand
/// is the accumulator; the translator swaps the compare when the accumulator is its right one.
@inline(__always) func fusedF64BranchFacc(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ facc: inout Double, _ c: FloatComparison, when: Bool, back: Bool
) -> NextInstruction {
    guard holds(c, facc, operand(fp, pc, 1)) == when else { return (pc + 3, fp, st) }
    return (back ? backEdge(st, pc, pc + op(pc, 2)) : pc + op(pc, 2), fp, st)
}

/// f64 compare `compare` with its operands swapped (`a < b` is `b > a`, NaNs included).
func swappedComparison(_ compare: Opcode) -> Opcode? {
    switch compare {
    case .f64_eq: .f64_eq
    case .f64_ne: .f64_ne
    case .f64_lt: .f64_gt
    case .f64_gt: .f64_lt
    case .f64_le: .f64_ge
    case .f64_ge: .f64_le
    default: nil
    }
}
