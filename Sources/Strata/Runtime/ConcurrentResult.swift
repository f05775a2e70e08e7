import CStrata
import Dispatch
import Glibc

/// A value computed on another thread while the caller goes on; `value` waits for it.
///
/// The thread is a thread of its own, started on another core (`strata_thread_start`), not a
/// task on Dispatch's global queue: module creation starts these first, and a new thread
/// (Dispatch's first worker included) waited 0.5-5 ms on its creator's busy core before
/// running (Yosys, a warm start: the cache key and entry were ready 1.2-2 ms later than
/// their work takes, and decoding waited for them).
final class ConcurrentResult<Value: Sendable>: @unchecked Sendable {
    /// Behind a pthread lock (not just the group) so ThreadSanitizer sees the hand-over.
    private let result = Locked<Value?>(nil)
    private let done = DispatchGroup()

    init(_ compute: @escaping @Sendable () -> Value) {
        done.enter()
        let work: @Sendable () -> Void = {
            let v = compute()
            self.result.withLock { $0 = v }
            self.done.leave()
        }
        if !startThread(work) { DispatchQueue.global(qos: .userInitiated).async(execute: work) }
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

/// Runs `work` on a new detached thread, started on another core (`strata_thread_start`);
/// false when no thread could be made.
private func startThread(_ work: @escaping @Sendable () -> Void) -> Bool {
    final class Box { let work: @Sendable () -> Void; init(_ w: @escaping @Sendable () -> Void) { work = w } }
    let box = Unmanaged.passRetained(Box(work)).toOpaque()
    let started = strata_thread_start({ argument in
        Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().work()
        return nil
    }, box) == 0
    if !started { Unmanaged<Box>.fromOpaque(box).release() }
    return started
}
