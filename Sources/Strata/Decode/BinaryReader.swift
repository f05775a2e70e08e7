/// A bounds-checked reader over module bytes. Every read checks the remaining length, so a
/// truncated or hostile input fails with a `malformed` error and never reads past the end.
struct BinaryReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    var end: Int

    init(bytes: UnsafeBufferPointer<UInt8>, position: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = position
        // A declared size may reach past the input (the length rule counts from before the
        // length field); never let a reader past the buffer.
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var isAtEnd: Bool { position >= end }
    var remaining: Int { end - position }

    func error(_ message: String, at offset: Int? = nil) -> WasmError {
        WasmError(.malformed, message, offset: offset ?? position)
    }

    @inline(__always)
    mutating func readByte() throws(WasmError) -> UInt8 {
        guard position < end else { throw error("unexpected end") }
        let b = bytes[position]
        position += 1
        return b
    }

    mutating func readBytes(_ count: Int) throws(WasmError) -> UnsafeBufferPointer<UInt8> {
        guard count >= 0, count <= remaining else { throw error("unexpected end") }
        let slice = UnsafeBufferPointer(rebasing: bytes[position..<position + count])
        position += count
        return slice
    }

    @inline(__always)
    mutating func readU32() throws(WasmError) -> UInt32 {
        // Fast path: one byte.
        if position < end, bytes[position] < 0x80 {
            let b = bytes[position]
            position += 1
            return UInt32(b)
        }
        return UInt32(try readUnsignedLEB(bits: 32))
    }

    mutating func readU64() throws(WasmError) -> UInt64 {
        try readUnsignedLEB(bits: 64)
    }

    /// Unsigned LEB128 of at most ceil(bits/7) bytes; unused bits of the last byte must be 0.
    mutating func readUnsignedLEB(bits: Int) throws(WasmError) -> UInt64 {
        var result: UInt64 = 0
        var shift = 0
        while true {
            guard shift < bits else { throw error("integer representation too long") }
            guard position < end else { throw error("unexpected end") }
            let b = bytes[position]
            position += 1
            let payload = UInt64(b & 0x7F)
            if shift + 7 > bits {
                if b & 0x80 != 0 { throw error("integer representation too long") }
                if payload >> UInt64(bits - shift) != 0 { throw error("integer too large") }
            }
            result |= payload << UInt64(shift)
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Signed LEB128 of at most ceil(bits/7) bytes; unused bits of the last byte must equal
    /// the sign bit.
    mutating func readSignedLEB(bits: Int) throws(WasmError) -> Int64 {
        var result: Int64 = 0
        var shift = 0
        while true {
            guard shift < bits else { throw error("integer representation too long") }
            guard position < end else { throw error("unexpected end") }
            let b = bytes[position]
            position += 1
            let payload = Int64(b & 0x7F)
            if shift + 7 > bits {
                if b & 0x80 != 0 { throw error("integer representation too long") }
                let usable = bits - shift  // 1...7 bits of this byte are value bits
                let signAndUnused = payload >> Int64(usable - 1)
                let allOnes = Int64((1 << (7 - usable + 1)) - 1)
                if signAndUnused != 0 && signAndUnused != allOnes { throw error("integer too large") }
            }
            result |= payload << Int64(shift)
            shift += 7
            if b & 0x80 == 0 {
                if shift < 64 && (b & 0x40) != 0 { result |= -1 << Int64(shift) }
                return result
            }
        }
    }

    mutating func readS32() throws(WasmError) -> Int32 {
        Int32(truncatingIfNeeded: try readSignedLEB(bits: 32))
    }
    mutating func readS64() throws(WasmError) -> Int64 {
        try readSignedLEB(bits: 64)
    }
    mutating func readS33() throws(WasmError) -> Int64 {
        try readSignedLEB(bits: 33)
    }

    mutating func readF32Bits() throws(WasmError) -> UInt32 {
        let b = try readBytes(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
    mutating func readF64Bits() throws(WasmError) -> UInt64 {
        let b = try readBytes(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(b[i]) << UInt64(8 * i) }
        return v
    }

    /// A length field as the reference decoder reads it: "length out of bounds" when it exceeds
    /// the bytes left counted from the length field itself, else reading past the end is an
    /// "unexpected end".
    mutating func readLength() throws(WasmError) -> Int {
        let at = position
        let n = Int(try readU32())
        guard n <= end - at else { throw error("length out of bounds", at: at) }
        return n
    }

    mutating func readName() throws(WasmError) -> String {
        let length = try readLength()
        let start = position
        let raw = try readBytes(length)
        guard let s = validUTF8(raw) else { throw error("malformed UTF-8 encoding", at: start) }
        return s
    }

    /// A value type. `typed`: typed function references (Wasm 3.0): `(ref null? ht)` forms and
    /// the bottom types' shorthands; without it only Wasm 2.0's codes (and exnref).
    mutating func readValueType(typed: Bool) throws(WasmError) -> ValueType {
        let at = position
        guard let t = try readTypeOrNil(typed: typed), typed || Self.isWasm2Shorthand(t) else {
            throw error("malformed value type", at: at)
        }
        return t
    }

    mutating func readRefType(typed: Bool) throws(WasmError) -> ValueType {
        let at = position
        guard let t = try readTypeOrNil(typed: typed), t.isReference, typed || Self.isWasm2Shorthand(t) else {
            throw error("malformed reference type", at: at)
        }
        return t
    }

    private static func isWasm2Shorthand(_ t: ValueType) -> Bool {
        t.kind != .ref || t.nullable && (t.heapType == .func || t.heapType == .extern || t.heapType == .exn)
    }

    /// `0x63 ht` / `0x64 ht` (typed only) or a one-byte type; nil for any other byte.
    private mutating func readTypeOrNil(typed: Bool) throws(WasmError) -> ValueType? {
        let b = try readByte()
        guard typed, b == 0x63 || b == 0x64 else { return ValueType.shorthand(code: b) }
        return .ref(try readHeapType(), nullable: b == 0x63)
    }

    /// The heap type of `ref.null`, as the (nullable) reference type the instruction produces.
    /// Wasm 2.0 names it by a reference type's byte, which reads the same.
    mutating func readNullType(typed: Bool) throws(WasmError) -> ValueType {
        if typed { return .ref(try readHeapType(), nullable: true) }
        let at = position
        guard let h = HeapType.abstract(code: try readByte()), h == .func || h == .extern || h == .exn else {
            throw error("malformed reference type", at: at)
        }
        return .ref(h, nullable: true)
    }

    /// A heap type: an abstract type's one-byte code, or a type index (s33, non-negative).
    mutating func readHeapType() throws(WasmError) -> HeapType {
        let at = position
        guard position < end else { throw error("unexpected end") }
        if let h = HeapType.abstract(code: bytes[position]) {
            position += 1
            return h
        }
        let index = try readS33()
        guard index >= 0, index < Int64(HeapType.recursiveFlag) else { throw error("malformed heap type", at: at) }
        return .concrete(UInt32(index))
    }
}

/// Strict UTF-8 validation (no overlongs, no surrogates, max U+10FFFF).
func validUTF8(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
    var i = 0
    let n = raw.count
    while i < n {
        let b0 = raw[i]
        if b0 < 0x80 { i += 1; continue }
        var need = 0
        var minCode: UInt32 = 0
        var code: UInt32 = 0
        if b0 & 0xE0 == 0xC0 { need = 1; minCode = 0x80; code = UInt32(b0 & 0x1F) }
        else if b0 & 0xF0 == 0xE0 { need = 2; minCode = 0x800; code = UInt32(b0 & 0x0F) }
        else if b0 & 0xF8 == 0xF0 { need = 3; minCode = 0x10000; code = UInt32(b0 & 0x07) }
        else { return nil }
        for k in 1...need {
            guard i + k < n else { return nil }
            let b = raw[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            code = code << 6 | UInt32(b & 0x3F)
        }
        if code < minCode || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) { return nil }
        i += need + 1
    }
    return String(decoding: raw, as: UTF8.self)
}
