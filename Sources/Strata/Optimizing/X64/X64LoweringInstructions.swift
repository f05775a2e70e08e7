import CStrata

/// Instruction selection for the optimizing tier on x86-64: one IR instruction at a time,
/// operands from their allocated locations (registers, spill slots, immediates), results into
/// theirs. r10/r11 and xmm14/xmm15 are the only registers used beyond the allocation.
extension X64Lowering {
    mutating func instruction(_ inst: IRInst, fusedCondition: IRInst?) {
        let r = inst.result
        let t = inst.type
        let offset = Int(inst.offset)
        switch inst.op {
        case .const:
            break  // rematerialized at each use
        case .heldConst:
            // Loaded once, here (a loop's preheader): the loop's uses read its location.
            let d = xdst(r)
            if t == .v128 {
                m.loadConstant(d, V128Bits(lo: inst.imm, hi: inst.imm2))
            } else {
                asm.movss(Self.fwidth(t!), d, rip: constantLabel(t == .f32 ? inst.imm & 0xFFFF_FFFF : inst.imm))
            }
            finishX(r, d)
        case .param where inst.imm2 == 1:  // an OSR entry's local: the baseline frame's slot
            asm.load(.w64, Self.s2, osrStateSlot(0))
            loadSlot(r, Mem(Self.s2, Int32(-16 * Int(inst.imm))))
        case .param where inst.imm2 == 2:  // an OSR entry's operand-stack value
            asm.load(.w64, Self.s2, osrStateSlot(1))
            loadSlot(r, Mem(Self.s2, Int32(16 * Int(inst.imm))))
        case .param:
            if direct != nil { return }  // moved from its register at the entry
            asm.load(.w64, Self.s2, Mem(.rbp, m.slotBufferOffset))
            loadSlot(r, Mem(Self.s2, Int32(16 * Int(inst.imm))))
        case .add where ra.sums[inst.result.id] != nil, .sub where ra.sums[inst.result.id] != nil, .shl where ra.sums[inst.result.id] != nil:
            sum(inst, ra.sums[inst.result.id]!)
        case .add where addAsLea(inst), .sub where addAsLea(inst):
            break
        case .add, .sub, .and, .or, .xor:
            let op: ALU = inst.op == .add ? .add : inst.op == .sub ? .sub : inst.op == .and ? .and : inst.op == .or ? .or : .xor
            twoAddress(inst) { l, d, b, w in
                switch b {
                case .reg(let s): l.asm.alu(op, w, d, s)
                case .mem(let mm): l.asm.alu(op, w, d, mm)
                case .imm(let i): l.asm.alu(op, w, d, imm: i)
                }
                l.flagsHold = inst.result  // ZF: the result is zero (only moves follow)
            }
        case .mul:
            twoAddress(inst) { l, d, b, w in
                switch b {
                case .reg(let s): l.asm.imul(w, d, s)
                case .mem(let mm): l.asm.load(w, Self.s2, mm); l.asm.imul(w, d, Self.s2)
                case .imm(let i): l.asm.imul(w, d, d, imm: i)
                }
            }
        case .divS, .divU, .remS, .remU:
            divide(inst)
        case .mulhiU:
            // mul r64: rdx:rax = rax * r.
            move(inst.b, to: Self.s2)
            move(inst.a, to: .rax)
            asm.mul(.w64, Self.s2)
            let d = dst(r)
            if d != .rdx { asm.mov(.w64, d, .rdx) }
            finish(r, d)
        case .shl, .shrS, .shrU, .rotl, .rotr:
            let op: Shift = inst.op == .shl ? .shl : inst.op == .shrS ? .sar : inst.op == .shrU ? .shr : inst.op == .rotl ? .rol : .ror
            let w = Self.width(t!)
            if let bits = f.constant(inst.b) {
                let d = dst(r)
                let count = UInt8(truncatingIfNeeded: bits) & (w == .w32 ? 31 : 63)
                if bmi2, op == .rol || op == .ror, count != 0, f.constant(inst.a) == nil {
                    // rorx: into the result's register from the operand's, no copy first.
                    let a = gpr(inst.a, into: d)
                    asm.rorx(w, d, a, op == .ror ? count : (w == .w32 ? 32 : 64) - count)
                } else if op == .shl, (1...3).contains(count), f.constant(inst.a) == nil, case .gpr(let a) = loc(inst.a), Reg(a) != d {
                    // From another register: one lea (a × 2, 4, 8), no copy first.
                    if count == 1 { asm.lea(w, d, Mem(Reg(a), index: Reg(a))) } else { asm.lea(w, d, index: Reg(a), scale: count, 0) }
                } else {
                    move(inst.a, to: d)
                    asm.shift(op, w, d, imm: count)
                }
                finish(r, d)
            } else if bmi2, op == .shl || op == .shr || op == .sar {
                // Operand and count in any registers, the result in a third: no copies to cl.
                let a = gpr(inst.a, into: Self.s1)
                let c = gpr(inst.b, into: Self.s2)
                let d = dst(r)
                asm.shiftx(op, w, d, a, count: c)
                finish(r, d)
            } else {
                // The count goes to cl; nothing else lives in rcx across a variable shift.
                move(inst.a, to: Self.s1)
                move(inst.b, to: .rcx)
                asm.shift(op, w, Self.s1)
                let d = dst(r)
                if d != Self.s1 { asm.mov(.w64, d, Self.s1) }
                finish(r, d)
            }
        case .clz, .ctz, .popcnt:
            let w = Self.width(t!)
            let a = gpr(inst.a, into: Self.s2)
            let d = dst(r)
            switch inst.op {
            case .clz: asm.lzcnt(w, d, a)
            case .ctz: asm.tzcnt(w, d, a)
            default: asm.popcnt(w, d, a)
            }
            finish(r, d)
        case .eqz, .cmp:
            if inst.op == .cmp, f.type(inst.a).isFloat {
                floatCompare(inst)
                return
            }
            let cc = flags(inst)
            let d = dst(r)
            asm.setcc(cc, d)
            asm.movzx8(d, d)
            finish(r, d)
        case .extend8S, .extend16S, .extend32S, .wrap, .sext, .zext:
            let a = gpr(inst.a, into: Self.s2)
            let d = dst(r)
            switch inst.op {
            case .extend8S: asm.movsx8(Self.width(t!), d, a)
            case .extend16S: asm.movsx16(Self.width(t!), d, a)
            case .extend32S, .sext: asm.movsxd(d, a)
            default: asm.mov(.w32, d, a)
            }
            finish(r, d)
        case .fadd, .fsub, .fmul, .fdiv:
            let op: SSEOp = inst.op == .fadd ? .add : inst.op == .fsub ? .sub : inst.op == .fmul ? .mul : .div
            let fw = Self.fwidth(t!)
            if avx {
                // d = a op b with no constraint between d, a and b.
                let d = xdst(r)
                let a = xmm(inst.a, into: Self.x2)
                if let mm = foldedMemory(inst.b) {
                    foldedAccess()
                    asm.vsse(op, fw, d, a, mm)
                } else if let bits = f.constant(inst.b) {
                    asm.vsse(op, fw, d, a, rip: constantLabel(fw == .f32 ? bits & 0xFFFF_FFFF : bits))
                } else if case .stack(let k) = loc(inst.b) {
                    asm.vsse(op, fw, d, a, spill(k))
                } else {
                    asm.vsse(op, fw, d, a, xmm(inst.b, into: Self.x1))
                }
                finishX(r, d)
            } else if let mm = foldedMemory(inst.b) {
                let d = xdst(r)
                moveX(inst.a, to: d)
                foldedAccess()
                asm.sse(op, fw, d, mm)
                finishX(r, d)
            } else if let bits = f.constant(inst.b) {
                // The constant straight from the pool.
                let d = xdst(r)
                moveX(inst.a, to: d)
                asm.sse(op, fw, d, rip: constantLabel(fw == .f32 ? bits & 0xFFFF_FFFF : bits))
                finishX(r, d)
            } else if case .stack(let k) = loc(inst.b) {
                let d = xdst(r)
                moveX(inst.a, to: d)
                asm.sse(op, fw, d, spill(k))
                finishX(r, d)
            } else {
                floatTwoAddress(inst) { l, d, b in l.asm.sse(op, fw, d, b) }
            }
        case .fmin, .fmax:
            let fw = Self.fwidth(t!)
            let isMin = inst.op == .fmin
            floatTwoAddress(inst) { l, a, b in l.m.floatMinMax(fw, min: isMin, a, b) }
        case .fcopysign:
            let w: Width = t == .f32 ? .w32 : .w64
            let a = gpr(inst.a, into: Self.s1)
            if a != Self.s1 { asm.mov(.w64, Self.s1, a) }
            let b = gpr(inst.b, into: Self.s2)
            if b != Self.s2 { asm.mov(.w64, Self.s2, b) }
            if w == .w32 {
                asm.alu(.and, .w32, Self.s1, imm: 0x7FFF_FFFF)
                asm.alu(.and, .w32, Self.s2, imm: Int32.min)
            } else {
                asm.btr(.w64, Self.s1, bit: 63)
                asm.shift(.shr, .w64, Self.s2, imm: 63)
                asm.shift(.shl, .w64, Self.s2, imm: 63)
            }
            asm.alu(.or, w, Self.s1, Self.s2)
            bitsToResult(r, Self.s1)
        case .fabs, .fneg:
            let w: Width = t == .f32 ? .w32 : .w64
            let a = gpr(inst.a, into: Self.s1)
            if a != Self.s1 { asm.mov(.w64, Self.s1, a) }
            if inst.op == .fabs {
                if w == .w32 { asm.alu(.and, .w32, Self.s1, imm: 0x7FFF_FFFF) } else { asm.btr(.w64, Self.s1, bit: 63) }
            } else {
                asm.btc(w, Self.s1, bit: w == .w32 ? 31 : 63)
            }
            bitsToResult(r, Self.s1)
        case .fsqrt, .fceil, .ffloor, .ftrunc, .fnearest, .fpromote, .fdemote:
            let a = xmm(inst.a, into: Self.x2)
            let d = xdst(r)
            // These write only the low lane and keep the rest of d: without the zeroing (a
            // dependency-breaking idiom) each would wait for whatever last wrote d, which in a
            // loop is often the previous iteration's last instruction.
            if d != a { asm.xorps(d, d) }
            switch inst.op {
            case .fsqrt: asm.sse(.sqrt, Self.fwidth(t!), d, a)
            case .fceil: asm.round(Self.fwidth(t!), d, a, mode: 2 | 8)
            case .ffloor: asm.round(Self.fwidth(t!), d, a, mode: 1 | 8)
            case .ftrunc: asm.round(Self.fwidth(t!), d, a, mode: 3 | 8)
            case .fnearest: asm.round(Self.fwidth(t!), d, a, mode: 0 | 8)
            case .fpromote: asm.cvtFloat(from: .f32, d, a)
            default: asm.cvtFloat(from: .f64, d, a)
            }
            finishX(r, d)
        case .sitofp, .uitofp32:
            var a = gpr(inst.a, into: Self.s2)
            let d = xdst(r)
            if inst.op == .uitofp32 {
                asm.mov(.w32, Self.s2, a)
                a = Self.s2
                asm.xorps(d, d)
                asm.cvtsi2s(Self.fwidth(t!), .w64, d, a)
            } else {
                asm.xorps(d, d)
                asm.cvtsi2s(Self.fwidth(t!), Self.width(f.type(inst.a)), d, a)
            }
            finishX(r, d)
        case .bitcast:
            if t!.isFloat {
                let a = gpr(inst.a, into: Self.s2)
                let d = xdst(r)
                asm.movToX(Self.width(t!), d, a)
                finishX(r, d)
            } else {
                let a = xmm(inst.a, into: Self.x2)
                let d = dst(r)
                asm.movFromX(Self.width(t!), d, a)
                finish(r, d)
            }
        case .convert:
            // strata_builtin_convert(vm, opcode, bits, out): the result comes back in outgoing slot 0.
            let a = f.type(inst.a).isFloat ? { () -> Reg in
                let x = xmm(inst.a, into: Self.x2)
                asm.movFromX(.w64, Self.s2, x)
                return Self.s2
            }() : gpr(inst.a, into: Self.s2)
            asm.mov(.w64, .rdx, a)
            asm.movImm32(.rsi, UInt32(inst.imm))
            asm.lea(.w64, .rcx, Mem(.rsp, 0))
            m.callBuiltin(.convert, mayTrap: true, offset: offset)
            loadSlot(r, Mem(.rsp, 0))
        case .select:
            select(inst, fusedCondition: fusedCondition)
        case .load:
            load(inst)
        case .store:
            store(inst)
        case .globalGet:
            let cell = m.globalCell(Int(inst.imm), context, scratch: Self.s2)
            if t == .v128 {
                let d = xdst(r)
                asm.movdqu(d, cell)
                finishX(r, d)
            } else if t!.isFloat {
                let d = xdst(r)
                asm.movss(Self.fwidth(t!), d, cell)
                finishX(r, d)
            } else {
                let d = dst(r)
                asm.load(Self.width(t!), d, cell)
                finish(r, d)
            }
        case .globalSet:
            let vt = f.type(inst.a)
            if vt == .v128 {
                let x = xmm(inst.a, into: Self.x2)
                asm.movdqu(m.globalCell(Int(inst.imm), context, scratch: Self.s2), x)
            } else if vt.isFloat {
                let x = xmm(inst.a, into: Self.x2)
                asm.movss(Self.fwidth(vt), m.globalCell(Int(inst.imm), context, scratch: Self.s2), x)
            } else {
                let v = gpr(inst.a, into: Self.s1)
                asm.store(.w64, m.globalCell(Int(inst.imm), context, scratch: Self.s2), v)
            }
        case .memorySize:
            let d = dst(r)
            if let memory = inst.memory {
                m.memoryDefinition(memory, into: d)
                asm.load(.w64, d, Mem(d, VMContextLayout.memoryByteSize))
                asm.shift(.shr, .w64, d, imm: 16)
            } else {
                m.memorySize(into: d)
            }
            finish(r, d)
        case .call:
            let function = Int(inst.imm)
            directResult = nil
            let type = context.types[Int(context.functionTypes[function])]
            if function >= importedFunctionCount, let d = X64DirectCall.assignment(type) {
                directCall(inst, d, type: type)
                return
            }
            let args = f.args(inst)
            for (k, a) in args.enumerated() { storeSlot(a, Mem(.rsp, Int32(16 * k)), scratch: Self.s1) }
            if function < importedFunctionCount {
                m.loadFunctionReference(function, into: .rax)
                m.callReference(slots: Mem(.rsp, 0), offset: offset)
            } else {
                m.callDefined(function - importedFunctionCount, slots: Mem(.rsp, 0), offset: offset)
            }
        case .callIndirect:
            directResult = nil
            let type = context.types[Int(inst.imm)]
            if let d = X64DirectCall.assignment(type) {
                directCallIndirect(inst, d, type: type)
                return
            }
            let args = f.args(inst)
            let index = args[args.endIndex - 1]
            for (k, a) in args.dropLast().enumerated() { storeSlot(a, Mem(.rsp, Int32(16 * k)), scratch: Self.s1) }
            let i = gpr(index, into: Self.s2)
            // A 64-bit table's index is compared whole (tables hold under 2^32 elements).
            if i != Self.s2 { asm.mov(context.tables[Int(inst.imm2)].is64 ? .w64 : .w32, Self.s2, i) }
            m.callIndirect(typeIndex: Int(inst.imm), table: Int(inst.imm2), index: Self.s2, scratch: Self.s1, slots: Mem(.rsp, 0), offset: offset)
        case .callRef:
            directResult = nil
            let args = f.args(inst)
            for (k, a) in args.dropLast().enumerated() { storeSlot(a, Mem(.rsp, Int32(16 * k)), scratch: Self.s1) }
            m.callRef(gpr(args[args.endIndex - 1], into: Self.s2), slots: Mem(.rsp, 0), offset: offset)
        case .tailCall, .tailCallIndirect, .tailCallRef:
            // The arguments to this function's slot buffer when they fit (compiled callees are
            // then jumped to), else to the store's tail-call area; the callee's reference
            // (checked) to rax; then the jump, or back to the entry wrapper, which makes the call.
            let all = f.args(inst)
            let args = inst.op == .tailCall ? all : all.dropLast()
            let fits = args.count <= max(f.paramTypes.count, f.resultTypes.count)
            if fits {
                asm.load(.w64, Self.s1, Mem(.rbp, m.slotBufferOffset))
                for (k, a) in args.enumerated() { storeSlot(a, Mem(Self.s1, Int32(16 * k)), scratch: Self.s2) }
            } else {
                asm.load(.w64, Self.s1, Mem(Layer.vm, VMContextLayout.tailCall))
                for (k, a) in args.enumerated() { storeSlot(a, X64MachineLayer.tailCallArgument(k, area: Self.s1), scratch: Self.s2) }
            }
            switch inst.op {
            case .tailCall:
                m.loadFunctionReference(Int(inst.imm), into: .rax)
            case .tailCallIndirect:
                let i = gpr(all[all.endIndex - 1], into: Self.s2)
                // A 64-bit table's index is compared whole (tables hold under 2^32 elements).
                asm.mov(context.tables[Int(inst.imm2)].is64 ? .w64 : .w32, Self.s2, i)
                m.indirectReference(typeIndex: Int(inst.imm), table: Int(inst.imm2), index: Self.s2, scratch: Self.s1, offset: offset)
            default:
                m.functionReference(gpr(all[all.endIndex - 1], into: Self.s2), offset: offset)
            }
            if fits {
                m.jumpForTailCall(argumentCount: args.count)
            } else {
                m.leaveForTailCall(argumentCount: args.count, scratch: Self.s1)
            }
        case .callResult:
            if let d = directResult {
                if loc(r) != d { emitMove(.loc(d), to: loc(r)) }
            } else {
                loadSlot(r, Mem(.rsp, Int32(16 * Int(inst.imm))))
            }
        case .builtin:
            builtin(inst)
        case .refFunc:
            let d = dst(r)
            m.loadFunctionReference(Int(inst.imm), into: d)
            finish(r, d)
        case .tableGet:
            let i = gpr(inst.a, into: Self.s2)
            m.tableElements(table: Int(inst.imm), index: i, scratch: Self.s1, offset: offset)
            let d = dst(r)
            asm.load(.w64, d, Mem(Self.s1, index: i, scale: 3))
            finish(r, d)
        case .tableSet:
            let i = gpr(inst.a, into: Self.s2)
            m.tableElements(table: Int(inst.imm), index: i, scratch: Self.s1, offset: offset)
            if i != Self.s2 { asm.mov(.w64, Self.s2, i) }
            asm.lea(.w64, Self.s1, Mem(Self.s1, index: Self.s2, scale: 3))
            let v = gpr(inst.b, into: Self.s2)
            asm.store(.w64, Mem(Self.s1, 0), v)
        case .interruptCheck:
            m.interruptCheck(offset: offset)
        case .nullCheck:
            m.nullCheck(gpr(inst.a, into: Self.s1), offset: offset)
        case .tableSize:
            let d = dst(r)
            asm.load(.w64, d, Mem(Layer.vm, VMContextLayout.tables))
            asm.load(.w64, d, Mem(d, Int32(8 * Int(inst.imm))))
            asm.load(.w32, d, Mem(d, VMContextLayout.tableCount))
            finish(r, d)
        case .throw where inst.imm == UInt64.max:
            // throw_ref: a null reference traps.
            move(inst.a, to: .rsi)
            m.callBuiltin(.throwReference, mayTrap: false, offset: offset)
            m.trapUnlessException(offset: offset)
        case .throw:
            for (k, a) in f.args(inst).enumerated() { storeSlot(a, Mem(.rsp, Int32(16 * k)), scratch: Self.s1) }
            asm.movImm32(.rsi, UInt32(inst.imm))
            asm.lea(.w64, .rdx, Mem(.rsp, 0))
            m.callBuiltin(.throwException, mayTrap: false, offset: offset)
        case .landing:
            landing(offset: inst.offset)
        case .catchClause:
            // strata_builtin_catch(vm, tag, slots, withReference): the payload to outgoing slots.
            asm.movImm32(.rsi, UInt32(truncatingIfNeeded: inst.imm))
            asm.lea(.w64, .rdx, Mem(.rsp, 0))
            asm.movImm32(.rcx, UInt32(inst.imm2))
            m.callBuiltin(.catchException, mayTrap: false, offset: offset)
            let d = dst(r)
            asm.mov(.w32, d, .rax)
            finish(r, d)
        case .caught:
            loadSlot(r, Mem(.rsp, Int32(16 * Int(inst.imm))))
        case .simd:
            simd(inst)
        }
    }

    /// A sum with the adds and shifts folded into it (`RegisterAllocator.foldedSums`): one `lea`.
    mutating func sum(_ inst: IRInst, _ form: AddressForm) {
        let w = Self.width(inst.type!)
        let d = dst(inst.result)
        let disp = Int32(truncatingIfNeeded: form.disp)
        let index = form.index.map { gpr($0, into: Self.s2) }
        if let b = form.base {
            let base = gpr(b, into: Self.s1)
            if let index { asm.lea(w, d, Mem(base, index: index, scale: form.scale, disp)) } else { asm.lea(w, d, Mem(base, disp)) }
        } else if let index {
            if form.scale == 1 { asm.lea(w, d, Mem(index, index: index, scale: 0, disp)) } else { asm.lea(w, d, index: index, scale: form.scale, disp) }
        } else {
            preconditionFailure("a sum without registers")
        }
        finish(inst.result, d)
    }

    /// An add (or a subtraction of a constant) whose result register is neither operand's:
    /// the same one `lea` (`sum`) instead of a move and an add (32-bit lea zero-extends like add).
    mutating func addAsLea(_ inst: IRInst) -> Bool {
        guard case .gpr(let d) = loc(inst.result), case .gpr(let a) = loc(inst.a), a != d else { return false }
        let wide = inst.type == .i64
        var form = AddressForm(base: inst.a)
        if let bits = f.constant(inst.b) {
            let value = wide ? Int64(bitPattern: bits) : Int64(Int32(truncatingIfNeeded: bits))
            guard value != Int64.min, let withDisp = AddressForm.sum(form, AddressForm(disp: inst.op == .sub ? -value : value), wide: wide) else { return false }
            form = withDisp
        } else {
            guard inst.op == .add, case .gpr(let b) = loc(inst.b), b != d else { return false }
            form.index = inst.b
        }
        sum(inst, form)
        return true
    }

    /// d = a op b for two-address integer instructions, whichever registers a, b and d share.
    mutating func twoAddress(_ inst: IRInst, _ op: (inout X64Lowering, Reg, Src, Width) -> Void) {
        let w = Self.width(inst.type!)
        let d = dst(inst.result)
        var b = src(inst.b, w, scratch: Self.s2)
        if foldedLoad != nil, case .mem(var mm) = b {
            // A folded load: its address must survive a moving into d.
            if mm.index == d, loc(inst.a) != .gpr(d.code) {
                asm.mov(.w64, Self.s2, d)
                mm = Mem(mm.base, index: Self.s2, scale: mm.scale, mm.disp)
            }
            move(inst.a, to: d)
            foldedAccess()
            op(&self, d, .mem(mm), w)
            finish(inst.result, d)
            return
        }
        if case .reg(let rb) = b, rb == d, loc(inst.a) != loc(inst.b) {
            if inst.op.isCommutative {
                // d already holds b: d = b op a.
                let a = src(inst.a, w, scratch: Self.s2)
                op(&self, d, a, w)
                finish(inst.result, d)
                return
            }
            asm.mov(.w64, Self.s2, rb)
            b = .reg(Self.s2)
        }
        move(inst.a, to: d)
        op(&self, d, b, w)
        finish(inst.result, d)
    }

    mutating func floatTwoAddress(_ inst: IRInst, _ op: (inout X64Lowering, XReg, XReg) -> Void) {
        let d = xdst(inst.result)
        var b = xmm(inst.b, into: Self.x2)
        if b == d, loc(inst.a) != loc(inst.b) {
            if inst.op.isCommutative {
                let a = xmm(inst.a, into: Self.x2)
                op(&self, d, a)
                finishX(inst.result, d)
                return
            }
            asm.movaps(Self.x2, b)
            b = Self.x2
        }
        moveX(inst.a, to: d)
        op(&self, d, b)
        finishX(inst.result, d)
    }

    /// A float result whose bits are in `r`.
    mutating func bitsToResult(_ v: IRValue, _ r: Reg) {
        switch loc(v) {
        case .xmm(let x): asm.movToX(f.type(v) == .f32 ? .w32 : .w64, XReg(x), r)
        case .stack(let k): asm.store(.w64, spill(k), r)
        case .gpr(let g): asm.mov(.w64, Reg(g), r)
        case .none, .stack16: break
        }
    }

    /// div_s, div_u, rem_s, rem_u: dividend in rax, divisor in r10 (`X64MachineLayer.divide`).
    mutating func divide(_ inst: IRInst) {
        let w = Self.width(inst.type!)
        let signed = inst.op == .divS || inst.op == .remS
        let remainder = inst.op == .remS || inst.op == .remU
        let offset = Int(inst.offset)
        move(inst.b, to: Self.s2)
        move(inst.a, to: .rax)
        let constantDivisor = f.constant(inst.b).map { $0 & (w == .w32 ? 0xFFFF_FFFF : ~0) }
        m.divide(w, signed: signed, remainder: remainder, divisor: Self.s2, scratch: Self.s1,
                 checkZero: constantDivisor == nil || constantDivisor == 0, offset: offset)
        let d = dst(inst.result)
        let from: Reg = remainder ? .rdx : .rax
        if d != from { asm.mov(.w64, d, from) }
        finish(inst.result, d)
    }

    mutating func floatCompare(_ inst: IRInst) {
        let cond = IRCond(rawValue: UInt8(inst.imm))!
        let fw = Self.fwidth(f.type(inst.a))
        let a = xmm(inst.a, into: Self.x1), b = xmm(inst.b, into: Self.x2)
        let d = dst(inst.result)
        switch cond {
        case .eq, .ne:
            asm.ucomis(fw, a, b)
            asm.setcc(cond == .eq ? .e : .ne, d)
            asm.setcc(cond == .eq ? .np : .p, Self.s2)
            asm.movzx8(d, d)
            asm.movzx8(Self.s2, Self.s2)
            asm.alu(cond == .eq ? .and : .or, .w32, d, Self.s2)
        case .flt: asm.ucomis(fw, b, a); asm.setcc(.a, d); asm.movzx8(d, d)
        case .fgt: asm.ucomis(fw, a, b); asm.setcc(.a, d); asm.movzx8(d, d)
        case .fle: asm.ucomis(fw, b, a); asm.setcc(.ae, d); asm.movzx8(d, d)
        default: asm.ucomis(fw, a, b); asm.setcc(.ae, d); asm.movzx8(d, d)
        }
        finish(inst.result, d)
    }

    /// c ? a : b. Integers with cmov (on the fused compare's flags when there is one); floats
    /// with a branch around a move.
    mutating func select(_ inst: IRInst, fusedCondition: IRInst?) {
        let t = inst.type!
        if t.inXMM {
            testCondition(inst.c)
            let skip = asm.newLabel()
            moveX(inst.a, to: Self.x1)
            asm.jcc(.ne, skip)
            moveX(inst.b, to: Self.x1)
            asm.bind(skip)
            let d = xdst(inst.result)
            if d != Self.x1 { asm.movaps(d, Self.x1) }
            finishX(inst.result, d)
            return
        }
        let cc: Cond
        if let c = fusedCondition, c.result == inst.c { cc = flags(c) } else {
            testCondition(inst.c)
            cc = .ne
        }
        // Moves leave the flags alone. The result register takes b (unless it holds a: then the
        // opposite condition brings b in), and a moves in on the condition.
        let d = dst(inst.result)
        if f.constant(inst.a) == nil, loc(inst.a) == loc(inst.result) {
            let b = gpr(inst.b, into: Self.s2)
            asm.cmov(cc.negated, .w64, d, b)
        } else {
            move(inst.b, to: d)
            let a = gpr(inst.a, into: Self.s2)
            asm.cmov(cc, .w64, d, a)
        }
        finish(inst.result, d)
    }

    // MARK: memory

    /// The effective address of an access: memory base + zero-extended address + offset (only
    /// r10 is used). The guard region behind every 32-bit memory catches what is out of bounds.
    mutating func address(_ a: IRValue, _ memOffset: UInt64) -> Mem {
        if let bits = f.constant(a) {
            let ea = (bits & 0xFFFF_FFFF) + memOffset
            if ea <= 0x7FFF_FFFF { return Mem(Layer.memBase, Int32(ea)) }
            asm.movImm(Self.s2, ea)
            return Mem(Layer.memBase, index: Self.s2)
        }
        if memOffset <= 0x7FFF_FFFF {
            let r = gpr(a, into: Self.s2)
            return Mem(Layer.memBase, index: r, Int32(memOffset))
        }
        asm.movImm(Self.s2, memOffset)
        switch loc(a) {
        case .gpr(let r): asm.alu(.add, .w64, Self.s2, Reg(r))
        case .stack(let k): asm.alu(.add, .w64, Self.s2, spill(k))
        default: preconditionFailure("address without a location")
        }
        return Mem(Layer.memBase, index: Self.s2)
    }

    /// The operand of a load or store: memory 0's fast path, or another memory's (`otherAddress`).
    mutating func address(of inst: IRInst) -> Mem {
        if let memory = inst.memory { return otherAddress(inst.a, inst.imm2, memory: memory, offset: Int(inst.offset)) }
        return address(inst.a, inst.imm2)
    }

    /// Whether a 64-bit address of memory 0 needs no check, the guard region catching what is
    /// out of bounds: a value checked before in this block is below 2^32 (SSA values do not
    /// change, memories do not shrink); so is, within the 8 GiB reservation, that value plus a
    /// constant below 2^31 with a displacement below 2^31 (the matrix and array walks that
    /// step a checked pointer: `p`, `p + 8`, ...).
    func isBelow4GiB(_ a: IRValue, displacement: UInt64) -> Bool {
        if checkedAddresses.contains(a) { return true }
        guard displacement <= 0x7FFF_FFFF, let d = f.def(a), d.op == .add, d.type == .i64 else { return false }
        for (x, y) in [(d.a, d.b), (d.b, d.a)] {
            if let c = f.constant(y), c <= 0x7FFF_FFFF, checkedAddresses.contains(x) { return true }
        }
        return false
    }

    /// The address of an access to a memory other than the plain memory 0, in s2: the memory's
    /// base (from `vmctx->memories`, through s1) plus the address. A 64-bit address or offset of
    /// 2^32 or more traps (memories are at most 4 GiB); the guard region catches the rest, as
    /// for 32-bit addresses. s1 is free again afterwards.
    mutating func otherAddress(_ a: IRValue, _ memOffset: UInt64, memory: UInt32, offset: Int) -> Mem {
        let is64 = context.memories[Int(memory)].is64
        let s1 = Self.s1, s2 = Self.s2
        if is64 && memOffset > UInt64(UInt32.max) { asm.jmp(m.stub(.memoryOutOfBounds, offset: offset)) }
        var disp = memOffset & 0xFFFF_FFFF
        if memory == 0 {
            // A 64-bit memory 0: its base is in r15 already (as for the plain memory 0).
            if let bits = f.constant(a) {
                if bits > UInt64(UInt32.max) { asm.jmp(m.stub(.memoryOutOfBounds, offset: offset)) }
                disp += bits & 0xFFFF_FFFF
                if disp <= 0x7FFF_FFFF { return Mem(Layer.memBase, Int32(disp)) }
                asm.movImm(s2, disp)
                return Mem(Layer.memBase, index: s2)
            }
            let r = gpr(a, into: s2)
            if !isBelow4GiB(a, displacement: disp) {
                m.checkAddress64(r, scratch: s1, offset: offset)
                checkedAddresses.append(a)
            }
            if disp <= 0x7FFF_FFFF { return Mem(Layer.memBase, index: r, Int32(disp)) }
            if r == s2 {
                asm.movImm(s1, disp)
                asm.alu(.add, .w64, s2, s1)
            } else {
                asm.movImm(s2, disp)
                asm.alu(.add, .w64, s2, r)
            }
            return Mem(Layer.memBase, index: s2)
        }
        if let bits = f.constant(a) {
            let address = is64 ? bits : bits & 0xFFFF_FFFF
            if address > UInt64(UInt32.max) { asm.jmp(m.stub(.memoryOutOfBounds, offset: offset)) }
            m.memoryDefinition(memory, into: s2)
            asm.load(.w64, s2, Mem(s2, VMContextLayout.memoryBase))
            disp += address & 0xFFFF_FFFF
        } else {
            let r = gpr(a, into: s2)
            if is64 {
                m.checkAddress64(r, scratch: s1, offset: offset)
            }
            m.memoryDefinition(memory, into: s1)
            asm.load(.w64, s1, Mem(s1, VMContextLayout.memoryBase))
            if is64 {
                asm.alu(.add, .w64, s1, r)
            } else {
                if r != s2 { asm.mov(.w32, s2, r) } else { asm.mov(.w32, s2, s2) }  // zero-extended
                asm.alu(.add, .w64, s1, s2)
            }
            asm.mov(.w64, s2, s1)
        }
        if disp <= 0x7FFF_FFFF { return Mem(s2, Int32(disp)) }
        asm.movImm(s1, disp)
        asm.alu(.add, .w64, s2, s1)
        return Mem(s2, 0)
    }

    mutating func load(_ inst: IRInst) {
        if let op = inst.simdMemoryOpcode { return simdLoad(inst, op) }
        let opcode = UInt8(inst.imm)
        let mm = address(of: inst)
        let r = inst.result
        let t = inst.type!
        m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
        if t.isFloat {
            let d = xdst(r)
            asm.movss(Self.fwidth(t), d, mm)
            finishX(r, d)
            return
        }
        let d = dst(r)
        m.loadInteger(opcode: opcode, into: d, mm)
        finish(r, d)
    }

    mutating func store(_ inst: IRInst) {
        if let op = inst.simdMemoryOpcode { return simdStore(inst, op) }
        let access = MemoryAccess.store(UInt8(inst.imm))
        let vt = f.type(inst.b)
        if vt.isFloat {
            let x = xmm(inst.b, into: Self.x2)
            let mm = address(of: inst)
            m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
            asm.movss(Self.fwidth(vt), mm, x)
            return
        }
        let mm = address(of: inst)
        // A constant of 1, 4 or 8 bytes (sign-extended from 32 bits) is the store's immediate (a
        // type tag, a flag, a zeroed field: C code stores such constants often). Not 2 bytes: a
        // 16-bit immediate after the operand-size prefix stalls Intel's decoders.
        if let bits = f.constant(inst.b), access.width == 1 {
            m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
            asm.storeImm8(mm, UInt8(truncatingIfNeeded: bits))
            return
        }
        if let bits = f.constant(inst.b), access.width >= 4,
           let value = access.width == 4 ? Int32(truncatingIfNeeded: bits) : Int32(exactly: Int64(bitPattern: bits)) {
            m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
            asm.storeImm(access.width == 4 ? .w32 : .w64, mm, value)
            return
        }
        let v = gpr(inst.b, into: Self.s1)
        m.faultSite(.memoryOutOfBounds, offset: Int(inst.offset))
        switch access.width {
        case 1: asm.store8(mm, v)
        case 2: asm.store16(mm, v)
        case 4: asm.store(.w32, mm, v)
        default: asm.store(.w64, mm, v)
        }
    }

    /// A store folding the load and the operation that computed its value
    /// (`RegisterAllocator.readModifyWrites`): `op [m], operand`, trapping as the load would.
    mutating func readModifyWrite(_ store: IRInst, _ w: ReadModifyWrite) {
        let width: Width = store.imm == 0x36 ? .w32 : .w64
        let op: ALU = switch w.op {
        case .add: .add
        case .sub: .sub
        case .and: .and
        case .or: .or
        default: .xor
        }
        // The operand first (a spilled one through s1), then the address (s2 at most).
        var operand = src(w.operand, width, scratch: Self.s1)
        if case .mem(let slot) = operand {
            asm.load(width, Self.s1, slot)
            operand = .reg(Self.s1)
        }
        let mm = address(store.a, store.imm2)
        m.faultSite(.memoryOutOfBounds, offset: Int(f.insts[Int(w.load)].offset))
        switch operand {
        case .reg(let r): asm.alu(op, width, mm, r)
        case .imm(let i): asm.alu(op, width, mm, imm: i)
        case .mem: preconditionFailure("loaded above")
        }
    }

    mutating func builtin(_ inst: IRInst) {
        let b = Builtin(rawValue: Int(inst.imm))!
        let order: [Reg] = [.rsi, .rdx, .rcx, .r8, .r9]
        let immediates = Int(inst.imm2 >> 48)
        var moves: [(IRValue, Location)] = []
        for (k, a) in f.args(inst).enumerated() { moves.append((a, .gpr(order[immediates + k].code))) }
        parallelMove(moves)
        for k in 0..<immediates {
            asm.movImm32(order[k], UInt32((inst.imm2 >> (16 * UInt64(k))) & 0xFFFF))
        }
        m.callBuiltin(b, mayTrap: X64MachineLayer.mayTrap(b), offset: Int(inst.offset))
        if let t = inst.type {
            let d = dst(inst.result)
            // A C u32 result leaves rax's upper half undefined (i64 results are u64).
            asm.mov(t == .i64 ? .w64 : .w32, d, .rax)
            finish(inst.result, d)
        }
    }
}
