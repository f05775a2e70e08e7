#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which code entries of a directory cache were checked whole, so that a warm start need not
/// check them again. Checking an entry whole (`CacheEntry.parse`: its checksum and every
/// table) reads every byte of it, and for that maps every page: Yosys's 32 MB entry cost
/// about 5 ms of the checking threads at every start, and as much again for the kernel to
/// unmap those pages at exit, where the code that runs touches a fraction of them.
///
/// After an entry file checks out whole, a record of its identity (`FileIdentity`) is kept
/// beside it, as an entry of its own (a `FileRecord` of magic "STRATAV\u{1}" whose value is
/// the entry's key, under a key derived from it). A later read of a file with exactly that
/// identity checks its header and its functions' headers, not its checksum nor the tables'
/// entries, and maps only the pages that are used. The trust is the module files' one
/// (`ModuleCopies`): a write to the entry file changes its status-change time, so an unchanged
/// identity means unchanged bytes; a record is written only for a file that had stood unchanged
/// for `FileIdentity.settledNanoseconds` before the read and did not change during the check;
/// and a cache hit refreshes the file's time only once an hour
/// (`DirectoryCodeCache.refreshNanoseconds`), since that changes the identity too. Damage that
/// bypasses the status-change time (a raw block device, a clock set back, the disk itself) is
/// outside this model, as it is for ccache and git.
enum EntryVerification {
    static let magic: [UInt8] = Array("STRATAV".utf8) + [1]
    static let version: UInt32 = 1

    static func recordKey(_ key: CacheKey) -> CacheKey { CacheKey.derived("strata-verified-entry \(version)", key.bytes) }

    /// Whether `directory` holds a record that the entry under `key`, as `id`, checked out whole.
    static func isVerified(_ key: CacheKey, _ id: FileIdentity, in directory: DirectoryCodeCache) -> Bool {
        guard let stored = directory.loadMapped(recordKey(key)) else { return false }
        return FileRecord.parse(stored, magic: magic, version: version, id) == key.bytes
    }

    /// Records that the entry under `key`, read as `id` from a read that began at `readStart`,
    /// checked out whole: when it had stood unchanged long enough before the read and the file
    /// under its path is still that version.
    static func record(_ key: CacheKey, _ id: FileIdentity, readStart: Int64, in directory: DirectoryCodeCache) {
        guard id.isSettled(at: readStart), FileIdentity(path: directory.path(for: key)) == id else { return }
        directory.store(recordKey(key), FileRecord.serialize(magic: magic, version: version, id, value: key.bytes))
    }

    /// The entry under `key` in `directory`, mapped and parsed for a module of `functionCount`
    /// functions: checked whole unless a record vouches for the file (and a record written
    /// when it checks out), else only its header and its functions' headers (`verified`).
    /// `stored` false: no entry; a nil entry: one that does not check out.
    static func load(
        _ key: CacheKey, functionCount: Int, from directory: DirectoryCodeCache
    ) -> (stored: Bool, entry: CacheEntry?, verified: Bool) {
        let readStart = FileIdentity.now()
        guard let (bytes, id) = directory.loadMappedWithIdentity(key) else { return (false, nil, false) }
        let verified = id.map { isVerified(key, $0, in: directory) } ?? false
        let entry = CacheEntry.parse(bytes, key: key, functionCount: functionCount, verified: verified)
        if entry != nil, !verified, let id { record(key, id, readStart: readStart, in: directory) }
        return (true, entry, verified)
    }
}
