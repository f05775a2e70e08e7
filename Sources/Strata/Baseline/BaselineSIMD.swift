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
        default:
            return false
        }
        return true
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
