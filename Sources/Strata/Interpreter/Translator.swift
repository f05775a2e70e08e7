import CStrata

/// Translates one validated function body into interpreter code: a stream of 64-bit words,
/// each instruction an opcode word (`Opcode`) followed by its operands. Operands name frame slots
/// (register machine); `local.get` and constants emit nothing (the operand names the local's
/// slot or a constant-pool slot), and a result feeding `local.set` is written straight into
/// the local.
///
/// Frame layout: [params | locals | constants | operand stack]. While translating, constants
/// and operand-stack slots are virtual (tagged) because the pool size is known only at the end;
/// `finish` rewrites them to frame offsets.
struct Translator: CodeSink {
    static let tempTag: UInt64 = 1 << 62
    static let constTag: UInt64 = 1 << 61

    struct Label {
        enum Kind { case function, block, loop, `if` }
        var kind: Kind
        /// Operand-stack height below the label's params.
        var height: Int
        var paramCount: Int
        var resultCount: Int
        /// Code index of a loop header.
        var start: Int
        /// Forward branches to patch with the end address: (instruction index, offset word index).
        var fixups: [(Int, Int)] = []
        /// The `if`'s branch to its else arm.
        var elseFixup: (Int, Int)?
        /// The label was opened in unreachable code: nothing inside it is emitted.
        var deadAtEntry: Bool
        var arity: Int { kind == .loop ? paramCount : resultCount }
    }

    let context: ModuleContext
    let importedFunctionCount: Int
    /// The module's entry table: a `call` names its callee by the address of the callee's slot
    /// (the table is the module's, like the code, so the address holds for every instance).
    let entryTable: UnsafeMutablePointer<UnsafeRawPointer?>
    let localCount: Int
    let functionResultCount: Int
    let code: CodeBuffer
    /// Code indices holding virtual slot operands, rewritten by `finish`.
    var slotOperands: [Int] = []
    /// (code index, Wasm byte offset) of every instruction, for backtraces.
    var offsets: [(Int32, Int32)] = []
    /// Every `try_table` translated so far (ranges and landing pads), and those still open:
    /// (label index, start of the body, clauses with their pads).
    var handlers: [ExceptionHandler] = []
    var openTryTables: [(label: Int, start: Int32, clauses: [ExceptionHandler.Clause])] = []
    /// The instruction emitted next runs after a `memory_access` prefix: it shares the
    /// prefix's entry in `offsets` (one instruction for backtraces and for `fuseSequences`).
    var afterAccessPrefix = false
    /// The constant pool while translating: two words per constant (a v128's halves; a
    /// scalar's bits and 0), and whether each is a v128.
    var consts: [UInt64] = []
    var constIsV128: [Bool] = []
    /// The frame's constant words, set by `finish`: the v128 constants the code names, two words
    /// each, then the scalar ones, one word each, then a zero word to an even count. A scalar
    /// constant takes one word, not a slot: every handler reads a scalar operand as one word
    /// (`rd32`, `rd64`; `copy` moves 8 bytes), and the few 16-byte moves that may see one, where a
    /// position's type is not known (`stackIsV128`), load unaligned (`move16`), the word after it
    /// landing in the high half of a scalar's slot, which nothing reads. v128 constants keep
    /// slot alignment (SIMD operations load them as 16 bytes). Every frame copies these words
    /// (`FunctionCode.frameImage`), so packing them halves a scalar pool's copy.
    var constImage: [UInt64] = []
    /// Index of the pool once it outgrows a linear search: open addressing over a power-of-two
    /// table of pool index + 1 (0: empty), at most half full. (A `Dictionary` hashed each
    /// constant with SipHash: 6% of translation.)
    var constTable: [Int32] = []
    /// Where each operand-stack value currently lives (a virtual slot).
    var stack: [UInt64] = []
    /// Whether each operand-stack value is a v128 (moved as 16 bytes; scalars move 8), as of
    /// the last instruction: synced from the validator's type stack after every instruction,
    /// from `lowWater` (the lowest position the instruction popped) up, once the function has
    /// had a v128 value. A position not known yet counts as v128, which is always correct.
    var stackIsV128: [Bool] = []
    var lowWater = 0
    /// Whether the function has had a v128 value so far (`FunctionValidator.usesV128`); until
    /// then every value is a scalar and no types are tracked.
    var usesV128 = false
    var maxHeight = 0
    var labels: [Label] = []
    /// Loop headers, for on-stack replacement: pairs (code index, the `loop`'s Wasm offset), in
    /// code order. Loops that start at the same code index (nothing between them) share the
    /// outermost's entry: their states agree.
    var loopHeaders: [Int32] = []
    var dead = false
    /// The last instruction's result: (code index of its dst operand, stack position).
    var lastDst: (Int, Int)?
    /// The last instruction, when it was an integer compare (for compare-and-branch fusion):
    /// its first code word, opcode, operands and result position.
    /// The last instruction, when it was a binary operation that fuses (see
    /// `fusedBinaryOpcode`): its first code word, Wasm opcode, operands and result position.
    var lastBinary: (start: Int, opcode: UInt16, a: UInt64, b: UInt64, position: Int)?
    /// Code before this index may be a branch target (set after every control instruction):
    /// no fusion reaches across it.
    var barrier = 0
    /// Every position `barrier` took: the code positions branches may reach other than by
    /// falling through (a superset; `useIntegerAccumulator` reads it).
    var branchTargets: [Int] = []
    /// Scratch buffer of `br_table` targets that need a stub.
    var brTableStubs: [(Int, Int)] = []
    var lastCompare: (start: Int, opcode: UInt16, a: UInt64, b: UInt64, position: Int)?
    /// Set when the body uses something this tier cannot run; validation still completes.
    var unsupported: WasmError?
    /// Which locals the body may read before writing them (the frame image starts at the first).
    var localInitialization: LocalInitialization

    /// `bodyBytes` (the body's size) sizes the buffers up front, so most bodies translate
    /// without the buffers growing.
    init(
        context: ModuleContext, importedFunctionCount: Int, entryTable: UnsafeMutablePointer<UnsafeRawPointer?>,
        localCount: Int, resultCount: Int, bodyBytes: Int, paramCount: Int, valueLocals: Int
    ) {
        self.context = context
        self.importedFunctionCount = importedFunctionCount
        self.entryTable = entryTable
        self.localCount = localCount
        self.functionResultCount = resultCount
        localInitialization = LocalInitialization(first: paramCount, count: valueLocals)
        labels.append(Label(kind: .function, height: 0, paramCount: 0, resultCount: resultCount, start: 0, deadAtEntry: false))
        code = CodeBuffer(capacity: bodyBytes + 8)
        slotOperands.reserveCapacity(bodyBytes / 2 + 8)
        offsets.reserveCapacity(bodyBytes / 4 + 4)
    }

    // MARK: emission

    @inline(__always) static func temp(_ p: Int) -> UInt64 { tempTag | UInt64(p) }

    mutating func emit(_ h: Handler, offset: Int) {
        if afterAccessPrefix {
            afterAccessPrefix = false
        } else {
            offsets.append((Int32(code.count), Int32(truncatingIfNeeded: offset)))
        }
        code.append(handlerWord(h))
    }

    /// Before a load or store: for any memory but a 32-bit memory 0, emits the `memory_access`
    /// prefix (`MemoryIndexHandlers.swift`); returns whether it did.
    @discardableResult
    mutating func accessPrefix(_ memory: UInt32, _ operands: AccessOperands, _ module: ModuleContext, offset: Int) -> Bool {
        guard !module.isPlainMemory0(memory) else { return false }
        let is64 = module.memories[Int(memory)].is64
        emit(Opcode.memory_access, offset: offset); imm(Int(memory)); imm(operands.address); imm(operands.offset); imm(is64 ? 1 : 0)
        afterAccessPrefix = true
        return true
    }
    /// Before an instruction on a 64-bit table: saturates its i64 index and length operands
    /// (at these depths from the top of the stack) to 32 bits in their home slots
    /// (`index64_narrow`), so the 32-bit table instructions run unchanged.
    mutating func narrowTableOperands(_ is64: Bool, depths: [Int], offset: Int) {
        guard is64 else { return }
        for d in depths {
            let k = stack.count - 1 - d
            let home = Self.temp(k)
            emit(Opcode.index64_narrow, offset: offset); slot(home); slot(stack[k])
            stack[k] = home
        }
    }

    /// A slot operand: rewritten by `finish` into a word index (locals too, since slots are
    /// two words).
    mutating func slot(_ v: UInt64) {
        slotOperands.append(code.count)
        code.append(v)
    }
    mutating func imm(_ v: UInt64) { code.append(v) }
    mutating func imm(_ v: Int) { code.append(UInt64(bitPattern: Int64(v))) }

    // MARK: operand stack

    mutating func push(_ v: UInt64) {
        stack.append(v)
        if stack.count > maxHeight { maxHeight = stack.count }
    }
    mutating func pop() -> UInt64 {
        let v = stack.removeLast()
        lowWater = min(lowWater, stack.count)
        return v
    }
    /// Whether the value at stack position `i` may be a v128.
    func isV128(_ i: Int) -> Bool { usesV128 && (i >= stackIsV128.count || stackIsV128[i]) }
    /// The move for the value at stack position `i`.
    func copyOpcode(_ i: Int) -> Opcode { isV128(i) ? .copy_v128 : .copy }
    /// After an instruction: records the types of the stack positions it wrote.
    mutating func syncStackTypes(_ validator: borrowing FunctionValidator) {
        guard usesV128 else { return }
        let count = validator.values.count
        guard !dead, count == stack.count else {
            stackIsV128.removeAll(keepingCapacity: true)
            return
        }
        var i = min(lowWater, stackIsV128.count)
        if stackIsV128.count > i { stackIsV128.removeLast(stackIsV128.count - i) }
        while i < count {
            let t = validator.values[i]
            stackIsV128.append(t == .unknown || t == .v128)
            i += 1
        }
    }
    /// Pushes a result in its home slot and returns that slot.
    mutating func pushResult() -> UInt64 {
        let v = Self.temp(stack.count)
        push(v)
        return v
    }

    mutating func materialize(_ i: Int, offset: Int) {
        let home = Self.temp(i)
        if stack[i] != home {
            emitMove(copyOpcode(i), to: home, from: stack[i], offset: offset)
            stack[i] = home
        }
    }
    mutating func materializeAll(offset: Int) {
        for i in 0..<stack.count { materialize(i, offset: offset) }
    }
    mutating func materializeTop(_ n: Int, offset: Int) {
        for i in (stack.count - n)..<stack.count { materialize(i, offset: offset) }
    }

    /// The value of a scalar constant operand, if `v` is one.
    func scalarConstant(_ v: UInt64) -> UInt64? {
        guard v & Self.tempTag == 0, v & Self.constTag != 0 else { return nil }
        let k = Int(v & ~Self.constTag)
        return constIsV128[k] ? nil : consts[2 * k]
    }

    /// A move of one slot; a scalar constant is set from the code (`const_set`), so its pool
    /// slot, copied into every frame, may not be needed at all (`finish` drops unused ones).
    mutating func emitMove(_ move: Opcode, to dst: UInt64, from src: UInt64, offset: Int) {
        if move == .copy, let k = scalarConstant(src) {
            emit(Opcode.const_set, offset: offset); slot(dst); imm(k)
        } else {
            emit(move, offset: offset); slot(dst); slot(src)
        }
    }

    /// A fused compare-and-branch; against an i32 constant, the form that holds it in the code.
    mutating func emitFusedBranch(_ h: Handler, _ a: UInt64, _ b: UInt64, offset: Int) {
        if let k = scalarConstant(b), let hi = immediateBranchHandler(h) {
            emit(hi, offset: offset); slot(a); imm(k)
        } else {
            emit(h, offset: offset); slot(a); slot(b)
        }
    }

    /// The pool entry of a constant (a scalar's bits, or a v128's two halves), added if new.
    /// Scalars and v128s never share an entry (they are laid out apart: `constImage`).
    mutating func constSlot(_ bits: UInt64, high: UInt64 = 0, v128: Bool = false) -> UInt64 {
        // Most pools are tiny: a linear search beats hashing until the pool grows.
        let count = consts.count / 2
        if count <= 8 {
            var i = 0
            while i < count {
                if consts[2 * i] == bits && consts[2 * i + 1] == high && constIsV128[i] == v128 { return Self.constTag | UInt64(i) }
                i += 1
            }
        } else {
            var h = Self.constHash(bits, high, v128) & (constTable.count - 1)
            while constTable[h] != 0 {
                let i = Int(constTable[h]) - 1
                if consts[2 * i] == bits && consts[2 * i + 1] == high && constIsV128[i] == v128 { return Self.constTag | UInt64(i) }
                h = (h + 1) & (constTable.count - 1)
            }
        }
        consts.append(bits)
        consts.append(high)
        constIsV128.append(v128)
        if count + 1 > 8 {
            if 2 * (count + 1) > constTable.count {
                // Start indexing (the linear search's 8 and this one), or double the table.
                constTable = [Int32](repeating: 0, count: max(64, 2 * constTable.count))
                for k in 0..<count { insertConst(k) }
            }
            insertConst(count)
        }
        return Self.constTag | UInt64(count)
    }

    @inline(__always) static func constHash(_ lo: UInt64, _ hi: UInt64, _ v128: Bool) -> Int {
        Int(truncatingIfNeeded: ((lo &* 0x9E37_79B9_7F4A_7C15) ^ (hi &* 0xC2B2_AE3D_27D4_EB4F)) >> 32) ^ (v128 ? 1 : 0)
    }

    private mutating func insertConst(_ k: Int) {
        var h = Self.constHash(consts[2 * k], consts[2 * k + 1], constIsV128[k]) & (constTable.count - 1)
        while constTable[h] != 0 { h = (h + 1) & (constTable.count - 1) }
        constTable[h] = Int32(k + 1)
    }

    // MARK: branches

    /// Copies the top `arity` values into the label's result slots (dest below source, so
    /// ascending order is safe).
    mutating func moveBranchValues(to label: Int, offset: Int) {
        let n = labels[label].arity
        let height = labels[label].height
        let from = stack.count - n
        guard n > 0 else { return }
        for i in 0..<n {
            let src = stack[from + i]
            let dst = Self.temp(height + i)
            if src != dst { emitMove(copyOpcode(from + i), to: dst, from: src, offset: offset) }
        }
    }
    func needsMoves(_ label: Int) -> Bool {
        let n = labels[label].arity
        guard n > 0 else { return false }
        let height = labels[label].height
        let from = stack.count - n
        if from != height { return true }
        for i in 0..<n where stack[from + i] != Self.temp(height + i) { return true }
        return false
    }

    /// Emits the jump to a label (forward: fixup; backward: back-edge handler).
    mutating func emitJump(toDepth depth: Int, offset: Int) {
        let li = labels.count - 1 - depth
        let at = code.count
        if labels[li].kind == .loop {
            emit(Opcode.br_back, offset: offset); imm(labels[li].start - at)
        } else {
            emit(Opcode.br, offset: offset)
            labels[li].fixups.append((at, code.count)); imm(0)
        }
    }

    /// Moves the results to slots 0..<n and returns. With `producer` (the instruction that just
    /// computed the single result into its home slot), that instruction writes slot 0 directly;
    /// only for unconditional returns, since it writes before the branch would be decided.
    mutating func emitReturn(offset: Int, producer: (Int, Int)? = nil) {
        let n = functionResultCount
        if n == 1, let (dstIndex, position) = producer, position == stack.count - 1,
           stack[position] == Self.temp(position) {
            code[dstIndex] = 0
            emit(Opcode.`return`, offset: offset)
            return
        }
        if n == 1 {
            // One move into slot 0 overwrites nothing another result still needs: no detour
            // through the value's home slot (a local already in slot 0 needs no move at all).
            let src = stack[stack.count - 1]
            if src != 0 { emitMove(copyOpcode(stack.count - 1), to: 0, from: src, offset: offset) }
            emit(Opcode.`return`, offset: offset)
            return
        }
        materializeTop(n, offset: offset)
        let from = stack.count - n
        for i in 0..<n {
            let src = stack[from + i]
            if src != UInt64(i) { emitMove(copyOpcode(from + i), to: UInt64(i), from: src, offset: offset) }
        }
        emit(Opcode.`return`, offset: offset)
    }

    /// A conditional branch to label `depth` as a jump over it: `skip` (a handler taking [value,
    /// offset]) jumps past the branch's moves and jump (or return) when its test holds.
    mutating func branchUnless(_ skip: Opcode, _ value: UInt64, depth: Int, offset: Int) {
        let at = code.count
        emit(skip, offset: offset); slot(value)
        let fixup = (at, code.count); imm(0)
        emitBranch(toDepth: depth, offset: offset)
        patch(fixup, to: code.count)
    }

    /// A branch to label `depth` with the top values: their moves and the jump, or a return
    /// for the function's label. The translator's stack is left as it was.
    mutating func emitBranch(toDepth depth: Int, offset: Int) {
        let li = labels.count - 1 - depth
        if labels[li].kind == .function {
            let saved = stack
            emitReturn(offset: offset)
            stack = saved
        } else {
            moveBranchValues(to: li, offset: offset)
            emitJump(toDepth: depth, offset: offset)
        }
    }

    mutating func patch(_ fixup: (Int, Int), to target: Int) {
        code[fixup.1] = UInt64(bitPattern: Int64(target - fixup.0))
    }

    /// Resets the operand stack to a label's height plus `count` values in their home slots.
    mutating func resetStack(height: Int, count: Int) {
        lowWater = min(lowWater, height)
        stack.removeSubrange(min(height, stack.count)...)
        while stack.count < height { stack.append(Self.temp(stack.count)) }
        for _ in 0..<count { _ = pushResult() }
    }

    // MARK: the sink

    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError) {
        localInitialization.visit(instruction, validator: validator)
        lowWater = stack.count
        if !usesV128 && validator.usesV128 {
            // The first v128: positions not synced yet count as v128 until the sync below.
            usesV128 = true
            lowWater = 0
        }
        defer {
            switch instruction {
            case .block, .loop, .if, .else, .end, .br, .brIf, .brTable, .return, .unreachable, .brOnNull, .brOnNonNull:
                barrier = code.count
                branchTargets.append(barrier)
            default: break
            }
            syncStackTypes(validator)
        }
        let last = lastDst
        lastDst = nil
        let compare = lastCompare
        lastCompare = nil
        let binary = lastBinary
        // Instructions that emit nothing and are no branch target keep a binary operation
        // fusable; the fusion still checks the stack slot and that no code came in between.
        switch instruction {
        case .localGet, .const, .nop, .refNull: break
        default: lastBinary = nil
        }
        if unsupported != nil { return }
        if dead {
            switch instruction {
            case .block(let p, let r), .loop(let p, let r), .if(let p, let r), .tryTable(let p, let r):
                labels.append(Label(kind: .block, height: stack.count, paramCount: p, resultCount: r, start: code.count, deadAtEntry: true))
            case .else:
                let l = labels[labels.count - 1]
                if !l.deadAtEntry { try elseArm(offset: offset) }
            case .end:
                closeTryTable()
                try end(offset: offset)
            default:
                break
            }
            return
        }
        switch instruction {
        case .unreachable:
            emit(Opcode.unreachable, offset: offset)
            dead = true
        case .nop:
            break
        case .block(let p, let r):
            materializeAll(offset: offset)
            labels.append(Label(kind: .block, height: stack.count - p, paramCount: p, resultCount: r, start: code.count, deadAtEntry: false))
        case .loop(let p, let r):
            materializeAll(offset: offset)
            if loopHeaders.count < 2 || loopHeaders[loopHeaders.count - 2] != Int32(code.count) {
                loopHeaders += [Int32(code.count), Int32(truncatingIfNeeded: offset)]
            }
            labels.append(Label(kind: .loop, height: stack.count - p, paramCount: p, resultCount: r, start: code.count, deadAtEntry: false))
        case .if(let p, let r):
            elideWrap(at: stack.count - 1)
            let cond = pop()
            let fused = takeCompare(compare, producing: cond)
            // A float compare, alone or under an i32.eqz: taken before the moves too.
            let float = takeFloatCompare(fused, producing: cond)
            materializeAll(offset: offset)
            var at = code.count
            // Branch to the else arm when the condition is false.
            if let f = float {
                at = emitFloatBranch(f.compare, f.a, f.b, when: f.negated, back: false, offset: offset)
            } else if let c = fused, c.opcode == 0x45 {
                emit(Opcode.br_if, offset: offset); slot(c.a)
            } else if let c = fused, let negated = negatedComparison(c.opcode), let h = fusedBranchHandler(negated, back: false) {
                emitFusedBranch(h, c.a, c.b, offset: offset)
            } else {
                emit(Opcode.br_if_not, offset: offset); slot(cond)
            }
            var label = Label(kind: .if, height: stack.count - p, paramCount: p, resultCount: r, start: code.count, deadAtEntry: false)
            label.elseFixup = (at, code.count); imm(0)
            labels.append(label)
        case .else:
            try elseArm(offset: offset)
        case .end:
            closeTryTable()
            try end(offset: offset, producer: last)
        case .tryTable(let p, let r):
            try tryTable(params: p, results: r, clauses: validator.catchClauses, offset: offset)
        case .throw(let tag):
            let n = context.types[Int(context.tags[Int(tag)])].params.count
            materializeTop(n, offset: offset)
            let argBase = Self.temp(stack.count - n)
            emit(Opcode.throw, offset: offset); imm(Int(tag)); slot(argBase); imm(n)
            stack.removeLast(n)
            lowWater = min(lowWater, stack.count)
            dead = true
        case .throwRef:
            let e = pop()
            emit(Opcode.throw_ref, offset: offset); slot(e)
            dead = true
        case .br(let depth):
            emitBranch(toDepth: depth, offset: offset)
            dead = true
        case .brIf(let depth):
            elideWrap(at: stack.count - 1)
            let cond = pop()
            let li = labels.count - 1 - depth
            let kind = labels[li].kind
            if kind == .function || needsMoves(li) {
                branchUnless(Opcode.br_if_not, cond, depth: depth, offset: offset)
            } else {
                let back = kind == .loop
                let fused = takeCompare(compare, producing: cond)
                let float = takeFloatCompare(fused, producing: cond)
                var at = code.count
                if let f = float {
                    at = emitFloatBranch(f.compare, f.a, f.b, when: !f.negated, back: back, offset: offset)
                } else if let c = fused, c.opcode == 0x45 {
                    // br_if (i32.eqz x): branch when x is zero.
                    emit(back ? Opcode.br_if_not_back : Opcode.br_if_not, offset: offset); slot(c.a)
                } else if let c = fused, back, let (dst, x, y, h) = takeAddBefore(compare: c.opcode) {
                    // The loop's counter update and its test: one instruction.
                    at = code.count
                    emit(h, offset: offset); slot(dst); slot(x); slot(y); slot(c.a); slot(c.b)
                } else if let c = fused, let h = fusedBranchHandler(c.opcode, back: back) {
                    emitFusedBranch(h, c.a, c.b, offset: offset)
                } else {
                    emit(back ? Opcode.br_if_back : Opcode.br_if, offset: offset); slot(cond)
                }
                if back {
                    imm(labels[li].start - at)
                } else {
                    labels[li].fixups.append((at, code.count)); imm(0)
                }
            }
        case .brTable:
            try brTable(validator.brTableTargets, offset: offset)
            dead = true
        case .return:
            emitReturn(offset: offset, producer: last)
            dead = true
        case .call(let f):
            let type = context.types[Int(context.functionTypes[Int(f)])]
            try call(params: type.params.count, results: type.results.count, offset: offset) { t, argBase in
                if Int(f) < t.importedFunctionCount {
                    t.emit(Opcode.call_import, offset: offset); t.imm(Int(f)); t.slot(argBase)
                } else {
                    t.emit(Opcode.call, offset: offset)
                    t.imm(Int(bitPattern: t.entryTable + (Int(f) - t.importedFunctionCount))); t.slot(argBase)
                }
            }
        case .callIndirect(let typeIndex, let table):
            let type = context.types[Int(typeIndex)]
            narrowTableOperands(validator.module.tables[Int(table)].is64, depths: [0], offset: offset)
            let index = pop()
            try call(params: type.params.count, results: type.results.count, offset: offset) { t, argBase in
                t.emit(Opcode.call_indirect, offset: offset); t.imm(Int(table)); t.imm(Int(typeIndex)); t.slot(index); t.slot(argBase)
                t.imm(Int(noCalleeYet))
            }
        case .returnCall(let f):
            let type = context.types[Int(context.functionTypes[Int(f)])]
            try tailCall(params: type.params.count, offset: offset) { t, argBase, words in
                if Int(f) < t.importedFunctionCount {
                    t.emit(Opcode.return_call_import, offset: offset); t.imm(Int(f)); t.slot(argBase); t.imm(words)
                } else {
                    t.emit(Opcode.return_call, offset: offset); t.imm(Int(f) - t.importedFunctionCount); t.slot(argBase); t.imm(words)
                }
            }
            dead = true
        case .returnCallIndirect(let typeIndex, let table):
            let type = context.types[Int(typeIndex)]
            narrowTableOperands(validator.module.tables[Int(table)].is64, depths: [0], offset: offset)
            let index = pop()
            try tailCall(params: type.params.count, offset: offset) { t, argBase, words in
                t.emit(Opcode.return_call_indirect, offset: offset); t.imm(Int(table)); t.imm(Int(typeIndex)); t.slot(index); t.slot(argBase); t.imm(words)
            }
            dead = true
        case .callRef(let typeIndex):
            let type = context.types[Int(typeIndex)]
            let ref = pop()
            try call(params: type.params.count, results: type.results.count, offset: offset) { t, argBase in
                t.emit(Opcode.call_ref, offset: offset); t.slot(ref); t.slot(argBase)
            }
        case .returnCallRef(let typeIndex):
            let type = context.types[Int(typeIndex)]
            let ref = pop()
            try tailCall(params: type.params.count, offset: offset) { t, argBase, words in
                t.emit(Opcode.return_call_ref, offset: offset); t.slot(ref); t.slot(argBase); t.imm(words)
            }
            dead = true
        case .refAsNonNull:
            // The value stays in its slot: only the null check is code.
            emit(Opcode.ref_as_non_null, offset: offset); slot(stack[stack.count - 1])
        case .brOnNull(let depth):
            // Jump over the branch (its moves and jump) when the reference is not null; the
            // branch does not carry the reference, the fallthrough keeps it.
            let ref = pop()
            branchUnless(Opcode.br_on_non_null, ref, depth: depth, offset: offset)
            push(ref)
        case .brOnNonNull(let depth):
            // The branch carries the reference as its label's last value; the fallthrough
            // (null) drops it.
            let ref = stack[stack.count - 1]
            branchUnless(Opcode.br_on_null, ref, depth: depth, offset: offset)
            _ = pop()
        case .drop:
            _ = pop()
        case .select:
            let cond = pop(), b = pop(), a = pop()
            let dst = pushResult()
            let v128 = validator.values.last.map { $0 == .unknown || $0 == .v128 } ?? true
            emit(v128 ? Opcode.select_v128 : Opcode.select, offset: offset); slot(dst); slot(a); slot(b); slot(cond)
            lastDst = (code.count - 4, stack.count - 1)
        case .localGet(let i):
            push(UInt64(i))
        case .localSet(let i):
            setLocal(UInt64(i), tee: false, last: last, offset: offset)
        case .localTee(let i):
            setLocal(UInt64(i), tee: true, last: last, offset: offset)
        case .globalGet(let g):
            let dst = pushResult()
            let v128 = validator.module.globals[Int(g)].value == .v128
            emit(v128 ? Opcode.global_get_v128 : Opcode.global_get, offset: offset); slot(dst); imm(Int(g))
            lastDst = (code.count - 2, stack.count - 1)
        case .globalSet(let g):
            let src = pop()
            let v128 = validator.module.globals[Int(g)].value == .v128
            emit(v128 ? Opcode.global_set_v128 : Opcode.global_set, offset: offset); imm(Int(g)); slot(src)
        case .tableGet(let t):
            narrowTableOperands(validator.module.tables[Int(t)].is64, depths: [0], offset: offset)
            let index = pop()
            let dst = pushResult()
            emit(Opcode.table_get, offset: offset); slot(dst); imm(Int(t)); slot(index)
        case .tableSet(let t):
            narrowTableOperands(validator.module.tables[Int(t)].is64, depths: [1], offset: offset)
            let value = pop(), index = pop()
            emit(Opcode.table_set, offset: offset); imm(Int(t)); slot(index); slot(value)
        case .load(let opcode, let memOffset, let memory) where !validator.module.isPlainMemory0(memory):
            let addr = pop()
            let dst = pushResult()
            accessPrefix(memory, .load, validator.module, offset: offset)
            emit(loadHandler(opcode), offset: offset); slot(dst); slot(addr); imm(memOffset)
        case .load(let opcode, let memOffset, _):
            elideWrap(at: stack.count - 1)
            if let f = binary, f.opcode == 0x6A, f.position == stack.count - 1, isLastAndUnconsumed(f),
               let h = loadAddHandler(loadHandler(opcode)) {
                // The address is the i32.add emitted just before: one add-and-load.
                dropLastInstruction(from: f.start)
                _ = pop()
                let dst = pushResult()
                emit(h, offset: offset); slot(dst); slot(f.a); slot(f.b); imm(memOffset)
                lastDst = (code.count - 4, stack.count - 1)
            } else {
                let addr = pop()
                let dst = pushResult()
                emit(loadHandler(opcode), offset: offset); slot(dst); slot(addr); imm(memOffset)
                lastDst = (code.count - 3, stack.count - 1)
            }
        case .store(let opcode, let memOffset, let memory):
            if validator.module.isPlainMemory0(memory) {
                // The value of an i32 store (the stores truncate it) and the 32-bit address.
                if opcode == 0x36 || opcode == 0x3A || opcode == 0x3B { elideWrap(at: stack.count - 1) }
                elideWrap(at: stack.count - 2)
            }
            let value = pop(), addr = pop()
            if opcode == 0x39, validator.module.isPlainMemory0(memory), produceIntoAccumulator(value, fromLoad: false) {
                // f64.store of the value computed just before: it comes in the accumulator. A
                // value just loaded stays a copy through a slot, which the load-and-store
                // sequences (`i64_load__i64_store`) run with one dispatch.
                emit(Opcode.f64_store_facc, offset: offset); slot(addr); imm(memOffset)
                return
            }
            accessPrefix(memory, .store, validator.module, offset: offset)
            emit(storeHandler(opcode), offset: offset); slot(addr); slot(value); imm(memOffset)
        case .memorySize(let memory):
            let dst = pushResult()
            if !validator.module.isPlainMemory0(memory) {
                emit(Opcode.memory_size_at, offset: offset); slot(dst); imm(Int(memory))
            } else {
                emit(Opcode.memory_size, offset: offset); slot(dst)
            }
        case .memoryGrow(let memory):
            let delta = pop()
            let dst = pushResult()
            let is64 = validator.module.memories[Int(memory)].is64
            if memory != 0 || is64 {
                emit(Opcode.memory_grow_at, offset: offset); slot(dst); imm(Int(memory)); slot(delta); imm(is64 ? 1 : 0)
            } else {
                emit(Opcode.memory_grow, offset: offset); slot(dst); slot(delta)
            }
        case .const(_, let bits):
            push(constSlot(bits))
        case .numeric(let opcode):
            let sig = NumericSignature.of(opcode)!
            let h = numericHandler(opcode)
            let addsZero = sig.operands.1 != nil && (opcode == 0x6A || opcode == 0x6B)
                && scalarConstant(stack[stack.count - 1]).map({ UInt32(truncatingIfNeeded: $0) }) == 0
            if sig.operands.0 == .i32 && !addsZero {
                // Before `start`: a wrap dropped here is not part of this instruction's code.
                elideWrap(at: stack.count - 1)
                if sig.operands.1 != nil { elideWrap(at: stack.count - 2) }
            }
            let start = code.count
            if sig.operands.1 != nil, let f = binary, f.position >= stack.count - 2, isLastAndUnconsumed(f),
               let fused = fusedBinaryOpcode(f.opcode, opcode, reversed: f.position == stack.count - 1) {
                // This operation consumes the result of the one emitted just before: one fused
                // instruction instead of two, the intermediate never stored.
                let other = stack[f.position == stack.count - 1 ? stack.count - 2 : stack.count - 1]
                dropLastInstruction(from: f.start)
                _ = pop(); _ = pop()
                let dst = pushResult()
                emit(fused, offset: offset); slot(dst); slot(f.a); slot(f.b); slot(other)
                lastDst = (code.count - 4, stack.count - 1)
            } else if addsZero {
                // x + 0 and x - 0 are x: no instruction, the value stays where it is (as after a
                // `local.get`, the translator's moves keep a local read this way intact).
                _ = pop()
                let a = pop()
                push(a)
            } else if sig.operands.1 != nil {
                let b = pop(), a = pop()
                let dst = pushResult()
                if opcode == 0x6A || opcode == 0x6B, let k = scalarConstant(b) {
                    // i32.add / i32.sub of a constant: the constant (negated for sub) in the code.
                    emit(Opcode.i32_add_imm, offset: offset); slot(dst); slot(a)
                    imm(UInt64(opcode == 0x6A ? UInt32(truncatingIfNeeded: k) : 0 &- UInt32(truncatingIfNeeded: k)))
                } else if let plain = memoryOperandForms(opcode, addedAddress: false),
                          let added = memoryOperandForms(opcode, addedAddress: true), let (load, memoryLeft) = takeFloatLoad(a, b) {
                    // An operand is an f64.load emitted just before: folded in as a memory
                    // operand. The other one may come in the accumulator.
                    let forms = load.addr.1 == nil ? plain : added
                    if memoryLeft {
                        emit(forms.left, offset: load.offset); slot(dst); slot(b)
                    } else if produceIntoAccumulator(a) {
                        emit(forms.rightFacc, offset: load.offset); slot(dst)
                    } else {
                        emit(forms.right, offset: load.offset); slot(dst); slot(a)
                    }
                    slot(load.addr.0)
                    if let second = load.addr.1 { slot(second) }
                    imm(load.memOffset)
                    lastBinary = nil
                    lastDst = (Int(offsets.last!.0) + 1, stack.count - 1)
                    return
                } else if let forms = accumulatorConsumerForms(opcode), produceIntoAccumulator(b) {
                    // The right operand was computed just before: it comes in the accumulator.
                    emit(forms.right, offset: offset); slot(dst); slot(a)
                    lastBinary = nil
                    lastDst = (code.count - 2, stack.count - 1)
                    return
                } else if let forms = accumulatorConsumerForms(opcode), produceIntoAccumulator(a) {
                    emit(forms.left, offset: offset); slot(dst); slot(b)
                    lastBinary = nil
                    lastDst = (code.count - 2, stack.count - 1)
                    return
                } else if let k = scalarConstant(b), let form = constantOperandForm(opcode) {
                    // An i32 constant right operand: in the code, not the frame's pool.
                    emit(form, offset: offset); slot(dst); slot(a); imm(k & 0xFFFF_FFFF)
                } else {
                    emit(h, offset: offset); slot(dst); slot(a); slot(b)
                }
                // A fusion that replaces it takes its operands from here (b as a pool slot).
                lastBinary = (start, opcode, a, b, stack.count - 1)
                lastDst = (code.count - 3, stack.count - 1)
                if fusedBranchHandler(opcode, back: false) != nil {
                    lastCompare = (start, opcode, a, b, stack.count - 1)
                }
            } else {
                let a = pop()
                let dst = pushResult()
                emit(h, offset: offset); slot(dst); slot(a)
                lastDst = (code.count - 2, stack.count - 1)
                if opcode == 0x45 { lastCompare = (start, opcode, a, 0, stack.count - 1) }
            }
        case .refNull:
            push(constSlot(0))
        case .refIsNull:
            let a = pop()
            let dst = pushResult()
            emit(Opcode.ref_is_null, offset: offset); slot(dst); slot(a)
        case .refFunc(let f):
            let dst = pushResult()
            emit(Opcode.ref_func, offset: offset); slot(dst); imm(Int(f))
        case .memoryInit(let segment, let memory):
            let n = pop(), s = pop(), d = pop()
            let is64 = validator.module.memories[Int(memory)].is64
            if memory != 0 || is64 {
                emit(Opcode.memory_init_at, offset: offset); imm(Int(segment)); imm(Int(memory)); slot(d); slot(s); slot(n); imm(is64 ? 1 : 0)
            } else {
                emit(Opcode.memory_init, offset: offset); imm(Int(segment)); slot(d); slot(s); slot(n)
            }
        case .dataDrop(let segment):
            emit(Opcode.data_drop, offset: offset); imm(Int(segment))
        case .memoryCopy(let dm, let sm):
            let n = pop(), s = pop(), d = pop()
            let flags = (validator.module.memories[Int(dm)].is64 ? 1 : 0) | (validator.module.memories[Int(sm)].is64 ? 2 : 0)
            if dm != 0 || sm != 0 || flags != 0 {
                emit(Opcode.memory_copy_at, offset: offset); imm(Int(dm)); imm(Int(sm)); slot(d); slot(s); slot(n); imm(flags)
            } else {
                emit(Opcode.memory_copy, offset: offset); slot(d); slot(s); slot(n)
            }
        case .memoryFill(let memory):
            let n = pop(), v = pop(), d = pop()
            let is64 = validator.module.memories[Int(memory)].is64
            if memory != 0 || is64 {
                emit(Opcode.memory_fill_at, offset: offset); imm(Int(memory)); slot(d); slot(v); slot(n); imm(is64 ? 1 : 0)
            } else {
                emit(Opcode.memory_fill, offset: offset); slot(d); slot(v); slot(n)
            }
        case .tableInit(let segment, let table):
            narrowTableOperands(validator.module.tables[Int(table)].is64, depths: [2], offset: offset)
            let n = pop(), s = pop(), d = pop()
            emit(Opcode.table_init, offset: offset); imm(Int(table)); imm(Int(segment)); slot(d); slot(s); slot(n)
        case .elemDrop(let segment):
            emit(Opcode.elem_drop, offset: offset); imm(Int(segment))
        case .tableCopy(let dt, let st):
            let d64 = validator.module.tables[Int(dt)].is64, s64 = validator.module.tables[Int(st)].is64
            narrowTableOperands(true, depths: (d64 ? [2] : []) + (s64 ? [1] : []) + (d64 && s64 ? [0] : []), offset: offset)
            let n = pop(), s = pop(), d = pop()
            emit(Opcode.table_copy, offset: offset); imm(Int(dt)); imm(Int(st)); slot(d); slot(s); slot(n)
        case .tableGrow(let t):
            let is64 = validator.module.tables[Int(t)].is64
            narrowTableOperands(is64, depths: [0], offset: offset)
            let delta = pop(), initial = pop()
            let dst = pushResult()
            emit(Opcode.table_grow, offset: offset); slot(dst); imm(Int(t)); slot(initial); slot(delta)
            if is64 {  // the old size (below 2^31) or -1, as an i64
                emit(Opcode.i64_extend_i32_s, offset: offset); slot(dst); slot(dst)
            }
        case .tableSize(let t):
            let dst = pushResult()
            emit(Opcode.table_size, offset: offset); slot(dst); imm(Int(t))
        case .tableFill(let t):
            narrowTableOperands(validator.module.tables[Int(t)].is64, depths: [2, 0], offset: offset)
            let n = pop(), v = pop(), i = pop()
            emit(Opcode.table_fill, offset: offset); imm(Int(t)); slot(i); slot(v); slot(n)
        case .simd(let opcode, let memOffset, let lane, let memory):
            simd(opcode, memOffset: memOffset, lane: UInt64(lane), memory: memory, module: validator.module,
                 immediate: validator.v128Immediate, offset: offset)
        }
    }

    /// Emits a SIMD instruction; its operand layout follows the validator's shape table.
    mutating func simd(_ opcode: UInt32, memOffset: UInt64, lane: UInt64, memory: UInt32, module: ModuleContext,
                       immediate: (UInt64, UInt64), offset: Int) {
        if opcode == 0x0C {  // v128.const: a pooled constant, no instruction
            push(constSlot(immediate.0, high: immediate.1, v128: true))
            return
        }
        guard let shape = FunctionValidator.simdShape(opcode), let h = simdHandler(opcode) else {
            unsupported = WasmError(.unsupported, "SIMD instruction 0x\(String(opcode, radix: 16)) has no interpreter handler", offset: offset)
            return
        }
        switch shape {
        case .unary, .test, .splat:
            let a = pop()
            let dst = pushResult()
            emit(h, offset: offset); slot(dst); slot(a)
        case .binary, .shift:
            let b = pop(), a = pop()
            let dst = pushResult()
            emit(h, offset: offset); slot(dst); slot(a); slot(b)
        case .ternary:
            let c = pop(), b = pop(), a = pop()
            let dst = pushResult()
            emit(h, offset: offset); slot(dst); slot(a); slot(b); slot(c)
        case .extract:
            let a = pop()
            let dst = pushResult()
            emit(h, offset: offset); slot(dst); slot(a); imm(lane)
        case .replace:
            let x = pop(), a = pop()
            let dst = pushResult()
            emit(h, offset: offset); slot(dst); slot(a); slot(x); imm(lane)
        case .load:
            let addr = pop()
            let dst = pushResult()
            accessPrefix(memory, .load, module, offset: offset)
            emit(h, offset: offset); slot(dst); slot(addr); imm(memOffset)
        case .store:
            let value = pop(), addr = pop()
            accessPrefix(memory, .store, module, offset: offset)
            emit(h, offset: offset); slot(addr); slot(value); imm(memOffset)
        case .loadLane:
            let vector = pop(), addr = pop()
            let dst = pushResult()
            accessPrefix(memory, .loadLane, module, offset: offset)
            emit(h, offset: offset); slot(dst); slot(addr); slot(vector); imm(memOffset); imm(lane)
        case .storeLane:
            let vector = pop(), addr = pop()
            accessPrefix(memory, .storeLane, module, offset: offset)
            emit(h, offset: offset); slot(addr); slot(vector); imm(memOffset); imm(lane)
        case .shuffle:
            let b = pop(), a = pop()
            let dst = pushResult()
            emit(h, offset: offset); slot(dst); slot(a); slot(b); imm(immediate.0); imm(immediate.1)
        case .const:
            break  // handled above
        }
    }

    /// `i32.wrap_i64` is free where its result is read as an i32: every handler reads an i32
    /// operand as the low half of its slot's word (`rd32`, `UInt32(slot:)`, and the stores
    /// truncate the value), which is the wrapped i64. So when the instruction emitted last is an
    /// `i32_wrap_i64` writing the temporary at stack position `i`, with no branch target after
    /// it, and the instruction being emitted reads that position as an i32, the wrap is dropped
    /// and the position names the i64 it read (a local, or the same temporary). Only for readers
    /// that compute with the value: a move (`copy`, `select`'s values, `global.set`, a call's
    /// arguments, branch values) keeps the wrap, so every slot still holds an i32 zero-extended
    /// ("Values and slots" in docs/ARCHITECTURE.md).
    mutating func elideWrap(at i: Int) {
        guard i >= 0, i < stack.count, stack[i] & Self.tempTag != 0, let (s, opcode, words, _) = replaceableLast(),
              opcode == .i32_wrap_i64, words == 3, code[s + 1] == stack[i],
              code[s + 2] & Self.tempTag != 0 || code[s + 2] & Self.constTag == 0 else { return }
        let source = code[s + 2]
        dropLastInstruction(from: s)
        stack[i] = source
    }

    /// The float accumulator (AccumulatorHandlers.swift): when the instruction emitted last
    /// computes `v`, a temporary that the instruction being emitted consumes (so nothing else
    /// reads it), no branch targets what follows it, and it has a form that leaves its result in
    /// the accumulator, re-emits it in that form (without its destination, operand word 1) and
    /// returns true; the caller then emits its consumer's accumulator form.
    mutating func produceIntoAccumulator(_ v: UInt64, fromLoad: Bool = true) -> Bool {
        guard v & Self.tempTag != 0, let (s, producer, words, offset) = replaceableLast(), words >= 2, code[s + 1] == v,
              fromLoad || (producer != .i64_load && producer != .i64_load_add),
              let form = accumulatorProducerForm(producer) else { return false }
        // The operands after the destination, each with whether it names a slot.
        var operands: [(word: UInt64, isSlot: Bool)] = []
        for k in (s + 2)..<code.count { operands.append((code[k], false)) }
        for position in slotOperands.reversed() {
            if position < s + 2 { break }
            operands[position - s - 2].isSlot = true
        }
        dropLastInstruction(from: s)
        emit(form, offset: offset)
        for o in operands {
            if o.isSlot { slot(o.word) } else { imm(o.word) }
        }
        return true
    }

    /// An f64.load (translated as `i64_load` of memory 0, or `i64_load_add` when an i32.add
    /// computed its address) that is the instruction emitted last, computing the temporary `a` or
    /// `b` of the binary operation being emitted, with no branch target after it: removed, and
    /// returned with its address operands (one, or the add's two), static offset and Wasm offset,
    /// and whether it computed the left operand.
    mutating func takeFloatLoad(_ a: UInt64, _ b: UInt64) -> (load: (addr: (UInt64, UInt64?), memOffset: UInt64, offset: Int), memoryLeft: Bool)? {
        guard let (s, opcode, words, offset) = replaceableLast() else { return nil }
        let addressWords = opcode == .i64_load ? 1 : opcode == .i64_load_add ? 2 : 0
        guard addressWords > 0, words == 3 + addressWords else { return nil }
        let memoryLeft: Bool
        if b & Self.tempTag != 0, code[s + 1] == b {
            memoryLeft = false
        } else if a & Self.tempTag != 0, code[s + 1] == a {
            memoryLeft = true
        } else {
            return nil
        }
        let load = (addr: (code[s + 2], addressWords == 2 ? code[s + 3] : nil), memOffset: code[s + 2 + addressWords], offset: offset)
        dropLastInstruction(from: s)
        return (load, memoryLeft)
    }

    /// A float compare fused into the branch on `cond`: when the instruction emitted last is an
    /// f32/f64 compare that computed `cond` (or, when `fused` is an `i32.eqz` already taken, the
    /// value it tested: then `negated`) and no branch targets what follows it, removes it and
    /// returns it with its operands.
    mutating func takeFloatCompare(
        _ fused: (start: Int, opcode: UInt16, a: UInt64, b: UInt64, position: Int)?, producing cond: UInt64
    ) -> (compare: Opcode, a: UInt64, b: UInt64, negated: Bool)? {
        var value = cond, negated = false
        if let c = fused {
            guard c.opcode == 0x45 else { return nil }
            value = c.a
            negated = true
        }
        guard value & Self.tempTag != 0, let (s, compare, words, _) = replaceableLast(), words == 4, code[s + 1] == value,
              floatBranchHandler(compare, when: true, back: false) != nil else { return nil }
        let (a, b) = (code[s + 2], code[s + 3])
        dropLastInstruction(from: s)
        return (compare, a, b, negated)
    }

    /// Emits the fused branch on float compare `compare` of `a` and `b`, taken when the compare
    /// is `when` (its offset word still to come); an f64 operand that the instruction just before
    /// computed comes in the accumulator (the right one by the swapped compare). Returns where
    /// the branch starts.
    mutating func emitFloatBranch(_ compare: Opcode, _ a: UInt64, _ b: UInt64, when: Bool, back: Bool, offset: Int) -> Int {
        if let h = floatBranchHandler(compare, when: when, back: back, accumulator: true), produceIntoAccumulator(a) {
            let at = code.count
            emit(h, offset: offset); slot(b)
            return at
        }
        if let swapped = swappedComparison(compare), let h = floatBranchHandler(swapped, when: when, back: back, accumulator: true),
           produceIntoAccumulator(b) {
            let at = code.count
            emit(h, offset: offset); slot(a)
            return at
        }
        let at = code.count
        emit(floatBranchHandler(compare, when: when, back: back)!, offset: offset); slot(a); slot(b)
        return at
    }

    /// When the instruction emitted last is an `i32.add` or `i64.add` that no branch targets
    /// separately from what follows, removes it and returns its operands and the fused
    /// add-and-branch opcode for `compare`.
    mutating func takeAddBefore(compare: UInt16) -> (UInt64, UInt64, UInt64, Opcode)? {
        guard case (let s, var add, 4, _)? = replaceableLast() else { return nil }
        var operands = (code[s + 1], code[s + 2], code[s + 3])
        if add == .i32_add_imm {  // the constant goes back to a pool slot
            add = .i32_add
            operands.2 = constSlot(code[s + 3] & 0xFFFF_FFFF)
        }
        guard let h = addBranchOpcode(add, compare) else { return nil }
        dropLastInstruction(from: s)
        return (operands.0, operands.1, operands.2, h)
    }

    /// When the value just popped as a branch condition is the result of the compare emitted
    /// right before, removes that compare and returns it so the branch can do its work.
    mutating func takeCompare(
        _ compare: (start: Int, opcode: UInt16, a: UInt64, b: UInt64, position: Int)?, producing cond: UInt64
    ) -> (start: Int, opcode: UInt16, a: UInt64, b: UInt64, position: Int)? {
        guard let c = compare, c.position == stack.count, cond == Self.temp(c.position) else { return nil }
        dropLastInstruction(from: c.start)
        return c
    }

    /// The instruction emitted last, when a peephole may replace it: no `memory_access` prefix
    /// waits for its instruction and no branch targets its code or what follows. Its first code
    /// word, opcode, length in words and Wasm offset.
    func replaceableLast() -> (start: Int, opcode: Opcode, words: Int, offset: Int)? {
        guard !afterAccessPrefix, let last = offsets.last else { return nil }
        let s = Int(last.0)
        guard s >= barrier, let opcode = Opcode(rawValue: UInt16(truncatingIfNeeded: code[s])) else { return nil }
        return (s, opcode, code.count - s, Int(last.1))
    }

    /// Whether binary operation `f` is the instruction emitted last and its result is still
    /// unconsumed on the operand stack (so it can be fused into what consumes it now).
    func isLastAndUnconsumed(_ f: (start: Int, opcode: UInt16, a: UInt64, b: UInt64, position: Int)) -> Bool {
        code.count == f.start + 4 && f.position < stack.count && stack[f.position] == Self.temp(f.position)
    }

    /// Removes the last instruction (its code from `start` on), which a fused one replaces.
    mutating func dropLastInstruction(from start: Int) {
        code.truncate(to: start)
        offsets.removeLast()
        while let last = slotOperands.last, last >= start { slotOperands.removeLast() }
    }

    mutating func setLocal(_ local: UInt64, tee: Bool, last: (Int, Int)?, offset: Int) {
        let src = stack[stack.count - 1]
        let move = copyOpcode(stack.count - 1)
        var referenced = false
        var k = 0
        while k < stack.count - 1 {
            if stack[k] == local { referenced = true; break }
            k += 1
        }
        if !referenced, let (dstIndex, pos) = last, pos == stack.count - 1, src == Self.temp(pos) {
            // Retarget the producing instruction to write the local directly.
            code[dstIndex] = local
            _ = pop()
        } else {
            if referenced {
                for i in 0..<(stack.count - 1) where stack[i] == local { materialize(i, offset: offset) }
            }
            _ = pop()
            if src != local { emitMove(move, to: local, from: src, offset: offset) }
        }
        if tee { push(local) }
    }

    mutating func call(params: Int, results: Int, offset: Int, _ emitCall: (inout Translator, UInt64) -> Void) throws(WasmError) {
        materializeTop(params, offset: offset)
        let argBase = Self.temp(stack.count - params)
        emitCall(&self, argBase)
        stack.removeLast(params)
        lowWater = min(lowWater, stack.count)
        for _ in 0..<results { _ = pushResult() }
        // A callee may write up to max(params, results) slots from argBase.
        maxHeight = max(maxHeight, stack.count - results + max(params, results))
    }

    /// At an `end`: when it ends a try_table, its body's code range ends here (before the
    /// block's own end moves, which cannot throw).
    mutating func closeTryTable() {
        guard let open = openTryTables.last, open.label == labels.count - 1 else { return }
        openTryTables.removeLast()
        handlers.append(ExceptionHandler(start: open.start, end: Int32(code.count), clauses: open.clauses))
    }

    /// `try_table`: a block whose body's code range is covered by landing pads, one per catch
    /// clause, emitted before the body (jumped over). A pad starts with `exception_landing`,
    /// which writes the payload (and the exnref) into the home slots above the try_table's
    /// height, then branches to the clause's label as `br` would with those values.
    mutating func tryTable(params p: Int, results r: Int, clauses: [CatchClause], offset: Int) throws(WasmError) {
        materializeAll(offset: offset)
        let height = stack.count - p
        let skip = code.count
        emit(Opcode.br, offset: offset)
        let skipFixup = (skip, code.count); imm(0)
        var pads: [ExceptionHandler.Clause] = []
        for c in clauses {
            let saved = stack
            stack.removeLast(p)
            let count = (c.kind == .catchTag || c.kind == .catchTagRef ? context.types[Int(context.tags[Int(c.tag)])].params.count : 0)
                + (c.kind == .catchTagRef || c.kind == .catchAllRef ? 1 : 0)
            let pad = code.count
            var slots: [UInt64] = []
            for _ in 0..<count { slots.append(pushResult()) }
            // The payload may hold v128 values: its moves copy whole slots.
            let savedTypes = stackIsV128
            if usesV128 {
                while stackIsV128.count < stack.count { stackIsV128.append(true) }
                for i in height..<stack.count { stackIsV128[i] = true }
            }
            defer { stackIsV128 = savedTypes }
            emit(Opcode.exception_landing, offset: offset)
            imm(c.kind == .catchTagRef || c.kind == .catchAllRef ? 1 : 0); imm(count)
            for s in slots { slot(s) }
            emitBranch(toDepth: Int(c.depth), offset: offset)
            stack = saved
            pads.append(ExceptionHandler.Clause(kind: c.kind, tag: c.tag, pad: Int32(pad)))
        }
        patch(skipFixup, to: code.count)
        dead = false
        labels.append(Label(kind: .block, height: height, paramCount: p, resultCount: r, start: code.count, deadAtEntry: false))
        openTryTables.append((labels.count - 1, Int32(code.count), pads))
    }

    /// A tail call: the arguments in consecutive slots (as for a call), the instruction with
    /// their base and size in words; nothing after it runs in this frame.
    mutating func tailCall(params: Int, offset: Int, _ emitCall: (inout Translator, UInt64, Int) -> Void) throws(WasmError) {
        materializeTop(params, offset: offset)
        let argBase = Self.temp(stack.count - params)
        emitCall(&self, argBase, params * wordsPerSlot)
        stack.removeLast(params)
        lowWater = min(lowWater, stack.count)
    }

    /// The most table entries, other than those that go where the default goes, for which a
    /// `br_table` becomes compare-and-branch instructions (`brTableAsBranches`).
    static let brTableBranchLimit = 3

    mutating func brTable(_ targets: [UInt32], offset: Int) throws(WasmError) {
        let defaultTarget = targets[targets.count - 1]
        var cases = 0
        for t in targets.dropLast() where t != defaultTarget { cases += 1 }
        if cases <= Self.brTableBranchLimit {
            brTableAsBranches(targets, offset: offset)
            return
        }
        let index = pop()
        let at = code.count
        // A loop target that needs no moves is jumped to directly, backward: a back edge.
        let back = targets.contains { t in
            let li = labels.count - 1 - Int(t)
            return labels[li].kind == .loop && !needsMoves(li)
        }
        emit(back ? Opcode.br_table_back : Opcode.br_table, offset: offset); slot(index); imm(targets.count - 1)
        let tableStart = code.count
        for _ in targets { imm(0) }
        // Targets whose values are already in place jump directly; others go through a stub.
        var stubs: [(Int, Int)] = []  // (table word, depth); takes over the scratch buffer's storage
        swap(&stubs, &brTableStubs)
        stubs.removeAll(keepingCapacity: true)
        defer { swap(&stubs, &brTableStubs) }
        for (k, t) in targets.enumerated() {
            let li = labels.count - 1 - Int(t)
            if labels[li].kind != .function && !needsMoves(li) {
                if labels[li].kind == .loop {
                    code[tableStart + k] = UInt64(bitPattern: Int64(labels[li].start - at))
                } else {
                    labels[li].fixups.append((at, tableStart + k))
                }
            } else {
                stubs.append((tableStart + k, Int(t)))
            }
        }
        for (word, depth) in stubs {
            code[word] = UInt64(bitPattern: Int64(code.count - at))
            emitBranch(toDepth: depth, offset: offset)
        }
    }

    /// A `br_table` with few cases as one `br_if_i32_eq_imm` per entry that does not go where
    /// the default goes, then the default's branch. The next instruction's address then depends
    /// on branches the processor predicts, not on the index's value: with a table, everything
    /// after the jump waits for the index (a load that misses the cache holds up the following
    /// instructions' operand fetches even when the jump's target was predicted), while after a
    /// predicted branch it runs on. An entry whose label needs value moves skips over them and
    /// its jump when the index differs (as `br_if` does).
    mutating func brTableAsBranches(_ targets: [UInt32], offset: Int) {
        let index = pop()
        let defaultTarget = targets[targets.count - 1]
        for (k, t) in targets.dropLast().enumerated() where t != defaultTarget {
            let depth = Int(t)
            let li = labels.count - 1 - depth
            let at = code.count
            if labels[li].kind == .function || needsMoves(li) {
                emit(Opcode.br_if_i32_ne_imm, offset: offset); slot(index); imm(k)
                let fixup = (at, code.count); imm(0)
                emitBranch(toDepth: depth, offset: offset)
                patch(fixup, to: code.count)
                branchTargets.append(code.count)
            } else if labels[li].kind == .loop {
                emit(Opcode.br_if_i32_eq_imm_back, offset: offset); slot(index); imm(k); imm(labels[li].start - at)
            } else {
                emit(Opcode.br_if_i32_eq_imm, offset: offset); slot(index); imm(k)
                labels[li].fixups.append((at, code.count)); imm(0)
            }
        }
        emitBranch(toDepth: Int(defaultTarget), offset: offset)
    }

    mutating func elseArm(offset: Int) throws(WasmError) {
        var label = labels.removeLast()
        if !dead {
            materializeAll(offset: offset)
            let at = code.count
            emit(Opcode.br, offset: offset)
            label.fixups.append((at, code.count)); imm(0)
        }
        if let fixup = label.elseFixup {
            patch(fixup, to: code.count)
            label.elseFixup = nil
        }
        resetStack(height: label.height, count: label.paramCount)
        dead = label.deadAtEntry
        labels.append(label)
    }

    mutating func end(offset: Int, producer: (Int, Int)? = nil) throws(WasmError) {
        let label = labels.removeLast()
        if label.deadAtEntry {
            return  // still dead; the enclosing label resets the stack
        }
        if label.kind == .function {
            if !dead { emitReturn(offset: offset, producer: producer) }
            return
        }
        if !dead { materializeAll(offset: offset) }
        if let fixup = label.elseFixup { patch(fixup, to: code.count) }
        for f in label.fixups { patch(f, to: code.count) }
        resetStack(height: label.height, count: label.resultCount)
        dead = false
    }

    /// Rewrites slot operands (locals, constants, operand stack) to word indices, lays out the
    /// constants (`constImage`) and returns the frame size in words.
    mutating func finish() -> Int {
        // Only constants some operand names stay in the pool (the others are in the code, or
        // were replaced by a fusion): every frame copies the pool.
        var newIndex = [Int](repeating: -1, count: consts.count / 2)  // word within the constants
        for i in slotOperands {
            let v = code[i]
            if v & Self.tempTag == 0, v & Self.constTag != 0 { newIndex[Int(v & ~Self.constTag)] = 0 }
        }
        constImage = []
        for k in newIndex.indices where newIndex[k] == 0 && constIsV128[k] {
            newIndex[k] = constImage.count
            constImage.append(consts[2 * k]); constImage.append(consts[2 * k + 1])
        }
        for k in newIndex.indices where newIndex[k] == 0 && !constIsV128[k] {
            newIndex[k] = constImage.count
            constImage.append(consts[2 * k])
        }
        if constImage.count % wordsPerSlot != 0 { constImage.append(0) }
        let constBase = localCount * wordsPerSlot
        let tempBase = constBase + constImage.count
        for i in slotOperands {
            let v = code[i]
            if v & Self.tempTag != 0 {
                code[i] = UInt64(tempBase) + (v & ~Self.tempTag) * UInt64(wordsPerSlot)
            } else if v & Self.constTag != 0 {
                code[i] = UInt64(constBase + newIndex[Int(v & ~Self.constTag)])
            } else {
                code[i] = v * UInt64(wordsPerSlot)
            }
        }
        useIntegerAccumulator()
        if PairProfile.counts == nil { fuseSequences() }
        return tempBase + (maxHeight + 1) * wordsPerSlot
    }
}
