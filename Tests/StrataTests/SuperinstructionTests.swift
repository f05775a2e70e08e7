import CStrata
import Testing
@testable import Strata

/// Compare-and-branch fusion must give the same answers as a plain compare, in `br_if`
/// (forward and loop back edge) and in `if` (which branches on the negated compare).
@Suite struct SuperinstructionTests {
    static let compares = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]

    @Test(arguments: ["i32", "i64"])
    func fusedBranchesMatchPlainCompares(_ t: String) throws {
        var funcs = ""
        for c in Self.compares {
            funcs += """
              (func (export "plain_\(c)") (param \(t) \(t)) (result i32) (\(t).\(c) (local.get 0) (local.get 1)))
              (func (export "brif_\(c)") (param \(t) \(t)) (result i32)
                (block (br_if 0 (\(t).\(c) (local.get 0) (local.get 1))) (return (i32.const 0)))
                (i32.const 1))
              (func (export "if_\(c)") (param \(t) \(t)) (result i32)
                (if (result i32) (\(t).\(c) (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))
              (func (export "loop_\(c)") (param \(t) \(t)) (result i32) (local i32)
                (block (loop
                  (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                  (br_if 1 (i32.ge_u (local.get 2) (i32.const 3)))
                  (br_if 0 (\(t).\(c) (local.get 0) (local.get 1)))))
                (i32.ne (local.get 2) (i32.const 1)))

            """
        }
        let (_, instance) = try instantiate("(module \(funcs))")
        let values: [Int64] = [0, 1, -1, 2, Int64(Int32.max), Int64(Int32.min), Int64.max, Int64.min, 0xFFFF_FFFF]
        for c in Self.compares {
            for a in values {
                for b in values {
                    let args: [Value] = t == "i32"
                        ? [.i32(Int32(truncatingIfNeeded: a)), .i32(Int32(truncatingIfNeeded: b))] : [.i64(a), .i64(b)]
                    let expected = try instance.function("plain_\(c)")!.call(args)
                    for form in ["brif", "if", "loop"] {
                        #expect(try instance.function("\(form)_\(c)")!.call(args) == expected, "\(form) \(t).\(c) \(a) \(b)")
                    }
                }
            }
        }
    }

    @Test func fusionHappens() throws {
        let m = try module("""
            (module
              (func (param i32 i32) (block (br_if 0 (i32.lt_s (local.get 0) (local.get 1)))))
              (func (param i64 i64) (loop (br_if 0 (i64.ne (local.get 0) (local.get 1)))))
              (func (param i32) (result i32) (if (result i32) (i32.gt_u (local.get 0) (i32.const 9)) (then (i32.const 1)) (else (i32.const 2)))))
            """)
        func words(_ i: Int) -> [UInt64] { opcodeWords(m, i) }
        #expect(words(0).contains(handlerWord(Opcode.br_if_i32_lt_s)))
        #expect(words(1).contains(handlerWord(Opcode.br_if_i64_ne_back)))
        #expect(words(2).contains(handlerWord(Opcode.br_if_i32_le_u)))  // if: branch to else on the negation
        #expect(!words(0).contains(handlerWord(Opcode.i32_lt_s)))
    }

    @Test func scaledAddFusion() throws {
        let m = try module("""
            (module
              (func (export "left") (param i32 i32) (result i32) (i32.add (i32.shl (local.get 0) (i32.const 2)) (local.get 1)))
              (func (export "right") (param i32 i32) (result i32) (i32.add (local.get 1) (i32.shl (local.get 0) (i32.const 3))))
              (func (export "wide") (param i32 i32) (result i32) (i32.add (local.get 1) (i32.shl (local.get 0) (i32.const 33))))
              (func (export "dynamic") (param i32 i32) (result i32) (i32.add (local.get 1) (i32.shl (local.get 0) (local.get 1))))
              ;; The shift result enters a loop as its parameter: the add inside the loop must not
              ;; recompute it from the original operand on later iterations.
              (func (export "loop") (param i32) (result i32) (local i32)
                local.get 0
                i32.const 1
                i32.shl
                loop (param i32) (result i32)
                  i32.const 1
                  i32.add
                  (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                  i32.const 100
                  i32.add
                  (br_if 0 (i32.lt_u (local.get 1) (i32.const 3)))
                end))
            """)
        let store = Store(engine: m.engine)
        let instance = try store.instantiate(m)
        #expect(try instance.function("left")!.callI32(5, 1000) == 1020)
        #expect(try instance.function("right")!.callI32(5, 1000) == 1040)
        #expect(try instance.function("wide")!.callI32(5, 1000) == 1010)   // shift count masked to 1
        #expect(try instance.function("dynamic")!.callI32(1, 3) == 11)
        // 10 -> 111 -> 212 -> 313 over three iterations (each adds 1, then 100)
        #expect(try instance.function("loop")!.callI32(5) == 313)
        func words(_ i: Int) -> [UInt64] { opcodeWords(m, i) }
        #expect(words(0).contains(handlerWord(Opcode.i32_add_shl)))
        #expect(words(1).contains(handlerWord(Opcode.i32_add_shl)))
        #expect(!words(3).contains(handlerWord(Opcode.i32_add_shl)))
        #expect(!words(4).contains(handlerWord(Opcode.i32_add_shl)))
    }

    @Test func eqzBranches() throws {
        let (_, instance) = try instantiate("""
            (module
              (func (export "brif") (param i32) (result i32)
                (block (br_if 0 (i32.eqz (local.get 0))) (return (i32.const 0))) (i32.const 1))
              (func (export "if") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (i32.const 0))))
              (func (export "if64") (param i64) (result i32)
                (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1)) (else (i32.const 0))))
              (func (export "count") (param i32) (result i32) (local i32)
                (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                      (br_if 0 (i32.eqz (i32.eqz (local.get 0)))))
                (local.get 1)))
            """)
        for v: Int32 in [0, 1, -1] {
            #expect(try instance.function("brif")!.callI32(v) == (v == 0 ? 1 : 0))
            #expect(try instance.function("if")!.callI32(v) == (v == 0 ? 1 : 0))
        }
        // Only the high half set: an i64 test must not look at 32 bits.
        #expect(try instance.function("if64")!.call([.i64(1 << 40)]) == [.i32(0)])
        #expect(try instance.function("count")!.callI32(5) == 5)
    }
}

/// The opcode word of each instruction of defined function `i` (operand words left out, so a
/// check for an opcode cannot match an operand that happens to have the same value).
func opcodeWords(_ m: Module, _ i: Int) -> [UInt64] {
    m.instructionOffsets[i].map { m.codes[i].code[Int($0.0)] }
}
