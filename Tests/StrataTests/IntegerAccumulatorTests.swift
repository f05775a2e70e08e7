import Testing
import WAT
@testable import Strata

/// The interpreter's integer accumulator (IntegerAccumulator.swift): every consumer form is
/// chosen by the translator for a function written to need it, and every such function gives the
/// baseline tier's results (values, memory and traps) on inputs that send loaded pointers in and
/// out of bounds.
@Suite struct IntegerAccumulatorTests {
    /// (name, body): functions of (param i32 i32 i32) (result i32); `p` = local 0 is an address
    /// whose word holds another address, x = local 1, y = local 2.
    static let bodies: [(String, String)] = {
        let load = "(i32.load (local.get 0))"
        var b: [(String, String)] = [
            ("load", "(i32.load \(load))"),
            ("load8_s", "(i32.load8_s \(load))"), ("load8_u", "(i32.load8_u \(load))"),
            ("load16_s", "(i32.load16_s \(load))"), ("load16_u", "(i32.load16_u \(load))"),
            ("i64_load", "(i32.wrap_i64 (i64.load \(load)))"),
            ("load_add_l", "(i32.load (i32.add \(load) (local.get 1)))"),
            ("load_add_r", "(i32.load (i32.add (local.get 1) \(load)))"),
            ("load8_u_add_l", "(i32.load8_u (i32.add \(load) (local.get 1)))"),
            ("load8_u_add_r", "(i32.load8_u (i32.add (local.get 1) \(load)))"),
            ("load16_u_add_l", "(i32.load16_u (i32.add \(load) (local.get 1)))"),
            ("load16_u_add_r", "(i32.load16_u (i32.add (local.get 1) \(load)))"),
            ("store_addr", "(i32.store \(load) (local.get 1)) (i32.load offset=64 (i32.const 0))"),
            ("store_value", "(i32.store offset=64 (local.get 2) \(load)) (i32.load offset=64 (local.get 2))"),
            ("i64_store_addr", "(i64.store \(load) (i64.const 0x1122334455667788)) (i32.load offset=68 (i32.const 0))"),
            ("store8_addr", "(i32.store8 \(load) (local.get 1)) (i32.load offset=64 (i32.const 0))"),
            ("store8_value", "(i32.store8 offset=64 (local.get 2) \(load)) (i32.load offset=64 (local.get 2))"),
            ("store16_addr", "(i32.store16 \(load) (local.get 1)) (i32.load offset=64 (i32.const 0))"),
            ("store16_value", "(i32.store16 offset=64 (local.get 2) \(load)) (i32.load offset=64 (local.get 2))"),
            ("add_imm", "(i32.add \(load) (i32.const 7))"),
            ("select", "(select (local.get 1) (local.get 2) \(load))"),
            ("br_if", "(block (br_if 0 \(load)) (return (local.get 2))) (local.get 1)"),
            ("br_if_not", "(if (result i32) \(load) (then (local.get 1)) (else (local.get 2)))"),
            ("br_if_back", "(local.set 2 (i32.const 0)) (i32.store offset=64 (i32.const 0) (i32.or (i32.and (local.get 1) (i32.const 15)) (i32.const 1))) (loop (local.set 2 (i32.add (local.get 2) (i32.const 1))) (i32.store offset=64 (i32.const 0) (i32.sub (i32.load offset=64 (i32.const 0)) (i32.const 1))) (br_if 0 (i32.load offset=64 (i32.const 0)))) (local.get 2)"),
        ]
        for op in ["add", "sub", "and", "or", "xor", "mul"] {
            b.append(("\(op)_l", "(i32.\(op) \(load) (local.get 1))"))
            b.append(("\(op)_r", "(i32.\(op) (local.get 1) \(load))"))
        }
        for op in ["shl", "shr_u", "shr_s"] { b.append(("\(op)_l", "(i32.\(op) \(load) (local.get 1))")) }
        // A constant right operand in the code (`i32_and_imm_iacc`, ConstantOperandHandlers.swift).
        for op in ["and", "or", "xor", "mul", "shl", "shr_s", "shr_u", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"] {
            b.append(("\(op)_imm", "(i32.\(op) \(load) (i32.const 5))"))
        }
        for c in ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"] {
            b.append(("br_\(c)_l", "(block (br_if 0 (i32.\(c) \(load) (local.get 1))) (return (i32.const 2))) (i32.const 1)"))
            b.append(("br_\(c)_r", "(block (br_if 0 (i32.\(c) (local.get 1) \(load))) (return (i32.const 2))) (i32.const 1)"))
            b.append(("br_\(c)_imm", "(block (br_if 0 (i32.\(c) \(load) (i32.const 40))) (return (i32.const 2))) (i32.const 1)"))
        }
        return b
    }()

    static var wat: String {
        // Words at 0..: addresses and values; 0xFFFFFFF0 sends a loaded address out of bounds.
        var s = "(module (memory (export \"m\") 1) (data (i32.const 0) \"\\10\\00\\00\\00\\20\\00\\00\\00\\f0\\ff\\ff\\ff\\00\\00\\00\\00\\28\\00\\00\\00\\fc\\ff\\00\\00\\05\\00\\00\\00\\d6\\ff\\ff\\ff\")\n"
        for (name, body) in bodies {
            s += "  (func (export \"\(name)\") (param i32 i32 i32) (result i32) \(body))\n"
        }
        return s + ")"
    }

    static func module(_ tier: Tier) throws -> Module {
        try StrataTests.module(wat, tier: tier)
    }

    /// The result and the first 80 bytes of memory after the call, or the trap.
    static func outcome(_ m: Module, _ name: String, _ args: [Value]) throws -> String {
        try callOutcome(m, name, args, memoryBytes: 80)
    }

    @Test func everyConsumerFormIsChosen() throws {
        let m = try Self.module(.interpreter)
        var used = Set<UInt64>()
        for i in 0..<Self.bodies.count { used.formUnion(operationWords(m, i)) }
        let forms = Set(integerAccumulatorConsumers.map { handlerWord($0.2) })
        let missing = forms.subtracting(used).map { Opcode(rawValue: UInt16(truncatingIfNeeded: $0))! }
        #expect(missing.isEmpty, "consumer forms never chosen: \(missing)")
    }

    @Test func consumerFormsMatchTheBaselineTier() throws {
        let inputs: [[Value]] = [
            [.i32(0), .i32(3), .i32(8)], [.i32(4), .i32(0), .i32(12)], [.i32(8), .i32(5), .i32(4)],
            [.i32(12), .i32(-16), .i32(0)], [.i32(16), .i32(40), .i32(16)], [.i32(20), .i32(7), .i32(20)],
            [.i32(24), .i32(Int32.min), .i32(24)], [.i32(28), .i32(2), .i32(28)],
        ]
        let interpreted = try Self.module(.interpreter), compiled = try Self.module(.baseline)
        for (name, _) in Self.bodies {
            for args in inputs {
                let got = try Self.outcome(interpreted, name, args)
                let expected = try Self.outcome(compiled, name, args)
                #expect(got == expected, "\(name) \(args)")
            }
        }
    }
}
