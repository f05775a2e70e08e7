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
let hCopy: Handler = { pc, fp, _ in fp[op(pc, 1)] = fp[op(pc, 2)]; return pc + 3 }
/// [dst, imm]
let hConst: Handler = { pc, fp, _ in fp[op(pc, 1)] = pc[2]; return pc + 3 }
/// [dst, a, b, cond]
let hSelect: Handler = { pc, fp, _ in
    fp[op(pc, 1)] = rd32(fp, pc, 4) != 0 ? fp[op(pc, 2)] : fp[op(pc, 3)]; return pc + 5
}
let hNop: Handler = { pc, _, _ in pc + 1 }
let hUnreachable: Handler = { pc, _, st in trap(st, .unreachable, pc) }

// MARK: - branches (offsets are in words, relative to the branch's own pc)

/// [offset]
let hBr: Handler = { pc, _, _ in pc + op(pc, 1) }
/// [cond, offset]
let hBrIf: Handler = { pc, fp, _ in rd32(fp, pc, 1) != 0 ? pc + op(pc, 2) : pc + 3 }
/// [cond, offset]
let hBrIfNot: Handler = { pc, fp, _ in rd32(fp, pc, 1) == 0 ? pc + op(pc, 2) : pc + 3 }

@inline(__always) func backEdge(_ st: StatePointer, _ pc: CodePointer, _ target: CodePointer) -> CodePointer? {
    st.pointee.current.unsafelyUnwrapped.pointee.hotness &+= 1
    if st.pointee.interrupt.pointee != 0 { return trap(st, .interrupted, pc) }
    return target
}
/// Backward branch to a loop header: counts for tiering and polls the interrupt flag. [offset]
let hBrBack: Handler = { pc, _, st in backEdge(st, pc, pc + op(pc, 1)) }
/// [cond, offset]
let hBrIfBack: Handler = { pc, fp, st in rd32(fp, pc, 1) != 0 ? backEdge(st, pc, pc + op(pc, 2)) : pc + 3 }
/// [index, count, off_0 ... off_count-1, off_default]
let hBrTable: Handler = { pc, fp, st in
    let count = op(pc, 2)
    let i = Int(rd32(fp, pc, 1))
    let off = op(pc, 3 + (i < count ? i : count))
    if off < 0 { return backEdge(st, pc, pc + off) }
    return pc + off
}

// MARK: - integer arithmetic

let hI32Eqz: Handler = { pc, fp, _ in wr(fp, pc, 1, rd32(fp, pc, 2) == 0 ? 1 : 0); return pc + 3 }
let hI64Eqz: Handler = { pc, fp, _ in wr(fp, pc, 1, rd64(fp, pc, 2) == 0 ? 1 : 0); return pc + 3 }

let hI32Eq: Handler = { pc, fp, _ in cmp32(pc, fp) { $0 == $1 } }
let hI32Ne: Handler = { pc, fp, _ in cmp32(pc, fp) { $0 != $1 } }
let hI32LtS: Handler = { pc, fp, _ in cmp32(pc, fp) { Int32(bitPattern: $0) < Int32(bitPattern: $1) } }
let hI32LtU: Handler = { pc, fp, _ in cmp32(pc, fp) { $0 < $1 } }
let hI32GtS: Handler = { pc, fp, _ in cmp32(pc, fp) { Int32(bitPattern: $0) > Int32(bitPattern: $1) } }
let hI32GtU: Handler = { pc, fp, _ in cmp32(pc, fp) { $0 > $1 } }
let hI32LeS: Handler = { pc, fp, _ in cmp32(pc, fp) { Int32(bitPattern: $0) <= Int32(bitPattern: $1) } }
let hI32LeU: Handler = { pc, fp, _ in cmp32(pc, fp) { $0 <= $1 } }
let hI32GeS: Handler = { pc, fp, _ in cmp32(pc, fp) { Int32(bitPattern: $0) >= Int32(bitPattern: $1) } }
let hI32GeU: Handler = { pc, fp, _ in cmp32(pc, fp) { $0 >= $1 } }
let hI64Eq: Handler = { pc, fp, _ in cmp64(pc, fp) { $0 == $1 } }
let hI64Ne: Handler = { pc, fp, _ in cmp64(pc, fp) { $0 != $1 } }
let hI64LtS: Handler = { pc, fp, _ in cmp64(pc, fp) { Int64(bitPattern: $0) < Int64(bitPattern: $1) } }
let hI64LtU: Handler = { pc, fp, _ in cmp64(pc, fp) { $0 < $1 } }
let hI64GtS: Handler = { pc, fp, _ in cmp64(pc, fp) { Int64(bitPattern: $0) > Int64(bitPattern: $1) } }
let hI64GtU: Handler = { pc, fp, _ in cmp64(pc, fp) { $0 > $1 } }
let hI64LeS: Handler = { pc, fp, _ in cmp64(pc, fp) { Int64(bitPattern: $0) <= Int64(bitPattern: $1) } }
let hI64LeU: Handler = { pc, fp, _ in cmp64(pc, fp) { $0 <= $1 } }
let hI64GeS: Handler = { pc, fp, _ in cmp64(pc, fp) { Int64(bitPattern: $0) >= Int64(bitPattern: $1) } }
let hI64GeU: Handler = { pc, fp, _ in cmp64(pc, fp) { $0 >= $1 } }

let hF32Eq: Handler = { pc, fp, _ in cmpF32(pc, fp) { $0 == $1 } }
let hF32Ne: Handler = { pc, fp, _ in cmpF32(pc, fp) { $0 != $1 } }
let hF32Lt: Handler = { pc, fp, _ in cmpF32(pc, fp) { $0 < $1 } }
let hF32Gt: Handler = { pc, fp, _ in cmpF32(pc, fp) { $0 > $1 } }
let hF32Le: Handler = { pc, fp, _ in cmpF32(pc, fp) { $0 <= $1 } }
let hF32Ge: Handler = { pc, fp, _ in cmpF32(pc, fp) { $0 >= $1 } }
let hF64Eq: Handler = { pc, fp, _ in cmpF64(pc, fp) { $0 == $1 } }
let hF64Ne: Handler = { pc, fp, _ in cmpF64(pc, fp) { $0 != $1 } }
let hF64Lt: Handler = { pc, fp, _ in cmpF64(pc, fp) { $0 < $1 } }
let hF64Gt: Handler = { pc, fp, _ in cmpF64(pc, fp) { $0 > $1 } }
let hF64Le: Handler = { pc, fp, _ in cmpF64(pc, fp) { $0 <= $1 } }
let hF64Ge: Handler = { pc, fp, _ in cmpF64(pc, fp) { $0 >= $1 } }

let hI32Clz: Handler = { pc, fp, _ in un32(pc, fp) { UInt32($0.leadingZeroBitCount) } }
let hI32Ctz: Handler = { pc, fp, _ in un32(pc, fp) { UInt32($0.trailingZeroBitCount) } }
let hI32Popcnt: Handler = { pc, fp, _ in un32(pc, fp) { UInt32($0.nonzeroBitCount) } }
let hI32Add: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &+ $1 } }
let hI32Sub: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &- $1 } }
let hI32Mul: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &* $1 } }
let hI32DivS: Handler = { pc, fp, st in
    let a = Int32(bitPattern: rd32(fp, pc, 2)), b = Int32(bitPattern: rd32(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    if a == Int32.min && b == -1 { return trap(st, .integerOverflow, pc) }
    wr32(fp, pc, 1, UInt32(bitPattern: a / b)); return pc + 4
}
let hI32DivU: Handler = { pc, fp, st in
    let a = rd32(fp, pc, 2), b = rd32(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr32(fp, pc, 1, a / b); return pc + 4
}
let hI32RemS: Handler = { pc, fp, st in
    let a = Int32(bitPattern: rd32(fp, pc, 2)), b = Int32(bitPattern: rd32(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr32(fp, pc, 1, b == -1 ? 0 : UInt32(bitPattern: a % b)); return pc + 4
}
let hI32RemU: Handler = { pc, fp, st in
    let a = rd32(fp, pc, 2), b = rd32(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr32(fp, pc, 1, a % b); return pc + 4
}
let hI32And: Handler = { pc, fp, _ in bin32(pc, fp) { $0 & $1 } }
let hI32Or: Handler = { pc, fp, _ in bin32(pc, fp) { $0 | $1 } }
let hI32Xor: Handler = { pc, fp, _ in bin32(pc, fp) { $0 ^ $1 } }
let hI32Shl: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &<< $1 } }
let hI32ShrS: Handler = { pc, fp, _ in bin32(pc, fp) { UInt32(bitPattern: Int32(bitPattern: $0) &>> Int32(bitPattern: $1)) } }
let hI32ShrU: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &>> $1 } }
let hI32Rotl: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &<< $1 | $0 &>> (32 &- ($1 & 31)) } }
let hI32Rotr: Handler = { pc, fp, _ in bin32(pc, fp) { $0 &>> $1 | $0 &<< (32 &- ($1 & 31)) } }

let hI64Clz: Handler = { pc, fp, _ in un64(pc, fp) { UInt64($0.leadingZeroBitCount) } }
let hI64Ctz: Handler = { pc, fp, _ in un64(pc, fp) { UInt64($0.trailingZeroBitCount) } }
let hI64Popcnt: Handler = { pc, fp, _ in un64(pc, fp) { UInt64($0.nonzeroBitCount) } }
let hI64Add: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &+ $1 } }
let hI64Sub: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &- $1 } }
let hI64Mul: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &* $1 } }
let hI64DivS: Handler = { pc, fp, st in
    let a = Int64(bitPattern: rd64(fp, pc, 2)), b = Int64(bitPattern: rd64(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    if a == Int64.min && b == -1 { return trap(st, .integerOverflow, pc) }
    wr(fp, pc, 1, UInt64(bitPattern: a / b)); return pc + 4
}
let hI64DivU: Handler = { pc, fp, st in
    let a = rd64(fp, pc, 2), b = rd64(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr(fp, pc, 1, a / b); return pc + 4
}
let hI64RemS: Handler = { pc, fp, st in
    let a = Int64(bitPattern: rd64(fp, pc, 2)), b = Int64(bitPattern: rd64(fp, pc, 3))
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr(fp, pc, 1, b == -1 ? 0 : UInt64(bitPattern: a % b)); return pc + 4
}
let hI64RemU: Handler = { pc, fp, st in
    let a = rd64(fp, pc, 2), b = rd64(fp, pc, 3)
    if b == 0 { return trap(st, .integerDivideByZero, pc) }
    wr(fp, pc, 1, a % b); return pc + 4
}
let hI64And: Handler = { pc, fp, _ in bin64(pc, fp) { $0 & $1 } }
let hI64Or: Handler = { pc, fp, _ in bin64(pc, fp) { $0 | $1 } }
let hI64Xor: Handler = { pc, fp, _ in bin64(pc, fp) { $0 ^ $1 } }
let hI64Shl: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &<< $1 } }
let hI64ShrS: Handler = { pc, fp, _ in bin64(pc, fp) { UInt64(bitPattern: Int64(bitPattern: $0) &>> Int64(bitPattern: $1)) } }
let hI64ShrU: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &>> $1 } }
let hI64Rotl: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &<< $1 | $0 &>> (64 &- ($1 & 63)) } }
let hI64Rotr: Handler = { pc, fp, _ in bin64(pc, fp) { $0 &>> $1 | $0 &<< (64 &- ($1 & 63)) } }

// MARK: - float arithmetic (sign operations on bits keep NaN payloads)

let hF32Abs: Handler = { pc, fp, _ in un32(pc, fp) { $0 & 0x7FFF_FFFF } }
let hF32Neg: Handler = { pc, fp, _ in un32(pc, fp) { $0 ^ 0x8000_0000 } }
let hF32Ceil: Handler = { pc, fp, _ in unF32(pc, fp) { $0.rounded(.up) } }
let hF32Floor: Handler = { pc, fp, _ in unF32(pc, fp) { $0.rounded(.down) } }
let hF32Trunc: Handler = { pc, fp, _ in unF32(pc, fp) { $0.rounded(.towardZero) } }
let hF32Nearest: Handler = { pc, fp, _ in unF32(pc, fp) { wasmNearest($0) } }
let hF32Sqrt: Handler = { pc, fp, _ in unF32(pc, fp) { $0.squareRoot() } }
let hF32Add: Handler = { pc, fp, _ in binF32(pc, fp) { $0 + $1 } }
let hF32Sub: Handler = { pc, fp, _ in binF32(pc, fp) { $0 - $1 } }
let hF32Mul: Handler = { pc, fp, _ in binF32(pc, fp) { $0 * $1 } }
let hF32Div: Handler = { pc, fp, _ in binF32(pc, fp) { $0 / $1 } }
let hF32Min: Handler = { pc, fp, _ in binF32(pc, fp) { wasmMin($0, $1) } }
let hF32Max: Handler = { pc, fp, _ in binF32(pc, fp) { wasmMax($0, $1) } }
let hF32Copysign: Handler = { pc, fp, _ in bin32(pc, fp) { ($0 & 0x7FFF_FFFF) | ($1 & 0x8000_0000) } }
let hF64Abs: Handler = { pc, fp, _ in un64(pc, fp) { $0 & 0x7FFF_FFFF_FFFF_FFFF } }
let hF64Neg: Handler = { pc, fp, _ in un64(pc, fp) { $0 ^ 0x8000_0000_0000_0000 } }
let hF64Ceil: Handler = { pc, fp, _ in unF64(pc, fp) { $0.rounded(.up) } }
let hF64Floor: Handler = { pc, fp, _ in unF64(pc, fp) { $0.rounded(.down) } }
let hF64Trunc: Handler = { pc, fp, _ in unF64(pc, fp) { $0.rounded(.towardZero) } }
let hF64Nearest: Handler = { pc, fp, _ in unF64(pc, fp) { wasmNearest($0) } }
let hF64Sqrt: Handler = { pc, fp, _ in unF64(pc, fp) { $0.squareRoot() } }
let hF64Add: Handler = { pc, fp, _ in binF64(pc, fp) { $0 + $1 } }
let hF64Sub: Handler = { pc, fp, _ in binF64(pc, fp) { $0 - $1 } }
let hF64Mul: Handler = { pc, fp, _ in binF64(pc, fp) { $0 * $1 } }
let hF64Div: Handler = { pc, fp, _ in binF64(pc, fp) { $0 / $1 } }
let hF64Min: Handler = { pc, fp, _ in binF64(pc, fp) { wasmMin($0, $1) } }
let hF64Max: Handler = { pc, fp, _ in binF64(pc, fp) { wasmMax($0, $1) } }
let hF64Copysign: Handler = { pc, fp, _ in
    bin64(pc, fp) { ($0 & 0x7FFF_FFFF_FFFF_FFFF) | ($1 & 0x8000_0000_0000_0000) }
}

// MARK: - conversions

let hI32WrapI64: Handler = { pc, fp, _ in wr32(fp, pc, 1, rd32(fp, pc, 2)); return pc + 3 }
let hI64ExtendI32S: Handler = { pc, fp, _ in
    wr(fp, pc, 1, UInt64(bitPattern: Int64(Int32(bitPattern: rd32(fp, pc, 2))))); return pc + 3
}
let hI64ExtendI32U: Handler = { pc, fp, _ in wr(fp, pc, 1, UInt64(rd32(fp, pc, 2))); return pc + 3 }
let hI32Extend8S: Handler = { pc, fp, _ in un32(pc, fp) { UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: $0))) } }
let hI32Extend16S: Handler = { pc, fp, _ in un32(pc, fp) { UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: $0))) } }
let hI64Extend8S: Handler = { pc, fp, _ in un64(pc, fp) { UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: $0))) } }
let hI64Extend16S: Handler = { pc, fp, _ in un64(pc, fp) { UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: $0))) } }
let hI64Extend32S: Handler = { pc, fp, _ in un64(pc, fp) { UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: $0))) } }

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
let hI32TruncF32S: Handler = { pc, fp, st in truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -2147483649.0, 2147483648.0, Int32.self) }
let hI32TruncF32U: Handler = { pc, fp, st in truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -1.0, 4294967296.0, UInt32.self) }
let hI32TruncF64S: Handler = { pc, fp, st in truncTo(pc, fp, st, rdF64(fp, pc, 2), -2147483649.0, 2147483648.0, Int32.self) }
let hI32TruncF64U: Handler = { pc, fp, st in truncTo(pc, fp, st, rdF64(fp, pc, 2), -1.0, 4294967296.0, UInt32.self) }
let hI64TruncF32S: Handler = { pc, fp, st in
    truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -9223373136366403584.0, 9223372036854775808.0, Int64.self)
}
let hI64TruncF32U: Handler = { pc, fp, st in truncTo(pc, fp, st, Double(rdF32(fp, pc, 2)), -1.0, 18446744073709551616.0, UInt64.self) }
let hI64TruncF64S: Handler = { pc, fp, st in
    truncTo(pc, fp, st, rdF64(fp, pc, 2), -9223372036854777856.0, 9223372036854775808.0, Int64.self)
}
let hI64TruncF64U: Handler = { pc, fp, st in truncTo(pc, fp, st, rdF64(fp, pc, 2), -1.0, 18446744073709551616.0, UInt64.self) }

@inline(__always) func truncSat<I: FixedWidthInteger>(_ x: Double, _ as: I.Type) -> UInt64 {
    if x.isNaN { return 0 }
    if x <= Double(I.min) { return UInt64(truncatingIfNeeded: I.min) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0) }
    if x >= Double(I.max) { return UInt64(truncatingIfNeeded: I.max) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0) }
    return UInt64(truncatingIfNeeded: I(x.rounded(.towardZero))) & (I.bitWidth == 32 ? 0xFFFF_FFFF : ~0)
}
let hI32TruncSatF32S: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), Int32.self)); return pc + 3 }
let hI32TruncSatF32U: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), UInt32.self)); return pc + 3 }
let hI32TruncSatF64S: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), Int32.self)); return pc + 3 }
let hI32TruncSatF64U: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), UInt32.self)); return pc + 3 }
let hI64TruncSatF32S: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), Int64.self)); return pc + 3 }
let hI64TruncSatF32U: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(Double(rdF32(fp, pc, 2)), UInt64.self)); return pc + 3 }
let hI64TruncSatF64S: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), Int64.self)); return pc + 3 }
let hI64TruncSatF64U: Handler = { pc, fp, _ in wr(fp, pc, 1, truncSat(rdF64(fp, pc, 2), UInt64.self)); return pc + 3 }

let hF32ConvertI32S: Handler = { pc, fp, _ in wr32(fp, pc, 1, Float(Int32(bitPattern: rd32(fp, pc, 2))).bitPattern); return pc + 3 }
let hF32ConvertI32U: Handler = { pc, fp, _ in wr32(fp, pc, 1, Float(rd32(fp, pc, 2)).bitPattern); return pc + 3 }
let hF32ConvertI64S: Handler = { pc, fp, _ in wr32(fp, pc, 1, Float(Int64(bitPattern: rd64(fp, pc, 2))).bitPattern); return pc + 3 }
let hF32ConvertI64U: Handler = { pc, fp, _ in wr32(fp, pc, 1, Float(rd64(fp, pc, 2)).bitPattern); return pc + 3 }
let hF32DemoteF64: Handler = { pc, fp, _ in wr32(fp, pc, 1, Float(rdF64(fp, pc, 2)).bitPattern); return pc + 3 }
let hF64ConvertI32S: Handler = { pc, fp, _ in wr(fp, pc, 1, Double(Int32(bitPattern: rd32(fp, pc, 2))).bitPattern); return pc + 3 }
let hF64ConvertI32U: Handler = { pc, fp, _ in wr(fp, pc, 1, Double(rd32(fp, pc, 2)).bitPattern); return pc + 3 }
let hF64ConvertI64S: Handler = { pc, fp, _ in wr(fp, pc, 1, Double(Int64(bitPattern: rd64(fp, pc, 2))).bitPattern); return pc + 3 }
let hF64ConvertI64U: Handler = { pc, fp, _ in wr(fp, pc, 1, Double(rd64(fp, pc, 2)).bitPattern); return pc + 3 }
let hF64PromoteF32: Handler = { pc, fp, _ in wr(fp, pc, 1, Double(rdF32(fp, pc, 2)).bitPattern); return pc + 3 }
/// Reinterpretations are plain copies of the 32 or 64 bits.
let hMove32: Handler = { pc, fp, _ in wr32(fp, pc, 1, rd32(fp, pc, 2)); return pc + 3 }

/// The handler of a plain numeric instruction (see `NumericSignature`).
func numericHandler(_ opcode: UInt16) -> Handler {
    switch opcode {
    case 0x45: hI32Eqz
    case 0x46: hI32Eq
    case 0x47: hI32Ne
    case 0x48: hI32LtS
    case 0x49: hI32LtU
    case 0x4A: hI32GtS
    case 0x4B: hI32GtU
    case 0x4C: hI32LeS
    case 0x4D: hI32LeU
    case 0x4E: hI32GeS
    case 0x4F: hI32GeU
    case 0x50: hI64Eqz
    case 0x51: hI64Eq
    case 0x52: hI64Ne
    case 0x53: hI64LtS
    case 0x54: hI64LtU
    case 0x55: hI64GtS
    case 0x56: hI64GtU
    case 0x57: hI64LeS
    case 0x58: hI64LeU
    case 0x59: hI64GeS
    case 0x5A: hI64GeU
    case 0x5B: hF32Eq
    case 0x5C: hF32Ne
    case 0x5D: hF32Lt
    case 0x5E: hF32Gt
    case 0x5F: hF32Le
    case 0x60: hF32Ge
    case 0x61: hF64Eq
    case 0x62: hF64Ne
    case 0x63: hF64Lt
    case 0x64: hF64Gt
    case 0x65: hF64Le
    case 0x66: hF64Ge
    case 0x67: hI32Clz
    case 0x68: hI32Ctz
    case 0x69: hI32Popcnt
    case 0x6A: hI32Add
    case 0x6B: hI32Sub
    case 0x6C: hI32Mul
    case 0x6D: hI32DivS
    case 0x6E: hI32DivU
    case 0x6F: hI32RemS
    case 0x70: hI32RemU
    case 0x71: hI32And
    case 0x72: hI32Or
    case 0x73: hI32Xor
    case 0x74: hI32Shl
    case 0x75: hI32ShrS
    case 0x76: hI32ShrU
    case 0x77: hI32Rotl
    case 0x78: hI32Rotr
    case 0x79: hI64Clz
    case 0x7A: hI64Ctz
    case 0x7B: hI64Popcnt
    case 0x7C: hI64Add
    case 0x7D: hI64Sub
    case 0x7E: hI64Mul
    case 0x7F: hI64DivS
    case 0x80: hI64DivU
    case 0x81: hI64RemS
    case 0x82: hI64RemU
    case 0x83: hI64And
    case 0x84: hI64Or
    case 0x85: hI64Xor
    case 0x86: hI64Shl
    case 0x87: hI64ShrS
    case 0x88: hI64ShrU
    case 0x89: hI64Rotl
    case 0x8A: hI64Rotr
    case 0x8B: hF32Abs
    case 0x8C: hF32Neg
    case 0x8D: hF32Ceil
    case 0x8E: hF32Floor
    case 0x8F: hF32Trunc
    case 0x90: hF32Nearest
    case 0x91: hF32Sqrt
    case 0x92: hF32Add
    case 0x93: hF32Sub
    case 0x94: hF32Mul
    case 0x95: hF32Div
    case 0x96: hF32Min
    case 0x97: hF32Max
    case 0x98: hF32Copysign
    case 0x99: hF64Abs
    case 0x9A: hF64Neg
    case 0x9B: hF64Ceil
    case 0x9C: hF64Floor
    case 0x9D: hF64Trunc
    case 0x9E: hF64Nearest
    case 0x9F: hF64Sqrt
    case 0xA0: hF64Add
    case 0xA1: hF64Sub
    case 0xA2: hF64Mul
    case 0xA3: hF64Div
    case 0xA4: hF64Min
    case 0xA5: hF64Max
    case 0xA6: hF64Copysign
    case 0xA7: hI32WrapI64
    case 0xA8: hI32TruncF32S
    case 0xA9: hI32TruncF32U
    case 0xAA: hI32TruncF64S
    case 0xAB: hI32TruncF64U
    case 0xAC: hI64ExtendI32S
    case 0xAD: hI64ExtendI32U
    case 0xAE: hI64TruncF32S
    case 0xAF: hI64TruncF32U
    case 0xB0: hI64TruncF64S
    case 0xB1: hI64TruncF64U
    case 0xB2: hF32ConvertI32S
    case 0xB3: hF32ConvertI32U
    case 0xB4: hF32ConvertI64S
    case 0xB5: hF32ConvertI64U
    case 0xB6: hF32DemoteF64
    case 0xB7: hF64ConvertI32S
    case 0xB8: hF64ConvertI32U
    case 0xB9: hF64ConvertI64S
    case 0xBA: hF64ConvertI64U
    case 0xBB: hF64PromoteF32
    case 0xBC, 0xBE: hMove32
    case 0xBD, 0xBF: hCopy
    case 0xC0: hI32Extend8S
    case 0xC1: hI32Extend16S
    case 0xC2: hI64Extend8S
    case 0xC3: hI64Extend16S
    case 0xC4: hI64Extend32S
    case 0xFC00: hI32TruncSatF32S
    case 0xFC01: hI32TruncSatF32U
    case 0xFC02: hI32TruncSatF64S
    case 0xFC03: hI32TruncSatF64U
    case 0xFC04: hI64TruncSatF32S
    case 0xFC05: hI64TruncSatF32U
    case 0xFC06: hI64TruncSatF64S
    default: hI64TruncSatF64U  // 0xFC07
    }
}
