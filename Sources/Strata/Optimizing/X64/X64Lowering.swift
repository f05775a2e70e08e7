import CStrata

/// x86-64 for the optimizing tier: the register model the allocator uses, and the emission of
/// allocated IR as machine code through the shared `X64MachineLayer` (frame, traps, calls).
///
/// Frame (the prologue has the baseline tier's shape, saving only the callee-saved registers
/// the function uses; `UnwindInfo` describes it from that set):
///
///     rbp+8   return address          rbp-S-8        caller's slot buffer
///     rbp     saved rbp               rbp-S-16-8*k   spill slot k (8 bytes)
///     rbp-8...rbp-S  the saved registers (r14, then r15, rbx, r12, r13 as used)
///     then two call scratch slots, the landing blocks' context slot and an OSR entry's two
///     pointers into the moved frame (8 bytes each; the last two only where there are some)
///     rbp-T-16*(k+1)  16-byte spill slot k (v128; T rounded to 16, so they are aligned)
///     rsp+16*i   outgoing slot i (arguments and results of calls, conversion results)
///
/// Registers: r14 = VM context, r15 = memory 0's base, r10/r11 and xmm14/xmm15 scratch (and
/// xmm13 for SIMD sequences that ask for it); values live in rsi, rdi, r8, r9, rax, rdx, rcx,
/// rbx, r12, r13 and xmm0-xmm13.
enum X64Machine {
    static let gprs: [UInt8] = [6, 7, 8, 9, 0, 2, 1, 3, 12, 13]
    static let xmms: [UInt8] = Array(0...13)
    static let callerSaved: UInt32 = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11

    /// The temporary a SIMD sequence needs beyond xmm14 and xmm15 (`X64Lowering.simd`).
    static let simdTemp = XReg(13)

    /// The machine with AVX (VEX forms read unaligned memory operands) or without, and with
    /// BMI2 (shifts by a register take the count in any register: `shlx`, `shrx`, `sarx`; only
    /// rotations still need cl) or without.
    static func registers(avx: Bool, bmi2: Bool = false) -> RegisterSet {
        var r = registers
        if avx { r.foldsVectorLoad = { X64MachineLayer.simdBinary[UInt32(truncatingIfNeeded: $0)] != nil } }
        if bmi2 {
            let general = r.clobbers
            r.clobbers = { inst, f in
                inst.op == .shl || inst.op == .shrS || inst.op == .shrU ? (0, 0) : general(inst, f)
            }
        }
        return r
    }

    static let registers = RegisterSet(
        gprs: gprs, xmms: xmms, callClobberGPR: callerSaved, callClobberXMM: 0xFFFF,
        clobbers: { inst, f in
            switch inst.op {
            case .divS, .divU, .remS, .remU, .mulhiU: return (1 << 0 | 1 << 2, 0)
            case .shl, .shrS, .shrU, .rotl, .rotr: return (f.constant(inst.b) == nil ? 1 << 1 : 0, 0)
            default: return (0, 0)
            }
        },
        temps: { inst, f in
            guard inst.op == .simd else { return 0 }
            let count = X64MachineLayer.simdTemps(UInt32(inst.imm), constantCount: !inst.b.isNone && f.constant(inst.b) != nil)
            return count >= 2 ? 1 << UInt32(simdTemp.code) : 0
        },
        foldsSums: true, callResultGPR: Reg.rax.code, callResultXMM: 0)
}

struct X64Lowering {
    typealias Layer = X64MachineLayer
    static let s1 = Reg.r11, s2 = Reg.r10
    /// Innermost loops' headers start at a multiple of this many bytes, a cache line.
    static let loopAlignment = 64
    /// Headers of loops that contain loops: a multiple of this many bytes (see `emit`).
    static let outerLoopAlignment = 16
    /// Innermost loops' headers start this many bytes past the line boundary. On Zen 5 some
    /// loops ran 1.35x slower starting 0 or 1 byte into a line than at any other offset
    /// (`simd_kernel_scalar`'s saturating-brighten loop, run at every offset in a harness);
    /// over the corpus and six programs outside it, 2 bytes past the boundary measured 3% faster
    /// in the geometric mean than the boundary itself (see docs/ARCHITECTURE.md).
    static let loopAlignmentSkew = 2
    /// Use AVX encodings (three-operand float arithmetic).
    let avx: Bool
    /// BMI2: `rorx` for rotations by a constant, `shlx`/`shrx`/`sarx` for shifts by a register
    /// (the caller checked the CPU; the allocation was made for `X64Machine.registers(bmi2:)`).
    let bmi2: Bool
    static let x1 = XReg(15), x2 = XReg(14)

    let f: IRFunction
    let ra: RegisterAllocation
    let order: [Int32]
    let context: ModuleContext
    let importedFunctionCount: Int
    let hasMemory: Bool
    /// This function's register-argument entry (`X64DirectCall`), when its signature fits.
    let direct: (arguments: [Location], result: Location?)?
    let makesTailCalls: Bool
    var m = X64MachineLayer()
    /// Code emitted after the body (slow paths of calls).
    var outOfLine: [(inout X64Lowering) -> Void] = []
    /// Where the last call left its result, when it was a direct call.
    var directResult: Location?
    /// The direct entry (self-calls jump there without looking at the entry table).
    var directLabel: Label?
    /// Whether a body that looks like a leaf may be emitted without a frame (`emit`), and
    /// whether it turned out to call something after all (then it must be emitted again
    /// without: `OptimizingCompiler`).
    let allowLeaf: Bool
    private(set) var leafBroken = false
    /// The callee-saved registers the body saves: r14 (vmctx), r15 when it accesses memory,
    /// and those of rbx, r12, r13 the allocation uses.
    let saved: SavedRegisters
    var labels: [Label] = []
    /// Blocks emitted, in layout order (edge blocks without moves are branched through).
    var layout: [Int32] = []
    /// Per block, the emitted block a branch to it reaches through edge blocks whose moves are
    /// nothing at the values' homes (`forwarded` without a loop's reloaded registers): what the
    /// layout leaves out and `target` falls back to.
    var laidOutTarget: [Int32] = []
    var outSlots = 1
    /// The value whose zero-ness the flags hold right now (set by an ALU instruction computing
    /// it, cleared by every instruction emitted after): a branch on it needs no `test`.
    var flagsHold: IRValue?
    /// A load folded into the instruction being emitted (its `b` operand).
    var foldedLoad: IRInst?
    /// 64-bit addresses of memory 0 checked (below 2^32) earlier in the block being emitted:
    /// a later access through the same value needs no check (`otherAddress`).
    var checkedAddresses: [IRValue] = []
    /// The reloaded values of the block being emitted (see `loc`).
    var overrides: [Int32: Location]?
    /// The allocator's position of the instruction or terminator being emitted (-1 in the
    /// prologue and in out-of-line code), and per value whether its definition has copied it
    /// into its head register (`RegisterAllocation.heads`).
    var position: Int32 = -1
    var headLoaded: [Bool]
    /// The function has landing blocks (a call inside a try_table): its VM context is kept in
    /// a frame slot (`contextSlot`) for them to reload.
    let hasLandings: Bool
    /// try_table handlers: (call's Wasm offset, the next offset, landing block's code offset).
    var handlers: [UInt32] = []

    /// The label of a float constant's 8 bytes after the code (the machine layer's pool).
    mutating func constantLabel(_ bits: UInt64) -> Label { m.constant64(bits) }

    init(
        f: IRFunction, allocation: RegisterAllocation, order: [Int32], context: ModuleContext, importedFunctionCount: Int, hasMemory: Bool,
        avx: Bool, bmi2: Bool = false, allowLeaf: Bool = true
    ) {
        self.allowLeaf = allowLeaf
        self.f = f
        self.avx = avx
        m.avx = avx
        self.bmi2 = bmi2
        self.ra = allocation
        self.order = order
        self.context = context
        // A function that makes tail calls has one entry (its wrapper runs them; see
        // `X64MachineLayer.tailCallWrapper`) and its body.
        makesTailCalls = f.insts.contains { $0.op.isTailCall }
        direct = makesTailCalls || f.isOSREntry ? nil : X64DirectCall.assignment(params: f.paramTypes, results: f.resultTypes)
        // r14 holds the VM context for the whole body, unless nothing after the prologue reads it.
        var registers: [Reg] = Self.needsVMContext(f, order: order) ? [.r14] : []
        if hasMemory { registers.append(.r15) }
        let reloaded = allocation.reloads.values.flatMap { $0.map(\.register) } + allocation.heads.values.map(\.register)
        for r in [Reg.rbx, .r12, .r13] where allocation.locations.contains(.gpr(r.code)) || reloaded.contains(.gpr(r.code)) {
            registers.append(r)
        }
        saved = SavedRegisters(registers)
        self.importedFunctionCount = importedFunctionCount
        self.hasMemory = hasMemory
        headLoaded = [Bool](repeating: false, count: f.values.count)
        hasLandings = order.contains { f.blocks[Int($0)].unwind >= 0 }
    }

    var asm: X64Assembler {
        get { m.asm }
        _modify { yield &m.asm }
    }

    /// Whether the body reads the VM context after its prologue: anything but computation on
    /// values and memory 0 (which the prologue's r15 covers) does, as do loops (interrupt
    /// checks) and exceptions. A body that does not keeps neither r14 nor its save.
    static func needsVMContext(_ f: IRFunction, order: [Int32]) -> Bool {
        for b in order {
            let block = f.blocks[Int(b)]
            if block.isLoopHeader || block.unwind >= 0 { return true }
            switch block.term {
            case .jump, .branch, .table, .ret, .trap: break
            default: return true
            }
            for i in block.insts {
                switch f.insts[Int(i)].op {
                case .const, .heldConst, .param, .add, .sub, .mul, .and, .or, .xor, .shl, .shrS, .shrU, .rotl, .rotr,
                     .divS, .divU, .remS, .remU, .mulhiU, .clz, .ctz, .popcnt, .eqz, .cmp,
                     .extend8S, .extend16S, .extend32S, .wrap, .sext, .zext,
                     .fadd, .fsub, .fmul, .fdiv, .fmin, .fmax, .fcopysign, .fabs, .fneg, .fsqrt, .fceil, .ffloor, .ftrunc,
                     .fnearest, .fpromote, .fdemote, .sitofp, .uitofp32, .bitcast, .select, .simd:
                    continue
                case .load, .store:
                    // Other memories are reached through `vmctx->memories`.
                    if let memory = f.insts[Int(i)].memory, memory != 0 { return true }
                default:
                    return true
                }
            }
        }
        return false
    }

    // MARK: locations

    /// Where `v` is in the block being emitted: its location, or the register a loop around
    /// the block reloaded it into (`RegisterAllocation.blockOverrides`).
    func loc(_ v: IRValue) -> Location {
        let l = ra.locations[Int(v.id)]
        guard l.isStack else { return l }
        if let o = overrides, let r = o[v.id] { return r }
        if headLoaded[Int(v.id)], position >= 0, let h = ra.heads[v.id], position <= h.end { return h.register }
        return l
    }
    /// Where `v` lives regardless of the position (its interval's register or slot, or its
    /// loop's register): what decisions made once for all code, like the layout, look at.
    func homeLoc(_ v: IRValue) -> Location {
        let l = ra.locations[Int(v.id)]
        if l.isStack, let o = overrides, let r = o[v.id] { return r }
        return l
    }
    /// Spill slot k: below the saved registers and the slot-buffer pointer.
    func spill(_ k: Int32) -> Mem { Mem(.rbp, -saved.bytes - 16 - 8 * k) }
    /// Bytes below rbp down to the 8-byte slots' end (spill slots, two call scratch slots, the
    /// landing blocks' context slot, an OSR entry's two pointers), rounded to 16: where the
    /// 16-byte slots start.
    var wideSlotsTop: Int32 {
        let n = Int32(ra.spillSlots + 2 + (hasLandings ? 1 : 0) + (f.isOSREntry ? 2 : 0))
        return (saved.bytes + 8 + 8 * n + 15) & ~15
    }
    /// 16-byte spill slot k (v128 values), 16-byte aligned (rbp is).
    func spill16(_ k: Int32) -> Mem { Mem(.rbp, -wideSlotsTop - 16 * (k + 1)) }
    static func width(_ t: IRType) -> Width { t.is64 ? .w64 : .w32 }
    static func fwidth(_ t: IRType) -> FloatWidth { t == .f32 ? .f32 : .f64 }

    enum Src { case reg(Reg), mem(Mem), imm(Int32) }

    /// An integer operand for an instruction of width `w`: a register, a spill slot or an
    /// immediate; constants that do not fit are loaded into `scratch`.
    /// The memory operand of a folded load when `v` is its value: the address is computed now
    /// and the next instruction emitted must be the access (`foldedAccess` records its trap site).
    mutating func foldedMemory(_ v: IRValue) -> Mem? {
        guard let l = foldedLoad, l.result == v else { return nil }
        return address(l.a, l.imm2)
    }
    /// Records the folded load's trap site: the next instruction reads the memory.
    mutating func foldedAccess() {
        if let l = foldedLoad { m.faultSite(.memoryOutOfBounds, offset: Int(l.offset)) }
    }

    mutating func src(_ v: IRValue, _ w: Width, scratch: Reg) -> Src {
        if let mm = foldedMemory(v) { return .mem(mm) }
        if let bits = f.constant(v) {
            if w == .w32 { return .imm(Int32(truncatingIfNeeded: bits)) }
            if let s = Int32(exactly: Int64(bitPattern: bits)) { return .imm(s) }
            asm.movImm(scratch, bits)
            return .reg(scratch)
        }
        switch loc(v) {
        case .gpr(let r): return .reg(Reg(r))
        case .stack(let k): return .mem(spill(k))
        case .xmm(let x): asm.movFromX(.w64, scratch, XReg(x)); return .reg(scratch)
        case .none, .stack16: preconditionFailure("operand without a location")
        }
    }

    /// `v` in a general register: its own, or loaded into `scratch`.
    mutating func gpr(_ v: IRValue, into scratch: Reg) -> Reg {
        if let bits = f.constant(v) {
            asm.movImm(scratch, f.type(v) == .i32 || f.type(v) == .f32 ? bits & 0xFFFF_FFFF : bits)
            return scratch
        }
        switch loc(v) {
        case .gpr(let r): return Reg(r)
        case .stack(let k): asm.load(.w64, scratch, spill(k)); return scratch
        case .xmm(let x): asm.movFromX(.w64, scratch, XReg(x)); return scratch
        case .none, .stack16: preconditionFailure("operand without a location")
        }
    }

    /// Moves `v` into register `r` (which it may already be in).
    mutating func move(_ v: IRValue, to r: Reg) {
        switch src(v, .w64, scratch: r) {
        case .reg(let s): if s != r { asm.mov(.w64, r, s) }
        case .mem(let mm): asm.load(.w64, r, mm)
        case .imm:
            let bits = f.constant(v)!
            asm.movImm(r, f.type(v) == .i32 ? bits & 0xFFFF_FFFF : bits)
        }
    }

    /// A float or v128 operand in an xmm register: its own, or loaded into `scratch`.
    mutating func xmm(_ v: IRValue, into scratch: XReg) -> XReg {
        let t = f.type(v)
        if t == .v128 {
            switch vector(v) {
            case .reg(let x): return x
            case let o: asm.load128(scratch, o); return scratch
            }
        }
        if let bits = f.constant(v) {
            if bits == 0 { asm.xorps(scratch, scratch) } else {
                asm.movss(Self.fwidth(t), scratch, rip: constantLabel(t == .f32 ? bits & 0xFFFF_FFFF : bits))
            }
            return scratch
        }
        switch loc(v) {
        case .xmm(let x): return XReg(x)
        case .stack(let k): asm.movss(Self.fwidth(t), scratch, spill(k)); return scratch
        case .gpr(let r): asm.movToX(.w64, scratch, Reg(r)); return scratch
        case .none, .stack16: preconditionFailure("operand without a location")
        }
    }
    /// A v128 operand: its register, its 16-byte slot, or its constant after the code.
    mutating func vector(_ v: IRValue) -> XOperand {
        if let bits = f.constant(v) { return .rip(m.constant128(V128Bits(lo: bits, hi: f.def(v)!.imm2))) }
        switch loc(v) {
        case .xmm(let x): return .reg(XReg(x))
        case .stack16(let k): return .mem(spill16(k))
        default: preconditionFailure("v128 operand without a location")
        }
    }
    mutating func moveX(_ v: IRValue, to x: XReg) {
        let s = xmm(v, into: x)
        if s != x { asm.movaps(x, s) }
    }

    /// The register a result is computed in: its own, or a scratch stored by `finish`.
    func dst(_ v: IRValue) -> Reg {
        if case .gpr(let r) = loc(v) { return Reg(r) }
        return Self.s1
    }
    func xdst(_ v: IRValue) -> XReg {
        if case .xmm(let x) = loc(v) { return XReg(x) }
        return Self.x1
    }
    /// Stores a result computed in a scratch register to its spill slot, and copies it to its
    /// head register if it has one (its next uses read that).
    mutating func finish(_ v: IRValue, _ r: Reg) {
        guard case .stack(let k) = loc(v) else { return }
        asm.store(.w64, spill(k), r)
        if let h = ra.heads[v.id], case .gpr(let g) = h.register {
            if Reg(g) != r { asm.mov(.w64, Reg(g), r) }
            headLoaded[Int(v.id)] = true
        }
    }
    mutating func finishX(_ v: IRValue, _ x: XReg) {
        switch loc(v) {
        case .stack(let k): asm.movss(.f64, spill(k), x)
        case .stack16(let k): asm.movdqu(spill16(k), x)
        default: return
        }
        if let h = ra.heads[v.id], case .xmm(let g) = h.register {
            if XReg(g) != x { asm.movaps(XReg(g), x) }
            headLoaded[Int(v.id)] = true
        }
    }

    // MARK: the function

    mutating func emit() -> MachineFunction {
        // Outgoing slots: the largest call.
        for inst in f.insts where inst.op == .call || inst.op == .callIndirect || inst.op == .callRef {
            outSlots = max(outSlots, Int(inst.extraCount))
        }
        for inst in f.insts where inst.op == .throw { outSlots = max(outSlots, Int(inst.extraCount)) }
        for inst in f.insts where inst.op == .callResult || inst.op == .caught { outSlots = max(outSlots, Int(inst.imm) + 1) }
        labels = f.blocks.map { _ in asm.newLabel() }
        laidOutTarget = layoutTargets()
        layout = order.filter { $0 == 0 || laidOutTarget[Int($0)] == $0 }
        let edgesBeforeHeaders = placeBackEdgesBeforeHeaders()

        // A leaf: a direct entry's body that calls nothing and keeps nothing below its saved
        // registers (no spill slots, no landing blocks; no calls, so no outgoing slots). It
        // needs no frame, and without loops no stack check either (see
        // `X64MachineLayer.prologue`), as in Cranelift: small helpers cost a push and a pop of
        // rbp around their work.
        let leaf = allowLeaf && direct != nil && !hasLandings && !f.isOSREntry && ra.spillSlots == 0 && ra.spillSlots16 == 0
            && !f.insts.contains { $0.op.isCall || $0.op == .callResult }
        let hasLoops = order.contains { f.blocks[Int($0)].isLoopHeader }
        var directEntry = 0, tailEntry = 0
        if let d = direct {
            slotBufferWrapper(d)
            directEntry = asm.offset
            m.prologue(hasMemory: hasMemory, slotBuffer: false, saved: saved, leaf: leaf, checksStack: hasLoops)
        } else if makesTailCalls {
            asm.bind(m.tailCallWrapper(resultCount: f.resultTypes.count))
            tailEntry = asm.offset
            m.prologue(hasMemory: hasMemory, saved: saved)
        } else {
            m.prologue(hasMemory: hasMemory, saved: saved)
        }
        // (An interrupt fails the prologue's stack check: no entry check of its own.)
        if hasLandings { asm.store(.w64, contextSlot, Layer.vm) }
        if f.isOSREntry {
            asm.store(.w64, osrStateSlot(0), .rdx)
            asm.store(.w64, osrStateSlot(1), .rcx)
        }
        if let d = direct {
            // The parameters arrive in registers: into their locations all at once.
            var moves: [(MoveSource, Location)] = []
            for i in f.blocks[0].insts where f.insts[Int(i)].op == .param {
                let p = f.insts[Int(i)]
                moves.append((.loc(d.arguments[Int(p.imm)]), loc(p.result)))
            }
            parallelMove(sources: moves)
        }
        // Loop headers start a cache line (2 bytes into it, `loopAlignmentSkew`) when their
        // loop is innermost: its first instructions are fetched whole, and the layout of the
        // code before it does not move its branches around. A loop that contains loops runs its
        // header once per run of the inner loop: its header is aligned to 16 bytes only, so the
        // code around the inner loop stays compact (fewer nops run on entry, and the loops'
        // branches keep their places relative to each other; with every header on a line
        // boundary, `matmul`'s three loops ran 10% slower; see docs/ARCHITECTURE.md).
        let innermost = ra.loops.map(IRPasses.innermostLoopHeaders) ?? IRPasses.innermostLoopHeaders(f, order: order)
        for (k, b) in layout.enumerated() {
            if edgesBeforeHeaders.contains(b) || f.blocks[Int(b)].isLoopHeader && !(k > 0 && edgesBeforeHeaders.contains(layout[k - 1])) {
                let header = edgesBeforeHeaders.contains(b) ? layout[k + 1] : b
                if innermost.contains(header) {
                    asm.align(Self.loopAlignment, skew: Self.loopAlignmentSkew)
                } else {
                    asm.align(Self.outerLoopAlignment)
                }
            }
            asm.bind(labels[Int(b)])
            // Other blocks jump here with other flags (and the previous block's terminator
            // may have set them): nothing is known of them at a block's start.
            flagsHold = nil
            m.inlineTag = f.blocks[Int(b)].inline  // trap sites of inlined code say so
            overrides = ra.blockOverrides[b]
            checkedAddresses.removeAll(keepingCapacity: true)
            let insts = f.blocks.withUnsafeBufferPointer { $0[Int(b)].insts }  // (not the whole block)
            var restores: [(value: IRValue, slot: Location)] = []
            for (j, i) in insts.enumerated() {
                if ra.fused[Int(i)] || ra.foldedSums[Int(i)] || ra.foldedIntoStores[Int(i)] { continue }
                if ra.foldedLoads[Int(i)] {
                    foldedLoad = f.insts[Int(i)]  // read by the next instruction
                    continue
                }
                var inst = f.insts[Int(i)]
                if let l = foldedLoad, inst.a == l.result { swap(&inst.a, &inst.b) }  // commutative
                let previous: IRInst? = j > 0 && ra.fused[Int(insts[j - 1])] ? f.insts[Int(insts[j - 1])] : nil
                if let saves = ra.savedAcrossCall[i] {
                    // Caller-saved registers live across the call: saved before its argument moves.
                    for (v, slot) in saves { emitMove(.loc(loc(v)), to: slot) }
                    restores = saves
                }
                flagsHold = nil
                position = ra.instPosition[Int(i)]
                if let w = ra.readModifyWrites[i] {
                    readModifyWrite(inst, w)
                    continue
                }
                instruction(inst, fusedCondition: previous)
                foldedLoad = nil
                // ... and restored once its results are taken.
                if !restores.isEmpty, j + 1 == insts.count || f.insts[Int(insts[j + 1])].op != .callResult {
                    for (v, slot) in restores { emitMove(.loc(slot), to: loc(v)) }
                    restores = []
                }
            }
            let next: Int32? = k + 1 < layout.count ? layout[k + 1] : nil
            position = ra.blockEnd[Int(b)]
            terminator(b, next: next)
        }
        // Spill slots, two scratch slots for indirect calls, the VM context's slot when there
        // are landing blocks, 16-byte spill slots, and outgoing slots.
        let frame = Int(wideSlotsTop - saved.bytes) + 16 * ra.spillSlots16 + 16 * outSlots
        m.inlineTag = 0  // out-of-line code: call paths (inlined code has no calls)
        position = -1  // values in their slots there
        while !outOfLine.isEmpty {
            let pending = outOfLine
            outOfLine = []
            for body in pending { body(&self) }
        }
        leafBroken = !m.leafHeld()
        var out = m.finish(frameSize: leaf ? 0 : frame, tier: .optimizing)
        out.directEntry = directEntry
        out.tailEntry = tailEntry
        for (codeOffset, tag) in m.inlineSites.sorted(by: { $0.0 < $1.0 }) {
            let call = f.inlines[Int(tag) - 1]
            out.inlineSites += [codeOffset, UInt32(call.callee), UInt32(bitPattern: call.callOffset)]
        }
        out.wrapperSaved = direct == nil && !makesTailCalls ? saved : SavedRegisters(mask: 0)
        out.handlers = handlers
        return out
    }

    /// A loop whose back edge has moves to make (an edge block in the layout) would run them
    /// and then jump to the header: the latch's branch falls through or not, then a second,
    /// taken jump. With the edge block placed right before the header, the latch branches to
    /// it and it falls into the header: one taken branch per iteration, and the code entering
    /// the loop jumps over it once. Of several such back edges, the last in the layout (the
    /// loop's bottom). Returns the blocks moved (they take the header's alignment).
    mutating func placeBackEdgesBeforeHeaders() -> Set<Int32> {
        var moved = Set<Int32>()
        var h = 1
        while h < layout.count {
            let header = layout[h]
            if f.blocks[Int(header)].isLoopHeader {
                var edge: Int?
                for e in h + 1..<layout.count {
                    let block = f.blocks[Int(layout[e])]
                    if block.insts.isEmpty, ra.reloads[layout[e]] == nil, case .jump(let t, _) = block.term, t == header { edge = e }
                }
                if let e = edge {
                    let b = layout.remove(at: e)
                    layout.insert(b, at: h)
                    moved.insert(b)
                    h += 1
                }
            }
            h += 1
        }
        return moved
    }

    /// The slot-buffer entry of a function with a direct entry: loads the arguments from the
    /// slots, calls the direct entry (bound right after), stores the result.
    mutating func slotBufferWrapper(_ d: (arguments: [Location], result: Location?)) {
        // No callee-saved register is touched: only rbp and the slot-buffer pointer.
        m.prologue(hasMemory: false, frameSize: 8, saved: SavedRegisters(mask: 0))
        asm.mov(.w64, Self.s2, .rsi)
        for (k, l) in d.arguments.enumerated() { loadArgument(l, f.paramTypes[k], Mem(Self.s2, Int32(16 * k))) }
        let entry = asm.newLabel()
        directLabel = entry
        asm.call(entry)
        m.wrapperCall()
        if let r = d.result {
            asm.load(.w64, Self.s1, Mem(.rbp, m.slotBufferOffset))
            storeArgument(r, f.resultTypes[0], Mem(Self.s1, 0))
        }
        m.epilogue()
        asm.bind(entry)
    }

    mutating func loadArgument(_ l: Location, _ t: IRType, _ slot: Mem) {
        switch l {
        case .gpr(let r): asm.load(Self.width(t), Reg(r), slot)
        case .xmm(let x): asm.movss(Self.fwidth(t), XReg(x), slot)
        default: preconditionFailure("argument location")
        }
    }
    mutating func storeArgument(_ l: Location, _ t: IRType, _ slot: Mem) {
        switch l {
        case .gpr(let r): asm.store(.w64, slot, Reg(r))
        case .xmm(let x): asm.movss(Self.fwidth(t), slot, XReg(x))
        default: preconditionFailure("argument location")
        }
    }

    /// Two frame slots past the spill slots, for what an indirect call keeps across its moves.
    func callScratch(_ k: Int) -> Mem { spill(Int32(ra.spillSlots + k)) }
    /// The frame slot past those that keeps the VM context for landing blocks.
    var contextSlot: Mem { spill(Int32(ra.spillSlots + 2)) }
    /// An OSR entry's pointers to the moved frame's locals (k = 0) and value-stack slots (k = 1),
    /// kept from its third and fourth arguments.
    func osrStateSlot(_ k: Int) -> Mem { spill(Int32(ra.spillSlots + 2 + (hasLandings ? 1 : 0) + k)) }

    /// A landing block's entry (the unwinder resumes here, or a throw's builtin returned to an
    /// enclosing handler): the stack pointer, VM context and memory base from the frame, then
    /// the values loops around the block keep in registers. Its call's Wasm offset gets a
    /// handler entry here.
    mutating func landing(offset: Int32) {
        handlers += [UInt32(bitPattern: offset), UInt32(bitPattern: offset) &+ 1, UInt32(asm.offset)]
        m.landingPadEntry(context: contextSlot, hasMemory: hasMemory)
        for (v, r) in (overrides ?? [:]).sorted(by: { $0.key < $1.key }) { emitMove(.loc(ra.locations[Int(v)]), to: r) }
    }

    /// `call_indirect` with a signature that fits registers: the table, null and signature
    /// checks, then the direct entry when the element is optimized code (of any instance:
    /// the vmctx comes from the reference), the slot-buffer path otherwise.
    mutating func directCallIndirect(_ inst: IRInst, _ d: (arguments: [Location], result: Location?), type: FuncType) {
        let offset = Int(inst.offset)
        let all = Array(f.args(inst))
        let args = Array(all.dropLast())
        let s1 = Self.s1, s2 = Self.s2
        let i = gpr(all[all.count - 1], into: s2)
        if i != s2 { asm.mov(context.tables[Int(inst.imm2)].is64 ? .w64 : .w32, s2, i) }
        asm.load(.w64, s1, Mem(Layer.vm, VMContextLayout.tables))
        asm.load(.w64, s1, Mem(s1, Int32(8 * Int(inst.imm2))))
        asm.alu(.cmp, .w64, s2, Mem(s1, VMContextLayout.tableCount))
        asm.jcc(.ae, m.stub(.undefinedElement, offset: offset))
        asm.load(.w64, s1, Mem(s1, VMContextLayout.tableElements))
        asm.load(.w64, s1, Mem(s1, index: s2, scale: 3))
        asm.test(.w64, s1, s1)
        asm.jcc(.e, m.stub(.uninitializedElement, offset: offset))
        asm.load(.w64, s2, Mem(Layer.vm, VMContextLayout.typeIDs))
        asm.load(.w32, s2, Mem(s2, Int32(4 * Int(inst.imm))))
        asm.alu(.cmp, .w32, s2, Mem(s1, VMContextLayout.funcRefTypeID))
        asm.jcc(.ne, m.stub(.indirectCallTypeMismatch, offset: offset))
        let slow = asm.newLabel(), back = asm.newLabel()
        // The reference's copy of its record's direct entry (`StrataFuncRef.directEntry`, kept
        // by the defining module; none: a host function, another tier, or a function that makes
        // tail calls) in r10 and the callee's vmctx in r11 stay there through the argument moves
        // (into registers only: they use neither, see `parallelMove`), r11 then to rdi.
        asm.load(.w64, s2, Mem(s1, VMContextLayout.funcRefDirectEntry))
        asm.test(.w64, s2, s2)
        asm.jcc(.e, slow)
        asm.load(.w64, s1, Mem(s1, VMContextLayout.funcRefVMContext))
        var moves = zip(args, d.arguments).map { (moveSource($0), $1) }
        moves.append((.loc(.gpr(s1.code)), .gpr(Reg.rdi.code)))
        parallelMove(sources: moves, r11Holds: true)
        asm.call(s2)
        m.recordCallSite(offset: offset)
        asm.bind(back)
        directResult = d.result
        let result = type.results.first.map { IRType($0) }
        let overridesHere = overrides  // the closure runs after every block: the block's view
        outOfLine.append { l in
            l.overrides = overridesHere
            l.asm.bind(slow)
            l.asm.store(.w64, l.callScratch(0), Self.s1)  // the function reference
            for (k, a) in args.enumerated() { l.storeSlot(a, Mem(.rsp, Int32(16 * k)), scratch: Self.s1) }
            l.asm.load(.w64, .rax, l.callScratch(0))
            l.m.callReference(slots: Mem(.rsp, 0), offset: offset)
            if let r = d.result, let result { l.loadArgument(r, result, Mem(.rsp, 0)) }
            l.asm.jmp(back)
        }
    }

    /// A direct call of defined function `function` with a signature that fits registers.
    mutating func directCall(_ inst: IRInst, _ d: (arguments: [Location], result: Location?), type: FuncType) {
        parallelMove(zip(f.args(inst), d.arguments).map { ($0, $1) })
        let offset = Int(inst.offset)
        if Int(inst.imm) == f.functionIndex, let entry = directLabel {
            // A call of this function: this code, whatever the entry table says now (every tier
            // computes the same).
            asm.mov(.w64, .rdi, Layer.vm)
            asm.call(entry)
            m.recordCallSite(offset: offset)
            directResult = d.result
            return
        }
        let defined = Int(inst.imm) - importedFunctionCount
        // The callee's direct entry, from this instance's reference to it (past the VM context;
        // `Module.publish` keeps it current), in r10 (scratch, free after the argument moves):
        // one load.
        asm.load(.w64, Self.s2, Mem(Layer.vm, context.definedFunctionReference(defined) + VMContextLayout.funcRefDirectEntry))
        // No direct entry: another tier, or a function that makes tail calls.
        asm.test(.w64, Self.s2, Self.s2)
        let slow = asm.newLabel(), back = asm.newLabel()
        asm.jcc(.e, slow)
        asm.mov(.w64, .rdi, Layer.vm)
        asm.call(Self.s2)
        m.recordCallSite(offset: offset)
        asm.bind(back)
        directResult = d.result
        let params = type.params.map { IRType($0) }
        let result = type.results.first.map { IRType($0) }
        // The callee runs in another tier now: its slot-buffer entry.
        let overridesHere = overrides  // the closure runs after every block: the block's view
        outOfLine.append { l in
            l.overrides = overridesHere
            l.asm.bind(slow)
            for (k, a) in d.arguments.enumerated() { l.storeArgument(a, params[k], Mem(.rsp, Int32(16 * k))) }
            // The callee's record (r11) from the entry table.
            l.asm.load(.w64, Self.s1, Mem(Layer.vm, VMContextLayout.entryTable))
            l.asm.load(.w64, Self.s1, Mem(Self.s1, Int32(8 * defined)))
            l.asm.mov(.w64, .rdi, Layer.vm)
            l.asm.lea(.w64, .rsi, Mem(.rsp, 0))
            l.asm.mov(.w64, .rdx, Self.s1)
            l.asm.call(Mem(Self.s1, VMContextLayout.recordNativeEntry))
            l.m.recordCallSite(offset: offset)
            l.m.trapOnStatus(offset: offset)
            if let r = d.result, let result { l.loadArgument(r, result, Mem(.rsp, 0)) }
            l.asm.jmp(back)
        }
    }

    /// An edge block with nothing to do: the block it jumps to. Seen from the block being
    /// emitted: inside a loop, a value reloaded into a register (`overrides`) may already be
    /// where the edge would move it.
    func forwarded(_ b: Int32) -> Int32? {
        guard f.blocks[Int(b)].insts.isEmpty, !f.blocks[Int(b)].isLoopHeader, ra.reloads[b] == nil,
              case .jump(let t, let args) = f.blocks[Int(b)].term else { return nil }
        let params = f.blocks[Int(t)].params
        for (k, a) in args.enumerated() {
            if f.constant(a) != nil || homeLoc(a) != homeLoc(params[k]) { return nil }
        }
        return t
    }
    /// Where a branch to `b` goes: through blocks with nothing to do, as seen from the block
    /// being emitted, to a block the layout has. An edge block the layout left out (nothing to
    /// do at the values' homes) may have moves to make from inside a loop whose reloaded
    /// registers differ from those homes: the branch then goes where the layout's choice does,
    /// which the values' homes make right from anywhere (a reloaded value's slot stays valid).
    func target(_ b: Int32) -> Int32 {
        var t = b
        for _ in 0..<64 {
            guard let next = forwarded(t) else { break }
            t = next
        }
        return laidOutTarget[Int(t)]
    }
    /// `laidOutTarget`: every chain of edge blocks of `order` followed to its end with no loop's
    /// reloaded registers in view (the layout's decision, made once; a cycle of edge blocks, which no
    /// loop header breaks, keeps its blocks).
    mutating func layoutTargets() -> [Int32] {
        let saved = overrides
        overrides = nil
        defer { overrides = saved }
        var result = [Int32](repeating: -1, count: f.blocks.count)
        // The chain from a block, marked with that block (no set per block).
        var chain: [Int32] = []
        var onChainOf = [Int32](repeating: -1, count: f.blocks.count)
        for b in order where result[Int(b)] < 0 {  // (blocks outside it are never branched to)
            chain.removeAll(keepingCapacity: true)
            chain.append(b)
            onChainOf[Int(b)] = b
            var end = b
            while result[Int(end)] < 0, let next = forwarded(end) {
                if onChainOf[Int(next)] == b { break }  // a cycle: its blocks stay
                onChainOf[Int(next)] = b
                chain.append(next)
                end = next
            }
            let last = result[Int(end)] >= 0 ? result[Int(end)] : (forwarded(end) == nil ? end : -1)
            for c in chain { result[Int(c)] = last >= 0 ? last : c }
        }
        return result
    }

    // MARK: terminators

    mutating func terminator(_ b: Int32, next: Int32?) {
        switch f.blocks[Int(b)].term {
        case .none:
            preconditionFailure("block without a terminator")
        case .jump(let t, let args):
            let params = f.blocks[Int(t)].params
            var moves: [(IRValue, Location)] = []
            for (k, a) in args.enumerated() { moves.append((a, loc(params[k]))) }
            parallelMove(moves)
            // A loop's preheader: its reloaded values into their registers (free from here on).
            for (v, r) in ra.reloads[b] ?? [] { emitMove(.loc(ra.locations[Int(v.id)]), to: r) }
            let to = target(t)
            if next != to { asm.jmp(labels[Int(to)]) }
        case .branch(let cond, let thenBlock, let elseBlock):
            let t = target(thenBlock), e = target(elseBlock)
            let fusedCompare = f.values[Int(cond.id)].inst
            if fusedCompare >= 0, ra.fused[Int(fusedCompare)], f.values[Int(cond.id)].block == b {
                let c = f.insts[Int(fusedCompare)]
                if c.op == .cmp, f.type(c.a).isFloat {
                    floatBranch(c, then: t, else: e, next: next)
                    return
                }
                let cc = flags(c)
                branch(cc, then: t, else: e, next: next)
            } else {
                if flagsHold != cond { testCondition(cond) }
                branch(.ne, then: t, else: e, next: next)
            }
        case .table(let index, let targets):
            let resolved = targets.map(target)
            let cases = CaseRanges(targets: resolved)
            if cases.prefersCompares {
                let i = gpr(index, into: Self.s2)
                var compared: UInt32? = nil
                compareTree(i, cases, cases.ranges.indices, low: 0, high: UInt32.max, compared: &compared, next: next)
                return
            }
            let count = targets.count - 1
            // The index clamped to the default's position: three instructions when the index
            // is in a register (no copy of it), four when it is loaded.
            let i = gpr(index, into: Self.s2)
            if i != Self.s2 {
                asm.movImm32(Self.s2, UInt32(count))
                asm.alu(.cmp, .w32, i, imm: Int32(truncatingIfNeeded: count))
                asm.cmov(.b, .w32, Self.s2, i)
            } else {
                asm.alu(.cmp, .w32, Self.s2, imm: Int32(truncatingIfNeeded: count))
                asm.movImm32(Self.s1, UInt32(count))
                asm.cmov(.a, .w32, Self.s2, Self.s1)
            }
            let table = asm.newLabel()
            asm.leaRIP(Self.s1, table)
            asm.loadSX32(Self.s2, Mem(Self.s1, index: Self.s2, scale: 2))
            asm.alu(.add, .w64, Self.s1, Self.s2)
            asm.jmp(Self.s1)
            asm.align(4)
            asm.bind(table)
            for t in resolved { asm.tableEntry(labels[Int(t)], base: table) }
        case .ret(let values) where direct != nil:
            if let r = direct!.result { parallelMove([(values[0], r)]) }
            m.epilogue(status: false)
        case .ret(let values):
            if !values.isEmpty {
                asm.load(.w64, Self.s1, Mem(.rbp, m.slotBufferOffset))
                for (k, v) in values.enumerated() { storeSlot(v, Mem(Self.s1, Int32(16 * k)), scratch: Self.s2) }
            }
            m.epilogue()
        case .trap(let kind, let offset):
            asm.jmp(m.stub(kind, offset: Int(offset)))
        case .leave:
            break  // the tail call left
        case .raise(let offset):
            m.raiseException(offset: Int(offset))
        }
    }

    /// A small br_table as a binary search of compares and direct branches (`CaseRanges`) over
    /// the index in `i`, known to lie in `low...high`; `compared` is the constant the flags
    /// were last set against (a compare repeated on a path is left out). `next`: the block laid
    /// out next, reached by falling through from the last part emitted.
    mutating func compareTree(_ i: Reg, _ cases: CaseRanges, _ part: Range<Int>, low: UInt32, high: UInt32,
                              compared: inout UInt32?, next: Int32?) {
        let dflt = labels[Int(cases.defaultTarget)]
        switch cases.step(part, low: low, high: high) {
        case .defaultOnly:
            if cases.defaultTarget != next { asm.jmp(dflt) }
        case .leaf(let t, let lo, let hi, let checkLow, let checkHigh):
            if checkLow && checkHigh && lo == hi {
                compareIndex(i, lo, &compared)
                branch(.e, then: t, else: cases.defaultTarget, next: next)
                return
            }
            if checkLow { compareIndex(i, lo, &compared); asm.jcc(.b, dflt) }
            if checkHigh { compareIndex(i, hi, &compared); asm.jcc(.a, dflt) }
            if t != next { asm.jmp(labels[Int(t)]) }
        case .split(let pivot, let left, let right):
            compareIndex(i, pivot, &compared)
            if let t = cases.wholeTarget(left, low: low, high: pivot - 1) {
                asm.jcc(.b, labels[Int(t)])
                compareTree(i, cases, right, low: pivot, high: high, compared: &compared, next: next)
                return
            }
            let below = asm.newLabel()
            asm.jcc(.b, below)
            let flags = compared
            compareTree(i, cases, right, low: pivot, high: high, compared: &compared, next: nil)
            asm.bind(below)
            compared = flags  // as the jump here left them
            compareTree(i, cases, left, low: low, high: pivot - 1, compared: &compared, next: next)
        }
    }

    mutating func compareIndex(_ i: Reg, _ k: UInt32, _ compared: inout UInt32?) {
        if compared != k { asm.alu(.cmp, .w32, i, imm: Int32(bitPattern: k)) }
        compared = k
    }

    mutating func branch(_ cc: Cond, then t: Int32, else e: Int32, next: Int32?) {
        if t == next {
            asm.jcc(cc.negated, labels[Int(e)])
        } else {
            asm.jcc(cc, labels[Int(t)])
            if e != next { asm.jmp(labels[Int(e)]) }
        }
    }

    mutating func floatBranch(_ c: IRInst, then t: Int32, else e: Int32, next: Int32?) {
        let cond = IRCond(rawValue: UInt8(c.imm))!
        let fw = Self.fwidth(f.type(c.a))
        let a = xmm(c.a, into: Self.x1), b = xmm(c.b, into: Self.x2)
        switch cond {
        case .eq:
            asm.ucomis(fw, a, b)
            asm.jcc(.p, labels[Int(e)])
            branch(.e, then: t, else: e, next: next)
        case .ne:
            asm.ucomis(fw, a, b)
            asm.jcc(.p, labels[Int(t)])
            branch(.ne, then: t, else: e, next: next)
        case .flt: asm.ucomis(fw, b, a); branch(.a, then: t, else: e, next: next)
        case .fgt: asm.ucomis(fw, a, b); branch(.a, then: t, else: e, next: next)
        case .fle: asm.ucomis(fw, b, a); branch(.ae, then: t, else: e, next: next)
        default: asm.ucomis(fw, a, b); branch(.ae, then: t, else: e, next: next)
        }
    }

    /// Sets the flags for an integer compare or eqz; returns the condition meaning "true".
    mutating func flags(_ c: IRInst) -> Cond {
        if c.op == .eqz {
            // The instruction just emitted computed the operand and set ZF from it.
            if flagsHold == c.a { return .e }
            let w = Self.width(f.type(c.a))
            switch src(c.a, w, scratch: Self.s1) {
            case .reg(let r): asm.test(w, r, r)
            case .mem(let mm): asm.alu(.cmp, w, mm, imm: 0)
            case .imm(let i): asm.movImm(Self.s1, UInt64(bitPattern: Int64(i))); asm.test(w, Self.s1, Self.s1)
            }
            return .e
        }
        var cond = IRCond(rawValue: UInt8(c.imm))!
        var a = c.a, b = c.b
        if f.constant(a) != nil && f.constant(b) == nil {
            swap(&a, &b)
            cond = cond.swapped
        }
        let w = Self.width(f.type(a))
        let bs = src(b, w, scratch: Self.s2)
        switch src(a, w, scratch: Self.s1) {
        case .reg(let r): cmp(r, bs, w)
        case .mem(let mm):
            if case .imm(let i) = bs { asm.alu(.cmp, w, mm, imm: i) } else if case .reg(let r) = bs {
                // b's register against a's slot: the operands swap, and the condition with them.
                asm.alu(.cmp, w, r, mm)
                cond = cond.swapped
            } else {
                asm.load(.w64, Self.s1, mm)
                cmp(Self.s1, bs, w)
            }
        case .imm(let i):
            asm.movImm(Self.s1, w == .w32 ? UInt64(UInt32(bitPattern: i)) : UInt64(bitPattern: Int64(i)))
            cmp(Self.s1, bs, w)
        }
        return Self.cond(cond)
    }
    mutating func cmp(_ a: Reg, _ b: Src, _ w: Width) {
        switch b {
        case .reg(let r): asm.alu(.cmp, w, a, r)
        case .mem(let mm): asm.alu(.cmp, w, a, mm)
        case .imm(let i): asm.alu(.cmp, w, a, imm: i)
        }
    }
    static func cond(_ c: IRCond) -> Cond {
        switch c {
        case .eq: .e
        case .ne: .ne
        case .ltS: .l
        case .ltU: .b
        case .gtS: .g
        case .gtU: .a
        case .leS: .le
        case .leU: .be
        case .geS: .ge
        case .geU: .ae
        default: preconditionFailure("float condition")
        }
    }

    /// Flags for "v != 0".
    mutating func testCondition(_ v: IRValue) {
        switch src(v, .w32, scratch: Self.s1) {
        case .reg(let r): asm.test(.w32, r, r)
        case .mem(let mm): asm.alu(.cmp, .w32, mm, imm: 0)
        case .imm(let i): asm.movImm32(Self.s1, UInt32(bitPattern: i)); asm.test(.w32, Self.s1, Self.s1)
        }
    }

    // MARK: moves

    /// Stores `v` into a 16-byte call or result slot.
    mutating func storeSlot(_ v: IRValue, _ slot: Mem, scratch: Reg) {
        let t = f.type(v)
        if t == .v128 {
            asm.movdqu(slot, xmm(v, into: Self.x1))
            return
        }
        if t.isFloat, case .xmm(let x) = loc(v) {
            asm.movss(Self.fwidth(t), slot, XReg(x))
            return
        }
        if let bits = f.constant(v), let i = Int32(exactly: Int64(bitPattern: t == .i32 || t == .f32 ? bits & 0xFFFF_FFFF : bits)) {
            asm.storeImm(.w64, slot, i)
            return
        }
        asm.store(.w64, slot, gpr(v, into: scratch))
    }
    /// Loads a call result from a slot into `v`'s location.
    mutating func loadSlot(_ v: IRValue, _ slot: Mem) {
        let t = f.type(v)
        if t.inXMM {
            let x = xdst(v)
            if t == .v128 { asm.movdqu(x, slot) } else { asm.movss(Self.fwidth(t), x, slot) }
            finishX(v, x)
        } else {
            let d = dst(v)
            asm.load(Self.width(t), d, slot)
            finish(v, d)
        }
    }

    enum MoveSource: Equatable { case loc(Location), constant(UInt64, Bool), vector(V128Bits) }

    /// Moves values into locations all at once (block arguments, call and builtin arguments).
    mutating func parallelMove(_ moves: [(IRValue, Location)]) {
        parallelMove(sources: moves.map { (moveSource($0.0), $0.1) })
    }

    /// Where a move takes `v` from: its location, or its constant's bits.
    func moveSource(_ v: IRValue) -> MoveSource {
        guard let bits = f.constant(v) else { return .loc(loc(v)) }
        let t = f.type(v)
        if t == .v128 { return .vector(V128Bits(lo: bits, hi: f.def(v)!.imm2)) }
        return .constant(t == .i32 || t == .f32 ? bits & 0xFFFF_FFFF : bits, t.isFloat)
    }

    /// Moves whose destination no other pending move reads go first; a cycle is broken through
    /// r11 (xmm15 when it passes through an XMM register): three moves the renamer eliminates.
    /// When r11 is a source itself (`r11Holds`: an indirect call's vmctx), a cycle of general
    /// registers is broken by swapping two of them (`xchg`) instead. r10 carries
    /// memory-to-memory moves and constants to stack slots, so moves into registers leave it alone.
    mutating func parallelMove(sources moves: [(MoveSource, Location)], r11Holds: Bool = false) {
        if moves.count == 1 {  // (most are: no list to copy)
            if moves[0].0 != .loc(moves[0].1) && moves[0].1 != .none { emitMove(moves[0].0, to: moves[0].1) }
            return
        }
        var pending = moves.filter { $0.0 != .loc($0.1) && $0.1 != .none }
        while !pending.isEmpty {
            var progressed = false
            var k = 0
            while k < pending.count {
                let d = pending[k].1
                let blocked = pending.indices.contains { j in j != k && pending[j].0 == .loc(d) }
                if !blocked {
                    emitMove(pending[k].0, to: d)
                    pending.remove(at: k)
                    progressed = true
                } else {
                    k += 1
                }
            }
            if !progressed {
                // A cycle: park the first move's source in a scratch register.
                guard case .loc(let s) = pending[0].0 else { preconditionFailure("a constant in a move cycle") }
                if r11Holds, case .gpr(let a) = s, case .gpr(let b) = pending[0].1 {
                    // Register b now holds the value of a (the move is done) and a that of b.
                    asm.xchg(Reg(a), Reg(b))
                    pending.removeFirst()
                    for j in pending.indices where pending[j].0 == .loc(.gpr(b)) { pending[j].0 = .loc(.gpr(a)) }
                    pending.removeAll { $0.0 == .loc($0.1) }  // the swap did those too
                    continue
                }
                let scratch: Location
                switch s {
                case .xmm, .stack16: scratch = .xmm(Self.x1.code)
                default: scratch = .gpr(Self.s1.code)
                }
                emitMove(.loc(s), to: scratch)
                for j in pending.indices where pending[j].0 == .loc(s) { pending[j].0 = .loc(scratch) }
            }
        }
    }

    mutating func emitMove(_ s: MoveSource, to d: Location) {
        switch (s, d) {
        case (.constant(let bits, let float), .gpr(let r)):
            if float { preconditionFailure("float constant to a general register") }
            asm.movImm(Reg(r), bits)
        case (.constant(let bits, _), .xmm(let x)):
            if bits == 0 { asm.xorps(XReg(x), XReg(x)) } else { asm.movss(.f64, XReg(x), rip: constantLabel(bits)) }
        case (.constant(let bits, _), .stack(let k)):
            if let i = Int32(exactly: Int64(bitPattern: bits)) { asm.storeImm(.w64, spill(k), i) } else {
                asm.movImm(Self.s2, bits)
                asm.store(.w64, spill(k), Self.s2)
            }
        case (.loc(.gpr(let a)), .gpr(let b)): asm.mov(.w64, Reg(b), Reg(a))
        case (.loc(.gpr(let a)), .stack(let k)): asm.store(.w64, spill(k), Reg(a))
        case (.loc(.stack(let k)), .gpr(let b)): asm.load(.w64, Reg(b), spill(k))
        case (.loc(.stack(let j)), .stack(let k)):
            asm.load(.w64, Self.s2, spill(j))
            asm.store(.w64, spill(k), Self.s2)
        case (.loc(.xmm(let a)), .xmm(let b)): asm.movaps(XReg(b), XReg(a))
        case (.loc(.xmm(let a)), .stack(let k)): asm.movss(.f64, spill(k), XReg(a))
        case (.loc(.stack(let k)), .xmm(let b)): asm.movss(.f64, XReg(b), spill(k))
        case (.loc(.gpr(let a)), .xmm(let b)): asm.movToX(.w64, XReg(b), Reg(a))
        case (.loc(.xmm(let a)), .gpr(let b)): asm.movFromX(.w64, Reg(b), XReg(a))
        // v128 values: 16-byte slots; memory to memory through xmm14 (xmm15 may hold a cycle's value).
        case (.loc(.xmm(let a)), .stack16(let k)): asm.movdqu(spill16(k), XReg(a))
        case (.loc(.stack16(let k)), .xmm(let b)): asm.movdqu(XReg(b), spill16(k))
        case (.loc(.stack16(let j)), .stack16(let k)):
            asm.movdqu(Self.x2, spill16(j))
            asm.movdqu(spill16(k), Self.x2)
        case (.vector(let bits), .xmm(let x)): m.loadConstant(XReg(x), bits)
        case (.vector(let bits), .stack16(let k)):
            m.loadConstant(Self.x2, bits)
            asm.movdqu(spill16(k), Self.x2)
        default: preconditionFailure("move \(s) -> \(d)")
        }
    }
}
