/// SIMD instructions in the optimizing tier: operands from their allocated locations (a v128
/// in a register, its 16-byte slot or the constant pool; floats and integers in registers)
/// handed to the machine layer's sequences (`X64SIMD.swift`), which the baseline tier shares.
/// Registers beyond the allocation: xmm15, xmm14 and, for sequences that need two temporaries,
/// `X64Machine.simdTemp` (the allocator keeps operands, results and values live across such
/// an instruction out of it).
extension X64Lowering {
    mutating func simd(_ inst: IRInst) {
        let opcode = UInt32(inst.imm)
        if let l = foldedLoad, l.result == inst.b {
            // A v128.load folded into a VEX form's memory operand (`RegisterSet.foldsVectorLoad`):
            // exactly one instruction, carrying the load's trap site.
            let d: XReg = if case .xmm(let x) = loc(inst.result) { XReg(x) } else { Self.x1 }
            let a = xmm(inst.a, into: d)
            let mm = foldedMemory(inst.b)!
            foldedAccess()
            _ = m.simd(opcode, lane: 0, immediate: V128Bits(lo: 0, hi: 0), SIMDRegisters(d: d, a: .reg(a), b: .mem(mm)))
            finishX(inst.result, d)
            return
        }
        let shape = FunctionValidator.simdShape(opcode)!
        let constantCount = !inst.b.isNone && f.constant(inst.b) != nil
        let tempCount = X64MachineLayer.simdTemps(opcode, constantCount: constantCount)
        var pool = [Self.x1, Self.x2]
        if tempCount >= 2 { pool.append(X64Machine.simdTemp) }
        var r = SIMDRegisters(d: Self.x1)

        /// A float or v128 operand that must be in a register.
        func register(_ l: inout X64Lowering, _ v: IRValue) -> XOperand {
            if case .xmm(let x) = l.loc(v) { return .reg(XReg(x)) }
            let x = pool.removeFirst()
            return .reg(l.xmm(v, into: x))
        }
        func operand(_ l: inout X64Lowering, _ v: IRValue) -> XOperand {
            l.f.type(v) == .v128 ? l.vector(v) : register(&l, v)
        }
        let integer = { (t: ValueType) in t == .i32 || t == .i64 }
        switch shape {
        case .test, .extract:
            // Read by lane extracts, ptest and the mask moves: a register.
            r.a = register(&self, inst.a)
        case .splat(let t):
            if integer(t) { r.g = gpr(inst.a, into: Self.s2) } else { r.a = register(&self, inst.a) }
        case .replace(let t, _):
            r.a = operand(&self, inst.a)
            if integer(t) { r.g = gpr(inst.b, into: Self.s2) } else { r.b = register(&self, inst.b) }
        case .shift:
            r.a = operand(&self, inst.a)
            if let n = f.constant(inst.b) { r.constantG = n } else { r.g = gpr(inst.b, into: Self.s2) }
        case .shuffle:
            r.a = operand(&self, inst.a)
            r.b = operand(&self, inst.b)
        default:
            r.a = operand(&self, inst.a)
            if !inst.b.isNone { r.b = operand(&self, inst.b) }
            if !inst.c.isNone { r.c = operand(&self, inst.c) }
        }
        // The result's register when neither b nor c is there (a may be: the sequences read a
        // before they write d, or a is d), or when an AVX form takes both from registers.
        let result = inst.result
        var threeOperand = false
        if m.avx, X64MachineLayer.simdBinary[opcode] != nil, case .reg = r.a { threeOperand = true }
        if f.type(result).inXMM {
            // (The allocator keeps a result that is used out of the temporaries; one nothing uses
            // could get one, though dead code elimination removes such instructions.)
            if case .xmm(let x) = loc(result), !pool.contains(XReg(x)),
               threeOperand || r.b != .reg(XReg(x)) && r.c != .reg(XReg(x)) {
                r.d = XReg(x)
            } else {
                r.d = pool.removeFirst()
            }
        } else {
            r.gd = dst(result)
        }
        // bitselect (or laneselect) by a compare's lanes: one blend.
        if m.avx, opcode == 0x52 || (0x109...0x10C).contains(opcode), let mask = f.def(inst.c), mask.op == .simd,
           X64MachineLayer.givesLaneMasks(mask.imm), case .reg(let b) = r.b, case .reg(let c) = r.c {
            // (Four operands: the result may be in any of their registers.)
            let d: XReg = if case .xmm(let x) = loc(result) { XReg(x) } else { Self.x1 }
            m.blend(d, mask: c, ifSet: r.a, otherwise: b)
            finishX(result, d)
            return
        }
        r.temps = Array(pool.prefix(tempCount))
        precondition(r.temps.count == tempCount, "SIMD temporaries")
        var immediate = V128Bits(lo: 0, hi: 0)
        if inst.isShuffle { immediate = V128Bits(lo: f.constant(inst.c)!, hi: f.def(inst.c)!.imm2) }
        guard let kind = m.simd(opcode, lane: UInt8(truncatingIfNeeded: inst.imm2), immediate: immediate, r) else {
            preconditionFailure("SIMD instruction 0xfd \(opcode) without a sequence")
        }
        switch kind {
        case .xmm:
            if case .xmm(let x) = loc(result), XReg(x) != r.d { asm.movaps(XReg(x), r.d) }  // b or c was there
            finishX(result, r.d)
        case .gpr: finish(result, r.gd)
        case .flags(let cc):
            asm.setcc(cc, r.gd)
            asm.movzx8(r.gd, r.gd)
            finish(result, r.gd)
        }
    }

    /// A v128 load of some form (`simdMemoryOpcode`): into the result's register, a lane load
    /// from its vector there first.
    mutating func simdLoad(_ inst: IRInst, _ opcode: UInt32) {
        let r = inst.result
        let d = xdst(r)
        if !inst.b.isNone { asm.load128(d, vector(inst.b)) }  // (the allocator gave d to b only where b ends here)
        let mm = address(of: inst)
        m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
        if inst.b.isNone {
            m.simdLoad(opcode, d, mm, zero: d == Self.x2 ? Self.x1 : Self.x2)
        } else {
            m.simdLoadLane(opcode, d, mm, lane: inst.simdLane)
        }
        finishX(r, d)
    }

    mutating func simdStore(_ inst: IRInst, _ opcode: UInt32) {
        let x = xmm(inst.b, into: Self.x2)
        let mm = address(of: inst)
        m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
        m.simdStore(opcode, x, mm, lane: inst.simdLane)
    }
}
