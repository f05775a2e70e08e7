import CStrata
import Dispatch
import Glibc

/// Compiled functions in one flat buffer: the form the code cache stores, and the form code is
/// placed from (freshly compiled functions are encoded into it too, so there is one path).
/// Per function, 8-byte aligned: a 48-byte header (defined index, code size, trap count,
/// call-site count, tier | saved-register mask << 8 | wrapper's mask << 16, direct-entry
/// offset or 0, inline-site count, tail-entry offset or 0, handler count, OSR entry count,
/// the OSR entries' shared prologue offset or 0, 0), the trap sites (3 x u32 each,
/// `StrataTrapSite`), the call sites (u32 pairs), the inline sites (u32 triples: code offset,
/// callee, call's Wasm offset), the try_table handlers (u32 triples: first Wasm offset, end
/// Wasm offset, landing-pad code offset; innermost first), the OSR entries (u32 pairs: the
/// loop's Wasm offset, the entry's code offset; increasing code offsets), then the machine
/// code. The tables are used in place.
/// Functions of different tiers share an image (each tier's code is the function's best).
///
/// An image read back from a cache entry has the same headers and tables, but its code lies
/// apart, already laid out as `Placement` places it (code and unwind information): `placed`
/// says where, and placing it is one mapping or one copy.
final class CodeImage: @unchecked Sendable {
    struct Function {
        var index: Int
        var code: Int       // byte offset of the machine code
        var codeSize: Int
        var traps: Int      // byte offset of the trap sites
        var trapCount: Int
        var calls: Int      // byte offset of the call sites
        var callCount: Int  // u32 count (pairs x 2)
        var inlines: Int = 0      // byte offset of the inline sites
        var inlineCount: Int = 0  // triples
        var handlers: Int = 0      // byte offset of the try_table handlers
        var handlerCount: Int = 0  // triples
        var osrEntries: Int = 0     // byte offset of the OSR entries
        var osrEntryCount: Int = 0  // pairs
        /// Offset of the prologue the OSR entries share (0: none).
        var osrPrologue: Int = 0
        /// The tier that compiled it (`Tier.recordKind`: 1 baseline, 2 optimizing).
        var tier: UInt32
        /// Offset of the register-argument entry in the code (0: none).
        var directEntry: Int
        /// Offset of the body of a function that makes tail calls (0: none).
        var tailEntry: Int = 0
        /// The callee-saved registers its prologues save (for the unwind information).
        var saved: SavedRegisters
        var wrapperSaved: SavedRegisters

        /// Appends the code ranges with one prologue each, for code placed at `start`: the
        /// wrapper, then the direct or tail entry, then the OSR entries' shared prologue (to the
        /// end: the trap stubs after it run in frames of the same shape).
        func appendUnwindSegments(at start: Int, to segments: inout [UnwindInfo.Segment]) {
            let second = max(directEntry, tailEntry)
            let firstEnd = second != 0 ? second : osrPrologue != 0 ? osrPrologue : codeSize
            segments.append(UnwindInfo.Segment(start: start, size: firstEnd, saved: second == 0 ? saved : wrapperSaved))
            if second != 0 {
                let end = osrPrologue != 0 ? osrPrologue : codeSize
                segments.append(UnwindInfo.Segment(start: start + second, size: end - second, saved: saved))
            }
            if osrPrologue != 0 {
                segments.append(UnwindInfo.Segment(start: start + osrPrologue, size: codeSize - osrPrologue, saved: saved))
            }
        }
    }
    static let headerSize = 48

    let base: UnsafeMutableRawPointer
    let functions: [Function]
    /// When the image lives inside a read-back entry: that entry's bytes (an array never
    /// mutated or a read-only mapping, so they stay where `base` points; the image is only
    /// read); otherwise `base` is our own allocation.
    let storage: SharedBytes?
    /// Where the functions' placed bytes (`Placement`) are, as offsets from `base`, when the
    /// image came from a cache entry; nil for an image whose code follows each header.
    let placed: Range<Int>?

    /// The placed bytes of an image from a cache entry (`Placement.byteCount` of them).
    var placedBytes: UnsafeRawBufferPointer? {
        placed.map { UnsafeRawBufferPointer(start: base + $0.lowerBound, count: $0.count) }
    }

    /// Where the functions' code lies when placed (computed once: a cache hit checks the
    /// entry's placed bytes against it, and `CompiledCode` places by it).
    let placement: Placement

    private init(
        base: UnsafeMutableRawPointer, functions: [Function], storage: SharedBytes? = nil, placed: Range<Int>? = nil,
        placement: Placement? = nil
    ) {
        self.base = base
        self.functions = functions
        self.storage = storage
        self.placed = placed
        self.placement = placement ?? Placement(functions)
    }

    deinit { if storage == nil { base.deallocate() } }

    static func byteCount(_ f: MachineFunction) -> Int {
        (headerSize + 12 * f.traps.count + 4 * f.callSites.count + 4 * f.inlineSites.count + 4 * f.handlers.count
            + 4 * f.osrEntries.count + f.code.count + 7) & ~7
    }

    /// Bytes of a function's header and tables (without its code), 8-aligned.
    static func tablesByteCount(_ f: Function) -> Int {
        (headerSize + 12 * f.trapCount + 4 * f.callCount + 12 * f.inlineCount + 12 * f.handlerCount + 8 * f.osrEntryCount + 7) & ~7
    }

    /// Writes `f`'s 48-byte header at `p`.
    private static func storeHeader(_ f: Function, at p: UnsafeMutableRawPointer) {
        func put(_ k: Int, _ v: Int) { (p + 4 * k).storeBytes(of: UInt32(v).littleEndian, as: UInt32.self) }
        put(0, f.index); put(1, f.codeSize); put(2, f.trapCount); put(3, f.callCount)
        put(4, Int(f.tier | UInt32(f.saved.mask) << 8 | UInt32(f.wrapperSaved.mask) << 16))
        put(5, f.directEntry); put(6, f.inlineCount); put(7, f.tailEntry)
        put(8, f.handlerCount); put(9, f.osrEntryCount); put(10, f.osrPrologue); put(11, 0)
    }

    /// Bytes of every function's header and tables, as a cache entry stores them (the code
    /// goes apart, placed).
    var tablesByteCount: Int { functions.reduce(0) { $0 + Self.tablesByteCount($1) } }

    /// Writes every function's header, then every function's tables (each 8-aligned), at `p`
    /// (`tablesByteCount` bytes, zero-padded): the headers together, so that reading an entry
    /// back reads them without touching the tables (`parse`).
    func writeTables(to p: UnsafeMutableRawPointer) {
        var at = Self.headerSize * functions.count
        for (k, f) in functions.enumerated() {
            Self.storeHeader(f, at: p + Self.headerSize * k)
            let tables = Self.tablesByteCount(f) - Self.headerSize
            let used = 12 * f.trapCount + 4 * f.callCount + 12 * f.inlineCount + 12 * f.handlerCount + 8 * f.osrEntryCount
            (p + at).copyMemory(from: base + f.traps, byteCount: used)  // contiguous from the traps
            (p + at + used).initializeMemory(as: UInt8.self, repeating: 0, count: tables - used)
            at += tables
        }
    }

    /// Encodes `functions` (defined index, compiled function) and `extra` functions copied from
    /// other images.
    /// Functions must come in increasing index order (fresh ones, then copied ones: callers
    /// pass disjoint, sorted sets; `merged` sorts).
    static func encode(_ functions: [(Int, MachineFunction)], copying extra: [(CodeImage, Function)] = []) -> CodeImage {
        var size = functions.reduce(0) { $0 + byteCount($1.1) }
        for (_, f) in extra {
            size += (headerSize + 12 * f.trapCount + 4 * f.callCount + 12 * f.inlineCount + 12 * f.handlerCount
                + 8 * f.osrEntryCount + f.codeSize + 7) & ~7
        }
        let base = UnsafeMutableRawPointer.allocate(byteCount: max(size, 8), alignment: 16)
        var at = 0
        var out: [Function] = []
        out.reserveCapacity(functions.count + extra.count)
        func put(_ index: Int, code: UnsafeRawBufferPointer, traps: UnsafeRawBufferPointer, trapCount: Int,
                 calls: UnsafeRawBufferPointer, callCount: Int, inlines: UnsafeRawBufferPointer, handlers: UnsafeRawBufferPointer,
                 osr: UnsafeRawBufferPointer, osrPrologue: Int, tier: UInt32, directEntry: Int,
                 tailEntry: Int, saved: SavedRegisters, wrapperSaved: SavedRegisters) {
            let p = base + at
            let n = (trap: traps.count, call: calls.count, inline: inlines.count, handler: handlers.count, osr: osr.count)
            let trapsAt = at + headerSize, callsAt = trapsAt + n.trap, inlinesAt = callsAt + n.call
            let handlersAt = inlinesAt + n.inline, osrAt = handlersAt + n.handler, codeAt = osrAt + n.osr
            let f = Function(index: index, code: codeAt, codeSize: code.count, traps: trapsAt, trapCount: trapCount,
                             calls: callsAt, callCount: callCount, inlines: inlinesAt, inlineCount: n.inline / 12,
                             handlers: handlersAt, handlerCount: n.handler / 12,
                             osrEntries: osrAt, osrEntryCount: n.osr / 8, osrPrologue: osrPrologue, tier: tier, directEntry: directEntry,
                             tailEntry: tailEntry, saved: saved, wrapperSaved: wrapperSaved)
            storeHeader(f, at: p)
            for (part, to) in [(traps, trapsAt), (calls, callsAt), (inlines, inlinesAt), (handlers, handlersAt), (osr, osrAt), (code, codeAt)]
            where part.count > 0 {
                (base + to).copyMemory(from: part.baseAddress!, byteCount: part.count)
            }
            var q = codeAt + code.count - at
            while q % 8 != 0 { (p + q).storeBytes(of: 0, as: UInt8.self); q += 1 }
            out.append(f)
            at += q
        }
        for (index, f) in functions {
            f.code.withUnsafeBytes { code in
                f.traps.withUnsafeBytes { traps in
                    f.callSites.withUnsafeBytes { calls in
                        f.inlineSites.withUnsafeBytes { inlines in
                          f.handlers.withUnsafeBytes { handlers in
                           f.osrEntries.withUnsafeBytes { osr in
                            put(index, code: code, traps: traps, trapCount: f.traps.count, calls: calls, callCount: f.callSites.count,
                                inlines: inlines, handlers: handlers, osr: osr, osrPrologue: f.osrPrologue, tier: f.tier, directEntry: f.directEntry, tailEntry: f.tailEntry, saved: f.saved,
                                wrapperSaved: f.wrapperSaved)
                           }
                          }
                        }
                    }
                }
            }
        }
        for (image, f) in extra {
            put(f.index, code: UnsafeRawBufferPointer(start: image.base + f.code, count: f.codeSize),
                traps: UnsafeRawBufferPointer(start: image.base + f.traps, count: 12 * f.trapCount), trapCount: f.trapCount,
                calls: UnsafeRawBufferPointer(start: image.base + f.calls, count: 4 * f.callCount), callCount: f.callCount,
                inlines: UnsafeRawBufferPointer(start: image.base + f.inlines, count: 12 * f.inlineCount),
                handlers: UnsafeRawBufferPointer(start: image.base + f.handlers, count: 12 * f.handlerCount),
                osr: UnsafeRawBufferPointer(start: image.base + f.osrEntries, count: 8 * f.osrEntryCount), osrPrologue: f.osrPrologue,
                tier: f.tier, directEntry: f.directEntry,
                tailEntry: f.tailEntry, saved: f.saved, wrapperSaved: f.wrapperSaved)
        }
        return CodeImage(base: base, functions: out)
    }

    /// Checks and indexes an image read back from a cache entry: the headers and tables at
    /// `tables` (`writeTables`' form) and the placed code at `placed` (`Placement`'s form), both
    /// ranges of `entry`. Nil for anything inconsistent (sizes out of range, trap sites outside
    /// the code, functions out of range or repeated, placed bytes of another size).
    /// `checkingTables` false (an entry verified before, `EntryVerification`): the headers are
    /// checked, the tables' entries (trap sites, inline sites, handlers, OSR entries) are not
    /// read.
    static func parse(
        _ entry: SharedBytes, tables range: Range<Int>, placed: Range<Int>, count: Int, functionCount: Int, checkingTables: Bool = true
    ) -> CodeImage? {
        // The tables are used where they lie in the entry's bytes (8-aligned: the payload
        // starts at a multiple of 8, and Swift array storage is 16-aligned, a mapping
        // page-aligned).
        let whole = UnsafeMutableRawPointer(mutating: entry.bytes.baseAddress)
        guard let whole, Int(bitPattern: whole + range.lowerBound) % 8 == 0,
              range.upperBound <= entry.bytes.count, placed.upperBound <= entry.bytes.count else { return nil }
        let base = whole + range.lowerBound
        let size = range.count
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: (base + at).loadUnaligned(as: UInt32.self))) }
        var functions: [Function] = []
        functions.reserveCapacity(count)
        var last = -1  // functions are stored in increasing index order
        guard count <= size / headerSize else { return nil }
        var tablesAt = headerSize * count  // the headers, then the tables
        for k in 0..<count {
            let at = headerSize * k
            let index = u32(at), codeSize = u32(at + 4), trapCount = u32(at + 8), callCount = u32(at + 12)
            let word = u32(at + 16), tier = word & 0xFF, savedMask = (word >> 8) & 0xFF, wrapperMask = (word >> 16) & 0xFF
            let inlineCount = u32(at + 24), handlerCount = u32(at + 32), osrCount = u32(at + 36), osrPrologue = u32(at + 40)
            let tables = 12 * trapCount + 4 * callCount + 12 * inlineCount + 12 * handlerCount + 8 * osrCount
            guard index < functionCount, index > last, codeSize > 0, codeSize < 1 << 30, callCount % 2 == 0, tables <= size - tablesAt,
                  tier == 1 || tier == 2, u32(at + 20) < codeSize, tier == 2 || u32(at + 20) == 0,
                  u32(at + 28) < codeSize, u32(at + 20) == 0 || u32(at + 28) == 0, u32(at + 44) == 0,
                  osrPrologue < codeSize, (osrCount == 0) == (osrPrologue == 0),
                  osrPrologue == 0 || osrPrologue > max(u32(at + 20), u32(at + 28)),
                  word >> 24 == 0, savedMask < 32, wrapperMask < 32 else { return nil }
            let t = tablesAt
            let f = Function(index: index, code: 0, codeSize: codeSize,
                             traps: t, trapCount: trapCount, calls: t + 12 * trapCount, callCount: callCount,
                             inlines: t + 12 * trapCount + 4 * callCount, inlineCount: inlineCount,
                             handlers: t + 12 * trapCount + 4 * callCount + 12 * inlineCount, handlerCount: handlerCount,
                             osrEntries: t + 12 * trapCount + 4 * callCount + 12 * inlineCount + 12 * handlerCount,
                             osrEntryCount: osrCount, osrPrologue: osrPrologue,
                             tier: UInt32(tier), directEntry: u32(at + 20), tailEntry: u32(at + 28),
                             saved: SavedRegisters(mask: UInt8(savedMask)), wrapperSaved: SavedRegisters(mask: UInt8(wrapperMask)))
            last = index
            tablesAt += (tables + 7) & ~7
            functions.append(f)
            guard checkingTables else { continue }
            var previous = -1
            for t in 0..<trapCount {
                let offset = u32(f.traps + 12 * t)
                guard offset < codeSize, offset > previous else { return nil }  // sorted, inside
                previous = offset
            }
            previous = -1
            for k in 0..<inlineCount {
                let offset = u32(f.inlines + 12 * k)
                guard offset < codeSize, offset > previous else { return nil }
                previous = offset
            }
            for k in 0..<handlerCount {
                let first = u32(f.handlers + 12 * k), end = u32(f.handlers + 12 * k + 4), pad = u32(f.handlers + 12 * k + 8)
                guard first <= end, pad < codeSize else { return nil }
            }
            previous = max(u32(at + 20), u32(at + 28))
            for k in 0..<osrCount {
                let entry = u32(f.osrEntries + 8 * k + 4)
                guard entry > previous, entry < osrPrologue else { return nil }  // increasing, before their prologue
                previous = entry
            }
        }
        guard tablesAt == size else { return nil }
        // The code lies where placement puts it: the placed bytes must have exactly its size.
        let placement = Placement(functions)
        guard placed.count == placement.byteCount else { return nil }
        let offset = placed.lowerBound - range.lowerBound
        for k in functions.indices { functions[k].code = offset + placement.starts[k] }
        return CodeImage(base: base, functions: functions, storage: entry, placed: offset..<(offset + placed.count), placement: placement)
    }

    /// This image's functions and `others`, in index order, as one image (others' code copied).
    func merged(with others: [(CodeImage, Function)]) -> CodeImage {
        guard !others.isEmpty else { return self }
        let all = (functions.map { (self, $0) } + others).sorted { $0.1.index < $1.1.index }
        return CodeImage.encode([], copying: all)
    }

    func trapTable(_ f: Function) -> UnsafePointer<StrataTrapSite> {
        UnsafePointer((base + f.traps).assumingMemoryBound(to: StrataTrapSite.self))
    }
    func callTable(_ f: Function) -> UnsafePointer<UInt32> {
        UnsafePointer((base + f.calls).assumingMemoryBound(to: UInt32.self))
    }
    func handlerTable(_ f: Function) -> UnsafePointer<UInt32> {
        UnsafePointer((base + f.handlers).assumingMemoryBound(to: UInt32.self))
    }
    func osrTable(_ f: Function) -> UnsafePointer<UInt32> {
        UnsafePointer((base + f.osrEntries).assumingMemoryBound(to: UInt32.self))
    }
    /// The inlined call a trap site at `codeOffset` belongs to: (callee, the call's Wasm offset).
    func inlinedCall(_ f: Function, at codeOffset: UInt32) -> (callee: UInt32, callOffset: UInt32)? {
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: (base + at).loadUnaligned(as: UInt32.self)) }
        var lo = 0, hi = f.inlineCount
        while lo < hi {
            let mid = (lo + hi) / 2
            let o = u32(f.inlines + 12 * mid)
            if o == codeOffset { return (u32(f.inlines + 12 * mid + 4), u32(f.inlines + 12 * mid + 8)) }
            if o < codeOffset { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }
}

extension CodeImage {
    /// How functions' code lies in executable memory: each function at a 64-byte start (the
    /// loop headers the optimizing tier aligns to 32 bytes within its code are then aligned in
    /// memory too), in image order, then the unwind information (`.eh_frame`, position
    /// independent: libunwind reads FDEs at 32-bit offsets from the code's base). `CompiledCode`
    /// places code this way, and a cache entry stores these very bytes, so a hit places them
    /// with one mapping of the entry file.
    struct Placement {
        let starts: [Int]
        /// Bytes of code (the end of the last function).
        let codeBytes: Int
        let ehFrameOffset: Int
        let segments: [UnwindInfo.Segment]
        /// Everything: code, padding, unwind information (0 for no functions).
        let byteCount: Int

        init(_ functions: [Function]) {
            var starts: [Int] = []
            starts.reserveCapacity(functions.count)
            var total = 0
            var segments: [UnwindInfo.Segment] = []
            segments.reserveCapacity(2 * functions.count)
            for f in functions {
                total = (total + 63) & ~63
                starts.append(total)
                f.appendUnwindSegments(at: total, to: &segments)
                total += f.codeSize
            }
            self.starts = starts
            codeBytes = total
            ehFrameOffset = (total + 7) & ~7
            self.segments = segments
            byteCount = functions.isEmpty ? 0 : ehFrameOffset + UnwindInfo.byteCount(segments)
        }

        /// Each segment's FDE, as an offset from the code's base.
        var fdeOffsets: [Int] { UnwindInfo.fdeOffsets(segments, at: ehFrameOffset) }

        /// Writes the placed bytes of `image`'s functions (`byteCount` of them) at `base`, which
        /// must be zeroed (the padding between functions is not written).
        func write(_ image: CodeImage, to base: UnsafeMutableRawPointer) {
            guard !image.functions.isEmpty else { return }
            for (k, f) in image.functions.enumerated() {
                (base + starts[k]).copyMemory(from: image.base + f.code, byteCount: f.codeSize)
            }
            UnwindInfo.write(segments, base: base, at: ehFrameOffset)
        }
    }
}

/// A fast checksum for cache payloads: catches truncation and corruption; the cache's
/// protection against tampering is its owner-only folder, not this sum. A payload of up to
/// `checksumChunkBytes` is summed as one chunk (`chunkChecksum`); a larger one chunk by chunk,
/// the chunks' sums combined in order, so the chunks can be summed on every core at once. A
/// code entry's bytes are a mapping of its file: each worker populates its own chunk's pages
/// first (`MADV_POPULATE_READ`: one call maps them all, where touching them would take a fault
/// per few pages), so mapping the file costs no time on the thread that waits.
func payloadChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let n = bytes.count
    guard n > checksumChunkBytes, let start = bytes.baseAddress else { return chunkChecksum(bytes) }
    let chunks = (n + checksumChunkBytes - 1) / checksumChunkBytes
    let sums = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: chunks)
    defer { sums.deallocate() }
    let whole = UInt(bitPattern: start)
    forEachChunk(count: n, chunk: checksumChunkBytes) { range in
        // Whole pages around the chunk (a page shared with a neighbour is populated twice:
        // harmless); an old kernel without the advice just faults the pages in as it reads.
        let first = (whole + UInt(range.lowerBound)) & ~UInt(4095), end = (whole + UInt(range.upperBound) + 4095) & ~UInt(4095)
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(end - first), 22 /* MADV_POPULATE_READ */)
        sums[range.lowerBound / checksumChunkBytes] = chunkChecksum(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }
    let k: UInt64 = 0x9E37_79B9_7F4A_7C15
    var h = UInt64(n)
    for sum in sums {
        h = (h ^ sum) &* k
        h ^= h >> 31
    }
    return h
}

/// The chunk size of `payloadChecksum` (part of the cache format).
let checksumChunkBytes = 4 << 20

/// One chunk's checksum: four independent 64-bit multiply-xorshift lanes.
func chunkChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let k: UInt64 = 0x9E37_79B9_7F4A_7C15
    var a: UInt64 = 1, b: UInt64 = 2, c: UInt64 = 3, d: UInt64 = 4
    let n = bytes.count
    var i = 0
    if let p = bytes.baseAddress {
        while i + 32 <= n {
            a = (a ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k; a ^= a >> 29
            b = (b ^ p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) &* k; b ^= b >> 29
            c = (c ^ p.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)) &* k; c ^= c >> 29
            d = (d ^ p.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)) &* k; d ^= d >> 29
            i += 32
        }
        while i < n {
            a = (a ^ UInt64(p.load(fromByteOffset: i, as: UInt8.self))) &* k; a ^= a >> 29
            i += 1
        }
    }
    var h = a ^ (b &* 3) ^ (c &* 5) ^ (d &* 7) ^ UInt64(n)
    h = (h ^ (h >> 31)) &* k
    return h ^ (h >> 29)
}
