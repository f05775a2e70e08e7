import Glibc

/// The interpreter code of one function while it is translated: 64-bit words in one malloc'd
/// block that grows with `realloc` (often in place) and is handed over whole to the function's
/// `CompiledFunction`, so the code is never copied. A class, so appending needs no
/// copy-on-write uniqueness check.
final class CodeBuffer {
    private(set) var base: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = Self.reallocate(nil, words: self.capacity)
    }

    deinit { free(base) }

    @inline(__always) func append(_ word: UInt64) {
        if count == capacity { grow(to: capacity * 2) }
        base[count] = word
        count += 1
    }

    @inline(__always) subscript(index: Int) -> UInt64 {
        get {
            precondition(index >= 0 && index < count)
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count)
            base[index] = newValue
        }
    }

    /// Drops the words from `start` on.
    func truncate(to start: Int) {
        precondition(start >= 0 && start <= count)
        count = start
    }

    /// The code followed by `trailer` (the constant pool), in a block the caller now owns and
    /// frees with `free`; the buffer is empty afterwards.
    func take(appending trailer: [UInt64]) -> UnsafeMutablePointer<UInt64> {
        let total = count + trailer.count
        // Fit the block to its content (growing, or giving back a generous reservation).
        if total > capacity || capacity - total > capacity / 4 { grow(to: max(total, 1)) }
        (base + count).initialize(from: trailer, count: trailer.count)
        let block = base
        capacity = 16
        count = 0
        base = Self.reallocate(nil, words: capacity)
        return block
    }

    private func grow(to words: Int) {
        base = Self.reallocate(base, words: words)
        capacity = words
    }

    private static func reallocate(_ p: UnsafeMutablePointer<UInt64>?, words: Int) -> UnsafeMutablePointer<UInt64> {
        guard let raw = realloc(p, words * MemoryLayout<UInt64>.stride) else {
            fatalError("out of memory translating a function (\(words) code words)")
        }
        return raw.assumingMemoryBound(to: UInt64.self)
    }
}
