// Semantics of the fixed-width SIMD instructions, used by the interpreter's SIMD handlers
// (SIMDHandlers.swift) and available to later tiers as the reference behaviour. Values are read from and
// written to 16-byte slots; lane types are chosen per instruction.

typealias I8x16 = SIMD16<Int8>
typealias U8x16 = SIMD16<UInt8>
typealias I16x8 = SIMD8<Int16>
typealias U16x8 = SIMD8<UInt16>
typealias I32x4 = SIMD4<Int32>
typealias U32x4 = SIMD4<UInt32>
typealias I64x2 = SIMD2<Int64>
typealias U64x2 = SIMD2<UInt64>
typealias F32x4 = SIMD4<Float>
typealias F64x2 = SIMD2<Double>

@inline(__always) func vload<V: SIMD>(_ p: UnsafeRawPointer, _ t: V.Type = V.self) -> V {
    p.loadUnaligned(as: V.self)
}
@inline(__always) func vstore<V: SIMD>(_ p: UnsafeMutableRawPointer, _ v: V) {
    p.storeBytes(of: v, as: V.self)
}
@inline(__always) func slotPtr(_ fp: FramePointer, _ pc: CodePointer, _ i: Int) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(fp + op(pc, i))
}

// MARK: operand shapes: [dst, a], [dst, a, b], [dst, a, b, c]

@inline(__always) func simdUnary<A: SIMD, R: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ t: A.Type, _ f: (A) -> R) -> CodePointer? {
    vstore(slotPtr(fp, pc, 1), f(vload(slotPtr(fp, pc, 2), A.self)))
    return pc + 3
}
@inline(__always) func simdBinary<A: SIMD, R: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ t: A.Type, _ f: (A, A) -> R) -> CodePointer? {
    vstore(slotPtr(fp, pc, 1), f(vload(slotPtr(fp, pc, 2), A.self), vload(slotPtr(fp, pc, 3), A.self)))
    return pc + 4
}
/// [dst, a, b, c]
@inline(__always) func simdTernary<A: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ t: A.Type, _ f: (A, A, A) -> A) -> CodePointer? {
    vstore(slotPtr(fp, pc, 1), f(vload(slotPtr(fp, pc, 2), A.self), vload(slotPtr(fp, pc, 3), A.self), vload(slotPtr(fp, pc, 4), A.self)))
    return pc + 5
}
/// [dst, a(i8x16), b(i8x16), c(i32x4)]
@inline(__always) func simdTernaryMixed(_ pc: CodePointer, _ fp: FramePointer, _ f: (I8x16, I8x16, I32x4) -> I32x4) -> CodePointer? {
    vstore(slotPtr(fp, pc, 1), f(vload(slotPtr(fp, pc, 2), I8x16.self), vload(slotPtr(fp, pc, 3), I8x16.self), vload(slotPtr(fp, pc, 4), I32x4.self)))
    return pc + 5
}
/// Relaxed dot products: both operands read as signed bytes; pairwise sums wrap.
@inline(__always) func relaxedDot(_ a: I8x16, _ b: I8x16) -> I16x8 {
    var r = I16x8()
    for i in 0..<8 { r[i] = Int16(a[2 * i]) &* Int16(b[2 * i]) &+ Int16(a[2 * i + 1]) &* Int16(b[2 * i + 1]) }
    return r
}
@inline(__always) func relaxedDotAdd(_ a: I8x16, _ b: I8x16, _ c: I32x4) -> I32x4 {
    var r = c
    for i in 0..<16 { r[i / 4] = r[i / 4] &+ Int32(a[i]) * Int32(b[i]) }
    return r
}

/// [dst(i32), a]
@inline(__always) func simdTest<A: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ t: A.Type, _ f: (A) -> Bool) -> CodePointer? {
    fp[op(pc, 1)] = f(vload(slotPtr(fp, pc, 2), A.self)) ? 1 : 0
    return pc + 3
}
/// [dst(i32), a]
@inline(__always) func simdBitmask<A: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ t: A.Type) -> CodePointer?
where A.Scalar: FixedWidthInteger & SignedInteger {
    let a = vload(slotPtr(fp, pc, 2), A.self)
    var bits: UInt64 = 0
    for i in a.indices where a[i] < 0 { bits |= 1 << UInt64(i) }
    fp[op(pc, 1)] = bits
    return pc + 3
}
/// [dst, a, count(i32)]: the count is taken modulo the lane width.
@inline(__always) func simdShift<A: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ t: A.Type, _ f: (A, A.Scalar) -> A) -> CodePointer?
where A.Scalar: FixedWidthInteger {
    let count = A.Scalar(truncatingIfNeeded: rd32(fp, pc, 3) & UInt32(A.Scalar.bitWidth - 1))
    vstore(slotPtr(fp, pc, 1), f(vload(slotPtr(fp, pc, 2), A.self), count))
    return pc + 4
}

// MARK: lane-wise helpers

@inline(__always) func lanes<V: SIMD>(_ a: V, _ f: (V.Scalar) -> V.Scalar) -> V {
    var r = V()
    for i in a.indices { r[i] = f(a[i]) }
    return r
}
@inline(__always) func lanes<V: SIMD>(_ a: V, _ b: V, _ f: (V.Scalar, V.Scalar) -> V.Scalar) -> V {
    var r = V()
    for i in a.indices { r[i] = f(a[i], b[i]) }
    return r
}
/// All-ones lanes where the mask is set.
@inline(__always) func maskBits<S>(_ m: SIMDMask<S>) -> S { unsafeBitCast(m, to: S.self) }

@inline(__always) func saturate<T: FixedWidthInteger>(_ v: Int, _ t: T.Type) -> T {
    v < Int(T.min) ? T.min : v > Int(T.max) ? T.max : T(v)
}
@inline(__always) func wrappingAbs<T: FixedWidthInteger & SignedInteger>(_ x: T) -> T { x < 0 ? 0 &- x : x }

/// Saturating conversion to narrower lanes: a lane-wise clamp (pminsw/pmaxsw and friends) then
/// truncation. The standard library's `init(clamping:)` converts lane by lane, 10x slower.
@inline(__always) func clampingNarrow(_ v: SIMD16<Int16>, _ n: I8x16.Type) -> I8x16 {
    I8x16(truncatingIfNeeded: v.clamped(lowerBound: .init(repeating: -128), upperBound: .init(repeating: 127)))
}
@inline(__always) func clampingNarrow(_ v: SIMD16<Int16>, _ n: U8x16.Type) -> U8x16 {
    U8x16(truncatingIfNeeded: v.clamped(lowerBound: .init(repeating: 0), upperBound: .init(repeating: 255)))
}
@inline(__always) func clampingNarrow(_ v: SIMD8<Int32>, _ n: I16x8.Type) -> I16x8 {
    I16x8(truncatingIfNeeded: v.clamped(lowerBound: .init(repeating: -32768), upperBound: .init(repeating: 32767)))
}
@inline(__always) func clampingNarrow(_ v: SIMD8<Int32>, _ n: U16x8.Type) -> U16x8 {
    U16x8(truncatingIfNeeded: v.clamped(lowerBound: .init(repeating: 0), upperBound: .init(repeating: 65535)))
}

/// Narrowing with saturation: lanes of `a` then lanes of `b` (vector conversions, not loops).
@inline(__always) func narrow(_ a: I16x8, _ b: I16x8, _ n: I8x16.Type) -> I8x16 { clampingNarrow(SIMD16<Int16>(lowHalf: a, highHalf: b), I8x16.self) }
@inline(__always) func narrow(_ a: I16x8, _ b: I16x8, _ n: U8x16.Type) -> U8x16 { clampingNarrow(SIMD16<Int16>(lowHalf: a, highHalf: b), U8x16.self) }
@inline(__always) func narrow(_ a: I32x4, _ b: I32x4, _ n: I16x8.Type) -> I16x8 { clampingNarrow(SIMD8<Int32>(lowHalf: a, highHalf: b), I16x8.self) }
@inline(__always) func narrow(_ a: I32x4, _ b: I32x4, _ n: U16x8.Type) -> U16x8 { clampingNarrow(SIMD8<Int32>(lowHalf: a, highHalf: b), U16x8.self) }

/// Widening of the low (`high == false`) or high half of `a` (sign- or zero-extending by type).
@inline(__always) func widen(_ a: I8x16, high: Bool, _ w: I16x8.Type) -> I16x8 { I16x8(truncatingIfNeeded: high ? a.highHalf : a.lowHalf) }
@inline(__always) func widen(_ a: U8x16, high: Bool, _ w: U16x8.Type) -> U16x8 { U16x8(truncatingIfNeeded: high ? a.highHalf : a.lowHalf) }
@inline(__always) func widen(_ a: I16x8, high: Bool, _ w: I32x4.Type) -> I32x4 { I32x4(truncatingIfNeeded: high ? a.highHalf : a.lowHalf) }
@inline(__always) func widen(_ a: U16x8, high: Bool, _ w: U32x4.Type) -> U32x4 { U32x4(truncatingIfNeeded: high ? a.highHalf : a.lowHalf) }
@inline(__always) func widen(_ a: I32x4, high: Bool, _ w: I64x2.Type) -> I64x2 { I64x2(truncatingIfNeeded: high ? a.highHalf : a.lowHalf) }
@inline(__always) func widen(_ a: U32x4, high: Bool, _ w: U64x2.Type) -> U64x2 { U64x2(truncatingIfNeeded: high ? a.highHalf : a.lowHalf) }

/// Saturating add and subtract through the next wider lane type.
@inline(__always) func addSat(_ a: I8x16, _ b: I8x16) -> I8x16 { clampingNarrow(SIMD16<Int16>(truncatingIfNeeded: a) &+ SIMD16<Int16>(truncatingIfNeeded: b), I8x16.self) }
@inline(__always) func addSat(_ a: U8x16, _ b: U8x16) -> U8x16 { clampingNarrow(SIMD16<Int16>(truncatingIfNeeded: a) &+ SIMD16<Int16>(truncatingIfNeeded: b), U8x16.self) }
@inline(__always) func subSat(_ a: I8x16, _ b: I8x16) -> I8x16 { clampingNarrow(SIMD16<Int16>(truncatingIfNeeded: a) &- SIMD16<Int16>(truncatingIfNeeded: b), I8x16.self) }
@inline(__always) func subSat(_ a: U8x16, _ b: U8x16) -> U8x16 { clampingNarrow(SIMD16<Int16>(truncatingIfNeeded: a) &- SIMD16<Int16>(truncatingIfNeeded: b), U8x16.self) }
@inline(__always) func addSat(_ a: I16x8, _ b: I16x8) -> I16x8 { clampingNarrow(SIMD8<Int32>(truncatingIfNeeded: a) &+ SIMD8<Int32>(truncatingIfNeeded: b), I16x8.self) }
@inline(__always) func addSat(_ a: U16x8, _ b: U16x8) -> U16x8 { clampingNarrow(SIMD8<Int32>(truncatingIfNeeded: a) &+ SIMD8<Int32>(truncatingIfNeeded: b), U16x8.self) }
@inline(__always) func subSat(_ a: I16x8, _ b: I16x8) -> I16x8 { clampingNarrow(SIMD8<Int32>(truncatingIfNeeded: a) &- SIMD8<Int32>(truncatingIfNeeded: b), I16x8.self) }
@inline(__always) func subSat(_ a: U16x8, _ b: U16x8) -> U16x8 { clampingNarrow(SIMD8<Int32>(truncatingIfNeeded: a) &- SIMD8<Int32>(truncatingIfNeeded: b), U16x8.self) }

/// Widening multiply of the low or high halves.
@inline(__always) func extmul(_ a: I8x16, _ b: I8x16, high: Bool, _ w: I16x8.Type) -> I16x8 { widen(a, high: high, w) &* widen(b, high: high, w) }
@inline(__always) func extmul(_ a: U8x16, _ b: U8x16, high: Bool, _ w: U16x8.Type) -> U16x8 { widen(a, high: high, w) &* widen(b, high: high, w) }
@inline(__always) func extmul(_ a: I16x8, _ b: I16x8, high: Bool, _ w: I32x4.Type) -> I32x4 { widen(a, high: high, w) &* widen(b, high: high, w) }
@inline(__always) func extmul(_ a: U16x8, _ b: U16x8, high: Bool, _ w: U32x4.Type) -> U32x4 { widen(a, high: high, w) &* widen(b, high: high, w) }
@inline(__always) func extmul(_ a: I32x4, _ b: I32x4, high: Bool, _ w: I64x2.Type) -> I64x2 { widen(a, high: high, w) &* widen(b, high: high, w) }
@inline(__always) func extmul(_ a: U32x4, _ b: U32x4, high: Bool, _ w: U64x2.Type) -> U64x2 { widen(a, high: high, w) &* widen(b, high: high, w) }
/// Sums of adjacent lane pairs, widened.
@inline(__always) func extaddPairwise<N: SIMD, W: SIMD>(_ a: N, _ w: W.Type) -> W
where N.Scalar: FixedWidthInteger, W.Scalar: FixedWidthInteger {
    var r = W()
    for i in r.indices { r[i] = W.Scalar(a[2 * i]) &+ W.Scalar(a[2 * i + 1]) }
    return r
}
@inline(__always) func avgr<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: FixedWidthInteger & UnsignedInteger {
    lanes(a, b) { x, y in V.Scalar((UInt32(x) + UInt32(y) + 1) / 2) }
}
@inline(__always) func q15mulr(_ a: I16x8, _ b: I16x8) -> I16x8 {
    lanes(a, b) { x, y in saturate((Int(x) * Int(y) + 0x4000) >> 15, Int16.self) }
}
@inline(__always) func dot(_ a: I16x8, _ b: I16x8) -> I32x4 {
    var r = I32x4()
    for i in 0..<4 {
        r[i] = Int32(a[2 * i]) &* Int32(b[2 * i]) &+ Int32(a[2 * i + 1]) &* Int32(b[2 * i + 1])
    }
    return r
}
@inline(__always) func popcnt(_ a: U8x16) -> U8x16 { lanes(a) { UInt8($0.nonzeroBitCount) } }
/// Lanes of `a` picked by the lanes of `s`; an index of 16 or more gives 0. The same byte
/// table as `shuffle`, with zeros as its second half.
@inline(__always) func swizzle(_ a: U8x16, _ s: U8x16) -> U8x16 {
    let index = unsafeBitCast(s.replacing(with: 16, where: s .>= 16), to: SIMD2<UInt64>.self)
    return shuffle(a, U8x16(), index[0], index[1])
}
/// Lane indices (validated < 32) in the bytes of `lo` (lanes 0-7) and `hi` (8-15) pick from the
/// 32 bytes of `a` then `b`: byte loads from a buffer, not vector lane extracts.
@inline(__always) func shuffle(_ a: U8x16, _ b: U8x16, _ lo: UInt64, _ hi: UInt64) -> U8x16 {
    // Written out lane by lane rather than as a loop, so that the code does not depend on how
    // the optimizer unrolls it where the operation is inlined (a loop of 8 steps stayed a loop in
    // the threaded handler and made `image_filter` 25% slower).
    let source = (a, b)
    return withUnsafeBytes(of: source) { s in
        @inline(__always) func lane(_ selectors: UInt64, _ i: UInt64) -> UInt8 {
            s[Int(truncatingIfNeeded: (selectors >> (8 &* i)) & 0x1F)]
        }
        return U8x16(lane(lo, 0), lane(lo, 1), lane(lo, 2), lane(lo, 3), lane(lo, 4), lane(lo, 5), lane(lo, 6), lane(lo, 7),
                     lane(hi, 0), lane(hi, 1), lane(hi, 2), lane(hi, 3), lane(hi, 4), lane(hi, 5), lane(hi, 6), lane(hi, 7))
    }
}

// Floats: Wasm min/max propagate NaN and order -0 below +0; pmin/pmax are `b < a ? b : a`.
@inline(__always) func fmin<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: BinaryFloatingPoint { lanes(a, b) { wasmMin($0, $1) } }
@inline(__always) func fmax<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: BinaryFloatingPoint { lanes(a, b) { wasmMax($0, $1) } }
@inline(__always) func pmin<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: BinaryFloatingPoint { lanes(a, b) { $1 < $0 ? $1 : $0 } }
@inline(__always) func pmax<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: BinaryFloatingPoint { lanes(a, b) { $0 < $1 ? $1 : $0 } }
@inline(__always) func fround<V: SIMD>(_ a: V, _ rule: FloatingPointRoundingRule) -> V where V.Scalar: BinaryFloatingPoint {
    lanes(a) { $0.rounded(rule) }
}
@inline(__always) func fsqrt<V: SIMD>(_ a: V) -> V where V.Scalar: BinaryFloatingPoint { lanes(a) { $0.squareRoot() } }

@inline(__always) func truncSatLanes<I: FixedWidthInteger>(_ a: F32x4, _ t: I.Type) -> I32x4 {
    var r = I32x4()
    for i in 0..<4 { r[i] = Int32(truncatingIfNeeded: truncSat(Double(a[i]), I.self)) }
    return r
}
@inline(__always) func truncSatZero<I: FixedWidthInteger>(_ a: F64x2, _ t: I.Type) -> I32x4 {
    I32x4(Int32(truncatingIfNeeded: truncSat(a[0], I.self)), Int32(truncatingIfNeeded: truncSat(a[1], I.self)), 0, 0)
}

// MARK: memory: [dst, addr, offset] and [addr, value, offset] (+ lane forms)

/// Loads `width` bytes and builds the vector from them. [dst, addr, offset]
@inline(__always) func simdLoad<V: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, width: UInt64, _ f: (UnsafeRawPointer) -> V) -> CodePointer? {
    guard let p = memoryAddress(pc, fp, st, addr: 2, offset: 3, width: width) else { return trap(st, .memoryOutOfBounds, pc) }
    vstore(slotPtr(fp, pc, 1), f(UnsafeRawPointer(p)))
    return pc + 4
}
/// Widening loads of 8 bytes.
@inline(__always) func loadExtend<N: SIMD, W: SIMD>(_ p: UnsafeRawPointer, _ n: N.Type, _ w: W.Type) -> W
where N.Scalar: FixedWidthInteger, W.Scalar: FixedWidthInteger {
    var r = W()
    for i in r.indices { r[i] = W.Scalar(p.loadUnaligned(fromByteOffset: i * MemoryLayout<N.Scalar>.size, as: N.Scalar.self)) }
    return r
}
@inline(__always) func loadSplat<V: SIMD>(_ p: UnsafeRawPointer, _ v: V.Type) -> V where V.Scalar: FixedWidthInteger {
    V(repeating: p.loadUnaligned(as: V.Scalar.self))
}
/// [dst, addr, vector, offset, lane]
@inline(__always) func simdLoadLane<V: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ v: V.Type) -> CodePointer?
where V.Scalar: FixedWidthInteger {
    guard let p = memoryAddress(pc, fp, st, addr: 2, offset: 4, width: UInt64(MemoryLayout<V.Scalar>.size)) else {
        return trap(st, .memoryOutOfBounds, pc)
    }
    var vec = vload(slotPtr(fp, pc, 3), V.self)
    vec[Int(pc[5])] = UnsafeRawPointer(p).loadUnaligned(as: V.Scalar.self)
    vstore(slotPtr(fp, pc, 1), vec)
    return pc + 6
}
/// [addr, vector, offset, lane]
@inline(__always) func simdStoreLane<V: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ v: V.Type) -> CodePointer?
where V.Scalar: FixedWidthInteger {
    guard let p = memoryAddress(pc, fp, st, addr: 1, offset: 3, width: UInt64(MemoryLayout<V.Scalar>.size)) else {
        return trap(st, .memoryOutOfBounds, pc)
    }
    p.storeBytes(of: vload(slotPtr(fp, pc, 2), V.self)[Int(pc[4])], as: V.Scalar.self)
    return pc + 5
}
/// [addr, value, offset]
@inline(__always) func simdStore(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    guard let p = memoryAddress(pc, fp, st, addr: 1, offset: 3, width: 16) else { return trap(st, .memoryOutOfBounds, pc) }
    vstore(p, vload(slotPtr(fp, pc, 2), U8x16.self))
    return pc + 4
}

// MARK: lanes: [dst, a, lane], [dst, a, scalar, lane], [dst, scalar]

@inline(__always) func simdExtract<V: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ v: V.Type, _ f: (V.Scalar) -> UInt64) -> CodePointer? {
    fp[op(pc, 1)] = f(vload(slotPtr(fp, pc, 2), V.self)[Int(pc[3])])
    return pc + 4
}
@inline(__always) func simdReplace<V: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ v: V.Type, _ f: (UInt64) -> V.Scalar) -> CodePointer? {
    var vec = vload(slotPtr(fp, pc, 2), V.self)
    vec[Int(pc[4])] = f(fp[op(pc, 3)])
    vstore(slotPtr(fp, pc, 1), vec)
    return pc + 5
}
@inline(__always) func simdSplat<V: SIMD>(_ pc: CodePointer, _ fp: FramePointer, _ v: V.Type, _ f: (UInt64) -> V.Scalar) -> CodePointer? {
    vstore(slotPtr(fp, pc, 1), V(repeating: f(fp[op(pc, 2)])))
    return pc + 3
}
