import CStrata
import Glibc
import Synchronization

/// The process's jitdump file (`/tmp/jit-PID.dump`), Linux perf's format for JIT code
/// (tools/perf/Documentation/jitdump-specification.txt): a 40-byte header {magic "JiTD",
/// version 1, header size, ELF machine 62 (x86-64), 0, pid, timestamp, flags 0}, then records
/// {id, total size, timestamp} + body, little-endian. Each placed function is a
/// JIT_CODE_LOAD record (id 0): {pid, tid, vma, code address, code size, code index}, the name
/// (`wasm[MODULE]::NAME [TIER]`, NUL-terminated) and the machine code. Timestamps are
/// CLOCK_MONOTONIC nanoseconds, the clock `perf record -k mono` uses. Each load record follows
/// a JIT_CODE_DEBUG_INFO record (id 2) mapping the code to Wasm offsets where the trap and call
/// tables already do (`debugInfo`). perf finds the file
/// through a mapping of it with execute permission, which the process keeps.
enum JitDump {
    struct State {
        var fd: Int32 = -1
        var index: UInt64 = 0
    }
    private static let state = Mutex<State>(State())

    static var path: String { "/tmp/jit-\(getpid()).dump" }

    static func timestamp() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// Appends a code-load record per function of `code`.
    static func add(_ code: CompiledCode, module: String) {
        state.withLock { s in
            if s.fd < 0 { s.fd = open() }
            guard s.fd >= 0 else { return }
            let pid = UInt32(getpid()), tid = strata_thread_id()
            for k in 0..<code.count {
                let range = code.ranges[k]
                let name = PerfMap.name(code, k, module: module)
                let size = Int(range.end - range.start)
                debugInfo(range, module: module, fd: s.fd)
                var record: [UInt8] = []
                record.reserveCapacity(64 + name.utf8.count + size)
                record.appendLittleEndian(UInt32(0))  // JIT_CODE_LOAD
                record.appendLittleEndian(UInt32(16 + 40 + name.utf8.count + 1 + size))
                record.appendLittleEndian(timestamp())
                record.appendLittleEndian(pid)
                record.appendLittleEndian(tid)
                record.appendLittleEndian(UInt64(range.start))  // vma
                record.appendLittleEndian(UInt64(range.start))  // code address
                record.appendLittleEndian(UInt64(size))
                record.appendLittleEndian(s.index)
                record += Array(name.utf8) + [0]
                record += UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: range.start), count: size)
                s.index += 1
                write(s.fd, record)
            }
        }
    }

    /// A JIT_CODE_DEBUG_INFO record (id 2) before the function's code-load record, where it is
    /// cheap: the code offsets the trap and call-site tables already map to Wasm offsets, as
    /// entries {address, line = the Wasm offset, 0, file = the module's name}; perf reports
    /// samples at `MODULE:OFFSET`. Wrappers' calls (no Wasm offset) are left out.
    private static func debugInfo(_ range: StrataCodeRange, module: String, fd: Int32) {
        var points: [(UInt32, UInt32)] = []
        for t in 0..<Int(range.trapCount) { points.append((range.traps[t].codeOffset, range.traps[t].wasmOffset)) }
        for c in 0..<Int(range.callSiteCount) { points.append((range.callSites[2 * c], range.callSites[2 * c + 1])) }
        points = points.filter { $0.1 != UInt32.max }.sorted { $0.0 < $1.0 }
        guard !points.isEmpty else { return }
        let file = Array(module.utf8) + [0]
        var record: [UInt8] = []
        record.appendLittleEndian(UInt32(2))
        record.appendLittleEndian(UInt32(16 + 16 + points.count * (16 + file.count)))
        record.appendLittleEndian(timestamp())
        record.appendLittleEndian(UInt64(range.start))
        record.appendLittleEndian(UInt64(points.count))
        for (codeOffset, wasmOffset) in points {
            record.appendLittleEndian(UInt64(range.start) + UInt64(codeOffset))
            record.appendLittleEndian(wasmOffset)
            record.appendLittleEndian(UInt32(0))
            record += file
        }
        write(fd, record)
    }

    /// Creates the file with its header and maps its first page with execute permission (the
    /// mapping is the marker perf looks for). -1 when the file cannot be made.
    private static func open() -> Int32 {
        let fd = Glibc.open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return -1 }
        var header: [UInt8] = []
        header.appendLittleEndian(UInt32(0x4A69_5444))  // "JiTD"
        header.appendLittleEndian(UInt32(1))
        header.appendLittleEndian(UInt32(40))
        header.appendLittleEndian(UInt32(62))  // EM_X86_64
        header.appendLittleEndian(UInt32(0))
        header.appendLittleEndian(UInt32(getpid()))
        header.appendLittleEndian(timestamp())
        header.appendLittleEndian(UInt64(0))
        write(fd, header)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        _ = mmap(nil, page, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0)  // kept for the process's life
        return fd
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = Glibc.write(fd, b.baseAddress! + done, b.count - done)
                if n <= 0 { return }
                done += n
            }
        }
    }
}
