import Foundation
import Testing
import WAT
@testable import Strata

/// What external profilers are told about compiled code.
@Suite struct ProfilerTests {
    /// `Profiler.perfmap` appends a line per placed function to `/tmp/perf-PID.map`: its start,
    /// its size (the machine code's), and `wasm[MODULE]::NAME [TIER]` with the name section's
    /// names (an unnamed function by index).
    @Test(arguments: [Tier.baseline, .optimizing]) func perfMapListsEveryCompiledFunction(tier: Tier) throws {
        var c = EngineConfiguration()
        c.tier = tier
        c.keepMachineCode = true
        c.profiler = .perfmap
        let wat = """
            (module $profiled
              (func $twice (export "twice") (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
              (func (export "unnamed") (result i32) (i32.const 7))
              (func $loop (export "loop") (param i32) (result i32) (local $s i32)
                (loop $l
                  (local.set $s (i32.add (local.get $s) (call $twice (local.get 0))))
                  (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get $s)))
            """
        // WAT's names do not reach the binary: a name section of its own.
        let bytes = try wat2wasm(wat) + Self.nameSection(module: "profiled", functions: [0: "twice", 2: "loop"])
        let module = try Module(engine: Engine(configuration: c), bytes: bytes)
        let text = try String(contentsOfFile: "/tmp/perf-\(getpid()).map", encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 2).map(String.init) }
        for (index, name) in [(0, "twice"), (1, "function[1]"), (2, "loop")] {
            let code = try #require(module.machineCode(function: index))
            let label = "wasm[profiled]::\(name) [\(tier.rawValue)]"
            // The last line for the function (earlier test runs of this process add their own).
            let line = try #require(lines.last { $0.count == 3 && $0[2] == label }, "\(label) in \(text)")
            #expect(Int(line[1], radix: 16) == code.count, "\(line)")
            #expect(UInt(line[0], radix: 16).map { $0 % 64 == 0 } == true, "functions start on cache lines: \(line)")
        }
        #expect(try Store(engine: module.engine).instantiate(module).function("loop")!.callI32(3) == 12)
    }

    /// A `name` custom section with a module name and function names.
    static func nameSection(module: String, functions: [Int: String]) -> [UInt8] {
        func uleb(_ v: Int) -> [UInt8] {
            var v = v, out: [UInt8] = []
            repeat {
                var b = UInt8(v & 0x7F)
                v >>= 7
                if v != 0 { b |= 0x80 }
                out.append(b)
            } while v != 0
            return out
        }
        func name(_ s: String) -> [UInt8] { uleb(s.utf8.count) + Array(s.utf8) }
        let moduleName = name(module)
        var functionNames = uleb(functions.count)
        for (k, v) in functions.sorted(by: { $0.key < $1.key }) { functionNames += uleb(k) + name(v) }
        let body = name("name") + [0] + uleb(moduleName.count) + moduleName + [1] + uleb(functionNames.count) + functionNames
        return [0] + uleb(body.count) + body
    }
}
