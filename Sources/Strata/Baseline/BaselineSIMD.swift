/// SIMD (v128) in the baseline tier: v128 values live in xmm registers on the abstract value
/// stack and in their 16-byte slots (locals, spills, call slots). This file only takes the
/// operands off the value stack and pushes the result: the instruction sequences are the
/// machine layer's (`X64SIMD.swift`), shared with the optimizing tier.
extension BaselineCompiler {
    /// Compiles SIMD instruction `opcode` (after the 0xFD prefix); false when this tier does not
    /// compile it (the function stays in the interpreter).
    mutating func simd(_ opcode: UInt32, memOffset: UInt64, lane: UInt8, memory: UInt32, offset: Int,
                       validator: borrowing FunctionValidator) -> Bool {
        guard let shape = FunctionValidator.simdShape(opcode) else { return false }
        switch shape {
        case .load:
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            let x = allocXMM()
            faultSite(.memoryOutOfBounds, offset: offset)
            m.simdLoad(opcode, x, mem, zero: Self.xscratch)
            if let addr { free(addr) }
            push(.v128, .xmm(x))
            return true
        case .loadLane:
            let x = popXMM()
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            faultSite(.memoryOutOfBounds, offset: offset)
            m.simdLoadLane(opcode, x, mem, lane: lane)
            if let addr { free(addr) }
            push(.v128, .xmm(x))
            return true
        case .store, .storeLane:
            let (x, owned) = popReadableXMM()
            let (mem, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            faultSite(.memoryOutOfBounds, offset: offset)
            m.simdStore(opcode, x, mem, lane: lane)
            if owned { free(x) }
            if let addr { free(addr) }
            return true
        default:
            break
        }

        // Operands, from the top of the stack down; `owned` registers are freed afterwards.
        var r = SIMDRegisters(d: Self.xscratch)
        var owned: [XReg] = []
        var ownedGPR: Reg?
        func readable(_ c: inout BaselineCompiler) -> XOperand {
            let (x, mine) = c.popReadableXMM()
            if mine { owned.append(x) }
            return .reg(x)
        }
        var resultType = ValueType.v128
        switch shape {
        case .unary:
            r.d = popXMM()
        case .binary, .shuffle:
            r.b = readable(&self)
            r.d = popXMM()
        case .ternary:
            r.c = readable(&self)
            r.b = readable(&self)
            r.d = popXMM()
        case .test:
            r.a = readable(&self)
            if opcode == 0x64 || opcode == 0x84 || opcode == 0xA4 || opcode == 0xC4 {
                r.gd = allocGPR()
                resultType = .i32
            }
        case .shift:
            if case .imm(let count) = stack[stack.count - 1].loc {
                _ = pop()
                r.constantG = count
            } else {
                let (g, mine) = popReadableGPR()
                r.g = g
                if mine { ownedGPR = g }
            }
            r.d = popXMM()
        case .splat(let t):
            if t == .i32 || t == .i64 {
                let (g, mine) = popReadableGPR()
                r.g = g
                if mine { ownedGPR = g }
                r.d = allocXMM()
            } else {
                r.d = popXMM()
            }
        case .extract(let t, _):
            r.a = readable(&self)
            resultType = t
            if t == .i32 || t == .i64 { r.gd = allocGPR() } else { r.d = allocXMM() }
        case .replace(let t, _):
            if t == .i32 || t == .i64 {
                let (g, mine) = popReadableGPR()
                r.g = g
                if mine { ownedGPR = g }
            } else {
                r.b = readable(&self)
            }
            r.d = popXMM()
        case .const:
            r.d = allocXMM()
        default:
            return false
        }
        if case .reg(let x) = r.a, x == Self.xscratch { r.a = .reg(r.d) }  // a is d, or was read-only above
        let count = X64MachineLayer.simdTemps(opcode, constantCount: r.constantG != nil)
        if count > 0 { r.temps.append(Self.xscratch) }
        while r.temps.count < count { r.temps.append(allocXMM()) }
        let (lo, hi) = shape.needsImmediate ? validator.v128Immediate : (0, 0)
        guard let result = m.simd(opcode, lane: lane, immediate: V128Bits(lo: lo, hi: hi), r) else { return false }
        for x in owned { free(x) }
        for x in r.temps.dropFirst() { free(x) }
        if let g = ownedGPR { free(g) }
        switch result {
        case .xmm: push(resultType, .xmm(r.d))
        case .gpr: push(resultType, .gpr(r.gd))
        case .flags(let cc): push(.i32, .flags(cc))
        }
        return true
    }
}

extension FunctionValidator.SIMDShape {
    /// Whether the instruction has 16 immediate bytes (`FunctionValidator.v128Immediate`).
    var needsImmediate: Bool {
        switch self {
        case .const, .shuffle: true
        default: false
        }
    }
}
