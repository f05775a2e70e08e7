/// The decoded contents of a module binary: what the decoder produces and the validator,
/// the runtime and every tier read. Immutable once built.

public struct Import: Sendable {
    public var module: String
    public var name: String
    public var descriptor: ImportDescriptor
    /// Byte offset of the entry in the module binary.
    public var offset: Int = 0
}

public enum ImportDescriptor: Sendable {
    case function(typeIndex: UInt32)
    case table(TableType)
    case memory(MemoryType)
    case global(GlobalType)
    /// An exception tag of this function type (its results are empty).
    case tag(typeIndex: UInt32)

    var kind: ExternalKind {
        switch self {
        case .function: .function
        case .table: .table
        case .memory: .memory
        case .global: .global
        case .tag: .tag
        }
    }
}

public struct Export: Sendable {
    public var name: String
    public var kind: ExternalKind
    public var index: UInt32
    /// Byte offset of the entry in the module binary.
    public var offset: Int = 0
}

/// A constant expression: one instruction before `end`, or (extended constant expressions)
/// integer add/sub/mul trees over them.
public enum ConstExpr: Sendable, Equatable {
    case i32(Int32)
    case i64(Int64)
    case f32(UInt32)
    case f64(UInt64)
    case v128(UInt64, UInt64)
    case refNull(ValueType)
    case refFunc(UInt32)
    case globalGet(UInt32)
    indirect case binary(ConstOperator, ConstExpr, ConstExpr)
}

/// The arithmetic extended constant expressions allow (the instructions' opcodes).
public enum ConstOperator: UInt8, Sendable {
    case i32Add = 0x6A, i32Sub = 0x6B, i32Mul = 0x6C
    case i64Add = 0x7C, i64Sub = 0x7D, i64Mul = 0x7E

    var type: ValueType { rawValue < 0x70 ? .i32 : .i64 }

    func apply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let r: UInt64 = switch self {
        case .i32Add, .i64Add: a &+ b
        case .i32Sub, .i64Sub: a &- b
        case .i32Mul, .i64Mul: a &* b
        }
        return type == .i32 ? r & 0xFFFF_FFFF : r
    }
}

struct GlobalDefinition: Sendable {
    var type: GlobalType
    var initializer: ConstExpr
    var offset: Int = 0
}

enum SegmentMode: Sendable {
    case passive
    case active(index: UInt32, offset: ConstExpr)
    case declarative
}

struct ElementSegment: Sendable {
    var type: ValueType
    var mode: SegmentMode
    var items: [ConstExpr]
    var offset: Int = 0
}

struct DataSegment: Sendable {
    var mode: SegmentMode
    /// Where the segment's bytes lie in the module binary (not copied: `memory.init` and
    /// instantiation copy from the module's bytes straight into memory).
    var bytes: Range<Int>
    var offset: Int = 0
}

/// A function body as found in the code section: local declarations and the byte range of
/// its instructions (up to and including the final `end`).
struct FunctionBody: Sendable {
    /// Declared locals (filled in by `ModuleDecoder.decodeLocals` for bodies that are validated).
    var locals: [ValueType]
    /// Where the local declarations start within the module binary.
    var localsStart: Int
    /// Range of instruction bytes within the module binary.
    var codeStart: Int
    var codeEnd: Int
    /// Offset of the body's size field (where "function offsets" in backtraces count from).
    var bodyOffset: Int
}

/// A custom section: its name and where its payload lies in the module's bytes (not copied:
/// debug information can be most of a module, and nothing reads it at creation).
struct CustomSection: Sendable {
    var name: String
    var payload: Range<Int>
}

struct ModuleInfo: Sendable {
    var types: [FuncType] = []
    var imports: [Import] = []
    /// Type index of each defined (non-imported) function.
    var functionTypeIndices: [UInt32] = []
    var tables: [TableType] = []
    /// Per defined table, the initializer of its elements (typed function references), or nil:
    /// null.
    var tableInitializers: [ConstExpr?] = []
    var memories: [MemoryType] = []
    var globals: [GlobalDefinition] = []
    var exports: [Export] = []
    var start: UInt32?
    /// Byte offsets of entries, for errors: function-section entries, tables, memories, start.
    var functionOffsets: [Int] = []
    var tableOffsets: [Int] = []
    var memoryOffsets: [Int] = []
    var startOffset = 0
    /// Type index of each defined tag, and the entries' offsets.
    var tags: [UInt32] = []
    var tagOffsets: [Int] = []
    var elements: [ElementSegment] = []
    var dataCount: UInt32?
    var data: [DataSegment] = []
    var bodies: [FunctionBody] = []
    var customSections: [CustomSection] = []
    var functionNames = FunctionNames()
    var moduleName: String?

    // Index spaces, imports first.
    var importedFunctionTypes: [UInt32] = []
    var importedTables: [TableType] = []
    var importedMemories: [MemoryType] = []
    var importedGlobals: [GlobalType] = []
    var importedTags: [UInt32] = []

    var functionCount: Int { importedFunctionTypes.count + functionTypeIndices.count }
    var tableCount: Int { importedTables.count + tables.count }
    var memoryCount: Int { importedMemories.count + memories.count }
    var globalCount: Int { importedGlobals.count + globals.count }
    var tagCount: Int { importedTags.count + tags.count }

    func functionTypeIndex(_ index: Int) -> UInt32 {
        index < importedFunctionTypes.count
            ? importedFunctionTypes[index] : functionTypeIndices[index - importedFunctionTypes.count]
    }
    func functionType(_ index: Int) -> FuncType { types[Int(functionTypeIndex(index))] }
    func tableType(_ index: Int) -> TableType {
        index < importedTables.count ? importedTables[index] : tables[index - importedTables.count]
    }
    func memoryType(_ index: Int) -> MemoryType {
        index < importedMemories.count ? importedMemories[index] : memories[index - importedMemories.count]
    }
    func globalType(_ index: Int) -> GlobalType {
        index < importedGlobals.count ? importedGlobals[index] : globals[index - importedGlobals.count].type
    }
}

/// Function names from the `name` section, decoded one at a time when asked for (backtraces,
/// tier logs, profilers): module creation only keeps the subsection's bytes, and the first
/// lookup only indexes where each entry's name starts. (Decoding every name at once made the
/// first trap of a program with 46,000 long C++ names cost 16 ms and 20 MB.)
final class FunctionNames: @unchecked Sendable {
    /// The bytes the subsection lies in (the module's own, not a copy), and where.
    private let bytes: SharedBytes
    private let range: Range<Int>
    /// (function index, byte offset of its name in the subsection) in increasing index order,
    /// built on first use; empty when the map is malformed (truncated, bad LEB128s, indices out
    /// of order).
    private let entries = Locked<[(index: UInt32, offset: UInt32)]?>(nil)

    /// The function-name subsection at `range` of `bytes`.
    init(_ bytes: SharedBytes, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        self.bytes = bytes
        self.range = range
    }

    convenience init(subsection: [UInt8] = []) { self.init(SharedBytes(subsection), range: 0..<subsection.count) }

    private func withSubsection<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withExtendedLifetime(bytes) { body(UnsafeBufferPointer(rebasing: bytes.buffer[range])) }
    }

    /// The name of function `index`; nil when the map has none for it or that name is not
    /// valid UTF-8.
    subscript(index: UInt32) -> String? {
        let offset: UInt32? = entries.withLock { table in
            if table == nil { table = withSubsection(Self.index) }
            let list = table!
            var lo = 0, hi = list.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if list[mid].index < index { lo = mid + 1 } else { hi = mid }
            }
            return lo < list.count && list[lo].index == index ? list[lo].offset : nil
        }
        guard let offset else { return nil }
        return withSubsection { buffer in
            var r = BinaryReader(bytes: buffer, position: Int(offset))
            return try? r.readName()
        }
    }

    /// Where each entry's name starts. The spec orders a name map by increasing index; a map
    /// that is not so ordered, or is cut short, yields no names.
    static func index(_ buffer: UnsafeBufferPointer<UInt8>) -> [(index: UInt32, offset: UInt32)] {
        var r = BinaryReader(bytes: buffer)
        var list: [(index: UInt32, offset: UInt32)] = []
        do {
            guard !r.isAtEnd else { return [] }
            let count = try r.readU32()
            list.reserveCapacity(min(Int(count), buffer.count / 2))
            for _ in 0..<count {
                let index = try r.readU32()
                if let last = list.last, last.index >= index { return [] }
                list.append((index, UInt32(r.position)))
                _ = try r.readBytes(try r.readLength())
            }
        } catch {
            return []
        }
        return list
    }
}
