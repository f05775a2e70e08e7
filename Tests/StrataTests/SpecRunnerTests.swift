import Foundation
import Testing
@testable import StrataSpecTest

/// The spec runner, driven from the test target: a few scripts of the official suite must
/// pass in full, and the runner must report failures it is given.
@Suite struct SpecRunnerTests {
    static let testsuite: String? = {
        let env = ProcessInfo.processInfo.environment["STRATA_TESTSUITE"]
        let sibling = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/wasm-testsuite").standardizedFileURL.path
        return [env, sibling].compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0 + "/wasm-2.0") }
    }()

    @Test(.enabled(if: testsuite != nil, "needs the Wasm testsuite (STRATA_TESTSUITE)"),
          arguments: ["i32", "f64", "br_table", "loop", "names", "binary", "binary-leb128", "memory_grow", "conversions", "table_copy", "imports", "linking"])
    func scriptPasses(_ name: String) throws {
        let runner = WastRunner()
        // Named by its path in the suite: wasm-2.0 scripts run with Wasm 2.0's features.
        let result = runner.run(path: Self.testsuite! + "/wasm-2.0/\(name).wast", name: "wasm-2.0/\(name).wast")
        #expect(result.failures.map(\.description) == [])
        #expect(result.passed > 10)
    }

    @Test(arguments: WastRunner.Parser.allCases)
    func runnerReportsWrongResults(parser: WastRunner.Parser) throws {
        if parser == .reference && ReferenceScript.converter == nil { return }  // wasm-tools: Tests/install-deps.sh
        let path = NSTemporaryDirectory() + "strata-runner-\(UUID().uuidString).wast"
        try """
        (module (func (export "one") (result i32) (i32.const 1)))
        (assert_return (invoke "one") (i32.const 1))
        (assert_return (invoke "one") (i32.const 2))
        (assert_trap (invoke "one") "unreachable")
        (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
        (assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = WastRunner().run(path: path, name: "t.wast", parser: parser)
        #expect(result.passed == 3)
        #expect(result.failures.map(\.line) == [3, 4, 6])
    }

    @Test func expectationsNeedReasons() throws {
        let path = NSTemporaryDirectory() + "strata-exp-\(UUID().uuidString).txt"
        try "a.wast:3\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: (any Error).self) { _ = try Expectations(contentsOf: path) }
        try "a.wast:3  # known\nb.wast # all of it\n".write(toFile: path, atomically: true, encoding: .utf8)
        let e = try Expectations(contentsOf: path)
        #expect(e.expects("a.wast", line: 3))
        #expect(!e.expects("a.wast", line: 4))
        #expect(e.expects("b.wast", line: 99))
    }

    /// Directives WasmKit's text parser cannot express reach Strata through the reference
    /// parser: an out-of-range index (WasmKit's encoder refuses it) must be rejected by Strata's
    /// validator with the spec's message, and a wrong message is reported.
    @Test(.enabled(if: ReferenceScript.converter != nil, "needs wasm-tools (Tests/install-deps.sh --tests)"))
    func referenceParserExpressesInvalidIndices() throws {
        let path = NSTemporaryDirectory() + "strata-runner-\(UUID().uuidString).wast"
        try """
        (assert_invalid (module (func $f (call 7))) "unknown function")
        (assert_invalid (module (func (local.get 3))) "unknown local")
        (assert_invalid (module (func (call 7))) "type mismatch")
        (module quote "(func (export \\"q\\") (result i32) (i32.const 5))")
        (assert_return (invoke "q") (i32.const 5))
        (assert_malformed (module quote "(func (i32.const 0x))") "unknown operator")
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = WastRunner().run(path: path, name: "t.wast", parser: .reference)
        #expect(result.failures.map(\.line) == [3])
        #expect(result.passed == 5)
        #expect(WastRunner().run(path: path, name: "t.wast", parser: .wasmkit).failures.count >= 2)
    }
}
