import CStrataWASI
import Strata
import WASI
#if canImport(Glibc)
import Glibc
#endif

/// One call of a WASI function that Strata implements in front of WasmKit's.
struct WASICall {
    let name: String
    let memory: Strata.Memory
    let args: [Strata.Value]
    /// WasmKit's implementation of a WASI function, on the same guest memory.
    let wasmkit: (String, [Strata.Value]) throws -> [Strata.Value]

    func u32(_ k: Int) -> UInt32 {
        if case .i32(let v) = args[k] { return UInt32(bitPattern: v) }
        return 0
    }
    func u64(_ k: Int) -> UInt64 {
        if case .i64(let v) = args[k] { return UInt64(bitPattern: v) }
        return 0
    }
    /// The call WasmKit would make: its errno (or other results) as they are.
    func forward() throws -> [Strata.Value] { try wasmkit(name, args) }

    /// Guest bytes `[offset, offset + count)`; out of bounds traps, as WasmKit's calls do here.
    func bytes<R>(_ offset: UInt32, _ count: UInt32, _ body: (UnsafeMutableRawBufferPointer) -> R) throws -> R {
        let size = UInt64(memory.byteCount)
        guard UInt64(offset) + UInt64(count) <= size else {
            throw WASIError(description: "out of bounds memory access in WASI call \(name)")
        }
        return memory.withUnsafeMutableBytes { all in
            body(UnsafeMutableRawBufferPointer(rebasing: all[Int(offset)..<Int(offset) + Int(count)]))
        }
    }
    func string(_ pointer: Int, _ length: Int) throws -> String {
        try bytes(u32(pointer), u32(length)) { String(decoding: $0, as: UTF8.self) }
    }
    func readU32(at offset: UInt32) throws -> UInt32 { try bytes(offset, 4) { $0.loadUnaligned(as: UInt32.self) } }
    func readU16(at offset: UInt32) throws -> UInt16 { try bytes(offset, 2) { $0.loadUnaligned(as: UInt16.self) } }
    func write(_ value: UInt16, at offset: UInt32) throws { try bytes(offset, 2) { $0.storeBytes(of: value, as: UInt16.self) } }
}

/// The WASI functions Strata implements itself, in front of WasmKit's (which does the rest):
/// - descriptor bookkeeping for `WASIHostHandles` (path_open, fd_close, fd_renumber);
/// - `path_link` (WasmKit: NOTSUP), confined to the preopened folders by openat2;
/// - `path_filestat_set_times` without SYMLINK_FOLLOW sets a symlink's own times (WasmKit
///   followed it, or failed with LOOP);
/// - `path_symlink` to an absolute path fails (WasmKit made the link; a WASI program has no
///   absolute paths);
/// - the synchronized-I/O `fdflags` (DSYNC, SYNC) that WasmKit drops at `path_open`: reported by
///   `fd_fdstat_get`, and honoured by syncing after every write on the descriptor (Linux cannot
///   add O_SYNC to an open file, and the file is WasmKit's);
/// - `fd_allocate` on a directory is ISDIR (WasmKit: NOTSUP for every descriptor);
/// - a standard stream on a character device that is not a terminal (`/dev/null`) does not
///   look like one to the program (`describeStream`).
enum WASIOverrides {
    static let syncFlags: UInt16 = 0x2 | 0x8 | 0x10  // DSYNC, RSYNC, SYNC
    static let lookupFollow: UInt32 = 1

    static func functions(_ handles: WASIHostHandles) -> [String: (WASICall) throws -> [Strata.Value]] {
        func errno(_ e: WASIErrno) -> [Strata.Value] { [.i32(Int32(e.rawValue))] }
        func succeeded(_ r: [Strata.Value]) -> Bool { r.first == .i32(0) }
        return [
            "path_open": { c in
                // (fd, dirflags, path, path_len, oflags, rights, rights, fdflags, result)
                let r = try c.forward()
                if succeeded(r) {
                    handles.opened(
                        try c.readU32(at: c.u32(8)), path: try c.string(2, 3), from: c.u32(0),
                        followingSymlinks: c.u32(1) & lookupFollow != 0, sync: UInt16(truncatingIfNeeded: c.u32(7)) & syncFlags)
                }
                return r
            },
            "fd_close": { c in
                let r = try c.forward()
                if succeeded(r) { handles.closed(c.u32(0)) }
                return r
            },
            "fd_renumber": { c in
                let r = try c.forward()
                if succeeded(r) { handles.renumbered(c.u32(0), to: c.u32(1)) }
                return r
            },
            "fd_fdstat_set_flags": { c in
                let r = try c.forward()
                if succeeded(r) { handles.setSync(c.u32(0), UInt16(truncatingIfNeeded: c.u32(1)) & syncFlags) }
                return r
            },
            "fd_fdstat_get": { c in
                // fdstat: filetype u8 at 0, fs_flags u16 at 2, rights_base u64 at 8, then the
                // inheriting rights.
                let r = try c.forward()
                guard succeeded(r) else { return r }
                if let sync = handles[c.u32(0)]?.sync, sync != 0 {
                    let at = c.u32(1) &+ 2
                    try c.write(try c.readU16(at: at) | sync, at: at)
                }
                if let host = handles.stream(c.u32(0)) { try describeStream(c, host: host) }
                return r
            },
            "fd_write": { c in try syncAfterWrite(c, handles) },
            "fd_pwrite": { c in try syncAfterWrite(c, handles) },
            "fd_allocate": { c in
                if let d = handles[c.u32(0)]?.directory, d >= 0 { return errno(.isdir) }
                return try c.forward()
            },
            "path_symlink": { c in
                // (old_path, old_path_len, fd, new_path, new_path_len)
                if try c.string(0, 1).hasPrefix("/") { return errno(.notcapable) }
                return try c.forward()
            },
            "path_link": { c in
                // (old_fd, old_flags, old_path, old_path_len, new_fd, new_path, new_path_len)
                errno(try link(c, handles))
            },
            "path_filestat_set_times": { c in
                // (fd, flags, path, path_len, atim, mtim, fst_flags)
                if c.u32(1) & lookupFollow != 0 { return try c.forward() }
                return errno(try setTimesNoFollow(c, handles))
            },
        ]
    }

    /// WASI has no "is a terminal" call: wasi-libc's `isatty` answers yes for a character device
    /// without the seek and tell rights, and WasmKit reports every character device that way,
    /// so a program reading `/dev/null` or writing to it took it for a terminal and went the
    /// interactive way (colours; Yosys threw an exception on that path). A standard
    /// stream on a character device the host says is no terminal gets the seek and tell rights
    /// when the host can seek it (`/dev/null` can, as WasmKit's `fd_seek` and `fd_tell` on it
    /// do), and is otherwise reported as of unknown type (as Wasmtime reports every stream that
    /// is no terminal). A terminal is reported as before.
    static func describeStream(_ c: WASICall, host: Int32) throws {
        let characterDevice: UInt8 = 2, unknown: UInt8 = 0
        let seekAndTell: UInt64 = 1 << 2 | 1 << 5  // FD_SEEK, FD_TELL
        let at = c.u32(1)
        let filetype = try c.bytes(at, 1) { $0.load(as: UInt8.self) }
        guard filetype == characterDevice, isatty(host) == 0 else { return }
        if lseek(host, 0, SEEK_CUR) >= 0 {
            try c.bytes(at &+ 8, 8) { $0.storeBytes(of: $0.loadUnaligned(as: UInt64.self) | seekAndTell, as: UInt64.self) }
        } else {
            try c.bytes(at, 1) { $0.storeBytes(of: unknown, as: UInt8.self) }
        }
    }

    static func syncAfterWrite(_ c: WASICall, _ handles: WASIHostHandles) throws -> [Strata.Value] {
        let r = try c.forward()
        guard r.first == .i32(0), let sync = handles[c.u32(0)]?.sync, sync & (0x2 | 0x10) != 0 else { return r }
        return try c.wasmkit(sync & 0x10 != 0 ? "fd_sync" : "fd_datasync", [c.args[0]])
    }

    /// A hard link: the source's symlink is linked, not followed (SYMLINK_FOLLOW is INVAL, as in
    /// Wasmtime), both paths resolved beneath their directories.
    static func link(_ c: WASICall, _ handles: WASIHostHandles) throws -> WASIErrno {
        if c.u32(1) & lookupFollow != 0 { return .inval }
        let oldPath = try c.string(2, 3), newPath = try c.string(5, 6)
        let oldDir: Int32, newDir: Int32
        switch handles.directory(c.u32(0)) { case .success(let d): oldDir = d; case .failure(let e): return e }
        switch handles.directory(c.u32(4)) { case .success(let d): newDir = d; case .failure(let e): return e }
        let source: (Int32, String), target: (Int32, String)
        switch parent(of: oldPath, beneath: oldDir) { case .success(let p): source = p; case .failure(let e): return e }
        defer { close(source.0) }
        switch parent(of: newPath, beneath: newDir) { case .success(let p): target = p; case .failure(let e): return e }
        defer { close(target.0) }
        // `.` and `..` are directories (no hard links), and always exist as targets.
        if [".", ".."].contains(source.1) { return .perm }
        if [".", "..", "./", "../"].contains(target.1) { return .exist }
        return linkat(source.0, source.1, target.0, target.1, 0) == 0 ? .success : WASIErrno(host: Glibc.errno)
    }

    /// `path_filestat_set_times` on the path itself, a symlink's own times included.
    static func setTimesNoFollow(_ c: WASICall, _ handles: WASIHostHandles) throws -> WASIErrno {
        let path = try c.string(2, 3)
        let flags = c.u32(6)
        // fst_flags: ATIM 1, ATIM_NOW 2, MTIM 4, MTIM_NOW 8.
        if flags & ~0xF != 0 || flags & 3 == 3 || flags & 12 == 12 { return .inval }
        func time(_ value: UInt64, set: Bool, now: Bool) -> timespec {
            if now { return timespec(tv_sec: 0, tv_nsec: strata_wasi_utime_now()) }
            if set { return timespec(tv_sec: Int(value / 1_000_000_000), tv_nsec: Int(value % 1_000_000_000)) }
            return timespec(tv_sec: 0, tv_nsec: strata_wasi_utime_omit())
        }
        let times = [time(c.u64(4), set: flags & 1 != 0, now: flags & 2 != 0), time(c.u64(5), set: flags & 4 != 0, now: flags & 8 != 0)]
        let dir: Int32
        switch handles.directory(c.u32(0)) { case .success(let d): dir = d; case .failure(let e): return e }
        let target: (Int32, String)
        switch parent(of: path, beneath: dir) { case .success(let p): target = p; case .failure(let e): return e }
        defer { close(target.0) }
        if [".", "..", "./", "../"].contains(target.1) {
            // A directory named through `.` or `..`: opened beneath (never above the preopen).
            let fd = strata_wasi_open_beneath(dir, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { return WASIErrno(host: -fd) }
            defer { close(fd) }
            return futimens(fd, times) == 0 ? .success : WASIErrno(host: Glibc.errno)
        }
        return utimensat(target.0, target.1, times, AT_SYMLINK_NOFOLLOW) == 0 ? .success : WASIErrno(host: Glibc.errno)
    }

    /// The directory holding the last component of `path`, opened (`oPath`) beneath `dir`, and
    /// that component (with a trailing slash kept: it asks for a directory). The caller closes
    /// the handle. An absolute path, or `..` or a symlink leading out of `dir`, is NOTCAPABLE.
    static func parent(of path: String, beneath dir: Int32) -> Result<(Int32, String), WASIErrno> {
        if path.isEmpty { return .failure(.noent) }
        if path.utf8.contains(0) { return .failure(.inval) }
        var trimmed = Substring(path)
        var trailingSlash = false
        while trimmed.count > 1, trimmed.hasSuffix("/") {
            trimmed.removeLast()
            trailingSlash = true
        }
        var parentPath = ".", name = String(trimmed)
        if let k = trimmed.lastIndex(of: "/") {
            parentPath = k == trimmed.startIndex ? "/" : String(trimmed[..<k])
            name = String(trimmed[trimmed.index(after: k)...])
        }
        let fd = strata_wasi_open_beneath(dir, parentPath, oPath | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return .failure(WASIErrno(host: -fd)) }
        return .success((fd, trailingSlash ? name + "/" : name))
    }
}
