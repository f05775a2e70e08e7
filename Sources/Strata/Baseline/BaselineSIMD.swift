/// SIMD (v128) in the baseline tier: v128 values live in xmm registers on the abstract value
/// stack and in their 16-byte slots (locals, spills, call slots); each instruction is one SSE2 to
/// SSE4.1 sequence (the compiled tiers require SSE4.1). Semantics are the interpreter's: lane
/// operations whose x86 form differs from Wasm's (shift counts, unsigned compares, NaN-aware
/// min/max, shuffles) get sequences that give Wasm's results. Instructions not listed here
/// leave the function to the interpreter (tier-log reason).
extension BaselineCompiler {
    static let p66: UInt8 = 0x66

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

    /// Unary lane operations that are one instruction, `a = op a`.
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
    /// unsigned max and min (nil: no unsigned compares), float compare prefix (nil: integer).
    struct CompareShape {
        var eq: [UInt8], gt: [UInt8], maxU: [UInt8]?, minU: [UInt8]?
    }
    static let compareShapes: [CompareShape] = [
        CompareShape(eq: [0x0F, 0x74], gt: [0x0F, 0x64], maxU: [0x0F, 0xDE], minU: [0x0F, 0xDA]),
        CompareShape(eq: [0x0F, 0x75], gt: [0x0F, 0x65], maxU: [0x0F, 0x38, 0x3E], minU: [0x0F, 0x38, 0x3A]),
        CompareShape(eq: [0x0F, 0x76], gt: [0x0F, 0x66], maxU: [0x0F, 0x38, 0x3F], minU: [0x0F, 0x38, 0x3B]),
        CompareShape(eq: [0x0F, 0x38, 0x29], gt: [0x0F, 0x38, 0x37], maxU: nil, minU: nil),
    ]

    /// Compiles SIMD instruction `opcode` (after the 0xFD prefix); false when this tier does not
    /// compile it (the function stays in the interpreter).
    mutating func simd(_ opcode: UInt32, memOffset: UInt64, lane: UInt8, memory: UInt32, offset: Int,
                       validator: borrowing FunctionValidator) -> Bool {
        let x15 = Self.xscratch
        if let (prefix, bytes) = Self.simdBinary[opcode] {
            let b = popXMM(), a = popXMM()
            asm.packed(prefix, bytes, a, b)
            free(b)
            push(.v128, .xmm(a))
            return true
        }
        if let (prefix, bytes, imm) = Self.simdUnary[opcode] {
            let a = popXMM()
            asm.packed(prefix, bytes, a, a, imm: imm)
            push(.v128, .xmm(a))
            return true
        }
        switch opcode {
        // MARK: memory
        case 0x00:  // v128.load
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            let x = allocXMM()
            faultSite(.memoryOutOfBounds, offset: offset)
            asm.movdqu(x, mem)
            if let addr { free(addr) }
            push(.v128, .xmm(x))
        case 0x01...0x06:  // v128.load8x8_s/u, 16x4_s/u, 32x2_s/u: pmovsx/pmovzx from 8 bytes
            let ops: [UInt8] = [0x20, 0x30, 0x23, 0x33, 0x25, 0x35]
            loadV128(memOffset, memory, offset) { c, x, mem in c.asm.packed(Self.p66, [0x0F, 0x38, ops[Int(opcode - 1)]], x, mem) }
        case 0x07...0x0A:  // v128.load8/16/32/64_splat
            loadV128(memOffset, memory, offset) { c, x, mem in
                switch opcode {
                case 0x07: c.asm.lane([0x0F, 0x3A, 0x20], x, mem, imm: 0); c.splat(x, bytes: 1)
                case 0x08: c.asm.lane([0x0F, 0xC4], x, mem, imm: 0); c.splat(x, bytes: 2)
                case 0x09: c.asm.movd(x, mem); c.splat(x, bytes: 4)
                default: c.asm.movq(x, mem); c.splat(x, bytes: 8)
                }
            }
        case 0x5C: loadV128(memOffset, memory, offset) { c, x, mem in c.asm.movd(x, mem) }  // v128.load32_zero
        case 0x5D: loadV128(memOffset, memory, offset) { c, x, mem in c.asm.movq(x, mem) }  // v128.load64_zero
        case 0x0B:  // v128.store
            let x = popXMM()
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            faultSite(.memoryOutOfBounds, offset: offset)
            asm.movdqu(mem, x)
            free(x)
            if let addr { free(addr) }
        case 0x54...0x57:  // v128.load8/16/32/64_lane
            let x = popXMM()
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            faultSite(.memoryOutOfBounds, offset: offset)
            switch opcode {
            case 0x54: asm.lane([0x0F, 0x3A, 0x20], x, mem, imm: lane)
            case 0x55: asm.lane([0x0F, 0xC4], x, mem, imm: lane)
            case 0x56: asm.lane([0x0F, 0x3A, 0x22], x, mem, imm: lane)
            default: asm.lane([0x0F, 0x3A, 0x22], x, mem, wide: true, imm: lane)
            }
            if let addr { free(addr) }
            push(.v128, .xmm(x))
        case 0x58...0x5B:  // v128.store8/16/32/64_lane
            let x = popXMM()
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            faultSite(.memoryOutOfBounds, offset: offset)
            let ops: [UInt8] = [0x14, 0x15, 0x16, 0x16]
            asm.lane([0x0F, 0x3A, ops[Int(opcode - 0x58)]], x, mem, wide: opcode == 0x5B, imm: lane)
            free(x)
            if let addr { free(addr) }

        // MARK: constants, shuffles, splats, lanes
        case 0x0C:  // v128.const
            let (lo, hi) = validator.v128Immediate
            let x = allocXMM()
            constant(x, lo, hi)
            push(.v128, .xmm(x))
        case 0x0D:  // i8x16.shuffle: each operand's bytes picked by pshufb (0x80 zeroes), or-ed
            let (lo, hi) = validator.v128Immediate
            var maskA: [UInt8] = [], maskB: [UInt8] = []
            for k in 0..<16 {
                let i = UInt8(truncatingIfNeeded: (k < 8 ? lo : hi) >> UInt64(8 * (k % 8)))
                maskA.append(i < 16 ? i : 0x80)
                maskB.append(i >= 16 ? i - 16 : 0x80)
            }
            let b = popXMM(), a = popXMM()
            constant(x15, maskA)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], a, x15)
            constant(x15, maskB)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], b, x15)
            asm.packed(Self.p66, [0x0F, 0xEB], a, b)
            free(b)
            push(.v128, .xmm(a))
        case 0x0E:  // i8x16.swizzle: indices of 16 or more select zero (saturating + 0x70 sets bit 7)
            let s = popXMM(), a = popXMM()
            constant(x15, [UInt8](repeating: 0x70, count: 16))
            asm.packed(Self.p66, [0x0F, 0xDC], x15, s)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], a, x15)
            free(s)
            push(.v128, .xmm(a))
        case 0x0F...0x12:  // i8x16/i16x8/i32x4/i64x2.splat
            let r = popGPR()
            let x = allocXMM()
            asm.movToX(opcode == 0x12 ? .w64 : .w32, x, r)
            free(r)
            splat(x, bytes: 1 << Int(opcode - 0x0F))
            push(.v128, .xmm(x))
        case 0x13, 0x14:  // f32x4/f64x2.splat
            let x = popXMM()
            splat(x, bytes: opcode == 0x13 ? 4 : 8)
            push(.v128, .xmm(x))
        case 0x15, 0x16, 0x18, 0x19, 0x1B, 0x1D:  // extract_lane of i8x16 (s, u), i16x8 (s, u), i32x4, i64x2
            let x = popXMM()
            let r = allocGPR()
            switch opcode {
            case 0x15, 0x16: asm.lane([0x0F, 0x3A, 0x14], x, r, imm: lane)
            case 0x18, 0x19: asm.lane([0x0F, 0x3A, 0x15], x, r, imm: lane)
            case 0x1B: asm.lane([0x0F, 0x3A, 0x16], x, r, imm: lane)
            default: asm.lane([0x0F, 0x3A, 0x16], x, r, wide: true, imm: lane)
            }
            if opcode == 0x15 { asm.movsx8(.w32, r, r) }
            if opcode == 0x18 { asm.movsx16(.w32, r, r) }
            free(x)
            push(opcode == 0x1D ? .i64 : .i32, .gpr(r))
        case 0x17, 0x1A, 0x1C, 0x1E:  // replace_lane of i8x16, i16x8, i32x4, i64x2
            let r = popGPR()
            let x = popXMM()
            switch opcode {
            case 0x17: asm.lane([0x0F, 0x3A, 0x20], x, r, imm: lane)
            case 0x1A: asm.lane([0x0F, 0xC4], x, r, imm: lane)
            case 0x1C: asm.lane([0x0F, 0x3A, 0x22], x, r, imm: lane)
            default: asm.lane([0x0F, 0x3A, 0x22], x, r, wide: true, imm: lane)
            }
            free(r)
            push(.v128, .xmm(x))
        case 0x1F, 0x21:  // f32x4/f64x2.extract_lane: the lane moved to the bottom of a copy
            let x = popXMM()
            let y = allocXMM()
            let imm: UInt8 = opcode == 0x1F ? lane : (lane == 0 ? 0x44 : 0xEE)
            asm.packed(Self.p66, [0x0F, 0x70], y, x, imm: imm)  // pshufd
            free(x)
            push(opcode == 0x1F ? .f32 : .f64, .xmm(y))
        case 0x20:  // f32x4.replace_lane: insertps
            let y = popXMM(), x = popXMM()
            asm.packed(Self.p66, [0x0F, 0x3A, 0x21], x, y, imm: lane << 4)
            free(y)
            push(.v128, .xmm(x))
        case 0x22:  // f64x2.replace_lane: movsd (low) or unpcklpd (high)
            let y = popXMM(), x = popXMM()
            if lane == 0 { asm.packed(0xF2, [0x0F, 0x10], x, y) } else { asm.packed(Self.p66, [0x0F, 0x14], x, y) }
            free(y)
            push(.v128, .xmm(x))

        // MARK: compares
        case 0x23...0x40, 0xD6...0xDB:
            integerCompare(opcode)
        case 0x41...0x4C:  // f32x4, f64x2: eq ne lt gt le ge
            let k = (opcode - 0x41) % 6
            let prefix: UInt8? = opcode >= 0x47 ? Self.p66 : nil
            let predicates: [UInt8] = [0, 4, 1, 1, 2, 2]
            let b = popXMM(), a = popXMM()
            if k == 3 || k == 5 {  // gt, ge: lt, le with the operands swapped
                asm.packed(prefix, [0x0F, 0xC2], b, a, imm: predicates[Int(k)])
                free(a)
                push(.v128, .xmm(b))
            } else {
                asm.packed(prefix, [0x0F, 0xC2], a, b, imm: predicates[Int(k)])
                free(b)
                push(.v128, .xmm(a))
            }

        // MARK: bitwise, tests
        case 0x4D:  // v128.not
            let a = popXMM()
            allOnes(x15)
            asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
            push(.v128, .xmm(a))
        case 0x4F:  // v128.andnot: a & ~b (pandn computes ~dst & src)
            let b = popXMM(), a = popXMM()
            asm.packed(Self.p66, [0x0F, 0xDF], b, a)
            free(a)
            push(.v128, .xmm(b))
        case 0x52:  // v128.bitselect: (a & c) | (b & ~c)
            let c = popXMM(), b = popXMM(), a = popXMM()
            asm.packed(Self.p66, [0x0F, 0xDB], a, c)
            asm.packed(Self.p66, [0x0F, 0xDF], c, b)
            asm.packed(Self.p66, [0x0F, 0xEB], a, c)
            free(b); free(c)
            push(.v128, .xmm(a))
        case 0x53:  // v128.any_true
            let a = popXMM()
            asm.packed(Self.p66, [0x0F, 0x38, 0x17], a, a)  // ptest
            free(a)
            push(.i32, .flags(.ne))
        case 0x63, 0x83, 0xA3, 0xC3:  // all_true: no lane equals zero
            let eq: [UInt32: [UInt8]] = [0x63: [0x0F, 0x74], 0x83: [0x0F, 0x75], 0xA3: [0x0F, 0x76], 0xC3: [0x0F, 0x38, 0x29]]
            let a = popXMM()
            asm.xorps(x15, x15)
            asm.packed(Self.p66, eq[opcode]!, x15, a)
            asm.packed(Self.p66, [0x0F, 0x38, 0x17], x15, x15)
            free(a)
            push(.i32, .flags(.e))
        case 0x64, 0x84, 0xA4, 0xC4:  // bitmask
            let a = popXMM()
            let r = allocGPR()
            switch opcode {
            case 0x64: asm.packedToGPR(Self.p66, [0x0F, 0xD7], r, a)
            case 0x84:
                asm.packed(Self.p66, [0x0F, 0x63], a, a)  // packsswb: the lanes' signs as bytes
                asm.packedToGPR(Self.p66, [0x0F, 0xD7], r, a)
                asm.movzx8(r, r)
            case 0xA4: asm.packedToGPR(nil, [0x0F, 0x50], r, a)
            default: asm.packedToGPR(Self.p66, [0x0F, 0x50], r, a)
            }
            free(a)
            push(.i32, .gpr(r))

        // MARK: integer arithmetic
        case 0x61, 0x81, 0xA1, 0xC1:  // neg: 0 - a
            let sub: [UInt32: UInt8] = [0x61: 0xF8, 0x81: 0xF9, 0xA1: 0xFA, 0xC1: 0xFB]
            let a = popXMM()
            asm.xorps(x15, x15)
            asm.packed(Self.p66, [0x0F, sub[opcode]!], x15, a)
            asm.movaps(a, x15)
            push(.v128, .xmm(a))
        case 0x88, 0x8A, 0xA8, 0xAA, 0xC8, 0xCA:  // extend the high half: moved down, then as the low
            let ops: [UInt32: UInt8] = [0x88: 0x20, 0x8A: 0x30, 0xA8: 0x23, 0xAA: 0x33, 0xC8: 0x25, 0xCA: 0x35]
            let a = popXMM()
            asm.packed(Self.p66, [0x0F, 0x70], a, a, imm: 0xEE)
            asm.packed(Self.p66, [0x0F, 0x38, ops[opcode]!], a, a)
            push(.v128, .xmm(a))
        case 0x8B...0x8D, 0xAB...0xAD, 0xCB, 0xCD:  // shifts (not i8x16, not i64x2.shr_s)
            shift(opcode)
        case 0xFB:  // f32x4.convert_i32x4_u: high and low 16 bits converted apart, then hi * 65536 + lo
            let a = popXMM()
            let lo = allocXMM()
            asm.movaps(lo, a)
            asm.packedShift(0x72, 6, lo, imm: 16)  // pslld
            asm.packedShift(0x72, 2, lo, imm: 16)  // psrld
            asm.packedShift(0x72, 2, a, imm: 16)
            asm.packed(nil, [0x0F, 0x5B], lo, lo)
            asm.packed(nil, [0x0F, 0x5B], a, a)
            constant(x15, 0x4780_0000_4780_0000, 0x4780_0000_4780_0000)  // 65536.0
            asm.packed(nil, [0x0F, 0x59], a, x15)
            asm.packed(nil, [0x0F, 0x58], a, lo)
            free(lo)
            push(.v128, .xmm(a))

        // MARK: float
        case 0xE0, 0xE1, 0xEC, 0xED:  // abs, neg: the sign bit cleared or flipped
            let a = popXMM()
            let double = opcode >= 0xEC
            allOnes(x15)
            if opcode == 0xE0 || opcode == 0xEC {
                asm.packedShift(double ? 0x73 : 0x72, 2, x15, imm: 1)  // psrl: all but the sign
                asm.andps(a, x15)
            } else {
                asm.packedShift(double ? 0x73 : 0x72, 6, x15, imm: double ? 63 : 31)  // psll: the sign
                asm.xorps(a, x15)
            }
            push(.v128, .xmm(a))
        case 0xEA, 0xEB, 0xF6, 0xF7:  // pmin: b < a ? b : a; pmax: a < b ? b : a (minps/maxps of b, a)
            let prefix: UInt8? = opcode >= 0xF6 ? Self.p66 : nil
            let b = popXMM(), a = popXMM()
            asm.packed(prefix, [0x0F, opcode == 0xEA || opcode == 0xF6 ? 0x5D : 0x5F], b, a)
            free(a)
            push(.v128, .xmm(b))
        case 0xE8, 0xE9, 0xF4, 0xF5, 0x10D...0x110:  // min, max (relaxed ones as these)
            let k = opcode >= 0x10D ? [0xE8, 0xE9, 0xF4, 0xF5][Int(opcode - 0x10D)] : opcode
            floatMinMax(double: k >= 0xF4, max: k == 0xE9 || k == 0xF5)
        case 0x62:  // i8x16.popcnt: per nibble from a 16-byte table (pshufb)
            let a = popXMM()
            let t = allocXMM(), h = allocXMM()
            constant(t, [UInt8](repeating: 0x0F, count: 16))
            asm.movaps(h, a)
            asm.packedShift(0x71, 2, h, imm: 4)  // psrlw
            asm.packed(Self.p66, [0x0F, 0xDB], h, t)
            asm.packed(Self.p66, [0x0F, 0xDB], a, t)
            constant(t, [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4])
            asm.movaps(x15, t)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], t, a)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], x15, h)
            asm.packed(Self.p66, [0x0F, 0xFC], t, x15)
            free(a); free(h)
            push(.v128, .xmm(t))
        case 0x6B...0x6D:  // i8x16 shifts: word shifts, then the bits that crossed a byte masked off
            byteShift(opcode)
        case 0xCC:  // i64x2.shr_s: (a ^ s) >>> n ^ s, s = the lanes' signs
            let r = popGPR()
            let a = popXMM()
            let n = allocXMM()
            asm.alu(.and, .w32, r, imm: 63)
            asm.movToX(.w32, n, r)
            free(r)
            asm.xorps(x15, x15)
            asm.packed(Self.p66, [0x0F, 0x38, 0x37], x15, a)  // pcmpgtq: 0 > a
            asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
            asm.packed(Self.p66, [0x0F, 0xD3], a, n)  // psrlq
            asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
            free(n)
            push(.v128, .xmm(a))
        case 0xC0:  // i64x2.abs: (a ^ s) - s
            let a = popXMM()
            asm.xorps(x15, x15)
            asm.packed(Self.p66, [0x0F, 0x38, 0x37], x15, a)
            asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
            asm.packed(Self.p66, [0x0F, 0xFB], a, x15)
            push(.v128, .xmm(a))
        case 0xD5:  // i64x2.mul: lo*lo + ((hi_a*lo_b + lo_a*hi_b) << 32), from 32x32 -> 64 products
            let b = popXMM(), a = popXMM()
            let t = allocXMM()
            asm.movaps(t, a)
            asm.packedShift(0x73, 2, t, imm: 32)
            asm.packed(Self.p66, [0x0F, 0xF4], t, b)  // pmuludq
            asm.movaps(x15, b)
            asm.packedShift(0x73, 2, x15, imm: 32)
            asm.packed(Self.p66, [0x0F, 0xF4], x15, a)
            asm.packed(Self.p66, [0x0F, 0xD4], t, x15)
            asm.packedShift(0x73, 6, t, imm: 32)
            asm.packed(Self.p66, [0x0F, 0xF4], a, b)
            asm.packed(Self.p66, [0x0F, 0xD4], a, t)
            free(b); free(t)
            push(.v128, .xmm(a))
        case 0x9C...0x9F, 0xBC...0xBF:  // i16x8 / i32x4 extending multiplies: extend both, multiply
            let group = opcode >= 0xBC
            let k = (opcode - (group ? 0xBC : 0x9C))  // low_s, high_s, low_u, high_u
            let extend: UInt8 = group ? (k >= 2 ? 0x33 : 0x23) : (k >= 2 ? 0x30 : 0x20)
            let b = popXMM(), a = popXMM()
            for x in [a, b] {
                if k % 2 == 1 { asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0xEE) }
                asm.packed(Self.p66, [0x0F, 0x38, extend], x, x)
            }
            asm.packed(Self.p66, group ? [0x0F, 0x38, 0x40] : [0x0F, 0xD5], a, b)
            free(b)
            push(.v128, .xmm(a))
        case 0xDC...0xDF:  // i64x2 extending multiplies: the lanes to even positions, pmuldq / pmuludq
            let k = opcode - 0xDC
            let b = popXMM(), a = popXMM()
            let spread: UInt8 = k % 2 == 0 ? 0x50 : 0xFA
            asm.packed(Self.p66, [0x0F, 0x70], a, a, imm: spread)
            asm.packed(Self.p66, [0x0F, 0x70], b, b, imm: spread)
            asm.packed(Self.p66, k >= 2 ? [0x0F, 0xF4] : [0x0F, 0x38, 0x28], a, b)
            free(b)
            push(.v128, .xmm(a))
        case 0x7C...0x7F:  // extadd_pairwise
            let a = popXMM()
            switch opcode {
            case 0x7C:  // i16x8 from i8x16 signed: pmaddubsw(ones as unsigned, a as signed)
                let t = allocXMM()
                constant(t, [UInt8](repeating: 1, count: 16))
                asm.packed(Self.p66, [0x0F, 0x38, 0x04], t, a)
                free(a)
                push(.v128, .xmm(t))
            case 0x7D:  // unsigned: pmaddubsw(a as unsigned, ones)
                constant(x15, [UInt8](repeating: 1, count: 16))
                asm.packed(Self.p66, [0x0F, 0x38, 0x04], a, x15)
                push(.v128, .xmm(a))
            case 0x7E:  // i32x4 from i16x8 signed: pmaddwd with ones
                constant(x15, 0x0001_0001_0001_0001, 0x0001_0001_0001_0001)
                asm.packed(Self.p66, [0x0F, 0xF5], a, x15)
                push(.v128, .xmm(a))
            default:  // unsigned: biased to signed, pmaddwd, the bias added back
                constant(x15, 0x8000_8000_8000_8000, 0x8000_8000_8000_8000)
                asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
                constant(x15, 0x0001_0001_0001_0001, 0x0001_0001_0001_0001)
                asm.packed(Self.p66, [0x0F, 0xF5], a, x15)
                constant(x15, 0x0001_0000_0001_0000, 0x0001_0000_0001_0000)
                asm.packed(Self.p66, [0x0F, 0xFE], a, x15)
                push(.v128, .xmm(a))
            }
        case 0x82, 0x111:  // i16x8.q15mulr_sat_s (and the relaxed one): pmulhrsw; 0x8000 (overflow) -> 0x7FFF
            let b = popXMM(), a = popXMM()
            asm.packed(Self.p66, [0x0F, 0x38, 0x0B], a, b)
            constant(x15, 0x8000_8000_8000_8000, 0x8000_8000_8000_8000)
            asm.packed(Self.p66, [0x0F, 0x75], x15, a)
            asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
            free(b)
            push(.v128, .xmm(a))
        case 0xF8, 0x101:  // i32x4.trunc_sat_f32x4_s: NaN -> 0, positive overflow -> 0x7FFFFFFF
            let a = popXMM()
            asm.movaps(x15, a)
            asm.packed(nil, [0x0F, 0xC2], x15, x15, imm: 0)  // cmpeqps: not NaN
            asm.andps(a, x15)
            asm.packed(Self.p66, [0x0F, 0xEF], x15, a)
            asm.packed(0xF3, [0x0F, 0x5B], a, a)  // cvttps2dq
            asm.packed(Self.p66, [0x0F, 0xDB], x15, a)
            asm.packedShift(0x72, 4, x15, imm: 31)  // psrad
            asm.packed(Self.p66, [0x0F, 0xEF], a, x15)
            push(.v128, .xmm(a))
        case 0xF9, 0x102:  // i32x4.trunc_sat_f32x4_u
            let a = popXMM()
            let t = allocXMM()
            asm.xorps(x15, x15)
            asm.packed(nil, [0x0F, 0x5F], a, x15)  // maxps: negatives and NaN -> 0
            allOnes(x15)
            asm.packedShift(0x72, 2, x15, imm: 1)
            asm.packed(nil, [0x0F, 0x5B], x15, x15)  // 2^31 as a float
            asm.movaps(t, a)
            asm.packed(nil, [0x0F, 0x5C], t, x15)  // a - 2^31
            asm.packed(nil, [0x0F, 0xC2], x15, t, imm: 2)  // 2^31 <= a - 2^31: overflow
            asm.packed(0xF3, [0x0F, 0x5B], t, t)
            asm.packed(Self.p66, [0x0F, 0xEF], t, x15)
            asm.xorps(x15, x15)
            asm.packed(Self.p66, [0x0F, 0x38, 0x3D], t, x15)  // pmaxsd: below 2^31 -> 0
            asm.packed(0xF3, [0x0F, 0x5B], a, a)
            asm.packed(Self.p66, [0x0F, 0xFE], a, t)
            free(t)
            push(.v128, .xmm(a))
        case 0xFC, 0x103:  // i32x4.trunc_sat_f64x2_s_zero
            let a = popXMM()
            let t = allocXMM()
            asm.movaps(t, a)
            asm.packed(Self.p66, [0x0F, 0xC2], t, a, imm: 0)  // cmpeqpd: not NaN
            constant(x15, 0x41DF_FFFF_FFC0_0000, 0x41DF_FFFF_FFC0_0000)  // 2147483647.0
            asm.andps(t, x15)
            asm.packed(Self.p66, [0x0F, 0x5D], a, t)  // minpd: NaN -> 0, large -> 2^31 - 1
            asm.packed(Self.p66, [0x0F, 0xE6], a, a)  // cvttpd2dq
            free(t)
            push(.v128, .xmm(a))
        case 0xFD, 0x104:  // i32x4.trunc_sat_f64x2_u_zero: clamped, truncated, its bits from + 2^52
            let a = popXMM()
            asm.xorps(x15, x15)
            asm.packed(Self.p66, [0x0F, 0x5F], a, x15)  // maxpd
            constant(x15, 0x41EF_FFFF_FFE0_0000, 0x41EF_FFFF_FFE0_0000)  // 4294967295.0
            asm.packed(Self.p66, [0x0F, 0x5D], a, x15)
            asm.packed(Self.p66, [0x0F, 0x3A, 0x09], a, a, imm: 3 | 8)
            constant(x15, 0x4330_0000_0000_0000, 0x4330_0000_0000_0000)  // 2^52
            asm.packed(Self.p66, [0x0F, 0x58], a, x15)
            asm.xorps(x15, x15)
            asm.packed(nil, [0x0F, 0xC6], a, x15, imm: 0x88)  // shufps: the low words, then zeros
            push(.v128, .xmm(a))
        case 0xFF:  // f64x2.convert_low_i32x4_u: 2^52 + u as doubles, minus 2^52
            let a = popXMM()
            constant(x15, 0x4330_0000_4330_0000, 0x4330_0000_4330_0000)
            asm.packed(nil, [0x0F, 0x14], a, x15)  // unpcklps
            constant(x15, 0x4330_0000_0000_0000, 0x4330_0000_0000_0000)
            asm.packed(Self.p66, [0x0F, 0x5C], a, x15)
            push(.v128, .xmm(a))
        case 0x100:  // i8x16.relaxed_swizzle: as swizzle
            return simd(0x0E, memOffset: memOffset, lane: lane, memory: memory, offset: offset, validator: validator)
        case 0x109...0x10C:  // relaxed_laneselect: as bitselect
            return simd(0x52, memOffset: memOffset, lane: lane, memory: memory, offset: offset, validator: validator)
        case 0x105...0x108:  // relaxed madd / nmadd: a * b + c, c - a * b (two roundings, the
            // interpreter's operations in its order, so NaNs come out the same)
            let double = opcode >= 0x107
            let prefix: UInt8? = double ? Self.p66 : nil
            let c = popXMM(), b = popXMM(), a = popXMM()
            asm.packed(prefix, [0x0F, 0x59], a, b)
            free(b)
            if opcode == 0x105 || opcode == 0x107 {
                asm.packed(prefix, [0x0F, 0x58], a, c)
                free(c)
                push(.v128, .xmm(a))
            } else {
                asm.packed(prefix, [0x0F, 0x5C], c, a)
                free(a)
                push(.v128, .xmm(c))
            }
        case 0x112:  // i16x8.relaxed_dot_i8x16_i7x16_s: signed products of byte pairs, added (wrapping)
            let b = popXMM(), a = popXMM()
            let (lo, hi) = signedBytePairProducts(a, b)
            asm.packed(Self.p66, [0x0F, 0x38, 0x01], lo, hi)  // phaddw
            free(hi)
            push(.v128, .xmm(lo))
        case 0x113:  // i32x4.relaxed_dot_i8x16_i7x16_add_s: four products per lane, plus c
            let c = popXMM(), b = popXMM(), a = popXMM()
            let (lo, hi) = signedBytePairProducts(a, b)
            constant(x15, 0x0001_0001_0001_0001, 0x0001_0001_0001_0001)
            asm.packed(Self.p66, [0x0F, 0xF5], lo, x15)  // pmaddwd: pairs to dwords
            asm.packed(Self.p66, [0x0F, 0xF5], hi, x15)
            asm.packed(Self.p66, [0x0F, 0x38, 0x02], lo, hi)  // phaddd
            asm.packed(Self.p66, [0x0F, 0xFE], lo, c)
            free(hi); free(c)
            push(.v128, .xmm(lo))
        default:
            return false
        }
        return true
    }

    /// The signed 16-bit products of the bytes of `a` and `b`: bytes 0-7 in the first register
    /// (which is `a`'s), 8-15 in the second (`b`'s), both owned by the caller.
    mutating func signedBytePairProducts(_ a: XReg, _ b: XReg) -> (XReg, XReg) {
        let ah = allocXMM()
        asm.packed(Self.p66, [0x0F, 0x70], ah, a, imm: 0xEE)
        asm.packed(Self.p66, [0x0F, 0x38, 0x20], ah, ah)
        asm.packed(Self.p66, [0x0F, 0x38, 0x20], a, a)
        asm.packed(Self.p66, [0x0F, 0x70], Self.xscratch, b, imm: 0xEE)
        asm.packed(Self.p66, [0x0F, 0x38, 0x20], Self.xscratch, Self.xscratch)
        asm.packed(Self.p66, [0x0F, 0x38, 0x20], b, b)
        asm.packed(Self.p66, [0x0F, 0xD5], a, b)
        asm.packed(Self.p66, [0x0F, 0xD5], ah, Self.xscratch)
        free(b)
        return (a, ah)
    }

    /// Wasm's float min and max: a NaN in either operand gives a NaN (a + b's, as the
    /// interpreter computes it), and -0 is below +0. minps/maxps of both operand orders, or-ed
    /// (min) or and-ed (max), settle the zeros; the NaN lanes then take a + b.
    mutating func floatMinMax(double: Bool, max: Bool) {
        let prefix: UInt8? = double ? Self.p66 : nil
        let op: UInt8 = max ? 0x5F : 0x5D
        let b = popXMM(), a = popXMM()
        let t = allocXMM()
        asm.movaps(t, a)
        asm.packed(prefix, [0x0F, op], t, b)
        asm.movaps(Self.xscratch, b)
        asm.packed(prefix, [0x0F, op], Self.xscratch, a)
        if max { asm.andps(t, Self.xscratch) } else { asm.orps(t, Self.xscratch) }
        asm.movaps(Self.xscratch, a)
        asm.packed(prefix, [0x0F, 0xC2], Self.xscratch, b, imm: 3)  // cmpunord: the NaN lanes
        asm.packed(prefix, [0x0F, 0x58], a, b)
        asm.andps(a, Self.xscratch)
        asm.andnps(Self.xscratch, t)
        asm.orps(a, Self.xscratch)
        free(b); free(t)
        push(.v128, .xmm(a))
    }

    /// i8x16 shifts by a count modulo 8: left and logical right as word shifts with the bits
    /// that crossed into the neighbouring byte masked off; arithmetic right on the bytes
    /// unpacked into the high halves of words, shifted by 8 more, packed back.
    mutating func byteShift(_ opcode: UInt32) {
        let r: Reg
        if case .imm(let count) = stack[stack.count - 1].loc {
            _ = pop()
            r = allocGPR()
            asm.movImm32(r, UInt32(count & 7))
        } else {
            r = popGPR()
            asm.alu(.and, .w32, r, imm: 7)
        }
        let a = popXMM()
        let t = allocXMM()
        let x15 = Self.xscratch
        switch opcode {
        case 0x6B, 0x6D:
            asm.movToX(.w32, x15, r)
            let left = opcode == 0x6B
            asm.packed(Self.p66, [0x0F, left ? 0xF1 : 0xD1], a, x15)  // psllw / psrlw
            allOnes(t)
            asm.packed(Self.p66, [0x0F, left ? 0xF1 : 0xD1], t, x15)
            if !left { asm.packedShift(0x71, 2, t, imm: 8) }  // the mask in the low byte
            asm.xorps(x15, x15)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], t, x15)  // to every byte
            asm.packed(Self.p66, [0x0F, 0xDB], a, t)
        default:
            asm.alu(.add, .w32, r, imm: 8)
            asm.movToX(.w32, x15, r)
            asm.movaps(t, a)
            asm.packed(Self.p66, [0x0F, 0x68], t, a)  // punpckhbw: each byte in both halves
            asm.packed(Self.p66, [0x0F, 0x60], a, a)  // punpcklbw
            asm.packed(Self.p66, [0x0F, 0xE1], a, x15)  // psraw
            asm.packed(Self.p66, [0x0F, 0xE1], t, x15)
            asm.packed(Self.p66, [0x0F, 0x63], a, t)  // packsswb
        }
        free(r); free(t)
        push(.v128, .xmm(a))
    }

    /// A v128 load of some form into a new register (`emit` gets the register and the operand).
    mutating func loadV128(_ memOffset: UInt64, _ memory: UInt32, _ offset: Int, _ emit: (inout BaselineCompiler, XReg, Mem) -> Void) {
        let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
        let x = allocXMM()
        faultSite(.memoryOutOfBounds, offset: offset)
        emit(&self, x, mem)
        if let addr { free(addr) }
        push(.v128, .xmm(x))
    }

    /// Copies the low lane of `x` (of `bytes` bytes) to every lane.
    mutating func splat(_ x: XReg, bytes: Int) {
        switch bytes {
        case 1:
            asm.xorps(Self.xscratch, Self.xscratch)
            asm.packed(Self.p66, [0x0F, 0x38, 0x00], x, Self.xscratch)  // pshufb with zeros: byte 0 everywhere
        case 2:
            asm.packed(0xF2, [0x0F, 0x70], x, x, imm: 0)  // pshuflw
            asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0)
        case 4: asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0)
        default: asm.packed(Self.p66, [0x0F, 0x70], x, x, imm: 0x44)
        }
    }

    /// 16 constant bytes into `x` (through r11: no constant pool in baseline code).
    mutating func constant(_ x: XReg, _ lo: UInt64, _ hi: UInt64) {
        if lo == 0 && hi == 0 { asm.xorps(x, x); return }
        asm.movImm(Self.scratch, lo)
        asm.movToX(.w64, x, Self.scratch)
        if hi == lo {
            asm.packed(Self.p66, [0x0F, 0x6C], x, x)  // punpcklqdq
        } else if hi != 0 {
            asm.movImm(Self.scratch, hi)
            asm.lane([0x0F, 0x3A, 0x22], x, Self.scratch, wide: true, imm: 1)  // pinsrq
        }
    }
    mutating func constant(_ x: XReg, _ bytes: [UInt8]) {
        var lo: UInt64 = 0, hi: UInt64 = 0
        for k in 0..<8 { lo |= UInt64(bytes[k]) << UInt64(8 * k); hi |= UInt64(bytes[k + 8]) << UInt64(8 * k) }
        constant(x, lo, hi)
    }
    mutating func allOnes(_ x: XReg) { asm.packed(Self.p66, [0x0F, 0x76], x, x) }  // pcmpeqd

    /// Integer lane compares: eq and signed gt are instructions; the others are their negation
    /// or swap, and unsigned ones compare with the unsigned max (or min) of the operands.
    mutating func integerCompare(_ opcode: UInt32) {
        let shape: CompareShape, k: UInt32
        if opcode >= 0xD6 {
            shape = Self.compareShapes[3]
            k = [0, 1, 2, 4, 6, 8][Int(opcode - 0xD6)]  // eq ne lt_s gt_s le_s ge_s
        } else {
            shape = Self.compareShapes[Int((opcode - 0x23) / 10)]
            k = (opcode - 0x23) % 10  // eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u
        }
        let b = popXMM(), a = popXMM()
        var result = a, negate = false
        switch k {
        case 0: asm.packed(Self.p66, shape.eq, a, b)
        case 1: asm.packed(Self.p66, shape.eq, a, b); negate = true
        case 2: asm.packed(Self.p66, shape.gt, b, a); result = b
        case 4: asm.packed(Self.p66, shape.gt, a, b)
        case 6: asm.packed(Self.p66, shape.gt, a, b); negate = true
        case 8: asm.packed(Self.p66, shape.gt, b, a); result = b; negate = true
        default:
            // Unsigned: a >= b when max(a, b) == a; a <= b when min(a, b) == a.
            let geq = k == 9 || k == 3  // ge_u, and lt_u as its negation
            asm.movaps(Self.xscratch, a)
            asm.packed(Self.p66, geq ? shape.maxU! : shape.minU!, Self.xscratch, b)
            asm.packed(Self.p66, shape.eq, a, Self.xscratch)
            negate = k == 3 || k == 5
        }
        if negate {
            allOnes(Self.xscratch)
            asm.packed(Self.p66, [0x0F, 0xEF], result, Self.xscratch)
        }
        free(result == a ? b : a)
        push(.v128, .xmm(result))
    }

    /// i16x8, i32x4, i64x2 shifts by a scalar count taken modulo the lane width.
    mutating func shift(_ opcode: UInt32) {
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
        if case .imm(let count) = stack[stack.count - 1].loc {
            _ = pop()
            let a = popXMM()
            asm.packedShift(immOp, field, a, imm: UInt8(count & (bits - 1)))
            push(.v128, .xmm(a))
            return
        }
        let r = popGPR()
        let a = popXMM()
        asm.alu(.and, .w32, r, imm: Int32(bits - 1))
        asm.movToX(.w32, Self.xscratch, r)
        asm.packed(Self.p66, [0x0F, regOp], a, Self.xscratch)
        free(r)
        push(.v128, .xmm(a))
    }
}
