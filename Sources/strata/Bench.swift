import ArgumentParser
import FoundationEssentials
import Glibc
import Dispatch
import Strata
import StrataSpecTest
import WAT

/// One configuration's measurements of one program (the harness protocol's fields), in one
/// process or, with `--processes`, combined over several (`perProcess`).
struct Measurement: Codable {
    var program: String
    var configuration: String
    var result: String?
    var correct: Bool?
    /// Decode + validate + translate/compile, when the configuration reports it.
    var loadSeconds: Double?
    var iterations: [Double] = []
    var cpuSeconds: Double?
    var rssKiB: Int?
    /// Wall time of the whole process, start-up included.
    var totalSeconds: Double
    var note: String?
    /// Each process's own measurement when the configuration ran in several; the figures
    /// below are then medians over the processes, each process counting once.
    var perProcess: [Measurement]?

    /// Median of the runs after the first (the warm-up), or the only run; over processes, the
    /// median of each process's.
    var steadySeconds: Double? {
        if let perProcess { return median(perProcess.compactMap(\.steadySeconds)) }
        return median(iterations.count > 1 ? Array(iterations.dropFirst()) : iterations)
    }
    /// (max - min) / median of the steady runs; over processes, of each process's median.
    var spread: Double? {
        let runs = perProcess.map { $0.compactMap(\.steadySeconds) } ?? (iterations.count > 1 ? Array(iterations.dropFirst()) : iterations)
        guard let m = median(runs), m > 0, let lo = runs.min(), let hi = runs.max() else { return nil }
        return (hi - lo) / m
    }
    /// The first run (cold code, before the warm-up finished).
    var firstIterationSeconds: Double? {
        if let perProcess { return median(perProcess.compactMap(\.firstIterationSeconds)) }
        return iterations.first
    }
    var firstResultSeconds: Double? {
        if let perProcess { return median(perProcess.compactMap(\.firstResultSeconds)) }
        return iterations.first.map { $0 + (loadSeconds ?? 0) }
    }

    /// One measurement from the same configuration's runs in several processes: the result
    /// they agree on (else a note), load time and CPU time as medians, the largest RSS.
    init(combining runs: [Measurement]) {
        self = runs[0]
        guard runs.count > 1 else { return }
        perProcess = runs
        iterations = []
        loadSeconds = median(runs.compactMap(\.loadSeconds))
        cpuSeconds = median(runs.compactMap(\.cpuSeconds))
        rssKiB = runs.compactMap(\.rssKiB).max()
        totalSeconds = runs.map(\.totalSeconds).reduce(0, +)
        note = runs.compactMap(\.note).first
        let results = Set(runs.map { $0.result ?? "none" })
        if note == nil && results.count > 1 { note = "processes disagree on the result: \(results.sorted())" }
    }

    init(program: String, configuration: String, totalSeconds: Double) {
        self.program = program
        self.configuration = configuration
        self.totalSeconds = totalSeconds
    }

    /// A run that failed, or gave no result, has no time to compare.
    mutating func dropTimes() {
        iterations = []
        perProcess = nil
    }
}

func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Runs a command and parses the protocol lines: load, result, iteration, cpu, rss.
func runProtocol(_ executable: String, _ arguments: [String], program: String, configuration: String) -> Measurement {
    let start = DispatchTime.now().uptimeNanoseconds
    var m = Measurement(program: program, configuration: configuration, totalSeconds: 0)
    let run: SubprocessResult
    do {
        run = try runSubprocess(executable, arguments)
    } catch {
        m.note = "cannot start \(executable): \(error)"
        return m
    }
    m.totalSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    for line in String(decoding: run.output, as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { continue }
        switch parts[0] {
        case "load": m.loadSeconds = Double(parts[1])
        case "result": m.result = parts[1]
        case "iteration": if let t = Double(parts[1]) { m.iterations.append(t) }
        case "cpu": m.cpuSeconds = Double(parts[1])
        case "rss": m.rssKiB = Int(parts[1])
        default: break
        }
    }
    if run.status != 0 { m.note = "exit status \(run.status)" }
    return m
}

/// Finds an executable on PATH.
func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// Runs one program in this process for the harness (`strata bench` starts one per program
/// and configuration so that CPU time and peak RSS are the program's own).
struct BenchRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-run", abstract: "Run one benchmark program (used by strata bench).", shouldDisplay: false)

    @Option var reps: Int = 5
    @OptionGroup var tiering: TieringOptions
    @Argument var file: String

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        if tiering.profile.guestPath != nil { fail("--profile guest applies to strata run only") }
        let engine = Engine(configuration: tiering.configuration(cacheByDefault: false))
        let module: Module
        let instance: Instance
        do {
            module = try loadModule(engine: engine, file)
            instance = try Store(engine: engine).instantiate(module)
        } catch {
            fail("\(file): \(error)")
        }
        print(format("load %.9f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        guard let run = instance.function("run") else { fail("\(file) exports no run function") }
        for i in 0..<max(reps, 1) {
            let a = DispatchTime.now().uptimeNanoseconds
            let r: [Value]
            do { r = try run.call([]) } catch { fail("\(error)") }
            let b = DispatchTime.now().uptimeNanoseconds
            if i == 0, case .i32(let v)? = r.first { print("result \(v)") }
            print(format("iteration %.9f", Double(b - a) / 1e9))
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        print(format("cpu %.6f", cpu))
        engine.flushCodeCache()
        print("rss \(usage.ru_maxrss)")
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the tiers against native code and the peers found on this machine.",
        discussion: "Run Benchmarks/build.sh first for the native builds. Measures; never fails on speed.")

    @Option(help: "Only programs whose name contains this.")
    var filter: String?
    @Option(help: "Runs per program and configuration (the first is the warm-up).")
    var reps: Int = 5
    @Option(help: ArgumentHelp(
        "Processes per program and configuration, the configurations interleaved; a time is the median over the processes, and the peers' columns count the rounds in which the peer was slower.",
        discussion: "Some programs run at one of two speeds per process (placement in the caches and branch predictors), in native code and every engine alike, so one process per configuration can put two equal engines 1.5-2x apart."))
    var processes: Int = 1
    @Option(help: "Write all measurements as JSON to this file.")
    var json: String?
    @Option(help: "Write a chart of the ratios to native (SVG) to this file.")
    var svg: String?
    @Option(help: "The corpus folder.")
    var programs: String = "Benchmarks/programs"
    @Option(help: "Strata tiers to measure (repeatable; default: all).")
    var tier: [Tier] = []
    @Option(help: "Tiered mode's tier-up threshold (default: the engine's).")
    var tierUpThreshold: Int?
    @Flag(help: "Also run tiered mode without on-stack replacement (tiered-no-osr), to compare first results.")
    var compareOSR = false
    @Flag(help: "Skip wasmkit and Wasmtime.")
    var noPeers = false
    @Flag(help: "Run even in a debug build (the numbers then mean little).")
    var allowDebug = false
    @Option(help: ArgumentHelp(
        "Measure nothing: report on earlier runs' --json files (repeatable), each program's and configuration's processes from all of them in order, so that their rounds count together.",
        valueName: "json"))
    var merge: [String] = []

    func run() throws {
        #if DEBUG
        if !allowDebug {
            fail("this is a debug build: benchmark a release build (swift run -c release strata bench), or pass --allow-debug")
        }
        writeStandardError("strata: WARNING: debug build, figures are not meaningful\n")
        #endif
        if !merge.isEmpty {
            var files: [[Measurement]] = []
            for path in merge {
                guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { fail("cannot read \(path)") }
                do { files.append(try JSONDecoder().decode([Measurement].self, from: data)) } catch {
                    fail("\(path) is not a strata bench --json file: \(error)")
                }
            }
            let all = Self.merged(files)
            let rounds = Set(all.map { $0.perProcess?.count ?? 1 }).sorted().map(String.init).joined(separator: " or ")
            try report(all, notes: ["merged from \(merge.count) runs (\(merge.joined(separator: ", "))): \(rounds) processes per program and configuration; times are medians over them"])
            return
        }
        let fm = FileManager.default
        let files = ((try? fm.contentsOfDirectory(atPath: programs)) ?? [])
            .filter { $0.hasSuffix(".wasm") || $0.hasSuffix(".wat") }
            .filter { name in filter.map { name.contains($0) } ?? true }
            .sorted()
        guard !files.isEmpty else { fail("no programs in \(programs)") }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let nativeDir = ".build/bench/native"
        // WasmKit: the driver package (the 0.4.2 library, per iteration) where it is built, else
        // a `wasmkit` CLI on PATH (whole processes).
        let wasmkitDriver = "Benchmarks/peers/wasmkit-driver/.build/release/wasmkit-driver"
        let hasWasmkitDriver = !noPeers && fm.isExecutableFile(atPath: wasmkitDriver)
        let wasmkit = noPeers || hasWasmkitDriver ? nil : which("wasmkit")
        let python = noPeers ? nil : which("python3")
        let hasWasmtime = python.map { p in
            let check = runProtocol(p, ["-c", "import wasmtime"], program: "", configuration: "")
            return check.note == nil
        } ?? false
        var notes: [String] = []
        if !fm.fileExists(atPath: nativeDir) { notes.append("native: no builds in \(nativeDir) (run Benchmarks/build.sh)") }
        if !noPeers && !hasWasmkitDriver && wasmkit == nil {
            notes.append("wasmkit: neither the driver (swift build -c release --package-path Benchmarks/peers/wasmkit-driver) nor a wasmkit CLI on PATH, skipped")
        }
        if hasWasmkitDriver { notes.append("wasmkit: WasmKit 0.4.2 through Benchmarks/peers/wasmkit-driver, per iteration") }
        if !noPeers && !hasWasmtime { notes.append("wasmtime: Python package not installed (pip install wasmtime), skipped") }
        if hasWasmtime { notes.append("wasmtime: Winch is not selectable in the Python binding, so only Cranelift is measured") }
        if wasmkit != nil { notes.append("wasmkit: times are whole processes (start-up, load and one run each), not per iteration") }

        let runners = Runners(
            me: me, nativeDir: nativeDir, wasmkitDriver: hasWasmkitDriver ? wasmkitDriver : nil, wasmkitCLI: wasmkit,
            python: hasWasmtime ? python : nil)
        if processes > 1 { notes.append("each time is the median over \(processes) processes per configuration, the configurations interleaved (every other round in reverse order); ± is the spread of the processes' medians") }
        var all: [Measurement] = []
        for file in files {
            let path = "\(programs)/\(file)"
            let name = String(file.prefix(upTo: file.lastIndex(of: ".") ?? file.endIndex))
            writeStandardError("bench \(name)...\n")
            // One round runs every configuration once; `--processes` rounds interleave them, so
            // that a slow phase of the machine touches all configurations alike, every other
            // round in the reverse order, so that none always runs first.
            var rounds: [[Measurement]] = []
            for k in 0..<max(processes, 1) { rounds.append(measureOnce(path: path, name: name, runners, reversed: k % 2 == 1)) }
            all += Self.judged(rounds[0].indices.map { i in Measurement(combining: rounds.map { $0[i] }) })
        }
        try report(all, notes: notes, extra: compileThroughput(python: hasWasmtime ? python : nil) + trapCost())
    }

    /// One program's configurations, each combined over its processes: marked correct or not
    /// against native code's result (else the interpreter's), and without times where a run
    /// failed or gave no result.
    static func judged(_ row: [Measurement]) -> [Measurement] {
        var row = row
        let reference = row.first { $0.configuration == "native" }?.result ?? row.first { $0.configuration == "interpreter" }?.result
        for i in row.indices {
            // No reference (no native build, no interpreter run): correctness is unknown.
            row[i].correct = reference.flatMap { ref in row[i].result.map { $0 == ref } }
            // A run that failed, or gave no result, has no time to compare.
            if row[i].note != nil || row[i].result == nil { row[i].dropTimes() }
        }
        return row
    }

    /// `--merge`: the measurements of several runs as one, each program's and configuration's
    /// processes in the order of the files (a run's rounds stay paired, since a round ran every
    /// configuration once), programs and configurations in the order they first appear.
    static func merged(_ files: [[Measurement]]) -> [Measurement] {
        var programs: [String] = []
        var configurations: [String: [String]] = [:]
        var processes: [String: [String: [Measurement]]] = [:]
        for file in files {
            for m in file {
                if processes[m.program] == nil { programs.append(m.program) }
                if processes[m.program]?[m.configuration] == nil { configurations[m.program, default: []].append(m.configuration) }
                processes[m.program, default: [:]][m.configuration, default: []] += m.perProcess ?? [m]
            }
        }
        return programs.flatMap { p in
            judged(configurations[p]!.map { c in Measurement(combining: processes[p]![c]!) })
        }
    }

    /// Prints the table (with `extra` after it) and writes the JSON and the chart when asked;
    /// then names, on standard error, every configuration that failed or gave a wrong result.
    func report(_ all: [Measurement], notes: [String], extra: String = "") throws {
        print(markdown(all, notes: notes) + extra)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(all).write(to: URL(fileURLWithPath: json))
        }
        if let svg { try chart(all).write(toFile: svg, atomically: true, encoding: .utf8) }
        // Said again at the end, on standard error: a "failed" cell in a wide table is easy to
        // miss (session 37 found warm starts crashing that way).
        let failed = all.filter { $0.note != nil || $0.correct == false }
        if !failed.isEmpty {
            writeStandardError("strata bench: \(failed.count) configuration run(s) failed or gave a wrong result:\n"
                + failed.map { "  \($0.program) \($0.configuration): \($0.note ?? "wrong result \($0.result ?? "-")")\n" }.joined())
        }
    }

    /// The programs that measure a configuration, found once per `strata bench`.
    struct Runners {
        var me: String
        var nativeDir: String
        var wasmkitDriver: String?
        var wasmkitCLI: String?
        /// Python with the `wasmtime` package.
        var python: String?
    }

    /// Runs every configuration on one program once, each in its own process, in the table's
    /// order or the reverse; the measurements come back in the table's order.
    func measureOnce(path: String, name: String, _ r: Runners, reversed: Bool = false) -> [Measurement] {
        var steps: [() -> Measurement] = []
        let nativePath = "\(r.nativeDir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: nativePath) {
            steps.append { runProtocol(nativePath, [String(reps)], program: name, configuration: "native") }
        }
        let threshold = tierUpThreshold.map { ["--tier-up-threshold", String($0)] } ?? []
        for t in (tier.isEmpty ? Tier.allCases : tier) {
            steps.append { runProtocol(r.me, ["bench-run", "--tier", t.rawValue, "--reps", String(reps)] + threshold + [path], program: name, configuration: t.rawValue) }
        }
        if compareOSR {
            steps.append {
                runProtocol(r.me, ["bench-run", "--tier", "tiered", "--osr", "disabled", "--reps", String(reps)] + threshold + [path],
                            program: name, configuration: "tiered-no-osr")
            }
        }
        if tier.isEmpty || tier.contains(.tiered) {
            // Tiered with a warm code cache: one run fills a fresh cache, the measured run starts from it.
            steps.append {
                let dir = temporaryFolder() + "/strata-bench-cache-\(UUID().uuidString)"
                _ = runProtocol(r.me, ["bench-run", "--tier", "tiered", "--cache-dir", dir, "--reps", "2"] + threshold + [path], program: name, configuration: "prime")
                defer { try? FileManager.default.removeItem(atPath: dir) }
                return runProtocol(r.me, ["bench-run", "--tier", "tiered", "--cache-dir", dir, "--reps", String(reps)] + threshold + [path], program: name, configuration: "tiered-warm")
            }
        }
        if let driver = r.wasmkitDriver {
            steps.append { runProtocol(driver, [path, String(reps)], program: name, configuration: "wasmkit") }
        } else if let wasmkit = r.wasmkitCLI {
            steps.append { measureWasmkitCLI(wasmkit, path: path, name: name) }
        }
        if let python = r.python {
            steps.append { runProtocol(python, ["Benchmarks/peers/wasmtime_driver.py", path, String(reps)], program: name, configuration: "wasmtime") }
        }
        var row = [Measurement?](repeating: nil, count: steps.count)
        for i in reversed ? Array(steps.indices.reversed()) : Array(steps.indices) { row[i] = steps[i]() }
        return row.map { $0! }
    }

    /// The toolchain's `wasmkit` CLI, timed as whole processes (no per-iteration protocol).
    func measureWasmkitCLI(_ wasmkit: String, path: String, name: String) -> Measurement {
        var m = Measurement(program: name, configuration: "wasmkit", totalSeconds: 0)
        for _ in 0..<reps {
            let one = runProtocol(wasmkit, ["run", path, "run"], program: name, configuration: "wasmkit")
            if let note = one.note {
                m.note = "failed (\(note))"
                m.iterations = []
                break
            }
            m.iterations.append(one.totalSeconds)
            m.totalSeconds += one.totalSeconds
        }
        let output = runProtocolRaw(wasmkit, ["run", path, "run"])
        if let r = output.split(separator: "(").last?.split(separator: ")").first, let v = UInt32(r) {
            m.result = String(Int32(bitPattern: v))
        }
        return m
    }

    func runProtocolRaw(_ executable: String, _ arguments: [String]) -> String {
        let run = try? runSubprocess(executable, arguments, errors: .inherit)
        return String(decoding: run?.output ?? [], as: UTF8.self)
    }

    static let order = ["native", "interpreter", "baseline", "optimizing", "tiered", "tiered-no-osr", "tiered-warm", "wasmkit", "wasmtime"]
    static let strataTiers = Tier.allCases.map(\.rawValue) + ["tiered-no-osr", "tiered-warm"]

    /// Decode, validate and translate/compile speed on the large generated module.
    func compileThroughput(python: String?) -> String {
        let path = ".build/bench/large.wasm"
        guard let data = FileManager.default.contents(atPath: path) else {
            return "\nCompile throughput: no \(path) (run Benchmarks/build.sh --large)\n"
        }
        let bytes = [UInt8](data)
        let mb = Double(bytes.count) / 1e6
        // Best of 5, as `strata validate --time`: single runs on a busy 2-core machine vary by 20%.
        var out = format("\nCompile throughput on %@ (%.1f MB), best of 5:\n\n| configuration | time ms | MB/s |\n| --- | --- | --- |\n", path, mb)
        if let v = try? bestTime(of: 5, { try Module.validate(bytes: bytes) }) {
            out += format("| Strata decode + validate | %.0f | %.0f |\n", v * 1e3, mb / v)
        }
        // The interpreter tier: decode and validate (functions are translated at their first
        // call; what tiered mode also keeps for tiering, per-function state, is not part of it).
        let interpreterEngine = Engine(configuration: .with(tier: .interpreter))
        if let c = try? bestTime(of: 5, { _ = try Module(engine: interpreterEngine, bytes: bytes) }) {
            out += format("| Strata module creation, interpreter (translation at each function's first call) | %.0f | %.0f |\n", c * 1e3, mb / c)
        }
        var coldOneThread: Double?
        for (tier, threads) in [(Tier.baseline, 1), (.baseline, max(1, ProcessInfo.processInfo.activeProcessorCount)), (.optimizing, 1)] {
            var config = EngineConfiguration.with(tier: tier)
            config.compileThreads = threads
            let engine = Engine(configuration: config)
            if let c = try? bestTime(of: 5, { _ = try Module(engine: engine, bytes: bytes) }) {
                if threads == 1 && tier == .baseline { coldOneThread = c }
                out += format("| Strata module creation, %@ tier (decode, validate, compile), %d thread%@ | %.0f | %.0f |\n",
                              tier.rawValue, threads, threads == 1 ? "" : "s", c * 1e3, mb / c)
            }
        }
        // The code cache: the same module created again with its compiled code in the cache.
        for tier in [Tier.baseline, .tiered] {
            var config = EngineConfiguration.with(tier: tier)
            let cache = InMemoryCodeCache()
            config.codeCache = cache
            let engine = Engine(configuration: config)
            if let module = try? Module(engine: engine, bytes: bytes) {
                module.precompile()  // tiered: every function, as a run that touched them all
                engine.flushCodeCache(timeout: 600)
            }
            if let warm = try? bestTime(of: 5, { _ = try Module(engine: engine, bytes: bytes) }) {
                let ratio = coldOneThread.map { format(" (%.1fx faster than compiling on 1 thread)", $0 / warm) } ?? ""
                out += format("| Strata module creation, %@ mode, warm code cache (in memory)%@ | %.1f | %.0f |\n",
                              tier.rawValue, ratio, warm * 1e3, mb / warm)
            }
        }
        if let python {
            let runs = (0..<3).map { _ in runProtocol(python, ["Benchmarks/peers/wasmtime_driver.py", path, "0"], program: "large", configuration: "wasmtime") }
            if let w = runs.compactMap(\.loadSeconds).min() {
                out += format("| Wasmtime (Cranelift) compile + instantiate | %.0f | %.0f |\n", w * 1e3, mb / w)
            }
        }
        return out
    }

    /// What a trap costs in the baseline tier with many compiled modules loaded, with each
    /// unwinder (a trap three compiled frames below the host entry).
    func trapCost(modules: Int = 500, traps: Int = 2000) -> String {
        let engine = Engine(configuration: .with(tier: .baseline))
        let store = Store(engine: engine)
        var instances: [Instance] = []
        do {
            for k in 0..<modules {
                let wat = """
                    (module
                      (func $leaf (param i32) (result i32) (i32.div_u (i32.const \(k)) (local.get 0)))
                      (func $mid (param i32) (result i32) (call $leaf (local.get 0)))
                      (func (export "run") (param i32) (result i32) (call $mid (local.get 0))))
                    """
                instances.append(try store.instantiate(Module(engine: engine, bytes: wat2wasm(wat))))
            }
        } catch {
            return "\nTrap cost: could not load the modules (\(error))\n"
        }
        var out = "\nTrap cost (baseline tier, \(modules) compiled modules loaded, trap 3 frames deep, \(traps) traps):\n\n| unwinder | µs per trap |\n| --- | --- |\n"
        let saved = Engine.trapUnwinder
        defer { Engine.trapUnwinder = saved }
        for (name, unwinder) in [("libunwind", TrapUnwinder.libunwind), ("frame pointers", .framePointers)] {
            Engine.trapUnwinder = unwinder
            let run = instances[modules / 2].function("run")!
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<traps { _ = try? run.call([.i32(0)]) }
            let us = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(traps)
            out += format("| %@ | %.1f |\n", name, us)
        }
        return out
    }

    func markdown(_ all: [Measurement], notes: [String]) -> String {
        let programs = all.map(\.program).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let configs = Self.order.filter { c in all.contains { $0.configuration == c } }
        func ms(_ s: Double?) -> String { s.map { format($0 < 0.01 ? "%.2f" : "%.1f", $0 * 1000) } ?? "-" }
        let tiers = Self.strataTiers.filter { configs.contains($0) }
        // Ratios between tiers, when both are measured: (column title, numerator, denominator, first result?)
        let comparisons: [(String, String, String, Bool)] = [
            ("baseline speed-up", "interpreter", "baseline", false),
            ("optimizing ÷ baseline", "optimizing", "baseline", false),
            ("tiered ÷ baseline", "tiered", "baseline", false),
            ("tiered ÷ interpreter, first result", "tiered", "interpreter", true),
            ("tiered ÷ baseline, first result", "tiered", "baseline", true),
            ("tiered ÷ optimizing", "tiered", "optimizing", false),
            ("tiered ÷ tiered without OSR, first result", "tiered", "tiered-no-osr", true),
            ("warm cache: first iteration ÷ baseline steady", "tiered-warm", "baseline", true),
        ].filter { tiers.contains($0.1) && tiers.contains($0.2) }
        var out = "| program | " + configs.map { "\($0) ms" }.joined(separator: " | ") + " |"
        for t in tiers { out += " \(t) ÷ native |" }
        for c in comparisons { out += " \(c.0) |" }
        for t in tiers { out += " \(t) load ms | \(t) first result ms |" }
        out += " interpreter RSS MiB | peers ÷ interpreter | peers ÷ baseline | peers ÷ optimizing |\n"
        let columns = configs.count + tiers.count * 3 + comparisons.count + 4
        out += "|" + String(repeating: " --- |", count: columns + 1) + "\n"
        var ratios: [String: [Double]] = [:]
        // Per peer and Strata configuration: (program, rounds in which the peer was slower, rounds).
        var verdicts: [String: [(String, Int, Int)]] = [:]
        for p in programs {
            let row = all.filter { $0.program == p }
            func get(_ c: String) -> Measurement? { row.first { $0.configuration == c } }
            out += "| \(p) |"
            for c in configs {
                guard let m = get(c) else { out += " - |"; continue }
                if m.steadySeconds == nil { out += " failed |"; continue }
                let wrong = m.correct == false ? " **WRONG**" : ""
                let spread = m.spread.map { format(" ±%.0f%%", $0 * 100) } ?? ""
                out += " \(ms(m.steadySeconds))\(spread)\(wrong) |"
            }
            let interp = get("interpreter")
            for t in tiers {
                if let n = get("native")?.steadySeconds, let i = get(t)?.steadySeconds, n > 0 {
                    out += format(" %.1f× |", i / n)
                    ratios["\(t)/native", default: []].append(i / n)
                } else { out += " - |" }
            }
            for (_, a, b, first) in comparisons {
                let warm = a == "tiered-warm"
                let x = warm ? get(a)?.firstIterationSeconds : first ? get(a)?.firstResultSeconds : get(a)?.steadySeconds
                let y = warm ? get(b)?.steadySeconds : first ? get(b)?.firstResultSeconds : get(b)?.steadySeconds
                if let x, let y, y > 0 {
                    out += format(" %.2f× |", x / y)
                    ratios["\(a)/\(b)\(first ? " (first result)" : "")", default: []].append(x / y)
                } else { out += " - |" }
            }
            for t in tiers { out += " \(ms(get(t)?.loadSeconds)) | \(ms(get(t)?.firstResultSeconds)) |" }
            out += " " + (interp?.rssKiB.map { format("%.1f", Double($0) / 1024) } ?? "-") + " |"
            for base in ["interpreter", "baseline", "optimizing"] {
                var peers: [String] = []
                for c in ["wasmkit", "wasmtime"] {
                    if let t = get(c)?.steadySeconds, let i = get(base)?.steadySeconds, i > 0 {
                        var cell = format("%@ %.2f", c, t / i)
                        if let (slower, rounds) = Self.roundsSlower(get(c), than: get(base)) {
                            cell += " [\(slower)/\(rounds)]"
                            verdicts["\(c) against \(base)", default: []].append((p, slower, rounds))
                        }
                        peers.append(cell)
                        ratios["\(c)/\(base)", default: []].append(t / i)
                    }
                }
                out += " \(peers.joined(separator: ", ")) |"
            }
            out += "\n"
        }
        out += "\nGeometric means: "
        out += ratios.keys.sorted().map { key in
            let v = ratios[key]!
            return format("%@ %.2f (%d programs)", key, exp(v.map { log($0) }.reduce(0, +) / Double(v.count)), v.count)
        }.joined(separator: "; ")
        out += "\n\nTimes are the median of runs 2-\(reps) (run 1 is the warm-up) with their spread; CPU time and all runs are in the JSON. \"failed\": the configuration could not run the program (reason in the JSON)."
        for n in notes { out += "\n- \(n)" }
        if !verdicts.isEmpty {
            out += "\n\nBy rounds (each round runs every configuration once, back to back; [k/n] in the peers' columns: the peer took longer than Strata's configuration in k of n rounds). A peer exactly as fast is slower in all of 5 rounds with probability 1/32, of 7 rounds 1/128; p: the probability that it is slower in at least k of the n (the sign test):"
            for key in verdicts.keys.sorted() {
                let v = verdicts[key]!
                let always = v.filter { $0.1 == $0.2 }, never = v.filter { $0.1 == 0 }
                let mixed = v.filter { $0.1 > 0 && $0.1 < $0.2 }
                out += "\n- \(key): slower in every round on \(always.count) of \(v.count) programs"
                if !mixed.isEmpty {
                    out += "; in some rounds only on " + mixed.map {
                        format("%@ (%d/%d, p = %.2g)", $0.0, $0.1, $0.2, roundsLongerProbability($0.1, of: $0.2))
                    }.joined(separator: ", ")
                }
                if !never.isEmpty { out += "; faster in every round on " + never.map(\.0).joined(separator: ", ") }
            }
        }
        return out + "\n"
    }

    /// In how many rounds `peer` took longer than `strata`, of the rounds both ran in (the
    /// processes of one round run back to back, so a slow phase of the machine touches both);
    /// nil without several rounds.
    static func roundsSlower(_ peer: Measurement?, than strata: Measurement?) -> (Int, Int)? {
        guard let a = peer?.perProcess, let b = strata?.perProcess, a.count == b.count else { return nil }
        let counted = roundsLonger(a.map(\.steadySeconds), than: b.map(\.steadySeconds))
        return counted.rounds > 1 ? (counted.longer, counted.rounds) : nil
    }

    /// A grouped bar chart of each configuration's steady time divided by native, log scale.
    func chart(_ all: [Measurement]) -> String {
        let programs = all.map(\.program).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let configs = Self.order.filter { c in c != "native" && all.contains { $0.configuration == c } }
        let colors = ["interpreter": "#d9534f", "baseline": "#f0ad4e", "optimizing": "#2e8b57", "tiered": "#9b59b6", "tiered-no-osr": "#c39bd3", "tiered-warm": "#34495e", "wasmkit": "#5bc0de", "wasmtime": "#5cb85c"]
        let width = 180 + programs.count * 60, height = 400
        let top = 30.0, bottom = 280.0
        func y(_ ratio: Double) -> Double {  // 1x at the bottom, 1000x at the top, log scale
            bottom - (bottom - top) * min(max(log10(ratio), 0), 3) / 3
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<text x=\"10\" y=\"18\" font-size=\"14\">Time relative to native (log scale; lower is better)</text>\n"
        for r in [1.0, 10, 100, 1000] {
            svg += format("<line x1=\"60\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"10\" y=\"%.1f\">%gx</text>\n", width - 10, y(r), y(r), y(r) + 4, r)
        }
        for (k, p) in programs.enumerated() {
            let x0 = 70 + k * 60
            let native = all.first { $0.program == p && $0.configuration == "native" }?.steadySeconds
            for (j, c) in configs.enumerated() {
                guard let n = native, n > 0, let t = all.first(where: { $0.program == p && $0.configuration == c })?.steadySeconds else { continue }
                let h = bottom - y(t / n)
                svg += format("<rect x=\"%d\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"%@\"><title>%@ %@: %.1fx</title></rect>\n",
                              x0 + j * 15, y(t / n), max(h, 1), colors[c] ?? "#999", p, c, t / n)
            }
            svg += format("<text transform=\"translate(%d,%d) rotate(45)\">%@</text>\n", x0, Int(bottom) + 12, p)
        }
        for (j, c) in configs.enumerated() {
            svg += "<rect x=\"\(width - 130)\" y=\"\(30 + j * 16)\" width=\"10\" height=\"10\" fill=\"\(colors[c] ?? "#999")\"/><text x=\"\(width - 115)\" y=\"\(39 + j * 16)\">\(c)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
