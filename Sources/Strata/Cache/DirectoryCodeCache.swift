#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A code cache on disk: `DIR/ab/cdef…` (the key's hex, split after two digits). Entries are
/// written to a temporary file in the same folder and published with `rename`, so a reader
/// never sees a partial file, and an entry is never modified in place. Safe to share between
/// processes. Bounded by `sizeLimit` (least recently used entries are evicted; a hit refreshes
/// an entry's time once it is an hour old) and by free disk space. The folder is created owner-only, and a folder
/// that other users can write to (or that someone else owns) is refused: cached code is
/// executed, so the cache must not be a way in.
public final class DirectoryCodeCache: CodeCache, @unchecked Sendable {
    public let directory: String
    public let sizeLimit: Int
    /// Free space left on the file system after a store (stores that would go below are skipped).
    public let minimumFreeSpace: Int

    /// `$XDG_CACHE_HOME/strata`, or `~/.cache/strata`.
    public static var defaultDirectory: String? {
        if let xdg = getenv("XDG_CACHE_HOME").map({ String(cString: $0) }), xdg.hasPrefix("/") { return xdg + "/strata" }
        if let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty { return home + "/.cache/strata" }
        return nil
    }

    public init(directory: String? = nil, sizeLimit: Int = 512 << 20, minimumFreeSpace: Int = 256 << 20) throws(WasmError) {
        guard let dir = directory ?? Self.defaultDirectory else {
            throw WasmError(.usage, "no cache directory: set XDG_CACHE_HOME or HOME, or pass one")
        }
        self.directory = dir
        self.sizeLimit = max(sizeLimit, 1 << 20)
        self.minimumFreeSpace = minimumFreeSpace
        try Self.makePrivateDirectory(dir, createParents: true)
    }

    /// Creates `path` (mode 0700) if needed, and checks it is a real directory owned by this
    /// user that nobody else can write to.
    static func makePrivateDirectory(_ path: String, createParents: Bool) throws(WasmError) {
        if createParents, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let parent = String(path[..<slash])
            var st = stat()
            if lstat(parent, &st) != 0 { try makeParents(parent) }
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw WasmError(.usage, "cannot create cache directory \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw WasmError(.usage, "cannot read cache directory \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw WasmError(.usage, "cache path \(path) is not a directory (symbolic links are refused)")
        }
        guard st.st_uid == geteuid() else {
            throw WasmError(.usage, "cache directory \(path) belongs to another user; refusing it (cached code is executed)")
        }
        guard st.st_mode & 0o022 == 0 else {
            throw WasmError(.usage, "cache directory \(path) is writable by other users; refusing it (cached code is executed). Run chmod go-w on it or choose another")
        }
    }

    private static func makeParents(_ path: String) throws(WasmError) {
        var prefix = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + part
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw WasmError(.usage, "cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    func folder(_ key: CacheKey) -> String { directory + "/" + String(key.hex.prefix(2)) }
    public func path(for key: CacheKey) -> String { folder(key) + "/" + String(key.hex.dropFirst(2)) }

    public func load(_ key: CacheKey) -> [UInt8]? { Self.readFile(path(for: key)).map { Array($0.bytes.bytes) } }

    /// The entry under `key` mapped (module creation reads it this way), or nil. `populate`:
    /// map every page at once (for bytes that will all be read), else as they are touched;
    /// `keepingPath`: the bytes keep the file's path, to map parts of it again
    /// (`SharedBytes.openFile`).
    func loadMapped(_ key: CacheKey, populate: Bool = true, keepingPath: Bool = false) -> SharedBytes? {
        Self.readFile(path(for: key), populate: populate, keepingPath: keepingPath)?.bytes
    }

    /// `loadMapped`, not populated, with the file's identity as it was read (nil when this
    /// read refreshed its time, which changed it).
    func loadMappedWithIdentity(_ key: CacheKey) -> (bytes: SharedBytes, identity: FileIdentity?)? {
        Self.readFile(path(for: key), populate: false)
    }

    public func store(_ key: CacheKey, _ entry: [UInt8]) {
        _ = entry.withUnsafeBytes { store(key, parts: [$0]) }
    }

    /// Stores the concatenation of `parts` under `key` (no copy into one array first);
    /// whether it was published.
    @discardableResult
    func store(_ key: CacheKey, parts: [UnsafeRawBufferPointer]) -> Bool {
        let dir = folder(key)
        guard (try? Self.makePrivateDirectory(dir, createParents: false)) != nil else { return false }
        guard writeFile(parts, in: dir, to: path(for: key)) else { return false }
        evictIfNeeded()
        return true
    }

    /// A file's bytes when it is a regular file of this user (a hit makes it the most recently
    /// used), else nil; and its identity as read, unless refreshing its time changed it.
    private static func readFile(
        _ path: String, populate: Bool = true, keepingPath: Bool = false
    ) -> (bytes: SharedBytes, identity: FileIdentity?)? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid(),
              st.st_size > 0, st.st_size < 1 << 32 else { return nil }
        // Exactly the size fstat gave: an entry being replaced meanwhile is a miss.
        let size = Int(st.st_size)
        guard let bytes = SharedBytes(mapping: fd, size: size, populate: populate, path: keepingPath ? path : nil)
                ?? FileBytes.read(fd, expected: size).flatMap({ $0.count == size ? SharedBytes($0) : nil }) else { return nil }
        let identity = FileIdentity(st)
        guard FileIdentity.now() - identity.modified < refreshNanoseconds else {
            _ = futimens(fd, nil)  // both times set to now
            return (bytes, nil)
        }
        return (bytes, identity)
    }

    /// How old a hit's modification time (its last use, for eviction) must be for the hit to
    /// set it to now. Not at every hit: that changes the file's identity too (its status-change
    /// time), and an entry verified whole is trusted by its identity (`EntryVerification`). So
    /// eviction orders entries by use to within this much.
    static let refreshNanoseconds: Int64 = 3600 * 1_000_000_000

    /// Writes `parts` one after another to a temporary file in `dir`, then renames it to `path`
    /// (in `dir`): a reader never sees a partial file. Whether it was published.
    private func writeFile(_ parts: [UnsafeRawBufferPointer], in dir: String, to path: String) -> Bool {
        let total = parts.reduce(0) { $0 + $1.count }
        var fs = statvfs()
        if statvfs(directory, &fs) == 0, Int(fs.f_bavail) * Int(fs.f_frsize) < total + minimumFreeSpace { return false }
        let suffix = UInt64.random(in: 0...UInt64.max)
        let temp = dir + "/.tmp-\(getpid())-\(String(suffix, radix: 16))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        var ok = true
        for part in parts where ok {
            var done = 0
            while done < part.count {
                let n = write(fd, part.baseAddress! + done, part.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { ok = false; break }
                done += n
            }
        }
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            unlink(temp)
            return false
        }
        return true
    }

    public func remove(_ key: CacheKey) { unlink(path(for: key)) }

    /// Every entry: (path, bytes, last use).
    func entries() -> [(path: String, size: Int, used: Int)] {
        var out: [(String, Int, Int)] = []
        guard let top = opendir(directory) else { return [] }
        defer { closedir(top) }
        while let e = readdir(top) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.utf8.count == 2, name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { continue }
            let sub = directory + "/" + name
            guard let d = opendir(sub) else { continue }
            while let f = readdir(d) {
                let file = withUnsafeBytes(of: f.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if file == "." || file == ".." { continue }
                let path = sub + "/" + file
                var st = stat()
                guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
                if file.hasPrefix(".tmp-") {
                    // A writer that died: its temporary file is an hour old.
                    if time(nil) - st.st_mtim.tv_sec > 3600 { unlink(path) }
                    continue
                }
                out.append((path, Int(st.st_size), Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)))
            }
            closedir(d)
        }
        return out
    }

    /// Removes least recently used entries until the cache is at most 90% of its limit.
    func evictIfNeeded() {
        let all = entries()
        var total = all.reduce(0) { $0 + $1.size }
        guard total > sizeLimit else { return }
        for e in all.sorted(by: { $0.used < $1.used }) {
            if total <= sizeLimit * 9 / 10 { break }
            if unlink(e.path) == 0 { total -= e.size }
        }
    }

    /// Number of entries and their total size.
    public var statistics: (entries: Int, bytes: Int) {
        let all = entries()
        return (all.count, all.reduce(0) { $0 + $1.size })
    }

    /// Removes every entry.
    public func clean() {
        for e in entries() { unlink(e.path) }
    }

    /// The build identity remembered for a binary (`CodeCacheFormat.identity(using:)`): a file
    /// `DIR/build-KEY` beside the entries' folders, so entries' counts, eviction and `clean`
    /// leave it alone.
    func loadMemo(_ key: CacheKey) -> [UInt8]? { Self.readFile(directory + "/build-" + key.hex).map { Array($0.bytes.bytes) } }
    func storeMemo(_ key: CacheKey, _ value: [UInt8]) {
        _ = value.withUnsafeBytes { writeFile([$0], in: directory, to: directory + "/build-" + key.hex) }
    }
}
