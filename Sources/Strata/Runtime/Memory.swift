import CStrata
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A linear memory. Every memory reserves 8 GiB of address space up front (4 GiB of
/// addressable range plus 4 GiB of guard, which covers any 32-bit offset), so the base never
/// moves and compiled code can rely on guard pages instead of bounds checks. Growing only
/// changes page protection. The reservation starts at a 2 MiB boundary and asks for
/// transparent huge pages (`mapHugePageAligned`). 64-bit memories (memory64) have the same
/// implementation limit of 4 GiB (65536 pages): growing past it fails, as `memory.grow` may,
/// and an instance whose memory needs more cannot be created.
public final class Memory: @unchecked Sendable {
    public let type: MemoryType
    let definition: UnsafeMutablePointer<StrataMemoryDefinition>
    private let reservation: Int
    public var maxPages: UInt64 { min(type.limits.max ?? maxMemoryPages32, maxMemoryPages32) }
    /// The largest size in pages Strata gives any memory, 32- or 64-bit (4 GiB).
    public static let implementationMaxPages = maxMemoryPages32

    /// 8 GiB (any 32-bit address plus any 32-bit offset) and one page for the access width.
    static let reservationSize = (8 << 30) + 65536
    /// Whether the whole guard region is reserved (compiled code relies on it).
    var isGuarded: Bool { reservation >= Self.reservationSize }

    /// A memory owned by the host (for imports).
    public init(type: MemoryType) throws(WasmError) {
        self.type = type
        definition = .allocate(capacity: 1)
        var size = Self.reservationSize
        // From a 2 MiB boundary, marked for transparent huge pages: every whole 2 MiB of a large
        // memory can be one huge page, one TLB entry where 4 KiB pages take 512.
        var base = mapHugePageAligned(bytes: size, protection: PROT_NONE, flags: MAP_NORESERVE) ?? MAP_FAILED
        if base == MAP_FAILED {
            // Address space is short: reserve only what the memory can ever reach.
            size = max(Int(min(type.limits.max ?? type.limits.min, maxMemoryPages32) * wasmPageSize), Int(wasmPageSize))
            base = mmap(nil, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        }
        guard let base, base != MAP_FAILED else {
            definition.deallocate()
            throw WasmError(.uninstantiable, "cannot reserve memory")
        }
        reservation = size
        definition.initialize(to: StrataMemoryDefinition(base: base.assumingMemoryBound(to: UInt8.self), byteSize: 0))
        // Past this point the object is whole: a throw runs `deinit`, which frees the reservation.
        guard grow(by: type.limits.min) != nil else {
            throw WasmError(.uninstantiable, "cannot allocate memory of \(type.limits.min) pages")
        }
    }

    deinit {
        munmap(definition.pointee.base, reservation)
        definition.deallocate()
    }

    public var pages: UInt64 { definition.pointee.byteSize / wasmPageSize }
    /// The first byte of the memory. It never moves (the memory's whole range is reserved at
    /// creation): valid for the memory's lifetime, for `byteCount` bytes (which grow).
    public var baseAddress: UnsafeMutableRawPointer { UnsafeMutableRawPointer(definition.pointee.base) }
    public var byteCount: Int { Int(definition.pointee.byteSize) }

    /// Grows by `delta` pages; returns the old size in pages, or nil (memory.grow's -1).
    @discardableResult
    public func grow(by delta: UInt64) -> UInt64? {
        let old = pages
        // `delta` is any u64 for a 64-bit memory: compared before adding, so nothing wraps.
        guard delta <= maxPages - old else { return nil }
        let new = old + delta
        guard Int(new * wasmPageSize) <= reservation else { return nil }
        if delta > 0 {
            let start = definition.pointee.base + Int(old * wasmPageSize)
            guard mprotect(start, Int(delta * wasmPageSize), PROT_READ | PROT_WRITE) == 0 else { return nil }
        }
        definition.pointee.byteSize = new * wasmPageSize
        return old
    }

    /// Replaces `count` bytes at `offset` (whole pages, inside the memory) by a private,
    /// copy-on-write mapping of `file` at `fileOffset` (page-aligned): the same contents as
    /// copying those file bytes there, without fresh pages or a copy (a page is copied when
    /// first written; pages never touched are never read). Whether it was done (else the
    /// caller copies).
    func mapCopyOnWrite(at offset: Int, count: Int, file: Int32, fileOffset: Int) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard count > 0, offset >= 0, offset % page == 0, count % page == 0, fileOffset % page == 0,
              offset <= byteCount, count <= byteCount - offset else { return false }
        let at = UnsafeMutableRawPointer(definition.pointee.base) + offset
        if mmap(at, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, file, off_t(fileOffset)) == at { return true }
        // A failed fixed mapping may have unmapped the range: put fresh zero pages back (the
        // caller copies the bytes).
        _ = mmap(at, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
        return false
    }

    /// Bytes of the memory, for reading and writing from the host.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: definition.pointee.base, count: byteCount))
    }

    public func read(offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= byteCount, count <= byteCount - offset else { return nil }
        return Array(UnsafeBufferPointer(start: definition.pointee.base + offset, count: count))
    }

    @discardableResult
    public func write(offset: Int, bytes: [UInt8]) -> Bool {
        guard offset >= 0, offset <= byteCount, bytes.count <= byteCount - offset else { return false }
        bytes.withUnsafeBufferPointer { (definition.pointee.base + offset).update(from: $0.baseAddress!, count: $0.count) }
        return true
    }
}

/// `memory.copy` and `memory.fill` on memory 0's definition, the one implementation every tier
/// uses (the interpreter's handlers, compiled code's builtins, `InstanceRuntime`). They read
/// only the definition (no instance, no reference counting): compiled code from C, C++ and
/// Rust calls `memory.copy` for most `memcpy` calls, many of them short.
enum MemoryOperations {
    /// memmove within the memory; nil, or the trap.
    @inline(__always)
    static func copy(_ mem: UnsafeMutablePointer<StrataMemoryDefinition>?, dst: UInt32, src: UInt32, count: UInt32) -> TrapKind? {
        copy(mem, mem, dst: UInt64(dst), src: UInt64(src), count: UInt64(count))
    }

    @inline(__always)
    static func fill(_ mem: UnsafeMutablePointer<StrataMemoryDefinition>?, dst: UInt32, value: UInt8, count: UInt32) -> TrapKind? {
        fill(mem, dst: UInt64(dst), value: value, count: UInt64(count))
    }

    /// memmove from one memory to another (or the same): 64-bit operands, for any memory.
    @inline(__always)
    static func copy(_ dstMem: UnsafeMutablePointer<StrataMemoryDefinition>?, _ srcMem: UnsafeMutablePointer<StrataMemoryDefinition>?,
                     dst: UInt64, src: UInt64, count: UInt64) -> TrapKind? {
        guard let dstMem, let srcMem, fits(dst, count, dstMem), fits(src, count, srcMem) else { return .memoryOutOfBounds }
        memmove(dstMem.pointee.base + Int(dst), srcMem.pointee.base + Int(src), Int(count))
        return nil
    }

    @inline(__always)
    static func fill(_ mem: UnsafeMutablePointer<StrataMemoryDefinition>?, dst: UInt64, value: UInt8, count: UInt64) -> TrapKind? {
        guard let mem, fits(dst, count, mem) else { return .memoryOutOfBounds }
        memset(mem.pointee.base + Int(dst), Int32(value), Int(count))
        return nil
    }

    /// Whether [start, start + count) lies in the memory (no sum that can wrap).
    @inline(__always)
    static func fits(_ start: UInt64, _ count: UInt64, _ mem: UnsafeMutablePointer<StrataMemoryDefinition>) -> Bool {
        let size = mem.pointee.byteSize
        return count <= size && start <= size - count
    }
}
