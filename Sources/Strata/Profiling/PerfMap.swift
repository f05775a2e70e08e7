import Glibc
import Synchronization

/// What an engine tells external profilers about the code it places.
public enum Profiler: String, Sendable, CaseIterable {
    /// Nothing: no cost anywhere.
    case none
    /// `/tmp/perf-PID.map`, the text map Linux `perf` reads for code without an ELF file: one
    /// line per placed function (start and size in hex, a name), appended as code is placed
    /// (module creation, the code cache, tier-ups, on-stack-replacement entries).
    case perfmap
    /// `/tmp/jit-PID.dump` in Linux perf's jitdump format: a code-load record per placed
    /// function with its name and machine code, so `perf record -k mono` then `perf inject
    /// --jit` give `perf report` the code itself (annotation included). See `JitDump`.
    case jitdump
}

/// The process's perf map (`/tmp/perf-PID.map`). Lines are `START SIZE NAME` with START and
/// SIZE in hex without `0x`; perf takes the last line that covers an address, so code placed
/// later at a reused address wins.
enum PerfMap {
    private static let file = Mutex<UnsafeMutablePointer<FILE>?>(nil)

    /// Appends one line per function of `code`: `wasm[MODULE]::NAME [TIER]`, NAME from the name
    /// section or `function[INDEX]` (module function index space).
    static func add(_ code: CompiledCode, module: String) {
        var text = ""
        for k in 0..<code.count {
            let range = code.ranges[k]
            text += "\(String(range.start, radix: 16)) \(String(range.end - range.start, radix: 16)) \(name(code, k, module: module))\n"
        }
        write(text)
    }

    /// How profilers name function `k` of `code`: `wasm[MODULE]::NAME [TIER]`.
    static func name(_ code: CompiledCode, _ k: Int, module: String) -> String {
        let range = code.ranges[k]
        let index = range.functionIndex
        return "wasm[\(module)]::\(code.names[index] ?? "function[\(index)]") [\(Tier(recordKind: range.tier).rawValue)]"
    }

    private static func write(_ text: String) {
        file.withLock { f in
            if f == nil { f = fopen("/tmp/perf-\(getpid()).map", "a") }
            guard let f else { return }
            fputs(text, f)
            fflush(f)
        }
    }
}
