import Dispatch

/// A value computed on another thread while the caller goes on; `value` waits for it.
final class ConcurrentResult<Value: Sendable>: @unchecked Sendable {
    /// Behind a pthread lock (not just the group) so ThreadSanitizer sees the hand-over.
    private let result = Locked<Value?>(nil)
    private let done = DispatchGroup()

    init(_ compute: @escaping @Sendable () -> Value) {
        done.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            let v = compute()
            self.result.withLock { $0 = v }
            self.done.leave()
        }
    }

    /// A value known already.
    init(ready value: Value) {
        result.withLock { $0 = value }
    }

    /// The computed value (waits until it is there).
    var value: Value {
        done.wait()
        return result.withLock { $0! }
    }
}
