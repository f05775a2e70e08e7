import CStrataWASI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Strata's view of the program's descriptors, beside WasmKit's table (which is internal to
/// WasmKit): for each descriptor WasmKit opened, what the calls Strata implements itself need.
/// A directory has a host handle of its own (`O_PATH`), opened beneath the directory it was
/// opened from, so a path Strata resolves from it stays confined the way WasmKit's do;
/// every descriptor keeps the synchronized-I/O flags it was opened with (WasmKit drops them).
/// Filled in as the program opens, renumbers and closes descriptors (`WASIOverrides`).
final class WASIHostHandles: Sendable {
    struct Entry {
        /// An `O_PATH` handle when the descriptor is a directory; -1 for any other file; -2 when
        /// Strata could not tell (openat2 failed: a kernel before 5.6, or the path changed).
        var directory: Int32 = -1
        /// `fdflags` DSYNC, RSYNC and SYNC as the program asked for them.
        var sync: UInt16 = 0
    }

    private let entries = Mutex<[UInt32: Entry]>([:])
    /// The standard streams' host descriptors (the embedder's, not owned here), by the program's
    /// descriptor: 0, 1 and 2 at start, moved by `fd_renumber`, gone at `fd_close`.
    private let streams: Mutex<[UInt32: Int32]>

    /// The preopened directories are descriptors 3, 4, ... in the order given (as in WasmKit);
    /// `stdio` is the host's stdin, stdout and stderr.
    init(preopens: [String], stdio: [Int32]) {
        streams = Mutex(Dictionary(uniqueKeysWithValues: stdio.enumerated().map { (UInt32($0.offset), $0.element) }))
        entries.withLock { table in
            for (k, path) in preopens.enumerated() {
                let fd = open(path, oPath | O_DIRECTORY | O_CLOEXEC)
                if fd >= 0 { table[UInt32(3 + k)] = Entry(directory: fd) }
            }
        }
    }

    deinit {
        entries.withLock { table in for e in table.values where e.directory >= 0 { close(e.directory) } }
    }

    subscript(fd: UInt32) -> Entry? { entries.withLock { $0[fd] } }

    /// The host descriptor behind `fd` when `fd` is one of the standard streams.
    func stream(_ fd: UInt32) -> Int32? { streams.withLock { $0[fd] } }

    /// Records descriptor `fd`, just opened by WasmKit as `path` from directory `parent`.
    func opened(_ fd: UInt32, path: String, from parent: UInt32, followingSymlinks: Bool, sync: UInt16) {
        var entry = Entry(directory: -2, sync: sync)
        if let dir = self[parent]?.directory, dir >= 0 {
            let handle = strata_wasi_open_beneath(dir, path, oPath | O_CLOEXEC | (followingSymlinks ? 0 : O_NOFOLLOW))
            if handle >= 0 {
                entry.directory = -1
                var st = stat()
                if fstat(handle, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
                    entry.directory = handle
                } else {
                    close(handle)
                }
            }
        }
        let old = entries.withLock { table in
            defer { table[fd] = entry }
            return table[fd]
        }
        if let d = old?.directory, d >= 0 { close(d) }
        streams.withLock { _ = $0.removeValue(forKey: fd) }
    }

    func closed(_ fd: UInt32) {
        if let d = entries.withLock({ $0.removeValue(forKey: fd) })?.directory, d >= 0 { close(d) }
        streams.withLock { _ = $0.removeValue(forKey: fd) }
    }

    func renumbered(_ from: UInt32, to: UInt32) {
        streams.withLock { table in
            let moved = table.removeValue(forKey: from)
            table[to] = moved
        }
        let old = entries.withLock { table -> Entry? in
            let replaced = table[to]
            table[to] = table.removeValue(forKey: from)
            return replaced
        }
        if let d = old?.directory, d >= 0 { close(d) }
    }

    func setSync(_ fd: UInt32, _ sync: UInt16) {
        entries.withLock { table in table[fd, default: Entry()].sync = sync }
    }

    /// The directory handle of `fd`, or the WASI errno for a descriptor that is not a directory
    /// Strata knows (BADF: not open; NOTDIR: a file; NOTSUP: Strata has no handle for it).
    func directory(_ fd: UInt32) -> Result<Int32, WASIErrno> {
        guard let e = self[fd] else { return .failure(.badf) }
        if e.directory >= 0 { return .success(e.directory) }
        return .failure(e.directory == -1 ? .notdir : .notsup)
    }
}

/// open(2)'s O_PATH: a handle that names a file without opening it for I/O.
let oPath = strata_wasi_o_path()

/// The WASI preview 1 errno values Strata's own calls return (`wasi_snapshot_preview1`'s
/// `errno` enumeration).
enum WASIErrno: UInt16, Error {
    case success = 0, acces = 2, badf = 8, exist = 20, inval = 28, io = 29, isdir = 31, loop = 32,
         mlink = 34, nametoolong = 37, noent = 44, nospc = 51, nosys = 52, notdir = 54,
         notempty = 55, notsup = 58, perm = 63, rofs = 69, xdev = 75, notcapable = 76, dquot = 19

    /// The WASI errno for a host errno of the calls Strata makes; EXDEV is openat2's answer for a
    /// path that leaves its directory: NOTCAPABLE.
    init(host e: Int32) {
        switch e {
        case EACCES: self = .acces
        case EBADF: self = .badf
        case EEXIST: self = .exist
        case EINVAL: self = .inval
        case EISDIR: self = .isdir
        case ELOOP: self = .loop
        case EMLINK: self = .mlink
        case ENAMETOOLONG: self = .nametoolong
        case ENOENT: self = .noent
        case ENOSPC: self = .nospc
        case ENOSYS: self = .notsup
        case ENOTDIR: self = .notdir
        case ENOTEMPTY: self = .notempty
        case EOPNOTSUPP: self = .notsup
        case EPERM: self = .perm
        case EROFS: self = .rofs
        case EXDEV: self = .notcapable
        case EDQUOT: self = .dquot
        default: self = .io
        }
    }
}
