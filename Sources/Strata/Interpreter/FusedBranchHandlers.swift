import CStrata

// Superinstructions: an integer compare fused with the branch that consumes it.
// Operands: [a, b, offset]; offsets are relative to the instruction, as for plain branches.
// The `_back` forms jump to a loop header and count and poll like `br_back`.

/// The integer comparisons fused branches test.
enum IntComparison { case eq, ne, ltS, ltU, gtS, gtU, leS, leU, geS, geU }

/// `c` on integers of type `U`, with `S` its signed counterpart.
@inline(__always) func holds<U: FixedWidthInteger & UnsignedInteger, S: FixedWidthInteger & SignedInteger>(
    _ c: IntComparison, _ a: U, _ b: U, signed: S.Type
) -> Bool {
    switch c {
    case .eq: a == b
    case .ne: a != b
    case .ltS: S(truncatingIfNeeded: a) < S(truncatingIfNeeded: b)
    case .ltU: a < b
    case .gtS: S(truncatingIfNeeded: a) > S(truncatingIfNeeded: b)
    case .gtU: a > b
    case .leS: S(truncatingIfNeeded: a) <= S(truncatingIfNeeded: b)
    case .leU: a <= b
    case .geS: S(truncatingIfNeeded: a) >= S(truncatingIfNeeded: b)
    case .geU: a >= b
    }
}

/// [a, b, offset]
@inline(__always) func fusedBranch<U: FixedWidthInteger & UnsignedInteger & SlotScalar, S: FixedWidthInteger & SignedInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ c: IntComparison, _ u: U.Type, _ s: S.Type, back: Bool
) -> CodePointer? {
    guard holds(c, read(fp, pc, 1, as: U.self), read(fp, pc, 2, as: U.self), signed: S.self) else { return pc + 4 }
    return back ? backEdge(st, pc, pc + op(pc, 3)) : pc + op(pc, 3)
}

/// [a, value, offset]: `fusedBranch` against an i32 constant held in the code (no frame slot).
@inline(__always) func fusedBranchImm(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ c: IntComparison, back: Bool
) -> CodePointer? {
    guard holds(c, rd32(fp, pc, 1), UInt32(truncatingIfNeeded: pc[2]), signed: Int32.self) else { return pc + 4 }
    return back ? backEdge(st, pc, pc + op(pc, 3)) : pc + op(pc, 3)
}

/// The form of an i32 fused branch whose right operand is a constant in the code.
func immediateBranchHandler(_ h: Handler) -> Handler? {
    switch h {
    case .br_if_i32_eq: .br_if_i32_eq_imm
    case .br_if_i32_eq_back: .br_if_i32_eq_imm_back
    case .br_if_i32_ne: .br_if_i32_ne_imm
    case .br_if_i32_ne_back: .br_if_i32_ne_imm_back
    case .br_if_i32_lt_s: .br_if_i32_lt_s_imm
    case .br_if_i32_lt_s_back: .br_if_i32_lt_s_imm_back
    case .br_if_i32_lt_u: .br_if_i32_lt_u_imm
    case .br_if_i32_lt_u_back: .br_if_i32_lt_u_imm_back
    case .br_if_i32_gt_s: .br_if_i32_gt_s_imm
    case .br_if_i32_gt_s_back: .br_if_i32_gt_s_imm_back
    case .br_if_i32_gt_u: .br_if_i32_gt_u_imm
    case .br_if_i32_gt_u_back: .br_if_i32_gt_u_imm_back
    case .br_if_i32_le_s: .br_if_i32_le_s_imm
    case .br_if_i32_le_s_back: .br_if_i32_le_s_imm_back
    case .br_if_i32_le_u: .br_if_i32_le_u_imm
    case .br_if_i32_le_u_back: .br_if_i32_le_u_imm_back
    case .br_if_i32_ge_s: .br_if_i32_ge_s_imm
    case .br_if_i32_ge_s_back: .br_if_i32_ge_s_imm_back
    case .br_if_i32_ge_u: .br_if_i32_ge_u_imm
    case .br_if_i32_ge_u_back: .br_if_i32_ge_u_imm_back
    default: nil
    }
}

/// [cond, offset]: backward branch taken when cond is zero.
@inline(__always) func opBrIfNotBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (rd32(fp, pc, 1) == 0 ? backEdge(st, pc, pc + op(pc, 2)) : pc + 3, fp, st)
}

/// The fused handler for an integer compare opcode, and the opcode of its negation.
func fusedBranchHandler(_ opcode: UInt16, back: Bool) -> Handler? {
    switch (opcode, back) {
    case (0x46, false): Opcode.br_if_i32_eq
    case (0x46, true): Opcode.br_if_i32_eq_back
    case (0x47, false): Opcode.br_if_i32_ne
    case (0x47, true): Opcode.br_if_i32_ne_back
    case (0x48, false): Opcode.br_if_i32_lt_s
    case (0x48, true): Opcode.br_if_i32_lt_s_back
    case (0x49, false): Opcode.br_if_i32_lt_u
    case (0x49, true): Opcode.br_if_i32_lt_u_back
    case (0x4A, false): Opcode.br_if_i32_gt_s
    case (0x4A, true): Opcode.br_if_i32_gt_s_back
    case (0x4B, false): Opcode.br_if_i32_gt_u
    case (0x4B, true): Opcode.br_if_i32_gt_u_back
    case (0x4C, false): Opcode.br_if_i32_le_s
    case (0x4C, true): Opcode.br_if_i32_le_s_back
    case (0x4D, false): Opcode.br_if_i32_le_u
    case (0x4D, true): Opcode.br_if_i32_le_u_back
    case (0x4E, false): Opcode.br_if_i32_ge_s
    case (0x4E, true): Opcode.br_if_i32_ge_s_back
    case (0x4F, false): Opcode.br_if_i32_ge_u
    case (0x4F, true): Opcode.br_if_i32_ge_u_back
    case (0x51, false): Opcode.br_if_i64_eq
    case (0x51, true): Opcode.br_if_i64_eq_back
    case (0x52, false): Opcode.br_if_i64_ne
    case (0x52, true): Opcode.br_if_i64_ne_back
    case (0x53, false): Opcode.br_if_i64_lt_s
    case (0x53, true): Opcode.br_if_i64_lt_s_back
    case (0x54, false): Opcode.br_if_i64_lt_u
    case (0x54, true): Opcode.br_if_i64_lt_u_back
    case (0x55, false): Opcode.br_if_i64_gt_s
    case (0x55, true): Opcode.br_if_i64_gt_s_back
    case (0x56, false): Opcode.br_if_i64_gt_u
    case (0x56, true): Opcode.br_if_i64_gt_u_back
    case (0x57, false): Opcode.br_if_i64_le_s
    case (0x57, true): Opcode.br_if_i64_le_s_back
    case (0x58, false): Opcode.br_if_i64_le_u
    case (0x58, true): Opcode.br_if_i64_le_u_back
    case (0x59, false): Opcode.br_if_i64_ge_s
    case (0x59, true): Opcode.br_if_i64_ge_s_back
    case (0x5A, false): Opcode.br_if_i64_ge_u
    case (0x5A, true): Opcode.br_if_i64_ge_u_back
    default: nil
    }
}

/// The opcode of the negated integer comparison (for `if`, which branches when false).
func negatedComparison(_ opcode: UInt16) -> UInt16? {
    switch opcode {
    case 0x46: 0x47
    case 0x47: 0x46
    case 0x48: 0x4E
    case 0x49: 0x4F
    case 0x4A: 0x4C
    case 0x4B: 0x4D
    case 0x4C: 0x4A
    case 0x4D: 0x4B
    case 0x4E: 0x48
    case 0x4F: 0x49
    case 0x51: 0x52
    case 0x52: 0x51
    case 0x53: 0x59
    case 0x54: 0x5A
    case 0x55: 0x57
    case 0x56: 0x58
    case 0x57: 0x55
    case 0x58: 0x56
    case 0x59: 0x53
    case 0x5A: 0x54
    default: nil
    }
}

// An add followed by the compare-and-branch that closes a loop (`i += step; if i < n
// continue`), as one instruction: [dst, x, y, a, b, offset]: dst = x + y, then the back
// edge is taken when compare(a, b) holds (a and b are read after dst is written).

/// [dst, x, y, a, b, offset]
@inline(__always) func addThenBranch<U: FixedWidthInteger & UnsignedInteger & SlotScalar, S: FixedWidthInteger & SignedInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ c: IntComparison, _ u: U.Type, _ s: S.Type
) -> CodePointer? {
    fp[op(pc, 1)] = (read(fp, pc, 2, as: U.self) &+ read(fp, pc, 3, as: U.self)).slot
    guard holds(c, read(fp, pc, 4, as: U.self), read(fp, pc, 5, as: U.self), signed: S.self) else { return pc + 7 }
    return backEdge(st, pc, pc + op(pc, 6))
}

/// The add-and-branch instruction for an `i32_add`/`i64_add` followed by a backward branch on
/// integer comparison `compare` (a Wasm opcode), if there is one.
func addBranchOpcode(_ add: Opcode, _ compare: UInt16) -> Opcode? {
    switch (add, compare) {
    case (.i32_add, 0x46): .i32_add_br_if_eq_back
    case (.i32_add, 0x47): .i32_add_br_if_ne_back
    case (.i32_add, 0x48): .i32_add_br_if_lt_s_back
    case (.i32_add, 0x49): .i32_add_br_if_lt_u_back
    case (.i32_add, 0x4A): .i32_add_br_if_gt_s_back
    case (.i32_add, 0x4B): .i32_add_br_if_gt_u_back
    case (.i32_add, 0x4C): .i32_add_br_if_le_s_back
    case (.i32_add, 0x4D): .i32_add_br_if_le_u_back
    case (.i32_add, 0x4E): .i32_add_br_if_ge_s_back
    case (.i32_add, 0x4F): .i32_add_br_if_ge_u_back
    case (.i64_add, 0x51): .i64_add_br_if_eq_back
    case (.i64_add, 0x52): .i64_add_br_if_ne_back
    case (.i64_add, 0x53): .i64_add_br_if_lt_s_back
    case (.i64_add, 0x54): .i64_add_br_if_lt_u_back
    case (.i64_add, 0x55): .i64_add_br_if_gt_s_back
    case (.i64_add, 0x56): .i64_add_br_if_gt_u_back
    case (.i64_add, 0x57): .i64_add_br_if_le_s_back
    case (.i64_add, 0x58): .i64_add_br_if_le_u_back
    case (.i64_add, 0x59): .i64_add_br_if_ge_s_back
    case (.i64_add, 0x5A): .i64_add_br_if_ge_u_back
    default: nil
    }
}

// Named forms of the fused operations that sequences (Superinstructions.swift) and the SIMD
// loop run too, so each opcode's operands and types are written once for every switch.
@inline(__always) func opI32AddBrIfNeBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (addThenBranch(pc, fp, st, .ne, UInt32.self, Int32.self), fp, st)
}
@inline(__always) func opI64AddBrIfNeBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (addThenBranch(pc, fp, st, .ne, UInt64.self, Int64.self), fp, st)
}
@inline(__always) func opI64AddBrIfLtUBack(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (addThenBranch(pc, fp, st, .ltU, UInt64.self, Int64.self), fp, st)
}

// A float compare fused with the branch that consumes it: [a, b, offset]. The `br_if_not_`
// forms branch when the compare is false, for `br_if (i32.eqz (f64.lt a b))` (what compilers
// emit for a float loop's exit, since a float compare has no exact negation: both `a < b` and
// `a >= b` are false when an operand is a NaN) and for `if`, which branches to its else arm.

/// The float comparisons fused branches test; each is false when an operand is a NaN, except
/// `ne`, which is true (as Wasm's).
enum FloatComparison { case eq, ne, lt, gt, le, ge }

@inline(__always) func holds<F: BinaryFloatingPoint>(_ c: FloatComparison, _ a: F, _ b: F) -> Bool {
    switch c {
    case .eq: a == b
    case .ne: a != b
    case .lt: a < b
    case .gt: a > b
    case .le: a <= b
    case .ge: a >= b
    }
}

/// [a, b, offset]: branches when compare(a, b), on floats of type `F`, is `when`.
@inline(__always) func fusedFloatBranch<F: BinaryFloatingPoint & SlotScalar>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ c: FloatComparison, _ type: F.Type, when: Bool, back: Bool
) -> CodePointer? {
    guard holds(c, read(fp, pc, 1, as: F.self), read(fp, pc, 2, as: F.self)) == when else { return pc + 4 }
    return back ? backEdge(st, pc, pc + op(pc, 3)) : pc + op(pc, 3)
}

/// The fused branch for float compare `compare` (the interpreter's compare instruction),
/// branching when it is `when`, forward or back to a loop header; with `accumulator`, the f64
/// form whose left operand is the float accumulator (AccumulatorHandlers.swift; nil for f32).
func floatBranchHandler(_ compare: Opcode, when: Bool, back: Bool, accumulator: Bool = false) -> Opcode? {
    // br_if, br_if_back, br_if_not, br_if_not_back; for f64 then the same four on the accumulator.
    let forms: [Opcode]
    switch compare {
    case .f32_eq: forms = [.br_if_f32_eq, .br_if_f32_eq_back, .br_if_not_f32_eq, .br_if_not_f32_eq_back]
    case .f32_ne: forms = [.br_if_f32_ne, .br_if_f32_ne_back, .br_if_not_f32_ne, .br_if_not_f32_ne_back]
    case .f32_lt: forms = [.br_if_f32_lt, .br_if_f32_lt_back, .br_if_not_f32_lt, .br_if_not_f32_lt_back]
    case .f32_gt: forms = [.br_if_f32_gt, .br_if_f32_gt_back, .br_if_not_f32_gt, .br_if_not_f32_gt_back]
    case .f32_le: forms = [.br_if_f32_le, .br_if_f32_le_back, .br_if_not_f32_le, .br_if_not_f32_le_back]
    case .f32_ge: forms = [.br_if_f32_ge, .br_if_f32_ge_back, .br_if_not_f32_ge, .br_if_not_f32_ge_back]
    case .f64_eq: forms = [.br_if_f64_eq, .br_if_f64_eq_back, .br_if_not_f64_eq, .br_if_not_f64_eq_back,
                    .br_if_f64_eq_facc, .br_if_f64_eq_facc_back, .br_if_not_f64_eq_facc, .br_if_not_f64_eq_facc_back]
    case .f64_ne: forms = [.br_if_f64_ne, .br_if_f64_ne_back, .br_if_not_f64_ne, .br_if_not_f64_ne_back,
                    .br_if_f64_ne_facc, .br_if_f64_ne_facc_back, .br_if_not_f64_ne_facc, .br_if_not_f64_ne_facc_back]
    case .f64_lt: forms = [.br_if_f64_lt, .br_if_f64_lt_back, .br_if_not_f64_lt, .br_if_not_f64_lt_back,
                    .br_if_f64_lt_facc, .br_if_f64_lt_facc_back, .br_if_not_f64_lt_facc, .br_if_not_f64_lt_facc_back]
    case .f64_gt: forms = [.br_if_f64_gt, .br_if_f64_gt_back, .br_if_not_f64_gt, .br_if_not_f64_gt_back,
                    .br_if_f64_gt_facc, .br_if_f64_gt_facc_back, .br_if_not_f64_gt_facc, .br_if_not_f64_gt_facc_back]
    case .f64_le: forms = [.br_if_f64_le, .br_if_f64_le_back, .br_if_not_f64_le, .br_if_not_f64_le_back,
                    .br_if_f64_le_facc, .br_if_f64_le_facc_back, .br_if_not_f64_le_facc, .br_if_not_f64_le_facc_back]
    case .f64_ge: forms = [.br_if_f64_ge, .br_if_f64_ge_back, .br_if_not_f64_ge, .br_if_not_f64_ge_back,
                    .br_if_f64_ge_facc, .br_if_f64_ge_facc_back, .br_if_not_f64_ge_facc, .br_if_not_f64_ge_facc_back]
    default: return nil
    }
    let index = (accumulator ? 4 : 0) + (when ? 0 : 2) + (back ? 1 : 0)
    return index < forms.count ? forms[index] : nil
}
