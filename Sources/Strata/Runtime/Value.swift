/// A 128-bit vector value: `lo` holds bytes 0-7 (little-endian lane order), `hi` bytes 8-15.
public struct V128: Sendable, Hashable, CustomStringConvertible {
    public var lo: UInt64
    public var hi: UInt64
    public init(lo: UInt64, hi: UInt64) {
        self.lo = lo
        self.hi = hi
    }
    /// From 16 bytes in memory order; nil for another count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var lo: UInt64 = 0, hi: UInt64 = 0
        for i in 0..<8 {
            lo |= UInt64(bytes[i]) << UInt64(8 * i)
            hi |= UInt64(bytes[8 + i]) << UInt64(8 * i)
        }
        self.init(lo: lo, hi: hi)
    }
    /// The 16 bytes in memory order.
    public var bytes: [UInt8] {
        (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? lo : hi) >> UInt64(8 * (i % 8))) }
    }
    public var description: String {
        "0x" + bytes.reversed().map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

/// A Wasm value as the embedding API sees it.
public enum Value: Sendable, Equatable, CustomStringConvertible {
    case i32(Int32)
    case i64(Int64)
    /// Floats keep their bit patterns (NaN payloads included) through the API.
    case f32(Float)
    case f64(Double)
    case v128(V128)
    case funcref(Function?)
    /// An external reference: any 64-bit host value, or nil.
    case externref(UInt64?)
    /// A caught exception (exception handling), or nil.
    case exnref(Exception?)

    public var type: ValueType {
        switch self {
        case .i32: .i32
        case .i64: .i64
        case .f32: .f32
        case .f64: .f64
        case .v128: .v128
        case .funcref: .funcref
        case .externref: .externref
        case .exnref: .exnref
        }
    }

    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.i32(let x), .i32(let y)): x == y
        case (.i64(let x), .i64(let y)): x == y
        case (.f32(let x), .f32(let y)): x.bitPattern == y.bitPattern
        case (.f64(let x), .f64(let y)): x.bitPattern == y.bitPattern
        case (.v128(let x), .v128(let y)): x == y
        case (.funcref(let x), .funcref(let y)): x?.reference == y?.reference
        case (.externref(let x), .externref(let y)): x == y
        case (.exnref(let x), .exnref(let y)): x === y
        default: false
        }
    }

    public var description: String {
        switch self {
        case .i32(let v): "i32:\(v)"
        case .i64(let v): "i64:\(v)"
        case .f32(let v): "f32:\(v)"
        case .f64(let v): "f64:\(v)"
        case .v128(let v): "v128:\(v)"
        case .funcref(let f): f.map { "funcref:\($0.reference)" } ?? "funcref:null"
        case .externref(let e): e.map { "externref:\($0)" } ?? "externref:null"
        case .exnref(let e): e.map { "exnref:\($0)" } ?? "exnref:null"
        }
    }

    /// Writes the value into a 16-byte slot (two words) of the slot encoding every tier uses.
    func store(to p: UnsafeMutablePointer<Slot>) {
        if case .v128(let v) = self {
            p[0] = v.lo
            p[1] = v.hi
        } else {
            p[0] = slot()
            p[1] = 0
        }
    }

    /// Reads a value of type `type` from a 16-byte slot.
    static func load(from p: UnsafePointer<Slot>, type: ValueType, store: Store?) -> Value {
        type == .v128 ? .v128(V128(lo: p[0], hi: p[1])) : fromSlot(p[0], type: type, store: store)
    }

    /// The low word of the slot encoding (everything but v128 fits in it).
    func slot() -> Slot {
        switch self {
        case .i32(let v): UInt64(UInt32(bitPattern: v))
        case .i64(let v): UInt64(bitPattern: v)
        case .f32(let v): UInt64(v.bitPattern)
        case .f64(let v): v.bitPattern
        case .v128(let v): v.lo
        case .funcref(let f): f.map { UInt64(UInt(bitPattern: $0.reference)) } ?? 0
        // Extern references are stored offset by one so that 0 stays null.
        case .externref(let e): e.map { $0 &+ 1 } ?? 0
        case .exnref(let e): e?.reference ?? 0
        }
    }

    static func fromSlot(_ s: Slot, type: ValueType, store: Store?) -> Value {
        switch type.kind {
        case .i32: return .i32(Int32(bitPattern: UInt32(truncatingIfNeeded: s)))
        case .i64: return .i64(Int64(bitPattern: s))
        case .f32: return .f32(Float(bitPattern: UInt32(truncatingIfNeeded: s)))
        case .f64: return .f64(Double(bitPattern: s))
        case .v128: return .v128(V128(lo: s, hi: 0))  // callers with a whole slot use load(from:)
        case .ref:
            switch type.heapType.top {
            case .extern: return .externref(s == 0 ? nil : s &- 1)
            case .exn: return .exnref(Exception.from(reference: s))
            default:
                return .funcref(store.flatMap { store in
                    UnsafeMutablePointer<StrataFuncRefAlias>(bitPattern: UInt(s)).map { Function(store: store, reference: $0) }
                })
            }
        }
    }

    /// The default (zero) value of a type (null for references).
    public static func zero(_ t: ValueType) -> Value {
        fromSlot(0, type: t, store: nil)
    }

    /// Whether the value is one of type `t` (types of runtime objects: concrete heap types
    /// are canonical ids). A function reference has the canonical type of its function.
    func matches(_ t: ValueType) -> Bool {
        switch (self, t.kind) {
        case (.i32, .i32), (.i64, .i64), (.f32, .f32), (.f64, .f64), (.v128, .v128): return true
        case (.funcref(let f), .ref):
            guard let f else { return t.nullable && t.heapType.top == .func }
            return ValueType.ref(.canonical(f.reference.pointee.typeID), nullable: false).matches(t)
        case (.externref(let e), .ref):
            return t.heapType.top == .extern && (e == nil ? t.nullable : t.heapType == .extern)
        case (.exnref(let e), .ref):
            return t.heapType.top == .exn && (e == nil ? t.nullable : t.heapType == .exn)
        default: return false
        }
    }
}

extension Value {
    public var i32: Int32? { if case .i32(let v) = self { v } else { nil } }
    public var i64: Int64? { if case .i64(let v) = self { v } else { nil } }
    public var f32: Float? { if case .f32(let v) = self { v } else { nil } }
    public var f64: Double? { if case .f64(let v) = self { v } else { nil } }
    public var v128: V128? { if case .v128(let v) = self { v } else { nil } }
}
