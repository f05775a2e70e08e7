import CStrata

// i32 operations whose right operand is a constant, held in the code instead of the frame's
// constant pool (docs/ARCHITECTURE.md, "Constants in the code"): `i32_and_imm`, the shifts,
// `i32_mul_imm`, and the ten compares producing a value (`i32_gt_u_imm`). Operands:
// [dst, x, value], the value's low 32 bits in the code word. Each has a form taking x from the
// integer accumulator (`_imm_iacc`); all of them produce it (the tables in
// IntegerAccumulator.swift). `i32_add_imm` (`i32.sub` as the negated add) is older and lives
// with the plain handlers.
//
// What a pooled constant costs: a slot in the frame image, copied into every frame at the call,
// and a load of that slot after the load of its index. Code compiled from C masks, shifts,
// scales and compares against constants far more often than against variables (SQLite, LZ4,
// Brotli and Zstandard: 55-62% of their integer binary operations have a constant right operand).

/// [dst, x, value]: dst = x op value.
@inline(__always) func binImm32(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ o: FusedIntOp, _ x: UInt32
) -> NextInstruction {
    wr32(fp, pc, 1, applyFused(o, x, UInt32(truncatingIfNeeded: pc[3]), signed: Int32.self))
    return (pc + 4, fp, st)
}

/// [dst, x, value]: dst = 1 if x compares to value by `c`, else 0.
@inline(__always) func compareImm32(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ c: IntComparison, _ x: UInt32
) -> NextInstruction {
    wr32(fp, pc, 1, holds(c, x, UInt32(truncatingIfNeeded: pc[3]), signed: Int32.self) ? 1 : 0)
    return (pc + 4, fp, st)
}

/// The form with its constant in the code of the i32 binary operation or compare with Wasm
/// opcode `opcode` (`i32.add` and `i32.sub` excepted: `i32_add_imm`).
func constantOperandForm(_ opcode: UInt16) -> Opcode? {
    switch opcode {
    case 0x46: .i32_eq_imm
    case 0x47: .i32_ne_imm
    case 0x48: .i32_lt_s_imm
    case 0x49: .i32_lt_u_imm
    case 0x4A: .i32_gt_s_imm
    case 0x4B: .i32_gt_u_imm
    case 0x4C: .i32_le_s_imm
    case 0x4D: .i32_le_u_imm
    case 0x4E: .i32_ge_s_imm
    case 0x4F: .i32_ge_u_imm
    case 0x6C: .i32_mul_imm
    case 0x71: .i32_and_imm
    case 0x72: .i32_or_imm
    case 0x73: .i32_xor_imm
    case 0x74: .i32_shl_imm
    case 0x75: .i32_shr_s_imm
    case 0x76: .i32_shr_u_imm
    default: nil
    }
}
