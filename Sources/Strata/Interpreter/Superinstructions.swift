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
// The pairs are chosen from a training set of real C programs built for wasm32-wasi, none of
// them in the benchmark corpus: SQLite (an in-memory database: inserts, an index, queries,
// updates), LZ4 (fast and HC), Brotli (its command-line tool compressing and decompressing) and
// Zstandard (levels 3 and 9). Each program's dynamic pair counts (`strata run --tier interpreter
// --pair-profile FILE`) are normalized so that every program weighs alike, and the 80 most
// frequent pairs whose first instruction continues with the next are taken, in order of weight
// (`Utilities/choose_sequence_pairs.py --apply 80 sqlite=... lz4=... brotli=c+d zstd=...`; the
// comment on each row gives its share and the programs where it is over 0.5%). The corpus and
// Lua are the programs they are checked on; see docs/ARCHITECTURE.md, "Interpreter".

/// (first, second, sequence).
let sequencePairs: [(Opcode, Opcode, Opcode)] = [
    (.i32_add_imm, .i32_add_imm, .i32_add_imm__i32_add_imm),  // 2.83% sqlite,lz4,zstd
    (.i32_load, .i32_load, .i32_load__i32_load),  // 1.98% sqlite,lz4,brotli,zstd
    (.copy, .copy, .copy__copy),  // 1.43% sqlite,lz4,brotli,zstd
    (.i32_load8_u, .i32_load8_u, .i32_load8_u__i32_load8_u),  // 1.29% sqlite,lz4,zstd
    (.i32_shl_add, .i32_load_iacc, .i32_shl_add__i32_load_iacc),  // 1.28% sqlite,brotli,zstd
    (.i32_load8_u, .br_if_i32_ne_iacc_r, .i32_load8_u__br_if_i32_ne_iacc_r),  // 0.91% lz4,zstd
    (.i32_load_add, .br_if_i32_ne_iacc_r, .i32_load_add__br_if_i32_ne_iacc_r),  // 0.87% brotli,zstd
    (.copy, .br, .copy__br),  // 0.86% sqlite,brotli,zstd
    (.i32_add_imm, .br_if_back_iacc, .i32_add_imm__br_if_back_iacc),  // 0.82% lz4,zstd
    (.i32_add, .i32_add, .i32_add__i32_add),  // 0.65% lz4
    (.i32_and_shl, .i32_add_iacc_r, .i32_and_shl__i32_add_iacc_r),  // 0.65% lz4,brotli,zstd
    (.i32_and_shl, .i32_load16_u_add_iacc_r, .i32_and_shl__i32_load16_u_add_iacc_r),  // 0.59% lz4
    (.i32_sub, .i32_store_iacc_value, .i32_sub__i32_store_iacc_value),  // 0.59% lz4,brotli
    (.i32_add, .i32_add_add, .i32_add__i32_add_add),  // 0.58% lz4
    (.i32_load16_u_add_iacc_r, .br_if, .i32_load16_u_add_iacc_r__br_if),  // 0.58% lz4
    (.i32_load16_u_add, .i32_add, .i32_load16_u_add__i32_add),  // 0.58% lz4
    (.i32_add_imm, .br_if_back, .i32_add_imm__br_if_back),  // 0.57% lz4
    (.i32_gt_s_imm, .i32_add_imm, .i32_gt_s_imm__i32_add_imm),  // 0.56% lz4
    (.i32_add_imm, .i32_load, .i32_add_imm__i32_load),  // 0.56% sqlite,brotli,zstd
    (.i32_sub, .br, .i32_sub__br),  // 0.55% lz4
    (.i32_add_iacc_l, .br_if_i32_gt_u_iacc_l, .i32_add_iacc_l__br_if_i32_gt_u_iacc_l),  // 0.53% brotli
    (.i32_add, .br_if_i32_gt_u_iacc_l, .i32_add__br_if_i32_gt_u_iacc_l),  // 0.53% brotli
    (.i32_shl_add, .i32_store_iacc_addr, .i32_shl_add__i32_store_iacc_addr),  // 0.51% zstd
    (.i32_and, .i32_add_iacc_l, .i32_and__i32_add_iacc_l),  // 0.51% brotli
    (.i32_add_imm, .i32_load8_u, .i32_add_imm__i32_load8_u),  // 0.50% lz4
    (.i32_store_iacc_value, .i32_load, .i32_store_iacc_value__i32_load),  // 0.48% brotli
    (.i32_add_imm_iacc, .i32_store_iacc_value, .i32_add_imm_iacc__i32_store_iacc_value),  // 0.47% brotli,zstd
    (.select_iacc_cond, .i32_add_and, .select_iacc_cond__i32_add_and),  // 0.46% zstd
    (.i32_load_iacc, .i32_load_add, .i32_load_iacc__i32_load_add),  // 0.46% zstd
    (.i32_load_add, .i32_load_add, .i32_load_add__i32_load_add),  // 0.45% brotli
    (.i32_and_shl, .i32_load_add_iacc_r, .i32_and_shl__i32_load_add_iacc_r),  // 0.44% brotli
    (.i32_sub_iacc_r, .br_if_i32_gt_u_iacc_l, .i32_sub_iacc_r__br_if_i32_gt_u_iacc_l),  // 0.44% brotli
    (.i32_load_add_iacc_r, .i32_sub_iacc_r, .i32_load_add_iacc_r__i32_sub_iacc_r),  // 0.44% brotli
    (.i32_add_imm, .i32_and_shl, .i32_add_imm__i32_and_shl),  // 0.44% brotli
    (.i32_load_iacc, .i32_add_iacc_r, .i32_load_iacc__i32_add_iacc_r),  // 0.44% zstd
    (.i32_add, .i32_add_imm, .i32_add__i32_add_imm),  // 0.41% lz4
    (.i32_load, .br_if_i32_ne_iacc_r, .i32_load__br_if_i32_ne_iacc_r),  // 0.38% lz4
    (.i32_add_imm, .copy, .i32_add_imm__copy),  // 0.38% sqlite,lz4
    (.i32_store_iacc_addr, .i32_add_imm, .i32_store_iacc_addr__i32_add_imm),  // 0.37% zstd
    (.copy, .call, .copy__call),  // 0.37% sqlite
    (.i32_store_iacc_value, .i32_add_imm, .i32_store_iacc_value__i32_add_imm),  // 0.37% brotli
    (.i32_load, .br_if_iacc, .i32_load__br_if_iacc),  // 0.37% sqlite,brotli
    (.i64_eqz, .br_if_iacc, .i64_eqz__br_if_iacc),  // 0.37% zstd
    (.i32_load_iacc, .br_if_i32_lt_u_iacc_l, .i32_load_iacc__br_if_i32_lt_u_iacc_l),  // 0.36% zstd
    (.i32_load8_u, .br_if_i32_eq_back, .i32_load8_u__br_if_i32_eq_back),  // 0.36% lz4
    (.i32_load, .i32_add_imm_iacc, .i32_load__i32_add_imm_iacc),  // 0.36% brotli
    (.i32_store_iacc_value, .i32_sub, .i32_store_iacc_value__i32_sub),  // 0.35% brotli
    (.i32_load_iacc, .i32_load, .i32_load_iacc__i32_load),  // 0.34% brotli
    (.i32_shr_u, .i32_store_iacc_value, .i32_shr_u__i32_store_iacc_value),  // 0.34% brotli
    (.i32_add_add, .i32_load_iacc, .i32_add_add__i32_load_iacc),  // 0.34% zstd
    (.i64_eqz, .select_iacc_cond, .i64_eqz__select_iacc_cond),  // 0.33% zstd
    (.i32_wrap_i64, .i32_ctz, .i32_wrap_i64__i32_ctz),  // 0.33% zstd
    (.i32_ctz, .i64_eqz, .i32_ctz__i64_eqz),  // 0.33% zstd
    (.i32_add_and, .br_if_not_iacc, .i32_add_and__br_if_not_iacc),  // 0.33% zstd
    (.i64_add_and, .i64_eqz, .i64_add_and__i64_eqz),  // 0.33% zstd
    (.i32_add_iacc_r, .i32_add_add, .i32_add_iacc_r__i32_add_add),  // 0.33% zstd
    (.i32_add_imm, .i64_add_and, .i32_add_imm__i64_add_and),  // 0.33% zstd
    (.i32_add_iacc_r, .i32_load8_u_iacc, .i32_add_iacc_r__i32_load8_u_iacc),  // 0.33% brotli,zstd
    (.i32_add_add, .i32_load16_u_iacc, .i32_add_add__i32_load16_u_iacc),  // 0.32% lz4
    (.i32_load16_u_iacc, .br_if_i32_ne_iacc_r, .i32_load16_u_iacc__br_if_i32_ne_iacc_r),  // 0.32% lz4
    (.i32_load, .br_if_not_iacc, .i32_load__br_if_not_iacc),  // 0.31% sqlite
    (.copy, .return, .copy__return),  // 0.31% sqlite
    (.i32_store, .i32_load, .i32_store__i32_load),  // 0.31%
    (.i32_add_imm, .i32_store_iacc_value, .i32_add_imm__i32_store_iacc_value),  // 0.30% brotli
    (.i32_and_imm_iacc, .br_if_not_iacc, .i32_and_imm_iacc__br_if_not_iacc),  // 0.30% sqlite
    (.i32_xor, .i32_ctz, .i32_xor__i32_ctz),  // 0.30% lz4
    (.i32_and_imm, .br_if_not_iacc, .i32_and_imm__br_if_not_iacc),  // 0.29% sqlite
    (.i32_load, .i32_load_iacc, .i32_load__i32_load_iacc),  // 0.28% sqlite
    (.i32_load16_u_add_iacc_l, .br_if_i32_ne_iacc_r, .i32_load16_u_add_iacc_l__br_if_i32_ne_iacc_r),  // 0.26% lz4
    (.i32_add_add, .i32_load16_u_add_iacc_l, .i32_add_add__i32_load16_u_add_iacc_l),  // 0.26% lz4
    (.i32_load, .i32_store_iacc_value, .i32_load__i32_store_iacc_value),  // 0.26% sqlite
    (.i32_load, .br_if_i32_eq_iacc_r, .i32_load__br_if_i32_eq_iacc_r),  // 0.26% lz4
    (.i32_shl_imm, .i32_load_iacc, .i32_shl_imm__i32_load_iacc),  // 0.26% brotli
    (.i32_load, .i32_mul_add, .i32_load__i32_mul_add),  // 0.25% sqlite
    (.i32_and_imm, .i32_shr_u, .i32_and_imm__i32_shr_u),  // 0.25% brotli
    (.i64_load, .i64_store, .i64_load__i64_store),  // 0.25% lz4
    (.const_set, .i32_load, .const_set__i32_load),  // 0.25%
    (.i64_load_add, .i64_store, .i64_load_add__i64_store),  // 0.23%
    (.i32_and_add, .i32_load_iacc, .i32_and_add__i32_load_iacc),  // 0.23% lz4
    (.i32_mul_shr_u, .i32_and_add, .i32_mul_shr_u__i32_and_add),  // 0.23% lz4
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
