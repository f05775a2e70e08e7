import Glibc

/// Machine code placed in its own mapping: written while writable (never executable), then
/// made read+execute with `mprotect` before any pointer to it escapes. Freed on deinit. Or
/// code borrowed where it lies: a code cache entry's mapping, made read+execute (never
/// writable), freed with the entry.
final class ExecutableMemory: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int
    /// Who owns memory this object only borrows (a mapped code cache entry); nil: our mapping.
    private let owner: AnyObject?

    /// Code that is executable already where it lies, kept alive by `owner`.
    init(borrowing base: UnsafeMutableRawPointer, size: Int, owner: AnyObject) {
        self.base = base
        self.size = size
        self.owner = owner
    }

    /// Copies `bytes` into a fresh mapping and makes it executable.
    init(_ write: (UnsafeMutableRawPointer) -> Void, byteCount: Int) throws(WasmError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = max((byteCount + page - 1) / page * page, page)
        let p: UnsafeMutableRawPointer
        if size >= hugePageBytes {
            // Large images (a whole module's code): 2 MiB-aligned so the kernel can back them
            // with transparent huge pages: far fewer page faults while the code is written,
            // and fewer iTLB misses while it runs.
            guard let q = mapHugePageAligned(bytes: size, protection: PROT_READ | PROT_WRITE) else {
                throw WasmError(.unsupported, "cannot map memory for compiled code")
            }
            p = q
        } else {
            guard let q = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0), q != MAP_FAILED else {
                throw WasmError(.unsupported, "cannot map memory for compiled code")
            }
            p = q
        }
        write(p)
        guard mprotect(p, size, PROT_READ | PROT_EXEC) == 0 else {
            munmap(p, size)
            throw WasmError(.unsupported, "cannot make compiled code executable (mprotect refused PROT_EXEC)")
        }
        base = p
        self.size = size
        owner = nil
    }

    convenience init(bytes: [UInt8]) throws(WasmError) {
        try self.init({ p in bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }, byteCount: bytes.count)
    }

    deinit { if owner == nil { munmap(base, size) } }
}
