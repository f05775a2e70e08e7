/// What a tier plugs into the validator to lower a function body as it is validated.
/// `visit` is called once per instruction, after the instruction has been checked and its
/// effect applied to the validator's stacks; the validator is passed so the sink can read
/// stack heights, operand types, label arities and `br_table` targets.
protocol CodeSink {
    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError)
}

/// A sink that does nothing: plain validation.
struct NullSink: CodeSink {
    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError) {}
}

/// A catch clause of `try_table`: which exceptions it catches and the label it branches to
/// (relative to the try_table's enclosing block), with the payload and/or the exnref.
struct CatchClause: Sendable {
    enum Kind: UInt8, Sendable { case catchTag = 0, catchTagRef = 1, catchAll = 2, catchAllRef = 3 }
    var kind: Kind
    var tag: UInt32
    var depth: UInt32
}

/// A control frame of the validation algorithm (spec appendix "Validation Algorithm").
struct ControlFrame {
    enum Kind { case function, block, loop, `if`, `else` }
    var kind: Kind
    var params: ArraySlice<ValueType>
    var results: ArraySlice<ValueType>
    /// Height of the value stack when the frame was entered (below its params).
    var height: Int
    var unreachable: Bool
    /// Height of `FunctionValidator.initializedLocals` when the frame was entered: locals set
    /// inside the frame are unset again at its end (typed function references).
    var initializedHeight: Int = 0

    /// Types a branch to this frame carries.
    var labelTypes: ArraySlice<ValueType> { kind == .loop ? params : results }
}

/// Validates one function body in a single pass over its bytes, handing every instruction
/// to a `CodeSink`. No per-instruction heap allocation: stacks grow by amortised append.
struct FunctionValidator: ~Copyable {
    let module: ModuleContext
    var reader: BinaryReader
    /// Types of params and locals.
    let locals: [ValueType]
    let bodyEnd: Int
    /// The value stack; `.unknown` is the type of values popped from the polymorphic stack of
    /// unreachable code (not an optional: one word per entry).
    private(set) var values: [ValueType] = []
    private(set) var controls: [ControlFrame] = []
    /// Targets of the last `br_table` (label depths), default last.
    private(set) var brTableTargets: [UInt32] = []
    /// The catch clauses of the last `try_table`, in order.
    private(set) var catchClauses: [CatchClause] = []
    /// The 16 bytes of the last `v128.const` / `i8x16.shuffle`.
    private(set) var v128Immediate: (UInt64, UInt64) = (0, 0)
    mutating func setV128Immediate(lo: UInt64, hi: UInt64) { v128Immediate = (lo, hi) }
    /// Largest value-stack height seen.
    private(set) var maxHeight = 0
    /// Whether a v128 value has been a local or on the stack so far (consumers that track
    /// value types skip the work for the common function without any).
    private(set) var usesV128 = false
    /// Locals without a default value (non-nullable references): whether each is set on the
    /// current path, and the ones set since, in order (unset again when their block ends).
    /// Empty for the usual function without such locals.
    private var localIsSet: [Bool] = []
    private var initializedLocals: [UInt32] = []

    init(module: ModuleContext, body: FunctionBody, type: FuncType, bytes: UnsafeBufferPointer<UInt8>) {
        self.module = module
        // Like the reference decoder, instructions are read from the whole stream and the body
        // size is checked at the end ("section size mismatch").
        self.reader = BinaryReader(bytes: bytes, position: body.codeStart, end: bytes.count)
        self.bodyEnd = body.codeEnd
        self.locals = type.params + body.locals
        self.usesV128 = locals.contains(.v128)
        if locals.contains(where: { !$0.isDefaultable }) {
            localIsSet = locals.indices.map { $0 < type.params.count || locals[$0].isDefaultable }
        }
        self.controls.append(ControlFrame(kind: .function, params: [], results: type.results[...], height: 0, unreachable: false))
    }

    var height: Int { values.count }

    // MARK: errors

    func invalid(_ message: String, at offset: Int) -> WasmError {
        WasmError(.invalid, message, offset: offset)
    }

    // MARK: stack operations (spec appendix)

    @inline(__always)
    mutating func push(_ t: ValueType?) {
        values.append(t ?? .unknown)
        if t == .v128 { usesV128 = true }
        if values.count > maxHeight { maxHeight = values.count }
    }

    mutating func pop(at offset: Int) throws(WasmError) -> ValueType? {
        // Fields are read in place: copying the frame would retain its type slices.
        let top = controls.count - 1
        if values.count == controls[top].height {
            if controls[top].unreachable { return nil }
            throw invalid("type mismatch", at: offset)
        }
        let t = values.removeLast()
        return t == .unknown ? nil : t
    }

    @discardableResult
    mutating func pop(_ expected: ValueType?, at offset: Int) throws(WasmError) -> ValueType? {
        let actual = try pop(at: offset)
        if let actual, let expected, !isSubtype(actual, expected) {
            throw invalid("type mismatch", at: offset)
        }
        return actual  // the spec's pop_val: unknown stays unknown
    }

    /// `a <: b` in this module (concrete types compared by their canonical forms).
    @inline(__always)
    func isSubtype(_ a: ValueType, _ b: ValueType) -> Bool { a == b || module.isSubtype(a, b) }

    /// Every type of `a` is a subtype of the one at its position in `b` (same counts).
    func allSubtypes(_ a: some Collection<ValueType>, _ b: some Collection<ValueType>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { isSubtype($0, $1) }
    }

    mutating func pop(_ types: ArraySlice<ValueType>, at offset: Int) throws(WasmError) {
        for t in types.reversed() { try pop(t, at: offset) }
    }

    mutating func push(_ types: ArraySlice<ValueType>) {
        for t in types { push(t) }
    }

    /// Checks that the top of the stack matches `types` without consuming it (what the spec's
    /// `push_vals(pop_vals(types))` does, without the copies).
    func checkTop(_ types: ArraySlice<ValueType>, at offset: Int) throws(WasmError) {
        let top = controls.count - 1
        var position = values.count
        for t in types.reversed() {
            if position == controls[top].height {
                if controls[top].unreachable { continue }  // the polymorphic base matches anything
                throw invalid("type mismatch", at: offset)
            }
            position -= 1
            let actual = values[position]
            if actual != .unknown, !isSubtype(actual, t) { throw invalid("type mismatch", at: offset) }
        }
    }

    mutating func pushControl(_ kind: ControlFrame.Kind, params: ArraySlice<ValueType>, results: ArraySlice<ValueType>) {
        controls.append(ControlFrame(kind: kind, params: params, results: results, height: values.count, unreachable: false,
                                     initializedHeight: initializedLocals.count))
        push(params)
    }

    mutating func popControl(at offset: Int) throws(WasmError) -> ControlFrame {
        let frame = controls[controls.count - 1]
        try pop(frame.results, at: offset)
        if values.count != frame.height { throw invalid("type mismatch", at: offset) }
        controls.removeLast()
        // Locals set inside the frame are not known to be set after it.
        while initializedLocals.count > frame.initializedHeight {
            localIsSet[Int(initializedLocals.removeLast())] = false
        }
        return frame
    }

    /// `local.set` / `local.tee` of a local without a default value: set from here to the end
    /// of the enclosing block.
    @inline(__always)
    mutating func noteSet(_ local: UInt32) {
        guard !localIsSet.isEmpty, !localIsSet[Int(local)] else { return }
        localIsSet[Int(local)] = true
        initializedLocals.append(local)
    }

    mutating func setUnreachable() {
        let i = controls.count - 1
        values.removeSubrange(controls[i].height...)
        controls[i].unreachable = true
    }

    func label(_ depth: UInt32, at offset: Int) throws(WasmError) -> ControlFrame {
        guard Int(depth) < controls.count else { throw invalid("unknown label", at: offset) }
        return controls[controls.count - 1 - Int(depth)]
    }

    // MARK: immediates

    mutating func blockType(at offset: Int) throws(WasmError) -> FuncType {
        let at = reader.position
        guard !reader.isAtEnd else { throw reader.error("unexpected end") }
        let b = reader.bytes[reader.position]
        if b == 0x40 { reader.position += 1; return FuncType(params: [], results: []) }
        if ValueType.shorthand(code: b) != nil || b == 0x63 || b == 0x64 {
            return FuncType(params: [], results: [try valueType(at: offset)])
        }
        let index = try reader.readS33()
        guard index >= 0, index < module.types.count else {
            if index < 0 { throw reader.error("malformed value type", at: at) }
            throw invalid("unknown type", at: at)
        }
        return module.types[Int(index)]
    }

    /// A memory instruction's immediate: alignment exponent, then (multi-memory, flag 0x40 in
    /// the alignment field) a memory index, then the offset (u64 with memory64; it must fit the
    /// memory's index type). Returns the memory index, its type and the offset.
    mutating func memArg(maxAlignment: UInt32, at offset: Int) throws(WasmError) -> (memory: UInt32, type: MemoryType, offset: UInt64) {
        let alignAt = reader.position
        var align = try reader.readU32()
        var memory: UInt32 = 0
        if module.features.contains(.multiMemory) {
            // An exponent field of 2^7 or more is a decoding error.
            guard align < 128 else { throw reader.error("malformed memop flags", at: alignAt) }
            if align >= 64 {
                align -= 64
                memory = try reader.readU32()
            }
        } else {
            // An exponent that does not fit a 32-bit alignment is a decoding error.
            guard align < 32 else { throw reader.error("malformed memop flags", at: alignAt) }
        }
        let memOffset = module.features.contains(.memory64) ? try reader.readU64() : UInt64(try reader.readU32())
        let type = try memoryType(memory, at: offset)
        guard align <= maxAlignment else { throw invalid("alignment must not be larger than natural", at: offset) }
        guard type.is64 || memOffset <= UInt64(UInt32.max) else { throw invalid("offset out of range", at: offset) }
        return (memory, type, memOffset)
    }

    /// The memory index of `memory.size`, `memory.grow`, `memory.fill` and friends: a zero
    /// byte in Wasm 2.0, any index with multi-memory.
    mutating func memoryIndex(at offset: Int) throws(WasmError) -> UInt32 {
        if module.features.contains(.multiMemory) { return try reader.readU32() }
        let zeroAt = reader.position
        guard try reader.readByte() == 0 else { throw reader.error("zero byte expected", at: zeroAt) }
        return 0
    }

    func memoryType(_ index: UInt32, at offset: Int) throws(WasmError) -> MemoryType {
        guard Int(index) < module.memories.count else { throw invalid("unknown memory \(index)", at: offset) }
        return module.memories[Int(index)]
    }

    func tableType(_ index: UInt32, at offset: Int) throws(WasmError) -> TableType {
        guard Int(index) < module.tables.count else { throw invalid("unknown table \(index)", at: offset) }
        return module.tables[Int(index)]
    }

    /// A value type immediate (block types, typed `select`), its type index checked.
    mutating func valueType(at offset: Int) throws(WasmError) -> ValueType {
        let t = try reader.readValueType(typed: module.features.contains(.functionReferences))
        try module.checkTypeIndex(t, at: offset)
        return t
    }

    func localType(_ index: UInt32, at offset: Int) throws(WasmError) -> ValueType {
        guard Int(index) < locals.count else { throw invalid("unknown local \(index)", at: offset) }
        return locals[Int(index)]
    }

    func globalType(_ index: UInt32, at offset: Int) throws(WasmError) -> GlobalType {
        guard Int(index) < module.globals.count else { throw invalid("unknown global \(index)", at: offset) }
        return module.globals[Int(index)]
    }

    func functionType(_ index: UInt32, at offset: Int) throws(WasmError) -> FuncType {
        guard Int(index) < module.functionTypes.count else { throw invalid("unknown function \(index)", at: offset) }
        return module.types[Int(module.functionTypes[Int(index)])]
    }

    func typeAt(_ index: UInt32, at offset: Int) throws(WasmError) -> FuncType {
        guard Int(index) < module.types.count else { throw invalid("unknown type \(index)", at: offset) }
        return module.types[Int(index)]
    }

    func checkDataSegment(_ index: UInt32, at offset: Int) throws(WasmError) {
        guard let count = module.dataCount else { throw WasmError(.malformed, "data count section required", offset: offset) }
        guard index < count else { throw invalid("unknown data segment \(index)", at: offset) }
    }

    func tagType(_ index: UInt32, at offset: Int) throws(WasmError) -> FuncType {
        guard Int(index) < module.tags.count else { throw invalid("unknown tag \(index)", at: offset) }
        return module.types[Int(module.tags[Int(index)])]
    }

    func elementType(_ index: UInt32, at offset: Int) throws(WasmError) -> ValueType {
        guard Int(index) < module.elementTypes.count else { throw invalid("unknown elem segment \(index)", at: offset) }
        return module.elementTypes[Int(index)]
    }

    // MARK: the pass

    mutating func run<Sink: CodeSink>(sink: inout Sink) throws(WasmError) {
        for t in locals where t.isReference { try module.checkTypeIndex(t, at: reader.position) }
        while !controls.isEmpty {
            guard !reader.isAtEnd else { throw reader.error("unexpected end") }
            let offset = reader.position
            let instruction = try step(at: offset)
            try sink.visit(instruction, offset: offset, validator: self)
        }
        if reader.position != bodyEnd {
            throw reader.error("section size mismatch")
        }
    }

    /// Decodes, validates and applies one instruction.
    mutating func step(at offset: Int) throws(WasmError) -> Instruction {
        let opcode = try reader.readByte()
        switch opcode {
        case 0x00:
            setUnreachable()
            return .unreachable
        case 0x01:
            return .nop
        case 0x02, 0x03:
            let bt = try blockType(at: offset)
            try pop(bt.params[...], at: offset)
            pushControl(opcode == 0x02 ? .block : .loop, params: bt.params[...], results: bt.results[...])
            return opcode == 0x02 ? .block(params: bt.params.count, results: bt.results.count)
                : .loop(params: bt.params.count, results: bt.results.count)
        case 0x04:
            let bt = try blockType(at: offset)
            try pop(.i32, at: offset)
            try pop(bt.params[...], at: offset)
            pushControl(.if, params: bt.params[...], results: bt.results[...])
            return .if(params: bt.params.count, results: bt.results.count)
        case 0x05:
            guard controls[controls.count - 1].kind == .if else {
                // Only `if` takes an `else`; elsewhere the decoder expects an `end`.
                throw reader.error("END opcode expected", at: offset)
            }
            let frame = try popControl(at: offset)
            pushControl(.else, params: frame.params, results: frame.results)
            return .else
        case 0x08:
            guard module.features.contains(.exceptionHandling) else { throw reader.error("illegal opcode", at: offset) }
            let tag = try reader.readU32()
            try pop(try tagType(tag, at: offset).params[...], at: offset)
            setUnreachable()
            return .throw(tag: tag)
        case 0x0A:
            guard module.features.contains(.exceptionHandling) else { throw reader.error("illegal opcode", at: offset) }
            try pop(.exnref, at: offset)
            setUnreachable()
            return .throwRef
        case 0x1F:
            guard module.features.contains(.exceptionHandling) else { throw reader.error("illegal opcode", at: offset) }
            let bt = try blockType(at: offset)
            let count = Int(try reader.readU32())
            guard count <= reader.remaining else { throw reader.error("unexpected end") }
            catchClauses.removeAll(keepingCapacity: true)
            for _ in 0..<count {
                let kindAt = reader.position
                guard let kind = CatchClause.Kind(rawValue: try reader.readByte()) else {
                    throw reader.error("malformed handler", at: kindAt)
                }
                let tag = kind == .catchTag || kind == .catchTagRef ? try reader.readU32() : 0
                let depth = try reader.readU32()
                // The clause's values, as a branch to its label (outside the try_table) carries them.
                var values: [ValueType] = kind == .catchTag || kind == .catchTagRef ? try tagType(tag, at: offset).params : []
                if kind == .catchTagRef || kind == .catchAllRef { values.append(.ref(.exn, nullable: false)) }
                guard allSubtypes(values, try label(depth, at: offset).labelTypes) else { throw invalid("type mismatch", at: offset) }
                catchClauses.append(CatchClause(kind: kind, tag: tag, depth: depth))
            }
            try pop(bt.params[...], at: offset)
            pushControl(.block, params: bt.params[...], results: bt.results[...])
            return .tryTable(params: bt.params.count, results: bt.results.count)
        case 0x0B:
            let frame = try popControl(at: offset)
            if frame.kind == .if && !allSubtypes(frame.params, frame.results) {
                throw invalid("type mismatch", at: offset)
            }
            push(frame.results)
            return .end
        case 0x0C:
            let depth = try reader.readU32()
            let target = try label(depth, at: offset)
            try pop(target.labelTypes, at: offset)
            setUnreachable()
            return .br(depth: Int(depth))
        case 0x0D:
            let depth = try reader.readU32()
            try pop(.i32, at: offset)
            let target = try label(depth, at: offset)
            try pop(target.labelTypes, at: offset)
            push(target.labelTypes)
            return .brIf(depth: Int(depth))
        case 0x0E:
            let count = Int(try reader.readU32())
            guard count <= reader.remaining else { throw reader.error("unexpected end") }
            brTableTargets.removeAll(keepingCapacity: true)
            for _ in 0...count { brTableTargets.append(try reader.readU32()) }
            try pop(.i32, at: offset)
            let defaultLabel = try label(brTableTargets[count], at: offset)
            let arity = defaultLabel.labelTypes.count
            for i in 0..<count {
                let l = try label(brTableTargets[i], at: offset)
                guard l.labelTypes.count == arity else { throw invalid("type mismatch", at: offset) }
                try checkTop(l.labelTypes, at: offset)
            }
            try pop(defaultLabel.labelTypes, at: offset)
            setUnreachable()
            return .brTable
        case 0x0F:
            try pop(controls[0].results, at: offset)
            setUnreachable()
            return .return
        case 0x10:
            let index = try reader.readU32()
            let type = try functionType(index, at: offset)
            try pop(type.params[...], at: offset)
            push(type.results[...])
            return .call(function: index)
        case 0x11:
            let typeIndex = try reader.readU32()
            let table = try reader.readU32()
            let tt = try tableType(table, at: offset)
            let type = try typeAt(typeIndex, at: offset)
            guard isSubtype(tt.element, .funcref) else { throw invalid("type mismatch", at: offset) }
            try pop(tt.indexType, at: offset)
            try pop(type.params[...], at: offset)
            push(type.results[...])
            return .callIndirect(typeIndex: typeIndex, table: table)
        case 0x12, 0x13, 0x15:
            // Tail calls: the callee's results are the function's; nothing follows.
            guard module.features.contains(.tailCalls), opcode != 0x15 || module.features.contains(.functionReferences) else {
                throw reader.error("illegal opcode", at: offset)
            }
            let type: FuncType
            let instruction: Instruction
            if opcode == 0x12 {
                let index = try reader.readU32()
                type = try functionType(index, at: offset)
                instruction = .returnCall(function: index)
            } else if opcode == 0x15 {
                let typeIndex = try reader.readU32()
                type = try typeAt(typeIndex, at: offset)
                try pop(.ref(.concrete(typeIndex), nullable: true), at: offset)
                instruction = .returnCallRef(typeIndex: typeIndex)
            } else {
                let typeIndex = try reader.readU32()
                let table = try reader.readU32()
                let tt = try tableType(table, at: offset)
                type = try typeAt(typeIndex, at: offset)
                guard isSubtype(tt.element, .funcref) else { throw invalid("type mismatch", at: offset) }
                try pop(tt.indexType, at: offset)
                instruction = .returnCallIndirect(typeIndex: typeIndex, table: table)
            }
            guard allSubtypes(type.results, controls[0].results) else { throw invalid("type mismatch", at: offset) }
            try pop(type.params[...], at: offset)
            setUnreachable()
            return instruction
        case 0x1A:
            _ = try pop(at: offset)
            return .drop
        case 0x1B:
            try pop(.i32, at: offset)
            let t1 = try pop(at: offset)
            let t2 = try pop(at: offset)
            if let t1, t1.isReference { throw invalid("type mismatch", at: offset) }
            if let t2, t2.isReference { throw invalid("type mismatch", at: offset) }
            if let t1, let t2, t1 != t2 { throw invalid("type mismatch", at: offset) }
            push(t1 ?? t2)
            return .select
        case 0x1C:
            let n = try reader.readU32()
            guard n == 1 else { throw invalid("invalid result arity", at: offset) }
            let t = try valueType(at: offset)
            try pop(.i32, at: offset)
            try pop(t, at: offset)
            try pop(t, at: offset)
            push(t)
            return .select
        case 0x20:
            let i = try reader.readU32()
            let t = try localType(i, at: offset)
            guard localIsSet.isEmpty || localIsSet[Int(i)] else { throw invalid("uninitialized local", at: offset) }
            push(t)
            return .localGet(i)
        case 0x21:
            let i = try reader.readU32()
            try pop(try localType(i, at: offset), at: offset)
            noteSet(i)
            return .localSet(i)
        case 0x22:
            let i = try reader.readU32()
            let t = try localType(i, at: offset)
            try pop(t, at: offset)
            push(t)
            noteSet(i)
            return .localTee(i)
        case 0x23:
            let i = try reader.readU32()
            push(try globalType(i, at: offset).value)
            return .globalGet(i)
        case 0x24:
            let i = try reader.readU32()
            let g = try globalType(i, at: offset)
            guard g.mutable else { throw invalid("immutable global", at: offset) }
            try pop(g.value, at: offset)
            return .globalSet(i)
        case 0x25:
            let t = try reader.readU32()
            let tt = try tableType(t, at: offset)
            try pop(tt.indexType, at: offset)
            push(tt.element)
            return .tableGet(t)
        case 0x26:
            let t = try reader.readU32()
            let tt = try tableType(t, at: offset)
            try pop(tt.element, at: offset)
            try pop(tt.indexType, at: offset)
            return .tableSet(t)
        case 0x28...0x35:
            let access = MemoryAccess.load(opcode)
            let arg = try memArg(maxAlignment: access.naturalAlignment, at: offset)
            try pop(arg.type.addressType, at: offset)
            push(access.type)
            return .load(opcode: opcode, offset: arg.offset, memory: arg.memory)
        case 0x36...0x3E:
            let access = MemoryAccess.store(opcode)
            let arg = try memArg(maxAlignment: access.naturalAlignment, at: offset)
            try pop(access.type, at: offset)
            try pop(arg.type.addressType, at: offset)
            return .store(opcode: opcode, offset: arg.offset, memory: arg.memory)
        case 0x3F, 0x40:
            let memory = try memoryIndex(at: offset)
            let type = try memoryType(memory, at: offset).addressType
            if opcode == 0x40 { try pop(type, at: offset) }
            push(type)
            return opcode == 0x3F ? .memorySize(memory) : .memoryGrow(memory)
        case 0x41:
            let v = try reader.readS32()
            push(.i32)
            return .const(.i32, UInt64(UInt32(bitPattern: v)))
        case 0x42:
            let v = try reader.readS64()
            push(.i64)
            return .const(.i64, UInt64(bitPattern: v))
        case 0x43:
            let v = try reader.readF32Bits()
            push(.f32)
            return .const(.f32, UInt64(v))
        case 0x44:
            let v = try reader.readF64Bits()
            push(.f64)
            return .const(.f64, v)
        case 0x45...0xC4:
            return try numeric(UInt16(opcode), at: offset)
        case 0xD0:
            let t = try reader.readNullType(typed: module.features.contains(.functionReferences))
            try module.checkTypeIndex(t, at: offset)
            push(t)
            return .refNull(t)
        case 0xD1:
            let t = try pop(at: offset)
            if let t, !t.isReference { throw invalid("type mismatch", at: offset) }
            push(.i32)
            return .refIsNull
        case 0xD2:
            let f = try reader.readU32()
            guard Int(f) < module.functionTypes.count else { throw invalid("unknown function \(f)", at: offset) }
            guard module.declaredFunctions.contains(f) else { throw invalid("undeclared function reference", at: offset) }
            push(.ref(.concrete(module.functionTypes[Int(f)]), nullable: false))
            return .refFunc(f)
        case 0x14:
            guard module.features.contains(.functionReferences) else { throw reader.error("illegal opcode", at: offset) }
            let typeIndex = try reader.readU32()
            let type = try typeAt(typeIndex, at: offset)
            try pop(.ref(.concrete(typeIndex), nullable: true), at: offset)
            try pop(type.params[...], at: offset)
            push(type.results[...])
            return .callRef(typeIndex: typeIndex)
        case 0xD4:
            guard module.features.contains(.functionReferences) else { throw reader.error("illegal opcode", at: offset) }
            let t = try pop(at: offset)
            guard let t else { push(nil); return .refAsNonNull }
            guard t.isReference else { throw invalid("type mismatch", at: offset) }
            push(.ref(t.heapType, nullable: false))
            return .refAsNonNull
        case 0xD5:
            // br_on_null l: [t* (ref null ht)] -> [t* (ref ht)], branching with t* on null.
            guard module.features.contains(.functionReferences) else { throw reader.error("illegal opcode", at: offset) }
            let depth = try reader.readU32()
            let target = try label(depth, at: offset)
            let t = try pop(at: offset)
            if let t, !t.isReference { throw invalid("type mismatch", at: offset) }
            try pop(target.labelTypes, at: offset)
            push(target.labelTypes)
            push(t.map { .ref($0.heapType, nullable: false) })
            return .brOnNull(depth: Int(depth))
        case 0xD6:
            // br_on_non_null l: [t* (ref null ht)] -> [t*], branching with t* (ref ht) on non-null.
            guard module.features.contains(.functionReferences) else { throw reader.error("illegal opcode", at: offset) }
            let depth = try reader.readU32()
            let target = try label(depth, at: offset)
            guard let last = target.labelTypes.last, last.isReference else { throw invalid("type mismatch", at: offset) }
            let t = try pop(at: offset)
            if let t {
                guard t.isReference, isSubtype(.ref(t.heapType, nullable: false), last) else { throw invalid("type mismatch", at: offset) }
            }
            let carried = target.labelTypes.dropLast()
            try pop(carried, at: offset)
            push(carried)
            return .brOnNonNull(depth: Int(depth))
        case 0xFC:
            return try prefixedFC(at: offset)
        case 0xFD:
            return try simd(at: offset)
        default:
            throw reader.error("illegal opcode", at: offset)
        }
    }

    mutating func numeric(_ opcode: UInt16, at offset: Int) throws(WasmError) -> Instruction {
        guard let sig = NumericSignature.of(opcode) else { throw reader.error("illegal opcode", at: offset) }
        if let b = sig.operands.1 { try pop(b, at: offset) }
        try pop(sig.operands.0, at: offset)
        push(sig.result)
        return .numeric(opcode: opcode)
    }

    mutating func prefixedFC(at offset: Int) throws(WasmError) -> Instruction {
        let sub = try reader.readU32()
        switch sub {
        case 0...7:
            return try numeric(0xFC00 | UInt16(sub), at: offset)
        case 8:  // memory.init
            let segment = try reader.readU32()
            let memory = try memoryIndex(at: offset)
            let type = try memoryType(memory, at: offset)
            try checkDataSegment(segment, at: offset)
            try pop(.i32, at: offset); try pop(.i32, at: offset); try pop(type.addressType, at: offset)
            return .memoryInit(segment: segment, memory: memory)
        case 9:
            let segment = try reader.readU32()
            try checkDataSegment(segment, at: offset)
            return .dataDrop(segment)
        case 10:
            let destination = try memoryIndex(at: offset)
            let source = try memoryIndex(at: offset)
            let dt = try memoryType(destination, at: offset), st = try memoryType(source, at: offset)
            // The length is 64-bit only when both memories are.
            try pop(dt.is64 && st.is64 ? .i64 : .i32, at: offset)
            try pop(st.addressType, at: offset); try pop(dt.addressType, at: offset)
            return .memoryCopy(destination: destination, source: source)
        case 11:
            let memory = try memoryIndex(at: offset)
            let type = try memoryType(memory, at: offset).addressType
            try pop(type, at: offset); try pop(.i32, at: offset); try pop(type, at: offset)
            return .memoryFill(memory)
        case 12:
            let segment = try reader.readU32()
            let table = try reader.readU32()
            let tt = try tableType(table, at: offset)
            let et = try elementType(segment, at: offset)
            guard isSubtype(et, tt.element) else { throw invalid("type mismatch", at: offset) }
            try pop(.i32, at: offset); try pop(.i32, at: offset); try pop(tt.indexType, at: offset)
            return .tableInit(element: segment, table: table)
        case 13:
            let segment = try reader.readU32()
            _ = try elementType(segment, at: offset)
            return .elemDrop(segment)
        case 14:
            let dst = try reader.readU32()
            let src = try reader.readU32()
            let d = try tableType(dst, at: offset)
            let s = try tableType(src, at: offset)
            guard isSubtype(s.element, d.element) else { throw invalid("type mismatch", at: offset) }
            // The length is 64-bit only when both tables are.
            try pop(d.is64 && s.is64 ? .i64 : .i32, at: offset)
            try pop(s.indexType, at: offset); try pop(d.indexType, at: offset)
            return .tableCopy(destination: dst, source: src)
        case 15:
            let t = try reader.readU32()
            let tt = try tableType(t, at: offset)
            try pop(tt.indexType, at: offset)
            try pop(tt.element, at: offset)
            push(tt.indexType)
            return .tableGrow(t)
        case 16:
            let t = try reader.readU32()
            push(try tableType(t, at: offset).indexType)
            return .tableSize(t)
        case 17:
            let t = try reader.readU32()
            let tt = try tableType(t, at: offset)
            try pop(tt.indexType, at: offset)
            try pop(tt.element, at: offset)
            try pop(tt.indexType, at: offset)
            return .tableFill(t)
        default:
            throw reader.error("illegal opcode", at: offset)
        }
    }
}

/// What the function validator needs to know of its module.
struct ModuleContext: Sendable {
    var types: [FuncType]
    /// Type index per function, imports first.
    var functionTypes: [UInt32]
    var tables: [TableType]
    /// Memory types, imports first.
    var memories: [MemoryType]
    /// Type index of each tag, imports first.
    var tags: [UInt32] = []
    var memoryCount: Int { memories.count }
    var globals: [GlobalType]
    /// Globals and functions that are imports (the first of each index space).
    var importedGlobalCount = 0
    var importedFunctionCount = 0
    var elementTypes: [ValueType]
    var dataCount: UInt32?
    /// Functions referenced outside function bodies (C.refs), which `ref.func` may name.
    var declaredFunctions: DeclaredFunctions
    /// The proposals past Wasm 2.0 the module may use.
    var features: WasmFeatures = .all
    /// Per type index, the first equivalent type's index (`TypeCanonicalization`).
    var canonical: [UInt32] = []

    /// Where an instance keeps global `g`'s cell, past its VM context (`VMContextLayout`),
    /// when the module defines it; nil for an imported global (reached through `globals`).
    func definedGlobalCell(_ g: Int) -> Int32? {
        g < importedGlobalCount ? nil : VMContextLayout.definedGlobalCell(g - importedGlobalCount)
    }
    /// Where an instance keeps defined function `k`'s reference (`StrataFuncRef`), past its
    /// VM context and the defined globals' cells.
    func definedFunctionReference(_ k: Int) -> Int32 {
        VMContextLayout.definedFunctionReference(k, definedGlobals: globals.count - importedGlobalCount)
    }

    /// `a <: b` in this module. (The comparison captures the canonical ids, not `self`: a
    /// closure capturing this struct copied it, retaining each of its arrays, at every call;
    /// Yosys's element segments check 0.4 ms faster.)
    func isSubtype(_ a: ValueType, _ b: ValueType) -> Bool {
        if a == b { return true }
        let canonical = self.canonical
        return a.isSubtype(of: b, sameType: { x, y in Self.sameType(x, y, canonical) })
    }

    /// Whether two concrete heap types (module type indices) are the same type.
    func sameType(_ a: HeapType, _ b: HeapType) -> Bool { Self.sameType(a, b, canonical) }

    private static func sameType(_ a: HeapType, _ b: HeapType, _ canonical: [UInt32]) -> Bool {
        guard let i = a.typeIndex, let j = b.typeIndex else { return false }
        return canonical[Int(i)] == canonical[Int(j)]
    }

    /// A concrete heap type of `t` must name a type of the module.
    func checkTypeIndex(_ t: ValueType, at offset: Int) throws(WasmError) {
        if t.isReference, let i = t.heapType.typeIndex, Int(i) >= types.count {
            throw WasmError(.invalid, "unknown type", offset: offset)
        }
    }

    /// Whether `memory` is memory 0 with 32-bit addresses: the memory every tier reaches
    /// directly (`vmctx.memory0`, the interpreter's cached base and size, guard pages instead of
    /// bounds checks in compiled code). Other memories go through slower, general paths.
    func isPlainMemory0(_ memory: UInt32) -> Bool {
        memory == 0 && (memories.isEmpty || !memories[0].is64)
    }
}
