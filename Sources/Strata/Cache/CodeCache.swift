import CStrata
import Crypto

/// The key of a cache entry: SHA-256 over everything that shapes compiled code (the module
/// bytes' SHA-256, Strata's version and build, the tier and compiler settings, the enabled features, the CPU
/// features the code relies on). Two configurations never share an entry.
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]  // 32

    init(digest: [UInt8]) { bytes = digest }

    /// Lowercase hex, as file names use it.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var s: [UInt8] = []
        s.reserveCapacity(64)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
    public var description: String { hex }

    /// The key of a record the cache keeps beside entries (`ModuleCopies`, `EntryVerification`):
    /// SHA-256 of a label naming the record's kind and version, then `parts`.
    static func derived(_ label: String, _ parts: [UInt8]) -> CacheKey {
        var h = SHA256()
        h.update(data: Array(label.utf8))
        h.update(data: parts)
        return CacheKey(digest: Array(h.finalize()))
    }

    /// SHA-256 of a module's bytes: what its keys are made from (and what names its copy in a
    /// directory cache, `ModuleCopies`), so a key is found again from the digest alone.
    static func digest(module: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: UnsafeRawBufferPointer(module)))
    }

    /// The key of `module` bytes for an engine's configuration on this machine (tiered mode's
    /// baseline code has the hotness weights built in).
    static func of(module: UnsafeBufferPointer<UInt8>, configuration c: EngineConfiguration, cpuFeatures: UInt32? = nil) -> CacheKey {
        of(moduleDigest: digest(module: module), configuration: c, cpuFeatures: cpuFeatures)
    }

    /// The key of the module whose `digest` this is, for an engine's configuration.
    static func of(moduleDigest: [UInt8], configuration c: EngineConfiguration, cpuFeatures: UInt32? = nil) -> CacheKey {
        var h = hasher(tier: c.tier, cpuFeatures: cpuFeatures ?? c.codeFeatures, identity: CodeCacheFormat.identity(using: c.codeCache),
                       settings: "wasm-features=\(c.features.rawValue);" + (c.tier == .tiered ? "hotness-weights=\(c.callWeight),\(c.loopWeight)" : "")
                           + (c.interpreterOnlyFunctions.isEmpty ? "" : "interpreter-only=\(c.interpreterOnlyFunctions.sorted())"))
        h.update(data: moduleDigest)
        return CacheKey(digest: Array(h.finalize()))
    }

    /// Computes the key of `module` bytes compiled for `tier` on this machine.
    static func of(
        module: UnsafeBufferPointer<UInt8>, tier: Tier, cpuFeatures: UInt32, identity: String = CodeCacheFormat.identity, settings: String = ""
    ) -> CacheKey {
        var h = hasher(tier: tier, cpuFeatures: cpuFeatures, identity: identity, settings: settings)
        h.update(data: digest(module: module))
        return CacheKey(digest: Array(h.finalize()))
    }

    private static func hasher(tier: Tier, cpuFeatures: UInt32, identity: String, settings: String) -> SHA256 {
        var h = SHA256()
        h.update(data: Array("strata-code-cache".utf8))
        h.update(data: Array(identity.utf8))
        h.update(data: Array("tier=\(tier.rawValue);compiler=\(CodeCacheFormat.compilerSettings);features=\(CodeCacheFormat.features);\(settings)".utf8))
        withUnsafeBytes(of: cpuFeatures.littleEndian) { h.update(bufferPointer: $0) }
        return h
    }
}

/// Where compiled code is kept between runs (or between engines of one process). Entries are
/// opaque bytes; the engine checks what it loads (magic, version, checksum, structure) and
/// treats anything wrong as a miss. Implementations must be thread-safe.
public protocol CodeCache: AnyObject, Sendable {
    /// The entry stored under `key`, or nil.
    func load(_ key: CacheKey) -> [UInt8]?
    /// Stores (or replaces) the entry under `key`. Failures are not errors: the next run
    /// compiles again.
    func store(_ key: CacheKey, _ entry: [UInt8])
    /// Drops the entry under `key` (a corrupt one, say).
    func remove(_ key: CacheKey)
}

/// A cache in memory, shared by the engines of one process that are given it.
public final class InMemoryCodeCache: CodeCache, @unchecked Sendable {
    private let entries = Locked<[CacheKey: [UInt8]]>([:])

    public init() {}

    public func load(_ key: CacheKey) -> [UInt8]? { entries.withLock { $0[key] } }
    public func store(_ key: CacheKey, _ entry: [UInt8]) { entries.withLock { $0[key] = entry } }
    public func remove(_ key: CacheKey) { _ = entries.withLock { $0.removeValue(forKey: key) } }
    public var count: Int { entries.withLock { $0.count } }
}

/// Tries caches in order (say, memory first, then a directory); a hit in a later cache is
/// copied into the earlier ones, and stores go to all.
public final class FallbackCodeCache: CodeCache, @unchecked Sendable {
    public let caches: [any CodeCache]

    public init(_ caches: [any CodeCache]) { self.caches = caches }

    public func load(_ key: CacheKey) -> [UInt8]? {
        for (i, c) in caches.enumerated() {
            if let entry = c.load(key) {
                for earlier in caches[..<i] { earlier.store(key, entry) }
                return entry
            }
        }
        return nil
    }
    public func store(_ key: CacheKey, _ entry: [UInt8]) { for c in caches { c.store(key, entry) } }
    public func remove(_ key: CacheKey) { for c in caches { c.remove(key) } }
}

/// A cache that remembers the build identity per binary (`CodeCacheFormat.identity(using:)`)
/// outside its entries: the persistent ones.
protocol BuildIdentityMemo {
    func loadMemo(_ key: CacheKey) -> [UInt8]?
    func storeMemo(_ key: CacheKey, _ value: [UInt8])
}
extension DirectoryCodeCache: BuildIdentityMemo {}
extension FallbackCodeCache: BuildIdentityMemo {
    func loadMemo(_ key: CacheKey) -> [UInt8]? {
        for c in caches { if let m = c as? BuildIdentityMemo, let v = m.loadMemo(key) { return v } }
        return nil
    }
    func storeMemo(_ key: CacheKey, _ value: [UInt8]) { for c in caches { (c as? BuildIdentityMemo)?.storeMemo(key, value) } }
}
