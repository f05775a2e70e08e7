import CStrata

/// What both compiled tiers emit the same way on x86-64: the frame's prologue and epilogue
/// (which `UnwindInfo` describes), the stack-limit and interrupt checks, calls to Wasm
/// functions, function references and runtime builtins with the slot-buffer convention,
/// and the trap tables (trap sites, call sites, out-of-line trap stubs). VM-context fields
/// come from `VMContextLayout`. Like JSC's MacroAssembler shared by its tiers.
struct X64MachineLayer {
    static let vm = Reg.r14, memBase = Reg.r15
    /// The callee-saved registers this frame saves (the prologue pushes them after rbp).
    var saved = SavedRegisters.all
    /// Offset from rbp of the caller's slot buffer pointer (right below the saved registers).
    var slotBufferOffset: Int32 { -saved.bytes - 8 }

    var asm = X64Assembler(capacity: 1024)
    var traps: [StrataTrapSite] = []
    /// (return-address offset, Wasm offset) pairs of every call.
    var callSites: [UInt32] = []
    /// Out-of-line trap stubs: (label, kind, Wasm offset), emitted after the body.
    var stubs: [(Label, UInt32, Int, Int32)] = []
    /// The inline tag of the code being emitted (optimizing tier: 1 + the index of the inlined
    /// call it belongs to; 0 for the function's own code), and the trap sites of inlined code as
    /// (code offset, tag).
    var inlineTag: Int32 = 0
    var inlineSites: [(UInt32, Int32)] = []
    /// Positions of the frame-size immediates of `sub rsp, imm32` (the function's prologue, and
    /// those of its on-stack-replacement entries, which build the same frame).
    var frameSizePatches: [Int] = []
    /// The body being emitted is a leaf without a frame of its own (`prologue(leaf:)`), and
    /// the calls emitted before it.
    var framelessBody = false
    var callsBeforeBody = 0
    /// Positions of the displacements of `lea rsp, [rbp - frame]` (`restoreStackPointer`).
    var stackPointerPatches: [Int] = []
    /// Constants placed after the code, read rip-relative: 8-byte ones (float operands) and
    /// 16-byte ones, 16-byte aligned (SIMD masks and tables).
    var constants64: [UInt64: Label] = [:]
    var constants128: [V128Bits: Label] = [:]
    /// Emit VEX (AVX) encodings where a sequence has them (the tier checked the CPU).
    var avx = false

    // MARK: frame

    /// push rbp; mov rbp, rsp; save `saved` (r14, r15, rbx, r12, r13 in that order, those in
    /// the set); sub rsp, (patched); stack-limit check; vmctx to r14 and the slot buffer below
    /// the saved registers (when r14 is saved), memory 0's base to r15.
    ///
    /// A leaf body (`leaf`: no calls, nothing below the saved registers) has no frame beyond
    /// them: no `sub rsp`, and its epilogue pops straight away (`framelessBody`); `checksStack:
    /// false` also leaves out the stack check, for leaves without loops: they end soon (an
    /// interrupt is seen by their caller) and use a few words of stack, well within the margin
    /// below the limit (`strata_thread_stack_limit`). The caller checks `leafHeld()` afterwards.
    mutating func prologue(
        hasMemory: Bool, frameSize: Int? = nil, slotBuffer: Bool = true, saved: SavedRegisters = .all,
        leaf: Bool = false, checksStack: Bool = true
    ) {
        self.saved = saved
        framelessBody = leaf
        callsBeforeBody = asm.calls
        let begin = asm.offset
        asm.push(.rbp)
        asm.mov(.w64, .rbp, .rsp)
        for r in saved.registers { asm.push(r) }
        assert(asm.offset - begin == UnwindInfo.prologueLengths(saved).reduce(0, +), "prologue and unwind information disagree")
        if !leaf {
            asm.byte(0x48); asm.byte(0x81); asm.byte(0xEC)
            if var frameSize {
                if (Int(saved.bytes) + frameSize) % 16 != 0 { frameSize += 8 }
                asm.u32(UInt32(frameSize))
            } else {
                frameSizePatches.append(asm.offset)
                asm.u32(0)
            }
        }
        // Stack limit (vmctx still in rdi): a trap, not a crash.
        if checksStack || !leaf {
            asm.alu(.cmp, .w64, .rsp, Mem(.rdi, VMContextLayout.stackLimit))
            asm.jcc(.b, stub(.callStackExhausted, offset: 0))
        }
        let keepsContext = saved.registers.contains(Self.vm)
        if keepsContext { asm.mov(.w64, Self.vm, .rdi) }
        if slotBuffer { asm.store(.w64, Mem(.rbp, slotBufferOffset), .rsi) }
        // (A body that does not keep the VM context in r14 reads memory 0's base through rdi.)
        if hasMemory { loadMemoryBase(from: keepsContext ? Self.vm : .rdi) }
    }

    /// Sets rsp to its value in the body from rbp (code entered with another rsp: a landing
    /// pad the trap handler resumes at). The displacement is patched by `finish`.
    mutating func restoreStackPointer() {
        asm.lea(.w64, .rsp, Mem(.rbp, Int32.min))
        stackPointerPatches.append(asm.offset - 4)
    }

    /// Returns 0 (no trap) to the caller, restoring the saved registers (`status: false` leaves
    /// rax alone: a direct entry's result).
    mutating func epilogue(status: Bool = true) {
        if status { asm.movImm32(.rax, 0) }
        popFrame()
        asm.ret()
    }

    /// Whether the body since the last `prologue(leaf: true)` kept to being a leaf: it made
    /// no call (the frame has no room for one: a compiler that promised a leaf and emitted a
    /// call emits the function again without the promise).
    func leafHeld() -> Bool { !framelessBody || asm.calls == callsBeforeBody }

    /// Restores the saved registers and the caller's rbp (the return address is on top).
    mutating func popFrame() {
        if framelessBody {
            // The stack pointer is where the pushes left it.
            for r in saved.registers.reversed() { asm.pop(r) }
            asm.pop(.rbp)
        } else {
            // Loads from rbp, as Cranelift does: pops after `lea rsp, [rbp - saved]` (the
            // sequence before) waited for it; recursive `fib` ran 1.25x the time on Zen 5.
            asm.leaveFrame(restoring: saved.registers)
        }
    }

    /// Traps when the engine asks running code to stop, at loop headers: one read of the VM
    /// context's interrupt page (the page before the context), which an interrupt makes
    /// unreadable (`InterruptHandle`), so the read faults at a trap site of kind "interrupted".
    /// No compare and no branch: a compare of the stack-limit field with all ones and a branch
    /// (the poll before) cost a tight loop a cycle per iteration (`br_table_states`: 1.45x
    /// the time of the same loop without a poll on an AMD EPYC host, 1.15x with this read).
    /// Function entries see an interrupt by their stack check (the stack limit is all ones
    /// meanwhile). `eax` is only read (any value): the flags are the one thing written.
    mutating func interruptCheck(offset: Int) {
        faultSite(.interrupted, offset: offset)
        asm.test(.w32, Mem(Self.vm, VMContextLayout.interruptPage), .rax)
    }

    // MARK: constants (placed after the code by `finish`)

    /// The label of an 8-byte constant after the code.
    mutating func constant64(_ bits: UInt64) -> Label {
        if let l = constants64[bits] { return l }
        let l = asm.newLabel()
        constants64[bits] = l
        return l
    }
    /// The label of a 16-byte constant after the code.
    mutating func constant128(_ bits: V128Bits) -> Label {
        if let l = constants128[bits] { return l }
        let l = asm.newLabel()
        constants128[bits] = l
        return l
    }

    // MARK: traps

    mutating func stub(_ kind: TrapKind, offset: Int) -> Label {
        let l = asm.newLabel()
        stubs.append((l, kind.rawValue, offset, inlineTag))
        return l
    }
    /// Records that the instruction starting now may fault (memory accesses).
    mutating func faultSite(_ kind: TrapKind, offset: Int) {
        if inlineTag != 0 { inlineSites.append((UInt32(asm.offset), inlineTag)) }
        traps.append(StrataTrapSite(codeOffset: UInt32(asm.offset), kind: kind.rawValue, wasmOffset: UInt32(truncatingIfNeeded: offset)))
    }
    /// Maps the return address of the call just emitted to its Wasm offset (backtraces).
    mutating func recordCallSite(offset: Int) {
        callSites.append(UInt32(asm.offset))
        callSites.append(UInt32(truncatingIfNeeded: offset))
    }
    /// A non-zero eax (a trap kind from the callee or builtin) re-raises that trap here.
    mutating func trapOnStatus(offset: Int) {
        asm.test(.w32, .rax, .rax)
        let l = asm.newLabel()
        asm.jcc(.ne, l)
        stubs.append((l, STRATA_TRAP_KIND_DYNAMIC, offset, inlineTag))
    }

    /// After `throw_ref`'s builtin: any status but the exception's (a null reference) traps here.
    mutating func trapUnlessException(offset: Int) {
        asm.alu(.cmp, .w32, .rax, imm: Int32(TrapKind.exception.rawValue))
        let l = asm.newLabel()
        asm.jcc(.ne, l)
        stubs.append((l, STRATA_TRAP_KIND_DYNAMIC, offset, inlineTag))
    }

    /// The start of a landing pad, entered from the trap handler or `strata_raise` with only
    /// rbp and the frame intact: rsp from rbp (`restoreStackPointer`), the VM context from
    /// `context` (a frame slot), memory 0's base from the VM context.
    mutating func landingPadEntry(context: Mem, hasMemory: Bool) {
        restoreStackPointer()
        asm.load(.w64, Self.vm, context)
        if hasMemory { loadMemoryBase() }
    }
    /// Memory 0's base into r15: one load, from the VM context's copy (a memory never moves).
    mutating func loadMemoryBase(from context: Reg = X64MachineLayer.vm) {
        asm.load(.w64, Self.memBase, Mem(context, VMContextLayout.memory0Base))
    }

    /// Raises the exception just thrown (its status in eax) without a signal: `strata_raise`
    /// walks the frame pointers from this frame as the trap handler would and the code goes on
    /// where it says, the landing pad of the first compiled frame with a handler around its
    /// instruction, or the entry (eax = the kind). A trap site here gives this frame's Wasm
    /// offset; should the walk fail, the exception is raised with a signal after all.
    mutating func raiseException(offset: Int) {
        let site = asm.newLabel()
        asm.leaRIP(.rsi, site)
        asm.bind(site)
        traps.append(StrataTrapSite(codeOffset: UInt32(asm.offset), kind: STRATA_TRAP_KIND_DYNAMIC, wasmOffset: UInt32(truncatingIfNeeded: offset)))
        asm.mov(.w64, .rdi, .rbp)
        asm.movImm32(.rdx, TrapKind.exception.rawValue)
        asm.load(.w64, .rax, Mem(Self.vm, VMContextLayout.builtins))
        asm.call(Mem(.rax, Int32(8 * Builtin.raise.rawValue)))
        asm.test(.w64, .rax, .rax)
        asm.jcc(.e, stub(.exception, offset: offset))
        asm.mov(.w64, .rbp, .rdx)
        asm.mov(.w64, .r11, .rax)
        asm.movImm32(.rax, TrapKind.exception.rawValue)
        asm.jmp(.r11)
    }

    /// Emits the trap stubs, resolves jumps, patches the frame size and returns the function.
    /// `frameSize`: bytes below the saved registers; padded so rsp stays 16-byte aligned.
    mutating func finish(frameSize: Int, tier: Tier) -> MachineFunction {
        var k = 0
        while k < stubs.count {  // (raising an exception adds a stub of its own)
            let (label, kind, offset, tag) = stubs[k]
            k += 1
            asm.bind(label)
            if kind == STRATA_TRAP_KIND_DYNAMIC && tag == 0 {
                // A callee's status: an exception (from an interpreted or host callee) is raised
                // without a signal, as a throw in this code would be; other kinds trap below.
                let trap = asm.newLabel()
                asm.alu(.cmp, .w32, .rax, imm: Int32(TrapKind.exception.rawValue))
                asm.jcc(.ne, trap)
                raiseException(offset: offset)
                asm.bind(trap)
            }
            if tag != 0 { inlineSites.append((UInt32(asm.offset), tag)) }
            traps.append(StrataTrapSite(codeOffset: UInt32(asm.offset), kind: kind, wasmOffset: UInt32(truncatingIfNeeded: offset)))
            asm.ud2()
        }
        if !constants128.isEmpty {
            // Functions start 64-byte aligned in memory (`CompiledCode`): these are 16-aligned.
            asm.align(16)
            for (bits, label) in constants128.sorted(by: { ($0.key.lo, $0.key.hi) < ($1.key.lo, $1.key.hi) }) {
                asm.bind(label)
                asm.u64(bits.lo)
                asm.u64(bits.hi)
            }
        }
        if !constants64.isEmpty {
            asm.align(8)
            for (bits, label) in constants64.sorted(by: { $0.key < $1.key }) {
                asm.bind(label)
                asm.u64(bits)
            }
        }
        asm.resolveFixups()
        asm.resolveTableFixups()
        // rbp is 16-aligned; rsp = rbp - saved - frame must be too.
        var frame = frameSize
        if (Int(saved.bytes) + frame) % 16 != 0 { frame += 8 }
        for at in frameSizePatches { asm.patch32(at: at, Int32(frame)) }
        for at in stackPointerPatches { asm.patch32(at: at, -(saved.bytes + Int32(frame))) }
        traps.sort { $0.codeOffset < $1.codeOffset }
        return MachineFunction(code: asm.bytes, traps: traps, callSites: callSites, tier: tier.recordKind, saved: saved)
    }

    // MARK: calls (slot-buffer convention: arguments and results in 16-byte slots at `slots`)

    /// Calls defined function `definedIndex` through its entry slot.
    mutating func callDefined(_ definedIndex: Int, slots: Mem, offset: Int) {
        asm.mov(.w64, .rdi, Self.vm)
        asm.lea(.w64, .rsi, slots)
        asm.load(.w64, .rdx, Mem(Self.vm, VMContextLayout.entryTable))
        asm.load(.w64, .rdx, Mem(.rdx, Int32(8 * definedIndex)))
        asm.call(Mem(.rdx, VMContextLayout.recordNativeEntry))
        recordCallSite(offset: offset)
        trapOnStatus(offset: offset)
    }

    /// Loads function `index`'s reference (imports first) into rax.
    mutating func loadFunctionReference(_ index: Int, into r: Reg) {
        asm.load(.w64, r, Mem(Self.vm, VMContextLayout.functions))
        asm.load(.w64, r, Mem(r, Int32(8 * index)))
    }

    /// Calls the function reference in rax: Wasm code through its entry slot, or a host function.
    mutating func callReference(slots: Mem, offset: Int) {
        let host = asm.newLabel(), done = asm.newLabel()
        asm.load(.w64, .rdx, Mem(.rax, VMContextLayout.funcRefEntrySlot))
        asm.test(.w64, .rdx, .rdx)
        asm.jcc(.e, host)
        asm.load(.w64, .rdx, Mem(.rdx, 0))
        asm.load(.w64, .rdi, Mem(.rax, VMContextLayout.funcRefVMContext))
        asm.lea(.w64, .rsi, slots)
        asm.call(Mem(.rdx, VMContextLayout.recordNativeEntry))
        recordCallSite(offset: offset)  // (each call's return address maps to the Wasm call)
        asm.jmp(done)
        asm.bind(host)
        asm.mov(.w64, .rdi, Self.vm)
        asm.mov(.w64, .rsi, .rax)
        asm.lea(.w64, .rdx, slots)
        asm.load(.w64, .rax, Mem(Self.vm, VMContextLayout.builtins))
        asm.call(Mem(.rax, Int32(8 * Builtin.callHost.rawValue)))
        asm.bind(done)
        recordCallSite(offset: offset)
        trapOnStatus(offset: offset)
    }

    /// `call_indirect` through table `table` with the element index in `index` (not rax, rcx,
    /// rdx, rdi, rsi or `scratch`): bounds, null and signature checks, then the call.
    mutating func callIndirect(typeIndex: Int, table: Int, index: Reg, scratch: Reg, slots: Mem, offset: Int) {
        indirectReference(typeIndex: typeIndex, table: table, index: index, scratch: scratch, offset: offset)
        callReference(slots: slots, offset: offset)
    }

    /// The function reference `call_indirect` (and `return_call_indirect`) calls, in rax, after
    /// the bounds, null and signature checks (clobbers rcx and `scratch`).
    mutating func indirectReference(typeIndex: Int, table: Int, index: Reg, scratch: Reg, offset: Int) {
        asm.load(.w64, scratch, Mem(Self.vm, VMContextLayout.tables))
        asm.load(.w64, scratch, Mem(scratch, Int32(8 * table)))
        asm.alu(.cmp, .w64, index, Mem(scratch, VMContextLayout.tableCount))
        asm.jcc(.ae, stub(.undefinedElement, offset: offset))
        asm.load(.w64, scratch, Mem(scratch, VMContextLayout.tableElements))
        asm.load(.w64, .rax, Mem(scratch, index: index, scale: 3))
        asm.test(.w64, .rax, .rax)
        asm.jcc(.e, stub(.uninitializedElement, offset: offset))
        asm.load(.w64, .rcx, Mem(Self.vm, VMContextLayout.typeIDs))
        asm.load(.w32, .rcx, Mem(.rcx, Int32(4 * typeIndex)))
        asm.alu(.cmp, .w32, .rcx, Mem(.rax, VMContextLayout.funcRefTypeID))
        asm.jcc(.ne, stub(.indirectCallTypeMismatch, offset: offset))
    }

    // MARK: tail calls (see docs/ARCHITECTURE.md, "Tail calls")

    /// The slot-buffer entry of a function that makes tail calls, at the start of its code: a
    /// frame of its own (rbp, the slot buffer at rbp-8, a VM context at rbp-16) that calls the
    /// body (the label returned, bound right after) and, while the code it called left for a
    /// tail call (`STRATA_STATUS_TAIL_CALL`), makes the next call from this frame, so a chain
    /// of any length takes constant stack:
    ///
    /// - the callee's arguments move from the store's tail-call area to a slot buffer allocated
    ///   in this frame (as large as the arguments or the results need; the stack is checked);
    /// - compiled callees are called here: a body that makes tail calls itself without its
    ///   wrapper (`FunctionCode.tailEntry`, so it hands its tail calls back here too), any
    ///   other compiled code at its native entry;
    /// - interpreted and host callees go through `Builtin.tailCall`, which runs one call (an
    ///   interpreter activation hands a tail call of its entry frame back the same way).
    ///
    /// When the last callee returns, its results go to the caller's slot buffer. Traps in a
    /// callee unwind through this frame as through any compiled frame; the status returned is
    /// 0, or a trap kind from the builtin for the caller to re-raise, as from any function.
    mutating func tailCallWrapper(resultCount: Int) -> Label {
        let resultWords = 2 * resultCount
        let vmSlot = Mem(.rbp, -16)
        prologue(hasMemory: false, frameSize: 16, saved: SavedRegisters(mask: 0))
        asm.store(.w64, vmSlot, .rdi)
        let body = asm.newLabel(), next = asm.newLabel(), done = asm.newLabel(), results = asm.newLabel()
        let slow = asm.newLabel(), copy = asm.newLabel(), copied = asm.newLabel()
        asm.call(body)
        wrapperCall()
        asm.bind(next)
        asm.alu(.cmp, .w32, .rax, imm: Int32(STRATA_STATUS_TAIL_CALL))
        asm.jcc(.ne, done)
        // A slot buffer of max(argument words, result words) below the frame, checked against
        // the stack limit (which an interrupt also fails).
        asm.lea(.w64, .rsp, vmSlot)
        asm.load(.w64, .rdi, vmSlot)
        asm.load(.w64, .r11, Mem(.rdi, VMContextLayout.tailCall))
        asm.load(.w64, .rcx, Mem(.r11, VMContextLayout.tailCallWords))
        asm.mov(.w64, .rax, .rcx)
        asm.movImm32(.rdx, UInt32(resultWords))
        asm.alu(.cmp, .w64, .rax, .rdx)
        asm.cmov(.b, .w64, .rax, .rdx)
        asm.shift(.shl, .w64, .rax, imm: 3)
        asm.alu(.sub, .w64, .rsp, .rax)
        asm.alu(.cmp, .w64, .rsp, Mem(.rdi, VMContextLayout.stackLimit))
        asm.jcc(.b, stub(.callStackExhausted, offset: 0))
        // The arguments, word by word from the last.
        asm.test(.w64, .rcx, .rcx)
        asm.jcc(.e, copied)
        asm.bind(copy)
        asm.alu(.sub, .w64, .rcx, imm: 1)
        asm.load(.w64, .rax, Mem(.r11, index: .rcx, scale: 3, VMContextLayout.tailCallSlots))
        asm.store(.w64, Mem(.rsp, index: .rcx, scale: 3), .rax)
        asm.jcc(.ne, copy)
        asm.bind(copied)
        // Compiled code is called here; host functions and interpreted code go to the builtin.
        asm.load(.w64, .rax, Mem(.r11, VMContextLayout.tailCallCallee))
        compiledTailCallee(into: .r10, otherwise: slow)
        asm.load(.w64, .rdi, Mem(.rax, VMContextLayout.funcRefVMContext))
        asm.store(.w64, vmSlot, .rdi)
        asm.mov(.w64, .rsi, .rsp)
        asm.call(.r10)
        wrapperCall()
        asm.test(.w32, .rax, .rax)
        asm.jcc(.ne, next)
        // The results, from this buffer to the caller's.
        asm.bind(results)
        asm.load(.w64, .rsi, Mem(.rbp, slotBufferOffset))
        for k in 0..<resultWords {
            asm.load(.w64, .rax, Mem(.rsp, Int32(8 * k)))
            asm.store(.w64, Mem(.rsi, Int32(8 * k)), .rax)
        }
        asm.movImm32(.rax, 0)
        asm.jmp(done)
        asm.bind(slow)
        asm.load(.w64, .rdi, vmSlot)
        asm.mov(.w64, .rsi, .rsp)
        asm.lea(.w64, .rdx, vmSlot)
        asm.load(.w64, .rax, Mem(.rdi, VMContextLayout.builtins))
        asm.call(Mem(.rax, Int32(8 * Builtin.tailCall.rawValue)))
        asm.test(.w32, .rax, .rax)
        asm.jcc(.e, results)
        asm.jmp(next)
        asm.bind(done)
        epilogue(status: false)
        return body
    }

    /// Records the call just emitted by a tail-call or direct-entry wrapper: its return address
    /// is the function's own activation (or a tail callee's), left out of backtraces.
    mutating func wrapperCall() {
        callSites.append(UInt32(asm.offset))
        callSites.append(Self.wrapperCallSite)
    }

    /// The call-site Wasm offset of a wrapper's call of its function's body (a direct entry's or
    /// a tail entry's): that return address is the same activation, left out of backtraces.
    static let wrapperCallSite: UInt32 = 0xFFFF_FFFF

    /// Leaves the function for a tail call: the callee's reference is in rax and its `count`
    /// arguments already in the store's tail-call area; records the reference and the argument
    /// words, then returns `STRATA_STATUS_TAIL_CALL` to the function's entry wrapper.
    mutating func leaveForTailCall(argumentCount count: Int, scratch: Reg) {
        asm.load(.w64, scratch, Mem(Self.vm, VMContextLayout.tailCall))
        asm.store(.w64, Mem(scratch, VMContextLayout.tailCallCallee), .rax)
        asm.movImm32(.rax, UInt32(2 * count))
        asm.store(.w64, Mem(scratch, VMContextLayout.tailCallWords), .rax)
        asm.movImm32(.rax, STRATA_STATUS_TAIL_CALL)
        epilogue(status: false)
    }

    /// Leaves the function for a tail call whose `count` arguments are already in the function's
    /// own slot buffer (they fit: at most max(parameters, results) of the function) and whose
    /// callee's reference is in rax: compiled code is jumped to, with this frame gone, as if the
    /// function's caller had called it (its body at the tail entry when it makes tail calls of
    /// its own); an interpreted or host callee goes through the tail-call area and the wrapper.
    /// Uses rdx, rsi, rdi, r10, r11.
    mutating func jumpForTailCall(argumentCount count: Int) {
        let slow = asm.newLabel()
        compiledTailCallee(into: .r11, otherwise: slow)
        asm.load(.w64, .rdi, Mem(.rax, VMContextLayout.funcRefVMContext))
        asm.load(.w64, .rsi, Mem(.rbp, slotBufferOffset))
        popFrame()
        asm.jmp(.r11)
        asm.bind(slow)
        asm.load(.w64, .rsi, Mem(.rbp, slotBufferOffset))
        asm.load(.w64, .r11, Mem(Self.vm, VMContextLayout.tailCall))
        for k in 0..<count {  // whole 16-byte slots (v128 arguments)
            asm.movdqu(XReg(15), Mem(.rsi, Int32(16 * k)))
            asm.movdqu(Self.tailCallArgument(k, area: .r11), XReg(15))
        }
        leaveForTailCall(argumentCount: count, scratch: .r11)
    }

    /// The code a tail call to the function reference in rax enters when it is compiled: its
    /// record in rdx, into `target` its body's tail entry (it makes tail calls) or its native
    /// entry; to `slow` for a host function or interpreted code (the one place both the wrapper
    /// and the jump decide this).
    mutating func compiledTailCallee(into target: Reg, otherwise slow: Label) {
        let found = asm.newLabel()
        asm.load(.w64, .rdx, Mem(.rax, VMContextLayout.funcRefEntrySlot))
        asm.test(.w64, .rdx, .rdx)
        asm.jcc(.e, slow)
        asm.load(.w64, .rdx, Mem(.rdx, 0))
        asm.load(.w64, target, Mem(.rdx, VMContextLayout.recordTailEntry))
        asm.test(.w64, target, target)
        asm.jcc(.ne, found)
        asm.alu(.cmp, .w32, Mem(.rdx, VMContextLayout.recordKind), imm: 0)
        asm.jcc(.e, slow)
        asm.load(.w64, target, Mem(.rdx, VMContextLayout.recordNativeEntry))
        asm.bind(found)
    }

    /// The store's tail-call area's argument slot `k`, with the area's address in `area`.
    static func tailCallArgument(_ k: Int, area: Reg) -> Mem { Mem(area, VMContextLayout.tailCallSlots + Int32(16 * k)) }

    /// `call_ref` through the function reference in `ref` (not rcx, rdx, rdi, rsi): null
    /// traps; the type needs no check (validation proved it).
    mutating func callRef(_ ref: Reg, slots: Mem, offset: Int) {
        functionReference(ref, offset: offset)
        callReference(slots: slots, offset: offset)
    }

    /// The function reference `call_ref` and `return_call_ref` call, from `ref` to rax; null
    /// traps (`nullFunctionReference`).
    mutating func functionReference(_ ref: Reg, offset: Int) {
        if ref != .rax { asm.mov(.w64, .rax, ref) }
        asm.test(.w64, .rax, .rax)
        asm.jcc(.e, stub(.nullFunctionReference, offset: offset))
    }

    /// Traps with `nullReference` when `ref` is null (`ref.as_non_null`).
    mutating func nullCheck(_ ref: Reg, offset: Int) {
        asm.test(.w64, ref, ref)
        asm.jcc(.e, stub(.nullReference, offset: offset))
    }

    /// Calls runtime builtin `b` (arguments already in rsi, rdx, ...; vmctx goes to rdi).
    mutating func callBuiltin(_ b: Builtin, mayTrap: Bool, offset: Int) {
        if emitBuiltinCall(b, mayTrap: mayTrap, offset: offset) { trapOnStatus(offset: offset) }
    }

    /// The call of builtin `b` (arguments already in rsi, rdx, ...), for both tiers: whether eax
    /// then holds a status the caller must check (`trapOnStatus`; the baseline tier restores
    /// its pinned locals first). `memory.copy` and `memory.fill` on memory 0 check their ranges
    /// before the call and return none (`memoryCopyOrFill`).
    mutating func emitBuiltinCall(_ b: Builtin, mayTrap: Bool, offset: Int) -> Bool {
        if b == .memoryCopy || b == .memoryFill {
            memoryCopyOrFill(fill: b == .memoryFill, offset: offset)
            return false
        }
        asm.mov(.w64, .rdi, Self.vm)
        asm.load(.w64, .rax, Mem(Self.vm, VMContextLayout.builtins))
        asm.call(Mem(.rax, Int32(8 * b.rawValue)))
        if mayTrap { recordCallSite(offset: offset) }
        return mayTrap
    }

    /// `memory.copy` or `memory.fill` on memory 0, its operands (u32) in esi (destination), edx
    /// (source, or the fill's value) and ecx (count), as `callBuiltin` takes them: the ranges
    /// checked here, then libc's `memmove` or `memset`, which these builtins' table slots hold,
    /// called with their C arguments. (A Swift builtin behind a C entry that made the same
    /// checks cost Yosys's many small copies more than the copies: about 4 ms of a 550 ms run.)
    mutating func memoryCopyOrFill(fill: Bool, offset: Int) {
        for r in [Reg.rsi, .rdx, .rcx] { asm.mov(.w32, r, r) }  // zero-extended: 33-bit sums below
        asm.load(.w64, .rax, Mem(Self.vm, VMContextLayout.memory0))
        asm.load(.w64, .r8, Mem(.rax, VMContextLayout.memoryByteSize))
        for start in fill ? [Reg.rsi] : [.rsi, .rdx] {
            asm.lea(.w64, .r9, Mem(start, index: .rcx))
            asm.alu(.cmp, .w64, .r9, .r8)
            asm.jcc(.a, stub(.memoryOutOfBounds, offset: offset))
        }
        asm.load(.w64, .rax, Mem(.rax, VMContextLayout.memoryBase))
        asm.lea(.w64, .rdi, Mem(.rax, index: .rsi))
        if fill {
            asm.mov(.w32, .rsi, .rdx)  // memset's int: the low byte counts
        } else {
            asm.lea(.w64, .rsi, Mem(.rax, index: .rdx))
        }
        asm.mov(.w64, .rdx, .rcx)
        asm.load(.w64, .rax, Mem(Self.vm, VMContextLayout.builtins))
        asm.call(Mem(.rax, Int32(8 * (fill ? Builtin.memoryFill : .memoryCopy).rawValue)))
        recordCallSite(offset: offset)
    }

    /// Leaves the element array of table `t` in `scratch` after a bounds check of `index`.
    mutating func tableElements(table t: Int, index: Reg, scratch: Reg, offset: Int) {
        asm.load(.w64, scratch, Mem(Self.vm, VMContextLayout.tables))
        asm.load(.w64, scratch, Mem(scratch, Int32(8 * t)))
        asm.alu(.cmp, .w64, index, Mem(scratch, VMContextLayout.tableCount))
        asm.jcc(.ae, stub(.tableOutOfBounds, offset: offset))
        asm.load(.w64, scratch, Mem(scratch, VMContextLayout.tableElements))
    }

    /// The cell of global `g`: past the VM context for a global the module defines (no load),
    /// else through the cell pointers (two loads into `scratch`).
    mutating func globalCell(_ g: Int, _ context: ModuleContext, scratch r: Reg) -> Mem {
        if let at = context.definedGlobalCell(g) { return Mem(Self.vm, at) }
        asm.load(.w64, r, Mem(Self.vm, VMContextLayout.globals))
        asm.load(.w64, r, Mem(r, Int32(8 * g)))
        return Mem(r, 0)
    }

    /// Traps (out of bounds) unless the 64-bit address in `r` is below 2^32: memories are at
    /// most 4 GiB, and below 2^32 the guard region catches the rest, as for 32-bit addresses.
    mutating func checkAddress64(_ r: Reg, scratch: Reg, offset: Int) {
        asm.mov(.w64, scratch, r)
        asm.shift(.shr, .w64, scratch, imm: 32)
        asm.jcc(.ne, stub(.memoryOutOfBounds, offset: offset))
    }

    /// The definition (`StrataMemoryDefinition*`) of `memory` in `r` (any memory).
    mutating func memoryDefinition(_ memory: UInt32, into r: Reg) {
        asm.load(.w64, r, Mem(Self.vm, VMContextLayout.memories))
        asm.load(.w64, r, Mem(r, Int32(8 * memory)))
    }

    /// Memory 0's size in pages into `r`.
    mutating func memorySize(into r: Reg) {
        asm.load(.w64, r, Mem(Self.vm, VMContextLayout.memory0))
        asm.load(.w64, r, Mem(r, VMContextLayout.memoryByteSize))
        asm.shift(.shr, .w64, r, imm: 16)
    }

    // MARK: operations both tiers lower the same way

    /// An integer load of Wasm opcode 0x28...0x35 (not the float ones) into `r`.
    mutating func loadInteger(opcode: UInt8, into r: Reg, _ m: Mem) {
        switch opcode {
        case 0x28: asm.load(.w32, r, m)
        case 0x29: asm.load(.w64, r, m)
        case 0x2C: asm.loadSX8(.w32, r, m)
        case 0x2D, 0x31: asm.loadZX8(r, m)
        case 0x2E: asm.loadSX16(.w32, r, m)
        case 0x2F, 0x33: asm.loadZX16(r, m)
        case 0x30: asm.loadSX8(.w64, r, m)
        case 0x32: asm.loadSX16(.w64, r, m)
        case 0x34: asm.loadSX32(r, m)
        default: asm.load(.w32, r, m)  // 0x35 i64.load32_u
        }
    }

    /// div_s, div_u, rem_s, rem_u with the dividend in rax and the divisor in `divisor` (not rax,
    /// rdx or `scratch`): the quotient ends in rax, the remainder in rdx. The traps the spec
    /// requires are explicit checks, so no SIGFPE is ever raised (`checkZero: false` when the
    /// divisor is a non-zero constant).
    mutating func divide(_ w: Width, signed: Bool, remainder: Bool, divisor: Reg, scratch: Reg, checkZero: Bool = true, offset: Int) {
        if checkZero {
            asm.test(w, divisor, divisor)
            asm.jcc(.e, stub(.integerDivideByZero, offset: offset))
        }
        if signed {
            let normal = asm.newLabel(), done = asm.newLabel()
            asm.alu(.cmp, w, divisor, imm: -1)
            asm.jcc(.ne, normal)
            if remainder {
                asm.movImm32(.rdx, 0)
                asm.jmp(done)
            } else {
                if w == .w32 {
                    asm.alu(.cmp, .w32, .rax, imm: Int32.min)
                } else {
                    asm.movImm(scratch, UInt64(bitPattern: Int64.min))
                    asm.alu(.cmp, .w64, .rax, scratch)
                }
                asm.jcc(.e, stub(.integerOverflow, offset: offset))
            }
            asm.bind(normal)
            asm.signExtendAccumulator(w)
            asm.idiv(w, divisor)
            asm.bind(done)
        } else {
            asm.movImm32(.rdx, 0)
            asm.div(w, divisor)
        }
    }

    /// a = min(a, b) or max(a, b) with Wasm's rules: a NaN operand gives a quiet NaN, and -0 is
    /// below +0.
    mutating func floatMinMax(_ fw: FloatWidth, min isMin: Bool, _ a: XReg, _ b: XReg) {
        let nan = asm.newLabel(), normal = asm.newLabel(), done = asm.newLabel()
        asm.ucomis(fw, a, b)
        asm.jcc(.p, nan)
        asm.jcc(.ne, normal)
        // Equal: only the signs of zeros can differ; min takes -0, max +0.
        if isMin { asm.orps(a, b) } else { asm.andps(a, b) }
        asm.jmp(done)
        asm.bind(normal)
        asm.sse(isMin ? .min : .max, fw, a, b)
        asm.jmp(done)
        asm.bind(nan)
        asm.sse(.add, fw, a, b)  // a quiet NaN
        asm.bind(done)
    }

    /// Whether builtin `b` returns a trap kind to check.
    static func mayTrap(_ b: Builtin) -> Bool {
        switch b {
        case .memoryInit, .memoryCopy, .memoryFill, .tableInit, .tableCopy, .tableFill, .convert, .callHost,
             .memoryInitAt, .memoryCopyAt, .memoryFillAt: true
        case .throwException, .throwReference: true
        case .memoryGrow, .dataDrop, .elemDrop, .tableGrow, .tierUp, .memoryGrowAt, .tailCall, .catchException, .raise: false
        }
    }
}

/// The machine code of one function from a compiled tier, before placement.
struct MachineFunction {
    var code: [UInt8]
    /// Faulting or trapping instructions, sorted by code offset.
    var traps: [StrataTrapSite]
    /// (return-address offset, Wasm offset) pairs of every call, sorted.
    var callSites: [UInt32]
    /// The tier that compiled it (`Tier.recordKind`).
    var tier: UInt32
    /// Offset of the register-argument entry (optimized code), 0 for none.
    var directEntry: Int = 0
    /// Offset of the body of a function that makes tail calls (its slot-buffer entry is then a
    /// wrapper that runs them, `X64MachineLayer.tailCallWrapper`), 0 for none.
    var tailEntry: Int = 0
    /// try_table handlers: triples (first Wasm offset, end Wasm offset, landing pad's code
    /// offset), innermost first (see docs/ARCHITECTURE.md, "Exceptions"). The baseline tier's
    /// cover a try_table's body; the optimizing tier's one call each.
    var handlers: [UInt32] = []
    /// Trap sites in inlined code: (code offset, callee function index, Wasm offset of the
    /// call in this function) triples, sorted by code offset.
    var inlineSites: [UInt32] = []
    /// The callee-saved registers the function's (direct entry's or tail entry's) prologue
    /// saves, and those of its slot-buffer wrapper when it has one of those entries.
    var saved: SavedRegisters = .all
    var wrapperSaved: SavedRegisters = .all
    /// On-stack-replacement entries (see docs/ARCHITECTURE.md, "On-stack replacement"): pairs
    /// (Wasm offset of the `loop`, code offset of the entry), in increasing code offset, each
    /// entry after every other entry point of the function.
    var osrEntries: [UInt32] = []
    /// Offset of the prologue the OSR entries share (an unwind segment of its own), 0 for none.
    var osrPrologue: Int = 0
}
