import CStrata
import Testing
import WAT
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

    /// Float compares fused into branches: `br_if` on the compare and on its `i32.eqz` (what
    /// compilers emit for a float loop's exit), forward and back, and `if` on both, against the
    /// plain compare, with NaNs (every compare but `ne` false), signed zeros and infinities.
    @Test(arguments: ["f32", "f64"])
    func fusedFloatBranchesMatchPlainCompares(_ t: String) throws {
        let compares = ["eq", "ne", "lt", "gt", "le", "ge"]
        var funcs = ""
        for c in compares {
            for (suffix, test) in [("", "(\(t).\(c) (local.get 0) (local.get 1))"), ("_eqz", "(i32.eqz (\(t).\(c) (local.get 0) (local.get 1)))")] {
                funcs += """
                  (func (export "plain_\(c)\(suffix)") (param \(t) \(t)) (result i32) \(test))
                  (func (export "brif_\(c)\(suffix)") (param \(t) \(t)) (result i32)
                    (block (br_if 0 \(test)) (return (i32.const 0)))
                    (i32.const 1))
                  (func (export "if_\(c)\(suffix)") (param \(t) \(t)) (result i32)
                    (if (result i32) \(test) (then (i32.const 1)) (else (i32.const 0))))
                  (func (export "loop_\(c)\(suffix)") (param \(t) \(t)) (result i32) (local i32)
                    (block (loop
                      (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                      (br_if 1 (i32.ge_u (local.get 2) (i32.const 3)))
                      (br_if 0 \(test))))
                    (i32.ne (local.get 2) (i32.const 1)))

                """
            }
        }
        let m = try module("(module \(funcs))")
        let instance = try Store(engine: m.engine).instantiate(m)
        let values: [Double] = [0, -0.0, 1, -1, 2.5, .infinity, -.infinity, .nan, .greatestFiniteMagnitude]
        for c in compares {
            for suffix in ["", "_eqz"] {
                for a in values {
                    for b in values {
                        let args: [Value] = t == "f32" ? [.f32(Float(a)), .f32(Float(b))] : [.f64(a), .f64(b)]
                        let expected = try instance.function("plain_\(c)\(suffix)")!.call(args)
                        for form in ["brif", "if", "loop"] {
                            #expect(try instance.function("\(form)_\(c)\(suffix)")!.call(args) == expected, "\(form) \(t).\(c)\(suffix) \(a) \(b)")
                        }
                    }
                }
            }
        }
        // Each branch is fused: per compare and suffix, functions plain, brif, if, loop.
        for (k, c) in compares.enumerated() {
            let compare = Opcode.allCases.first { "\($0)" == "\(t)_\(c)" }!
            for (j, negated) in [false, true].enumerated() {
                let base = 8 * k + 4 * j
                let words = (1...3).map { operationWords(m, base + $0) }
                #expect(words[0].contains(handlerWord(floatBranchHandler(compare, when: !negated, back: false)!)), "brif \(c) \(negated)")
                #expect(words[1].contains(handlerWord(floatBranchHandler(compare, when: negated, back: false)!)), "if \(c) \(negated)")
                #expect(words[2].contains(handlerWord(floatBranchHandler(compare, when: !negated, back: true)!)), "loop \(c) \(negated)")
                #expect(!words.joined().contains(handlerWord(compare)))
            }
        }
    }

    /// i32 constants used by `i32.add`/`i32.sub`, by fused compare-and-branches (`br_if` forward
    /// and back, `if`) and by moves live in the code, not in the frame's constant pool: results
    /// equal the plain operations' at the edges of the range, the pool keeps only constants an
    /// operand still names, and the fusions that take an add (add-and-branch, add-and-load, two
    /// binary operations) still happen with a constant operand.
    @Test func constantsInTheCode() throws {
        let ks: [Int32] = [0, 1, -1, 7, .max, .min]
        var funcs = ""
        for (n, k) in ks.enumerated() {
            funcs += """
              (func (export "add\(n)") (param i32) (result i32) (i32.add (local.get 0) (i32.const \(k))))
              (func (export "sub\(n)") (param i32) (result i32) (i32.sub (local.get 0) (i32.const \(k))))
              (func (export "set\(n)") (param i32) (result i32) (local i32)
                (local.set 1 (i32.const \(k))) (i32.xor (local.get 0) (local.get 1)))

            """
            for c in Self.compares {
                funcs += """
                  (func (export "brif_\(c)\(n)") (param i32) (result i32)
                    (block (br_if 0 (i32.\(c) (local.get 0) (i32.const \(k)))) (return (i32.const 0)))
                    (i32.const 1))
                  (func (export "if_\(c)\(n)") (param i32) (result i32)
                    (if (result i32) (i32.\(c) (local.get 0) (i32.const \(k))) (then (i32.const 1)) (else (i32.const 0))))
                  (func (export "loop_\(c)\(n)") (param i32) (result i32) (local i32)
                    (block (loop
                      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                      (br_if 1 (i32.ge_u (local.get 1) (i32.const 3)))
                      (br_if 0 (i32.\(c) (local.get 0) (i32.const \(k))))))
                    (i32.ne (local.get 1) (i32.const 1)))

                """
            }
        }
        let m = try module("(module \(funcs))")
        let instance = try Store(engine: m.engine).instantiate(m)
        func holds(_ c: String, _ a: Int32, _ b: Int32) -> Bool {
            let (ua, ub) = (UInt32(bitPattern: a), UInt32(bitPattern: b))
            switch c {
            case "eq": return a == b
            case "ne": return a != b
            case "lt_s": return a < b
            case "lt_u": return ua < ub
            case "gt_s": return a > b
            case "gt_u": return ua > ub
            case "le_s": return a <= b
            case "le_u": return ua <= ub
            case "ge_s": return a >= b
            default: return ua >= ub
            }
        }
        let xs: [Int32] = [0, 1, -1, 2, 6, 7, 8, .max, .min, .max - 1, .min + 1]
        for (n, k) in ks.enumerated() {
            for x in xs {
                #expect(try instance.function("add\(n)")!.callI32(x) == x &+ k)
                #expect(try instance.function("sub\(n)")!.callI32(x) == x &- k)
                #expect(try instance.function("set\(n)")!.callI32(x) == x ^ k)
                for c in Self.compares {
                    let expected: Int32 = holds(c, x, k) ? 1 : 0
                    for form in ["brif", "if", "loop"] {
                        #expect(try instance.function("\(form)_\(c)\(n)")!.callI32(x) == expected, "\(form) \(c) \(x) \(k)")
                    }
                }
            }
        }
        // add, sub, set, then 30 branch functions per constant: no pooled constants in add/sub/set.
        let perConstant = 3 + 3 * Self.compares.count
        for n in ks.indices {
            for f in 0..<3 {
                #expect((try m.interpreterRecord(n * perConstant + f).get()).pointee.constWords == 0)
            }
        }
        #expect(operationWords(m, perConstant + 1).contains(handlerWord(Opcode.i32_add_imm)))  // sub1 (x - 1)
        // add0 and sub0 (x + 0, x - 0): no instruction but the return.
        #expect(operationWords(m, 0) == [handlerWord(Opcode.return)] && operationWords(m, 1) == [handlerWord(Opcode.return)])
        #expect(operationWords(m, 2).contains(handlerWord(Opcode.const_set)))
        #expect(operationWords(m, 3).contains(handlerWord(Opcode.br_if_i32_eq_imm)))
        // The loop's counter: add-and-branch still fuses (its constant back in the pool).
        let fused = try module("""
            (module
              (func (export "count") (param i32) (result i32) (local i32)
                (loop (br_if 0 (i32.ne (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0))))
                (local.get 1))
              (func (param i32) (result i32) (i32.load8_u (i32.add (local.get 0) (i32.const 16))))
              (func (param i32 i32) (result i32) (i32.mul (i32.add (local.get 0) (i32.const 3)) (local.get 1)))
              (memory 1))
            """)
        #expect(operationWords(fused, 0).contains(handlerWord(Opcode.i32_add_br_if_ne_back)))
        #expect(operationWords(fused, 1).contains(handlerWord(Opcode.i32_load8_u_add)))
        #expect(operationWords(fused, 2).contains(handlerWord(Opcode.i32_add_mul)))
        let run = try Store(engine: fused.engine).instantiate(fused)
        #expect(try run.function("count")!.callI32(5) == 5)
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
        #expect(words(2).contains(handlerWord(Opcode.br_if_i32_le_u_imm)))  // if: branch to else on the negation
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
        #expect(words(0).contains(handlerWord(Opcode.i32_shl_add)))
        #expect(words(1).contains(handlerWord(Opcode.i32_shl_add)))
        #expect(words(3).contains(handlerWord(Opcode.i32_shl_add)))
        // The loop header between the shift and the add is a branch target: no fusion.
        #expect(!words(4).contains(handlerWord(Opcode.i32_shl_add)))
    }

    /// Every fused pair of binary operations, both operand orders, against the same two
    /// operations kept apart (a `local.tee` between them stores the intermediate).
    @Test(arguments: ["i32", "i64", "f32", "f64"])
    func fusedBinaryOperationsMatchSeparateOnes(_ t: String) throws {
        let isInt = t.hasPrefix("i")
        let firsts = isInt ? ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u"] : ["add", "sub", "mul", "div"]
        let seconds = isInt ? ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_u"] : ["add", "sub", "mul"]
        var funcs = ""
        var names: [String] = []
        for f in firsts {
            for g in seconds {
                let n = "\(f)_\(g)"
                names.append(n)
                funcs += """
                  (func (export "fused_\(n)") (param \(t) \(t) \(t)) (result \(t))
                    (\(t).\(g) (\(t).\(f) (local.get 0) (local.get 1)) (local.get 2)))
                  (func (export "fused_r_\(n)") (param \(t) \(t) \(t)) (result \(t))
                    (\(t).\(g) (local.get 2) (\(t).\(f) (local.get 0) (local.get 1))))
                  (func (export "plain_\(n)") (param \(t) \(t) \(t)) (result \(t)) (local \(t))
                    (\(t).\(g) (local.tee 3 (\(t).\(f) (local.get 0) (local.get 1))) (local.get 2)))
                  (func (export "plain_r_\(n)") (param \(t) \(t) \(t)) (result \(t)) (local \(t))
                    (\(t).\(g) (local.get 2) (local.tee 3 (\(t).\(f) (local.get 0) (local.get 1)))))

                """
            }
        }
        // The interpreter tier only: these are its instructions.
        var configuration = EngineConfiguration()
        configuration.tier = .interpreter
        let m = try Module(engine: Engine(configuration: configuration), bytes: try wat2wasm("(module \(funcs))"))
        // Fusion happened: the fused functions hold one operation, the plain ones two.
        #expect(opcodeWords(m, 0).count < opcodeWords(m, 2).count)
        let instance = try Store(engine: m.engine).instantiate(m)
        let ints: [Int64] = [0, 1, -1, 3, 31, 32, 33, 63, 64, 0x1234_5678_9ABC_DEF0, Int64.min, Int64(Int32.max)]
        let floats: [Double] = [0, -0.0, 1.5, -2.25, 3e10, .infinity, -.infinity, .nan, Double.leastNormalMagnitude / 8]
        func value(_ i: Int) -> Value {
            switch t {
            case "i32": .i32(Int32(truncatingIfNeeded: ints[i % ints.count]))
            case "i64": .i64(ints[i % ints.count])
            case "f32": .f32(Float(floats[i % floats.count]))
            default: .f64(floats[i % floats.count])
            }
        }
        let count = isInt ? ints.count : floats.count
        for n in names {
            for x in 0..<count {
                for y in stride(from: x % 3, to: count, by: 3) {
                    for z in stride(from: (x + y) % 2, to: count, by: 2) {
                        let args = [value(x), value(y), value(z)]
                        for form in ["", "r_"] {
                            let expected = try instance.function("plain_\(form)\(n)")!.call(args)
                            #expect(try instance.function("fused_\(form)\(n)")!.call(args) == expected, "\(t) \(form)\(n) \(args)")
                        }
                    }
                }
            }
        }
    }

    /// A loop's counter update fused with its closing compare-and-branch, for every integer
    /// comparison, against the same loop with an empty block in between (no fusion across it).
    @Test(arguments: ["i32", "i64"])
    func addAndBranchMatchesSeparateInstructions(_ t: String) throws {
        var funcs = ""
        for c in Self.compares {
            for (form, between) in [("fused", ""), ("plain", "(block)")] {
                // Counts iterations (at most 50) of: i += step; continue while i <c> limit.
                funcs += """
                  (func (export "\(form)_\(c)") (param $i \(t)) (param $step \(t)) (param $limit \(t)) (result i32) (local $n i32)
                    (loop $l
                      (local.set $n (i32.add (local.get $n) (i32.const 1)))
                      (local.set $i (\(t).add (local.get $i) (local.get $step)))
                      \(between)
                      (br_if $l (i32.and (i32.lt_u (local.get $n) (i32.const 50)) (\(t).\(c) (local.get $i) (local.get $limit)))))
                    (local.get $n))
                  (func (export "\(form)_simple_\(c)") (param $i \(t)) (param $step \(t)) (param $limit \(t)) (result \(t))
                    (loop $l
                      (local.set $i (\(t).add (local.get $i) (local.get $step)))
                      \(between)
                      (br_if $l (\(t).\(c) (local.get $i) (local.get $limit))))
                    (local.get $i))

                """
            }
        }
        var configuration = EngineConfiguration()
        configuration.tier = .interpreter
        let m = try Module(engine: Engine(configuration: configuration), bytes: try wat2wasm("(module \(funcs))"))
        // The fused simple loop holds the add-and-branch, the plain one does not.
        let fusedOp = t == "i32" ? Opcode.i32_add_br_if_lt_u_back : Opcode.i64_add_br_if_lt_u_back
        let ltU = Self.compares.firstIndex(of: "lt_u")!
        #expect(opcodeWords(m, 4 * ltU + 1).contains(handlerWord(fusedOp)))
        #expect(!opcodeWords(m, 4 * ltU + 3).contains(handlerWord(fusedOp)))
        let instance = try Store(engine: m.engine).instantiate(m)
        let starts: [Int64] = [0, -3, 5, Int64(Int32.max) - 2, -1]
        let steps: [Int64] = [1, -1, 2, 7]
        let limits: [Int64] = [0, 10, -10, Int64(Int32.max)]
        func v(_ x: Int64) -> Value { t == "i32" ? .i32(Int32(truncatingIfNeeded: x)) : .i64(x) }
        for c in Self.compares {
            for a in starts {
                for b in steps {
                    for l in limits {
                        let args = [v(a), v(b), v(l)]
                        #expect(try instance.function("fused_\(c)")!.call(args) == instance.function("plain_\(c)")!.call(args), "\(t) \(c) \(args)")
                        // Loops that end: counting up to a larger limit (unsigned: from a non-negative start).
                        if c == "lt_s" || (c == "lt_u" && a >= 0), b > 0, l > a, l <= 1000, a >= -1000 {
                            #expect(try instance.function("fused_simple_\(c)")!.call(args) == instance.function("plain_simple_\(c)")!.call(args), "\(t) simple \(c) \(args)")
                        }
                    }
                }
            }
        }
    }

    /// A load whose address is an `i32.add` computed right before it, for every load, against
    /// the same load with the sum stored in a local first: the sum wraps to 32 bits, and an
    /// address past the end traps the same way.
    @Test func addAndLoadMatchesSeparateInstructions() throws {
        let loads = ["i32.load", "i64.load", "f32.load", "f64.load", "i32.load8_s", "i32.load8_u", "i32.load16_s",
                     "i32.load16_u", "i64.load8_s", "i64.load8_u", "i64.load16_s", "i64.load16_u", "i64.load32_s", "i64.load32_u"]
        var funcs = ""
        for (k, l) in loads.enumerated() {
            let t = String(l.prefix(3))
            funcs += """
              (func (export "fused\(k)") (param i32 i32) (result \(t)) (\(l) offset=3 (i32.add (local.get 0) (local.get 1))))
              (func (export "plain\(k)") (param i32 i32) (result \(t)) (local i32)
                (\(l) offset=3 (local.tee 2 (i32.add (local.get 0) (local.get 1)))))

            """
        }
        var configuration = EngineConfiguration()
        configuration.tier = .interpreter
        let m = try Module(engine: Engine(configuration: configuration), bytes: try wat2wasm("""
            (module (memory 1)
              (data (i32.const 0) "\\01\\82\\03\\84\\05\\86\\07\\88\\09\\8a\\0b\\8c\\0d\\8e\\0f\\90\\11\\92")
              (data (i32.const 65520) "\\ff\\fe\\fd\\fc\\fb\\fa\\f9\\f8\\f7\\f6\\f5\\f4\\f3\\f2\\f1\\f0")
              \(funcs))
            """))
        #expect(opcodeWords(m, 0).contains(handlerWord(Opcode.i32_load_add)))
        #expect(!opcodeWords(m, 1).contains(handlerWord(Opcode.i32_load_add)))
        let instance = try Store(engine: m.engine).instantiate(m)
        let pairs: [(Int32, Int32)] = [(0, 0), (1, 2), (-1, 5), (65_000, 520), (65_520, 5), (65_530, 0), (-3, 0), (Int32.max, Int32.max), (0, 65_536)]
        for k in loads.indices {
            for (a, b) in pairs {
                let args: [Value] = [.i32(a), .i32(b)]
                let plain = Result { try instance.function("plain\(k)")!.call(args) }
                let fused = Result { try instance.function("fused\(k)")!.call(args) }
                switch (plain, fused) {
                case (.success(let x), .success(let y)): #expect(x == y, "\(loads[k]) \(a) \(b)")
                case (.failure(let x as Trap), .failure(let y as Trap)): #expect(x.kind == y.kind, "\(loads[k]) \(a) \(b)")
                default: Issue.record("\(loads[k]) \(a) \(b): \(plain) vs \(fused)")
                }
            }
        }
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

    /// A sequence runs two instructions with one dispatch; a loop that branches back to the
    /// second one runs that one alone, and gets the same answers.
    @Test func sequencesKeepBranchTargetsOfTheirSecondInstruction() throws {
        let (_, instance) = try instantiate("""
            (module
              (memory 1)
              (data (i32.const 0) "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\04\\00\\00\\00")
              (func (export "sum") (param i32) (result i32) (local i32 i32)
                ;; i32.add, then the loop starts at the i32.load: the pair i32_add_imm, i32_load
                ;; runs together on entry, and the back edge enters at the load.
                (local.set 1 (i32.add (local.get 0) (i32.const 4)))
                (loop
                  (local.set 2 (i32.add (local.get 2) (i32.load (local.get 1))))
                  (local.set 1 (i32.add (local.get 1) (i32.const 4)))
                  (br_if 0 (i32.lt_u (local.get 1) (i32.const 16))))
                (local.get 2)))
            """)
        #expect(try instance.function("sum")!.callI32(0) == 2 + 3 + 4)
        #expect(try instance.function("sum")!.callI32(-4) == 1 + 2 + 3 + 4)
        let m = try module("""
            (module (memory 1)
              (func (param i32) (result i32) (local i32)
                (local.set 1 (i32.add (local.get 0) (i32.const 4)))
                (loop (result i32) (i32.load (local.get 1)))))
            """)
        #expect(opcodeWords(m, 0).contains(handlerWord(Opcode.i32_add_imm__i32_load)))
    }

    /// The first instruction of every pair continues with the next one: a branch, call or
    /// return there would run the second instruction after leaving.
    @Test func sequencesStartWithStraightLineInstructions() {
        let control: Set<Opcode> = [.unreachable, .br, .br_if, .br_if_not, .br_back, .br_if_back, .br_table,
                                    .call, .call_import, .call_indirect, .`return`, .br_if_not_back]
        for (first, second, sequence) in sequencePairs {
            let name = "\(first)"
            #expect(!control.contains(first) && !name.hasPrefix("br_if_") && !name.contains("_br_if_"), "\(first)")
            #expect("\(sequence)" == "\(first)__\(second)")
        }
        #expect(Set(sequencePairs.map { "\($0.0) \($0.1)" }).count == sequencePairs.count)
    }

    /// A sequence of two fused operations (two add-and-loads) computes what the plain
    /// operations do, and each half traps at its own load.
    @Test func sequencesOfFusedOperations() throws {
        let bytes = try wat2wasm("""
            (module
              (memory 1)
              (data (i32.const 0) "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\04\\00\\00\\00")
              (func (export "pair") (param i32 i32 i32) (result i32) (local i32 i32)
                (local.set 3 (i32.load (i32.add (local.get 0) (local.get 1))))
                (local.set 4 (i32.load (i32.add (local.get 0) (local.get 2))))
                (i32.sub (i32.mul (local.get 3) (i32.const 10)) (local.get 4))))
            """)
        let engine = Engine()
        let module = try Module(engine: engine, bytes: bytes)
        #expect(opcodeWords(module, 0).contains(handlerWord(Opcode.i32_load_add__i32_load_add)))
        let pair = try Store(engine: engine).instantiate(module).function("pair")!
        for (base, i, j) in [(0, 0, 4), (4, 8, 0), (8, 4, 4), (0, 12, 8)] as [(Int32, Int32, Int32)] {
            let word = { (k: Int32) in (base + k) / 4 + 1 }
            #expect(try pair.call([.i32(base), .i32(i), .i32(j)]) == [.i32(word(i) * 10 - word(j))])
        }
        var offsets: [Int] = []
        for (i, j) in [(65536, 0), (0, 65536)] as [(Int32, Int32)] {
            let trap = try #require(thrownError { _ = try pair.call([.i32(0), .i32(i), .i32(j)]) } as? Trap)
            #expect(trap.kind == .memoryOutOfBounds)
            let offset = try #require(trap.backtrace.first?.offset)
            #expect(bytes[offset] == 0x28)  // an i32.load
            offsets.append(offset)
        }
        #expect(offsets[0] < offsets[1], "the second load's trap names the second load")
    }

    /// Each half of a sequence traps with its own pc: the backtrace names the Wasm instruction
    /// that trapped, not the start of the sequence.
    @Test func sequenceTrapsNameTheirOwnInstruction() throws {
        let bytes = try wat2wasm("""
            (module (memory 1)
              (func (export "second") (param i32) (result i32) (local i32)
                (local.set 1 (i32.add (local.get 0) (i32.const 4)))
                (i32.add (local.get 1) (i32.load (local.get 0))))
              (func (export "first") (param i32) (result i32) (local i32)
                (local.set 1 (i32.load (local.get 0)))
                (i32.add (local.get 1) (i32.load offset=4 (local.get 0)))))
            """)
        let engine = Engine()
        let module = try Module(engine: engine, bytes: bytes)
        #expect(opcodeWords(module, 0).contains(handlerWord(Opcode.i32_add_imm__i32_load)))
        #expect(opcodeWords(module, 1).contains(handlerWord(Opcode.i32_load__i32_load)))
        let instance = try Store(engine: engine).instantiate(module)
        for name in ["second", "first"] {
            _ = try instance.function(name)!.callI32(8)
            let error = thrownError { _ = try instance.function(name)!.call([.i32(65536)]) }
            let trap = try #require(error as? Trap)
            #expect(trap.kind == .memoryOutOfBounds)
            // The offset points at the i32.load (0x28) in the binary.
            #expect(trap.backtrace.first?.offset.map { bytes[$0] } == 0x28, "\(name)")
        }
    }
}

/// The opcode word of each instruction of defined function `i` (operand words left out, so a
/// check for an opcode cannot match an operand that happens to have the same value).
func opcodeWords(_ m: Module, _ i: Int) -> [UInt64] {
    guard let (record, offsets) = m.translation(i) else { return [] }
    return offsets.map { record.pointee.code[Int($0.0)] }
}

/// Like `opcodeWords`, with each sequence replaced by the opcode of its first instruction (the
/// operation that instruction runs), for checks of which operation the translator chose.
func operationWords(_ m: Module, _ i: Int) -> [UInt64] {
    opcodeWords(m, i).map { word in
        sequencePairs.first { handlerWord($0.2) == word }.map { handlerWord($0.0) } ?? word
    }
}
