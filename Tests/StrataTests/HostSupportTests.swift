import Foundation
import Testing
import StrataSpecTest

/// The command-line tools' host helpers (HostSupport.swift), which stand in for what they used
/// from Foundation: each is checked against what Foundation gives for the same input.
@Suite struct HostSupportTests {
    @Test func formatMatchesPrintf() {
        #expect(format("%.1f ms, %.0f MB/s", 12.345, 99.5) == String(format: "%.1f ms, %.0f MB/s", 12.345, 99.5))
        #expect(format("%d of %d, %.3f s", 3, Int32(-7), 0.0125) == "3 of -7, 0.013 s")
        #expect(format("%@: %d%%", "fib", 50) == "fib: 50%")
        #expect(format("<rect x=\"%d\" y=\"%.1f\"/>", 70, 186.54) == "<rect x=\"70\" y=\"186.5\"/>")
        #expect(format(" ±%.0f%%", 0.305 * 100) == String(format: " ±%.0f%%", 0.305 * 100))
        #expect(format("%g", 1e-7) == String(format: "%g", 1e-7))
        #expect(format("%5.2f|%-6@|%4@", 3.14159, "ab", "c") == " 3.14|ab    |   c")
        #expect(format("%.9f", 1234567.0) == "1234567.000000000")
        #expect(format("no conversions") == "no conversions")
    }

    /// `strata bench`'s count of the rounds a peer lost: only rounds where both ran count, and a
    /// tie is not a loss.
    @Test func roundsLongerCountsPairedRounds() {
        let peer: [Double?] = [2.0, 1.0, 3.0, nil, 1.5]
        let strata: [Double?] = [1.0, 2.0, 1.0, 1.0, 1.5]
        #expect(roundsLonger(peer, than: strata) == (longer: 2, rounds: 4))
        #expect(roundsLonger(strata, than: peer) == (longer: 1, rounds: 4))
        #expect(roundsLonger([nil, nil], than: [1.0, 2.0]) == (longer: 0, rounds: 0))
        #expect(roundsLonger([], than: []) == (longer: 0, rounds: 0))
    }

    @Test func roundsLongerProbabilityIsTheSignTest() {
        func near(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }
        #expect(near(roundsLongerProbability(5, of: 5), 1.0 / 32))
        #expect(near(roundsLongerProbability(7, of: 7), 1.0 / 128))
        #expect(near(roundsLongerProbability(10, of: 12), 79.0 / 4096))  // C(12,10)+C(12,11)+C(12,12) = 66+12+1
        #expect(near(roundsLongerProbability(6, of: 12), 2510.0 / 4096))
        #expect(near(roundsLongerProbability(1, of: 1), 0.5))
        #expect(roundsLongerProbability(0, of: 9) == 1)
        #expect(roundsLongerProbability(0, of: 0) == 1)
        #expect(roundsLongerProbability(4, of: 3) == 0)
        // Many rounds: 60 of 100 is p = 0.028 (the normal approximation gives 0.023 without and
        // 0.029 with continuity correction).
        #expect(abs(roundsLongerProbability(60, of: 100) - 0.0284) < 0.0001)
    }

    @Test func pathsAsText() {
        // What NSString's path methods give (its deletingLastPathComponent crashes on "c" in
        // this toolchain's Foundation, so the values are written out).
        let cases: [(String, last: String, folder: String)] = [
            ("/a/b/c.wasm", "c.wasm", "/a/b"), ("a/b/", "b", "a"), ("c", "c", ""), ("/", "/", "/"), ("/a", "a", "/"),
            ("a//b", "b", "a"), ("../x/y.json", "y.json", "../x"), ("", "", ""),
        ]
        for (path, last, folder) in cases {
            #expect(path.lastPathComponent == last, "\(path)")
            #expect(path.deletingLastPathComponent == folder, "\(path)")
        }
        #expect("/a/./b//c/../d/".standardizedPath == "/a/b/d")
        #expect("x/../../y".standardizedPath == "../y")
        #expect("/../a".standardizedPath == "/a")
        #expect("./".standardizedPath == ".")
        #expect("  \tfoo bar \t".trimmingSpaces == "foo bar")
        #expect("  ".trimmingSpaces == "")
        #expect(!temporaryFolder().hasSuffix("/"))
        #expect(isFolder(temporaryFolder()))
        #expect(!isFolder(#filePath))
    }

    @Test func jsonAsUntypedValues() throws {
        let text = #"{"commands": [{"type": "module", "line": 3, "filename": "a\ufeff.wasm"}, {"line": 4, "x": 1.5, "ok": true, "none": null, "raw": "\#u{FEFF}"}], "n": -12}"#
        let object = try #require(try parseJSON(Array(text.utf8)) as? [String: Any])
        #expect(object["n"] as? Int == -12)
        let commands = try #require(object["commands"] as? [[String: Any]])
        #expect(commands.count == 2)
        #expect(commands[0]["type"] as? String == "module")
        #expect(commands[0]["line"] as? Int == 3)
        #expect(commands[0]["filename"] as? String == "a\u{FEFF}.wasm")
        #expect(commands[1]["x"] as? Double == 1.5)
        #expect(commands[1]["ok"] as? Bool == true)
        #expect(commands[1]["raw"] as? String == "\u{FEFF}")
        #expect(commands[1].keys.contains("none"))
        #expect(throws: (any Error).self) { try parseJSON(Array("{\"a\": ".utf8)) }
    }

    @Test func subprocessOutputAndStatus() throws {
        // More than a pipe's buffer on both streams at once: reading one must not block the other.
        let script = "head -c 200000 /dev/zero | tr '\\0' o; head -c 150000 /dev/zero | tr '\\0' e >&2; exit 3"
        let both = try runSubprocess("/bin/sh", ["-c", script], output: .capture, errors: .capture)
        #expect(both.status == 3)
        #expect(both.output.count == 200_000 && both.output.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(both.errors.count == 150_000)
        let discarded = try runSubprocess("/bin/sh", ["-c", "echo hi; echo no >&2"], output: .discard, errors: .discard)
        #expect(discarded.status == 0 && discarded.output.isEmpty && discarded.errors.isEmpty)
        let arguments = try runSubprocess("/bin/echo", ["a b", "c"])
        #expect(String(decoding: arguments.output, as: UTF8.self) == "a b c\n")
        let killed = try runSubprocess("/bin/sh", ["-c", "kill -9 $$"])
        #expect(killed.status == 128 + 9)
        #expect(throws: SubprocessError.self) { try runSubprocess("/nonexistent/program", []) }
    }
}
