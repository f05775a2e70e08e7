import FoundationEssentials
import Glibc
import Strata
import WAT

/// Runs official `.wast` spec scripts against Strata. Scripts are parsed by WasmKit's WAT
/// product; every module is decoded, validated and run by Strata itself.
public final class WastRunner {
    public struct Failure: CustomStringConvertible, Sendable {
        public var file: String
        public var line: Int
        public var message: String
        public var expected: Bool
        public var description: String { "\(file):\(line): \(message)" }
    }

    public struct FileResult: Sendable {
        public var file: String
        public var passed = 0
        public var failures: [Failure] = []
        /// Expectation entries that matched nothing because the directive passed.
        public var unexpectedPasses: [String] = []
        /// Functions of the script's valid modules, and how many of them the engine's compiled
        /// tier compiled (the rest ran in the interpreter).
        public var definedFunctions = 0
        public var compiledFunctions = 0
        /// Of those, compiled by the optimizing tier.
        public var optimizedFunctions = 0
        public var failed: Int { failures.count }
        public var unexpectedFailures: [Failure] { failures.filter { !$0.expected } }
    }

    public let engine: Engine
    /// The same configuration with Wasm 2.0's features only: the testsuite's `wasm-2.0` folder
    /// tests Wasm 2.0, whose rules some later proposals relax (extended constant expressions
    /// make some of its invalid modules valid).
    public let wasm2Engine: Engine
    public let expectations: Expectations

    public init(engine: Engine = Engine(), expectations: Expectations = Expectations()) {
        self.engine = engine
        var c = engine.configuration
        c.features = .wasm2
        wasm2Engine = Engine(configuration: c)
        self.expectations = expectations
    }

    /// The engine a script runs in: by its path relative to the testsuite root.
    public func engine(forScript name: String) -> Engine {
        name.hasPrefix("wasm-2.0/") ? wasm2Engine : engine
    }

    /// Both engines' tiering statistics, added.
    public var tieringStatistics: TieringStatistics {
        var s = engine.tieringStatistics
        let t = wasm2Engine.tieringStatistics
        s.requests += t.requests
        s.notCompiled += t.notCompiled
        s.queueLength += t.queueLength
        s.codeBytes += t.codeBytes
        s.osrTransfers += t.osrTransfers
        s.osrCompiles += t.osrCompiles
        for (tier, n) in t.functionsCompiled { s.functionsCompiled[tier, default: 0] += n }
        return s
    }

    /// Which text parser reads `.wast` scripts.
    public enum Parser: String, Sendable, CaseIterable {
        /// The spec's reference parser (`wasm-tools json-from-wast`): expresses every directive,
        /// invalid and malformed modules included.
        case reference
        /// WasmKit's parser: needs no other tool, but cannot produce some invalid modules.
        case wasmkit
    }

    /// The reference parser when `wasm-tools` is on PATH, else WasmKit's.
    public static var defaultParser: Parser { ReferenceScript.converter != nil ? .reference : .wasmkit }

    /// Runs one script: a `.wast` file, or a `.json` script the reference parser wrote (its
    /// modules beside it). `name` is the path used in reports and expectation entries
    /// (relative to the testsuite root).
    public func run(path: String, name: String, parser: Parser = WastRunner.defaultParser) -> FileResult {
        var result = FileResult(file: name)
        var session = Session(engine: engine(forScript: name))
        run(path: path, name: name, parser: parser, session: &session, into: &result)
        result.definedFunctions = session.definedFunctions
        result.compiledFunctions = session.compiledFunctions
        result.optimizedFunctions = session.optimizedFunctions
        return result
    }

    func run(path: String, name: String, parser: Parser, session: inout Session, into result: inout FileResult) {
        if path.hasSuffix(".json") {
            let folder = path.deletingLastPathComponent
            ReferenceScript.run(json: path, folder: folder, name: name, session: &session, expectations: expectations, into: &result)
            return
        }
        if parser == .reference {
            guard let converter = ReferenceScript.converter else {
                result.failures.append(Failure(file: name, line: 0, message: "the reference parser (wasm-tools) is not on PATH", expected: expectations.expects(name, line: 0)))
                return
            }
            switch ReferenceScript.convert(path, converter: converter) {
            case .failure(let e):
                result.failures.append(Failure(file: name, line: 0, message: e.description, expected: expectations.expects(name, line: 0)))
            case .success(let (json, folder)):
                defer { try? FileManager.default.removeItem(atPath: folder) }
                ReferenceScript.run(json: json, folder: folder, name: name, session: &session, expectations: expectations, into: &result)
            }
            return
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            result.failures.append(Failure(file: name, line: 0, message: "cannot read file", expected: expectations.expects(name, line: 0)))
            return
        }
        var wast: WAST
        do {
            wast = try parseWAST(text, features: [.referenceTypes, .simd])
        } catch {
            result.failures.append(Failure(file: name, line: 0, message: "cannot parse script: \(error)", expected: expectations.expects(name, line: 0)))
            return
        }
        var failedLines: Set<Int> = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        while let (directive, location) = wast.nextDirectiveResult() {
            let outcome: String?
            switch directive {
            case .success(let d):
                outcome = session.execute(d)
            case .failure(let e):
                outcome = "script parse error: \(e.error)"
            }
            if let message = outcome {
                let line = Self.directiveLine(after: location.computeLineAndColumn().line, in: lines)
                let expected = expectations.expects(name, line: line)
                result.failures.append(Failure(file: name, line: line, message: message, expected: expected))
                failedLines.insert(line)
            } else {
                result.passed += 1
            }
        }
        result.unexpectedPasses = expectations.staleEntries(for: name, failedLines: failedLines)
    }

    /// WasmKit reports where the previous directive ended; the directive itself starts at the
    /// first following line that opens a parenthesis (comments and blank lines skipped).
    static func directiveLine(after line: Int, in lines: [Substring]) -> Int {
        var i = max(line - 1, 0)
        var inBlockComment = false
        while i < lines.count {
            let t = lines[i].trimmingSpaces
            if inBlockComment {
                if t.contains(";)") { inBlockComment = false }
            } else if t.hasPrefix("(;") {
                inBlockComment = !t.contains(";)")
            } else if t.hasPrefix("(") {
                return i + 1
            }
            i += 1
        }
        return line
    }
}

/// The checked-in list of known failures: `PATH[:LINE]  # reason`. A path alone covers every
/// directive of the file; every entry must give a reason.
public struct Expectations: Sendable {
    struct Entry: Sendable {
        var path: String
        var line: Int?
        var reason: String
    }
    var entries: [Entry] = []

    public init() {}

    public init(contentsOf path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let hash = line.firstIndex(of: "#") else {
                throw RunnerError("\(path):\(n + 1): entry without a reason")
            }
            let target = line[..<hash].trimmingSpaces
            let reason = line[line.index(after: hash)...].trimmingSpaces
            guard !reason.isEmpty else {
                throw RunnerError("\(path):\(n + 1): entry without a reason")
            }
            if let colon = target.lastIndex(of: ":"), let l = Int(target[target.index(after: colon)...]) {
                entries.append(Entry(path: String(target[..<colon]), line: l, reason: reason))
            } else {
                entries.append(Entry(path: target, line: nil, reason: reason))
            }
        }
    }

    public func expects(_ file: String, line: Int) -> Bool {
        entries.contains { $0.path == file && ($0.line == nil || $0.line == line) }
    }

    /// Entries for `file` that no longer fail.
    func staleEntries(for file: String, failedLines: Set<Int>) -> [String] {
        var stale: [String] = []
        for e in entries where e.path == file {
            if let l = e.line {
                if !failedLines.contains(l) { stale.append("\(e.path):\(l)") }
            } else if failedLines.isEmpty {
                stale.append(e.path)
            }
        }
        return stale
    }
}

/// The state of one script: store, registered modules, the current instance.
struct Session {
    let engine: Engine
    let store: Store
    let linker = Linker()
    var current: Instance?
    var named: [String: Instance] = [:]
    var definitions: [String: Module] = [:]
    var definedFunctions = 0
    var compiledFunctions = 0
    var optimizedFunctions = 0
    var lastDefinition: Module?

    init(engine: Engine) {
        self.engine = engine
        store = Store(engine: engine)
        Self.defineSpectest(linker: linker, store: store)
    }

    static func defineSpectest(linker: Linker, store: Store) {
        let prints: [(String, [ValueType])] = [
            ("print", []), ("print_i32", [.i32]), ("print_i64", [.i64]), ("print_f32", [.f32]),
            ("print_f64", [.f64]), ("print_i32_f32", [.i32, .f32]), ("print_f64_f64", [.f64, .f64]),
        ]
        for (name, params) in prints {
            linker.defineFunction("spectest", name, store: store, type: FuncType(params: params, results: [])) { _, _ in [] }
        }
        let globals: [(String, Value)] = [
            ("global_i32", .i32(666)), ("global_i64", .i64(666)),
            ("global_f32", .f32(666.6)), ("global_f64", .f64(666.6)),
        ]
        for (name, v) in globals {
            let g = try! Global(store: store, type: GlobalType(value: v.type, mutable: false), value: v)
            linker.define("spectest", name, .global(g))
        }
        linker.define("spectest", "table", .table(try! Table(type: TableType(element: .funcref, limits: Limits(min: 10, max: 20)))))
        linker.define("spectest", "table64", .table(try! Table(type: TableType(element: .funcref, limits: Limits(min: 10, max: 20), is64: true))))
        linker.define("spectest", "memory", .memory(try! Memory(type: MemoryType(limits: Limits(min: 1, max: 2)))))
    }

    /// Executes a directive; returns nil on success or why it failed.
    mutating func execute(_ directive: WASTDirective) -> String? {
        switch directive {
        case .module(let m):
            switch Result(catching: { try Self.encode(m.source) }) {
            case .success(let bytes): return load(bytes, name: m.id, definitionOnly: m.isDefinition)
            case .failure(let e):
                // Later directives must not run against the previous module.
                current = nil
                if let id = m.id { named[id] = nil }
                return "module failed: \(e)"
            }
        case .moduleInstance(let instanceName, let moduleName):
            return instantiateDefinition(moduleName, as: instanceName)
        case .register(let name, let moduleId):
            return register(moduleId, as: name)
        case .invoke(let invoke):
            switch run(.invoke(invoke)) {
            case .success: return nil
            case .failure(let e): return "invoke failed: \(e)"
            }
        case .assertReturn(let execute, let expected):
            switch run(execute) {
            case .failure(let e): return "expected results, got \(e)"
            case .success(let values):
                guard values.count == expected.count else { return "expected \(expected.count) results, got \(values)" }
                for (v, e) in zip(values, expected) where !Self.matches(v, e) {
                    return "result mismatch: got \(values), expected \(expected)"
                }
                return nil
            }
        case .assertTrap(let execute, let message):
            switch run(execute) {
            case .success(let values): return "expected trap \"\(message)\", got \(values)"
            case .failure(let e): return Self.checkTrap(e, message)
            }
        case .assertExhaustion(let call, let message):
            switch run(.invoke(call)) {
            case .success(let values): return "expected exhaustion, got \(values)"
            case .failure(let e):
                guard let trap = e as? Trap, trap.kind == .callStackExhausted else { return "expected \"\(message)\", got \(e)" }
                return nil
            }
        case .assertInvalid(let module, let message):
            return expectError(module.source, kind: .invalid, message: message)
        case .assertMalformed(let module, let message):
            return expectError(module.source, kind: .malformed, message: message)
        case .assertUnlinkable(let wat, let message):
            switch Result(catching: { try wat.encode() }) {
            case .success(let bytes): return expectUnlinkable(bytes, message: message)
            case .failure(let e): return "expected unlinkable \"\(message)\", got \(e)"
            }
        case .assertException, .assertFuel, .assertOutOfFuel:
            return "directive not supported (not part of Wasm 2.0)"
        }
    }

    /// A WasmKit script module as a binary.
    static func encode(_ source: ModuleSource) throws -> [UInt8] {
        switch source {
        case .text(let wat): try wat.encode()
        case .binary(let b): b
        case .quote(let q): try wat2wasm(String(decoding: q, as: UTF8.self), features: [.referenceTypes, .simd])
        }
    }

    // Operations on modules as bytes, shared by both script front ends.

    /// A `module` (instantiated, becoming the current instance) or a module definition.
    mutating func load(_ bytes: [UInt8], name: String?, definitionOnly: Bool = false) -> String? {
        do {
            let module = try compile(bytes: bytes)
            if definitionOnly {
                if let name { definitions[name] = module }
                lastDefinition = module
                return nil
            }
            let instance = try linker.instantiate(module, in: store)
            current = instance
            if let name { named[name] = instance }
            return nil
        } catch {
            // Later directives must not run against the previous module.
            current = nil
            if let name { named[name] = nil }
            return "module failed: \(error)"
        }
    }

    mutating func instantiateDefinition(_ moduleName: String?, as instanceName: String?) -> String? {
        guard let module = moduleName.flatMap({ definitions[$0] }) ?? lastDefinition else { return "unknown module definition" }
        do {
            let instance = try linker.instantiate(module, in: store)
            current = instance
            if let instanceName { named[instanceName] = instance }
            return nil
        } catch {
            return "instantiation failed: \(error)"
        }
    }

    mutating func register(_ moduleName: String?, as name: String) -> String? {
        guard let instance = moduleName.flatMap({ named[$0] }) ?? current else { return "register: no module" }
        linker.define(instance: instance, as: name)
        return nil
    }

    func invoke(_ module: String?, _ field: String, _ args: [Value]) -> Result<[Value], any Error> {
        guard let instance = instance(module) else { return .failure(RunnerError("no module")) }
        guard let f = instance.function(field) else { return .failure(RunnerError("no export \(field)")) }
        return Result { try f.call(args) }
    }

    func get(_ module: String?, _ field: String) -> Result<[Value], any Error> {
        guard let g = instance(module)?.global(field) else { return .failure(RunnerError("no global \(field)")) }
        return .success([g.value])
    }

    /// The binary must be rejected with `kind` and a matching message.
    func expectError(_ bytes: [UInt8], kind: WasmError.Kind, message: String) -> String? {
        do {
            _ = try Module(engine: engine, bytes: bytes)
            return "expected \(kind) \"\(message)\", but the module was accepted"
        } catch {
            // Module creation throws only `WasmError`.
            guard error.kind == kind else { return "expected \(kind) \"\(message)\", got \(error)" }
            let wasm2 = engine.configuration.features == .wasm2
            return Self.messageMatches(error.message, message, wasm2: wasm2) ? nil : "expected \(kind) \"\(message)\", got \"\(error.message)\""
        }
    }

    /// Text the reference parser rejects as malformed: Strata's text front end (WasmKit's
    /// parser) must reject it, or produce a binary Strata rejects as malformed.
    func expectTextRejected(_ text: String, message: String) -> String? {
        let bytes: [UInt8]
        do {
            bytes = try wat2wasm(text, features: [.referenceTypes, .simd])
        } catch {
            return nil
        }
        do {
            _ = try Module(engine: engine, bytes: bytes)
            return "expected malformed text \"\(message)\", but the text parser and the module were accepted"
        } catch {
            return error.kind == .malformed ? nil : "expected malformed text \"\(message)\", the text parser accepted it and the module was \(error)"
        }
    }

    mutating func expectUnlinkable(_ bytes: [UInt8], message: String) -> String? {
        do {
            let module = try Module(engine: engine, bytes: bytes)
            _ = try linker.instantiate(module, in: store)
            return "expected unlinkable \"\(message)\", but instantiation succeeded"
        } catch let e as WasmError where e.kind == .unlinkable {
            return nil
        } catch {
            return "expected unlinkable \"\(message)\", got \(error)"
        }
    }

    /// The module is valid, and instantiating it traps (a start function, a segment out of
    /// bounds).
    mutating func expectUninstantiable(_ bytes: [UInt8], message: String) -> String? {
        let module: Module
        do {
            module = try compile(bytes: bytes)
        } catch {
            return "expected a trap at instantiation \"\(message)\", the module was rejected: \(error)"
        }
        do {
            let instance = try linker.instantiate(module, in: store)
            current = instance
            return "expected a trap at instantiation \"\(message)\", but instantiation succeeded"
        } catch {
            return Self.checkTrap(error, message)
        }
    }

    static func checkTrap(_ e: any Error, _ message: String) -> String? {
        guard let trap = e as? Trap else { return "expected trap \"\(message)\", got \(e)" }
        return messageMatches(trap.message, message) ? nil : "expected trap \"\(message)\", got \"\(trap.message)\""
    }

    mutating func compile(bytes: [UInt8]) throws -> Module {
        let module = try Module(engine: engine, bytes: bytes)
        definedFunctions += module.definedFunctionCount
        compiledFunctions += module.compiledFunctionCount
        optimizedFunctions += module.functionCount(in: .optimizing)
        return module
    }

    func expectError(_ source: ModuleSource, kind: WasmError.Kind, message: String) -> String? {
        let bytes: [UInt8]
        do {
            bytes = try Self.encode(source)
        } catch {
            // The text itself does not parse: that is what a malformed text module means.
            return kind == .malformed ? nil : "expected \(kind) \"\(message)\", text did not parse: \(error)"
        }
        // A malformed *text* module that the text parser let through can only be checked for
        // being malformed: the spec's message describes the text, ours the binary.
        if case .quote = source, kind == .malformed { return expectError(bytes, kind: kind, message: "") }
        return expectError(bytes, kind: kind, message: message)
    }

    static func messageMatches(_ actual: String, _ expected: String, wasm2: Bool = false) -> Bool {
        if actual.hasPrefix(expected) || expected.hasPrefix(actual) { return true }
        // The Wasm 2.0 suite (the `wasm-2.0` folder) words two errors as its reference
        // interpreter did; Strata reports what the Wasm 3.0 suite expects for the same modules.
        guard wasm2 else { return false }
        switch (expected, actual) {
        case ("global is immutable", "immutable global"):
            return true  // the same validation error, renamed in Wasm 3.0
        case ("illegal opcode", "unexpected end of section or function"):
            // A constant expression without its `end`: 2.0's reference decoder read on into the
            // next section (its id byte as an opcode); 3.0's stops at the section's end.
            return true
        default:
            return false
        }
    }

    func instance(_ name: String?) -> Instance? {
        name.flatMap { named[$0] } ?? current
    }

    mutating func run(_ execute: WASTExecute) -> Result<[Value], any Error> {
        switch execute {
        case .invoke(let invoke):
            var args: [Value] = []
            for a in invoke.args {
                guard let v = Self.value(a) else { return .failure(RunnerError("unsupported argument \(a)")) }
                args.append(v)
            }
            return self.invoke(invoke.module, invoke.name, args)
        case .get(let module, let name):
            return get(module, name)
        case .wat(let wat):
            do {
                let module = try compile(bytes: try wat.encode())
                let instance = try linker.instantiate(module, in: store)
                current = instance
                return .success([])
            } catch {
                return .failure(error)
            }
        }
    }

    static func value(_ c: WASTConstValue) -> Value? {
        switch c {
        case .i32(let v): return .i32(Int32(bitPattern: v))
        case .i64(let v): return .i64(Int64(bitPattern: v))
        case .f32(let v): return .f32(Float(bitPattern: v))
        case .f64(let v): return .f64(Double(bitPattern: v))
        case .refNull(let h): return h == .externRef ? .externref(nil) : .funcref(nil)
        case .refExtern(let v): return .externref(UInt64(v))
        case .v128(let v): return Strata.V128(bytes: v.bytes).map { .v128($0) }
        default: return nil
        }
    }

    static func matches(_ v: Value, _ e: WASTExpectValue) -> Bool {
        switch (v, e) {
        case (.i32(let a), .i32(let b)): return UInt32(bitPattern: a) == b
        case (.i64(let a), .i64(let b)): return UInt64(bitPattern: a) == b
        case (.f32(let a), .f32(let b)): return a.bitPattern == b
        case (.f64(let a), .f64(let b)): return a.bitPattern == b
        case (.f32(let a), .f32CanonicalNaN): return a.bitPattern & 0x7FFF_FFFF == 0x7FC0_0000
        case (.f32(let a), .f32ArithmeticNaN): return a.isNaN && a.bitPattern & 0x0040_0000 != 0
        case (.f64(let a), .f64CanonicalNaN): return a.bitPattern & 0x7FFF_FFFF_FFFF_FFFF == 0x7FF8_0000_0000_0000
        case (.f64(let a), .f64ArithmeticNaN): return a.isNaN && a.bitPattern & 0x0008_0000_0000_0000 != 0
        case (.funcref(let f), .refNull(let h)): return f == nil && (h == nil || h == .funcRef)
        case (.externref(let x), .refNull(let h)): return x == nil && (h == nil || h == .externRef)
        case (.funcref(let f), .refFunc): return f != nil
        case (.externref(let x), .refExtern(let y)): return x != nil && (y == nil || x == UInt64(y!))
        case (.v128(let a), .v128(let b)): return a.bytes == b.bytes
        case (.v128(let a), .v128Pattern(let p)): return matchesLanes(a.bytes, p)
        case (_, .either(let options)): return options.contains { matches(v, $0) }
        default: return false
        }
    }
}

/// A v128 result against a lane pattern. WasmKit's parser records NaN lanes in one mask for
/// both `nan:canonical` and `nan:arithmetic`, so such a lane is checked for an arithmetic NaN
/// (quiet bit set), which every canonical NaN also is.
func matchesLanes(_ bytes: [UInt8], _ p: V128Expectation) -> Bool {
    let width = p.shape == .f64x2 ? 8 : p.shape == .f32x4 ? 4 : 16
    for lane in 0..<(16 / width) {
        let got = Array(bytes[(lane * width)..<(lane * width + width)])
        let want = Array(p.bytes[(lane * width)..<(lane * width + width)])
        if p.nanLaneMask & (1 << UInt8(lane)) != 0 {
            var bits: UInt64 = 0
            for (i, b) in got.enumerated() { bits |= UInt64(b) << UInt64(8 * i) }
            let isArithmeticNaN = width == 4
                ? (bits & 0x7F80_0000 == 0x7F80_0000 && bits & 0x0040_0000 != 0)
                : (bits & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000 && bits & 0x0008_0000_0000_0000 != 0)
            if !isArithmeticNaN { return false }
        } else if got != want {
            return false
        }
    }
    return true
}

struct RunnerError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
