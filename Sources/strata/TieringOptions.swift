import ArgumentParser
import FoundationEssentials
import Glibc
import Strata
import StrataSpecTest

/// The execution options `run`, `wast` and `bench-run` share.
struct TieringOptions: ParsableArguments {
    // The options with a default are optional here, the default applied below: ArgumentParser
    // describes a default value at every parse (a `print` through reflection per option), which
    // was 2.3% of a one-line Lua script's whole `strata run` by `perf`; the help texts name the
    // defaults.
    @Option(name: .customLong("tier"), help: "Execution mode: \(Tier.allCases.map(\.rawValue).joined(separator: ", ")) (default: tiered).")
    var tierChoice: Tier?
    var tier: Tier { tierChoice ?? .tiered }

    @Option(help: "Tiered mode: the hotness that queues a function for compilation (calls weigh 15, loop iterations 1).")
    var tierUpThreshold: Int?

    @Option(help: "Tiered mode: the hotness, counted again in baseline code, that queues a function for the optimizing tier.")
    var optimizeThreshold: Int?

    @Option(help: "Background compile threads (default: cores - 1, at least 1).")
    var compileThreads: Int?

    @Flag(help: "Print one line per tiering event to standard error.")
    var tierLog = false

    @Option(help: "Tiered mode for testing: random thresholds and random swaps between tiers, from this seed.")
    var chaosSeed: UInt64?

    @Option(name: .customLong("osr"), help: "Tiered mode: on-stack replacement of running activations at loop back edges: \(OSRMode.allCases.map(\.rawValue).joined(separator: ", ")) (default: enabled; first-back-edge compiles at once and moves at the first back edge, for tests).")
    var osrChoice: OSRMode?
    var osr: OSRMode { osrChoice ?? .enabled }

    @Option(name: .customLong("profile"), help: ArgumentHelp(
        "Profiling: perfmap (/tmp/perf-PID.map for Linux perf), jitdump (/tmp/jit-PID.dump for perf record -k mono and perf inject --jit), guest[=FILE] (strata run: sample the Wasm stack every 2 ms, see --profile-interval, write a flame graph to FILE, default guest-profile.svg, and FILE's speedscope file beside it), or none (default).",
        valueName: "profiler"))
    var profileChoice: ProfileOption?
    var profile: ProfileOption { profileChoice ?? .external(.none) }

    @Flag(help: "Register compiled code with the GDB JIT interface (symbols and unwind information), so gdb backtraces name Wasm functions.")
    var gdbJit = false

    @OptionGroup var cache: CacheFolderOption

    @Flag(help: "Do not read or write the code cache.")
    var noCache = false

    @Flag(help: "Compiled code uses no VEX encodings (AVX, BMI2) even where the CPU has them (the SSE and legacy forms; for tests).")
    var noAVX = false

    var configuration: EngineConfiguration { configuration(cacheByDefault: true) }

    func configuration(cacheByDefault: Bool) -> EngineConfiguration {
        var c = EngineConfiguration.with(tier: tier)
        if !noCache && tier != .interpreter && (cache.cacheDir != nil || cacheByDefault) {
            c.codeCache = cache.open()
        }
        if let tierUpThreshold { c.tierUpThreshold = max(1, tierUpThreshold) }
        if let optimizeThreshold { c.optimizeThreshold = max(1, optimizeThreshold) }
        if let compileThreads { c.compileThreads = max(1, compileThreads) }
        c.useAVX = !noAVX
        c.osr = osr
        if case .external(let profiler) = profile { c.profiler = profiler }
        c.gdbJIT = gdbJit
        if let chaosSeed {
            c.chaosSeed = chaosSeed
            writeStandardError("strata: chaos mode, seed \(chaosSeed)\n")
        }
        if tierLog {
            c.tierLog = { event in writeStandardError("\(event)\n") }
        }
        return c
    }
}

extension OSRMode: ExpressibleByArgument {}

/// `--profile`: an external profiler told about compiled code, or the guest profiler.
enum ProfileOption: ExpressibleByArgument {
    case external(Profiler)
    /// The flame graph's path.
    case guest(String)

    init?(argument: String) {
        if argument == "guest" {
            self = .guest("guest-profile.svg")
        } else if argument.hasPrefix("guest=") {
            let path = String(argument.dropFirst(6))
            guard !path.isEmpty else { return nil }
            self = .guest(path)
        } else if let p = Profiler(rawValue: argument) {
            self = .external(p)
        } else {
            return nil
        }
    }

    var guestPath: String? {
        if case .guest(let path) = self { return path }
        return nil
    }
}

/// The code cache folder, for every command that reads or writes the cache.
struct CacheFolderOption: ParsableArguments {
    @Option(help: "Code cache folder (default: $XDG_CACHE_HOME/strata or ~/.cache/strata).")
    var cacheDir: String?

    /// The directory cache, or nil with a warning when the default folder cannot be used (a
    /// folder given with --cache-dir that cannot be used is an error).
    func open() -> DirectoryCodeCache? {
        do {
            return try DirectoryCodeCache(directory: cacheDir)
        } catch {
            if cacheDir != nil { fail("\(error)") }
            writeStandardError("strata: warning: no code cache (\(error))\n")
            return nil
        }
    }
}
