// Sequences: superinstructions that run two instructions with one dispatch.
//
// After translation, `fuseSequences` looks at each instruction and the one after it; when the
// pair is in `sequencePairs`, it rewrites the first instruction's opcode word to the pair's
// sequence opcode and leaves everything else as it was. The sequence's handler runs the first
// instruction's operation on its own operands, then the second's on the operands that follow,
// and continues where the second one does. The second instruction keeps its opcode, so a
// branch to it still runs it alone; each operation traps with its own pc, so backtraces name
// the Wasm instruction that trapped. Only instructions that always continue with the next one
// (no branches, calls or returns) come first in a pair; the second may be anything.
//
// The pairs are the most frequent adjacent pairs in the benchmark corpus's dynamic profile
// (dispatch counts per opcode pair, every program weighted alike), in order of frequency. Most
// are what clang's output for C code has everywhere (address arithmetic next to loads and
// stores, loop counters next to back edges, moves around calls, float loads next to
// arithmetic); a few are typical of one kind of kernel (the xorshift step, a CRC table lookup),
// so the corpus gains more from them than other programs will. See docs/ARCHITECTURE.md,
// "Interpreter".

/// (first, second, sequence).
let sequencePairs: [(Opcode, Opcode, Opcode)] = [
    (.i32_add, .i32_add, .i32_add__i32_add),
    (.i32_add, .br_if_back, .i32_add__br_if_back),
    (.i32_add, .copy, .i32_add__copy),
    (.i32_add, .i32_load, .i32_add__i32_load),
    (.i32_add, .return, .i32_add__return),
    (.i32_add, .call, .i32_add__call),
    (.copy, .copy, .copy__copy),
    (.copy, .i32_add, .copy__i32_add),
    (.copy, .br_if_back, .copy__br_if_back),
    (.copy, .call, .copy__call),
    (.copy, .return, .copy__return),
    (.i32_shl, .i32_load, .i32_shl__i32_load),
    (.i32_shl_add, .i32_load, .i32_shl_add__i32_load),
    (.i32_load, .i32_add, .i32_load__i32_add),
    (.i32_store, .i32_add, .i32_store__i32_add),
    (.i64_store, .i32_add, .i64_store__i32_add),
    (.store8, .i32_add, .store8__i32_add),
    (.i64_load, .f64_add, .i64_load__f64_add),
    (.i64_load, .f64_mul, .i64_load__f64_mul),
    (.f64_add, .i64_store, .f64_add__i64_store),
    (.f64_mul, .i64_load, .f64_mul__i64_load),
    (.f64_mul, .f64_add, .f64_mul__f64_add),
    (.f64_le, .br_if_not, .f64_le__br_if_not),
    (.i32_load_add, .f32_add, .i32_load_add__f32_add),
    (.i32_load8_u, .br_if_not, .i32_load8_u__br_if_not),
    (.i32_load, .br_table, .i32_load__br_table),
    (.i32_add, .i32_load8_u_add, .i32_add__i32_load8_u_add),
    (.i32_add, .i32_load_add, .i32_add__i32_load_add),
    (.i32_add, .i32_lt_u, .i32_add__i32_lt_u),
    (.i32_add, .i32_gt_u, .i32_add__i32_gt_u),
    (.i32_add, .i32_shl_add, .i32_add__i32_shl_add),
    (.i32_add, .i32_add_br_if_ne_back, .i32_add__i32_add_br_if_ne_back),
    (.i32_add, .i64_add_br_if_lt_u_back, .i32_add__i64_add_br_if_lt_u_back),
    (.i32_add, .i64_add_br_if_ne_back, .i32_add__i64_add_br_if_ne_back),
    (.i32_load8_u_add, .i32_add, .i32_load8_u_add__i32_add),
    (.i32_load_add, .i32_add, .i32_load_add__i32_add),
    (.i32_load_add, .f32_mul, .i32_load_add__f32_mul),
    (.i32_load_add, .i32_load_add, .i32_load_add__i32_load_add),
    (.i32_lt_u, .select, .i32_lt_u__select),
    (.select, .store8, .select__store8),
    (.i32_store, .br, .i32_store__br),
    (.i64_store, .i64_load, .i64_store__i64_load),
    (.i64_load, .f64_mul_mul, .i64_load__f64_mul_mul),
    (.i64_load_add, .f64_sub, .i64_load_add__f64_sub),
    (.i64_load_add, .f64_mul, .i64_load_add__f64_mul),
    (.f64_mul, .i64_load_add, .f64_mul__i64_load_add),
    (.f64_add_mul, .f64_add, .f64_add_mul__f64_add),
    (.f64_mul, .f64_mul, .f64_mul__f64_mul),
    (.f64_sub, .i64_store, .f64_sub__i64_store),
    (.copy, .i32_shl_add, .copy__i32_shl_add),
    (.i32_wrap_i64, .i32_load8_u, .i32_wrap_i64__i32_load8_u),
    (.i32_xor_and, .i32_shl, .i32_xor_and__i32_shl),
    (.i64_shl_xor, .i64_shr_u_xor, .i64_shl_xor__i64_shr_u_xor),
    (.f32_mul, .i32_load, .f32_mul__i32_load),
]

/// The sequence for each (first, second) pair, as a lookup the translator can afford per
/// instruction: a row per opcode that starts a pair, a column per opcode.
struct SequenceTable: Sendable {
    /// For each opcode: its row, or -1 when it starts no pair.
    let rows: [Int16]
    /// rows x opcodes: 1 + the pair's index in `sequencePairs`, or 0.
    let entries: [UInt8]
    /// Entries per row (the number of opcodes).
    let columns: Int

    static let shared = SequenceTable()

    init() {
        let count = Opcode.allCases.count
        var rows = [Int16](repeating: -1, count: count)
        var rowCount = 0
        for (first, _, _) in sequencePairs where rows[Int(first.rawValue)] < 0 {
            rows[Int(first.rawValue)] = Int16(rowCount)
            rowCount += 1
        }
        var entries = [UInt8](repeating: 0, count: rowCount * count)
        precondition(sequencePairs.count < 255)
        for (index, (first, second, _)) in sequencePairs.enumerated() {
            entries[Int(rows[Int(first.rawValue)]) * count + Int(second.rawValue)] = UInt8(index + 1)
        }
        self.rows = rows
        self.entries = entries
        columns = count
    }

    /// 1 + the index in `sequencePairs` of the pair (first, second) (so earlier pairs have
    /// smaller values), or 0.
    @inline(__always)
    func pair(_ first: UInt64, _ second: UInt64) -> Int {
        let row = Int(rows[Int(UInt16(truncatingIfNeeded: first))])
        guard row >= 0 else { return 0 }
        return Int(entries[row &* columns &+ Int(UInt16(truncatingIfNeeded: second))])
    }
}

/// Runs `first` at `pc`, then `second` at the pc `first` continues with (a sequence's
/// handler). A trap in `first` ends the sequence.
@inline(__always)
func sequence(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer,
    _ first: (CodePointer, FramePointer, StatePointer) -> NextInstruction,
    _ second: (CodePointer, FramePointer, StatePointer) -> NextInstruction
) -> NextInstruction {
    let n = first(pc, fp, st)
    guard let next = n.0 else { return n }
    return second(next, n.1, st)
}

extension Translator {
    /// Rewrites the first instruction of pairs in `sequencePairs` to their sequences. An
    /// instruction takes part in at most one pair; where pairs overlap (a, b, c with both a-b and
    /// b-c in the table), the choice maximizes the number of pairs, earlier pairs of the table
    /// breaking ties (dynamic programming from the end of the code, linear time).
    mutating func fuseSequences() {
        let table = SequenceTable.shared
        let n = offsets.count
        guard n > 1 else { return }
        // take[k]: the pair starting at instruction k (1 + index) when taking it is part of the
        // best choice for instructions k..<n, else 0. The best choice's score is (pairs, minus
        // the sum of pair indices), kept for k + 1 and k + 2.
        var take = [UInt8](repeating: 0, count: n)
        var next1 = (0, 0), next2 = (0, 0)  // scores from k + 1 and k + 2
        var k = n - 2
        while k >= 0 {
            var score = next1
            let p = table.pair(code[Int(offsets[k].0)], code[Int(offsets[k + 1].0)])
            if p != 0 {
                let taken = (next2.0 + 1, next2.1 - p)
                if taken > score {
                    score = taken
                    take[k] = UInt8(p)
                }
            }
            next2 = next1
            next1 = score
            k -= 1
        }
        k = 0
        while k < n {
            if take[k] != 0 {
                code[Int(offsets[k].0)] = sequencePairs[Int(take[k]) - 1].2.word
                k += 2
            } else {
                k += 1
            }
        }
    }
}
