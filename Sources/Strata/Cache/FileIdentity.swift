#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's identity as `fstat` gives it: which file (device, inode) and which version of it
/// (size, modification and status-change times, to the nanosecond). A write to the file
/// changes its status-change time, which no system call can set back. The code cache trusts
/// it for two kinds of files: module files (`ModuleCopies`) and its own entries
/// (`EntryVerification`).
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: UInt64
    var modified: Int64   // nanoseconds since the epoch
    var changed: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = UInt64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        changed = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }

    init(device: UInt64, inode: UInt64, size: UInt64, modified: Int64, changed: Int64) {
        (self.device, self.inode, self.size, self.modified, self.changed) = (device, inode, size, modified, changed)
    }

    /// The identity of the file at `path` now (symbolic links not followed), or nil.
    init?(path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    /// How long a file must have stood unchanged before a read of it vouches for its identity.
    /// A write within the file system's timestamp granularity of the read (coarse clocks tick
    /// every few milliseconds; FAT's every 2 s) could leave every field as it was: git calls
    /// such a file "racily clean" and checks its content instead, as we do.
    static let settledNanoseconds: Int64 = 3_000_000_000

    /// Whether this version of the file is old enough at `now` (nanoseconds since the epoch,
    /// taken before the read) for its record to be trusted later.
    func isSettled(at now: Int64) -> Bool {
        max(modified, changed) <= now - Self.settledNanoseconds
    }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// A record that vouches for one version of a file: {magic (8), version (4), 0 (4), device,
/// inode, size, modification and status-change times (ns) (8 each), a 32-byte value, checksum
/// of the rest (8)}. What the value means is the record kind's (a module file's digest, a
/// verified entry's key); the magic tells the kinds apart.
enum FileRecord {
    static let size = 8 + 4 + 4 + 5 * 8 + 32 + 8

    static func serialize(magic: [UInt8], version: UInt32, _ id: FileIdentity, value: [UInt8]) -> [UInt8] {
        precondition(magic.count == 8 && value.count == 32)
        var out = magic
        out.appendLittleEndian(version); out.appendLittleEndian(UInt32(0))
        for v in [id.device, id.inode, id.size, UInt64(bitPattern: id.modified), UInt64(bitPattern: id.changed)] { out.appendLittleEndian(v) }
        out += value
        out.appendLittleEndian(out.withUnsafeBytes { payloadChecksum($0) })
        return out
    }

    /// The value a record holds, when it is whole, of this kind and version, and records
    /// exactly `id`.
    static func parse(_ stored: SharedBytes, magic: [UInt8], version: UInt32, _ id: FileIdentity) -> [UInt8]? {
        let raw = stored.bytes
        guard raw.count == size, Array(raw[0..<8]) == magic else { return nil }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == version,
              payloadChecksum(UnsafeRawBufferPointer(rebasing: raw[0..<(size - 8)])) == u64(size - 8) else { return nil }
        let recorded = FileIdentity(device: u64(16), inode: u64(24), size: u64(32),
                                    modified: Int64(bitPattern: u64(40)), changed: Int64(bitPattern: u64(48)))
        guard recorded == id else { return nil }
        return Array(raw[56..<88])
    }
}
