import Testing
import WAT
@testable import Strata

/// The interpreter's float accumulator (AccumulatorHandlers.swift): an f64 handed from an
/// instruction to the next in a register. Every form against the same computation with the
/// intermediate stored in a local (`local.set`/`local.get` keep it out of the accumulator), bit
/// for bit, plus traps and NaN payloads through it.
@Suite struct AccumulatorTests {
    static let ops = ["add", "sub", "mul", "div"]

    static func interpreterModule(_ wat: String) throws -> Module {
        try interpreterModule(bytes: try wat2wasm(wat))
    }
    static func interpreterModule(bytes: [UInt8]) throws -> Module {
        var c = EngineConfiguration()
        c.tier = .interpreter
        return try Module(engine: Engine(configuration: c), bytes: bytes)
    }

    /// For each operation: a function using the accumulator and its twin without (names `acc_*`
    /// and `ref_*`, same parameters: memory address `p`, f64 values `x` and `y`).
    static func shapes(_ op: String) -> [(name: String, acc: String, ref: String)] {
        [
            // f64.load -> op, the load as the left and as the right operand.
            ("load_l", "(f64.\(op) (f64.load (local.get 0)) (local.get 1))",
             "(local.set 3 (f64.load (local.get 0))) (f64.\(op) (local.get 3) (local.get 1))"),
            ("load_r", "(f64.\(op) (local.get 1) (f64.load offset=8 (local.get 0)))",
             "(local.set 3 (f64.load offset=8 (local.get 0))) (f64.\(op) (local.get 1) (local.get 3))"),
            // An add-and-load (the address is an i32.add) -> op.
            ("loadadd", "(f64.\(op) (local.get 2) (f64.load (i32.add (local.get 0) (i32.const 16))))",
             "(local.set 3 (f64.load (i32.add (local.get 0) (i32.const 16)))) (f64.\(op) (local.get 2) (local.get 3))"),
            // Two loads -> op: the first in the accumulator, the second folded into the operation
            // as a memory operand; then the same -> div. (The reference loads both into locals,
            // x's among them.)
            ("loads", "(f64.\(op) (f64.load (local.get 0)) (f64.load offset=8 (local.get 0)))",
             "(local.set 3 (f64.load (local.get 0))) (local.set 1 (f64.load offset=8 (local.get 0))) (f64.\(op) (local.get 3) (local.get 1))"),
            ("loads_chain", "(f64.div (f64.\(op) (f64.load (local.get 0)) (f64.load offset=8 (local.get 0))) (local.get 2))",
             "(local.set 3 (f64.load (local.get 0))) (local.set 1 (f64.load offset=8 (local.get 0))) (local.set 3 (f64.\(op) (local.get 3) (local.get 1))) (f64.div (local.get 3) (local.get 2))"),
            // An add-and-load -> op with a second load folded in: the first in the accumulator.
            ("loadadd_loads", "(f64.\(op) (f64.load (i32.add (local.get 0) (i32.const 16))) (f64.load offset=8 (local.get 0)))",
             "(local.set 3 (f64.load (i32.add (local.get 0) (i32.const 16)))) (local.set 1 (f64.load offset=8 (local.get 0))) (f64.\(op) (local.get 3) (local.get 1))"),
            // x op sqrt(|y|): the accumulator as the right operand.
            ("sqrt_r", "(f64.\(op) (local.get 1) (f64.sqrt (f64.abs (local.get 2))))",
             "(local.set 3 (f64.sqrt (f64.abs (local.get 2)))) (f64.\(op) (local.get 1) (local.get 3))"),
            // sqrt -> op -> div, the sqrt on either side: op takes the accumulator and hands on.
            ("sqrt_chain_l", "(f64.div (f64.\(op) (f64.sqrt (local.get 1)) (local.get 2)) (local.get 2))",
             "(local.set 3 (f64.sqrt (local.get 1))) (local.set 3 (f64.\(op) (local.get 3) (local.get 2))) (f64.div (local.get 3) (local.get 2))"),
            // (Of |y|: the NaN of a negative's root would differ in sign from x's NaN, and add and
            // mul take the accumulator as their left operand, which picks the other NaN.)
            ("sqrt_chain_r", "(f64.div (local.get 2) (f64.\(op) (local.get 1) (f64.sqrt (f64.abs (local.get 2)))))",
             "(local.set 3 (f64.sqrt (f64.abs (local.get 2)))) (local.set 3 (f64.\(op) (local.get 1) (local.get 3))) (f64.div (local.get 2) (local.get 3))"),
            // op -> div (no fused pair ends in div), both sides; then op -> op -> op through the
            // accumulator's chained forms.
            ("op_l", "(f64.div (f64.\(op) (local.get 1) (local.get 2)) (local.get 2))",
             "(local.set 3 (f64.\(op) (local.get 1) (local.get 2))) (f64.div (local.get 3) (local.get 2))"),
            ("op_r", "(f64.div (local.get 1) (f64.\(op) (local.get 1) (local.get 2)))",
             "(local.set 3 (f64.\(op) (local.get 1) (local.get 2))) (f64.div (local.get 1) (local.get 3))"),
            ("chain_l", "(f64.div (f64.\(op) (f64.load (local.get 0)) (local.get 1)) (local.get 2))",
             "(local.set 3 (f64.load (local.get 0))) (local.set 3 (f64.\(op) (local.get 3) (local.get 1))) (f64.div (local.get 3) (local.get 2))"),
            ("chain_r", "(f64.div (local.get 2) (f64.\(op) (local.get 1) (f64.load (local.get 0))))",
             "(local.set 3 (f64.load (local.get 0))) (local.set 3 (f64.\(op) (local.get 1) (local.get 3))) (f64.div (local.get 2) (local.get 3))"),
            // A fused pair of operations (this one first, FusedBinaryHandlers.swift) -> div, both
            // orders; sqrt -> div.
            ("fused_add", "(f64.div (f64.add (f64.\(op) (local.get 1) (local.get 2)) (local.get 1)) (local.get 2))",
             "(local.set 3 (f64.add (f64.\(op) (local.get 1) (local.get 2)) (local.get 1))) (f64.div (local.get 3) (local.get 2))"),
            ("fused_sub", "(f64.div (f64.sub (f64.\(op) (local.get 1) (local.get 2)) (local.get 1)) (local.get 2))",
             "(local.set 3 (f64.sub (f64.\(op) (local.get 1) (local.get 2)) (local.get 1))) (f64.div (local.get 3) (local.get 2))"),
            ("fused_mul", "(f64.div (f64.mul (f64.\(op) (local.get 1) (local.get 2)) (local.get 1)) (local.get 2))",
             "(local.set 3 (f64.mul (f64.\(op) (local.get 1) (local.get 2)) (local.get 1))) (f64.div (local.get 3) (local.get 2))"),
            ("fusedr_add", "(f64.div (f64.add (local.get 1) (f64.\(op) (local.get 1) (local.get 2))) (local.get 2))",
             "(local.set 3 (f64.add (local.get 1) (f64.\(op) (local.get 1) (local.get 2)))) (f64.div (local.get 3) (local.get 2))"),
            ("fusedr_sub", "(f64.div (f64.sub (local.get 1) (f64.\(op) (local.get 1) (local.get 2))) (local.get 2))",
             "(local.set 3 (f64.sub (local.get 1) (f64.\(op) (local.get 1) (local.get 2)))) (f64.div (local.get 3) (local.get 2))"),
            ("fusedr_mul", "(f64.div (f64.mul (local.get 1) (f64.\(op) (local.get 1) (local.get 2))) (local.get 2))",
             "(local.set 3 (f64.mul (local.get 1) (f64.\(op) (local.get 1) (local.get 2)))) (f64.div (local.get 3) (local.get 2))"),
            ("sqrt", "(f64.\(op) (f64.sqrt (local.get 1)) (local.get 2))",
             "(local.set 3 (f64.sqrt (local.get 1))) (f64.\(op) (local.get 3) (local.get 2))"),
            // op -> f64.store, read back.
            ("store", "(f64.store offset=24 (local.get 0) (f64.\(op) (local.get 1) (f64.load (local.get 0)))) (f64.load offset=24 (local.get 0))",
             "(local.set 3 (f64.load (local.get 0))) (local.set 3 (f64.\(op) (local.get 1) (local.get 3))) (f64.store offset=24 (local.get 0) (local.get 3)) (f64.load offset=24 (local.get 0))"),
        ]
    }

    @Test func everyFormMatchesTheSlotForm() throws {
        var funcs = ""
        var names: [String] = []
        for op in Self.ops {
            for s in Self.shapes(op) {
                let name = "\(op)_\(s.name)"
                names.append(name)
                funcs += """
                  (func (export "acc_\(name)") (param i32 f64 f64) (result f64) (local f64) \(s.acc))
                  (func (export "ref_\(name)") (param i32 f64 f64) (result f64) (local f64) \(s.ref))

                """
            }
        }
        let m = try Self.interpreterModule("(module (memory (export \"m\") 1) \(funcs))")
        let instance = try Store(engine: m.engine).instantiate(m)
        let memory = instance.memory("m")!
        let values: [Double] = [0, -0.0, 1.5, -3.25, 1e300, -1e-300, .infinity, -.infinity, .nan, 7]
        for (k, a) in values.enumerated() {
            // Memory: a at 0, values[k+1] at 8, values[k+2] at 16.
            for (slot, v) in [a, values[(k + 1) % values.count], values[(k + 2) % values.count]].enumerated() {
                memory.withUnsafeMutableBytes { $0.storeBytes(of: v.bitPattern, toByteOffset: 8 * slot, as: UInt64.self) }
            }
            for x in values {
                for y in values {
                    for name in names {
                        let args: [Value] = [.i32(0), .f64(x), .f64(y)]
                        let got = try instance.function("acc_\(name)")!.call(args)
                        let expected = try instance.function("ref_\(name)")!.call(args)
                        guard case .f64(let g) = got[0], case .f64(let e) = expected[0] else {
                            Issue.record("\(name): not an f64"); continue
                        }
                        #expect(g.bitPattern == e.bitPattern, "\(name) a=\(a) x=\(x) y=\(y): \(g) != \(e)")
                    }
                }
            }
        }
        // The accumulator forms and the memory-operand forms (a load folded into the operation)
        // are the ones chosen (and the reference functions use none).
        let faccOpcodes = Set(Opcode.allCases.filter {
            ("\($0)".contains("facc") || ("\($0)".hasPrefix("f64_") && "\($0)".contains("_mem"))) && !"\($0)".hasPrefix("br_if")
        }.map { handlerWord($0) })
        #expect(faccOpcodes.count == 84)
        var used = Set<UInt64>()
        for (n, _) in names.enumerated() {
            let acc = Set(opcodeWords(m, 2 * n)).intersection(faccOpcodes)
            #expect(!acc.isEmpty, "\(names[n]) uses no accumulator form")
            #expect(Set(opcodeWords(m, 2 * n + 1)).isDisjoint(with: faccOpcodes), "ref_\(names[n])")
            used.formUnion(acc)
        }
        // The add-and-load memory-operand forms are each chosen in FloatMemoryOperandTests.
        let covered = faccOpcodes.filter { !"\(Opcode(rawValue: UInt16(truncatingIfNeeded: $0))!)".contains("_memadd") }
        #expect(covered.count == 64)
        #expect(used.isSuperset(of: covered), "forms never chosen: \(covered.subtracting(used).map { Opcode(rawValue: UInt16(truncatingIfNeeded: $0))! })")
    }

    /// f64 compare-and-branches with an operand in the accumulator (the left one, or the right
    /// one by the swapped compare): `br_if` on the compare and on its `i32.eqz`, forward and back,
    /// and `if`, against the plain compare of the same values.
    @Test func branchesOnTheAccumulator() throws {
        let compares = ["eq", "ne", "lt", "gt", "le", "ge"]
        var funcs = ""
        var names: [String] = []
        for c in compares {
            for (side, test) in [("l", "(f64.\(c) (f64.add (local.get 0) (local.get 1)) (local.get 1))"),
                                 ("r", "(f64.\(c) (local.get 1) (f64.add (local.get 0) (local.get 1)))")] {
                for (suffix, cond) in [("", test), ("_eqz", "(i32.eqz \(test))")] {
                    let name = "\(c)_\(side)\(suffix)"
                    names.append(name)
                    funcs += """
                      (func (export "plain_\(name)") (param f64 f64) (result i32) (local f64 i32)
                        (local.set 2 (f64.add (local.get 0) (local.get 1)))
                        \(cond.replacingOccurrences(of: "(f64.add (local.get 0) (local.get 1))", with: "(local.get 2)")))
                      (func (export "brif_\(name)") (param f64 f64) (result i32) (local f64 i32)
                        (block (br_if 0 \(cond)) (return (i32.const 0)))
                        (i32.const 1))
                      (func (export "if_\(name)") (param f64 f64) (result i32) (local f64 i32)
                        (if (result i32) \(cond) (then (i32.const 1)) (else (i32.const 0))))
                      (func (export "loop_\(name)") (param f64 f64) (result i32) (local f64 i32)
                        (block (loop
                          (local.set 3 (i32.add (local.get 3) (i32.const 1)))
                          (br_if 1 (i32.ge_u (local.get 3) (i32.const 3)))
                          (br_if 0 \(cond))))
                        (i32.ne (local.get 3) (i32.const 1)))

                    """
                }
            }
        }
        let m = try Self.interpreterModule("(module \(funcs))")
        let instance = try Store(engine: m.engine).instantiate(m)
        let values: [Double] = [0, -0.0, 1, -1, 2.5, .infinity, -.infinity, .nan]
        for name in names {
            for a in values {
                for b in values {
                    let expected = try instance.function("plain_\(name)")!.call([.f64(a), .f64(b)])
                    for form in ["brif", "if", "loop"] {
                        #expect(try instance.function("\(form)_\(name)")!.call([.f64(a), .f64(b)]) == expected, "\(form)_\(name) \(a) \(b)")
                    }
                }
            }
        }
        let forms = Set(Opcode.allCases.filter { "\($0)".contains("facc") && "\($0)".hasPrefix("br_if") }.map { handlerWord($0) })
        #expect(forms.count == 24)
        var used = Set<UInt64>()
        for n in names.indices {
            #expect(Set(opcodeWords(m, 4 * n)).isDisjoint(with: forms), "plain_\(names[n])")
            for f in 1...3 {
                let chosen = Set(opcodeWords(m, 4 * n + f)).intersection(forms)
                #expect(chosen.count == 1, "\(names[n]) form \(f)")
                used.formUnion(chosen)
            }
        }
        #expect(used == forms)
    }

    /// Loads and stores through the accumulator trap out of bounds like the plain ones, at
    /// their own Wasm offsets, and keep a NaN's payload bit for bit.
    @Test func trapsAndNaNPayloads() throws {
        let bytes = try wat2wasm("""
            (module (memory 1)
              (func (export "load") (param i32) (result f64) (f64.mul (f64.load (local.get 0)) (f64.const 2)))
              (func (export "loadadd") (param i32 i32) (result f64) (f64.mul (f64.load (i32.add (local.get 0) (local.get 1))) (f64.const 2)))
              (func (export "store") (param i32 f64) (f64.store (local.get 0) (f64.add (local.get 1) (local.get 1))))
              (func (export "copy") (param i32 i32) (result i64)
                (f64.store (local.get 1) (f64.load (local.get 0)))
                (i64.load (local.get 1)))
              (func (export "put") (param i32 i64) (i64.store (local.get 0) (local.get 1))))
            """)
        let m = try Self.interpreterModule(bytes: bytes)
        let instance = try Store(engine: m.engine).instantiate(m)
        func trap(_ name: String, _ args: [Value]) -> Trap? { thrownError { _ = try instance.function(name)!.call(args) } as? Trap }
        #expect(try instance.function("load")!.call([.i32(65536 - 8)]) == [.f64(0)])
        #expect(trap("load", [.i32(65536 - 7)])?.kind == .memoryOutOfBounds)
        #expect(trap("load", [.i32(-1)])?.kind == .memoryOutOfBounds)
        #expect(trap("loadadd", [.i32(65536 - 8), .i32(1)])?.kind == .memoryOutOfBounds)
        #expect(trap("loadadd", [.i32(-8), .i32(8)]) == nil)  // the i32 add wraps to 0
        #expect(trap("store", [.i32(65536 - 7), .f64(1)])?.kind == .memoryOutOfBounds)
        // The trap names the load's (the store's) offset, not the operation's next to it.
        let loadOffset = trap("load", [.i32(65536)])?.backtrace.first?.offset
        let storeOffset = trap("store", [.i32(65536), .f64(1)])?.backtrace.first?.offset
        #expect(loadOffset.map { bytes[$0] } == 0x2B)   // f64.load
        #expect(storeOffset.map { bytes[$0] } == 0x39)  // f64.store
        // A signalling NaN with a payload, copied by an f64 load and store, keeps its bits.
        let snan: Int64 = 0x7FF0_0000_0000_0123
        _ = try instance.function("put")!.call([.i32(64), .i64(snan)])
        #expect(try instance.function("copy")!.call([.i32(64), .i32(128)]) == [.i64(snan)])
        // A load stored straight away stays a load-and-store sequence (one dispatch).
        #expect(operationWords(m, 3).contains(handlerWord(Opcode.i64_load)))
    }

    /// A value consumed after a branch target, or twice (`local.tee`), stays in its slot.
    @Test func noAccumulatorAcrossBranchTargetsOrSharedValues() throws {
        let m = try Self.interpreterModule("""
            (module (memory 1)
              (func (export "across") (param i32 f64) (result f64)
                (f64.load (local.get 0))
                (block (param f64) (result f64) (f64.add (local.get 1))))
              (func (export "tee") (param i32 f64) (result f64) (local f64)
                (f64.add (local.tee 2 (f64.load (local.get 0))) (local.get 2))))
            """)
        let instance = try Store(engine: m.engine).instantiate(m)
        #expect(try instance.function("across")!.call([.i32(0), .f64(2)]) == [.f64(2)])
        #expect(try instance.function("tee")!.call([.i32(0), .f64(2)]) == [.f64(0)])
        for f in 0..<2 {
            #expect(!opcodeWords(m, f).contains(handlerWord(Opcode.f64_add_facc_l)))
        }
    }
}
