/// SIMD (v128) instruction selection shared by both compiled tiers: each Wasm SIMD instruction
/// is one SSE2-SSE4.2 sequence (VEX three-operand forms for the plain lane arithmetic when
/// `avx` is set) with the interpreter's results: lane operations whose x86 form differs from
/// Wasm's (shift counts, unsigned compares, NaN-aware min/max, saturating truncations,
/// shuffles) get sequences that give Wasm's results, and relaxed SIMD makes the interpreter's
/// deterministic choices. A tier only says where the operands are (`SIMDRegisters`); memory
/// addressing stays the tier's (`simdLoad`, `simdStore` take the address).
struct V128Bits: Hashable {
    var lo: UInt64, hi: UInt64
}

/// Where one SIMD instruction's operands and result are. `d` receives the result (v128 or
/// float); `a`, `b`, `c` are the v128 (or float) operands in order, read only (a may be `d`
/// itself; b and c are never `d` or a temporary); `g` a general operand (splat value, lane
/// value, shift count), read only; `gd` a general result. `temps` are free registers, as many as
/// `X64MachineLayer.simdTemps` asks. The sequence may use r11.
struct SIMDRegisters {
    var d: XReg
    var a: XOperand = .reg(XReg(15))
    var b: XOperand = .reg(XReg(15))
    var c: XOperand = .reg(XReg(15))
    var g = Reg.rax
    var gd = Reg.rax
    /// A constant general operand (shift counts), instead of `g`.
    var constantG: UInt64?
    var temps: [XReg] = []
}

/// What a SIMD instruction computes into.
enum SIMDResult { case xmm, gpr, flags(Cond) }

extension X64MachineLayer {
    static let p66: UInt8 = 0x66
    static let simdScratch = Reg.r11

    /// Binary lane operations that are one instruction, `a = a op b`: opcode -> (prefix, bytes).
    static let simdBinary: [UInt32: (UInt8?, [UInt8])] = [
        // integer add, sub (wrapping and saturating), mul
        0x6E: (p66, [0x0F, 0xFC]), 0x8E: (p66, [0x0F, 0xFD]), 0xAE: (p66, [0x0F, 0xFE]), 0xCE: (p66, [0x0F, 0xD4]),
        0x71: (p66, [0x0F, 0xF8]), 0x91: (p66, [0x0F, 0xF9]), 0xB1: (p66, [0x0F, 0xFA]), 0xD1: (p66, [0x0F, 0xFB]),
        0x6F: (p66, [0x0F, 0xEC]), 0x70: (p66, [0x0F, 0xDC]), 0x72: (p66, [0x0F, 0xE8]), 0x73: (p66, [0x0F, 0xD8]),
        0x8F: (p66, [0x0F, 0xED]), 0x90: (p66, [0x0F, 0xDD]), 0x92: (p66, [0x0F, 0xE9]), 0x93: (p66, [0x0F, 0xD9]),
        0x95: (p66, [0x0F, 0xD5]), 0xB5: (p66, [0x0F, 0x38, 0x40]),
        // min, max (signed, unsigned), rounding average
        0x76: (p66, [0x0F, 0x38, 0x38]), 0x77: (p66, [0x0F, 0xDA]), 0x78: (p66, [0x0F, 0x38, 0x3C]), 0x79: (p66, [0x0F, 0xDE]),
        0x96: (p66, [0x0F, 0xEA]), 0x97: (p66, [0x0F, 0x38, 0x3A]), 0x98: (p66, [0x0F, 0xEE]), 0x99: (p66, [0x0F, 0x38, 0x3E]),
        0xB6: (p66, [0x0F, 0x38, 0x39]), 0xB7: (p66, [0x0F, 0x38, 0x3B]), 0xB8: (p66, [0x0F, 0x38, 0x3D]), 0xB9: (p66, [0x0F, 0x38, 0x3F]),
        0x7B: (p66, [0x0F, 0xE0]), 0x9B: (p66, [0x0F, 0xE3]),
        // narrowing (saturating), i32x4.dot_i16x8_s
        0x65: (p66, [0x0F, 0x63]), 0x66: (p66, [0x0F, 0x67]), 0x85: (p66, [0x0F, 0x6B]), 0x86: (p66, [0x0F, 0x38, 0x2B]),
        0xBA: (p66, [0x0F, 0xF5]),
        // bitwise
        0x4E: (p66, [0x0F, 0xDB]), 0x50: (p66, [0x0F, 0xEB]), 0x51: (p66, [0x0F, 0xEF]),
        // float add, sub, mul, div
        0xE4: (nil, [0x0F, 0x58]), 0xE5: (nil, [0x0F, 0x5C]), 0xE6: (nil, [0x0F, 0x59]), 0xE7: (nil, [0x0F, 0x5E]),
        0xF0: (p66, [0x0F, 0x58]), 0xF1: (p66, [0x0F, 0x5C]), 0xF2: (p66, [0x0F, 0x59]), 0xF3: (p66, [0x0F, 0x5E]),
    ]

    /// Unary lane operations that are one instruction, `d = op a` (an immediate for the roundings).
    static let simdUnary: [UInt32: (UInt8?, [UInt8], UInt8?)] = [
        0x60: (p66, [0x0F, 0x38, 0x1C], nil), 0x80: (p66, [0x0F, 0x38, 0x1D], nil), 0xA0: (p66, [0x0F, 0x38, 0x1E], nil),  // abs
        0xE3: (nil, [0x0F, 0x51], nil), 0xEF: (p66, [0x0F, 0x51], nil),  // sqrt
        // ceil, floor, trunc, nearest (roundps/roundpd, precision exceptions suppressed)
        0x67: (p66, [0x0F, 0x3A, 0x08], 2 | 8), 0x68: (p66, [0x0F, 0x3A, 0x08], 1 | 8),
        0x69: (p66, [0x0F, 0x3A, 0x08], 3 | 8), 0x6A: (p66, [0x0F, 0x3A, 0x08], 0 | 8),
        0x74: (p66, [0x0F, 0x3A, 0x09], 2 | 8), 0x75: (p66, [0x0F, 0x3A, 0x09], 1 | 8),
        0x7A: (p66, [0x0F, 0x3A, 0x09], 3 | 8), 0x94: (p66, [0x0F, 0x3A, 0x09], 0 | 8),
        // conversions: f32x4.convert_i32x4_s, f64x2.promote_low_f32x4, f32x4.demote_f64x2_zero,
        // f64x2.convert_low_i32x4_s
        0xFA: (nil, [0x0F, 0x5B], nil), 0x5F: (nil, [0x0F, 0x5A], nil), 0x5E: (p66, [0x0F, 0x5A], nil),
        0xFE: (0xF3, [0x0F, 0xE6], nil),
        // extend the low half: pmovsx/pmovzx
        0x87: (p66, [0x0F, 0x38, 0x20], nil), 0x89: (p66, [0x0F, 0x38, 0x30], nil),
        0xA7: (p66, [0x0F, 0x38, 0x23], nil), 0xA9: (p66, [0x0F, 0x38, 0x33], nil),
        0xC7: (p66, [0x0F, 0x38, 0x25], nil), 0xC9: (p66, [0x0F, 0x38, 0x35], nil),
    ]

    /// Lane shapes of the compare opcodes: the equality and signed greater-than instructions,
    /// unsigned max and min (nil: no unsigned compares).
    struct CompareShape {
        var eq: [UInt8], gt: [UInt8], maxU: [UInt8]?, minU: [UInt8]?
    }
    static let compareShapes: [CompareShape] = [
        CompareShape(eq: [0x0F, 0x74], gt: [0x0F, 0x64], maxU: [0x0F, 0xDE], minU: [0x0F, 0xDA]),
        CompareShape(eq: [0x0F, 0x75], gt: [0x0F, 0x65], maxU: [0x0F, 0x38, 0x3E], minU: [0x0F, 0x38, 0x3A]),
        CompareShape(eq: [0x0F, 0x76], gt: [0x0F, 0x66], maxU: [0x0F, 0x38, 0x3F], minU: [0x0F, 0x38, 0x3B]),
        CompareShape(eq: [0x0F, 0x38, 0x29], gt: [0x0F, 0x38, 0x37], maxU: nil, minU: nil),
    ]

    /// Free xmm registers the sequence of SIMD instruction `opcode` needs (`SIMDRegisters.temps`),
    /// with a constant shift count or not.
    static func simdTemps(_ opcode: UInt32, constantCount: Bool = false) -> Int {
        if simdBinary[opcode] != nil || simdUnary[opcode] != nil { return 0 }
        switch opcode {
        case 0x0C, 0x13, 0x14, 0x15...0x22, 0x53, 0x64, 0xA4, 0xC4, 0x7D...0x7F, 0xE0, 0xE1, 0xEC, 0xED, 0xFF,
             0x87...0x8A, 0xA7...0xAA, 0xC7...0xCA, 0x5C, 0x5D, 0x00...0x06, 0x08...0x0B, 0x54...0x5B:
            return 0
        case 0x6B...0x6D: return constantCount ? (opcode == 0x6C ? 1 : 0) : 2
        case 0x8B...0x8D, 0xAB...0xAD, 0xCB, 0xCD: return constantCount ? 0 : 1
        case 0xCC: return constantCount ? 1 : 2
        case 0xE8, 0xE9, 0xF4, 0xF5, 0x10D...0x110, 0x62, 0xD5, 0xF9, 0x102, 0x112, 0x113: return 2
        default: return 1
        }
    }

    /// Loads `bits` into `x`: zero and all-ones by idiom, others from the constant pool.
    mutating func loadConstant(_ x: XReg, _ bits: V128Bits) {
        if bits.lo == 0 && bits.hi == 0 { asm.xorps(x, x); return }
        if bits.lo == ~0 && bits.hi == ~0 { allOnes(x); return }
        asm.load128(x, .rip(constant128(bits)))
    }
    mutating func constant128(bytes: [UInt8]) -> XOperand {
        var lo: UInt64 = 0, hi: UInt64 = 0
        for k in 0..<8 { lo |= UInt64(bytes[k]) << UInt64(8 * k); hi |= UInt64(bytes[k + 8]) << UInt64(8 * k) }
        return .rip(constant128(V128Bits(lo: lo, hi: hi)))
    }
    /// A constant whose two 64-bit halves are `half`.
    mutating func splatConstant(_ half: UInt64) -> XOperand { .rip(constant128(V128Bits(lo: half, hi: half))) }
    mutating func allOnes(_ x: XReg) { asm.packed(Self.p66, [0x0F, 0x76], x, x) }  // pcmpeqd

    /// d = a (before a sequence that works on d in place).
    mutating func prepare(_ r: SIMDRegisters) {
        if r.a != .reg(r.d) { asm.load128(r.d, r.a) }
    }
    /// One SSE instruction on d with source `s`.
    mutating func op(_ prefix: UInt8?, _ bytes: [UInt8], _ d: XReg, _ s: XOperand, imm: UInt8? = nil) {
        asm.packed(prefix, bytes, d, s, imm: imm)
    }

    /// Emits SIMD instruction `opcode` (after the 0xFD prefix; not the memory ones) with
    /// immediate `lane` and, for `v128.const` and `i8x16.shuffle`, the 16 immediate bytes; nil
    /// when it is not one this layer compiles.
    mutating func simd(_ opcode: UInt32, lane: UInt8, immediate: V128Bits, _ r: SIMDRegisters) -> SIMDResult? {
        let d = r.d
        if let (prefix, bytes) = Self.simdBinary[opcode] {
            if avx, case .reg(let a) = r.a {
                asm.vpacked(prefix, bytes, d, a, r.b)
            } else {
                prepare(r)
                op(prefix, bytes, d, r.b)
            }
            return .xmm
        }
        if let (prefix, bytes, imm) = Self.simdUnary[opcode] {
            op(prefix, bytes, d, r.a, imm: imm)
            return .xmm
        }
        let t = r.temps
        switch opcode {
        // MARK: constants, shuffles, splats, lanes
        case 0x0C:  // v128.const
            loadConstant(d, immediate)
        case 0x0D:
            shuffle(immediate, r)
        case 0x0E, 0x100:  // i8x16.swizzle (relaxed too): indices of 16 or more select zero (saturating + 0x70 sets bit 7)
            asm.load128(t[0], constant128(bytes: [UInt8](repeating: 0x70, count: 16)))
            op(Self.p66, [0x0F, 0xDC], t[0], r.b)
            prepare(r)
            op(Self.p66, [0x0F, 0x38, 0x00], d, .reg(t[0]))
        case 0x0F...0x12:  // i8x16/i16x8/i32x4/i64x2.splat
            asm.movToX(opcode == 0x12 ? .w64 : .w32, d, r.g)
            splat(d, bytes: 1 << Int(opcode - 0x0F), zero: t.first)
        case 0x13:  // f32x4.splat
            op(Self.p66, [0x0F, 0x70], d, r.a, imm: 0)
        case 0x14:  // f64x2.splat
            op(Self.p66, [0x0F, 0x70], d, r.a, imm: 0x44)
        case 0x15, 0x16, 0x18, 0x19, 0x1B, 0x1D:  // extract_lane of i8x16 (s, u), i16x8 (s, u), i32x4, i64x2
            guard case .reg(let a) = r.a else { preconditionFailure("lane extract from memory") }
            switch opcode {
            case 0x15, 0x16: asm.lane([0x0F, 0x3A, 0x14], a, r.gd, imm: lane)
            case 0x18, 0x19: asm.lane([0x0F, 0x3A, 0x15], a, r.gd, imm: lane)
            case 0x1B: asm.lane([0x0F, 0x3A, 0x16], a, r.gd, imm: lane)
            default: asm.lane([0x0F, 0x3A, 0x16], a, r.gd, wide: true, imm: lane)
            }
            if opcode == 0x15 { asm.movsx8(.w32, r.gd, r.gd) }
            if opcode == 0x18 { asm.movsx16(.w32, r.gd, r.gd) }
            return .gpr
        case 0x17, 0x1A, 0x1C, 0x1E:  // replace_lane of i8x16, i16x8, i32x4, i64x2
            prepare(r)
            switch opcode {
            case 0x17: asm.lane([0x0F, 0x3A, 0x20], d, r.g, imm: lane)
            case 0x1A: asm.lane([0x0F, 0xC4], d, r.g, imm: lane)
            case 0x1C: asm.lane([0x0F, 0x3A, 0x22], d, r.g, imm: lane)
            default: asm.lane([0x0F, 0x3A, 0x22], d, r.g, wide: true, imm: lane)
            }
        case 0x1F:  // f32x4.extract_lane: the lane moved to the bottom
            op(Self.p66, [0x0F, 0x70], d, r.a, imm: lane)
        case 0x21:  // f64x2.extract_lane
            op(Self.p66, [0x0F, 0x70], d, r.a, imm: lane == 0 ? 0x44 : 0xEE)
        case 0x20:  // f32x4.replace_lane: insertps
            prepare(r)
            op(Self.p66, [0x0F, 0x3A, 0x21], d, r.b, imm: lane << 4)
        case 0x22:  // f64x2.replace_lane: movsd (low) or unpcklpd (high)
            prepare(r)
            guard case .reg(let b) = r.b else { preconditionFailure("a float lane from memory") }
            if lane == 0 { asm.packed(0xF2, [0x0F, 0x10], d, b) } else { asm.packed(Self.p66, [0x0F, 0x14], d, b) }

        // MARK: compares
        case 0x23...0x40, 0xD6...0xDB:
            integerCompare(opcode, r)
        case 0x41...0x4C:  // f32x4, f64x2: eq ne lt gt le ge
            let k = (opcode - 0x41) % 6
            let prefix: UInt8? = opcode >= 0x47 ? Self.p66 : nil
            let predicates: [UInt8] = [0, 4, 1, 1, 2, 2]
            if k == 3 || k == 5 {  // gt, ge: lt, le with the operands swapped
                asm.load128(t[0], r.b)
                op(prefix, [0x0F, 0xC2], t[0], r.a, imm: predicates[Int(k)])
                asm.movaps(d, t[0])
            } else if avx, case .reg(let a) = r.a {
                asm.vpacked(prefix, [0x0F, 0xC2], d, a, r.b, imm: predicates[Int(k)])
            } else {
                prepare(r)
                op(prefix, [0x0F, 0xC2], d, r.b, imm: predicates[Int(k)])
            }

        // MARK: bitwise, tests
        case 0x4D:  // v128.not
            prepare(r)
            allOnes(t[0])
            asm.packed(Self.p66, [0x0F, 0xEF], d, t[0])
        case 0x4F:  // v128.andnot: a & ~b (pandn computes ~dst & src)
            if avx, case .reg(let b) = r.b {
                asm.vpacked(Self.p66, [0x0F, 0xDF], d, b, r.a)
            } else {
                asm.load128(t[0], r.b)
                op(Self.p66, [0x0F, 0xDF], t[0], r.a)
                asm.movaps(d, t[0])
            }
        case 0x52, 0x109...0x10C:  // v128.bitselect (and relaxed_laneselect): (a & c) | (b & ~c)
            asm.load128(t[0], r.c)
            op(Self.p66, [0x0F, 0xDF], t[0], r.b)
            prepare(r)
            op(Self.p66, [0x0F, 0xDB], d, r.c)
            asm.packed(Self.p66, [0x0F, 0xEB], d, t[0])
        case 0x53:  // v128.any_true
            guard case .reg(let a) = r.a else { preconditionFailure("ptest of memory") }
            asm.packed(Self.p66, [0x0F, 0x38, 0x17], a, a)
            return .flags(.ne)
        case 0x63, 0x83, 0xA3, 0xC3:  // all_true: no lane equals zero
            let eq: [UInt32: [UInt8]] = [0x63: [0x0F, 0x74], 0x83: [0x0F, 0x75], 0xA3: [0x0F, 0x76], 0xC3: [0x0F, 0x38, 0x29]]
            asm.xorps(t[0], t[0])
            op(Self.p66, eq[opcode]!, t[0], r.a)
            asm.packed(Self.p66, [0x0F, 0x38, 0x17], t[0], t[0])
            return .flags(.e)
        case 0x64, 0xA4, 0xC4:  // bitmask
            guard case .reg(let a) = r.a else { preconditionFailure("bitmask of memory") }
            switch opcode {
            case 0x64: asm.packedToGPR(Self.p66, [0x0F, 0xD7], r.gd, a)
            case 0xA4: asm.packedToGPR(nil, [0x0F, 0x50], r.gd, a)
            default: asm.packedToGPR(Self.p66, [0x0F, 0x50], r.gd, a)
            }
            return .gpr
        case 0x84:  // i16x8.bitmask: the lanes' signs as bytes (packsswb), then pmovmskb
            asm.load128(t[0], r.a)
            asm.packed(Self.p66, [0x0F, 0x63], t[0], t[0])
            asm.packedToGPR(Self.p66, [0x0F, 0xD7], r.gd, t[0])
            asm.movzx8(r.gd, r.gd)
            return .gpr

        // MARK: integer arithmetic
        case 0x61, 0x81, 0xA1, 0xC1:  // neg: 0 - a
            let sub: [UInt32: UInt8] = [0x61: 0xF8, 0x81: 0xF9, 0xA1: 0xFA, 0xC1: 0xFB]
            asm.xorps(t[0], t[0])
            op(Self.p66, [0x0F, sub[opcode]!], t[0], r.a)
            asm.movaps(d, t[0])
        case 0x88, 0x8A, 0xA8, 0xAA, 0xC8, 0xCA:  // extend the high half: moved down, then as the low
            let ops: [UInt32: UInt8] = [0x88: 0x20, 0x8A: 0x30, 0xA8: 0x23, 0xAA: 0x33, 0xC8: 0x25, 0xCA: 0x35]
            op(Self.p66, [0x0F, 0x70], d, r.a, imm: 0xEE)
            asm.packed(Self.p66, [0x0F, 0x38, ops[opcode]!], d, d)
        case 0x8B...0x8D, 0xAB...0xAD, 0xCB, 0xCD:  // shifts (not i8x16, not i64x2.shr_s)
            shift(opcode, r)
        case 0xFB:  // f32x4.convert_i32x4_u: high and low 16 bits converted apart, then hi * 65536 + lo
            asm.load128(t[0], r.a)
            asm.packedShift(0x72, 6, t[0], imm: 16)  // pslld
            asm.packedShift(0x72, 2, t[0], imm: 16)  // psrld
            prepare(r)
            asm.packedShift(0x72, 2, d, imm: 16)
            asm.packed(nil, [0x0F, 0x5B], t[0], t[0])
            asm.packed(nil, [0x0F, 0x5B], d, d)
            op(nil, [0x0F, 0x59], d, splatConstant(0x4780_0000_4780_0000))  // 65536.0
            asm.packed(nil, [0x0F, 0x58], d, t[0])

        // MARK: float
        case 0xE0, 0xEC:  // abs: the sign bit cleared
            prepare(r)
            op(nil, [0x0F, 0x54], d, splatConstant(opcode == 0xE0 ? 0x7FFF_FFFF_7FFF_FFFF : 0x7FFF_FFFF_FFFF_FFFF))
        case 0xE1, 0xED:  // neg: the sign bit flipped
            prepare(r)
            op(nil, [0x0F, 0x57], d, splatConstant(opcode == 0xE1 ? 0x8000_0000_8000_0000 : 0x8000_0000_0000_0000))
        case 0xEA, 0xEB, 0xF6, 0xF7:  // pmin: b < a ? b : a; pmax: a < b ? b : a (minps/maxps of b, a)
            let prefix: UInt8? = opcode >= 0xF6 ? Self.p66 : nil
            let bytes: [UInt8] = [0x0F, opcode == 0xEA || opcode == 0xF6 ? 0x5D : 0x5F]
            if avx, case .reg(let b) = r.b {
                asm.vpacked(prefix, bytes, d, b, r.a)
            } else {
                asm.load128(t[0], r.b)
                op(prefix, bytes, t[0], r.a)
                asm.movaps(d, t[0])
            }
        case 0xE8, 0xE9, 0xF4, 0xF5, 0x10D...0x110:  // min, max (relaxed ones as these)
            let k = opcode >= 0x10D ? [0xE8, 0xE9, 0xF4, 0xF5][Int(opcode - 0x10D)] : opcode
            floatMinMax(double: k >= 0xF4, max: k == 0xE9 || k == 0xF5, r)
        case 0x62:  // i8x16.popcnt: per nibble from a 16-byte table (pshufb)
            let nibbles = constant128(bytes: [UInt8](repeating: 0x0F, count: 16))
            let table = constant128(bytes: [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4])
            asm.load128(t[1], r.a)
            asm.packedShift(0x71, 2, t[1], imm: 4)  // psrlw: the high nibbles
            op(Self.p66, [0x0F, 0xDB], t[1], nibbles)
            prepare(r)
            op(Self.p66, [0x0F, 0xDB], d, nibbles)
            asm.load128(t[0], table)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], t[0], d)
            asm.load128(d, table)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], d, t[1])
            asm.packed(Self.p66, [0x0F, 0xFC], d, t[0])
        case 0x6B...0x6D:  // i8x16 shifts
            byteShift(opcode, r)
        case 0xCC:  // i64x2.shr_s: (a ^ s) >>> n ^ s, s = the lanes' signs
            asm.xorps(t[0], t[0])
            op(Self.p66, [0x0F, 0x38, 0x37], t[0], r.a)  // pcmpgtq: 0 > a
            prepare(r)
            asm.packed(Self.p66, [0x0F, 0xEF], d, t[0])
            if let n = r.constantG {
                asm.packedShift(0x73, 2, d, imm: UInt8(n & 63))
            } else {
                asm.mov(.w32, Self.simdScratch, r.g)
                asm.alu(.and, .w32, Self.simdScratch, imm: 63)
                asm.movToX(.w32, t[1], Self.simdScratch)
                asm.packed(Self.p66, [0x0F, 0xD3], d, t[1])  // psrlq
            }
            asm.packed(Self.p66, [0x0F, 0xEF], d, t[0])
        case 0xC0:  // i64x2.abs: (a ^ s) - s
            asm.xorps(t[0], t[0])
            op(Self.p66, [0x0F, 0x38, 0x37], t[0], r.a)
            prepare(r)
            asm.packed(Self.p66, [0x0F, 0xEF], d, t[0])
            asm.packed(Self.p66, [0x0F, 0xFB], d, t[0])
        case 0xD5:  // i64x2.mul: lo*lo + ((hi_a*lo_b + lo_a*hi_b) << 32), from 32x32 -> 64 products
            asm.load128(t[0], r.a)
            asm.packedShift(0x73, 2, t[0], imm: 32)
            op(Self.p66, [0x0F, 0xF4], t[0], r.b)  // pmuludq
            asm.load128(t[1], r.b)
            asm.packedShift(0x73, 2, t[1], imm: 32)
            op(Self.p66, [0x0F, 0xF4], t[1], r.a)
            asm.packed(Self.p66, [0x0F, 0xD4], t[0], t[1])
            asm.packedShift(0x73, 6, t[0], imm: 32)
            prepare(r)
            op(Self.p66, [0x0F, 0xF4], d, r.b)
            asm.packed(Self.p66, [0x0F, 0xD4], d, t[0])
        case 0x9C...0x9F, 0xBC...0xBF:  // i16x8 / i32x4 extending multiplies: extend both, multiply
            let group = opcode >= 0xBC
            let k = (opcode - (group ? 0xBC : 0x9C))  // low_s, high_s, low_u, high_u
            let extend: [UInt8] = [0x0F, 0x38, group ? (k >= 2 ? 0x33 : 0x23) : (k >= 2 ? 0x30 : 0x20)]
            if k % 2 == 1 {
                op(Self.p66, [0x0F, 0x70], t[0], r.b, imm: 0xEE)
                asm.packed(Self.p66, extend, t[0], t[0])
                op(Self.p66, [0x0F, 0x70], d, r.a, imm: 0xEE)
                asm.packed(Self.p66, extend, d, d)
            } else {
                extendLow(extend, t[0], r.b)
                extendLow(extend, d, r.a)
            }
            asm.packed(Self.p66, group ? [0x0F, 0x38, 0x40] : [0x0F, 0xD5], d, t[0])
        case 0xDC...0xDF:  // i64x2 extending multiplies: the lanes to even positions, pmuldq / pmuludq
            let k = opcode - 0xDC
            let spread: UInt8 = k % 2 == 0 ? 0x50 : 0xFA
            op(Self.p66, [0x0F, 0x70], t[0], r.b, imm: spread)
            op(Self.p66, [0x0F, 0x70], d, r.a, imm: spread)
            asm.packed(Self.p66, k >= 2 ? [0x0F, 0xF4] : [0x0F, 0x38, 0x28], d, t[0])
        case 0x7C:  // i16x8.extadd_pairwise_i8x16_s: pmaddubsw(ones as unsigned, a as signed)
            asm.load128(t[0], constant128(bytes: [UInt8](repeating: 1, count: 16)))
            op(Self.p66, [0x0F, 0x38, 0x04], t[0], r.a)
            asm.movaps(d, t[0])
        case 0x7D:  // unsigned: pmaddubsw(a as unsigned, ones)
            prepare(r)
            op(Self.p66, [0x0F, 0x38, 0x04], d, constant128(bytes: [UInt8](repeating: 1, count: 16)))
        case 0x7E:  // i32x4 from i16x8 signed: pmaddwd with ones
            prepare(r)
            op(Self.p66, [0x0F, 0xF5], d, splatConstant(0x0001_0001_0001_0001))
        case 0x7F:  // unsigned: biased to signed, pmaddwd, the bias added back
            prepare(r)
            op(Self.p66, [0x0F, 0xEF], d, splatConstant(0x8000_8000_8000_8000))
            op(Self.p66, [0x0F, 0xF5], d, splatConstant(0x0001_0001_0001_0001))
            op(Self.p66, [0x0F, 0xFE], d, splatConstant(0x0001_0000_0001_0000))
        case 0x82, 0x111:  // i16x8.q15mulr_sat_s (and the relaxed one): pmulhrsw; 0x8000 (overflow) -> 0x7FFF
            prepare(r)
            op(Self.p66, [0x0F, 0x38, 0x0B], d, r.b)
            asm.load128(t[0], splatConstant(0x8000_8000_8000_8000))
            asm.packed(Self.p66, [0x0F, 0x75], t[0], d)
            asm.packed(Self.p66, [0x0F, 0xEF], d, t[0])
        case 0xF8, 0x101:  // i32x4.trunc_sat_f32x4_s: NaN -> 0, positive overflow -> 0x7FFFFFFF
            asm.load128(t[0], r.a)
            asm.packed(nil, [0x0F, 0xC2], t[0], t[0], imm: 0)  // cmpeqps: not NaN
            prepare(r)
            asm.andps(d, t[0])
            asm.packed(Self.p66, [0x0F, 0xEF], t[0], d)
            asm.packed(0xF3, [0x0F, 0x5B], d, d)  // cvttps2dq
            asm.packed(Self.p66, [0x0F, 0xDB], t[0], d)
            asm.packedShift(0x72, 4, t[0], imm: 31)  // psrad
            asm.packed(Self.p66, [0x0F, 0xEF], d, t[0])
        case 0xF9, 0x102:  // i32x4.trunc_sat_f32x4_u
            prepare(r)
            asm.xorps(t[1], t[1])
            asm.packed(nil, [0x0F, 0x5F], d, t[1])  // maxps: negatives and NaN -> 0
            asm.load128(t[1], splatConstant(0x4F00_0000_4F00_0000))  // 2^31
            asm.movaps(t[0], d)
            asm.packed(nil, [0x0F, 0x5C], t[0], t[1])  // a - 2^31
            asm.packed(nil, [0x0F, 0xC2], t[1], t[0], imm: 2)  // 2^31 <= a - 2^31: overflow
            asm.packed(0xF3, [0x0F, 0x5B], t[0], t[0])
            asm.packed(Self.p66, [0x0F, 0xEF], t[0], t[1])
            asm.xorps(t[1], t[1])
            asm.packed(Self.p66, [0x0F, 0x38, 0x3D], t[0], t[1])  // pmaxsd: below 2^31 -> 0
            asm.packed(0xF3, [0x0F, 0x5B], d, d)
            asm.packed(Self.p66, [0x0F, 0xFE], d, t[0])
        case 0xFC, 0x103:  // i32x4.trunc_sat_f64x2_s_zero
            asm.load128(t[0], r.a)
            op(Self.p66, [0x0F, 0xC2], t[0], r.a, imm: 0)  // cmpeqpd: not NaN
            op(nil, [0x0F, 0x54], t[0], splatConstant(0x41DF_FFFF_FFC0_0000))  // 2147483647.0
            prepare(r)
            asm.packed(Self.p66, [0x0F, 0x5D], d, t[0])  // minpd: NaN -> 0, large -> 2^31 - 1
            asm.packed(Self.p66, [0x0F, 0xE6], d, d)  // cvttpd2dq
        case 0xFD, 0x104:  // i32x4.trunc_sat_f64x2_u_zero: clamped, truncated, its bits from + 2^52
            prepare(r)
            asm.xorps(t[0], t[0])
            asm.packed(Self.p66, [0x0F, 0x5F], d, t[0])  // maxpd
            op(Self.p66, [0x0F, 0x5D], d, splatConstant(0x41EF_FFFF_FFE0_0000))  // 4294967295.0
            asm.packed(Self.p66, [0x0F, 0x3A, 0x09], d, d, imm: 3 | 8)
            op(Self.p66, [0x0F, 0x58], d, splatConstant(0x4330_0000_0000_0000))  // 2^52
            asm.packed(nil, [0x0F, 0xC6], d, t[0], imm: 0x88)  // shufps: the low words, then zeros
        case 0xFF:  // f64x2.convert_low_i32x4_u: 2^52 + u as doubles, minus 2^52
            prepare(r)
            op(nil, [0x0F, 0x14], d, splatConstant(0x4330_0000_4330_0000))  // unpcklps
            op(Self.p66, [0x0F, 0x5C], d, splatConstant(0x4330_0000_0000_0000))
        case 0x105...0x108:  // relaxed madd / nmadd: a * b + c, c - a * b (two roundings, the
            // interpreter's operations in its order, so NaNs come out the same)
            let prefix: UInt8? = opcode >= 0x107 ? Self.p66 : nil
            if opcode == 0x105 || opcode == 0x107 {
                prepare(r)
                op(prefix, [0x0F, 0x59], d, r.b)
                op(prefix, [0x0F, 0x58], d, r.c)
            } else {
                asm.load128(t[0], r.a)
                op(prefix, [0x0F, 0x59], t[0], r.b)
                asm.load128(d, r.c)
                asm.packed(prefix, [0x0F, 0x5C], d, t[0])
            }
        case 0x112:  // i16x8.relaxed_dot_i8x16_i7x16_s: signed products of byte pairs, added (wrapping)
            signedBytePairProducts(r)
            asm.packed(Self.p66, [0x0F, 0x38, 0x01], d, t[0])  // phaddw
        case 0x113:  // i32x4.relaxed_dot_i8x16_i7x16_add_s: four products per lane, plus c
            signedBytePairProducts(r)
            let ones = splatConstant(0x0001_0001_0001_0001)
            op(Self.p66, [0x0F, 0xF5], d, ones)  // pmaddwd: pairs to dwords
            op(Self.p66, [0x0F, 0xF5], t[0], ones)
            asm.packed(Self.p66, [0x0F, 0x38, 0x02], d, t[0])  // phaddd
            op(Self.p66, [0x0F, 0xFE], d, r.c)
        default:
            return nil
        }
        return .xmm
    }

    /// d = the bytes of `a` where `mask`'s are set, of `b` elsewhere (vpblendvb, AVX): a
    /// bitselect whose mask has every lane all ones or all zeros (a compare's result).
    mutating func blend(_ d: XReg, mask: XReg, ifSet a: XOperand, otherwise b: XReg) {
        asm.vpacked(Self.p66, [0x0F, 0x3A, 0x4C], d, b, a, imm: mask.code << 4)
    }
    /// Whether SIMD instruction `opcode` gives every lane all ones or all zeros (compares).
    static func givesLaneMasks(_ opcode: UInt64) -> Bool { (0x23...0x4C).contains(opcode) || (0xD6...0xDB).contains(opcode) }

    /// pmovsx/pmovzx of the low half of `s` into `x` (a memory source is read 8 bytes wide).
    mutating func extendLow(_ extend: [UInt8], _ x: XReg, _ s: XOperand) {
        if case .rip = s { asm.load128(x, s); asm.packed(Self.p66, extend, x, x) } else { op(Self.p66, extend, x, s) }
    }

    /// i8x16.shuffle: a single-source dword pattern is one pshufd, two sources in dword halves
    /// one shufps; otherwise each operand's bytes are picked by pshufb (0x80 zeroes) and or-ed.
    mutating func shuffle(_ immediate: V128Bits, _ r: SIMDRegisters) {
        let d = r.d
        var index: [UInt8] = []
        for k in 0..<16 { index.append(UInt8(truncatingIfNeeded: (k < 8 ? immediate.lo : immediate.hi) >> UInt64(8 * (k % 8)))) }
        // Dword lanes: each group of 4 bytes a whole aligned dword of one operand.
        var dwords: [UInt8]? = []
        for k in 0..<4 {
            let first = index[4 * k]
            if first % 4 != 0 || (1..<4).contains(where: { index[4 * k + $0] != first + UInt8($0) }) { dwords = nil; break }
            dwords!.append(first / 4)
        }
        if let w = dwords {
            let imm = { (lanes: [UInt8]) -> UInt8 in lanes.enumerated().reduce(0) { $0 | ($1.element & 3) << (2 * UInt8($1.offset)) } }
            if w.allSatisfy({ $0 < 4 }) { op(Self.p66, [0x0F, 0x70], d, r.a, imm: imm(w)); return }
            if w.allSatisfy({ $0 >= 4 }) { op(Self.p66, [0x0F, 0x70], d, r.b, imm: imm(w)); return }
            if w[0] < 4, w[1] < 4, w[2] >= 4, w[3] >= 4 {  // shufps: the low two from a, the high two from b
                prepare(r)
                op(nil, [0x0F, 0xC6], d, r.b, imm: imm(w))
                return
            }
        }
        let maskA = index.map { $0 < 16 ? $0 : 0x80 }, maskB = index.map { $0 >= 16 ? $0 - 16 : 0x80 }
        let usesB = index.contains { $0 >= 16 }, usesA = index.contains { $0 < 16 }
        if !usesB || !usesA {
            asm.load128(d, usesA ? r.a : r.b)
            op(Self.p66, [0x0F, 0x38, 0x00], d, constant128(bytes: usesA ? maskA : maskB))
            return
        }
        let t = r.temps[0]
        asm.load128(t, r.b)
        op(Self.p66, [0x0F, 0x38, 0x00], t, constant128(bytes: maskB))
        prepare(r)
        op(Self.p66, [0x0F, 0x38, 0x00], d, constant128(bytes: maskA))
        asm.packed(Self.p66, [0x0F, 0xEB], d, t)
    }

    /// The signed 16-bit products of the bytes of a and b: bytes 0-7 in d, 8-15 in temps[0].
    mutating func signedBytePairProducts(_ r: SIMDRegisters) {
        let d = r.d, t = r.temps
        let sx: [UInt8] = [0x0F, 0x38, 0x20]
        op(Self.p66, [0x0F, 0x70], t[0], r.a, imm: 0xEE)
        asm.packed(Self.p66, sx, t[0], t[0])
        extendLow(sx, d, r.a)
        extendLow(sx, t[1], r.b)
        asm.packed(Self.p66, [0x0F, 0xD5], d, t[1])
        op(Self.p66, [0x0F, 0x70], t[1], r.b, imm: 0xEE)
        asm.packed(Self.p66, sx, t[1], t[1])
        asm.packed(Self.p66, [0x0F, 0xD5], t[0], t[1])
    }

    /// Wasm's float min and max: a NaN in either operand gives a NaN (a + b's, as the
    /// interpreter computes it), and -0 is below +0. minps/maxps of both operand orders, or-ed
    /// (min) or and-ed (max), settle the zeros; the NaN lanes then take a + b.
    mutating func floatMinMax(double: Bool, max: Bool, _ r: SIMDRegisters) {
        let prefix: UInt8? = double ? Self.p66 : nil
        let opcode: [UInt8] = [0x0F, max ? 0x5F : 0x5D]
        let d = r.d, t = r.temps
        asm.load128(t[0], r.a)
        op(prefix, opcode, t[0], r.b)
        asm.load128(t[1], r.b)
        op(prefix, opcode, t[1], r.a)
        if max { asm.andps(t[0], t[1]) } else { asm.orps(t[0], t[1]) }
        asm.load128(t[1], r.a)
        op(prefix, [0x0F, 0xC2], t[1], r.b, imm: 3)  // cmpunord: the NaN lanes
        prepare(r)
        op(prefix, [0x0F, 0x58], d, r.b)
        asm.andps(d, t[1])
        asm.andnps(t[1], t[0])
        asm.orps(d, t[1])
    }

    /// i8x16 shifts by a count modulo 8: left and logical right as word shifts with the bits
    /// that crossed into the neighbouring byte masked off; arithmetic right on the bytes
    /// unpacked into the high halves of words, shifted by 8 more, packed back.
    mutating func byteShift(_ opcode: UInt32, _ r: SIMDRegisters) {
        let d = r.d, t = r.temps
        if let n = r.constantG.map({ UInt8($0 & 7) }) {
            switch opcode {
            case 0x6B, 0x6D:
                prepare(r)
                let left = opcode == 0x6B
                asm.packedShift(0x71, left ? 6 : 2, d, imm: n)
                let byte: UInt8 = left ? 0xFF << n : 0xFF >> n
                op(Self.p66, [0x0F, 0xDB], d, constant128(bytes: [UInt8](repeating: byte, count: 16)))
            default:
                asm.load128(t[0], r.a)
                asm.packed(Self.p66, [0x0F, 0x68], t[0], t[0])  // punpckhbw: each byte in both halves
                prepare(r)
                asm.packed(Self.p66, [0x0F, 0x60], d, d)  // punpcklbw
                asm.packedShift(0x71, 4, d, imm: n + 8)  // psraw
                asm.packedShift(0x71, 4, t[0], imm: n + 8)
                asm.packed(Self.p66, [0x0F, 0x63], d, t[0])  // packsswb
            }
            return
        }
        let s = Self.simdScratch
        asm.mov(.w32, s, r.g)
        asm.alu(.and, .w32, s, imm: 7)
        switch opcode {
        case 0x6B, 0x6D:
            asm.movToX(.w32, t[0], s)
            let left = opcode == 0x6B
            prepare(r)
            asm.packed(Self.p66, [0x0F, left ? 0xF1 : 0xD1], d, t[0])  // psllw / psrlw
            allOnes(t[1])
            asm.packed(Self.p66, [0x0F, left ? 0xF1 : 0xD1], t[1], t[0])
            if !left { asm.packedShift(0x71, 2, t[1], imm: 8) }  // the mask in the low byte
            asm.xorps(t[0], t[0])
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], t[1], t[0])  // to every byte
            asm.packed(Self.p66, [0x0F, 0xDB], d, t[1])
        default:
            asm.alu(.add, .w32, s, imm: 8)
            asm.movToX(.w32, t[1], s)
            asm.load128(t[0], r.a)
            asm.packed(Self.p66, [0x0F, 0x68], t[0], t[0])
            prepare(r)
            asm.packed(Self.p66, [0x0F, 0x60], d, d)
            asm.packed(Self.p66, [0x0F, 0xE1], d, t[1])  // psraw
            asm.packed(Self.p66, [0x0F, 0xE1], t[0], t[1])
            asm.packed(Self.p66, [0x0F, 0x63], d, t[0])
        }
    }

    /// Copies the low lane of `x` (of `bytes` bytes) to every lane (`zero`: a free register for
    /// the byte form).
    mutating func splat(_ x: XReg, bytes: Int, zero: XReg?) {
        switch bytes {
        case 1:
            asm.xorps(zero!, zero!)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], x, zero!)  // pshufb with zeros: byte 0 everywhere
        case 2:
            asm.packed(0xF2, [0x0F, 0x70], x, x, imm: 0)  // pshuflw
            asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0)
        case 4: asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0)
        default: asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0x44)
        }
    }

    /// Integer lane compares: eq and signed gt are instructions; the others are their negation
    /// or swap, and unsigned ones compare with the unsigned max (or min) of the operands.
    mutating func integerCompare(_ opcode: UInt32, _ r: SIMDRegisters) {
        let shape: CompareShape, k: UInt32
        if opcode >= 0xD6 {
            shape = Self.compareShapes[3]
            k = [0, 1, 2, 4, 6, 8][Int(opcode - 0xD6)]  // eq ne lt_s gt_s le_s ge_s
        } else {
            shape = Self.compareShapes[Int((opcode - 0x23) / 10)]
            k = (opcode - 0x23) % 10  // eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u
        }
        let d = r.d, t = r.temps[0]
        switch k {
        case 0, 1, 4, 6:  // eq, ne, gt_s, le_s: a op b (ne, le_s negated)
            if avx, case .reg(let a) = r.a {
                asm.vpacked(Self.p66, k < 2 ? shape.eq : shape.gt, d, a, r.b)
            } else {
                prepare(r)
                op(Self.p66, k < 2 ? shape.eq : shape.gt, d, r.b)
            }
            if k == 1 || k == 6 {
                allOnes(t)
                asm.packed(Self.p66, [0x0F, 0xEF], d, t)
            }
        case 2, 8:  // lt_s: b > a; ge_s: not (b > a)
            asm.load128(t, r.b)
            op(Self.p66, shape.gt, t, r.a)
            if k == 2 { asm.movaps(d, t) } else {
                allOnes(d)
                asm.packed(Self.p66, [0x0F, 0xEF], d, t)
            }
        default:
            // Unsigned: a >= b when max(a, b) == a; a <= b when min(a, b) == a.
            let geq = k == 9 || k == 3  // ge_u, and lt_u as its negation
            asm.load128(t, r.a)
            op(Self.p66, geq ? shape.maxU! : shape.minU!, t, r.b)
            prepare(r)
            asm.packed(Self.p66, shape.eq, d, t)
            if k == 3 || k == 5 {
                allOnes(t)
                asm.packed(Self.p66, [0x0F, 0xEF], d, t)
            }
        }
    }

    /// i16x8, i32x4, i64x2 shifts by a scalar count taken modulo the lane width.
    mutating func shift(_ opcode: UInt32, _ r: SIMDRegisters) {
        let group = (opcode - 0x8B) / 0x20  // 0: i16x8, 1: i32x4, 2: i64x2
        let kind = (opcode - 0x8B) % 0x20   // 0 shl, 1 shr_s, 2 shr_u
        let bits = UInt64(16) << UInt64(group)
        // (immediate form opcode, its reg field; register form opcode)
        let forms: [[(UInt8, UInt8, UInt8)]] = [
            [(0x71, 6, 0xF1), (0x71, 4, 0xE1), (0x71, 2, 0xD1)],
            [(0x72, 6, 0xF2), (0x72, 4, 0xE2), (0x72, 2, 0xD2)],
            [(0x73, 6, 0xF3), (0x73, 4, 0xE2), (0x73, 2, 0xD3)],
        ]
        let (immOp, field, regOp) = forms[Int(group)][Int(kind)]
        if let n = r.constantG {
            let count = UInt8(n & (bits - 1))
            if avx, case .reg(let a) = r.a {
                // VEX: the destination in vvvv, the source in r/m (no copy first).
                asm.vpacked(Self.p66, [0x0F, immOp], XReg(field), r.d, .reg(a), imm: count)
            } else {
                prepare(r)
                asm.packedShift(immOp, field, r.d, imm: count)
            }
            return
        }
        prepare(r)
        let s = Self.simdScratch
        asm.mov(.w32, s, r.g)
        asm.alu(.and, .w32, s, imm: Int32(bits - 1))
        asm.movToX(.w32, r.temps[0], s)
        asm.packed(Self.p66, [0x0F, regOp], r.d, r.temps[0])
    }

    // MARK: memory

    /// A v128 load of some form (`opcode` 0x00-0x0A, 0x5C, 0x5D) from `m` into `x` (`zero`: a
    /// free register for the byte splat). The caller records the trap site first.
    mutating func simdLoad(_ opcode: UInt32, _ x: XReg, _ m: Mem, zero: XReg?) {
        switch opcode {
        case 0x00: asm.movdqu(x, m)
        case 0x01...0x06:  // v128.load8x8_s/u, 16x4_s/u, 32x2_s/u: pmovsx/pmovzx from 8 bytes
            let ops: [UInt8] = [0x20, 0x30, 0x23, 0x33, 0x25, 0x35]
            asm.packed(Self.p66, [0x0F, 0x38, ops[Int(opcode - 1)]], x, m)
        case 0x07: asm.lane([0x0F, 0x3A, 0x20], x, m, imm: 0); splat(x, bytes: 1, zero: zero)
        case 0x08: asm.lane([0x0F, 0xC4], x, m, imm: 0); splat(x, bytes: 2, zero: nil)
        case 0x09:
            if avx {
                asm.vpacked(Self.p66, [0x0F, 0x38, 0x18], x, XReg(0), .mem(m))  // vbroadcastss
            } else {
                asm.movd(x, m)
                splat(x, bytes: 4, zero: nil)
            }
        case 0x0A: asm.packed(0xF2, [0x0F, 0x12], x, m)  // movddup
        case 0x5C: asm.movd(x, m)  // v128.load32_zero
        default: asm.movq(x, m)  // v128.load64_zero
        }
    }
    /// v128.load8/16/32/64_lane (`opcode` 0x54-0x57) into `x`, which holds the vector.
    mutating func simdLoadLane(_ opcode: UInt32, _ x: XReg, _ m: Mem, lane: UInt8) {
        switch opcode {
        case 0x54: asm.lane([0x0F, 0x3A, 0x20], x, m, imm: lane)
        case 0x55: asm.lane([0x0F, 0xC4], x, m, imm: lane)
        case 0x56: asm.lane([0x0F, 0x3A, 0x22], x, m, imm: lane)
        default: asm.lane([0x0F, 0x3A, 0x22], x, m, wide: true, imm: lane)
        }
    }
    /// v128.store (0x0B) and v128.store8/16/32/64_lane (0x58-0x5B) of `x` to `m`.
    mutating func simdStore(_ opcode: UInt32, _ x: XReg, _ m: Mem, lane: UInt8) {
        if opcode == 0x0B { asm.movdqu(m, x); return }
        let ops: [UInt8] = [0x14, 0x15, 0x16, 0x16]
        asm.lane([0x0F, 0x3A, ops[Int(opcode - 0x58)]], x, m, wide: opcode == 0x5B, imm: lane)
    }
}
