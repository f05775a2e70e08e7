import CStrata

/// Decodes a module binary into `ModuleInfo`, checking every structural rule of the binary
/// format (section order and sizes, LEB128 forms, counts). Instruction sequences of function
/// bodies are decoded later, by the function validator, in a single pass.
struct ModuleDecoder {
    /// Implementation limits; exceeding them is reported as malformed/invalid, never a crash.
    static let maxLocals = 50_000
    static let maxFunctions = 1_000_000
    static let maxTypes = 1_000_000
    static let maxParams = Int(STRATA_MAX_PARAMS)
    static let maxSegmentItems = 10_000_000

    var reader: BinaryReader
    var info = ModuleInfo()
    /// The proposals the binary may use (memory64 changes how limits are encoded).
    let features: WasmFeatures
    /// Typed function references: `(ref null? ht)` value types, table initializers.
    var typed: Bool { features.contains(.functionReferences) }
    /// The shared bytes `bytes` are, when the caller has them: the function names then refer to
    /// them instead of copying their subsection (16 MB for a large C++ program).
    let owner: SharedBytes?
    /// The code section's body extents as an earlier decode of the same bytes found them (the
    /// code cache's copy of a module file keeps them: `ModuleCopies`): per body its offset,
    /// the start of its locals and its end, u32 little-endian each. Used when they partition
    /// the code section as its count says, instead of walking every body's size (Yosys: 46,000
    /// dependent loads across 42 MB, about 5 ms of cache misses); else the section is walked.
    let knownBodies: UnsafeRawBufferPointer?

    init(bytes: UnsafeBufferPointer<UInt8>, features: WasmFeatures = .all, owner: SharedBytes? = nil, knownBodies: UnsafeRawBufferPointer? = nil) {
        reader = BinaryReader(bytes: bytes)
        self.features = features
        self.knownBodies = knownBodies
        self.owner = owner.flatMap { shared in
            shared.buffer.baseAddress == bytes.baseAddress && shared.count == bytes.count ? shared : nil
        }
    }

    private func malformed(_ message: String, at offset: Int? = nil) -> WasmError {
        WasmError(.malformed, message, offset: offset ?? reader.position)
    }

    /// Section ids in their required order (data count sits between import... see spec).
    private static func orderRank(_ id: UInt8) -> Int {
        switch id {
        case 1: 1   // type
        case 2: 2   // import
        case 3: 3   // function
        case 4: 4   // table
        case 5: 5   // memory
        case 13: 6  // tag (exception handling)
        case 6: 7   // global
        case 7: 8   // export
        case 8: 9   // start
        case 9: 10  // element
        case 12: 11 // data count
        case 10: 12 // code
        case 11: 13 // data
        default: -1
        }
    }

    /// The end of the section being decoded: constant expressions stop there.
    var sectionEnd = Int.max

    mutating func decode() throws(WasmError) -> ModuleInfo {
        guard reader.remaining >= 4 else { throw malformed("unexpected end") }
        let magic = try reader.readBytes(4)
        guard magic.elementsEqual([0x00, 0x61, 0x73, 0x6D]) else { throw malformed("magic header not detected", at: 0) }
        guard reader.remaining >= 4 else { throw malformed("unexpected end") }
        let version = try reader.readBytes(4)
        guard version.elementsEqual([0x01, 0x00, 0x00, 0x00]) else { throw malformed("unknown binary version", at: 4) }

        var lastRank = 0
        var sawFunctionSection = false
        var sawCodeSection = false
        while !reader.isAtEnd {
            let idOffset = reader.position
            let id = try reader.readByte()
            let size = try reader.readLength()
            let start = reader.position
            let end = start + size
            if id != 0 {
                let rank = id == 13 && !features.contains(.exceptionHandling) ? -1 : Self.orderRank(id)
                guard rank > 0 else { throw malformed("malformed section id", at: idOffset) }
                guard rank > lastRank else { throw malformed("unexpected content after last section", at: idOffset) }
                lastRank = rank
            }
            // Like the reference decoder, a section is read from the whole stream and its size
            // is checked afterwards ("section size mismatch"); a custom section is bounded, and so
            // is a constant expression (`readConstExpr`).
            var section = BinaryReader(bytes: reader.bytes, position: start, end: id == 0 ? end : reader.bytes.count)
            sectionEnd = end
            switch id {
            case 0: try decodeCustom(&section)
            case 1: try decodeTypes(&section)
            case 2: try decodeImports(&section)
            case 3: try decodeFunctions(&section); sawFunctionSection = true
            case 4: try decodeTables(&section)
            case 5: try decodeMemories(&section)
            case 6: try decodeGlobals(&section)
            case 7: try decodeExports(&section)
            case 8: info.startOffset = section.position; info.start = try section.readU32()
            case 9: try decodeElements(&section)
            case 10: try decodeCode(&section); sawCodeSection = true
            case 11: try decodeData(&section)
            case 12: info.dataCount = try section.readU32()
            case 13: try decodeTags(&section)
            default: break
            }
            if section.position != end {
                throw malformed("section size mismatch", at: section.position)
            }
            reader.position = end
        }
        _ = sawFunctionSection
        if info.functionTypeIndices.count != info.bodies.count || (!sawCodeSection && !info.functionTypeIndices.isEmpty) {
            throw malformed("function and code section have inconsistent lengths")
        }
        if let count = info.dataCount, Int(count) != info.data.count {
            throw malformed("data count and data section have inconsistent lengths")
        }
        return info
    }

    // MARK: sections

    private mutating func readCount(_ r: inout BinaryReader, limit: Int) throws(WasmError) -> Int {
        let count = Int(try r.readU32())
        // Each item takes at least one byte: a count larger than what is left is malformed,
        // which keeps hostile counts from reserving memory.
        if count > r.remaining { throw WasmError(.malformed, "unexpected end", offset: r.position) }
        if count > limit { throw WasmError(.malformed, "too many items", offset: r.position) }
        return count
    }

    private mutating func decodeCustom(_ r: inout BinaryReader) throws(WasmError) {
        guard !r.isAtEnd else { throw malformed("unexpected end", at: r.position) }
        let name = try r.readName()
        let start = r.position
        let payload = try r.readBytes(r.remaining)
        info.customSections.append(CustomSection(name: name, payload: start..<r.position))
        if name == "name" {
            decodeNameSection(payload, at: start)
        }
    }

    /// The name section is advisory: a broken one is ignored, as the spec requires.
    private mutating func decodeNameSection(_ payload: UnsafeBufferPointer<UInt8>, at start: Int) {
        var r = BinaryReader(bytes: payload)
        var functionNames = FunctionNames()
        var moduleName: String?
        do {
            while !r.isAtEnd {
                let id = try r.readByte()
                let size = Int(try r.readU32())
                guard size <= r.remaining else { return }
                var sub = BinaryReader(bytes: r.bytes, position: r.position, end: r.position + size)
                if id == 0 {
                    moduleName = try sub.readName()
                } else if id == 1 {
                    // Decoded when first needed (FunctionNames).
                    let range = r.position..<(r.position + size)
                    functionNames = owner.map { FunctionNames($0, range: (start + range.lowerBound)..<(start + range.upperBound)) }
                        ?? FunctionNames(subsection: Array(UnsafeBufferPointer(rebasing: payload[range])))
                }
                r.position += size
            }
        } catch {
            return
        }
        info.functionNames = functionNames
        info.moduleName = moduleName
    }

    private mutating func decodeTypes(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxTypes)
        info.types.reserveCapacity(count)
        for _ in 0..<count {
            let at = r.position
            // The form is a signed 7-bit LEB (-0x20 = 0x60), as the reference decoder reads it.
            let form = try r.readSignedLEB(bits: 7)
            guard form == -0x20 else { throw malformed("malformed functype", at: at) }
            let paramCount = try readCount(&r, limit: Self.maxParams)
            var params: [ValueType] = []
            params.reserveCapacity(paramCount)
            for _ in 0..<paramCount { params.append(try r.readValueType(typed: typed)) }
            let resultCount = try readCount(&r, limit: Self.maxParams)
            var results: [ValueType] = []
            for _ in 0..<resultCount { results.append(try r.readValueType(typed: typed)) }
            info.types.append(FuncType(params: params, results: results))
        }
    }

    /// Limits and whether they have a 64-bit index type. Wasm 2.0: a 1-bit flag (0 = min only,
    /// 1 = min and max) and u32 bounds. With memory64 (Wasm 3.0): a flag byte (bit 0: max
    /// present, bit 2: 64-bit index type; any other bit is malformed) and u64 bounds, checked
    /// against the index type by validation.
    private mutating func readLimits(_ r: inout BinaryReader) throws(WasmError) -> (Limits, is64: Bool) {
        guard features.contains(.memory64) else {
            let flags = try r.readUnsignedLEB(bits: 1)
            let min = UInt64(try r.readU32())
            if flags == 0 { return (Limits(min: min, max: nil), false) }
            return (Limits(min: min, max: UInt64(try r.readU32())), false)
        }
        let at = r.position
        let flags = try r.readByte()
        guard flags & ~0x05 == 0 else { throw malformed("malformed limits flags", at: at) }
        let min = try r.readU64()
        let max = flags & 1 != 0 ? try r.readU64() : nil
        return (Limits(min: min, max: max), flags & 4 != 0)
    }

    private mutating func readMemoryType(_ r: inout BinaryReader) throws(WasmError) -> MemoryType {
        let (limits, is64) = try readLimits(&r)
        return MemoryType(limits: limits, is64: is64)
    }

    private mutating func readTableType(_ r: inout BinaryReader) throws(WasmError) -> TableType {
        let element = try r.readRefType(typed: typed)
        let (limits, is64) = try readLimits(&r)
        return TableType(element: element, limits: limits, is64: is64)
    }

    private mutating func readGlobalType(_ r: inout BinaryReader) throws(WasmError) -> GlobalType {
        let value = try r.readValueType(typed: typed)
        let at = r.position
        let m = try r.readByte()
        guard m <= 1 else { throw malformed("malformed mutability", at: at) }
        return GlobalType(value: value, mutable: m == 1)
    }

    private mutating func decodeImports(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        for _ in 0..<count {
            let entryOffset = r.position
            let module = try r.readName()
            let name = try r.readName()
            let at = r.position
            let kind = try r.readByte()
            let descriptor: ImportDescriptor
            switch kind {
            case 0:
                let t = try r.readU32()
                descriptor = .function(typeIndex: t)
                info.importedFunctionTypes.append(t)
            case 1:
                let t = try readTableType(&r)
                descriptor = .table(t)
                info.importedTables.append(t)
            case 2:
                let m = try readMemoryType(&r)
                descriptor = .memory(m)
                info.importedMemories.append(m)
            case 3:
                let g = try readGlobalType(&r)
                descriptor = .global(g)
                info.importedGlobals.append(g)
            case 4 where features.contains(.exceptionHandling):
                let t = try readTagType(&r)
                descriptor = .tag(typeIndex: t)
                info.importedTags.append(t)
            default:
                throw malformed("malformed import kind", at: at)
            }
            info.imports.append(Import(module: module, name: name, descriptor: descriptor, offset: entryOffset))
        }
    }

    private mutating func decodeFunctions(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        info.functionTypeIndices.reserveCapacity(count)
        for _ in 0..<count {
            info.functionOffsets.append(r.position)
            info.functionTypeIndices.append(try r.readU32())
        }
    }

    private mutating func decodeTables(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: 100_000)
        for _ in 0..<count {
            info.tableOffsets.append(r.position)
            // Typed function references: `0x40 0x00 tabletype expr`, a table whose elements
            // start as the expression's value (non-nullable element types need one).
            if typed, !r.isAtEnd, r.bytes[r.position] == 0x40 {
                r.position += 1
                let at = r.position
                guard try r.readByte() == 0 else { throw malformed("malformed table", at: at) }
                info.tables.append(try readTableType(&r))
                info.tableInitializers.append(try readConstExpr(&r))
            } else {
                info.tables.append(try readTableType(&r))
                info.tableInitializers.append(nil)
            }
        }
    }

    /// A tag type: an attribute byte (0: exception) and a function type index.
    private mutating func readTagType(_ r: inout BinaryReader) throws(WasmError) -> UInt32 {
        let at = r.position
        guard try r.readByte() == 0 else { throw malformed("malformed tag attribute", at: at) }
        return try r.readU32()
    }

    private mutating func decodeTags(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: 100_000)
        for _ in 0..<count {
            info.tagOffsets.append(r.position)
            info.tags.append(try readTagType(&r))
        }
    }

    private mutating func decodeMemories(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: 100_000)
        for _ in 0..<count {
            info.memoryOffsets.append(r.position)
            info.memories.append(try readMemoryType(&r))
        }
    }

    private mutating func decodeGlobals(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        for _ in 0..<count {
            let entryOffset = r.position
            let type = try readGlobalType(&r)
            let initializer = try readConstExpr(&r)
            info.globals.append(GlobalDefinition(type: type, initializer: initializer, offset: entryOffset))
        }
    }

    private mutating func decodeExports(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        for _ in 0..<count {
            let entryOffset = r.position
            let name = try r.readName()
            let at = r.position
            let kindByte = try r.readByte()
            guard let kind = ExternalKind(rawValue: kindByte), kind != .tag || features.contains(.exceptionHandling) else {
                throw malformed("malformed export kind", at: at)
            }
            let index = try r.readU32()
            info.exports.append(Export(name: name, kind: kind, index: index, offset: entryOffset))
        }
    }

    /// Reads a constant expression: the instructions constant expressions may hold, as a tree
    /// (extended constant expressions' add/sub/mul take the two values before them; whether
    /// the module may use them, and the operand types, are the validator's to check). Anything
    /// else is "constant expression required" (invalid); no value or several: type mismatch.
    mutating func readConstExpr(_ r: inout BinaryReader) throws(WasmError) -> ConstExpr {
        var stack: [ConstExpr] = []
        while true {
            let at = r.position
            guard !r.isAtEnd else { throw malformed("unexpected end", at: at) }
            guard at < sectionEnd else { throw malformed("unexpected end of section or function", at: at) }
            let op = try r.readByte()
            switch op {
            case 0x41: stack.append(.i32(try r.readS32()))
            case 0x42: stack.append(.i64(try r.readS64()))
            case 0x43: stack.append(.f32(try r.readF32Bits()))
            case 0x44: stack.append(.f64(try r.readF64Bits()))
            case 0xD0: stack.append(.refNull(try r.readNullType(typed: typed)))
            case 0xD2: stack.append(.refFunc(try r.readU32()))
            case 0x23: stack.append(.globalGet(try r.readU32()))
            case 0xFD:
                let sub = try r.readU32()
                guard sub == 12 else { throw WasmError(.invalid, "constant expression required", offset: at) }
                let lo = try r.readF64Bits()
                let hi = try r.readF64Bits()
                stack.append(.v128(lo, hi))
            case 0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E:
                guard stack.count >= 2 else { throw WasmError(.invalid, "type mismatch", offset: at) }
                let b = stack.removeLast(), a = stack.removeLast()
                stack.append(.binary(ConstOperator(rawValue: op)!, a, b))
            case 0x0B:
                guard stack.count == 1 else { throw WasmError(.invalid, "type mismatch", offset: at) }
                return stack[0]
            default:
                throw Self.nonConstant(op, at: at)
            }
        }
    }

    /// An instruction that may not appear in a constant expression: "illegal opcode" when the
    /// byte is no Wasm 2.0 opcode at all (malformed), else "constant expression required".
    static func nonConstant(_ op: UInt8, at: Int) -> WasmError {
        switch op {
        case 0x06...0x0A, 0x12...0x19, 0x1D...0x1F, 0x27, 0xC5...0xCF, 0xD3...0xFB, 0xFE, 0xFF:
            return WasmError(.malformed, "illegal opcode", offset: at)
        default:
            return WasmError(.invalid, "constant expression required", offset: at)
        }
    }

    private mutating func decodeElements(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        for _ in 0..<count {
            let at = r.position
            let flags = try r.readU32()
            guard flags <= 7 else { throw malformed("malformed elements segment kind", at: at) }
            var mode: SegmentMode
            // Function indices (no expressions) are non-null function references (Wasm 3.0;
            // a subtype of Wasm 2.0's funcref, which this is in Wasm 2.0).
            var type: ValueType = flags & 4 != 0 ? .funcref : .ref(.func, nullable: false)
            var items: [ConstExpr] = []
            let usesExpressions = flags & 4 != 0
            if flags & 1 == 0 {
                // Active.
                let table: UInt32 = flags & 2 != 0 ? try r.readU32() : 0
                let offset = try readConstExpr(&r)
                mode = .active(index: table, offset: offset)
            } else {
                mode = flags & 2 != 0 ? .declarative : .passive
            }
            if flags & 3 != 0 {
                // Explicit element kind or reference type.
                if usesExpressions {
                    type = try r.readRefType(typed: typed)
                } else {
                    let kAt = r.position
                    let kind = try r.readByte()
                    guard kind == 0 else { throw malformed("malformed element kind", at: kAt) }
                }
            }
            let n = try readCount(&r, limit: Self.maxSegmentItems)
            items.reserveCapacity(n)
            for _ in 0..<n {
                if usesExpressions {
                    items.append(try readConstExpr(&r))
                } else {
                    items.append(.refFunc(try r.readU32()))
                }
            }
            info.elements.append(ElementSegment(type: type, mode: mode, items: items, offset: at))
        }
    }

    /// Records each body's extent; its locals are decoded (and checked) later by `decodeLocals`,
    /// and only for bodies that are validated (not for those whose code comes from the code
    /// cache). Until then `codeStart` is where the local declarations start.
    private mutating func decodeCode(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        info.bodies.reserveCapacity(count)
        if let known = knownBodies, let end = Self.appendKnownBodies(known, count: count, from: r.position, to: sectionEnd, into: &info.bodies) {
            r.position = end
            return
        }
        for _ in 0..<count {
            let bodyOffset = r.position
            let size = try r.readLength()
            let end = r.position + size
            info.bodies.append(FunctionBody(locals: [], localsStart: r.position, codeStart: r.position, codeEnd: end, bodyOffset: bodyOffset))
            r.position = end
        }
    }

    /// Appends the bodies `known` describes when they are `count` bodies that partition
    /// `start..<end` in order (each: offset, then a size field of 1-5 bytes, then its bytes);
    /// the end, or nil (nothing appended) when they do not.
    static func appendKnownBodies(
        _ known: UnsafeRawBufferPointer, count: Int, from start: Int, to end: Int, into bodies: inout [FunctionBody]
    ) -> Int? {
        guard known.count == 12 * count else { return nil }
        let first = bodies.count
        var at = start
        for i in 0..<count {
            let offset = Int(UInt32(littleEndian: known.loadUnaligned(fromByteOffset: 12 * i, as: UInt32.self)))
            let locals = Int(UInt32(littleEndian: known.loadUnaligned(fromByteOffset: 12 * i + 4, as: UInt32.self)))
            let codeEnd = Int(UInt32(littleEndian: known.loadUnaligned(fromByteOffset: 12 * i + 8, as: UInt32.self)))
            guard offset == at, locals > offset, locals - offset <= 5, codeEnd >= locals, codeEnd <= end else {
                bodies.removeSubrange(first...)
                return nil
            }
            bodies.append(FunctionBody(locals: [], localsStart: locals, codeStart: locals, codeEnd: codeEnd, bodyOffset: offset))
            at = codeEnd
        }
        guard at == end else {
            bodies.removeSubrange(first...)
            return nil
        }
        return at
    }

    private static func readLocals(_ r: inout BinaryReader, typed: Bool, _ each: (Int, ValueType) -> Void) throws(WasmError) {
        let groups = try r.readU32()
        var total = 0
        for _ in 0..<groups {
            let n = Int(try r.readU32())
            total += n
            if total > maxLocals { throw WasmError(.malformed, "too many locals", offset: r.position) }
            each(n, try r.readValueType(typed: typed))
        }
    }

    /// `body` with its locals (the code section recorded only where they are).
    /// `typed`: the module may use typed function references (a body validated before may be
    /// decoded again with the default).
    static func decodeLocals(_ bytes: UnsafeBufferPointer<UInt8>, _ body: FunctionBody, typed: Bool = true) throws(WasmError) -> FunctionBody {
        var r = BinaryReader(bytes: bytes, position: body.localsStart, end: body.codeEnd)
        var result = body
        try readLocals(&r, typed: typed) { n, t in result.locals.append(contentsOf: repeatElement(t, count: n)) }
        result.codeStart = r.position
        return result
    }

    private mutating func decodeData(_ r: inout BinaryReader) throws(WasmError) {
        let count = try readCount(&r, limit: Self.maxFunctions)
        for _ in 0..<count {
            let at = r.position
            let flags = try r.readU32()
            let mode: SegmentMode
            switch flags {
            case 0: mode = .active(index: 0, offset: try readConstExpr(&r))
            case 1: mode = .passive
            case 2:
                let memory = try r.readU32()
                mode = .active(index: memory, offset: try readConstExpr(&r))
            default: throw malformed("malformed data segment kind", at: at)
            }
            let length = try r.readLength()
            let start = r.position
            _ = try r.readBytes(length)
            info.data.append(DataSegment(mode: mode, bytes: start..<(start + length), offset: at))
        }
    }
}

extension WasmError {
    func with(message: String) -> WasmError {
        var e = self
        e.message = message
        return e
    }
}
