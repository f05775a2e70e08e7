/// Wasm value types (Wasm 2.0: numbers, v128, funcref, externref).
public enum ValueType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case i32 = 0x7F
    case i64 = 0x7E
    case f32 = 0x7D
    case f64 = 0x7C
    case v128 = 0x7B
    case funcref = 0x70
    case externref = 0x6F
    /// A reference to a caught exception (exception handling; `(ref null exn)`).
    case exnref = 0x69

    public var isReference: Bool { self == .funcref || self == .externref || self == .exnref }
    public var isNumeric: Bool { !isReference && self != .v128 }

    public var description: String {
        switch self {
        case .i32: "i32"
        case .i64: "i64"
        case .f32: "f32"
        case .f64: "f64"
        case .v128: "v128"
        case .funcref: "funcref"
        case .externref: "externref"
        case .exnref: "exnref"
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
