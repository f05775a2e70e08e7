#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemRead = Glibc.read
#else
private let systemRead = Darwin.read
#endif

/// Reading a whole file straight into a byte array (no intermediate buffer and copy): the code
/// cache's entries and, in the CLI, module files.
public enum FileBytes {
    /// Everything left to read from `fd`, nil on a read error. `expected`: the size fstat gave
    /// (0 for a pipe); one byte more is asked for, so the end shows in the same read, and a
    /// file that grew meanwhile is read on in chunks.
    public static func read(_ fd: Int32, expected: Int) -> [UInt8]? {
        var failed = false
        func readAll(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            var done = 0
            while done < buffer.count {
                let n = systemRead(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failed = true }
                guard n > 0 else { break }
                done += n
            }
            return done
        }
        let size = max(expected, 0)
        var bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, count in
            count = readAll(into: UnsafeMutableRawBufferPointer(buffer))
        }
        if bytes.count > size {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while !failed {
                let n = chunk.withUnsafeMutableBytes { readAll(into: $0) }
                bytes.append(contentsOf: chunk[..<n])
                if n < chunk.count { break }
            }
        }
        return failed ? nil : bytes
    }

    /// `count` bytes of `fd` read in `chunk`-sized pieces, `progress(base, filled)` told after
    /// each (the array's storage, which stays put while the array lives); complete when exactly
    /// `count` bytes were there (not fewer, not more) and no read failed. The array holds what
    /// was read either way.
    public static func read(
        _ fd: Int32, exactly count: Int, chunk: Int, progress: (UnsafeRawPointer, Int) -> Void
    ) -> (bytes: [UInt8], complete: Bool) {
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count + 1) { buffer, filled in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            filled = 0
            while filled < count + 1 {
                let n = systemRead(fd, base + filled, min(chunk, count + 1 - filled))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    complete = n == 0 && filled == count
                    break
                }
                filled += n
                progress(UnsafeRawPointer(base), min(filled, count))
            }
        }
        return (bytes, complete)
    }
}

/// Bytes that never change, shared by reference: an array, a file mapped read-only, or a range
/// of another `SharedBytes` (kept alive with it). Code cache entries and module binaries are
/// held this way. A mapping of a file in the page cache costs no copy and no fresh pages;
/// reading a 1 MB entry into an array costs a fault and a page per 4 KB (0.5 ms of a warm
/// start), and a 69 MB module 17,000 of each. A directory cache's files are never written in
/// place (a new one is renamed over the old), so a mapping stays whole while it is in use; a
/// file removed meanwhile stays mapped.
final class SharedBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    /// The array the bytes live in (never mutated, so its storage stays put), or nil for a
    /// mapping, unmapped at deinit, or a range of `parent`.
    private let array: [UInt8]?
    private let parent: SharedBytes?
    /// For a mapping of a file named by `path` (or a range of one): the path, the offset in it
    /// of the first byte, and the whole mapping, so parts can be mapped again elsewhere
    /// (`openFile`, `Memory.mapCopyOnWrite`).
    private let file: (path: String, offset: Int, whole: UnsafeRawBufferPointer)?

    init(_ array: [UInt8]) {
        self.array = array
        parent = nil
        file = nil
        bytes = array.withUnsafeBytes { $0 }
    }

    /// `range` of `parent`'s bytes (which it keeps alive).
    init(_ parent: SharedBytes, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= parent.count)
        self.parent = parent
        array = nil
        file = parent.file.map { ($0.path, $0.offset + range.lowerBound, $0.whole) }
        bytes = UnsafeRawBufferPointer(rebasing: parent.bytes[range])
    }

    var count: Int { bytes.count }
    /// The bytes typed, valid while this object lives.
    var buffer: UnsafeBufferPointer<UInt8> { bytes.bindMemory(to: UInt8.self) }
    /// `body` with the bytes typed (this object is alive for the call, so they are).
    func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try body(buffer)
    }

    /// `size` bytes of `fd` from its start, mapped private and read-only, its pages populated
    /// at once unless `populate` is false; nil when the file cannot be mapped (the caller reads
    /// it instead). `path`: the file's path, for `openFile`.
    init?(mapping fd: Int32, size: Int, populate: Bool = true, path: String? = nil) {
        guard size > 0 else { return nil }
        #if canImport(Glibc)
        let flags = MAP_PRIVATE | (populate ? MAP_POPULATE : 0)
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let p = mmap(nil, size, PROT_READ, flags, fd, 0), p != MAP_FAILED else { return nil }
        array = nil
        parent = nil
        let whole = UnsafeRawBufferPointer(start: p, count: size)
        bytes = whole
        file = path.map { ($0, 0, whole) }
    }

    /// The file these bytes are mapped from, opened again (the caller closes it), and the
    /// offset in it of the first byte: nil for bytes of no file, or when the path no longer
    /// holds the same file (another size, or another first page; a cache's files are replaced
    /// only by files of the same content, and evicted ones are gone).
    func openFile() -> (descriptor: Int32, offset: Int)? {
        guard let file else { return nil }
        let fd = open(file.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        let head = min(file.whole.count, 4096)
        var first = [UInt8](repeating: 0, count: head)
        guard fstat(fd, &st) == 0, Int(st.st_size) == file.whole.count,
              first.withUnsafeMutableBytes({ pread(fd, $0.baseAddress!, head, 0) }) == head,
              first.elementsEqual(file.whole.prefix(head)) else {
            close(fd)
            return nil
        }
        return (fd, file.offset)
    }

    /// Makes `region` (inside these bytes, page-aligned) readable and executable where it lies,
    /// for a mapping: its start, or nil (an array's bytes, or a refusal, say a cache folder on
    /// a `noexec` file system; the caller copies then). The region is never writable.
    func makeExecutable(_ region: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer? {
        guard array == nil, parent == nil, let start = region.baseAddress, let base = bytes.baseAddress,
              start >= base, start + region.count <= base + bytes.count else { return nil }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard Int(bitPattern: start) % page == 0, region.count > 0 else { return nil }
        let p = UnsafeMutableRawPointer(mutating: start)
        return mprotect(p, region.count, PROT_READ | PROT_EXEC) == 0 ? p : nil
    }

    deinit {
        if array == nil, parent == nil, let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
