import FoundationEssentials
import Glibc
import Strata
import StrataWASI

/// Runs the official WASI testsuite (WebAssembly/wasi-testsuite, preview 1) as its
/// specification says a test runs: every `X.wasm` of a suite folder is a test; `X.json` beside
/// it may give `args`, `env`, `root` (a folder, relative to the test's, preopened as the
/// guest's `/`), `exit_code` (default 0) and `stdout` (compared when given). The root is
/// copied to a fresh temporary folder for each run (made writable, its `*.cleanup` entries
/// removed; created empty when the suite has none), so the suite's own folder is never
/// written. A test passes when it exits with the expected code (a trap never passes) and
/// prints the expected output.
public enum WASITestsuite {
    public struct Outcome: Sendable {
        /// `suite/name`, e.g. `rust/path_link`.
        public var test: String
        public var passed: Bool
        /// Why it failed: the exit code or trap, and what the program wrote to stderr.
        public var detail: String
    }

    /// The test modules of `folder` (a suite: a folder with `manifest.json`, or a folder of
    /// suites), sorted.
    public static func tests(in folder: String) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        if names.contains("manifest.json") {
            return names.filter { $0.hasSuffix(".wasm") }.sorted().map { "\(folder)/\($0)" }
        }
        return names.sorted().flatMap { name -> [String] in
            let path = "\(folder)/\(name)"
            guard isFolder(path) else { return [] }
            return fm.fileExists(atPath: "\(path)/manifest.json") ? tests(in: path) : []
        }
    }

    /// Runs one test module with an engine of `configuration`.
    public static func run(_ wasm: String, configuration: EngineConfiguration) -> Outcome {
        let base = String(wasm.dropLast(".wasm".count))
        let folder = wasm.deletingLastPathComponent
        let name = "\(folder.lastPathComponent)/\(base.lastPathComponent)"
        func failed(_ why: String) -> Outcome { Outcome(test: name, passed: false, detail: why) }

        var spec: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: base + ".json") {
            guard let object = (try? parseJSON([UInt8](data))) as? [String: Any] else {
                return failed("\(base).json is not a JSON object")
            }
            spec = object
        }
        let args = spec["args"] as? [String] ?? []
        let env = spec["env"] as? [String: String] ?? [:]
        let expectedCode = spec["exit_code"] as? Int ?? 0
        let expectedOutput = spec["stdout"] as? String

        let scratch = temporaryFolder() + "/strata-wasi-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var options = WASIOptions(arguments: [wasm.lastPathComponent] + args, environment: env)
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            if let root = spec["root"] as? String {
                let copy = try prepareRoot("\(folder)/\(root)", in: scratch)
                options.directories = [(host: copy, guest: "/")]
            }
        } catch {
            return failed("preparing the root folder: \(error)")
        }
        let stdoutPath = scratch + "/.stdout", stderrPath = scratch + "/.stderr"
        let out = open(stdoutPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let err = open(stderrPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(out); close(err); close(input) }
        options.stdin = input
        options.stdout = out
        options.stderr = err

        var outcome: String?
        var code: Int32 = -1
        do {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: wasm)))
            let engine = Engine(configuration: configuration)
            let store = Store(engine: engine)
            let linker = Linker()
            let wasi = try linker.defineWASI(options, store: store)
            let instance = try linker.instantiate(try Module(engine: engine, bytes: bytes), in: store)
            code = try wasi.start(instance)
        } catch {
            outcome = "\(error)"
        }
        let output = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let stderrTail = errors.isEmpty ? "" : "; stderr: " + String(errors.suffix(600))
        if let outcome { return failed("trapped: \(outcome)\(stderrTail)") }
        if code != expectedCode { return failed("exit code \(code), expected \(expectedCode)\(stderrTail)") }
        if let expectedOutput, output != expectedOutput {
            return failed("stdout \(output.debugDescription), expected \(expectedOutput.debugDescription)")
        }
        return Outcome(test: name, passed: true, detail: "")
    }

    /// A writable copy of `root` (empty when it does not exist) in `scratch`, without the
    /// `*.cleanup` entries earlier runs may have left.
    static func prepareRoot(_ root: String, in scratch: String) throws -> String {
        let fm = FileManager.default
        let copy = scratch + "/root"
        if fm.fileExists(atPath: root) {
            try fm.copyItem(atPath: root, toPath: copy)
        } else {
            try fm.createDirectory(atPath: copy, withIntermediateDirectories: true)
        }
        // The suite's folder may be read-only; the tests create and remove files in theirs.
        var paths = [copy]
        while let path = paths.popLast() {
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT != S_IFLNK else { continue }
            chmod(path, st.st_mode | S_IWUSR | S_IRUSR | (st.st_mode & S_IFMT == S_IFDIR ? S_IXUSR : 0))
            if st.st_mode & S_IFMT == S_IFDIR {
                for entry in try fm.contentsOfDirectory(atPath: path) {
                    if entry.hasSuffix(".cleanup") {
                        try fm.removeItem(atPath: "\(path)/\(entry)")
                    } else {
                        paths.append("\(path)/\(entry)")
                    }
                }
            }
        }
        return copy
    }
}
