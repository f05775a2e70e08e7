import Dispatch

/// Runs `body` on `0..<count` cut into consecutive ranges of `chunk` (the last one shorter),
/// the ranges spread over every core (`DispatchQueue.concurrentPerform`), and returns when all
/// are done. One range runs on the calling thread. For work that writes disjoint parts of
/// fresh memory or reads disjoint parts of a mapping: the kernel fills fresh pages (or maps a
/// file's) for all threads at once, which is most of such work's cost (module creation's
/// per-function tables, the code cache's checksum). `body` must be safe to run on several
/// threads at once for disjoint ranges (this is not checked: it captures raw pointers).
func forEachChunk(count: Int, chunk: Int, _ body: (Range<Int>) -> Void) {
    precondition(chunk > 0)
    let chunks = (count + chunk - 1) / chunk
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: chunks) { k in
            body((k * chunk)..<min(count, (k + 1) * chunk))
        }
    }
}

/// Brings up Dispatch's worker pool (an empty `concurrentPerform` over every core), so that the
/// next `forEachChunk` finds its workers running instead of waiting for new threads to be
/// scheduled (about 1 ms on a two-core VM, where a new thread waits on its creator's core).
/// Call it from a thread that has time to spare, before the chunked work.
func startWorkerPool() {
    DispatchQueue.concurrentPerform(iterations: EngineConfiguration.processorCount) { _ in }
}

