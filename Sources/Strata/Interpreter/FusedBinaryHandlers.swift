import CStrata

// Superinstructions: two binary operations where the second consumes the first's result
// straight away, as one instruction that keeps the intermediate value in a register instead
// of a frame slot (one dispatch, one store and one dependent load fewer).
// Operands: [dst, x, y, z]: dst = g(f(x, y), z), or dst = g(z, f(x, y)) for the reversed
// (`_r`) forms. Integers fuse any of add, sub, mul, and, or, xor, shl, shr_s, shr_u as `f`
// with add, sub, mul, and, or, xor, shl, shr_u as `g` (a commutative `g` needs no reversed
// form; `sub` has one); floats fuse add, sub, mul, div with add, sub, mul, both orders kept
// (operand order decides which NaN comes out).

enum FusedIntOp { case add, sub, mul, and, or, xor, shl, shrS, shrU }
enum FusedFloatOp { case add, sub, mul, div }

/// A scalar as it sits in the low word of a frame slot (i32 and f32 zero-extended).
protocol SlotScalar {
    init(slot: UInt64)
    var slot: UInt64 { get }
}
extension UInt32: SlotScalar {
    @inline(__always) init(slot: UInt64) { self.init(truncatingIfNeeded: slot) }
    @inline(__always) var slot: UInt64 { UInt64(self) }
}
extension UInt64: SlotScalar {
    @inline(__always) init(slot: UInt64) { self = slot }
    @inline(__always) var slot: UInt64 { self }
}
extension Float: SlotScalar {
    @inline(__always) init(slot: UInt64) { self.init(bitPattern: UInt32(truncatingIfNeeded: slot)) }
    @inline(__always) var slot: UInt64 { UInt64(bitPattern) }
}
extension Double: SlotScalar {
    @inline(__always) init(slot: UInt64) { self.init(bitPattern: slot) }
    @inline(__always) var slot: UInt64 { bitPattern }
}
/// Operand `i` of the instruction at `pc` as a `T`.
@inline(__always) func read<T: SlotScalar>(_ fp: FramePointer, _ pc: CodePointer, _ i: Int, as: T.Type) -> T {
    T(slot: fp[op(pc, i)])
}

/// `o` on integers of type `U`, with `S` its signed counterpart (for `shr_s`).
@inline(__always) func applyFused<U: FixedWidthInteger & UnsignedInteger, S: FixedWidthInteger & SignedInteger>(
    _ o: FusedIntOp, _ a: U, _ b: U, signed: S.Type
) -> U {
    switch o {
    case .add: a &+ b
    case .sub: a &- b
    case .mul: a &* b
    case .and: a & b
    case .or: a | b
    case .xor: a ^ b
    case .shl: a &<< b
    case .shrS: U(truncatingIfNeeded: S(truncatingIfNeeded: a) &>> S(truncatingIfNeeded: b))
    case .shrU: a &>> b
    }
}
@inline(__always) func applyFused<F: BinaryFloatingPoint>(_ o: FusedFloatOp, _ a: F, _ b: F) -> F {
    switch o {
    case .add: a + b
    case .sub: a - b
    case .mul: a * b
    case .div: a / b
    }
}

@inline(__always) func fusedInt<U: FixedWidthInteger & UnsignedInteger & SlotScalar, S: FixedWidthInteger & SignedInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ f: FusedIntOp, _ g: FusedIntOp, _ u: U.Type, _ s: S.Type, reversed: Bool
) -> CodePointer? {
    let t = applyFused(f, read(fp, pc, 2, as: U.self), read(fp, pc, 3, as: U.self), signed: S.self)
    let z = read(fp, pc, 4, as: U.self)
    fp[op(pc, 1)] = (reversed ? applyFused(g, z, t, signed: S.self) : applyFused(g, t, z, signed: S.self)).slot
    return pc + 5
}
@inline(__always) func fusedFloat<F: BinaryFloatingPoint & SlotScalar>(
    _ pc: CodePointer, _ fp: FramePointer, _ f: FusedFloatOp, _ g: FusedFloatOp, _ type: F.Type, reversed: Bool
) -> CodePointer? {
    let t = applyFused(f, read(fp, pc, 2, as: F.self), read(fp, pc, 3, as: F.self))
    let z = read(fp, pc, 4, as: F.self)
    fp[op(pc, 1)] = (reversed ? applyFused(g, z, t) : applyFused(g, t, z)).slot
    return pc + 5
}

/// The fused instruction for Wasm binary operation `second` consuming the result of `first`
/// as its left operand, or as its right one (`reversed`), if there is one.
func fusedBinaryOpcode(_ first: UInt16, _ second: UInt16, reversed: Bool) -> Opcode? {
    switch (first, second, reversed) {
    case (0x6A, 0x6A, false): .i32_add_add
    case (0x6A, 0x6A, true): .i32_add_add
    case (0x6A, 0x6B, false): .i32_add_sub
    case (0x6A, 0x6B, true): .i32_add_sub_r
    case (0x6A, 0x6C, false): .i32_add_mul
    case (0x6A, 0x6C, true): .i32_add_mul
    case (0x6A, 0x71, false): .i32_add_and
    case (0x6A, 0x71, true): .i32_add_and
    case (0x6A, 0x72, false): .i32_add_or
    case (0x6A, 0x72, true): .i32_add_or
    case (0x6A, 0x73, false): .i32_add_xor
    case (0x6A, 0x73, true): .i32_add_xor
    case (0x6A, 0x74, false): .i32_add_shl
    case (0x6A, 0x76, false): .i32_add_shr_u
    case (0x6B, 0x6A, false): .i32_sub_add
    case (0x6B, 0x6A, true): .i32_sub_add
    case (0x6B, 0x6B, false): .i32_sub_sub
    case (0x6B, 0x6B, true): .i32_sub_sub_r
    case (0x6B, 0x6C, false): .i32_sub_mul
    case (0x6B, 0x6C, true): .i32_sub_mul
    case (0x6B, 0x71, false): .i32_sub_and
    case (0x6B, 0x71, true): .i32_sub_and
    case (0x6B, 0x72, false): .i32_sub_or
    case (0x6B, 0x72, true): .i32_sub_or
    case (0x6B, 0x73, false): .i32_sub_xor
    case (0x6B, 0x73, true): .i32_sub_xor
    case (0x6B, 0x74, false): .i32_sub_shl
    case (0x6B, 0x76, false): .i32_sub_shr_u
    case (0x6C, 0x6A, false): .i32_mul_add
    case (0x6C, 0x6A, true): .i32_mul_add
    case (0x6C, 0x6B, false): .i32_mul_sub
    case (0x6C, 0x6B, true): .i32_mul_sub_r
    case (0x6C, 0x6C, false): .i32_mul_mul
    case (0x6C, 0x6C, true): .i32_mul_mul
    case (0x6C, 0x71, false): .i32_mul_and
    case (0x6C, 0x71, true): .i32_mul_and
    case (0x6C, 0x72, false): .i32_mul_or
    case (0x6C, 0x72, true): .i32_mul_or
    case (0x6C, 0x73, false): .i32_mul_xor
    case (0x6C, 0x73, true): .i32_mul_xor
    case (0x6C, 0x74, false): .i32_mul_shl
    case (0x6C, 0x76, false): .i32_mul_shr_u
    case (0x71, 0x6A, false): .i32_and_add
    case (0x71, 0x6A, true): .i32_and_add
    case (0x71, 0x6B, false): .i32_and_sub
    case (0x71, 0x6B, true): .i32_and_sub_r
    case (0x71, 0x6C, false): .i32_and_mul
    case (0x71, 0x6C, true): .i32_and_mul
    case (0x71, 0x71, false): .i32_and_and
    case (0x71, 0x71, true): .i32_and_and
    case (0x71, 0x72, false): .i32_and_or
    case (0x71, 0x72, true): .i32_and_or
    case (0x71, 0x73, false): .i32_and_xor
    case (0x71, 0x73, true): .i32_and_xor
    case (0x71, 0x74, false): .i32_and_shl
    case (0x71, 0x76, false): .i32_and_shr_u
    case (0x72, 0x6A, false): .i32_or_add
    case (0x72, 0x6A, true): .i32_or_add
    case (0x72, 0x6B, false): .i32_or_sub
    case (0x72, 0x6B, true): .i32_or_sub_r
    case (0x72, 0x6C, false): .i32_or_mul
    case (0x72, 0x6C, true): .i32_or_mul
    case (0x72, 0x71, false): .i32_or_and
    case (0x72, 0x71, true): .i32_or_and
    case (0x72, 0x72, false): .i32_or_or
    case (0x72, 0x72, true): .i32_or_or
    case (0x72, 0x73, false): .i32_or_xor
    case (0x72, 0x73, true): .i32_or_xor
    case (0x72, 0x74, false): .i32_or_shl
    case (0x72, 0x76, false): .i32_or_shr_u
    case (0x73, 0x6A, false): .i32_xor_add
    case (0x73, 0x6A, true): .i32_xor_add
    case (0x73, 0x6B, false): .i32_xor_sub
    case (0x73, 0x6B, true): .i32_xor_sub_r
    case (0x73, 0x6C, false): .i32_xor_mul
    case (0x73, 0x6C, true): .i32_xor_mul
    case (0x73, 0x71, false): .i32_xor_and
    case (0x73, 0x71, true): .i32_xor_and
    case (0x73, 0x72, false): .i32_xor_or
    case (0x73, 0x72, true): .i32_xor_or
    case (0x73, 0x73, false): .i32_xor_xor
    case (0x73, 0x73, true): .i32_xor_xor
    case (0x73, 0x74, false): .i32_xor_shl
    case (0x73, 0x76, false): .i32_xor_shr_u
    case (0x74, 0x6A, false): .i32_shl_add
    case (0x74, 0x6A, true): .i32_shl_add
    case (0x74, 0x6B, false): .i32_shl_sub
    case (0x74, 0x6B, true): .i32_shl_sub_r
    case (0x74, 0x6C, false): .i32_shl_mul
    case (0x74, 0x6C, true): .i32_shl_mul
    case (0x74, 0x71, false): .i32_shl_and
    case (0x74, 0x71, true): .i32_shl_and
    case (0x74, 0x72, false): .i32_shl_or
    case (0x74, 0x72, true): .i32_shl_or
    case (0x74, 0x73, false): .i32_shl_xor
    case (0x74, 0x73, true): .i32_shl_xor
    case (0x74, 0x74, false): .i32_shl_shl
    case (0x74, 0x76, false): .i32_shl_shr_u
    case (0x75, 0x6A, false): .i32_shr_s_add
    case (0x75, 0x6A, true): .i32_shr_s_add
    case (0x75, 0x6B, false): .i32_shr_s_sub
    case (0x75, 0x6B, true): .i32_shr_s_sub_r
    case (0x75, 0x6C, false): .i32_shr_s_mul
    case (0x75, 0x6C, true): .i32_shr_s_mul
    case (0x75, 0x71, false): .i32_shr_s_and
    case (0x75, 0x71, true): .i32_shr_s_and
    case (0x75, 0x72, false): .i32_shr_s_or
    case (0x75, 0x72, true): .i32_shr_s_or
    case (0x75, 0x73, false): .i32_shr_s_xor
    case (0x75, 0x73, true): .i32_shr_s_xor
    case (0x75, 0x74, false): .i32_shr_s_shl
    case (0x75, 0x76, false): .i32_shr_s_shr_u
    case (0x76, 0x6A, false): .i32_shr_u_add
    case (0x76, 0x6A, true): .i32_shr_u_add
    case (0x76, 0x6B, false): .i32_shr_u_sub
    case (0x76, 0x6B, true): .i32_shr_u_sub_r
    case (0x76, 0x6C, false): .i32_shr_u_mul
    case (0x76, 0x6C, true): .i32_shr_u_mul
    case (0x76, 0x71, false): .i32_shr_u_and
    case (0x76, 0x71, true): .i32_shr_u_and
    case (0x76, 0x72, false): .i32_shr_u_or
    case (0x76, 0x72, true): .i32_shr_u_or
    case (0x76, 0x73, false): .i32_shr_u_xor
    case (0x76, 0x73, true): .i32_shr_u_xor
    case (0x76, 0x74, false): .i32_shr_u_shl
    case (0x76, 0x76, false): .i32_shr_u_shr_u
    case (0x7C, 0x7C, false): .i64_add_add
    case (0x7C, 0x7C, true): .i64_add_add
    case (0x7C, 0x7D, false): .i64_add_sub
    case (0x7C, 0x7D, true): .i64_add_sub_r
    case (0x7C, 0x7E, false): .i64_add_mul
    case (0x7C, 0x7E, true): .i64_add_mul
    case (0x7C, 0x83, false): .i64_add_and
    case (0x7C, 0x83, true): .i64_add_and
    case (0x7C, 0x84, false): .i64_add_or
    case (0x7C, 0x84, true): .i64_add_or
    case (0x7C, 0x85, false): .i64_add_xor
    case (0x7C, 0x85, true): .i64_add_xor
    case (0x7C, 0x86, false): .i64_add_shl
    case (0x7C, 0x88, false): .i64_add_shr_u
    case (0x7D, 0x7C, false): .i64_sub_add
    case (0x7D, 0x7C, true): .i64_sub_add
    case (0x7D, 0x7D, false): .i64_sub_sub
    case (0x7D, 0x7D, true): .i64_sub_sub_r
    case (0x7D, 0x7E, false): .i64_sub_mul
    case (0x7D, 0x7E, true): .i64_sub_mul
    case (0x7D, 0x83, false): .i64_sub_and
    case (0x7D, 0x83, true): .i64_sub_and
    case (0x7D, 0x84, false): .i64_sub_or
    case (0x7D, 0x84, true): .i64_sub_or
    case (0x7D, 0x85, false): .i64_sub_xor
    case (0x7D, 0x85, true): .i64_sub_xor
    case (0x7D, 0x86, false): .i64_sub_shl
    case (0x7D, 0x88, false): .i64_sub_shr_u
    case (0x7E, 0x7C, false): .i64_mul_add
    case (0x7E, 0x7C, true): .i64_mul_add
    case (0x7E, 0x7D, false): .i64_mul_sub
    case (0x7E, 0x7D, true): .i64_mul_sub_r
    case (0x7E, 0x7E, false): .i64_mul_mul
    case (0x7E, 0x7E, true): .i64_mul_mul
    case (0x7E, 0x83, false): .i64_mul_and
    case (0x7E, 0x83, true): .i64_mul_and
    case (0x7E, 0x84, false): .i64_mul_or
    case (0x7E, 0x84, true): .i64_mul_or
    case (0x7E, 0x85, false): .i64_mul_xor
    case (0x7E, 0x85, true): .i64_mul_xor
    case (0x7E, 0x86, false): .i64_mul_shl
    case (0x7E, 0x88, false): .i64_mul_shr_u
    case (0x83, 0x7C, false): .i64_and_add
    case (0x83, 0x7C, true): .i64_and_add
    case (0x83, 0x7D, false): .i64_and_sub
    case (0x83, 0x7D, true): .i64_and_sub_r
    case (0x83, 0x7E, false): .i64_and_mul
    case (0x83, 0x7E, true): .i64_and_mul
    case (0x83, 0x83, false): .i64_and_and
    case (0x83, 0x83, true): .i64_and_and
    case (0x83, 0x84, false): .i64_and_or
    case (0x83, 0x84, true): .i64_and_or
    case (0x83, 0x85, false): .i64_and_xor
    case (0x83, 0x85, true): .i64_and_xor
    case (0x83, 0x86, false): .i64_and_shl
    case (0x83, 0x88, false): .i64_and_shr_u
    case (0x84, 0x7C, false): .i64_or_add
    case (0x84, 0x7C, true): .i64_or_add
    case (0x84, 0x7D, false): .i64_or_sub
    case (0x84, 0x7D, true): .i64_or_sub_r
    case (0x84, 0x7E, false): .i64_or_mul
    case (0x84, 0x7E, true): .i64_or_mul
    case (0x84, 0x83, false): .i64_or_and
    case (0x84, 0x83, true): .i64_or_and
    case (0x84, 0x84, false): .i64_or_or
    case (0x84, 0x84, true): .i64_or_or
    case (0x84, 0x85, false): .i64_or_xor
    case (0x84, 0x85, true): .i64_or_xor
    case (0x84, 0x86, false): .i64_or_shl
    case (0x84, 0x88, false): .i64_or_shr_u
    case (0x85, 0x7C, false): .i64_xor_add
    case (0x85, 0x7C, true): .i64_xor_add
    case (0x85, 0x7D, false): .i64_xor_sub
    case (0x85, 0x7D, true): .i64_xor_sub_r
    case (0x85, 0x7E, false): .i64_xor_mul
    case (0x85, 0x7E, true): .i64_xor_mul
    case (0x85, 0x83, false): .i64_xor_and
    case (0x85, 0x83, true): .i64_xor_and
    case (0x85, 0x84, false): .i64_xor_or
    case (0x85, 0x84, true): .i64_xor_or
    case (0x85, 0x85, false): .i64_xor_xor
    case (0x85, 0x85, true): .i64_xor_xor
    case (0x85, 0x86, false): .i64_xor_shl
    case (0x85, 0x88, false): .i64_xor_shr_u
    case (0x86, 0x7C, false): .i64_shl_add
    case (0x86, 0x7C, true): .i64_shl_add
    case (0x86, 0x7D, false): .i64_shl_sub
    case (0x86, 0x7D, true): .i64_shl_sub_r
    case (0x86, 0x7E, false): .i64_shl_mul
    case (0x86, 0x7E, true): .i64_shl_mul
    case (0x86, 0x83, false): .i64_shl_and
    case (0x86, 0x83, true): .i64_shl_and
    case (0x86, 0x84, false): .i64_shl_or
    case (0x86, 0x84, true): .i64_shl_or
    case (0x86, 0x85, false): .i64_shl_xor
    case (0x86, 0x85, true): .i64_shl_xor
    case (0x86, 0x86, false): .i64_shl_shl
    case (0x86, 0x88, false): .i64_shl_shr_u
    case (0x87, 0x7C, false): .i64_shr_s_add
    case (0x87, 0x7C, true): .i64_shr_s_add
    case (0x87, 0x7D, false): .i64_shr_s_sub
    case (0x87, 0x7D, true): .i64_shr_s_sub_r
    case (0x87, 0x7E, false): .i64_shr_s_mul
    case (0x87, 0x7E, true): .i64_shr_s_mul
    case (0x87, 0x83, false): .i64_shr_s_and
    case (0x87, 0x83, true): .i64_shr_s_and
    case (0x87, 0x84, false): .i64_shr_s_or
    case (0x87, 0x84, true): .i64_shr_s_or
    case (0x87, 0x85, false): .i64_shr_s_xor
    case (0x87, 0x85, true): .i64_shr_s_xor
    case (0x87, 0x86, false): .i64_shr_s_shl
    case (0x87, 0x88, false): .i64_shr_s_shr_u
    case (0x88, 0x7C, false): .i64_shr_u_add
    case (0x88, 0x7C, true): .i64_shr_u_add
    case (0x88, 0x7D, false): .i64_shr_u_sub
    case (0x88, 0x7D, true): .i64_shr_u_sub_r
    case (0x88, 0x7E, false): .i64_shr_u_mul
    case (0x88, 0x7E, true): .i64_shr_u_mul
    case (0x88, 0x83, false): .i64_shr_u_and
    case (0x88, 0x83, true): .i64_shr_u_and
    case (0x88, 0x84, false): .i64_shr_u_or
    case (0x88, 0x84, true): .i64_shr_u_or
    case (0x88, 0x85, false): .i64_shr_u_xor
    case (0x88, 0x85, true): .i64_shr_u_xor
    case (0x88, 0x86, false): .i64_shr_u_shl
    case (0x88, 0x88, false): .i64_shr_u_shr_u
    case (0x92, 0x92, false): .f32_add_add
    case (0x92, 0x92, true): .f32_add_add_r
    case (0x92, 0x93, false): .f32_add_sub
    case (0x92, 0x93, true): .f32_add_sub_r
    case (0x92, 0x94, false): .f32_add_mul
    case (0x92, 0x94, true): .f32_add_mul_r
    case (0x93, 0x92, false): .f32_sub_add
    case (0x93, 0x92, true): .f32_sub_add_r
    case (0x93, 0x93, false): .f32_sub_sub
    case (0x93, 0x93, true): .f32_sub_sub_r
    case (0x93, 0x94, false): .f32_sub_mul
    case (0x93, 0x94, true): .f32_sub_mul_r
    case (0x94, 0x92, false): .f32_mul_add
    case (0x94, 0x92, true): .f32_mul_add_r
    case (0x94, 0x93, false): .f32_mul_sub
    case (0x94, 0x93, true): .f32_mul_sub_r
    case (0x94, 0x94, false): .f32_mul_mul
    case (0x94, 0x94, true): .f32_mul_mul_r
    case (0x95, 0x92, false): .f32_div_add
    case (0x95, 0x92, true): .f32_div_add_r
    case (0x95, 0x93, false): .f32_div_sub
    case (0x95, 0x93, true): .f32_div_sub_r
    case (0x95, 0x94, false): .f32_div_mul
    case (0x95, 0x94, true): .f32_div_mul_r
    case (0xA0, 0xA0, false): .f64_add_add
    case (0xA0, 0xA0, true): .f64_add_add_r
    case (0xA0, 0xA1, false): .f64_add_sub
    case (0xA0, 0xA1, true): .f64_add_sub_r
    case (0xA0, 0xA2, false): .f64_add_mul
    case (0xA0, 0xA2, true): .f64_add_mul_r
    case (0xA1, 0xA0, false): .f64_sub_add
    case (0xA1, 0xA0, true): .f64_sub_add_r
    case (0xA1, 0xA1, false): .f64_sub_sub
    case (0xA1, 0xA1, true): .f64_sub_sub_r
    case (0xA1, 0xA2, false): .f64_sub_mul
    case (0xA1, 0xA2, true): .f64_sub_mul_r
    case (0xA2, 0xA0, false): .f64_mul_add
    case (0xA2, 0xA0, true): .f64_mul_add_r
    case (0xA2, 0xA1, false): .f64_mul_sub
    case (0xA2, 0xA1, true): .f64_mul_sub_r
    case (0xA2, 0xA2, false): .f64_mul_mul
    case (0xA2, 0xA2, true): .f64_mul_mul_r
    case (0xA3, 0xA0, false): .f64_div_add
    case (0xA3, 0xA0, true): .f64_div_add_r
    case (0xA3, 0xA1, false): .f64_div_sub
    case (0xA3, 0xA1, true): .f64_div_sub_r
    case (0xA3, 0xA2, false): .f64_div_mul
    case (0xA3, 0xA2, true): .f64_div_mul_r
    default: nil
    }
}

// Named forms of the fused operations that sequences (Superinstructions.swift) and the SIMD
// loop run too, so each opcode's operands and types are written once for every switch.
@inline(__always) func opI32ShlAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (fusedInt(pc, fp, .shl, .add, UInt32.self, Int32.self, reversed: false), fp, st)
}
@inline(__always) func opI32XorAnd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (fusedInt(pc, fp, .xor, .and, UInt32.self, Int32.self, reversed: false), fp, st)
}
@inline(__always) func opI64ShlXor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (fusedInt(pc, fp, .shl, .xor, UInt64.self, Int64.self, reversed: false), fp, st)
}
@inline(__always) func opI64ShrUXor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (fusedInt(pc, fp, .shrU, .xor, UInt64.self, Int64.self, reversed: false), fp, st)
}
@inline(__always) func opF64AddMul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (fusedFloat(pc, fp, .add, .mul, Double.self, reversed: false), fp, st)
}
@inline(__always) func opF64MulMul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (fusedFloat(pc, fp, .mul, .mul, Double.self, reversed: false), fp, st)
}
