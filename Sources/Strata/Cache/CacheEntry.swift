import CStrata
import Crypto

/// The code cache's entry format and the identity of the code generator that wrote it.
enum CodeCacheFormat {
    static let magic: [UInt8] = Array("STRATAC".utf8) + [1]
    static let version: UInt32 = 9
    /// Strata's version; bump `compilerRevision` with any change to generated code.
    static let strataVersion = "0.4.0-dev"
    static let compilerRevision = 16
    /// Settings that change what the baseline compiler emits.
    static let compilerSettings = "baseline-r\(compilerRevision);locals-in-registers=5gpr+6xmm;unwind=eh_frame;"
        + "optimizing-r\(OptimizingCompiler.revision)"
    static let features = "wasm-2.0;v128-interpreted"

    /// Version, revision, and a digest of the baseline and optimizing compilers' output for a
    /// fixed probe module: a build whose code generator differs gets other keys even if nobody
    /// bumped the revision.
    static let identity: String = {
        var h = SHA256()
        probe.withUnsafeBufferPointer { buffer in
            if let functions = try? Module.compileFunctionsForIdentity(buffer) {
                for f in functions { f.code.withUnsafeBytes { h.update(bufferPointer: $0) } }
            }
        }
        let digest = CacheKey(digest: Array(h.finalize())).hex
        return "strata \(strataVersion) format \(version) codegen \(digest)"
    }()

    /// `identity`, remembered by a persistent cache (`BuildIdentityMemo`: a directory cache, or a
    /// fallback cache holding one) per binary, under a key derived from the binary's GNU build
    /// id: a process that finds it there compiles no probe at start-up (about a millisecond).
    /// The value is the probe's identity itself, so programs with the same code generator still
    /// share entries; a remembered value of the wrong form is ignored.
    static func identity(using cache: (any CodeCache)?) -> String {
        if let known = known.withLock({ $0 }) { return known }
        let memo = cache as? BuildIdentityMemo, key = identityKey
        if let memo, let key, let stored = memo.loadMemo(key), let s = rememberedIdentity(stored) {
            known.withLock { $0 = s }
            return s
        }
        let s = identity
        known.withLock { $0 = s }
        if let memo, let key { memo.storeMemo(key, Array(s.utf8)) }
        return s
    }
    private static let known = Locked<String?>(nil)
    /// A remembered identity, if it has the form of this version's (`identity`): else nil.
    static func rememberedIdentity(_ bytes: [UInt8]) -> String? {
        let s = String(decoding: bytes, as: UTF8.self)
        let prefix = "strata \(strataVersion) format \(version) codegen "
        guard s.hasPrefix(prefix), s.utf8.count == prefix.utf8.count + 64,
              s.utf8.dropFirst(prefix.utf8.count).allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return s
    }
    /// Where `identity(using:)` keeps the identity: nil for a binary without a build id.
    static let identityKey: CacheKey? = {
        var id = [UInt8](repeating: 0, count: 64)
        let n = id.withUnsafeMutableBufferPointer { strata_build_id($0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        var h = SHA256()
        h.update(data: Array("strata-build-identity \(strataVersion) format \(version)".utf8))
        h.update(data: Array(id.prefix(n)))
        return CacheKey(digest: Array(h.finalize()))
    }()

    /// A small C program compiled for wasm32 (loops, integer and float arithmetic, memory,
    /// globals, an indirect call).
    static let probe: [UInt8] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01,
        0x7f, 0x60, 0x02, 0x7f, 0x7c, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x01, 0x00, 0x00, 0x04, 0x05, 0x01,
        0x70, 0x01, 0x03, 0x03, 0x05, 0x03, 0x01, 0x00, 0x02, 0x06, 0x08, 0x01, 0x7f, 0x01, 0x41, 0x90,
        0x8c, 0x04, 0x0b, 0x07, 0x10, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03,
        0x72, 0x75, 0x6e, 0x00, 0x00, 0x09, 0x08, 0x01, 0x00, 0x41, 0x01, 0x0b, 0x02, 0x01, 0x02, 0x0a,
        0x80, 0x02, 0x03, 0xdf, 0x01, 0x01, 0x04, 0x7f, 0x02, 0x40, 0x20, 0x00, 0x41, 0x01, 0x48, 0x0d,
        0x00, 0x41, 0x00, 0x21, 0x02, 0x41, 0x00, 0x21, 0x03, 0x41, 0x01, 0x21, 0x04, 0x03, 0x40, 0x20,
        0x03, 0x41, 0x3f, 0x71, 0x41, 0x03, 0x74, 0x22, 0x05, 0x20, 0x01, 0x20, 0x04, 0x41, 0x8d, 0xcc,
        0xe5, 0x00, 0x6c, 0x41, 0xdf, 0xe6, 0xbb, 0xe3, 0x03, 0x6a, 0x22, 0x04, 0x41, 0x07, 0x76, 0xb8,
        0xa2, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40, 0xa3, 0x20, 0x05, 0x2b, 0x03, 0x90,
        0x88, 0x80, 0x80, 0x00, 0xa0, 0x39, 0x03, 0x90, 0x88, 0x80, 0x80, 0x00, 0x41, 0x00, 0x41, 0x00,
        0x29, 0x03, 0x88, 0x88, 0x80, 0x80, 0x00, 0x42, 0x03, 0x86, 0x20, 0x02, 0x41, 0x3f, 0x71, 0x41,
        0x03, 0x74, 0x2b, 0x03, 0x90, 0x88, 0x80, 0x80, 0x00, 0xfc, 0x06, 0x85, 0x37, 0x03, 0x88, 0x88,
        0x80, 0x80, 0x00, 0x20, 0x03, 0x41, 0x01, 0x71, 0x21, 0x05, 0x20, 0x02, 0x41, 0x07, 0x6a, 0x21,
        0x02, 0x20, 0x03, 0x41, 0x01, 0x6a, 0x22, 0x03, 0x20, 0x00, 0x20, 0x00, 0x20, 0x04, 0x20, 0x05,
        0x41, 0x02, 0x74, 0x28, 0x02, 0x80, 0x88, 0x80, 0x80, 0x00, 0x11, 0x80, 0x80, 0x80, 0x80, 0x00,
        0x80, 0x80, 0x80, 0x80, 0x00, 0x41, 0x01, 0x71, 0x6b, 0x22, 0x00, 0x48, 0x0d, 0x00, 0x0b, 0x0b,
        0x41, 0x00, 0x29, 0x03, 0x88, 0x88, 0x80, 0x80, 0x00, 0x41, 0x00, 0x2b, 0x03, 0xa8, 0x88, 0x80,
        0x80, 0x00, 0xfc, 0x06, 0x7c, 0xa7, 0x20, 0x01, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8,
        0x3f, 0x64, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x01, 0x20, 0x00, 0x6a, 0x0b, 0x15, 0x00, 0x02, 0x40,
        0x20, 0x01, 0x45, 0x0d, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0f, 0x0b, 0x20, 0x00, 0x41, 0x07,
        0x6f, 0x0b, 0x0b, 0x1d, 0x02, 0x00, 0x41, 0x80, 0x08, 0x0b, 0x08, 0x01, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x00, 0x00, 0x41, 0x88, 0x08, 0x0b, 0x08, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x4b, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x0b, 0x0a, 0x70, 0x72, 0x6f, 0x62, 0x65,
        0x2e, 0x77, 0x61, 0x73, 0x6d, 0x01, 0x10, 0x03, 0x00, 0x03, 0x72, 0x75, 0x6e, 0x01, 0x03, 0x61,
        0x64, 0x64, 0x02, 0x03, 0x64, 0x76, 0x64, 0x07, 0x12, 0x01, 0x00, 0x0f, 0x5f, 0x5f, 0x73, 0x74,
        0x61, 0x63, 0x6b, 0x5f, 0x70, 0x6f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x09, 0x11, 0x02, 0x00, 0x07,
        0x2e, 0x72, 0x6f, 0x64, 0x61, 0x74, 0x61, 0x01, 0x05, 0x2e, 0x64, 0x61, 0x74, 0x61, 0x00, 0x7f,
        0x09, 0x70, 0x72, 0x6f, 0x64, 0x75, 0x63, 0x65, 0x72, 0x73, 0x01, 0x0c, 0x70, 0x72, 0x6f, 0x63,
        0x65, 0x73, 0x73, 0x65, 0x64, 0x2d, 0x62, 0x79, 0x01, 0x05, 0x63, 0x6c, 0x61, 0x6e, 0x67, 0x5f,
        0x32, 0x31, 0x2e, 0x30, 0x2e, 0x30, 0x20, 0x28, 0x68, 0x74, 0x74, 0x70, 0x73, 0x3a, 0x2f, 0x2f,
        0x67, 0x69, 0x74, 0x68, 0x75, 0x62, 0x2e, 0x63, 0x6f, 0x6d, 0x2f, 0x73, 0x77, 0x69, 0x66, 0x74,
        0x6c, 0x61, 0x6e, 0x67, 0x2f, 0x6c, 0x6c, 0x76, 0x6d, 0x2d, 0x70, 0x72, 0x6f, 0x6a, 0x65, 0x63,
        0x74, 0x2e, 0x67, 0x69, 0x74, 0x20, 0x31, 0x31, 0x36, 0x37, 0x33, 0x65, 0x36, 0x36, 0x36, 0x30,
        0x62, 0x32, 0x64, 0x30, 0x61, 0x35, 0x66, 0x39, 0x66, 0x39, 0x39, 0x62, 0x31, 0x63, 0x37, 0x62,
        0x37, 0x37, 0x33, 0x66, 0x34, 0x63, 0x32, 0x66, 0x36, 0x64, 0x66, 0x31, 0x62, 0x30, 0x29, 0x00,
        0x94, 0x01, 0x0f, 0x74, 0x61, 0x72, 0x67, 0x65, 0x74, 0x5f, 0x66, 0x65, 0x61, 0x74, 0x75, 0x72,
        0x65, 0x73, 0x08, 0x2b, 0x0b, 0x62, 0x75, 0x6c, 0x6b, 0x2d, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79,
        0x2b, 0x0f, 0x62, 0x75, 0x6c, 0x6b, 0x2d, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x2d, 0x6f, 0x70,
        0x74, 0x2b, 0x16, 0x63, 0x61, 0x6c, 0x6c, 0x2d, 0x69, 0x6e, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74,
        0x2d, 0x6f, 0x76, 0x65, 0x72, 0x6c, 0x6f, 0x6e, 0x67, 0x2b, 0x0a, 0x6d, 0x75, 0x6c, 0x74, 0x69,
        0x76, 0x61, 0x6c, 0x75, 0x65, 0x2b, 0x0f, 0x6d, 0x75, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x2d, 0x67,
        0x6c, 0x6f, 0x62, 0x61, 0x6c, 0x73, 0x2b, 0x13, 0x6e, 0x6f, 0x6e, 0x74, 0x72, 0x61, 0x70, 0x70,
        0x69, 0x6e, 0x67, 0x2d, 0x66, 0x70, 0x74, 0x6f, 0x69, 0x6e, 0x74, 0x2b, 0x0f, 0x72, 0x65, 0x66,
        0x65, 0x72, 0x65, 0x6e, 0x63, 0x65, 0x2d, 0x74, 0x79, 0x70, 0x65, 0x73, 0x2b, 0x08, 0x73, 0x69,
        0x67, 0x6e, 0x2d, 0x65, 0x78, 0x74
    ]
}

/// What a cache entry holds for one module: the compiled functions (a `CodeImage`: machine
/// code, trap tables, call sites) with their tier, and the hotness profile of the run
/// (functions that got hot), and the functions the optimizing tier refused (the next run
/// does not build their IR again to find out).
///
///     header:  magic (8) | format version (4) | header size (4) | key (32) | payload size (8) | payload checksum (8)
///     payload: tier | function count | hot count | refused count | tables size | placed offset | placed size | 0 (8 x u32)
///              | the functions' headers, then their tables (`CodeImage.writeTables`) | hot function indices (u32)
///              | refused functions (u32 pairs: index, reason: 0 too large, 1 too complex)
///              | zeros to the placed offset (a multiple of 4096 from the entry's start)
///              | the placed code (`CodeImage.Placement`: code at 64-byte starts, then `.eh_frame`)
///
/// The placed code is what executable memory will hold, byte for byte, and page-aligned in
/// the file: a hit from a directory cache maps it (`CompiledCode`), no copy, no fresh pages.
struct CacheEntry {
    var tier: UInt32
    var image: CodeImage
    var hot: [Int]
    /// Functions the optimizing tier refused (`OptimizingCompiler.refusesFunction`), each with
    /// its reason: 0 too large, 1 too complex.
    var refused: [(index: Int, reason: UInt32)] = []

    static let headerSize = 8 + 4 + 4 + 32 + 8 + 8
    static let payloadHeaderSize = 32
    /// The placed code's alignment in the file: the largest page size of the machines the
    /// entry can run on (x86-64 Linux: 4 KiB).
    static let placedAlignment = 4096

    func serialize(key: CacheKey) -> [UInt8] {
        let placement = image.placement
        let tablesSize = image.tablesByteCount
        let end = Self.headerSize + Self.payloadHeaderSize + tablesSize + 4 * hot.count + 8 * refused.count
        let placedOffset = placement.byteCount == 0 ? end : (end + Self.placedAlignment - 1) / Self.placedAlignment * Self.placedAlignment
        let total = placedOffset + placement.byteCount
        let payloadSize = total - Self.headerSize
        var out = [UInt8](repeating: 0, count: total)
        out.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            func put32(_ at: Int, _ v: UInt32) { (p + at).storeBytes(of: v.littleEndian, toByteOffset: 0, as: UInt32.self) }
            for (i, b) in CodeCacheFormat.magic.enumerated() { p.storeBytes(of: b, toByteOffset: i, as: UInt8.self) }
            put32(8, CodeCacheFormat.version)
            put32(12, UInt32(Self.headerSize))
            for (i, b) in key.bytes.enumerated() { p.storeBytes(of: b, toByteOffset: 16 + i, as: UInt8.self) }
            (p + 48).storeBytes(of: UInt64(payloadSize).littleEndian, as: UInt64.self)
            let q = Self.headerSize
            put32(q, tier); put32(q + 4, UInt32(image.functions.count)); put32(q + 8, UInt32(hot.count)); put32(q + 12, UInt32(refused.count))
            put32(q + 16, UInt32(tablesSize)); put32(q + 20, UInt32(placedOffset)); put32(q + 24, UInt32(placement.byteCount))
            let tables = q + Self.payloadHeaderSize
            image.writeTables(to: p + tables)
            for (k, h) in hot.enumerated() { put32(tables + tablesSize + 4 * k, UInt32(h)) }
            let refusedAt = tables + tablesSize + 4 * hot.count
            for (k, r) in refused.enumerated() { put32(refusedAt + 8 * k, UInt32(r.index)); put32(refusedAt + 8 * k + 4, r.reason) }
            placement.write(image, to: p + placedOffset)
            let sum = payloadChecksum(UnsafeRawBufferPointer(start: p + q, count: payloadSize))
            (p + 56).storeBytes(of: sum.littleEndian, as: UInt64.self)
        }
        return out
    }

    /// Parses and checks an entry; nil for anything wrong (truncated, corrupt, another
    /// version or key, inconsistent sizes, functions the module does not have).
    static func parse(_ bytes: [UInt8], key: CacheKey, functionCount: Int) -> CacheEntry? {
        parse(SharedBytes(bytes), key: key, functionCount: functionCount)
    }

    /// `verified`: the bytes are a file that checked out whole before, unchanged since
    /// (`EntryVerification`): the header and the functions' headers are checked, not the
    /// checksum nor the tables' entries, so only the pages those occupy are read.
    static func parse(_ bytes: SharedBytes, key: CacheKey, functionCount: Int, verified: Bool = false) -> CacheEntry? {
        let raw = bytes.bytes
        let h = headerSize, t = h + payloadHeaderSize
        guard raw.count >= t, let p = raw.baseAddress else { return nil }
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        guard Array(raw[0..<8]) == CodeCacheFormat.magic, u32(8) == Int(CodeCacheFormat.version), u32(12) == h,
              Array(raw[16..<48]) == key.bytes else { return nil }
        let size = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 48, as: UInt64.self))
        guard size == UInt64(raw.count - h) else { return nil }
        if verified { return parseStructure(bytes, functionCount: functionCount, checkingTables: false) }
        let sum = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
        // The checksum on other threads while this one checks the structure (every offset
        // and count is bounds-checked, so reading unchecked bytes is safe); both must pass.
        nonisolated(unsafe) let payload = UnsafeRawBufferPointer(rebasing: raw[h...])
        let summed = ConcurrentResult { withExtendedLifetime(bytes) { payloadChecksum(payload) == sum } }
        guard let entry = parseStructure(bytes, functionCount: functionCount, checkingTables: true), summed.value else {
            _ = summed.value  // the workers read `bytes`: they finish first
            return nil
        }
        return entry
    }

    /// An entry's payload structure, checked (its checksum not).
    private static func parseStructure(_ bytes: SharedBytes, functionCount: Int, checkingTables: Bool) -> CacheEntry? {
        let raw = bytes.bytes
        let h = headerSize, t = h + payloadHeaderSize
        let p = raw.baseAddress!
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        let tier = UInt32(u32(h)), count = u32(h + 4), hotCount = u32(h + 8), refusedCount = u32(h + 12), tablesSize = u32(h + 16)
        let placedOffset = u32(h + 20), placedSize = u32(h + 24)
        let hotAt = t + tablesSize, refusedAt = hotAt + 4 * hotCount
        guard u32(h + 28) == 0, tablesSize <= raw.count - t, hotCount <= (raw.count - hotAt) / 4,
              refusedCount <= (raw.count - refusedAt) / 8, placedOffset >= refusedAt + 8 * refusedCount,
              placedOffset <= raw.count, placedSize == raw.count - placedOffset,
              placedSize == 0 || placedOffset % placedAlignment == 0 else { return nil }
        guard let image = CodeImage.parse(bytes, tables: t..<hotAt, placed: placedOffset..<raw.count,
                                          count: count, functionCount: functionCount, checkingTables: checkingTables) else { return nil }
        var hot: [Int] = []
        for k in 0..<hotCount {
            let i = u32(hotAt + 4 * k)
            guard i < functionCount else { return nil }
            hot.append(i)
        }
        var refused: [(index: Int, reason: UInt32)] = []
        for k in 0..<refusedCount {
            let i = u32(refusedAt + 8 * k), reason = UInt32(u32(refusedAt + 8 * k + 4))
            guard i < functionCount, reason <= 1 else { return nil }
            refused.append((i, reason))
        }
        return CacheEntry(tier: tier, image: image, hot: hot, refused: refused)
    }
}
