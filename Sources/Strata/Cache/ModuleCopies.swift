#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the code cache keeps so that a module file read before need not be read or hashed
/// again: a copy of its bytes, content-addressed by their SHA-256 (`CacheKey.digest`), and a
/// record per file identity naming that digest. A warm start then maps the copy (page-cache
/// pages, no fresh memory) instead of reading 69 MB into an array and hashing it, as ccache's
/// inode cache and git's index trust `stat` data. Both live in the directory caches, as
/// entries (counted, evicted and cleaned with them), never in memory caches.
///
///     record: a `FileRecord` of magic "STRATAF\u{1}" whose value is the digest
///     copy:   magic "STRATAM\u{1}" | version (4) | header size (4) | digest (32) | size (8)
///             | body table size (8) | zeros (0-4095) | the module bytes
///             | the body table: per body its offset, locals start and end (u32 each)
///
/// The zeros put one data segment's bytes at a file offset congruent to its memory address
/// modulo the page size (the largest active segment with a constant address), so that
/// instantiation can map its whole pages copy-on-write from the copy instead of copying them
/// into fresh memory (`Memory.mapCopyOnWrite`; Yosys: 5.2 MB). The body table spares decoding
/// the walk over every body's size (`ModuleDecoder.knownBodies`; checked to partition the code
/// section, else the section is walked).
///
/// The copy carries no checksum of its bytes, unlike a code entry: checking one reads all
/// 69 MB of Yosys at every start (about 5 ms, and the mapping must be populated for it, 8 ms
/// more), while the bytes get the checks the module file itself gets: decoding checks the
/// sections at creation, and a body is validated before its first translation or compilation
/// (code from the entry was compiled from the validated original). A damaged copy is no more
/// dangerous than a damaged module file.
enum ModuleCopies {
    static let recordMagic: [UInt8] = Array("STRATAF".utf8) + [1]
    static let copyMagic: [UInt8] = Array("STRATAM".utf8) + [1]
    static let version: UInt32 = 2
    static let recordSize = FileRecord.size
    static let copyHeaderSize = 8 + 4 + 4 + 32 + 8 + 8
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The directory caches of `cache` (itself, or those a fallback cache holds).
    static func directories(_ cache: (any CodeCache)?) -> [DirectoryCodeCache] {
        if let d = cache as? DirectoryCodeCache { return [d] }
        if let f = cache as? FallbackCodeCache { return f.caches.flatMap { directories($0) } }
        return []
    }

    static func recordKey(_ id: FileIdentity) -> CacheKey {
        var parts: [UInt8] = []
        parts.appendLittleEndian(id.device); parts.appendLittleEndian(id.inode)
        return CacheKey.derived("strata-module-file-record \(version)", parts)
    }

    static func copyKey(_ digest: [UInt8]) -> CacheKey { CacheKey.derived("strata-module-copy \(version)", digest) }

    /// The module bytes a directory cache holds for the file `id` names, their digest and the
    /// body table (in the same mapping): nil unless a record of exactly this identity names a
    /// digest whose copy is there, whole.
    static func load(
        _ id: FileIdentity, from cache: (any CodeCache)?
    ) -> (bytes: SharedBytes, digest: [UInt8], bodies: UnsafeRawBufferPointer)? {
        for directory in directories(cache) {
            guard let stored = directory.loadMapped(recordKey(id)), let digest = parseRecord(stored, id) else { continue }
            if let copy = directory.loadMapped(copyKey(digest), populate: false, keepingPath: true),
               let (bytes, bodies) = parseCopy(copy, digest: digest) {
                return (bytes, digest, bodies)
            }
        }
        return nil
    }

    /// Stores the copy of `bytes` (whose digest is `digest`) and the record of `id` in the
    /// directory caches of `cache`. The copy first: a record never names a copy that was not
    /// written (a reader finding the record but no copy reads the file, as without either).
    /// `align`: a byte of the module (its offset) to place at a file offset congruent to
    /// `address` modulo the page size. Caches whose size bound is less than four times the
    /// copy's size get neither.
    static func store(
        _ bytes: SharedBytes, digest: [UInt8], id: FileIdentity, align: (offset: Int, address: UInt64)?,
        bodies: [FunctionBody], in cache: (any CodeCache)?
    ) {
        precondition(digest.count == 32 && UInt64(bytes.count) == id.size)
        let padding = align.map { a in
            Int((a.address &- UInt64(copyHeaderSize + a.offset)) % UInt64(pageSize))
        } ?? 0
        var table: [UInt8] = []
        table.reserveCapacity(12 * bodies.count)
        for b in bodies {
            table.appendLittleEndian(UInt32(b.bodyOffset)); table.appendLittleEndian(UInt32(b.localsStart)); table.appendLittleEndian(UInt32(b.codeEnd))
        }
        var header = copyMagic
        header.appendLittleEndian(version); header.appendLittleEndian(UInt32(copyHeaderSize + padding)); header += digest
        header.appendLittleEndian(UInt64(bytes.count)); header.appendLittleEndian(UInt64(table.count))
        header += [UInt8](repeating: 0, count: padding)
        let record = serializeRecord(id, digest: digest)
        // A copy larger than a quarter of the cache's bound would evict the entries it is there
        // to speed up (a 69 MB module in a 50 MB cache would take its 32 MB entry with it).
        for directory in directories(cache) where header.count + bytes.count + table.count <= directory.sizeLimit / 4 {
            let stored = header.withUnsafeBytes { h in table.withUnsafeBytes { t in directory.store(copyKey(digest), parts: [h, bytes.bytes, t]) } }
            guard stored else { continue }
            directory.store(recordKey(id), record)
        }
    }

    static func serializeRecord(_ id: FileIdentity, digest: [UInt8]) -> [UInt8] {
        FileRecord.serialize(magic: recordMagic, version: version, id, value: digest)
    }

    /// The digest a record names, when it is whole and records exactly `id`.
    static func parseRecord(_ stored: SharedBytes, _ id: FileIdentity) -> [UInt8]? {
        FileRecord.parse(stored, magic: recordMagic, version: version, id)
    }

    /// The module bytes of a copy and its body table, when its header is whole and names the
    /// module of `digest` and the sizes.
    static func parseCopy(_ stored: SharedBytes, digest: [UInt8]) -> (SharedBytes, UnsafeRawBufferPointer)? {
        let raw = stored.bytes
        guard raw.count >= copyHeaderSize, Array(raw[0..<8]) == copyMagic else { return nil }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let headerSize = Int(u32(12)), size = u64(48), tableSize = u64(56)
        guard u32(8) == version, headerSize >= copyHeaderSize, headerSize < copyHeaderSize + pageSize, headerSize <= raw.count,
              Array(raw[16..<48]) == digest, size <= UInt64(raw.count - headerSize), tableSize == UInt64(raw.count - headerSize) - size,
              raw[copyHeaderSize..<headerSize].allSatisfy({ $0 == 0 }) else { return nil }
        let end = headerSize + Int(size)
        return (SharedBytes(stored, range: headerSize..<end), UnsafeRawBufferPointer(rebasing: raw[end...]))
    }
}
