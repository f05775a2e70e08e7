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
// The pairs are the most frequent adjacent pairs of the benchmark corpus's dynamic profile
// that clang's output for ordinary C code produces everywhere (address arithmetic next to
// loads and stores, loop counters next to back edges, moves around calls), not the
// programs' particular kernels. See docs/ARCHITECTURE.md, "Interpreter".

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
]

/// The sequence opcode for each (first, second) pair, as a lookup the translator can afford
/// per instruction.
struct SequenceTable: Sendable {
    /// For each opcode: whether it starts any pair.
    let startsPair: [Bool]
    let pairs: [UInt32: UInt16]

    static let shared = SequenceTable()

    init() {
        var starts = [Bool](repeating: false, count: Opcode.allCases.count)
        var pairs: [UInt32: UInt16] = [:]
        for (first, second, sequence) in sequencePairs {
            starts[Int(first.rawValue)] = true
            pairs[UInt32(first.rawValue) << 16 | UInt32(second.rawValue)] = sequence.rawValue
        }
        startsPair = starts
        self.pairs = pairs
    }

    @inline(__always)
    func sequence(_ first: UInt64, _ second: UInt64) -> UInt16? {
        guard startsPair[Int(first)] else { return nil }
        return pairs[UInt32(first) << 16 | UInt32(second)]
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
    /// Rewrites the first instruction of each pair in `sequencePairs` to its sequence (greedily,
    /// in code order; an instruction takes part in at most one pair).
    mutating func fuseSequences() {
        let table = SequenceTable.shared
        let n = offsets.count
        var k = 0
        while k + 1 < n {
            let s = Int(offsets[k].0)
            if let sequence = table.sequence(code[s], code[Int(offsets[k + 1].0)]) {
                code[s] = UInt64(sequence)
                k += 2
            } else {
                k += 1
            }
        }
    }
}
