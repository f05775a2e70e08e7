/// DWARF call-frame information for compiled code, in `.eh_frame` format, so libunwind can step
/// through compiled frames. Every compiled prologue has the same shape (`X64MachineLayer`):
///
///     push rbp           CFA = rsp+16, rbp at CFA-16
///     mov rbp, rsp       CFA = rbp+16
///     push each saved register of (r14, r15, rbx, r12, r13), in that order: CFA-24, CFA-32, ...
///
/// so an FDE's rows follow from the set of saved registers (`SavedRegisters`): the baseline
/// tier saves all five, the optimizing tier those it uses. A function with two entries (the
/// optimizing tier's slot-buffer wrapper and direct entry) gets one FDE per entry.
struct SavedRegisters: Equatable {
    /// Bits in push order: r14, r15, rbx, r12, r13.
    var mask: UInt8
    static let all = SavedRegisters(mask: 0x1F)
    static let order: [Reg] = [.r14, .r15, .rbx, .r12, .r13]

    var registers: [Reg] { Self.byMask[Int(mask)] }
    /// The saved registers of each mask, in push order (made once: epilogues ask for them).
    private static let byMask: [[Reg]] = (0..<32).map { m in order.indices.filter { m & (1 << $0) != 0 }.map { order[$0] } }
    var count: Int { mask.nonzeroBitCount }
    /// Bytes of the pushes after rbp's.
    var bytes: Int32 { Int32(8 * count) }

    init(mask: UInt8) { self.mask = mask & 0x1F }
    init(_ registers: [Reg]) {
        var m: UInt8 = 0
        for r in registers { if let k = Self.order.firstIndex(of: r) { m |= 1 << k } }
        mask = m
    }
}

enum UnwindInfo {
    /// Byte length of each prologue instruction the rows follow (checked by the compilers).
    static func prologueLengths(_ saved: SavedRegisters) -> [Int] {
        [1, 3] + saved.registers.map { $0.high != 0 ? 2 : 1 }
    }

    static let cie: [UInt8] = {
        var b: [UInt8] = []
        b += [0, 0, 0, 0]            // length, patched
        b += [0, 0, 0, 0]            // CIE id
        b += [1]                     // version
        b += Array("zR".utf8) + [0]  // augmentation
        b += [1]                     // code alignment factor
        b += [0x78]                  // data alignment factor: -8
        b += [16]                    // return address register (rip)
        b += [1, 0x1B]               // augmentation data: FDE pointers are 4-byte offsets from the field
                                     // (DW_EH_PE_pcrel | DW_EH_PE_sdata4): the information moves with the code
        b += [0x0C, 7, 8]            // DW_CFA_def_cfa rsp, 8
        b += [0x90, 1]               // DW_CFA_offset rip, CFA-8
        return padded(b)
    }()

    /// The FDE instructions after pc_begin/pc_range/augmentation length.
    static func fdeInstructions(_ saved: SavedRegisters) -> [UInt8] {
        var b: [UInt8] = [
            0x41, 0x0E, 16, 0x86, 2,     // +1: CFA = rsp+16; rbp at CFA-16
            0x43, 0x0D, 6,               // +3: CFA = rbp+16
        ]
        for (k, r) in saved.registers.enumerated() {
            let length = UInt8(r.high != 0 ? 2 : 1)
            // DWARF numbers rbx 3, r12-r15 12-15 (the same as the encodings here).
            b += [0x40 | length, 0x80 | r.code, UInt8(3 + k)]  // +length: r at CFA-8*(3+k)
        }
        return b
    }

    /// An FDE's size: length, CIE pointer, pc_begin, pc_range, augmentation length, the
    /// instructions (8 bytes for rbp, 3 per saved register), padded to 8. Counted, not built:
    /// module creation sums it over every function (a cache hit too).
    static func fdeSize(_ saved: SavedRegisters) -> Int {
        (4 + 4 + 4 + 4 + 1 + 8 + 3 * saved.count + 7) & ~7
    }

    /// Pads to a multiple of 8 with DW_CFA_nop and writes the length field.
    static func padded(_ entry: [UInt8]) -> [UInt8] {
        var b = entry
        while b.count % 8 != 0 { b.append(0) }
        let length = UInt32(b.count - 4)
        b[0] = UInt8(truncatingIfNeeded: length); b[1] = UInt8(truncatingIfNeeded: length >> 8)
        b[2] = UInt8(truncatingIfNeeded: length >> 16); b[3] = UInt8(truncatingIfNeeded: length >> 24)
        return b
    }

    /// One code range described by one FDE.
    struct Segment {
        var start: Int
        var size: Int
        var saved: SavedRegisters
    }

    static func byteCount(_ segments: [Segment]) -> Int { cie.count + segments.reduce(0) { $0 + fdeSize($1.saved) } }

    /// Where `write` puts each segment's FDE (offsets from the code's base), without writing.
    static func fdeOffsets(_ segments: [Segment], at: Int) -> [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(segments.count)
        var offset = at + cie.count
        for s in segments {
            offsets.append(offset)
            offset += fdeSize(s.saved)
        }
        return offsets
    }

    /// Writes the CIE and one FDE per segment (code at `base + start`) at `base + at`. Returns
    /// each FDE's offset from `base`. The bytes depend only on the distances from each FDE to
    /// its code (no absolute address), so code and information can be stored together and
    /// placed anywhere (the code cache maps them from its entries as they are).
    @discardableResult
    static func write(_ segments: [Segment], base: UnsafeMutableRawPointer, at: Int) -> [Int] {
        let p = base + at
        cie.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        var fdes: [Int] = []
        fdes.reserveCapacity(segments.count)
        var offset = cie.count
        // One template per set of saved registers (an array by mask: a dictionary's first use
        // in a process costs a protocol-conformance scan).
        var templates = [[UInt8]?](repeating: nil, count: 32)
        for s in segments {
            let t = templates[Int(s.saved.mask)] ?? padded([UInt8](repeating: 0, count: 4 + 4 + 4 + 4) + [0] + fdeInstructions(s.saved))
            templates[Int(s.saved.mask)] = t
            let q = p + offset
            t.withUnsafeBytes { q.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            (q + 4).storeBytes(of: UInt32(offset + 4).littleEndian, as: UInt32.self)  // back to the CIE at 0
            // pc_begin: from this field (at + offset + 8) to the code.
            (q + 8).storeBytes(of: Int32(s.start - (at + offset + 8)).littleEndian, as: Int32.self)
            (q + 12).storeBytes(of: UInt32(s.size).littleEndian, as: UInt32.self)
            fdes.append(at + offset)
            offset += t.count
        }
        return fdes
    }
}
