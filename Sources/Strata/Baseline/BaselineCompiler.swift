import CStrata

/// Strata's baseline compiler: one pass over a validated function body (driven by the
/// `FunctionValidator` as a `CodeSink`), in the style of Liftoff and Winch. An abstract value
/// stack keeps values in registers, constants as immediates and `local.get` lazy; values are
/// spilled to their stack slots when registers run out, at calls and at control-flow joins.
///
/// Frame (see docs/ARCHITECTURE.md, "Compiled code"):
///
///     rbp+8   return address          rbp-40  saved r13
///     rbp     saved rbp               rbp-48  caller's slot buffer (arguments, results)
///     rbp-8   saved r14 (vmctx)       rbp-64-16*i   local i (16 bytes each)
///     rbp-16  saved r15 (memory base) rsp+16*h      value-stack slot h (16 bytes each)
///     rbp-24  saved rbx, rbp-32 r12
///
/// Registers: r14 = VM context, r15 = base of memory 0, r10/r11 = scratch; the allocator
/// hands out rax, rcx, rdx, rsi, rdi, r8, r9, rbx, r12, r13 and xmm0-xmm14 (xmm15 scratch).
struct BaselineCompiler: CodeSink {
    enum Loc: Equatable {
        case gpr(Reg)
        case xmm(XReg)
        /// Constant bits (i32/f32 zero-extended).
        case imm(UInt64)
        /// The current value of local i (a lazy `local.get`).
        case local(Int)
        /// In its own value-stack slot.
        case stack
        /// An i32 boolean still in the flags (the condition holds = 1).
        case flags(Cond)
    }
    struct Value {
        var type: ValueType
        var loc: Loc
    }
    struct Block {
        enum Kind { case function, block, loop, `if` }
        var kind: Kind
        /// Value-stack height below the block's params.
        var height: Int
        var paramCount: Int
        var resultCount: Int
        /// Branch target: the loop header, or the end of the block.
        var target: Label
        var elseLabel: Label?
        var deadAtEntry: Bool
        var arity: Int { kind == .loop ? paramCount : resultCount }
        /// A try_table: its landing pad and the Wasm offset of the instruction.
        var tryPad: Label?
        var tryOffset = 0
    }

    /// A try_table's landing pad (emitted after the body, see `emitLandingPads`): its catch
    /// clauses with their targets resolved.
    struct LandingPad {
        struct Clause {
            var tag: UInt32       // UInt32.max: catch_all
            var withReference: Bool
            var target: Label
            var height: Int       // the target's value-stack height (its values go there)
            var returns: Bool     // the target is the function: return
        }
        var label: Label
        var tryOffset: Int
        var clauses: [Clause]
    }
    var landingPads: [LandingPad] = []
    /// Handlers recorded at each try_table's end (innermost first): first and end Wasm offset.
    var handlerRanges: [(first: Int, end: Int, pad: Label)] = []
    /// The body has a try_table: no locals live in registers (a landing pad finds every value
    /// in the frame), and the VM context is kept at `vmSlot`.
    let catches: Bool

    static let allocatable: [Reg] = [.rax, .rcx, .rdx, .rsi, .rdi, .r8, .r9, .rbx, .r12, .r13]
    static let allocatableMask: UInt16 = allocatable.reduce(0) { $0 | 1 << UInt16($1.code) }
    static let scratch = Reg.r11, scratch2 = Reg.r10
    static let xscratch = XReg(15)
    static let vm = Reg.r14, memBase = Reg.r15

    let context: ModuleContext
    let importedFunctionCount: Int
    let localTypes: [ValueType]
    let resultTypes: [ValueType]
    let hasMemory: Bool

    /// The machine layer both compiled tiers share (assembler, frame, trap tables, calls).
    var m = X64MachineLayer()
    var asm: X64Assembler {
        get { m.asm }
        _modify { yield &m.asm }
    }
    var stack: [Value] = []
    var blocks: [Block] = []
    var dead = false
    var maxHeight = 0
    var gprFree: UInt16 = BaselineCompiler.allocatableMask
    var xmmFree: UInt16 = 0x7FFF
    /// Set when the body uses something this tier does not compile (SIMD); validation still completes.
    var unsupported: WasmError?
    /// The function's index (function index space; -1 unknown): `return_call` to it is a jump
    /// to `bodyStart`.
    let functionIndex: Int
    /// The body makes tail calls to other functions: the code starts with the wrapper that runs
    /// them (`X64MachineLayer.tailCallWrapper`), the body at `tailEntry`.
    let tailCallWrapper: Bool
    let paramCount: Int
    var tailEntry = 0
    /// After the parameters are in their homes and the other locals zeroed.
    var bodyStart = Label(id: -1)

    /// Tiered mode: the code counts its calls and loop iterations in the hotness of the record
    /// in its entry slot and asks for the optimizing tier past the record's threshold.
    struct HotnessCounting {
        var definedIndex: Int
        var callWeight: Int32
        var loopWeight: Int32
    }
    let counting: HotnessCounting?
    /// Out-of-line slow paths of the hotness checks: (entry, return point, the loop's Wasm
    /// offset at a loop header whose activation may move to optimized code, else nil).
    var slowPaths: [(Label, Label, Int?)] = []
    /// Loop headers an interpreter activation can move to (on-stack replacement, tiered mode):
    /// the `loop`'s Wasm offset, its header, and the value-stack height there (params included).
    var osrLoops: [(offset: Int, header: Label, height: Int)] = []

    /// Locals kept in a register for the whole function (nil: in their frame slot).
    var localGPR: [Reg?]
    var localXMM: [XReg?]
    /// Pinned locals in caller-saved registers: stored to their slots around calls.
    var callerSavedPins: [Int] = []
    /// While a call's arguments are set up, caller-saved pins are read from their slots.
    var pinsSaved = false

    static let pinnableGPR: [Reg] = [.rbx, .r12, .r13, .r8, .r9]
    static let pinnableXMM: [XReg] = (8...13).map { XReg(UInt8($0)) }

    init(
        context: ModuleContext, importedFunctionCount: Int, type: FuncType, locals: [ValueType], hasMemory: Bool,
        localUses: [Int] = [], tailCalls: (functionIndex: Int, toOthers: Bool)? = nil, catches: Bool = false,
        counting: HotnessCounting? = nil, avx: Bool = false
    ) {
        m.avx = avx
        self.counting = counting
        self.catches = catches
        self.functionIndex = tailCalls?.functionIndex ?? -1
        self.tailCallWrapper = tailCalls?.toOthers ?? false
        self.paramCount = type.params.count
        self.context = context
        self.importedFunctionCount = importedFunctionCount
        self.localTypes = type.params + locals
        self.resultTypes = type.results
        self.hasMemory = hasMemory
        localGPR = Array(repeating: nil, count: localTypes.count)
        localXMM = Array(repeating: nil, count: localTypes.count)
        // The most used locals live in registers: integers and references in rbx, r12, r13
        // (callee-saved) then r8, r9; floats and v128 values in xmm8-xmm13.
        if localUses.count == localTypes.count && !catches {
            let order = localUses.indices.filter { localUses[$0] >= 2 }.sorted { localUses[$0] > localUses[$1] }
            var gprs = Self.pinnableGPR[...], xmms = Self.pinnableXMM[...]
            for l in order {
                switch localTypes[l].kind {
                case .i32, .i64, .ref:
                    if let r = gprs.popFirst() {
                        localGPR[l] = r
                        gprFree &= ~(1 << UInt16(r.code))
                        if r == .r8 || r == .r9 { callerSavedPins.append(l) }
                    }
                case .f32, .f64, .v128:
                    if let x = xmms.popFirst() {
                        localXMM[l] = x
                        xmmFree &= ~(1 << UInt16(x.code))
                        callerSavedPins.append(l)
                    }
                default: break
                }
            }
        }
        let end = asm.newLabel()
        blocks.append(Block(kind: .function, height: 0, paramCount: 0, resultCount: type.results.count, target: end, deadAtEntry: false))
        prologue(paramCount: type.params.count)
    }

    // MARK: frame

    static func localMem(_ i: Int) -> Mem { Mem(.rbp, Int32(-64 - 16 * i)) }
    /// Where a function with a try_table keeps its VM context (below the locals).
    var vmSlot: Mem { Self.localMem(localTypes.count) }
    static func slotMem(_ h: Int) -> Mem { Mem(.rsp, Int32(16 * h)) }

    enum LocalHome { case gpr(Reg), xmm(XReg), mem(Mem) }
    /// Where local l's current value is (its slot while caller-saved pins are saved for a call).
    func home(_ l: Int) -> LocalHome {
        if let r = localGPR[l], !(pinsSaved && (r == .r8 || r == .r9)) { return .gpr(r) }
        if let x = localXMM[l], !pinsSaved { return .xmm(x) }
        return .mem(Self.localMem(l))
    }

    /// Stores the locals pinned in caller-saved registers to their slots before a call.
    mutating func savePins() {
        for l in callerSavedPins {
            if let r = localGPR[l] { asm.store(.w64, Self.localMem(l), r) }
            if let x = localXMM[l] { storeX(localTypes[l], Self.localMem(l), x) }
        }
        pinsSaved = true
    }
    /// Reloads them after the call.
    mutating func restorePins() {
        pinsSaved = false
        for l in callerSavedPins {
            if let r = localGPR[l] { asm.load(Self.width(localTypes[l]), r, Self.localMem(l)) }
            if let x = localXMM[l] { loadX(localTypes[l], x, Self.localMem(l)) }
        }
    }

    mutating func prologue(paramCount: Int) {
        if tailCallWrapper {
            asm.bind(m.tailCallWrapper(resultCount: resultTypes.count))
            tailEntry = asm.offset
        }
        m.prologue(hasMemory: hasMemory)
        if catches { asm.store(.w64, vmSlot, Self.vm) }
        loadParameters(count: paramCount) { Mem(.rsi, Int32(16 * $0)) }
        zeroLocals(from: paramCount)
        bodyStart = asm.newLabel()
        asm.bind(bodyStart)
        // (An interrupt fails the prologue's stack check: no check of its own here.)
        if let c = counting { countHotness(c.callWeight) }
    }

    /// Parameters from their argument slots into their homes.
    mutating func loadParameters(count paramCount: Int, _ argument: (Int) -> Mem) {
        for i in 0..<paramCount {
            let arg = argument(i)
            if let r = localGPR[i] {
                asm.load(Self.width(localTypes[i]), r, arg)
            } else if let x = localXMM[i] {
                loadX(localTypes[i], x, arg)
            } else if localTypes[i] == .v128 {
                asm.movdqu(Self.xscratch, arg)
                asm.movdqu(Self.localMem(i), Self.xscratch)
            } else {
                asm.load(.w64, Self.scratch, arg)
                asm.store(.w64, Self.localMem(i), Self.scratch)
            }
        }
    }

    /// The non-parameter locals to zero (clobbers rdi, rcx, rax).
    mutating func zeroLocals(from paramCount: Int) {
        for i in paramCount..<localTypes.count {
            if let r = localGPR[i] { asm.movImm32(r, 0) }
            if let x = localXMM[i] { asm.xorps(x, x) }
        }
        let zeroed = localTypes.count - paramCount
        if zeroed > 0 {
            if zeroed <= 8 {
                asm.movImm32(Self.scratch, 0)
                for i in paramCount..<localTypes.count {
                    asm.store(.w64, Self.localMem(i), Self.scratch)
                    asm.store(.w64, Mem(.rbp, Int32(-64 - 16 * i + 8)), Self.scratch)
                }
            } else {
                // rep stosq over the locals' 16-byte slots (rdi/rcx/rax are free here).
                asm.lea(.w64, .rdi, Self.localMem(localTypes.count - 1))
                asm.movImm32(.rcx, UInt32(2 * zeroed))
                asm.movImm32(.rax, 0)
                asm.byte(0xF3); asm.byte(0x48); asm.byte(0xAB)
            }
        }
    }

    /// Adds `weight` to the hotness of the function's current record; past its threshold, a
    /// slow path asks for the optimizing tier (`Builtin.tierUp`) and comes back.
    mutating func countHotness(_ weight: Int32, loop: Int? = nil) {
        guard let c = counting else { return }
        let count = Int32(MemoryLayout<FunctionCode>.offset(of: \FunctionCode.hotness)! + MemoryLayout<StrataHotness>.offset(of: \StrataHotness.count)!)
        let limit = Int32(MemoryLayout<FunctionCode>.offset(of: \FunctionCode.hotness)! + MemoryLayout<StrataHotness>.offset(of: \StrataHotness.tierUpAt)!)
        let slow = asm.newLabel(), back = asm.newLabel()
        asm.load(.w64, Self.scratch, Mem(Self.vm, VMContextLayout.entryTable))
        asm.load(.w64, Self.scratch, Mem(Self.scratch, Int32(8 * c.definedIndex)))
        asm.alu(.add, .w64, Mem(Self.scratch, count), imm: weight)
        asm.load(.w64, Self.scratch2, Mem(Self.scratch, count))
        asm.alu(.cmp, .w64, Self.scratch2, Mem(Self.scratch, limit))
        asm.jcc(.ge, slow)
        asm.bind(back)
        slowPaths.append((slow, back, loop))
    }

    /// The hotness slow paths: nothing but pinned locals is in registers where counting happens
    /// (function entry, loop headers), so only those are saved around the call. At a loop
    /// header the builtin may return the optimizing tier's OSR entry for the loop: then the
    /// activation moves there (`moveToOptimizedCode`).
    mutating func emitSlowPaths() {
        for (slow, back, loop) in slowPaths {
            asm.bind(slow)
            savePins()
            asm.mov(.w64, .rsi, Self.scratch)
            asm.movImm32(.rdx, loop.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max)
            m.callBuiltin(.tierUp, mayTrap: false, offset: 0)
            restorePins()
            if loop == nil {
                asm.jmp(back)
                continue
            }
            asm.test(.w64, .rax, .rax)
            asm.jcc(.e, back)
            moveToOptimizedCode()
        }
        slowPaths = []
    }

    /// On-stack replacement at a loop header, to the optimizing tier's entry in rax (see
    /// docs/ARCHITECTURE.md, "On-stack replacement"): every local into its frame slot (the
    /// operand stack is in its slots at a loop header), then `entry(vmctx, slots, locals,
    /// operands)` with this activation's slot buffer (the results go there), local 0's slot
    /// (local i is 16 i bytes below) and value-stack slot 0. The call is the rest of the
    /// activation: its return is this function's. It is recorded as a wrapper's call, so
    /// backtraces and exception handling skip this frame: the activation shows once.
    mutating func moveToOptimizedCode() {
        for l in 0..<localTypes.count {
            if let r = localGPR[l] { asm.store(.w64, Self.localMem(l), r) }
            if let x = localXMM[l] { storeX(localTypes[l], Self.localMem(l), x) }
        }
        asm.mov(.w64, Self.scratch, .rax)
        asm.mov(.w64, .rdi, Self.vm)
        asm.load(.w64, .rsi, Mem(.rbp, m.slotBufferOffset))
        asm.lea(.w64, .rdx, Self.localMem(0))
        asm.mov(.w64, .rcx, .rsp)
        asm.call(Self.scratch)
        m.wrapperCall()
        epilogue()
    }

    mutating func epilogue() { m.epilogue() }

    /// Emits the trap stubs and returns the finished function.
    mutating func finish() -> MachineFunction {
        // rsp = rbp - 48 - 16 * locals - 16 * slots, aligned to 16 (5 pushes leave rsp at 8 mod 16).
        let slots = maxHeight + 1
        emitSlowPaths()
        let pads = emitLandingPads()
        let (osrEntries, osrPrologue) = emitOSREntries()
        var out = m.finish(frameSize: 8 + 16 * (localTypes.count + (catches ? 1 : 0)) + 16 * slots, tier: .baseline)
        out.tailEntry = tailEntry
        for (first, end, pad) in handlerRanges {
            out.handlers += [UInt32(first), UInt32(end), UInt32(pads[pad.id]!)]
        }
        if tailCallWrapper { out.wrapperSaved = SavedRegisters(mask: 0) }
        out.osrEntries = osrEntries
        out.osrPrologue = osrPrologue
        return out
    }

    /// On-stack-replacement entries (see docs/ARCHITECTURE.md, "On-stack replacement"), called
    /// as `entry(vmctx, frame, operands)` by the interpreter: `frame` is the activation's frame
    /// (its locals in slots 0..<n, and its slot buffer: results go there), `operands` its
    /// operand stack at the loop header (16-byte slots from height 0). Each loop's entry puts
    /// its continuation in r10 and jumps to one shared prologue, which builds this function's
    /// frame and loads every local into its home; the continuation copies the operand stack
    /// into the value-stack slots (every value is in its slot at a loop header) and jumps to
    /// the header. Returns the (Wasm offset, code offset) pairs and the shared prologue's
    /// offset (its own unwind segment), or nothing without loops to enter.
    mutating func emitOSREntries() -> ([UInt32], Int) {
        guard !osrLoops.isEmpty else { return ([], 0) }
        var entries: [UInt32] = []
        let shared = asm.newLabel()
        for loop in osrLoops {
            entries += [UInt32(loop.offset), UInt32(asm.offset)]
            let continuation = asm.newLabel()
            asm.leaRIP(Self.scratch2, continuation)
            asm.jmp(shared)
            asm.bind(continuation)
            for h in 0..<loop.height {
                asm.movdqu(Self.xscratch, Mem(.rdx, Int32(16 * h)))
                asm.movdqu(Self.slotMem(h), Self.xscratch)
            }
            asm.jmp(loop.header)
        }
        let prologue = asm.offset
        asm.bind(shared)
        // rdi, rsi, rdx and r10 survive the prologue and the loads (they use r11 and xmm15).
        m.prologue(hasMemory: hasMemory)
        if catches { asm.store(.w64, vmSlot, Self.vm) }
        loadParameters(count: localTypes.count) { Mem(.rsi, Int32(16 * $0)) }
        asm.jmp(Self.scratch2)
        return (entries, prologue)
    }

    mutating func trapStub(_ kind: TrapKind, offset: Int) -> Label { m.stub(kind, offset: offset) }
    /// Records that the instruction starting now may fault (memory accesses).
    mutating func faultSite(_ kind: TrapKind, offset: Int) { m.faultSite(kind, offset: offset) }

    // MARK: registers

    mutating func allocGPR(avoid: UInt16 = 0) -> Reg {
        while true {
            let avail = gprFree & ~avoid
            if avail != 0 {
                let r = Reg(UInt8(avail.trailingZeroBitCount))
                gprFree &= ~(1 << UInt16(r.code))
                return r
            }
            guard let i = stack.firstIndex(where: { if case .gpr(let r) = $0.loc { avoid & (1 << UInt16(r.code)) == 0 } else { false } }) else {
                preconditionFailure("baseline: no register to spill")
            }
            spill(i)
        }
    }
    mutating func allocXMM() -> XReg {
        while true {
            if xmmFree != 0 {
                let r = XReg(UInt8(xmmFree.trailingZeroBitCount))
                xmmFree &= ~(1 << UInt16(r.code))
                return r
            }
            guard let i = stack.firstIndex(where: { if case .xmm = $0.loc { true } else { false } }) else {
                preconditionFailure("baseline: no xmm register to spill")
            }
            spill(i)
        }
    }
    mutating func free(_ r: Reg) { gprFree |= 1 << UInt16(r.code) }
    mutating func free(_ x: XReg) { xmmFree |= 1 << UInt16(x.code) }
    mutating func free(_ loc: Loc) {
        switch loc {
        case .gpr(let r): free(r)
        case .xmm(let x): free(x)
        default: break
        }
    }

    /// Makes `r` free, moving a stack value that holds it to another register.
    mutating func evict(_ r: Reg) {
        guard gprFree & (1 << UInt16(r.code)) == 0 else { return }
        guard let i = stack.firstIndex(where: { $0.loc == .gpr(r) }) else {
            preconditionFailure("baseline: evicting a register no value holds")
        }
        let n = allocGPR(avoid: 1 << UInt16(r.code))
        asm.mov(.w64, n, r)
        stack[i].loc = .gpr(n)
        free(r)
    }
    mutating func claim(_ r: Reg) {
        evict(r)
        gprFree &= ~(1 << UInt16(r.code))
    }

    static func width(_ t: ValueType) -> Width { (t == .i32 || t == .f32) ? .w32 : .w64 }
    static func fwidth(_ t: ValueType) -> FloatWidth { t == .f32 ? .f32 : .f64 }
    static func isFloat(_ t: ValueType) -> Bool { t == .f32 || t == .f64 }

    // MARK: value stack

    mutating func push(_ type: ValueType, _ loc: Loc) {
        stack.append(Value(type: type, loc: loc))
        if stack.count > maxHeight { maxHeight = stack.count }
    }
    mutating func pop() -> Value { stack.removeLast() }

    /// Writes the value at stack index i to its slot.
    mutating func spill(_ i: Int) {
        let v = stack[i]
        if v.loc == .stack { return }
        store(v, to: Self.slotMem(i))
        free(v.loc)
        stack[i].loc = .stack
    }

    /// Stores a value's 8 (or 16) bytes at `m` without changing the value's location.
    mutating func store(_ v: Value, to m: Mem) {
        switch v.loc {
        case .stack:
            preconditionFailure("storing a stack value needs its index")
        case .gpr(let r):
            asm.store(.w64, m, r)
        case .xmm(let x):
            storeX(v.type, m, x)
        case .imm(let bits):
            if bits <= 0x7FFF_FFFF || (Self.width(v.type) == .w64 && Int32(exactly: Int64(bitPattern: bits)) != nil) {
                asm.storeImm(.w64, m, Int32(truncatingIfNeeded: Int64(bitPattern: bits)))
            } else {
                asm.movImm(Self.scratch, bits)
                asm.store(.w64, m, Self.scratch)
            }
        case .local(let l):
            switch home(l) {
            case .gpr(let r): asm.store(.w64, m, r)
            case .xmm(let x): storeX(v.type, m, x)
            case .mem(let lm): copySlot(lm, to: m, v.type)
            }
        case .flags(let c):
            asm.setcc(c, Self.scratch)
            asm.movzx8(Self.scratch, Self.scratch)
            asm.store(.w64, m, Self.scratch)
        }
    }
    /// Stores the value at stack index i to `m` (any location, including its slot).
    mutating func storeEntry(_ i: Int, to m: Mem) {
        let v = stack[i]
        if v.loc == .stack {
            if m == Self.slotMem(i) { return }
            copySlot(Self.slotMem(i), to: m, v.type)
        } else {
            store(v, to: m)
        }
    }
    /// A float or v128 value between an xmm register and memory (16 bytes for a v128).
    mutating func storeX(_ t: ValueType, _ m: Mem, _ x: XReg) {
        if t == .v128 { asm.movdqu(m, x) } else { asm.movss(Self.fwidth(t), m, x) }
    }
    mutating func loadX(_ t: ValueType, _ x: XReg, _ m: Mem) {
        if t == .v128 { asm.movdqu(x, m) } else { asm.movss(Self.fwidth(t), x, m) }
    }
    /// Copies a value of type `t` between frame slots: 8 bytes, or 16 for a v128.
    mutating func copySlot(_ from: Mem, to: Mem, _ t: ValueType) {
        if t == .v128 {
            asm.movdqu(Self.xscratch, from)
            asm.movdqu(to, Self.xscratch)
        } else {
            asm.load(.w64, Self.scratch, from)
            asm.store(.w64, to, Self.scratch)
        }
    }

    /// Spills every register and flags value (and with `all`, constants and lazy locals too).
    mutating func spillAll(all: Bool) {
        for i in 0..<stack.count {
            switch stack[i].loc {
            case .stack: break
            case .imm, .local: if all { spill(i) }
            default: spill(i)
            }
        }
    }
    mutating func spillRegisters() { spillAll(all: false) }

    /// Materializes a flags value into a register.
    mutating func materializeFlags() {
        for i in stride(from: stack.count - 1, through: 0, by: -1) {
            if case .flags(let c) = stack[i].loc {
                let r = allocGPR()
                asm.setcc(c, r)
                asm.movzx8(r, r)
                stack[i].loc = .gpr(r)
                return
            }
        }
    }
    var topIsFlags: Bool {
        if let last = stack.last, case .flags = last.loc { return true }
        return false
    }

    /// Loads a value into register `r` (which the caller owns). Integer types and references
    /// move as bits; floats too (their bit patterns).
    mutating func load(_ v: Value, at index: Int?, into r: Reg) {
        let w = Self.width(v.type)
        switch v.loc {
        case .gpr(let s): if s != r { asm.mov(.w64, r, s) }
        case .xmm(let x): asm.movFromX(w, r, x)
        case .imm(let bits): asm.movImm(r, w == .w32 ? bits & 0xFFFF_FFFF : bits)
        case .local(let l):
            switch home(l) {
            case .gpr(let p): asm.mov(.w64, r, p)
            case .xmm(let x): asm.movFromX(w, r, x)
            case .mem(let m): asm.load(w, r, m)
            }
        case .stack: asm.load(w, r, Self.slotMem(index!))
        case .flags(let c): asm.setcc(c, r); asm.movzx8(r, r)
        }
    }
    mutating func load(_ v: Value, at index: Int?, into x: XReg) {
        let fw = Self.fwidth(v.type)
        if v.type == .v128 {
            switch v.loc {
            case .xmm(let s): if s != x { asm.movaps(x, s) }
            case .local(let l):
                switch home(l) {
                case .xmm(let p): if p != x { asm.movaps(x, p) }
                case .mem(let m): asm.movdqu(x, m)
                case .gpr: preconditionFailure("v128 local in a general register")
                }
            case .stack: asm.movdqu(x, Self.slotMem(index!))
            default: preconditionFailure("v128 value in \(v.loc)")
            }
            return
        }
        switch v.loc {
        case .gpr(let s): asm.movToX(Self.width(v.type), x, s)
        case .xmm(let s): if s != x { asm.movaps(x, s) }
        case .imm(let bits):
            if bits == 0 { asm.xorps(x, x) } else { asm.movImm(Self.scratch, bits); asm.movToX(Self.width(v.type), x, Self.scratch) }
        case .local(let l):
            switch home(l) {
            case .gpr(let p): asm.movToX(Self.width(v.type), x, p)
            case .xmm(let p): asm.movaps(x, p)
            case .mem(let m): asm.movss(fw, x, m)
            }
        case .stack: asm.movss(fw, x, Self.slotMem(index!))
        case .flags: preconditionFailure("flags value as a float")
        }
    }

    /// Pops the top value into a general register the caller owns.
    mutating func popGPR(avoid: UInt16 = 0) -> Reg {
        let index = stack.count - 1
        let v = stack[index]
        if case .gpr(let r) = v.loc, avoid & (1 << UInt16(r.code)) == 0 {
            stack.removeLast()
            return r
        }
        let r = allocGPR(avoid: avoid)
        load(v, at: index, into: r)
        stack.removeLast()
        free(v.loc)
        return r
    }
    /// Pops the top value into an xmm register the caller owns.
    mutating func popXMM() -> XReg {
        let index = stack.count - 1
        let v = stack[index]
        if case .xmm(let x) = v.loc {
            stack.removeLast()
            return x
        }
        let x = allocXMM()
        load(v, at: index, into: x)
        stack.removeLast()
        free(v.loc)
        return x
    }
    /// Pops the top value into the given register.
    mutating func popInto(_ r: Reg) {
        let index = stack.count - 1
        let v = stack[index]
        if v.loc == .gpr(r) { stack.removeLast(); return }
        claim(r)
        load(v, at: index, into: r)
        stack.removeLast()
        free(v.loc)
    }

    /// A second ALU operand: a register, an immediate or memory.
    enum Operand { case reg(Reg), imm(Int32), mem(Mem), pinned(Reg) }
    /// Pops an operand for an instruction of width `w` (registers it returns are owned by the
    /// caller and must be freed).
    mutating func popOperand(_ w: Width) -> Operand {
        let index = stack.count - 1
        let v = stack[index]
        switch v.loc {
        case .imm(let bits):
            if w == .w32 {
                stack.removeLast(); return .imm(Int32(truncatingIfNeeded: bits))
            } else if let s = Int32(exactly: Int64(bitPattern: bits)) {
                stack.removeLast(); return .imm(s)
            }
        case .local(let l):
            switch home(l) {
            case .gpr(let r): stack.removeLast(); return .pinned(r)
            case .mem(let m): stack.removeLast(); return .mem(m)
            case .xmm: break
            }
        case .stack:
            stack.removeLast(); return .mem(Self.slotMem(index))
        default: break
        }
        return .reg(popGPR())
    }
    mutating func apply(_ op: ALU, _ w: Width, _ dst: Reg, _ b: Operand) {
        switch b {
        case .reg(let r): asm.alu(op, w, dst, r); free(r)
        case .pinned(let r): asm.alu(op, w, dst, r)
        case .imm(let i): asm.alu(op, w, dst, imm: i)
        case .mem(let m): asm.alu(op, w, dst, m)
        }
    }

    /// Pops the top value into a register the caller may only read: a pinned local's own
    /// register, or a fresh one (`owned`, to free).
    mutating func popReadableGPR(avoid: UInt16 = 0) -> (Reg, owned: Bool) {
        if case .local(let l) = stack[stack.count - 1].loc, case .gpr(let r) = home(l), avoid & (1 << UInt16(r.code)) == 0 {
            stack.removeLast()
            return (r, false)
        }
        return (popGPR(avoid: avoid), true)
    }
    mutating func popReadableXMM() -> (XReg, owned: Bool) {
        if case .local(let l) = stack[stack.count - 1].loc, case .xmm(let x) = home(l) {
            stack.removeLast()
            return (x, false)
        }
        return (popXMM(), true)
    }

    // MARK: the sink

    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError) {
        if unsupported != nil { return }
        if dead {
            switch instruction {
            case .block(let p, let r), .loop(let p, let r), .if(let p, let r), .tryTable(let p, let r):
                blocks.append(Block(kind: .block, height: stack.count, paramCount: p, resultCount: r, target: asm.newLabel(), deadAtEntry: true))
            case .else:
                if !blocks[blocks.count - 1].deadAtEntry { elseArm(validator: validator) }
            case .end:
                end(offset: offset, validator: validator)
            default:
                break
            }
            return
        }
        // A condition left in the flags survives only into the instruction that consumes it.
        switch instruction {
        case .brIf, .if, .select: if !topIsFlags { materializeFlags() }
        default: materializeFlags()
        }
        switch instruction {
        case .unreachable:
            asm.jmp(trapStub(.unreachable, offset: offset))
            dead = true
        case .nop:
            break
        case .block(let p, let r):
            spillAll(all: true)
            blocks.append(Block(kind: .block, height: stack.count - p, paramCount: p, resultCount: r, target: asm.newLabel(), deadAtEntry: false))
        case .loop(let p, let r):
            spillAll(all: true)
            let header = asm.newLabel()
            asm.bind(header)
            m.interruptCheck(offset: offset)
            if let c = counting {
                // Tiered mode: a running interpreter activation may enter here (`emitOSREntries`).
                // Not in a function with a tail-call wrapper: its body hands tail calls back to
                // the wrapper, which an activation entered here would not have.
                if !tailCallWrapper { osrLoops.append((offset, header, stack.count)) }
                countHotness(c.loopWeight, loop: tailCallWrapper ? nil : offset)
            }
            blocks.append(Block(kind: .loop, height: stack.count - p, paramCount: p, resultCount: r, target: header, deadAtEntry: false))
        case .if(let p, let r):
            let cond = conditionToFlags()
            spillAll(all: true)
            let elseLabel = asm.newLabel()
            asm.jcc(cond.negated, elseLabel)
            var b = Block(kind: .if, height: stack.count - p, paramCount: p, resultCount: r, target: asm.newLabel(), deadAtEntry: false)
            b.elseLabel = elseLabel
            blocks.append(b)
        case .else:
            elseArm(validator: validator)
        case .end:
            end(offset: offset, validator: validator)
        case .br(let depth):
            branch(depth: depth)
            dead = true
        case .brIf(let depth):
            let cond = conditionToFlags()
            let bi = blocks.count - 1 - depth
            if blocks[bi].kind != .function && !needsMoves(bi) {
                asm.jcc(cond, blocks[bi].target)
            } else {
                let skip = asm.newLabel()
                asm.jcc(cond.negated, skip)
                branch(depth: depth)
                asm.bind(skip)
            }
        case .brTable:
            brTable(validator.brTableTargets)
            dead = true
        case .return:
            emitReturn()
            dead = true
        case .returnCall(let f) where Int(f) == functionIndex:
            selfTailCall(offset: offset)
            dead = true
        case .returnCall(let f):
            let type = context.types[Int(context.functionTypes[Int(f)])]
            tailCall(type: type) { c in c.m.loadFunctionReference(Int(f), into: .rax) }
            dead = true
        case .returnCallIndirect(let typeIndex, let table):
            let type = context.types[Int(typeIndex)]
            popIntoR10(context.tables[Int(table)].is64 ? .w64 : .w32)
            tailCall(type: type) { c in
                c.m.indirectReference(typeIndex: Int(typeIndex), table: Int(table), index: .r10, scratch: .r11, offset: offset)
            }
            dead = true
        case .returnCallRef(let typeIndex):
            let type = context.types[Int(typeIndex)]
            popIntoR10()
            tailCall(type: type) { c in c.m.functionReference(.r10, offset: offset) }
            dead = true
        case .tryTable(let p, let r):
            tryTable(params: p, results: r, clauses: validator.catchClauses, offset: offset)
        case .throw(let tag):
            let n = context.types[Int(context.tags[Int(tag)])].params.count
            let argBase = spillTop(n)
            asm.movImm32(.rsi, tag)
            asm.lea(.w64, .rdx, Self.slotMem(argBase))
            m.callBuiltin(.throwException, mayTrap: false, offset: offset)
            raise(offset: offset)
            stack.removeLast(n)
            dead = true
        case .throwRef:
            popIntoR10()
            asm.mov(.w64, .rsi, .r10)
            m.callBuiltin(.throwReference, mayTrap: false, offset: offset)
            raise(offset: offset)
            dead = true
        case .callRef(let typeIndex):
            let type = context.types[Int(typeIndex)]
            popIntoR10()
            call(type: type, offset: offset) { c, argBase in
                c.m.callRef(.r10, slots: Self.slotMem(argBase), offset: offset)
            }
        case .refAsNonNull:
            let type = stack[stack.count - 1].type
            let ref = popGPR()
            m.nullCheck(ref, offset: offset)
            push(type, .gpr(ref))
        case .brOnNull(let depth):
            // Branch when null, without the reference; the fallthrough keeps it.
            let type = stack[stack.count - 1].type
            let ref = popGPR()
            asm.test(.w64, ref, ref)
            let skip = asm.newLabel()
            asm.jcc(.ne, skip)
            branch(depth: depth)
            asm.bind(skip)
            push(type, .gpr(ref))
        case .brOnNonNull(let depth):
            // Branch when not null, carrying the reference; the fallthrough drops it.
            let type = stack[stack.count - 1].type
            let ref = popGPR()
            push(type, .gpr(ref))
            asm.test(.w64, ref, ref)
            let skip = asm.newLabel()
            asm.jcc(.e, skip)
            branch(depth: depth)
            asm.bind(skip)
            free(pop().loc)
        case .call(let f):
            let type = context.types[Int(context.functionTypes[Int(f)])]
            call(type: type, offset: offset) { c, argBase in
                if Int(f) < c.importedFunctionCount {
                    c.m.loadFunctionReference(Int(f), into: .rax)
                    c.m.callReference(slots: Self.slotMem(argBase), offset: offset)
                } else {
                    c.m.callDefined(Int(f) - c.importedFunctionCount, slots: Self.slotMem(argBase), offset: offset)
                }
            }
        case .callIndirect(let typeIndex, let table):
            let type = context.types[Int(typeIndex)]
            // A 64-bit table's index is compared whole (tables hold under 2^32 elements).
            popIntoR10(context.tables[Int(table)].is64 ? .w64 : .w32)
            call(type: type, offset: offset) { c, argBase in
                c.m.callIndirect(
                    typeIndex: Int(typeIndex), table: Int(table), index: .r10, scratch: .r11, slots: Self.slotMem(argBase), offset: offset)
            }
        case .drop:
            free(pop().loc)
        case .select:
            lastSelectType = validator.values.last.flatMap { $0 == .unknown ? nil : $0 } ?? .i32
            select()
        case .localGet(let i):
            push(localTypes[Int(i)], .local(Int(i)))
        case .localSet(let i):
            setLocal(Int(i), tee: false)
        case .localTee(let i):
            setLocal(Int(i), tee: true)
        case .globalGet(let g):
            let type = context.globals[Int(g)].value
            let cell = m.globalCell(Int(g), context, scratch: Self.scratch)
            if type == .v128 {
                let x = allocXMM()
                asm.movdqu(x, cell)
                push(type, .xmm(x))
            } else if Self.isFloat(type) {
                let x = allocXMM()
                asm.movss(Self.fwidth(type), x, cell)
                push(type, .xmm(x))
            } else {
                let r = allocGPR()
                asm.load(Self.width(type), r, cell)
                push(type, .gpr(r))
            }
        case .globalSet(let g):
            let v = stack[stack.count - 1]
            if v.type == .v128 {
                let x = popXMM()
                asm.movdqu(m.globalCell(Int(g), context, scratch: Self.scratch), x)
                free(x)
            } else if Self.isFloat(v.type), case .xmm = v.loc {
                let x = popXMM()
                asm.movss(Self.fwidth(v.type), m.globalCell(Int(g), context, scratch: Self.scratch), x)
                free(x)
            } else {
                let r = popGPR()
                asm.store(.w64, m.globalCell(Int(g), context, scratch: Self.scratch), r)
                free(r)
            }
        case .tableGet(let t):
            let i = popGPR()
            tableElement(table: Int(t), index: i, offset: offset)
            let r = allocGPR()
            asm.load(.w64, r, Mem(Self.scratch, index: i, scale: 3))
            free(i)
            push(context.tables[Int(t)].element, .gpr(r))
        case .tableSet(let t):
            let v = popGPR()
            let i = popGPR(avoid: 1 << UInt16(v.code))
            tableElement(table: Int(t), index: i, offset: offset)
            asm.store(.w64, Mem(Self.scratch, index: i, scale: 3), v)
            free(i); free(v)
        case .load(let opcode, let memOffset, let memory):
            load(opcode: opcode, memOffset: memOffset, memory: memory, offset: offset)
        case .store(let opcode, let memOffset, let memory):
            store(opcode: opcode, memOffset: memOffset, memory: memory, offset: offset)
        case .memorySize(let memory):
            let r = allocGPR()
            if context.isPlainMemory0(memory) {
                m.memorySize(into: r)
            } else {
                m.memoryDefinition(memory, into: r)
                asm.load(.w64, r, Mem(r, VMContextLayout.memoryByteSize))
                asm.shift(.shr, .w64, r, imm: 16)
            }
            push(context.memories[Int(memory)].addressType, .gpr(r))
        case .memoryGrow(let memory) where !context.isPlainMemory0(memory):
            builtinCall(.memoryGrowAt, args: 1, result: context.memories[Int(memory)].addressType, offset: offset, mayTrap: false) { c in
                c.asm.movImm32(.rsi, memory)
            }
        case .memoryGrow:
            builtinCall(.memoryGrow, args: 1, result: .i32, offset: offset, mayTrap: false) { _ in }
        case .const(let type, let bits):
            push(type, .imm(bits))
        case .numeric(let opcode):
            numeric(opcode, offset: offset)
        case .refNull(let type):
            push(type, .imm(0))
        case .refIsNull:
            let r = popGPR()
            asm.test(.w64, r, r)
            free(r)
            push(.i32, .flags(.e))
        case .refFunc(let f):
            let r = allocGPR()
            m.loadFunctionReference(Int(f), into: r)
            push(.funcref, .gpr(r))
        case .memoryInit(let segment, let memory) where !context.isPlainMemory0(memory):
            builtinCall(.memoryInitAt, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, segment); c.asm.movImm32(.rdx, memory)
            }
        case .memoryInit(let segment, _):
            builtinCall(.memoryInit, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, segment)
            }
        case .dataDrop(let segment):
            builtinCall(.dataDrop, args: 0, result: nil, offset: offset, mayTrap: false) { c in
                c.asm.movImm32(.rsi, segment)
            }
        case .memoryCopy(let d, let s) where !context.isPlainMemory0(d) || !context.isPlainMemory0(s):
            builtinCall(.memoryCopyAt, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, d); c.asm.movImm32(.rdx, s)
            }
        case .memoryCopy:
            builtinCall(.memoryCopy, args: 3, result: nil, offset: offset, mayTrap: true) { _ in }
        case .memoryFill(let memory) where !context.isPlainMemory0(memory):
            builtinCall(.memoryFillAt, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, memory)
            }
        case .memoryFill:
            builtinCall(.memoryFill, args: 3, result: nil, offset: offset, mayTrap: true) { _ in }
        case .tableInit(let segment, let table):
            builtinCall(.tableInit, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, table); c.asm.movImm32(.rdx, segment)
            }
        case .elemDrop(let segment):
            builtinCall(.elemDrop, args: 0, result: nil, offset: offset, mayTrap: false) { c in
                c.asm.movImm32(.rsi, segment)
            }
        case .tableCopy(let dt, let st):
            builtinCall(.tableCopy, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, dt); c.asm.movImm32(.rdx, st)
            }
        case .tableGrow(let t):
            builtinCall(.tableGrow, args: 2, result: context.tables[Int(t)].indexType, offset: offset, mayTrap: false) { c in
                c.asm.movImm32(.rsi, t)
            }
        case .tableSize(let t):
            let r = allocGPR()
            asm.load(.w64, r, Mem(Self.vm, VMContextLayout.tables))
            asm.load(.w64, r, Mem(r, Int32(8 * Int(t))))
            asm.load(.w32, r, Mem(r, VMContextLayout.tableCount))
            push(context.tables[Int(t)].indexType, .gpr(r))
        case .tableFill(let t):
            builtinCall(.tableFill, args: 3, result: nil, offset: offset, mayTrap: true) { c in
                c.asm.movImm32(.rsi, t)
            }
        case .simd(let opcode, let memOffset, let lane, let memory):
            if !simd(opcode, memOffset: memOffset, lane: lane, memory: memory, offset: offset, validator: validator) {
                unsupported = WasmError(.unsupported, "the baseline tier does not compile this SIMD instruction yet (0xfd \(opcode))", offset: offset)
            }
        }
    }

    // MARK: control flow

    /// Turns the popped condition into flags and returns the condition that means "true".
    mutating func conditionToFlags() -> Cond {
        let v = stack[stack.count - 1]
        if case .flags(let c) = v.loc {
            stack.removeLast()
            return c
        }
        if case .imm(let bits) = v.loc {
            // A constant condition: compare a register with itself is not possible without one.
            stack.removeLast()
            let r = allocGPR()
            asm.movImm32(r, UInt32(truncatingIfNeeded: bits))
            asm.test(.w32, r, r)
            free(r)
            return .ne
        }
        switch popOperand(.w32) {
        case .reg(let r):
            asm.test(.w32, r, r)
            free(r)
        case .pinned(let r):
            asm.test(.w32, r, r)
        case .mem(let m):
            asm.alu(.cmp, .w32, m, imm: 0)
        case .imm:
            preconditionFailure("unreachable: constants handled above")
        }
        return .ne
    }

    func needsMoves(_ bi: Int) -> Bool {
        let n = blocks[bi].arity
        guard n > 0 else { return false }
        let from = stack.count - n
        if from != blocks[bi].height { return true }
        for i in from..<stack.count where stack[i].loc != .stack { return true }
        return false
    }

    /// Moves the top values into the target block's slots and jumps (or returns).
    mutating func branch(depth: Int) {
        let bi = blocks.count - 1 - depth
        if blocks[bi].kind == .function {
            emitReturn()
            return
        }
        let n = blocks[bi].arity
        let from = stack.count - n
        for i in 0..<n {
            storeEntry(from + i, to: Self.slotMem(blocks[bi].height + i))
        }
        asm.jmp(blocks[bi].target)
    }

    /// Writes the results to the caller's slot buffer and returns.
    mutating func emitReturn() {
        let n = resultTypes.count
        if n > 0 {
            asm.load(.w64, Self.scratch2, Mem(.rbp, m.slotBufferOffset))
            let from = stack.count - n
            for i in 0..<n {
                let m = Mem(Self.scratch2, Int32(16 * i))
                if stack[from + i].loc == .stack {
                    copySlot(Self.slotMem(from + i), to: m, stack[from + i].type)
                } else {
                    store(stack[from + i], to: m)
                }
            }
        }
        epilogue()
    }

    mutating func brTable(_ targets: [UInt32]) {
        let index = popGPR()
        let count = targets.count - 1
        // Out of range: the default target (the last entry).
        asm.alu(.cmp, .w32, index, imm: Int32(truncatingIfNeeded: count))
        asm.movImm32(Self.scratch, UInt32(count))
        asm.cmov(.a, .w32, index, Self.scratch)
        let table = asm.newLabel()
        asm.leaRIP(Self.scratch, table)
        asm.loadSX32(Self.scratch2, Mem(Self.scratch, index: index, scale: 2))
        asm.alu(.add, .w64, Self.scratch, Self.scratch2)
        free(index)
        asm.jmp(Self.scratch)
        // Targets in the same state share one stub.
        var stubFor: [UInt32: Label] = [:]
        var order: [(UInt32, Label)] = []
        for t in targets where stubFor[t] == nil {
            let l = asm.newLabel()
            stubFor[t] = l
            order.append((t, l))
        }
        asm.align(4)
        asm.bind(table)
        for t in targets { asm.tableEntry(stubFor[t]!, base: table) }
        for (t, l) in order {
            asm.bind(l)
            branch(depth: Int(t))
        }
    }

    mutating func elseArm(validator: borrowing FunctionValidator) {
        var b = blocks.removeLast()
        if !dead {
            storeResults(b)
            asm.jmp(b.target)
        }
        if let e = b.elseLabel {
            asm.bind(e)
            b.elseLabel = nil
        }
        resetStack(height: b.height, count: b.paramCount, validator: validator)
        dead = b.deadAtEntry
        blocks.append(b)
    }

    /// Moves a block's results (the top values) to their slots on the fall-through path.
    mutating func storeResults(_ b: Block) {
        let n = b.resultCount
        let from = stack.count - n
        for i in 0..<n { storeEntry(from + i, to: Self.slotMem(b.height + i)) }
        for i in from..<stack.count { free(stack[i].loc) }
    }

    /// Resets the stack to a block's height plus `count` values in their slots, typed from the
    /// validator's stack (which holds exactly those values now).
    mutating func resetStack(height: Int, count: Int, validator: borrowing FunctionValidator) {
        while stack.count > height { free(pop().loc) }
        let types = validator.values
        for k in 0..<count {
            let t = types[types.count - count + k]
            push(t == .unknown ? .i32 : t, .stack)
        }
    }

    mutating func end(offset: Int, validator: borrowing FunctionValidator) {
        let b = blocks.removeLast()
        if b.deadAtEntry { return }
        // A try_table's handler covers its body: the instructions after it up to this end.
        if let pad = b.tryPad { handlerRanges.append((b.tryOffset + 1, offset, pad)) }
        if b.kind == .function {
            if !dead { emitReturn() }
            asm.bind(b.target)
            return
        }
        if !dead { storeResults(b) }
        if let e = b.elseLabel { asm.bind(e) }
        if b.kind != .loop { asm.bind(b.target) }
        resetStack(height: b.height, count: b.resultCount, validator: validator)
        dead = false
    }

    // MARK: locals, select

    mutating func setLocal(_ l: Int, tee: Bool) {
        // Values that still read the local lazily must be taken before it changes.
        for i in 0..<(stack.count - 1) where stack[i].loc == .local(l) {
            if stack[i].type == .v128 {
                let x = allocXMM()
                load(stack[i], at: i, into: x)
                stack[i].loc = .xmm(x)
                continue
            }
            let r = allocGPR()
            load(stack[i], at: i, into: r)
            stack[i].loc = .gpr(r)
        }
        let index = stack.count - 1
        let v = stack[index]
        if case .local(let s) = v.loc, s == l {
            // local.set of its own value: nothing to do
        } else {
            switch home(l) {
            case .gpr(let r): load(v, at: index, into: r)
            case .xmm(let x): load(v, at: index, into: x)
            case .mem(let m):
                switch v.loc {
                case .stack:
                    copySlot(Self.slotMem(index), to: m, v.type)
                case .flags:
                    preconditionFailure("flags are materialized before local.set")
                default:
                    store(v, to: m)
                }
            }
        }
        if tee {
            if case .stack = v.loc { stack[index].loc = .local(l) }
            if case .local = v.loc { stack[index].loc = .local(l) }
        } else {
            free(pop().loc)
        }
    }

    mutating func select() {
        if lastSelectType == .v128 { return selectV128() }
        let cond: Cond
        if topIsFlags {
            guard case .flags(let c) = pop().loc else { preconditionFailure() }
            cond = c
            // Loading the operands must not touch the flags: only moves.
            let b = popGPR()
            let a = popGPR(avoid: 1 << UInt16(b.code))
            asm.cmov(cond.negated, .w64, a, b)
            free(b)
            pushSelected(a)
            return
        }
        let c = popGPR()
        let b = popGPR(avoid: 1 << UInt16(c.code))
        let a = popGPR(avoid: 1 << UInt16(c.code) | 1 << UInt16(b.code))
        asm.test(.w32, c, c)
        asm.cmov(.e, .w64, a, b)
        free(b); free(c)
        pushSelected(a)
    }
    mutating func pushSelected(_ r: Reg) {
        // The validator knows the type; the selected value's type is the operands'.
        push(lastSelectType, .gpr(r))
    }
    var lastSelectType: ValueType = .i32

    /// `select` of two v128 values: a branch over a register copy (the flags survive moves).
    mutating func selectV128() {
        var cond = Cond.ne
        var c: Reg?
        if topIsFlags {
            guard case .flags(let f) = pop().loc else { preconditionFailure() }
            cond = f
        } else {
            c = popGPR()
        }
        let b = popXMM()
        let a = popXMM()
        if let c {
            asm.test(.w32, c, c)
            free(c)
        }
        let keep = asm.newLabel()
        asm.jcc(cond, keep)
        asm.movaps(a, b)
        asm.bind(keep)
        free(b)
        push(.v128, .xmm(a))
    }

    // MARK: calls

    /// Spills what a call clobbers, puts the arguments in consecutive slots and pushes the
    /// results (which the callee writes over the arguments' slots).
    mutating func call(type: FuncType, offset: Int, _ emitCall: (inout BaselineCompiler, Int) -> Void) {
        let p = type.params.count
        let argBase = spillTop(p)
        savePins()
        emitCall(&self, argBase)
        restorePins()
        stack.removeLast(p)
        for t in type.results { push(t, .stack) }
        maxHeight = max(maxHeight, argBase + max(p, type.results.count))
    }

    // MARK: exceptions

    /// `try_table`: a block whose body a handler covers (recorded at its end), with a landing
    /// pad that runs the catch clauses in order. Everything is spilled at entry, as for any
    /// block; with no locals in registers (`catches`), the frame then holds every value a clause's
    /// target needs.
    mutating func tryTable(params p: Int, results r: Int, clauses: [CatchClause], offset: Int) {
        spillAll(all: true)
        var pad = LandingPad(label: asm.newLabel(), tryOffset: offset, clauses: [])
        for c in clauses {
            // Labels of the catch clauses count from the try_table's enclosing block.
            let bi = blocks.count - 1 - Int(c.depth)
            let all = c.kind == .catchAll || c.kind == .catchAllRef
            pad.clauses.append(LandingPad.Clause(
                tag: all ? UInt32.max : c.tag, withReference: c.kind == .catchTagRef || c.kind == .catchAllRef,
                target: blocks[bi].target, height: blocks[bi].height, returns: blocks[bi].kind == .function))
            maxHeight = max(maxHeight, blocks[bi].height + blocks[bi].arity)
        }
        landingPads.append(pad)
        var b = Block(kind: .block, height: stack.count - p, paramCount: p, resultCount: r, target: asm.newLabel(), deadAtEntry: false)
        b.tryPad = pad.label
        b.tryOffset = offset
        blocks.append(b)
    }

    /// After a throw's builtin returned the exception status: to the landing pad of the
    /// innermost try_table around it in this function, or raised without a signal
    /// (`X64MachineLayer.raiseException`: the first landing pad in the frames outside, or the
    /// entry).
    mutating func raise(offset: Int) {
        asm.alu(.cmp, .w32, .rax, imm: Int32(TrapKind.exception.rawValue))
        if let b = blocks.last(where: { $0.tryPad != nil && !$0.deadAtEntry }) {
            asm.jcc(.e, b.tryPad!)
        } else {
            let other = asm.newLabel()
            asm.jcc(.ne, other)
            m.raiseException(offset: offset)
            asm.bind(other)
        }
        m.trapOnStatus(offset: offset)  // throw_ref of null
    }

    /// The landing pads, after the body: each restores the stack pointer and the VM context from
    /// the frame (it is entered from the trap handler or a throw), then tries its clauses in
    /// order (`Builtin.catchException` writes the payload to the target's slots); when none
    /// catches, the exception is raised again at the try_table, so enclosing handlers see it.
    /// Returns each pad's code offset by label id.
    mutating func emitLandingPads() -> [Int: Int] {
        var offsets: [Int: Int] = [:]
        for pad in landingPads {
            asm.bind(pad.label)
            offsets[pad.label.id] = asm.offset
            m.landingPadEntry(context: vmSlot, hasMemory: hasMemory)
            for c in pad.clauses {
                asm.movImm32(.rsi, c.tag)
                asm.lea(.w64, .rdx, Self.slotMem(c.height))
                asm.movImm32(.rcx, c.withReference ? 1 : 0)
                m.callBuiltin(.catchException, mayTrap: false, offset: pad.tryOffset)
                asm.test(.w32, .rax, .rax)
                if c.returns {
                    let next = asm.newLabel()
                    asm.jcc(.e, next)
                    asm.load(.w64, Self.scratch2, Mem(.rbp, m.slotBufferOffset))
                    for i in 0..<resultTypes.count { copySlot(Self.slotMem(i), to: Mem(Self.scratch2, Int32(16 * i)), resultTypes[i]) }
                    epilogue()
                    asm.bind(next)
                } else {
                    asm.jcc(.ne, c.target)
                }
            }
            asm.jmp(m.stub(.exception, offset: pad.tryOffset))
        }
        return offsets
    }

    /// Pops the top value (a table index or a function reference) into r10, which survives the
    /// argument moves and checks of the call that uses it, after spilling the registers.
    mutating func popIntoR10(_ w: Width = .w64) {
        spillRegisters()
        let v = popGPR()
        asm.mov(w, .r10, v)
        free(v)
    }

    /// Spills the top `n` values (a call's arguments) to their slots; returns the first's height.
    mutating func spillTop(_ n: Int) -> Int {
        spillRegisters()
        for i in (stack.count - n)..<stack.count { spill(i) }
        maxHeight = max(maxHeight, stack.count)
        return stack.count - n
    }

    /// `return_call` and its indirect forms to another function: `reference` leaves the callee's
    /// function reference in rax (after its checks; it may use rcx, r10 and r11); then, when the
    /// arguments (the top values) fit this function's slot buffer, they go there and compiled
    /// callees are jumped to (`X64MachineLayer.jumpForTailCall`); otherwise, and for other
    /// callees, they go to the store's tail-call area and the function returns to its entry
    /// wrapper, which makes the call (`X64MachineLayer.tailCallWrapper`).
    mutating func tailCall(type: FuncType, _ reference: (inout BaselineCompiler) -> Void) {
        let p = type.params.count
        let argBase = spillTop(p)
        reference(&self)
        if p <= max(paramCount, resultTypes.count) {
            // The arguments fit this function's slot buffer: compiled callees are jumped to.
            asm.load(.w64, .rsi, Mem(.rbp, m.slotBufferOffset))
            for k in 0..<p { copySlot(Self.slotMem(argBase + k), to: Mem(.rsi, Int32(16 * k)), type.params[k]) }
            m.jumpForTailCall(argumentCount: p)
        } else {
            asm.load(.w64, Self.scratch2, Mem(Self.vm, VMContextLayout.tailCall))
            for k in 0..<p { copySlot(Self.slotMem(argBase + k), to: X64MachineLayer.tailCallArgument(k, area: Self.scratch2), type.params[k]) }
            m.leaveForTailCall(argumentCount: p, scratch: Self.scratch2)
        }
        stack.removeLast(p)
    }

    /// `return_call` to the function itself: the arguments become the parameters, the other
    /// locals start at zero again, and the body starts over (a loop: the interrupt check of a
    /// loop header comes first, so an endless tail recursion can be stopped).
    mutating func selfTailCall(offset: Int) {
        let p = paramCount
        let argBase = spillTop(p)
        m.interruptCheck(offset: offset)
        loadParameters(count: p) { Self.slotMem(argBase + $0) }
        zeroLocals(from: p)
        stack.removeLast(p)
        asm.jmp(bodyStart)
    }

    /// Calls a runtime builtin with the VM context in rdi, immediates set by `setup` (rsi,
    /// rdx...), then the top `args` values in the following argument registers.
    mutating func builtinCall(
        _ b: Builtin, args: Int, result: ValueType?, offset: Int, mayTrap: Bool,
        _ setup: (inout BaselineCompiler) -> Void
    ) {
        spillRegisters()
        let order: [Reg] = [.rdi, .rsi, .rdx, .rcx, .r8, .r9]
        var immediates = 1
        switch b {
        case .memoryInit, .dataDrop, .elemDrop, .tableGrow, .tableFill, .convert, .memoryGrowAt, .memoryFillAt: immediates = 2
        case .tableInit, .tableCopy, .memoryInitAt, .memoryCopyAt: immediates = 3
        default: break
        }
        // All registers are free after spilling; load the arguments in place (pinned locals in
        // caller-saved registers are read from their slots meanwhile).
        savePins()
        for k in 0..<args {
            let index = stack.count - args + k
            load(stack[index], at: index, into: order[immediates + k])
        }
        for _ in 0..<args { free(pop().loc) }
        setup(&self)
        let checksStatus = m.emitBuiltinCall(b, mayTrap: mayTrap, offset: offset)
        restorePins()  // moves only: eax (the status or result) is untouched
        if checksStatus { m.trapOnStatus(offset: offset) }
        if let result {
            gprFree &= ~(1 << UInt16(Reg.rax.code))
            // A C/Swift UInt32 result leaves rax's upper half undefined (i64 results are UInt64).
            if result != .i64 { asm.mov(.w32, .rax, .rax) }
            push(result, .gpr(.rax))
        }
    }

    // MARK: memory and tables

    /// Leaves the element array of table `t` in the scratch register after a bounds check of
    /// `index`.
    mutating func tableElement(table t: Int, index: Reg, offset: Int) {
        m.tableElements(table: t, index: index, scratch: Self.scratch, offset: offset)
    }

    /// The effective address of an access to any memory. The plain memory 0 is the fast path
    /// below. Another memory's base is loaded into scratch2 and the address added to it; a
    /// 64-bit address or offset of 2^32 or more is out of bounds (memories are at most 4 GiB),
    /// checked here, and below that the guard region behind every memory catches the rest, as
    /// for 32-bit addresses. Returns the operand and a register to free after the access.
    mutating func address(memOffset: UInt64, memory: UInt32, offset: Int) -> (Mem, Reg?) {
        if context.isPlainMemory0(memory) { return address(memOffset: memOffset) }
        let is64 = context.memories[Int(memory)].is64
        let base = Self.scratch2
        if is64 && memOffset > UInt64(UInt32.max) { asm.jmp(m.stub(.memoryOutOfBounds, offset: offset)) }
        let v = stack[stack.count - 1]
        if memory == 0 {
            // A 64-bit memory 0: its base is in r15 already; after the check, the plain path.
            if case .imm(let bits) = v.loc {
                if bits > UInt64(UInt32.max) { asm.jmp(m.stub(.memoryOutOfBounds, offset: offset)) }
                return address(memOffset: memOffset & 0xFFFF_FFFF)
            }
            let (r, owned) = popReadableGPR()
            m.checkAddress64(r, scratch: Self.scratch, offset: offset)
            let disp = memOffset & 0xFFFF_FFFF
            if disp <= 0x7FFF_FFFF { return (Mem(Self.memBase, index: r, Int32(disp)), owned ? r : nil) }
            asm.movImm(Self.scratch, disp)
            asm.alu(.add, .w64, Self.scratch, r)
            return (Mem(Self.memBase, index: Self.scratch), owned ? r : nil)
        }
        if case .imm(let bits) = v.loc {
            stack.removeLast()
            let address = is64 ? bits : bits & 0xFFFF_FFFF
            if address > UInt64(UInt32.max) { asm.jmp(m.stub(.memoryOutOfBounds, offset: offset)) }
            m.memoryDefinition(memory, into: base)
            asm.load(.w64, base, Mem(base, VMContextLayout.memoryBase))
            let ea = (address & 0xFFFF_FFFF) + (memOffset & 0xFFFF_FFFF)
            if ea <= 0x7FFF_FFFF { return (Mem(base, Int32(ea)), nil) }
            asm.movImm(Self.scratch, ea)
            return (Mem(base, index: Self.scratch), nil)
        }
        let (r, owned) = popReadableGPR()
        if is64 {
            m.checkAddress64(r, scratch: Self.scratch, offset: offset)
        }
        m.memoryDefinition(memory, into: base)
        asm.load(.w64, base, Mem(base, VMContextLayout.memoryBase))
        asm.alu(.add, .w64, base, r)
        if owned { free(r) }
        let disp = memOffset & 0xFFFF_FFFF
        if disp <= 0x7FFF_FFFF { return (Mem(base, Int32(disp)), nil) }
        asm.movImm(Self.scratch, disp)
        return (Mem(base, index: Self.scratch), nil)
    }

    /// The effective address of an access to the plain memory 0: memory base + zero-extended
    /// address + offset. The guard region behind every 32-bit memory catches what is out of
    /// bounds.
    mutating func address(popping: Bool = true, memOffset: UInt64) -> (Mem, Reg?) {
        let index = stack.count - 1
        let v = stack[index]
        if case .imm(let bits) = v.loc {
            let ea = (bits & 0xFFFF_FFFF) + memOffset
            stack.removeLast()
            if ea <= 0x7FFF_FFFF { return (Mem(Self.memBase, Int32(ea)), nil) }
            asm.movImm(Self.scratch, ea)
            return (Mem(Self.memBase, index: Self.scratch), nil)
        }
        let (r, owned) = popReadableGPR()
        if memOffset <= 0x7FFF_FFFF {
            return (Mem(Self.memBase, index: r, Int32(memOffset)), owned ? r : nil)
        }
        asm.movImm(Self.scratch, memOffset)
        asm.alu(.add, .w64, Self.scratch, r)
        return (Mem(Self.memBase, index: Self.scratch), owned ? r : nil)
    }

    mutating func load(opcode: UInt8, memOffset: UInt64, memory: UInt32, offset: Int) {
        let access = MemoryAccess.load(opcode)
        let (m, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
        if access.type == .f32 || access.type == .f64 {
            let x = allocXMM()
            faultSite(.memoryOutOfBounds, offset: offset)
            asm.movss(Self.fwidth(access.type), x, m)
            if let addr { free(addr) }
            push(access.type, .xmm(x))
            return
        }
        let r = allocGPR()
        faultSite(.memoryOutOfBounds, offset: offset)
        self.m.loadInteger(opcode: opcode, into: r, m)
        if let addr { free(addr) }
        push(access.type, .gpr(r))
    }

    mutating func store(opcode: UInt8, memOffset: UInt64, memory: UInt32, offset: Int) {
        let access = MemoryAccess.store(opcode)
        let value = stack[stack.count - 1]
        if Self.isFloat(access.type), case .xmm = value.loc {
            let x = popXMM()
            let (m, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
            faultSite(.memoryOutOfBounds, offset: offset)
            asm.movss(Self.fwidth(access.type), m, x)
            free(x)
            if let addr { free(addr) }
            return
        }
        let (v, owned) = popReadableGPR()
        let (m, addr) = address(memOffset: memOffset, memory: memory, offset: offset)
        faultSite(.memoryOutOfBounds, offset: offset)
        switch access.width {
        case 1: asm.store8(m, v)
        case 2: asm.store16(m, v)
        case 4: asm.store(.w32, m, v)
        default: asm.store(.w64, m, v)
        }
        if owned { free(v) }
        if let addr { free(addr) }
    }
}

/// Runtime functions compiled code calls through the VM context's builtin table
/// (`vmctx->builtins[rawValue]`), so code holds no absolute addresses. Each takes the VM
/// context first, except `memoryCopy` and `memoryFill`: their slots hold libc's `memmove` and
/// `memset`, which the code calls once it has checked the ranges on memory 0
/// (`X64MachineLayer.memoryCopyOrFill`).
enum Builtin: Int, CaseIterable {
    case memoryGrow = 0, memoryInit, dataDrop, memoryCopy, memoryFill
    case tableGrow, tableFill, tableCopy, tableInit, elemDrop
    case callHost, convert
    /// Baseline code past its hotness threshold: queue the optimizing tier.
    case tierUp
    /// `memory.grow`, `init`, `copy`, `fill` on any memory (immediates: the memory indices).
    case memoryGrowAt, memoryInitAt, memoryCopyAt, memoryFillAt
    /// Runs the tail calls a function's body left for (its entry wrapper calls it).
    case tailCall
    /// `throw` (immediate: the tag; the payload's slots), `throw_ref`, and a catch clause's
    /// test at a landing pad (see docs/ARCHITECTURE.md, "Exceptions").
    case throwException, throwReference, catchException
    /// `strata_raise` (C): where an exception thrown in compiled code goes on.
    case raise
}

/// A first pass over a body for the baseline compiler: how much each local is used, with uses
/// inside loops weighted by nesting depth (8x per level), to choose the locals kept in registers.
/// Also notes whether the body makes tail calls to other functions (its code then starts with
/// the wrapper that runs them).
struct LocalUseCounter: CodeSink {
    var uses: [Int]
    var blocks: [Bool] = []  // per open block: is it a loop
    var weight = 1
    /// The function's own index (function index space): tail calls to it are jumps.
    let functionIndex: Int
    var tailCallsOthers = false
    /// The body has a try_table.
    var catches = false

    init(localCount: Int, functionIndex: Int = -1) {
        uses = Array(repeating: 0, count: localCount)
        self.functionIndex = functionIndex
    }

    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError) {
        switch instruction {
        case .returnCall(let f):
            if Int(f) != functionIndex { tailCallsOthers = true }
        case .returnCallIndirect, .returnCallRef:
            tailCallsOthers = true
        case .localGet(let i), .localSet(let i), .localTee(let i):
            uses[Int(i)] &+= weight
        case .block, .if:
            blocks.append(false)
        case .tryTable:
            blocks.append(false)
            catches = true
        case .loop:
            blocks.append(true)
            if weight < 1 << 24 { weight *= 8 }
        case .end:
            if let loop = blocks.popLast(), loop { weight /= 8 }
        default:
            break
        }
    }
}
