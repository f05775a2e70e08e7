/// DWARF call-frame information for compiled code, in `.eh_frame` format, so libunwind can step
/// through compiled frames. Every baseline function has the same prologue, so every FDE has
/// the same instructions; only the address range differs.
///
///     push rbp           CFA = rsp+16, rbp at CFA-16
///     mov rbp, rsp       CFA = rbp+16
///     push r14 / r15 / rbx / r12 / r13   saved at CFA-24 ... CFA-56
enum UnwindInfo {
    /// Byte length of each prologue instruction the rows follow (checked by the compiler).
    static let prologueLengths = [1, 3, 2, 2, 1, 2, 2]

    static let cie: [UInt8] = {
        var b: [UInt8] = []
        b += [0, 0, 0, 0]            // length, patched
        b += [0, 0, 0, 0]            // CIE id
        b += [1]                     // version
        b += Array("zR".utf8) + [0]  // augmentation
        b += [1]                     // code alignment factor
        b += [0x78]                  // data alignment factor: -8
        b += [16]                    // return address register (rip)
        b += [1, 0x00]               // augmentation data: FDE pointers are absolute (DW_EH_PE_absptr)
        b += [0x0C, 7, 8]            // DW_CFA_def_cfa rsp, 8
        b += [0x90, 1]               // DW_CFA_offset rip, CFA-8
        return padded(b)
    }()

    /// The FDE instructions after pc_begin/pc_range/augmentation length.
    static let fdeInstructions: [UInt8] = [
        0x41, 0x0E, 16, 0x86, 2,     // +1: CFA = rsp+16; rbp at CFA-16
        0x43, 0x0D, 6,               // +3: CFA = rbp+16
        0x42, 0x8E, 3,               // +2: r14 at CFA-24
        0x42, 0x8F, 4,               // +2: r15 at CFA-32
        0x41, 0x83, 5,               // +1: rbx at CFA-40
        0x42, 0x8C, 6,               // +2: r12 at CFA-48
        0x42, 0x8D, 7,               // +2: r13 at CFA-56
    ]

    static let fdeSize: Int = padded([UInt8](repeating: 0, count: 4 + 4 + 8 + 8 + 1) + fdeInstructions).count

    /// Pads to a multiple of 8 with DW_CFA_nop and writes the length field.
    static func padded(_ entry: [UInt8]) -> [UInt8] {
        var b = entry
        while b.count % 8 != 0 { b.append(0) }
        let length = UInt32(b.count - 4)
        b[0] = UInt8(truncatingIfNeeded: length); b[1] = UInt8(truncatingIfNeeded: length >> 8)
        b[2] = UInt8(truncatingIfNeeded: length >> 16); b[3] = UInt8(truncatingIfNeeded: length >> 24)
        return b
    }

    static func byteCount(functions: Int) -> Int { cie.count + functions * fdeSize }

    /// Writes the CIE and one FDE per function (code at `mappingBase + starts[k]`, `sizes[k]`
    /// bytes) at `mappingBase + at`. Returns each FDE's offset in the mapping.
    static func write(starts: [Int], sizes: [Int], mappingBase: UnsafeMutableRawPointer, at: Int) -> [Int] {
        let p = mappingBase + at
        cie.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        // One FDE, written once with pc_begin/pc_range zero; each function gets a copy with its own.
        let template = padded([UInt8](repeating: 0, count: 4 + 4 + 8 + 8) + [0] + fdeInstructions)
        var fdes: [Int] = []
        fdes.reserveCapacity(starts.count)
        var offset = cie.count
        template.withUnsafeBytes { t in
            for k in 0..<starts.count {
                let q = p + offset
                q.copyMemory(from: t.baseAddress!, byteCount: t.count)
                (q + 4).storeBytes(of: UInt32(offset + 4).littleEndian, as: UInt32.self)  // back to the CIE at 0
                (q + 8).storeBytes(of: UInt64(UInt(bitPattern: mappingBase + starts[k])).littleEndian, as: UInt64.self)
                (q + 16).storeBytes(of: UInt64(sizes[k]).littleEndian, as: UInt64.self)
                fdes.append(at + offset)
                offset += t.count
            }
        }
        return fdes
    }
}
