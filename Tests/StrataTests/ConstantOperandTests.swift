import Testing
import WAT
@testable import Strata

/// i32 operations whose constant right operand is in the code (`i32_and_imm`, `i32_gt_u_imm`,
/// ...; ConstantOperandHandlers.swift): the translator chooses each form and its accumulator form,
/// the constant leaves the frame's pool, and every form gives the baseline tier's results.
@Suite struct ConstantOperandTests {
    static let operations = ["and", "or", "xor", "mul", "shl", "shr_s", "shr_u",
                             "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
    /// Right operands: shift counts past 31 wrap, and the sign bit matters to the signed forms.
    static let constants: [Int32] = [0, 1, 5, 31, 33, -1, .max, .min]

    /// Per operation and constant, two functions of (param i32) (result i32): "p" applies it to
    /// the parameter, "a" to a value just loaded (the operand then comes in the accumulator).
    static var wat: String {
        var s = "(module (memory (export \"m\") 1)\n"
        for op in operations {
            for (j, k) in constants.enumerated() {
                s += "  (func (export \"p_\(op)_\(j)\") (param i32) (result i32) (i32.\(op) (local.get 0) (i32.const \(k))))\n"
                s += "  (func (export \"a_\(op)_\(j)\") (param i32) (result i32)\n"
                s += "    (i32.store (i32.const 16) (local.get 0)) (i32.\(op) (i32.load (i32.const 16)) (i32.const \(k))))\n"
            }
        }
        return s + ")"
    }

    @Test func everyFormIsChosenAndTheConstantLeavesThePool() throws {
        let m = try module(Self.wat, tier: .interpreter)
        var chosen = Set<String>()
        for (i, op) in Self.operations.enumerated() {
            for j in Self.constants.indices {
                let f = 2 * (i * Self.constants.count + j)
                let plain = try #require(Opcode.allCases.first { "\($0)" == "i32_\(op)_imm" })
                let acc = try #require(Opcode.allCases.first { "\($0)" == "i32_\(op)_imm_iacc" })
                #expect(operationWords(m, f).contains(handlerWord(plain)), "p_\(op)_\(j) uses \(plain)")
                #expect(operationWords(m, f + 1).contains(handlerWord(acc)), "a_\(op)_\(j) uses \(acc)")
                chosen.formUnion(["\(plain)", "\(acc)"])
                let (record, _) = try #require(m.translation(f))
                #expect(record.pointee.imageWords == 0, "p_\(op)_\(j) pools no constant")
            }
        }
        let forms = Set(Opcode.allCases.map { "\($0)" }.filter {
            $0.hasPrefix("i32_") && ($0.hasSuffix("_imm") || $0.hasSuffix("_imm_iacc")) && !$0.hasPrefix("i32_add_imm") && !$0.contains("__")
        })
        #expect(forms == chosen, "every constant-operand form has a function")
    }

    @Test func formsMatchTheBaselineTier() throws {
        let xs: [Int32] = [0, 1, -1, 5, 31, .max, .min, 12_345_678, -33]
        let interpreted = try module(Self.wat, tier: .interpreter), compiled = try module(Self.wat, tier: .baseline)
        for op in Self.operations {
            for j in Self.constants.indices {
                for prefix in ["p", "a"] {
                    for x in xs {
                        let name = "\(prefix)_\(op)_\(j)"
                        let got = try callOutcome(interpreted, name, [.i32(x)], memoryBytes: 0)
                        let expected = try callOutcome(compiled, name, [.i32(x)], memoryBytes: 0)
                        #expect(got == expected, "\(name)(\(x))")
                    }
                }
            }
        }
    }
}
