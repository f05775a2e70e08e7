import CStrata

typealias StrataFuncRefAlias = StrataFuncRef

/// A table of references (slot encoding: 0 = null, funcref = pointer to its StrataFuncRef,
/// externref = host value + 1).
public final class Table: @unchecked Sendable {
    public let type: TableType
    let definition: UnsafeMutablePointer<StrataTableDefinition>
    private var capacity: Int
    /// Implementation limit on elements.
    static let maxElements: UInt64 = 10_000_000

    /// A table owned by the host (for imports); elements start null (a table of non-nullable
    /// references needs `init(type:initial:)`).
    public convenience init(type: TableType) throws(WasmError) {
        guard type.element.nullable else { throw WasmError(.usage, "a table of \(type.element) needs an initial value") }
        try self.init(type: type, initial: 0)
    }

    /// A table owned by the host whose elements start as `initial`.
    public convenience init(type: TableType, initial: Value) throws(WasmError) {
        guard initial.matches(type.element) else { throw WasmError(.usage, "type mismatch: expected \(type.element), got \(initial.type)") }
        try self.init(type: type, initial: initial.slot())
    }

    init(type: TableType, initial: Slot) throws(WasmError) {
        self.type = type
        guard type.limits.min <= Self.maxElements else { throw WasmError(.uninstantiable, "table too large") }
        let n = Int(type.limits.min)
        capacity = max(n, 1)
        let elements = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        elements.initialize(repeating: initial, count: capacity)
        definition = .allocate(capacity: 1)
        definition.initialize(to: StrataTableDefinition(elements: elements, count: UInt64(n)))
    }

    deinit {
        definition.pointee.elements.deallocate()
        definition.deallocate()
    }

    public var count: Int { Int(definition.pointee.count) }
    var elements: UnsafeMutablePointer<UInt64> { definition.pointee.elements }

    /// The element at `index` (nil when out of bounds). Function references are returned as
    /// functions of `store`, which must be the store the table belongs to.
    public func get(_ index: Int, store: Store) -> Value? {
        guard index >= 0, index < count else { return nil }
        return Value.fromSlot(elements[index], type: type.element, store: store)
    }

    /// Sets the element at `index`; fails when out of bounds or of the wrong reference type.
    public func set(_ index: Int, _ value: Value) throws(WasmError) {
        guard index >= 0, index < count else { throw WasmError(.usage, "table index \(index) out of bounds (size \(count))") }
        guard value.matches(type.element) else { throw WasmError(.usage, "type mismatch: expected \(type.element), got \(value.type)") }
        if case .exnref(let e) = value { heldExceptions[index] = e }
        elements[index] = value.slot()
    }
    /// Exceptions the host put in (the store keeps those Wasm code made).
    private var heldExceptions: [Int: Exception] = [:]

    /// Grows by `delta` elements (null); returns the old size, or nil past the maximum (or for
    /// a table of non-nullable references).
    @discardableResult
    public func grow(by delta: Int) -> Int? {
        guard delta >= 0, type.element.nullable || delta == 0 else { return nil }
        return grow(by: UInt64(delta), initial: 0).map { Int($0) }
    }

    /// Grows by `delta` elements filled with `initial`; returns the old size or nil.
    func grow(by delta: UInt64, initial: Slot) -> UInt64? {
        let old = definition.pointee.count
        let new = old + delta
        let limit = min(type.limits.max ?? UInt64(UInt32.max), Self.maxElements)
        guard new <= limit else { return nil }
        if Int(new) > capacity {
            let newCapacity = max(Int(new), capacity * 2)
            let fresh = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity)
            fresh.update(from: elements, count: Int(old))
            elements.deallocate()
            definition.pointee.elements = fresh
            capacity = newCapacity
        }
        (elements + Int(old)).update(repeating: initial, count: Int(delta))
        definition.pointee.count = new
        return old
    }
}

/// A global variable: one 64-bit cell that every instance using it points at.
public final class Global: @unchecked Sendable {
    public let type: GlobalType
    let cell: UnsafeMutablePointer<UInt64>
    /// Weak: the store owns the instances that own globals. Function references read from a
    /// global whose store is gone come back as null.
    weak var store: Store?

    /// A global owned by the host (for imports).
    public convenience init(store: Store, type: GlobalType, value: Value) throws(WasmError) {
        guard value.matches(type.value) else { throw WasmError(.usage, "type mismatch: expected \(type.value), got \(value.type)") }
        self.init(type: type, store: store)
        if case .exnref(let e) = value { heldException = e }
        value.store(to: cell)
    }
    /// An exception the host put in (the store keeps those Wasm code made).
    private var heldException: Exception?

    /// A global whose 16-byte cell starts as (low, high): a cell of its own, or `cell` in
    /// memory `owner` keeps (a defined global's, past its instance's VM context).
    init(type: GlobalType, store: Store, cell: UnsafeMutablePointer<UInt64>? = nil, owner: AnyObject? = nil, low: Slot = 0, high: Slot = 0) {
        self.type = type
        self.store = store
        self.owner = owner
        self.cell = cell ?? .allocate(capacity: wordsPerSlot)
        self.cell.initialize(repeating: 0, count: wordsPerSlot)
        self.cell[0] = low
        self.cell[1] = high
    }
    /// What keeps the cell's memory, or nil when the global allocated it.
    private let owner: AnyObject?
    deinit { if owner == nil { cell.deallocate() } }

    public var value: Value {
        guard let store else { return Value.load(from: cell, type: type.value, store: nil) }
        return Value.load(from: cell, type: type.value, store: store)
    }

    /// Sets a mutable global; fails on an immutable one or a value of the wrong type.
    public func set(_ v: Value) throws(WasmError) {
        guard type.mutable else { throw WasmError(.usage, "global is immutable") }
        guard v.matches(type.value) else { throw WasmError(.usage, "type mismatch: expected \(type.value), got \(v.type)") }
        if case .exnref(let e) = v { heldException = e }
        v.store(to: cell)
    }
}
