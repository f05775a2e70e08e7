/// The baseline compiler's numeric instructions (opcodes 0x45...0xC4 and the saturating
/// truncations): integer ops in general registers, float arithmetic in SSE registers, float
/// sign operations on the bit patterns in general registers.
extension BaselineCompiler {
    static let intConditions: [Cond] = [.e, .ne, .l, .b, .g, .a, .le, .be, .ge, .ae]

    mutating func numeric(_ opcode: UInt16, offset: Int) {
        switch opcode {
        case 0x45, 0x50:
            let w: Width = opcode == 0x45 ? .w32 : .w64
            switch popOperand(w) {
            case .reg(let r): asm.test(w, r, r); free(r)
            case .pinned(let r): asm.test(w, r, r)
            case .mem(let m): asm.alu(.cmp, w, m, imm: 0)
            case .imm(let i):
                let r = allocGPR(); asm.movImm(r, UInt64(bitPattern: Int64(i))); asm.test(w, r, r); free(r)
            }
            push(.i32, .flags(.e))
        case 0x46...0x4F:
            compareInt(.w32, Self.intConditions[Int(opcode - 0x46)])
        case 0x51...0x5A:
            compareInt(.w64, Self.intConditions[Int(opcode - 0x51)])
        case 0x5B...0x60:
            compareFloat(.f32, opcode - 0x5B)
        case 0x61...0x66:
            compareFloat(.f64, opcode - 0x61)
        case 0x67...0x78:
            intOp(.w32, .i32, opcode - 0x67, offset: offset)
        case 0x79...0x8A:
            intOp(.w64, .i64, opcode - 0x79, offset: offset)
        case 0x8B...0x98:
            floatOp(.f32, opcode - 0x8B)
        case 0x99...0xA6:
            floatOp(.f64, opcode - 0x99)
        default:
            conversion(opcode, offset: offset)
        }
    }

    mutating func compareInt(_ w: Width, _ cond: Cond) {
        let b = popOperand(w)
        var avoid: UInt16 = 0
        if case .reg(let r) = b { avoid = 1 << UInt16(r.code) }
        let (a, owned) = popReadableGPR(avoid: avoid)
        apply(.cmp, w, a, b)
        if owned { free(a) }
        push(.i32, .flags(cond))
    }

    /// eq, ne, lt, gt, le, ge. Unordered (NaN) operands compare false except for ne.
    mutating func compareFloat(_ fw: FloatWidth, _ k: UInt16) {
        let (b, ownB) = popReadableXMM()
        let (a, ownA) = popReadableXMM()
        defer {
            if ownA { free(a) }
            if ownB { free(b) }
        }
        switch k {
        case 0, 1:
            asm.ucomis(fw, a, b)
            let r = allocGPR()
            asm.setcc(k == 0 ? .e : .ne, r)
            asm.setcc(k == 0 ? .np : .p, Self.scratch)
            asm.movzx8(r, r)
            asm.movzx8(Self.scratch, Self.scratch)
            asm.alu(k == 0 ? .and : .or, .w32, r, Self.scratch)
            push(.i32, .gpr(r))
        case 2: asm.ucomis(fw, b, a); push(.i32, .flags(.a))   // a < b  <=>  b > a
        case 3: asm.ucomis(fw, a, b); push(.i32, .flags(.a))
        case 4: asm.ucomis(fw, b, a); push(.i32, .flags(.ae))
        default: asm.ucomis(fw, a, b); push(.i32, .flags(.ae))
        }
    }

    /// clz ctz popcnt add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr
    mutating func intOp(_ w: Width, _ type: ValueType, _ k: UInt16, offset: Int) {
        switch k {
        case 0, 1, 2:
            let a = popGPR()
            switch k {
            case 0: asm.lzcnt(w, a, a)
            case 1: asm.tzcnt(w, a, a)
            default: asm.popcnt(w, a, a)
            }
            push(type, .gpr(a))
        case 3, 4, 10, 11, 12:
            let op: ALU = k == 3 ? .add : k == 4 ? .sub : k == 10 ? .and : k == 11 ? .or : .xor
            let b = popOperand(w)
            let a = popGPR()
            apply(op, w, a, b)
            push(type, .gpr(a))
        case 5:
            let b = popOperand(w)
            let a = popGPR()
            switch b {
            case .reg(let r): asm.imul(w, a, r); free(r)
            case .pinned(let r): asm.imul(w, a, r)
            case .imm(let i): asm.imul(w, a, a, imm: i)
            case .mem(let m): asm.load(w, Self.scratch, m); asm.imul(w, a, Self.scratch)
            }
            push(type, .gpr(a))
        case 6, 7, 8, 9:
            divide(w, type, signed: k == 6 || k == 8, remainder: k >= 8, offset: offset)
        case 13, 14, 15, 16, 17:
            let op: Shift = k == 13 ? .shl : k == 14 ? .sar : k == 15 ? .shr : k == 16 ? .rol : .ror
            if case .imm(let bits) = stack[stack.count - 1].loc {
                _ = pop()
                let a = popGPR()
                asm.shift(op, w, a, imm: UInt8(truncatingIfNeeded: bits) & (w == .w32 ? 31 : 63))
                push(type, .gpr(a))
            } else {
                popInto(.rcx)
                let a = popGPR(avoid: 1 << UInt16(Reg.rcx.code))
                asm.shift(op, w, a)
                free(.rcx)
                push(type, .gpr(a))
            }
        default:
            preconditionFailure("integer op \(k)")
        }
    }

    /// div_s, div_u, rem_s, rem_u: dividend in rax, remainder in rdx; the traps the spec
    /// requires are explicit checks, so no SIGFPE is ever raised.
    mutating func divide(_ w: Width, _ type: ValueType, signed: Bool, remainder: Bool, offset: Int) {
        let fixed: UInt16 = 1 << UInt16(Reg.rax.code) | 1 << UInt16(Reg.rdx.code)
        let b = popGPR(avoid: fixed)
        popInto(.rax)
        claim(.rdx)
        m.divide(w, signed: signed, remainder: remainder, divisor: b, scratch: Self.scratch, offset: offset)
        free(b)
        if remainder {
            free(.rax)
            push(type, .gpr(.rdx))
        } else {
            free(.rdx)
            push(type, .gpr(.rax))
        }
    }

    /// abs neg ceil floor trunc nearest sqrt add sub mul div min max copysign
    mutating func floatOp(_ fw: FloatWidth, _ k: UInt16) {
        let type: ValueType = fw == .f32 ? .f32 : .f64
        let w: Width = fw == .f32 ? .w32 : .w64
        switch k {
        case 0, 1:
            let a = popGPR()
            if k == 0 {
                if w == .w32 { asm.alu(.and, .w32, a, imm: 0x7FFF_FFFF) } else { asm.btr(.w64, a, bit: 63) }
            } else {
                asm.btc(w, a, bit: w == .w32 ? 31 : 63)
            }
            push(type, .gpr(a))
        case 2, 3, 4, 5:
            let a = popXMM()
            let mode: UInt8 = k == 2 ? 2 : k == 3 ? 1 : k == 4 ? 3 : 0  // ceil, floor, trunc, nearest
            asm.round(fw, a, a, mode: mode | 8)
            push(type, .xmm(a))
        case 6:
            let a = popXMM()
            asm.sse(.sqrt, fw, a, a)
            push(type, .xmm(a))
        case 7, 8, 9, 10:
            let op: SSEOp = k == 7 ? .add : k == 8 ? .sub : k == 9 ? .mul : .div
            let (b, ownB) = popReadableXMM()
            let a = popXMM()
            asm.sse(op, fw, a, b)
            if ownB { free(b) }
            push(type, .xmm(a))
        case 11, 12:
            let (b, ownB) = popReadableXMM()
            let a = popXMM()
            m.floatMinMax(fw, min: k == 11, a, b)
            if ownB { free(b) }
            push(type, .xmm(a))
        default:  // copysign
            let b = popGPR()
            let a = popGPR()
            if w == .w32 {
                asm.alu(.and, .w32, a, imm: 0x7FFF_FFFF)
                asm.alu(.and, .w32, b, imm: Int32.min)
            } else {
                asm.btr(.w64, a, bit: 63)
                asm.shift(.shr, .w64, b, imm: 63)
                asm.shift(.shl, .w64, b, imm: 63)
            }
            asm.alu(.or, w, a, b)
            free(b)
            push(type, .gpr(a))
        }
    }

    mutating func conversion(_ opcode: UInt16, offset: Int) {
        switch opcode {
        case 0xA7:  // i32.wrap_i64
            let a = popGPR(); asm.mov(.w32, a, a); push(.i32, .gpr(a))
        case 0xAC:
            let a = popGPR(); asm.movsxd(a, a); push(.i64, .gpr(a))
        case 0xAD:
            let a = popGPR(); asm.mov(.w32, a, a); push(.i64, .gpr(a))
        case 0xC0:
            let a = popGPR(); asm.movsx8(.w32, a, a); push(.i32, .gpr(a))
        case 0xC1:
            let a = popGPR(); asm.movsx16(.w32, a, a); push(.i32, .gpr(a))
        case 0xC2:
            let a = popGPR(); asm.movsx8(.w64, a, a); push(.i64, .gpr(a))
        case 0xC3:
            let a = popGPR(); asm.movsx16(.w64, a, a); push(.i64, .gpr(a))
        case 0xC4:
            let a = popGPR(); asm.movsxd(a, a); push(.i64, .gpr(a))
        case 0xB2, 0xB3, 0xB4, 0xB7, 0xB8, 0xB9:
            let fw: FloatWidth = opcode <= 0xB4 ? .f32 : .f64
            let a = popGPR()
            let x = allocXMM()
            switch opcode {
            case 0xB2, 0xB7: asm.cvtsi2s(fw, .w32, x, a)
            case 0xB3, 0xB8: asm.mov(.w32, a, a); asm.cvtsi2s(fw, .w64, x, a)
            default: asm.cvtsi2s(fw, .w64, x, a)
            }
            free(a)
            push(fw == .f32 ? .f32 : .f64, .xmm(x))
        case 0xB6:
            let a = popXMM(); asm.cvtFloat(from: .f64, a, a); push(.f32, .xmm(a))
        case 0xBB:
            let a = popXMM(); asm.cvtFloat(from: .f32, a, a); push(.f64, .xmm(a))
        case 0xBC: stack[stack.count - 1].type = .i32
        case 0xBD: stack[stack.count - 1].type = .i64
        case 0xBE: stack[stack.count - 1].type = .f32
        case 0xBF: stack[stack.count - 1].type = .f64
        default:
            // Float-to-int truncations (trapping and saturating) and u64-to-float: the
            // runtime's conversion, which writes the result into the result's own slot.
            guard let sig = NumericSignature.of(opcode) else { preconditionFailure("numeric opcode \(opcode)") }
            builtinCall(.convert, args: 1, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, UInt32(opcode))
                c.asm.lea(.w64, .rcx, Self.slotMem(c.stack.count))
            }
            push(sig.result, .stack)
        }
    }
}
