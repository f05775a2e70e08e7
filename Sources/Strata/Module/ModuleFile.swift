import Crypto
import Dispatch
import Glibc

extension Module {
    /// Reads the module binary at `path` and creates the module, as `init(engine:bytes:)` does
    /// with the file's bytes. With a code cache:
    /// - A file this cache has seen, unchanged since (same device, inode, size, modification
    ///   and status-change times), is not read at all: its bytes are the cache's copy, mapped,
    ///   and the record names their digest (`ModuleCopies`). On a warm start of a 69 MB module
    ///   (Yosys) that saves the read into fresh memory and the hash.
    /// - Otherwise the cache key is hashed while the file is read (on another thread, each
    ///   chunk as soon as it is in), instead of after it. The first save of the module's code
    ///   writes its copy and record, if the file had stood unchanged long enough before the
    ///   read (`FileIdentity.isSettled`) and did not change during it.
    /// A file that changes size while it is read is read again.
    public convenience init(engine: Engine, contentsOf path: String) throws(WasmError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WasmError(.usage, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw WasmError(.usage, "cannot read \(path): \(String(cString: strerror(errno)))") }
        let configuration = engine.configuration
        let size = st.st_mode & S_IFMT == S_IFREG ? Int(st.st_size) : 0
        if size > 0, Self.looksUpCodeCache(configuration) {
            let id = FileIdentity(st)
            if let (bytes, digest, bodies) = ModuleCopies.load(id, from: configuration.codeCache) {
                try self.init(engine: engine, bytes: bytes, entry: nil, digest: ConcurrentResult(ready: digest), bytesFromCache: true,
                              knownBodies: bodies)
                return
            }
            let readStart = FileIdentity.now()
            let feed = HashFeed()
            let digest = ConcurrentResult { feed.digest() }
            let (bytes, complete) = FileBytes.read(fd, exactly: size, chunk: 4 << 20) { feed.publish($0, count: $1) }
            feed.finish(keeping: bytes)  // the hashing thread keeps the bytes alive until it is done
            if complete {
                var after = stat()
                let unchanged = fstat(fd, &after) == 0 && FileIdentity(after) == id
                try self.init(engine: engine, bytes: SharedBytes(bytes), entry: nil, digest: digest,
                              file: unchanged && id.isSettled(at: readStart) ? id : nil)
                return
            }
            _ = digest.value  // the hashing thread is done with the bytes of the first read
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw WasmError(.usage, "cannot read \(path): \(String(cString: strerror(errno)))") }
        }
        guard let bytes = FileBytes.read(fd, expected: size) else {
            throw WasmError(.usage, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        try self.init(engine: engine, bytes: bytes)
    }
}

/// Bytes handed from a reading thread to a hashing thread as they arrive: the reader publishes
/// how far the buffer is filled, the hasher follows behind and waits when it catches up.
private final class HashFeed: @unchecked Sendable {
    private struct State {
        var base: UnsafeRawPointer?
        var filled = 0
        var finished = false
        /// The bytes, kept alive until the hash is done (the reader may drop its reference).
        var bytes: [UInt8]?
    }
    private let state = Locked(State())
    private let arrived = DispatchSemaphore(value: 0)

    /// The first `count` bytes at `base` are in.
    func publish(_ base: UnsafeRawPointer, count: Int) {
        state.withLock { $0.base = base; $0.filled = count }
        arrived.signal()
    }

    /// Reading ended; `bytes` are what was read (all of it, or what a failed read got).
    func finish(keeping bytes: [UInt8]) {
        state.withLock { $0.finished = true; $0.bytes = bytes }
        arrived.signal()
    }

    /// The bytes' SHA-256 (`CacheKey.digest`), hashed as they arrive (the digest of the bytes
    /// read so far when reading fails; the caller then does not use it).
    func digest() -> [UInt8] {
        var h = SHA256()
        var hashed = 0
        while true {
            let (base, filled, finished) = state.withLock { ($0.base, $0.filled, $0.finished) }
            if let base, filled > hashed {
                h.update(bufferPointer: UnsafeRawBufferPointer(start: base + hashed, count: filled - hashed))
                hashed = filled
            } else if finished {
                break
            } else {
                arrived.wait()
            }
        }
        state.withLock { $0.bytes = nil }
        return Array(h.finalize())
    }
}
