import CStrata
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A linear memory. 32-bit memories reserve 8 GiB of address space up front (4 GiB of
/// addressable range plus 4 GiB of guard, which covers any 32-bit offset), so the base never
/// moves and compiled code can rely on guard pages instead of bounds checks. Growing only
/// changes page protection.
public final class Memory: @unchecked Sendable {
    public let type: MemoryType
    let definition: UnsafeMutablePointer<StrataMemoryDefinition>
    private let reservation: Int
    public var maxPages: UInt64 { min(type.limits.max ?? maxMemoryPages32, maxMemoryPages32) }

    /// 8 GiB (any 32-bit address plus any 32-bit offset) and one page for the access width.
    static let reservationSize = (8 << 30) + 65536
    /// Whether the whole guard region is reserved (compiled code relies on it).
    var isGuarded: Bool { reservation >= Self.reservationSize }

    /// A memory owned by the host (for imports).
    public init(type: MemoryType) throws(WasmError) {
        self.type = type
        definition = .allocate(capacity: 1)
        var size = Self.reservationSize
        var base = mmap(nil, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
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
        guard grow(by: type.limits.min) != nil else {
            munmap(base, size)
            definition.deallocate()
            throw WasmError(.uninstantiable, "cannot allocate memory of \(type.limits.min) pages")
        }
    }

    deinit {
        munmap(definition.pointee.base, reservation)
        definition.deallocate()
    }

    public var pages: UInt64 { definition.pointee.byteSize / wasmPageSize }
    public var byteCount: Int { Int(definition.pointee.byteSize) }

    /// Grows by `delta` pages; returns the old size in pages, or nil (memory.grow's -1).
    @discardableResult
    public func grow(by delta: UInt64) -> UInt64? {
        let old = pages
        let new = old + delta
        guard new <= maxPages, Int(new * wasmPageSize) <= reservation else { return nil }
        if delta > 0 {
            let start = definition.pointee.base + Int(old * wasmPageSize)
            guard mprotect(start, Int(delta * wasmPageSize), PROT_READ | PROT_WRITE) == 0 else { return nil }
        }
        definition.pointee.byteSize = new * wasmPageSize
        return old
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
        guard let mem else { return .memoryOutOfBounds }
        let size = mem.pointee.byteSize
        guard UInt64(src) + UInt64(count) <= size, UInt64(dst) + UInt64(count) <= size else { return .memoryOutOfBounds }
        let base = mem.pointee.base!
        memmove(base + Int(dst), base + Int(src), Int(count))
        return nil
    }

    @inline(__always)
    static func fill(_ mem: UnsafeMutablePointer<StrataMemoryDefinition>?, dst: UInt32, value: UInt8, count: UInt32) -> TrapKind? {
        guard let mem else { return .memoryOutOfBounds }
        guard UInt64(dst) + UInt64(count) <= mem.pointee.byteSize else { return .memoryOutOfBounds }
        memset(mem.pointee.base + Int(dst), Int32(value), Int(count))
        return nil
    }
}
