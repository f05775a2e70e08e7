import Glibc

/// Machine code placed in its own mapping: written while writable (never executable), then
/// made read+execute with `mprotect` before any pointer to it escapes. Freed on deinit.
final class ExecutableMemory: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    /// Copies `bytes` into a fresh mapping and makes it executable.
    init(_ write: (UnsafeMutableRawPointer) -> Void, byteCount: Int) throws(WasmError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = max((byteCount + page - 1) / page * page, page)
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0), p != MAP_FAILED else {
            throw WasmError(.unsupported, "cannot map memory for compiled code")
        }
        write(p)
        guard mprotect(p, size, PROT_READ | PROT_EXEC) == 0 else {
            munmap(p, size)
            throw WasmError(.unsupported, "cannot make compiled code executable (mprotect refused PROT_EXEC)")
        }
        base = p
        self.size = size
    }

    convenience init(bytes: [UInt8]) throws(WasmError) {
        try self.init({ p in bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }, byteCount: bytes.count)
    }

    deinit { munmap(base, size) }
}
