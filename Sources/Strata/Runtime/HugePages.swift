#if canImport(Glibc)
import Glibc
#endif

/// The size of a transparent huge page on x86-64 Linux.
let hugePageBytes = 2 << 20

/// Asks the kernel to back the 2 MiB-aligned stretches of a fresh mapping with transparent
/// huge pages: one fault per 2 MiB where writing it would take one per 4 KiB page, and fewer
/// TLB misses. Used for a module's compiled code (`ExecutableMemory`) and linear memories
/// (`Memory`), both mapped by `mapHugePageAligned` so that all of them qualifies, and for a
/// module's interpreter stubs and an instance's storage (their aligned stretches only). A hint;
/// nothing changes where THP is off.
func adviseHugePages(_ p: UnsafeMutableRawPointer, bytes: Int) {
    guard bytes >= hugePageBytes else { return }
    let start = (UInt(bitPattern: p) + UInt(hugePageBytes - 1)) & ~UInt(hugePageBytes - 1)
    let end = (UInt(bitPattern: p) + UInt(bytes)) & ~UInt(hugePageBytes - 1)
    guard end > start else { return }
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), 14 /* MADV_HUGEPAGE */)
}

/// A fresh anonymous mapping of `bytes` (`protection`, `MAP_PRIVATE | MAP_ANONYMOUS | flags`)
/// that starts at a 2 MiB boundary, marked for transparent huge pages (`adviseHugePages`), so
/// that every whole 2 MiB of it can be one huge page; nil when it cannot be mapped.
func mapHugePageAligned(bytes: Int, protection: Int32, flags: Int32 = 0) -> UnsafeMutableRawPointer? {
    guard let q = mmap(nil, bytes + hugePageBytes, protection, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0), q != MAP_FAILED else {
        return nil
    }
    let aligned = (Int(bitPattern: q) + hugePageBytes - 1) & ~(hugePageBytes - 1)
    let head = aligned - Int(bitPattern: q)
    if head > 0 { munmap(q, head) }
    if hugePageBytes - head > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + bytes), hugePageBytes - head) }
    let p = UnsafeMutableRawPointer(bitPattern: aligned)!
    adviseHugePages(p, bytes: bytes)
    return p
}
