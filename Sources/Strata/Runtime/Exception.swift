/// An exception tag (exception handling): a catch clause catches the exceptions thrown with
/// its tag, by identity. Defined by a module (one per instance) or created by the host, and
/// shared through imports and exports.
public final class Tag: @unchecked Sendable {
    /// The payload's types are the parameters (the results are empty).
    public let type: FuncType
    public init(type: FuncType) { self.type = type }
}

/// A Wasm exception: a tag and its payload. Thrown by `throw` (or by a host function that
/// throws one), caught by `try_table`; one that leaves Wasm code reaches the host as a `Trap`
/// of kind `.exception` carrying it. An `exnref` is a pointer to one; the store keeps every
/// exception its code created alive as long as itself, like its function references.
public final class Exception: Error, @unchecked Sendable, CustomStringConvertible {
    public let tag: Tag
    /// Two words per value (the 16-byte slot encoding).
    let words: [UInt64]
    /// The exceptions the payload's exnref values point at, kept alive by this one.
    private let payloadExceptions: [Exception]

    init(tag: Tag, words: [UInt64]) {
        self.tag = tag
        self.words = words
        var held: [Exception] = []
        for (k, t) in tag.type.params.enumerated() where Store.holdsExceptions(t) {
            if let e = Exception.from(reference: words[2 * k]) { held.append(e) }
        }
        payloadExceptions = held
    }

    /// An exception a host function throws into Wasm code; `values` must match the tag's
    /// parameters.
    public convenience init(tag: Tag, values: [Value]) throws(WasmError) {
        guard values.count == tag.type.params.count, zip(values, tag.type.params).allSatisfy({ $0.matches($1) }) else {
            throw WasmError(.usage, "exception payload \(values.map(\.type)) does not match the tag's \(tag.type.params)")
        }
        var words = [UInt64](repeating: 0, count: 2 * values.count)
        words.withUnsafeMutableBufferPointer { b in
            for (i, v) in values.enumerated() { v.store(to: b.baseAddress! + 2 * i) }
        }
        self.init(tag: tag, words: words)
    }

    /// The payload (function references read as references of `store`, when given).
    public func values(store: Store? = nil) -> [Value] {
        words.withUnsafeBufferPointer { b in
            tag.type.params.enumerated().map { i, t in Value.load(from: b.baseAddress! + 2 * i, type: t, store: store) }
        }
    }

    public var description: String { "exception \(values())" }

    /// The `exnref` encoding: the object's address (kept alive by the store).
    var reference: UInt64 { UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())) }
    static func from(reference: UInt64) -> Exception? {
        guard let p = UnsafeRawPointer(bitPattern: UInt(reference)) else { return nil }
        return Unmanaged<Exception>.fromOpaque(p).takeUnretainedValue()
    }
}
