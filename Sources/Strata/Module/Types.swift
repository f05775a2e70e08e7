/// The heap type of a reference type: an abstract type or a function type. Wasm 3.0 with
/// typed function references; the GC proposal's abstract types (any, eq, i31, struct, array,
/// none) are not supported yet.
///
/// A concrete heap type names a function type in one of two ways: in a module's types and
/// code, by its index in that module's type section (`concrete(_:)`); in the types of runtime
/// objects (functions, globals, tables, tags of a store), by its engine-wide canonical id, so
/// types from different modules compare directly (two structurally equal function types have
/// one id, per iso-recursive type equivalence).
public struct HeapType: Sendable, Hashable, CustomStringConvertible {
    /// 24 bits. Abstract types: `abstractBase | binary code`; module type index `n`: `n`;
    /// canonical id `n`: `canonicalFlag | n`; in the engine's type registry only, a reference to
    /// the type being defined (its own recursion group): `recursiveFlag | position in the group`.
    let raw: UInt32

    static let canonicalFlag: UInt32 = 0x40_0000
    static let recursiveFlag: UInt32 = 0x20_0000
    static let abstractBase: UInt32 = 0xFF_FF00
    /// The largest type index or canonical id a heap type holds.
    static let maxIndex: UInt32 = recursiveFlag - 1

    init(raw: UInt32) { self.raw = raw }

    // Computed, not stored statics: these are used on hot validation paths, where a stored
    // static would cost a lazy-initialization check per use.
    public static var `func`: HeapType { HeapType(raw: abstractBase | 0x70) }
    public static var extern: HeapType { HeapType(raw: abstractBase | 0x6F) }
    public static var exn: HeapType { HeapType(raw: abstractBase | 0x69) }
    /// The bottom types of the three families: only null references have them.
    public static var noFunc: HeapType { HeapType(raw: abstractBase | 0x73) }
    public static var noExtern: HeapType { HeapType(raw: abstractBase | 0x72) }
    public static var noExn: HeapType { HeapType(raw: abstractBase | 0x74) }

    /// The function type at `typeIndex` of the module's type section.
    public static func concrete(_ typeIndex: UInt32) -> HeapType { HeapType(raw: typeIndex) }
    /// The function type with engine-wide canonical id `id`.
    static func canonical(_ id: UInt32) -> HeapType { HeapType(raw: canonicalFlag | id) }

    /// The heap type of a binary code (the one-byte abstract forms), or nil.
    static func abstract(code: UInt8) -> HeapType? {
        switch code {
        case 0x70, 0x6F, 0x69, 0x73, 0x72, 0x74: HeapType(raw: abstractBase | UInt32(code))
        default: nil
        }
    }

    var isAbstract: Bool { raw >= Self.abstractBase }
    /// A module type index (types in modules and code).
    public var typeIndex: UInt32? { raw < Self.recursiveFlag ? raw : nil }
    /// An engine-wide canonical type id (types of runtime objects).
    var canonicalID: UInt32? { !isAbstract && raw & Self.canonicalFlag != 0 ? raw & ~Self.canonicalFlag : nil }
    /// A function type of any form (index, canonical id, recursive reference).
    var isConcrete: Bool { !isAbstract }

    /// The family's top type, which decides the runtime representation: func, extern or exn.
    public var top: HeapType {
        switch self {
        case .extern, .noExtern: .extern
        case .exn, .noExn: .exn
        default: .func
        }
    }

    public var description: String {
        switch self {
        case .func: "func"
        case .extern: "extern"
        case .exn: "exn"
        case .noFunc: "nofunc"
        case .noExtern: "noextern"
        case .noExn: "noexn"
        default:
            if let i = typeIndex { "\(i)" }
            else if let id = canonicalID { "canon \(id)" }
            else { "rec \(raw & ~Self.recursiveFlag)" }
        }
    }
}

/// A Wasm value type: a number, v128, or a reference type (nullable or not, with its heap type).
/// One 32-bit word, so comparing two types (validation's most frequent operation) is one
/// integer compare.
public struct ValueType: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable {
        case i32, i64, f32, f64, v128, ref
    }
    /// Bits 0-7: the binary code (0x7F...0x7B numbers and v128; 0x63 a nullable reference,
    /// 0x64 a non-null one); bits 8-31: a reference's heap type (`HeapType.raw`).
    let bits: UInt32

    init(bits: UInt32) { self.bits = bits }

    public static var i32: ValueType { ValueType(bits: 0x7F) }
    public static var i64: ValueType { ValueType(bits: 0x7E) }
    public static var f32: ValueType { ValueType(bits: 0x7D) }
    public static var f64: ValueType { ValueType(bits: 0x7C) }
    public static var v128: ValueType { ValueType(bits: 0x7B) }
    /// `(ref null func)`.
    public static var funcref: ValueType { .ref(.func, nullable: true) }
    /// `(ref null extern)`.
    public static var externref: ValueType { .ref(.extern, nullable: true) }
    /// A reference to a caught exception (exception handling; `(ref null exn)`).
    public static var exnref: ValueType { .ref(.exn, nullable: true) }

    /// The validator's "unknown" type of values popped from the polymorphic stack of
    /// unreachable code (no value has it).
    static var unknown: ValueType { ValueType(bits: 0) }

    /// A reference type.
    public static func ref(_ heapType: HeapType, nullable: Bool) -> ValueType {
        ValueType(bits: (nullable ? 0x63 : 0x64) | heapType.raw << 8)
    }

    /// The one-byte binary codes of the number, vector and abbreviated reference types.
    static func shorthand(code: UInt8) -> ValueType? {
        switch code {
        case 0x7B...0x7F: ValueType(bits: UInt32(code))
        default: HeapType.abstract(code: code).map { .ref($0, nullable: true) }
        }
    }

    private var code: UInt32 { bits & 0xFF }
    public var kind: Kind {
        switch code {
        case 0x7F: .i32
        case 0x7E: .i64
        case 0x7D: .f32
        case 0x7C: .f64
        case 0x7B: .v128
        default: .ref
        }
    }
    /// References only: whether null is a value of the type.
    public var nullable: Bool { code == 0x63 }
    /// References only: the heap type.
    public var heapType: HeapType { HeapType(raw: bits >> 8) }

    public var isReference: Bool { code < 0x7B }
    public var isNumeric: Bool { code > 0x7B }
    /// Whether locals of the type start with a default value (all but non-nullable references).
    public var isDefaultable: Bool { code != 0x64 }

    /// The same type with `map` applied to a concrete heap type.
    func mapHeapType(_ map: (HeapType) -> HeapType) -> ValueType {
        isReference && heapType.isConcrete ? .ref(map(heapType), nullable: nullable) : self
    }

    public var description: String {
        switch kind {
        case .i32: return "i32"
        case .i64: return "i64"
        case .f32: return "f32"
        case .f64: return "f64"
        case .v128: return "v128"
        case .ref:
            if nullable && heapType.isAbstract {
                switch heapType {
                case .func: return "funcref"
                case .extern: return "externref"
                case .exn: return "exnref"
                case .noFunc: return "nullfuncref"
                case .noExtern: return "nullexternref"
                case .noExn: return "nullexnref"
                default: break
                }
            }
            return "(ref \(nullable ? "null " : "")\(heapType))"
        }
    }
}

/// A function signature.
public struct FuncType: Sendable, Hashable, CustomStringConvertible {
    public var params: [ValueType]
    public var results: [ValueType]
    public init(params: [ValueType], results: [ValueType]) {
        self.params = params
        self.results = results
    }
    public var description: String {
        "(\(params.map(\.description).joined(separator: " "))) -> (\(results.map(\.description).joined(separator: " ")))"
    }
}

/// Size limits of a memory (in 64 KiB pages) or a table (in elements).
public struct Limits: Sendable, Hashable {
    public var min: UInt64
    public var max: UInt64?
    public init(min: UInt64, max: UInt64?) {
        self.min = min
        self.max = max
    }
}

public struct TableType: Sendable, Hashable {
    public var element: ValueType
    public var limits: Limits
    /// A 64-bit table (table64, part of memory64): indices and sizes are i64.
    public var is64: Bool
    public init(element: ValueType, limits: Limits, is64: Bool = false) {
        self.element = element
        self.limits = limits
        self.is64 = is64
    }
    /// The type of an index into this table (and of `table.size`, `table.grow`).
    public var indexType: ValueType { is64 ? .i64 : .i32 }
}

public struct MemoryType: Sendable, Hashable {
    public var limits: Limits
    /// A 64-bit memory (memory64): addresses, sizes and offsets are i64.
    public var is64: Bool
    public init(limits: Limits, is64: Bool = false) {
        self.limits = limits
        self.is64 = is64
    }
    /// The type of an address into this memory (and of `memory.size`, `memory.grow`).
    public var addressType: ValueType { is64 ? .i64 : .i32 }
    /// The largest number of pages the memory type allows.
    public var maxPagesAllowed: UInt64 { is64 ? maxMemoryPages64 : maxMemoryPages32 }
}

public struct GlobalType: Sendable, Hashable {
    public var value: ValueType
    public var mutable: Bool
    public init(value: ValueType, mutable: Bool) {
        self.value = value
        self.mutable = mutable
    }
}

/// What an import or export refers to.
public enum ExternalKind: UInt8, Sendable {
    case function = 0, table = 1, memory = 2, global = 3, tag = 4

    var name: String {
        switch self {
        case .function: "function"
        case .table: "table"
        case .memory: "memory"
        case .global: "global"
        case .tag: "tag"
        }
    }
}

/// The block type of `block`, `loop` and `if`.
public enum BlockType: Sendable, Hashable {
    case empty
    case value(ValueType)
    case typeIndex(UInt32)
}

/// Wasm page size.
public let wasmPageSize: UInt64 = 65536
/// The largest number of pages a 32-bit memory can have.
public let maxMemoryPages32: UInt64 = 65536
/// The largest number of pages a 64-bit memory type can declare (2^48: 2^64 bytes).
public let maxMemoryPages64: UInt64 = 1 << 48
