import Testing
import WAT
@testable import Strata

/// f64 arithmetic with an f64.load folded in as a memory operand (`binF64Memory`,
/// AccumulatorHandlers.swift): every form is chosen by the translator for a function written to
/// need it, and every such function gives the baseline tier's results (values, NaN bits, memory
/// and traps) on inputs that put the load in and out of bounds.
@Suite struct FloatMemoryOperandTests {
    /// (form, body): functions of (param i32 f64 i32) (result f64); the load reads the f64 at
    /// local 0 (the add-and-load at local 0 + local 2 + 3), x = local 1, local 2 is also where the
    /// store forms write.
    static let bodies: [(String, String)] = {
        var b: [(String, String)] = []
        // A plain load, and an add-and-load (its address an i32.add: `_memadd`).
        for (mem, m) in [("mem", "(f64.load (local.get 0))"), ("memadd", "(f64.load offset=3 (i32.add (local.get 0) (local.get 2)))")] {
        for op in ["add", "sub", "mul", "div"] {
            let right = "(f64.\(op) (local.get 1) \(m))"
            let facc = "(f64.\(op) (f64.mul (local.get 1) (local.get 1)) \(m))"
            b += [
                ("f64_\(op)_\(mem)", right),
                ("f64_\(op)_\(mem)_facc", facc),
                // A result consumed at once goes on in the accumulator.
                ("f64_\(op)_\(mem)_to_facc", "(f64.add \(right) (local.get 1))"),
                ("f64_\(op)_\(mem)_facc_to_facc", "(f64.store (local.get 2) \(facc)) (f64.load (local.get 2))"),
            ]
            if op == "sub" || op == "div" {
                let left = "(f64.\(op) \(m) (local.get 1))"
                b += [("f64_\(op)_\(mem)_r", left), ("f64_\(op)_\(mem)_r_to_facc", "(f64.mul \(left) (local.get 1))")]
            } else {
                // m op x is x op m.
                b.append(("f64_\(op)_\(mem)", "(f64.\(op) \(m) (local.get 1))"))
            }
        }
        }
        return b
    }()

    static var wat: String {
        // f64s at 0, 8, 16, 24: 2.5, -0.0, a NaN with payload, 1e308.
        var s = """
            (module (memory (export "m") 1)
              (data (i32.const 0) "\\00\\00\\00\\00\\00\\00\\04\\40" "\\00\\00\\00\\00\\00\\00\\00\\80" "\\01\\00\\00\\00\\00\\00\\f8\\7f" "\\a0\\c8\\eb\\85\\f3\\cc\\e1\\7f")

            """
        for (k, (_, body)) in bodies.enumerated() {
            s += "  (func (export \"f\(k)\") (param i32 f64 i32) (result f64) \(body))\n"
        }
        return s + ")"
    }

    static func module(_ tier: Tier) throws -> Module {
        try StrataTests.module(wat, tier: tier)
    }

    /// The result's bits and the memory's first 40 bytes after the call, or the trap.
    static func outcome(_ m: Module, _ name: String, _ args: [Value]) throws -> String {
        try callOutcome(m, name, args, memoryBytes: 40)
    }

    @Test func everyFormIsChosen() throws {
        let m = try Self.module(.interpreter)
        for (k, (form, _)) in Self.bodies.enumerated() {
            let opcode = try #require(Opcode.allCases.first { "\($0)" == form }, "\(form) is an opcode")
            #expect(operationWords(m, k).contains(handlerWord(opcode)), "f\(k) uses \(form)")
        }
        let forms = Set(Opcode.allCases.filter { "\($0)".contains("_mem") && "\($0)".hasPrefix("f64_") }.map { "\($0)" })
        #expect(forms.count == 40)
        #expect(forms == Set(Self.bodies.map(\.0)), "every memory-operand form has a function")
    }

    @Test func formsMatchTheBaselineTier() throws {
        let addresses: [Int32] = [0, 8, 16, 24, 65528, 65530, -8]
        let xs: [Double] = [3.0, -1.5, 0, .infinity, -.nan, 1e-310]
        let interpreted = try Self.module(.interpreter), compiled = try Self.module(.baseline)
        for k in Self.bodies.indices {
            for (i, p) in addresses.enumerated() {
                let args: [Value] = [.i32(p), .f64(xs[i % xs.count]), .i32(p == 0 ? 5 : 32)]
                let got = try Self.outcome(interpreted, "f\(k)", args)
                let expected = try Self.outcome(compiled, "f\(k)", args)
                #expect(got == expected, "\(Self.bodies[k].0) \(args)")
            }
        }
    }
}
