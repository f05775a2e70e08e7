/// A hash map from non-negative integer keys to values for the optimizing tier's hot tables:
/// open addressing with linear probing and a multiplicative hash (no hasher, no allocation per
/// entry), growing at half load. Entries are only added or replaced, never removed.
struct IntegerMap<Value> {
    private var keys: [Int64]
    private var values: [Value]
    private var shift: UInt64
    private let placeholder: Value
    private(set) var count = 0

    /// `placeholder` fills empty slots (never returned).
    init(placeholder: Value) {
        self.placeholder = placeholder
        keys = [Int64](repeating: -1, count: 16)
        values = [Value](repeating: placeholder, count: 16)
        shift = 64 - 4
    }

    @inline(__always) private func home(_ key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    subscript(key: Int64) -> Value? {
        @inline(__always) get {
            let mask = keys.count - 1
            var i = home(key)
            while true {
                let k = keys[i]
                if k == key { return values[i] }
                if k < 0 { return nil }
                i = (i + 1) & mask
            }
        }
        @inline(__always) set {
            guard let newValue else { preconditionFailure("IntegerMap entries are never removed") }
            precondition(key >= 0)
            if 2 * (count + 1) > keys.count { grow() }
            let mask = keys.count - 1
            var i = home(key)
            while keys[i] >= 0 && keys[i] != key { i = (i + 1) & mask }
            if keys[i] < 0 {
                keys[i] = key
                count += 1
            }
            values[i] = newValue
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [Int64](repeating: -1, count: 2 * oldKeys.count)
        values = [Value](repeating: placeholder, count: 2 * oldKeys.count)
        shift -= 1
        let mask = keys.count - 1
        for (j, k) in oldKeys.enumerated() where k >= 0 {
            var i = home(k)
            while keys[i] >= 0 { i = (i + 1) & mask }
            keys[i] = k
            values[i] = oldValues[j]
        }
    }
}
