import Testing
import WAT
@testable import Strata

/// `i32.wrap_i64` read as an i32 by the next instruction costs no dispatch: the translator drops
/// it and the reader takes the low half of the i64's slot (`Translator.elideWrap`). Where the
/// wrapped value is moved instead (a local, `select`'s values, a global, a call's argument, a
/// result), the wrap stays, so every slot still holds its i32 zero-extended.
@Suite struct WrapElisionTests {
    /// Readers that compute with the wrapped value: the wrap is dropped.
    static let elided: [(String, String)] = [
        ("add_imm", "(param i64) (result i32) (i32.add (i32.wrap_i64 (local.get 0)) (i32.const 7))"),
        ("sub", "(param i64 i64) (result i32) (i32.sub (i32.wrap_i64 (local.get 0)) (i32.wrap_i64 (local.get 1)))"),
        ("lt_u", "(param i64 i64) (result i32) (i32.lt_u (i32.wrap_i64 (local.get 0)) (i32.wrap_i64 (local.get 1)))"),
        ("eqz", "(param i64) (result i32) (i32.eqz (i32.wrap_i64 (local.get 0)))"),
        ("ctz", "(param i64) (result i32) (i32.ctz (i32.wrap_i64 (local.get 0)))"),
        ("extend_u", "(param i64) (result i64) (i64.extend_i32_u (i32.wrap_i64 (local.get 0)))"),
        ("extend_s", "(param i64) (result i64) (i64.extend_i32_s (i32.wrap_i64 (local.get 0)))"),
        ("convert", "(param i64) (result f64) (f64.convert_i32_u (i32.wrap_i64 (local.get 0)))"),
        ("reinterpret", "(param i64) (result f32) (f32.reinterpret_i32 (i32.wrap_i64 (local.get 0)))"),
        ("load", "(param i64) (result i32) (i32.load8_u offset=3 (i32.wrap_i64 (local.get 0)))"),
        ("load_temp", "(param i64) (result i32) (i32.load16_u (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 4))))"),
        ("store", "(param i64 i64) (i32.store16 offset=1 (i32.wrap_i64 (local.get 0)) (i32.wrap_i64 (local.get 1)))"),
        ("store_value", "(param i32 i64) (i32.store (local.get 0) (i32.wrap_i64 (local.get 1)))"),
        ("br_if", "(param i64) (result i32) (block (br_if 0 (i32.wrap_i64 (local.get 0))) (return (i32.const 1))) (i32.const 2)"),
        ("br_if_compare", "(param i64) (result i32) (block (br_if 0 (i32.gt_s (i32.wrap_i64 (local.get 0)) (i32.const 3))) (return (i32.const 1))) (i32.const 2)"),
        ("if", "(param i64) (result i32) (if (result i32) (i32.wrap_i64 (local.get 0)) (then (i32.const 1)) (else (i32.const 2)))"),
        ("temp", "(param i64) (result i32) (i32.shr_u (i32.wrap_i64 (i64.mul (local.get 0) (local.get 0))) (i32.const 1))"),
    ]
    /// Moves of the wrapped value, and a branch target between the wrap and its reader: the wrap
    /// stays.
    static let kept: [(String, String)] = [
        ("local", "(param i64) (result i64) (local i32) (local.set 1 (i32.wrap_i64 (local.get 0))) (i64.extend_i32_u (local.get 1))"),
        ("select", "(param i64 i32) (result i32) (select (i32.wrap_i64 (local.get 0)) (i32.const 5) (local.get 1))"),
        ("global", "(param i64) (result i32) (global.set $g (i32.wrap_i64 (local.get 0))) (global.get $g)"),
        ("call", "(param i64) (result i64) (call $widen (i32.wrap_i64 (local.get 0)))"),
        ("result", "(param i64) (result i32) (i32.wrap_i64 (local.get 0))"),
        ("add_zero", "(param i64) (result i64) (local i32) (local.set 1 (i32.add (i32.wrap_i64 (local.get 0)) (i32.const 0))) (i64.extend_i32_u (local.get 1))"),
        ("block_end", "(param i64) (result i32) (i32.add (block (result i32) (i32.wrap_i64 (local.get 0))) (i32.const 1))"),
    ]

    static var wat: String {
        var s = "(module (memory (export \"m\") 1) (global $g (mut i32) (i32.const 0))\n"
        for (name, body) in elided + kept { s += "  (func (export \"\(name)\") \(body))\n" }
        return s + "  (func $widen (param i32) (result i64) (i64.extend_i32_u (local.get 0))))"
    }
    /// Each function's index: its position in `elided + kept`.
    static func index(_ name: String) -> Int { (elided + kept).firstIndex { $0.0 == name }! }

    @Test func theWrapIsDroppedOnlyBeforeAReader() throws {
        let m = try module(Self.wat, tier: .interpreter)
        let wrap = handlerWord(Opcode.i32_wrap_i64)
        for (name, _) in Self.elided {
            #expect(!operationWords(m, Self.index(name)).contains(wrap), "\(name): no i32_wrap_i64")
        }
        for (name, _) in Self.kept {
            #expect(operationWords(m, Self.index(name)).contains(wrap), "\(name): keeps i32_wrap_i64")
        }
    }

    /// High halves that a reader of the whole word would see: set, all ones, zero low halves
    /// (so a branch or eqz on the whole word goes the other way), small addresses.
    static let values: [Int64] = [
        0x1234_5678_0000_0010, -0x1_0000_0000, 0x7FFF_FFFF_0000_0000, 0x0000_0001_0000_0003,
        0, 5, -1, -3, 0x0ABC_DEF0_0000_FF00,
    ]

    @Test func resultsMatchTheBaselineTier() throws {
        let interpreted = try module(Self.wat, tier: .interpreter), compiled = try module(Self.wat, tier: .baseline)
        for (name, body) in Self.elided + Self.kept {
            let params = body.components(separatedBy: "(result").first!
            for x in Self.values {
                for y in [Int64(-0x7_0000_0000), 0x1234] {
                    let args: [Value] = params.contains("(param i64 i64)") ? [.i64(x), .i64(y)]
                        : params.contains("(param i32 i64)") ? [.i32(Int32(truncatingIfNeeded: y)), .i64(x)]
                        : params.contains("(param i64 i32)") ? [.i64(x), .i32(Int32(truncatingIfNeeded: y))]
                        : [.i64(x)]
                    let bytes = name.hasPrefix("store") ? 64 * 1024 : 0
                    let got = try callOutcome(interpreted, name, args, memoryBytes: bytes)
                    let expected = try callOutcome(compiled, name, args, memoryBytes: bytes)
                    #expect(got == expected, "\(name)(\(args))")
                }
            }
        }
    }
}
