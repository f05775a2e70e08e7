import ArgumentParser
import FoundationEssentials
import Glibc
import Strata
import StrataSpecTest

/// `strata wasi-testsuite`: the official WASI preview 1 conformance tests, run in-process with
/// the chosen mode (`WASITestsuite` follows the suite's specification).
struct WASITestsuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wasi-testsuite",
        abstract: "Run WASI testsuite programs (wasi-testsuite's preview 1 layout: X.wasm with X.json).",
        discussion: "Exits with status 1 when a test fails. Each test's root folder is copied to a temporary folder first; the suite's folders are never written.")

    @OptionGroup var tiering: TieringOptions

    @Flag(help: "Print every test, passed ones too.")
    var verbose = false

    @Argument(help: "Suite folders (with manifest.json) or folders of suites.")
    var paths: [String]

    func run() throws {
        let tests = paths.flatMap { WASITestsuite.tests(in: $0) }
        guard !tests.isEmpty else { fail("no WASI tests (X.wasm beside manifest.json) in \(paths.joined(separator: ", "))") }
        if tiering.profile.guestPath != nil { fail("--profile guest applies to strata run only") }
        var c = tiering.configuration(cacheByDefault: false)
        c.tierLog = nil
        var failures = 0
        for test in tests {
            let outcome = WASITestsuite.run(test, configuration: c)
            if !outcome.passed { failures += 1 }
            if !outcome.passed || verbose {
                print("\(outcome.passed ? "ok  " : "FAIL") \(outcome.test)\(outcome.detail.isEmpty ? "" : ": \(outcome.detail)")")
            }
        }
        print("WASI testsuite, \(tiering.tier.rawValue): \(tests.count - failures) of \(tests.count) passed")
        if failures > 0 { throw ExitCode(1) }
    }
}
