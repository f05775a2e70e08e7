import CStrata

/// Tells debuggers about placed code through the GDB JIT interface (`strata_gdb_jit_register`):
/// for each compiled mapping, a small ELF relocatable object in memory with
/// - `.text`: the mapping's code (no bytes: `SHT_NOBITS` at the code's address, which the
///   debugger reads from the process),
/// - `.eh_frame`: a copy of the mapping's unwind information at the address of the original
///   (its FDEs point at code relative to themselves), so the debugger unwinds through compiled
///   frames by it,
/// - `.symtab`/`.strtab`: a function symbol per compiled function, named as in the perf map
///   (`wasm[MODULE]::NAME [TIER]`), its value the offset in `.text`,
/// the layout V8 and LLVM use for their JIT objects. The object lives, registered, as long as
/// the code (`CompiledCode.deinit` unregisters it). The entry trampoline gets an object of its
/// own, once, so a debugger's backtrace goes on from the outermost compiled frame into the host.
enum GDBJITInterface {
    static func register(_ code: CompiledCode, module: String) {
        registerTrampolineOnce
        let base = UInt64(UInt(bitPattern: code.memory.base))
        let symbols = (0..<code.count).map { k in
            (name: PerfMap.name(code, k, module: module), offset: UInt64(code.ranges[k].start) - base,
             size: UInt64(code.ranges[k].end - code.ranges[k].start))
        }
        let bytes = object(
            text: base, textSize: code.codeBytes,
            ehFrame: UnsafeRawBufferPointer(start: code.memory.base + code.ehFrameOffset, count: code.ehFrameBytes),
            ehFrameAddress: base + UInt64(code.ehFrameOffset), symbols: symbols)
        (code.gdbObject, code.gdbHandle) = publish(bytes)
    }

    /// The entry trampoline, once per process (it is never freed): a symbol and an FDE for its
    /// frame (push rbp; mov rbp, rsp), so debuggers unwind from compiled code on into the host.
    private static let registerTrampolineOnce: Void = {
        guard let runtime = try? JITRuntime.shared.get() else { return }
        let (start, size) = runtime.trampolineRange
        // FDE addresses are relative to the FDE: the object places `.eh_frame` just after the
        // trampoline's code (where it would lie in a code mapping), whatever buffer holds it.
        let gap = (size + 7) & ~7
        let segments = [UnwindInfo.Segment(start: -gap, size: size, saved: SavedRegisters(mask: 0))]
        let ehFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: UnwindInfo.byteCount(segments), alignment: 8)
        UnwindInfo.write(segments, base: ehFrame.baseAddress!, at: 0)
        let bytes = object(
            text: UInt64(start), textSize: size, ehFrame: UnsafeRawBufferPointer(ehFrame),
            ehFrameAddress: UInt64(start) + UInt64(gap),
            symbols: [(name: "strata entry trampoline", offset: 0, size: UInt64(size))])
        _ = publish(bytes)  // kept for the process's life, as the trampoline
    }()

    private static func publish(_ bytes: [UInt8]) -> (UnsafeMutableRawBufferPointer, UnsafeMutableRawPointer?) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        buffer.copyBytes(from: bytes)
        return (buffer, strata_gdb_jit_register(buffer.baseAddress, UInt64(bytes.count)))
    }

    /// An ELF object (little-endian ELF64, x86-64, ET_REL) describing code at `text`.
    static func object(
        text: UInt64, textSize: Int, ehFrame: UnsafeRawBufferPointer, ehFrameAddress: UInt64,
        symbols: [(name: String, offset: UInt64, size: UInt64)]
    ) -> [UInt8] {
        var out: [UInt8] = []
        func u8(_ v: UInt8) { out.append(v) }
        func u16(_ v: UInt16) { out.appendLittleEndian(v) }
        func u32(_ v: UInt32) { out.appendLittleEndian(v) }
        func u64(_ v: UInt64) { out.appendLittleEndian(v) }
        func align(_ n: Int) { while out.count % n != 0 { out.append(0) } }

        // String tables.
        var shstrtab: [UInt8] = [0]
        func sectionName(_ s: String) -> UInt32 {
            let at = UInt32(shstrtab.count)
            shstrtab += Array(s.utf8) + [0]
            return at
        }
        let names = (text: sectionName(".text"), ehFrame: sectionName(".eh_frame"), symtab: sectionName(".symtab"),
                     strtab: sectionName(".strtab"), shstrtab: sectionName(".shstrtab"))
        var strtab: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for s in symbols {
            nameOffsets.append(UInt32(strtab.count))
            strtab += Array(s.name.utf8) + [0]
        }

        // Header (the section table's offset is filled in at the end).
        out += [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        u16(1)   // ET_REL
        u16(62)  // EM_X86_64
        u32(1)
        u64(0)   // entry
        u64(0)   // program headers: none
        let shoffAt = out.count
        u64(0)   // section headers' offset
        u32(0)   // flags
        u16(64)  // header size
        u16(0); u16(0)   // program header entry size, count
        u16(64)  // section header entry size
        u16(6)   // sections: null, .text, .eh_frame, .symtab, .strtab, .shstrtab
        u16(5)   // .shstrtab's index

        align(8)
        let ehFrameAt = out.count
        out += ehFrame
        align(8)
        let symtabAt = out.count
        out += [UInt8](repeating: 0, count: 24)  // the null symbol
        for (k, s) in symbols.enumerated() {
            u32(nameOffsets[k])
            u8(0x12)  // STB_GLOBAL, STT_FUNC
            u8(0)     // STV_DEFAULT
            u16(1)    // .text
            u64(s.offset)
            u64(s.size)
        }
        let strtabAt = out.count
        out += strtab
        let shstrtabAt = out.count
        out += shstrtab
        align(8)
        let shoff = out.count
        withUnsafeBytes(of: UInt64(shoff).littleEndian) { out.replaceSubrange(shoffAt..<shoffAt + 8, with: $0) }
        func section(_ name: UInt32, type: UInt32, flags: UInt64, addr: UInt64, offset: Int, size: Int,
                     link: UInt32 = 0, info: UInt32 = 0, alignment: UInt64, entsize: UInt64 = 0) {
            u32(name); u32(type); u64(flags); u64(addr); u64(UInt64(offset)); u64(UInt64(size))
            u32(link); u32(info); u64(alignment); u64(entsize)
        }
        out += [UInt8](repeating: 0, count: 64)
        section(names.text, type: 8, flags: 6, addr: text, offset: ehFrameAt, size: textSize, alignment: 16)  // NOBITS, ALLOC|EXECINSTR
        section(names.ehFrame, type: 1, flags: 2, addr: ehFrameAddress, offset: ehFrameAt, size: ehFrame.count, alignment: 8)  // PROGBITS, ALLOC
        section(names.symtab, type: 2, flags: 0, addr: 0, offset: symtabAt, size: 24 * (symbols.count + 1),
                link: 4, info: 1, alignment: 8, entsize: 24)
        section(names.strtab, type: 3, flags: 0, addr: 0, offset: strtabAt, size: strtab.count, alignment: 1)
        section(names.shstrtab, type: 3, flags: 0, addr: 0, offset: shstrtabAt, size: shstrtab.count, alignment: 1)
        return out
    }
}
