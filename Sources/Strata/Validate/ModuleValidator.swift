/// Module-level validation: everything outside function bodies, and the `ModuleContext`
/// that function validation reads.
struct ModuleValidator {
    let info: ModuleInfo
    var features: WasmFeatures = .all

    func invalid(_ message: String, at offset: Int) -> WasmError { WasmError(.invalid, message, offset: offset) }

    func validate() throws(WasmError) -> ModuleContext {
        let types = info.types
        // A function type refers to earlier types and itself only (its recursion group).
        for (i, t) in types.enumerated() {
            for v in t.params + t.results where v.isReference {
                if let j = v.heapType.typeIndex, j > UInt32(i) { throw invalid("unknown type", at: 0) }
            }
        }
        var context = ModuleContext(types: types, functionTypes: [], tables: [], memories: [], globals: [], elementTypes: [],
                                    declaredFunctions: DeclaredFunctions(count: 0), features: features,
                                    canonical: TypeCanonicalization.localCanonical(types))
        for imp in info.imports {
            switch imp.descriptor {
            case .function(let t):
                guard Int(t) < types.count else { throw invalid("unknown type \(t)", at: imp.offset) }
            case .table(let t):
                try context.checkTypeIndex(t.element, at: imp.offset)
                try checkTableLimits(t, at: imp.offset)
            case .memory(let m): try checkMemoryLimits(m, at: imp.offset)
            case .global(let g): try context.checkTypeIndex(g.value, at: imp.offset)
            case .tag(let t): try checkTagType(t, at: imp.offset)
            }
        }
        for (i, t) in info.tags.enumerated() { try checkTagType(t, at: info.tagOffsets[i]) }
        for (i, t) in info.functionTypeIndices.enumerated() where Int(t) >= types.count {
            throw invalid("unknown type \(t)", at: info.functionOffsets[i])
        }
        for (i, t) in info.tables.enumerated() {
            try context.checkTypeIndex(t.element, at: info.tableOffsets[i])
            try checkTableLimits(t, at: info.tableOffsets[i])
        }
        if info.memoryCount > 1 && !features.contains(.multiMemory) {
            throw invalid("multiple memories", at: info.memoryOffsets.last ?? info.imports.last?.offset ?? 0)
        }
        for (i, m) in info.memories.enumerated() { try checkMemoryLimits(m, at: info.memoryOffsets[i]) }
        let allMemories = info.importedMemories + info.memories

        var functionTypes = info.importedFunctionTypes
        functionTypes.append(contentsOf: info.functionTypeIndices)
        context.functionTypes = functionTypes
        var allTables = info.importedTables
        allTables.append(contentsOf: info.tables)
        var allGlobals = info.importedGlobals
        allGlobals.append(contentsOf: info.globals.map(\.type))
        for g in info.globals { try context.checkTypeIndex(g.type.value, at: g.offset) }
        for seg in info.elements { try context.checkTypeIndex(seg.type, at: seg.offset) }

        // C.refs: functions referenced from globals, element segments and exports.
        var declared = DeclaredFunctions(count: info.functionCount)
        func noteRefs(_ e: ConstExpr) { if case .refFunc(let f) = e { declared.insert(f) } }
        for g in info.globals { noteRefs(g.initializer) }
        for case let e? in info.tableInitializers { noteRefs(e) }
        for seg in info.elements { for item in seg.items { noteRefs(item) } }
        for e in info.exports where e.kind == .function { declared.insert(e.index) }

        // Globals a constant expression may read: Wasm 2.0, the imported ones; extended
        // constant expressions, also the defined ones before it (all of them in segments).
        let extended = features.contains(.extendedConstantExpressions)
        for (i, g) in info.globals.enumerated() {
            let visible = info.importedGlobals.count + (extended ? i : 0)
            try checkConstExpr(g.initializer, expected: g.type.value, context: context, globals: allGlobals.prefix(visible), at: g.offset)
        }
        let segmentGlobals = allGlobals.prefix(extended ? allGlobals.count : info.importedGlobals.count)
        // Table initializers (typed function references) read imported globals only (tables
        // come before globals); a table of non-nullable references needs one.
        for (i, t) in info.tables.enumerated() {
            if let e = info.tableInitializers[i] {
                try checkConstExpr(e, expected: t.element, context: context, globals: allGlobals.prefix(info.importedGlobals.count), at: info.tableOffsets[i])
            } else if !t.element.isDefaultable {
                throw invalid("type mismatch", at: info.tableOffsets[i])
            }
        }

        var names = Set<NameBytes>()  // names compare as bytes, not as Unicode strings
        names.reserveCapacity(info.exports.count)
        for e in info.exports {
            guard names.insert(NameBytes(e.name)).inserted else { throw invalid("duplicate export name", at: e.offset) }
            switch e.kind {
            case .function: guard Int(e.index) < functionTypes.count else { throw invalid("unknown function \(e.index)", at: e.offset) }
            case .table: guard Int(e.index) < allTables.count else { throw invalid("unknown table \(e.index)", at: e.offset) }
            case .memory: guard Int(e.index) < info.memoryCount else { throw invalid("unknown memory \(e.index)", at: e.offset) }
            case .global: guard Int(e.index) < allGlobals.count else { throw invalid("unknown global \(e.index)", at: e.offset) }
            case .tag: guard Int(e.index) < info.tagCount else { throw invalid("unknown tag \(e.index)", at: e.offset) }
            }
        }

        if let start = info.start {
            guard Int(start) < functionTypes.count else { throw invalid("unknown function \(start)", at: info.startOffset) }
            let type = types[Int(functionTypes[Int(start)])]
            guard type.params.isEmpty, type.results.isEmpty else { throw invalid("start function", at: info.startOffset) }
        }

        for seg in info.elements {
            for item in seg.items {
                try checkConstExpr(item, expected: seg.type, context: context, globals: segmentGlobals, at: seg.offset)
            }
            if case .active(let table, let offset) = seg.mode {
                guard Int(table) < allTables.count else { throw invalid("unknown table \(table)", at: seg.offset) }
                try checkConstExpr(offset, expected: allTables[Int(table)].indexType, context: context, globals: segmentGlobals, at: seg.offset)
                guard context.isSubtype(seg.type, allTables[Int(table)].element) else { throw invalid("type mismatch", at: seg.offset) }
            }
        }
        for seg in info.data {
            if case .active(let memory, let offset) = seg.mode {
                guard Int(memory) < info.memoryCount else { throw invalid("unknown memory \(memory)", at: seg.offset) }
                try checkConstExpr(offset, expected: allMemories[Int(memory)].addressType, context: context, globals: segmentGlobals, at: seg.offset)
            }
        }

        context.tables = allTables
        context.memories = allMemories
        context.tags = info.importedTags + info.tags
        context.globals = allGlobals
        context.importedGlobalCount = info.importedGlobals.count
        context.importedFunctionCount = info.importedFunctionTypes.count
        context.elementTypes = info.elements.map(\.type)
        context.dataCount = info.dataCount
        context.declaredFunctions = declared
        return context
    }

    func checkTableLimits(_ t: TableType, at offset: Int) throws(WasmError) {
        let l = t.limits
        // Bounds are read as u64 with memory64; a 32-bit table holds at most 2^32 - 1 elements.
        for bound in [l.min, l.max ?? 0] where !t.is64 && bound > UInt64(UInt32.max) {
            throw invalid("table size must be at most 2^32-1", at: offset)
        }
        if let max = l.max, l.min > max { throw invalid("size minimum must not be greater than maximum", at: offset) }
    }

    /// A tag's type: a function type without results.
    func checkTagType(_ t: UInt32, at offset: Int) throws(WasmError) {
        guard Int(t) < info.types.count else { throw invalid("unknown type \(t)", at: offset) }
        guard info.types[Int(t)].results.isEmpty else { throw invalid("non-empty tag result type", at: offset) }
    }

    func checkMemoryLimits(_ m: MemoryType, at offset: Int) throws(WasmError) {
        let l = m.limits
        let message = m.is64 ? "memory size must be at most 2^48 pages (256TiB)" : "memory size must be at most 65536 pages (4GiB)"
        guard l.min <= m.maxPagesAllowed else { throw invalid(message, at: offset) }
        if let max = l.max {
            guard max <= m.maxPagesAllowed else { throw invalid(message, at: offset) }
            guard l.min <= max else { throw invalid("size minimum must not be greater than maximum", at: offset) }
        }
    }

    func checkConstExpr(_ e: ConstExpr, expected: ValueType, context: ModuleContext, globals: ArraySlice<GlobalType>, at offset: Int) throws(WasmError) {
        let actual = try constType(e, context: context, globals: globals, at: offset)
        guard context.isSubtype(actual, expected) else { throw invalid("type mismatch", at: offset) }
    }

    func constType(_ e: ConstExpr, context: ModuleContext, globals: ArraySlice<GlobalType>, at offset: Int) throws(WasmError) -> ValueType {
        let actual: ValueType
        switch e {
        case .i32: actual = .i32
        case .i64: actual = .i64
        case .f32: actual = .f32
        case .f64: actual = .f64
        case .v128: actual = .v128
        case .refNull(let t):
            try context.checkTypeIndex(t, at: offset)
            actual = t
        case .refFunc(let f):
            guard Int(f) < context.functionTypes.count else { throw invalid("unknown function \(f)", at: offset) }
            actual = .ref(.concrete(context.functionTypes[Int(f)]), nullable: false)
        case .globalGet(let g):
            guard Int(g) < globals.count else { throw invalid("unknown global \(g)", at: offset) }
            let type = globals[Int(g)]
            guard !type.mutable else { throw invalid("constant expression required", at: offset) }
            actual = type.value
        case .binary(let op, let a, let b):
            guard features.contains(.extendedConstantExpressions) else { throw invalid("constant expression required", at: offset) }
            for operand in [a, b] where try constType(operand, context: context, globals: globals, at: offset) != op.type {
                throw invalid("type mismatch", at: offset)
            }
            actual = op.type
        }
        return actual
    }
}

/// A name compared and hashed by its UTF-8 bytes (Swift strings compare by canonical
/// equivalence, Wasm names by bytes), without copying them.
struct NameBytes: Hashable {
    let name: String
    init(_ name: String) { self.name = name }
    static func == (a: NameBytes, b: NameBytes) -> Bool { a.name.utf8.elementsEqual(b.name.utf8) }
    func hash(into hasher: inout Hasher) {
        var s = name
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// The functions `ref.func` may name (C.refs): one bit per function of the module.
struct DeclaredFunctions: Sendable {
    private var bits: [UInt64]

    init(count: Int) { bits = [UInt64](repeating: 0, count: (count + 63) / 64) }

    /// Indices outside the module are ignored (validation reports them elsewhere).
    mutating func insert(_ f: UInt32) {
        let i = Int(f)
        if i / 64 < bits.count { bits[i / 64] |= 1 << UInt64(i % 64) }
    }
    func contains(_ f: UInt32) -> Bool {
        let i = Int(f)
        return i / 64 < bits.count && bits[i / 64] & (1 << UInt64(i % 64)) != 0
    }
}
