import CStrata

// The integer accumulator: the result of an integer instruction handed to the next instruction
// in a register (`iacc`) as well as through its frame slot, as WasmKit 0.4.2 and wasm3 keep one.
//
// Every producer (`integerAccumulatorProducers`: the i32 loads and arithmetic, compares and
// add-and-loads, whose result slot is operand word 1) still writes its result slot, and also
// leaves the 64-bit slot word in the accumulator (`produce`: the compiler forwards the value it
// just stored, so this costs at most a register move). After translation, `useIntegerAccumulator`
// rewrites an instruction that reads the slot the instruction right before it wrote (nothing
// branches to it in between) to its consumer form (`integerAccumulatorConsumers`), which takes
// that operand from the register: the value skips the store-to-load forwarding through the slot,
// about five cycles on the dependency chain of an address computation, a pointer chase or a
// compare. Because the producer still writes its slot, no other reader of the value changes, and
// the slot word stays in the code, so `strata dump` and operand layouts are those of the base
// instruction. A consumer form of a producer produces too (`i32_load_iacc` loads from the
// address in the accumulator and leaves the loaded value there), so chains continue.
//
// The accumulator is live only from one instruction to the next: the other handlers pass an
// undefined value on, and the switch keeps it in a local of its loop. A sequence whose second
// instruction is a producer produces (the pair's case wraps it in `produce`).

/// Runs `operation`, an instruction whose result slot is operand word 1, and leaves the slot's
/// new word in the accumulator.
@inline(__always) func produce(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ iacc: inout UInt64,
    _ operation: (CodePointer, FramePointer, StatePointer) -> NextInstruction
) -> NextInstruction {
    let dst = op(pc, 1)
    let next = operation(pc, fp, st)
    iacc = fp[dst]
    return next
}

/// A consumer form that produces too: `operation` gets the accumulator's value (its operand from
/// the register), and its result slot's new word goes into the accumulator.
@inline(__always) func consumeAndProduce(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ iacc: inout UInt64,
    _ operation: (CodePointer, FramePointer, StatePointer, UInt64) -> NextInstruction
) -> NextInstruction {
    let a = iacc
    return produce(pc, fp, st, &iacc) { pc, fp, st in operation(pc, fp, st, a) }
}

/// A consumer form that produces nothing (stores, branches).
@inline(__always) func consume(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ iacc: inout UInt64,
    _ operation: (CodePointer, FramePointer, StatePointer, UInt64) -> NextInstruction
) -> NextInstruction {
    operation(pc, fp, st, iacc)
}

// MARK: - consumer operations (the operand from the accumulator is `a`)

/// [dst, addr, offset] with addr = a.
@inline(__always) func loadAcc<T: FixedWidthInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, _ t: T.Type, _ convert: (T) -> UInt64
) -> NextInstruction {
    (loadResult(pc, fp, st, ea: UInt64(UInt32(truncatingIfNeeded: a)) &+ pc[3], length: 4, T.self, convert), fp, st)
}

/// [dst, x, y, offset]: an add-and-load with x (`left`) or y = a.
@inline(__always) func loadAddAcc<T: FixedWidthInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, left: Bool, _ t: T.Type, _ convert: (T) -> UInt64
) -> NextInstruction {
    let sum = UInt32(truncatingIfNeeded: a) &+ rd32(fp, pc, left ? 3 : 2)
    return (loadResult(pc, fp, st, ea: UInt64(sum) &+ pc[4], length: 5, T.self, convert), fp, st)
}

/// [addr, value, offset] with addr = a (`address`) or value = a.
@inline(__always) func storeAcc<T: FixedWidthInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, address: Bool, _ t: T.Type
) -> NextInstruction {
    let addr = address ? UInt32(truncatingIfNeeded: a) : rd32(fp, pc, 1)
    return (storeAt(pc, st, ea: UInt64(addr) &+ pc[3], value: address ? rd64(fp, pc, 2) : a, T.self), fp, st)
}

/// [dst, x, y]: dst = x op y with x (`left`) or y = a.
@inline(__always) func bin32Acc(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, left: Bool, _ f: (UInt32, UInt32) -> UInt32
) -> NextInstruction {
    let v = UInt32(truncatingIfNeeded: a)
    wr32(fp, pc, 1, left ? f(v, rd32(fp, pc, 3)) : f(rd32(fp, pc, 2), v))
    return (pc + 4, fp, st)
}

/// [dst, x, value]: dst = a + value (`i32_add_imm`).
@inline(__always) func addImmAcc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64) -> NextInstruction {
    wr32(fp, pc, 1, UInt32(truncatingIfNeeded: a) &+ UInt32(truncatingIfNeeded: pc[3]))
    return (pc + 4, fp, st)
}

/// [x, y, offset]: the i32 fused branch with x (`left`) or y = a.
@inline(__always) func fusedBranchAcc(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, left: Bool, _ c: IntComparison
) -> NextInstruction {
    let v = UInt32(truncatingIfNeeded: a)
    let taken = left ? holds(c, v, rd32(fp, pc, 2), signed: Int32.self) : holds(c, rd32(fp, pc, 1), v, signed: Int32.self)
    return (taken ? pc + op(pc, 3) : pc + 4, fp, st)
}

/// [x, value, offset]: the i32 fused branch against a constant, x = a.
@inline(__always) func fusedBranchImmAcc(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, _ c: IntComparison
) -> NextInstruction {
    let taken = holds(c, UInt32(truncatingIfNeeded: a), UInt32(truncatingIfNeeded: pc[2]), signed: Int32.self)
    return (taken ? pc + op(pc, 3) : pc + 4, fp, st)
}

/// [cond, offset]: `br_if` (`when` true), `br_if_not`, or the back edge `br_if_back`, cond = a.
@inline(__always) func brIfAcc(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64, when: Bool, back: Bool
) -> NextInstruction {
    guard (UInt32(truncatingIfNeeded: a) != 0) == when else { return (pc + 3, fp, st) }
    return (back ? backEdge(st, pc, pc + op(pc, 2)) : pc + op(pc, 2), fp, st)
}

/// [dst, x, y, cond]: `select` with cond = a.
@inline(__always) func selectAcc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ a: UInt64) -> NextInstruction {
    fp[op(pc, 1)] = fp[op(pc, UInt32(truncatingIfNeeded: a) != 0 ? 2 : 3)]
    return (pc + 5, fp, st)
}

// MARK: - the translator's tables

/// The instructions that leave their result in the accumulator (their switch cases wrap the
/// operation in `produce`; the consumer forms of these produce as well).
let integerAccumulatorProducers: [Opcode] = [
    .i32_load, .i32_load8_s, .i32_load8_u, .i32_load16_s, .i32_load16_u, .i64_load,
    .i32_load_add, .i32_load8_s_add, .i32_load8_u_add, .i32_load16_s_add, .i32_load16_u_add,
    .i32_add, .i32_sub, .i32_mul, .i32_and, .i32_or, .i32_xor, .i32_shl, .i32_shr_s, .i32_shr_u, .i32_rotl, .i32_rotr,
    .i32_add_imm, .i32_eqz, .i64_eqz, .i32_wrap_i64,
    .i32_eq, .i32_ne, .i32_lt_s, .i32_lt_u, .i32_gt_s, .i32_gt_u, .i32_le_s, .i32_le_u, .i32_ge_s, .i32_ge_u,
    .i32_add_add, .i32_add_sub, .i32_add_sub_r, .i32_add_and, .i32_add_shl, .i32_add_shr_u,
    .i32_sub_add, .i32_sub_sub, .i32_sub_and, .i32_and_add, .i32_and_and, .i32_and_shl, .i32_and_shr_u,
    .i32_or_and, .i32_xor_and, .i32_shl_add, .i32_shl_sub, .i32_shl_and, .i32_shl_or, .i32_shr_u_add,
    .i32_shr_u_and, .i32_shr_s_add, .i32_mul_add,
    .global_get, .copy,
    .i32_and_imm, .i32_or_imm, .i32_xor_imm, .i32_mul_imm, .i32_shl_imm, .i32_shr_s_imm, .i32_shr_u_imm,
    .i32_eq_imm, .i32_ne_imm, .i32_lt_s_imm, .i32_lt_u_imm, .i32_gt_s_imm, .i32_gt_u_imm,
    .i32_le_s_imm, .i32_le_u_imm, .i32_ge_s_imm, .i32_ge_u_imm,
]

/// (base instruction, the operand word the accumulator replaces, consumer form).
let integerAccumulatorConsumers: [(Opcode, Int, Opcode)] = [
    (.i32_load, 2, .i32_load_iacc), (.i32_load8_s, 2, .i32_load8_s_iacc), (.i32_load8_u, 2, .i32_load8_u_iacc),
    (.i32_load16_s, 2, .i32_load16_s_iacc), (.i32_load16_u, 2, .i32_load16_u_iacc), (.i64_load, 2, .i64_load_iacc),
    (.i32_load_add, 2, .i32_load_add_iacc_l), (.i32_load_add, 3, .i32_load_add_iacc_r),
    (.i32_load8_u_add, 2, .i32_load8_u_add_iacc_l), (.i32_load8_u_add, 3, .i32_load8_u_add_iacc_r),
    (.i32_load16_u_add, 2, .i32_load16_u_add_iacc_l), (.i32_load16_u_add, 3, .i32_load16_u_add_iacc_r),
    (.i32_store, 1, .i32_store_iacc_addr), (.i32_store, 2, .i32_store_iacc_value),
    (.i64_store, 1, .i64_store_iacc_addr),
    (.store8, 1, .store8_iacc_addr), (.store8, 2, .store8_iacc_value),
    (.store16, 1, .store16_iacc_addr), (.store16, 2, .store16_iacc_value),
    (.i32_add, 2, .i32_add_iacc_l), (.i32_add, 3, .i32_add_iacc_r),
    (.i32_sub, 2, .i32_sub_iacc_l), (.i32_sub, 3, .i32_sub_iacc_r),
    (.i32_and, 2, .i32_and_iacc_l), (.i32_and, 3, .i32_and_iacc_r),
    (.i32_or, 2, .i32_or_iacc_l), (.i32_or, 3, .i32_or_iacc_r),
    (.i32_xor, 2, .i32_xor_iacc_l), (.i32_xor, 3, .i32_xor_iacc_r),
    (.i32_mul, 2, .i32_mul_iacc_l), (.i32_mul, 3, .i32_mul_iacc_r),
    (.i32_shl, 2, .i32_shl_iacc_l), (.i32_shr_u, 2, .i32_shr_u_iacc_l), (.i32_shr_s, 2, .i32_shr_s_iacc_l),
    (.i32_add_imm, 2, .i32_add_imm_iacc),
    (.i32_and_imm, 2, .i32_and_imm_iacc), (.i32_or_imm, 2, .i32_or_imm_iacc), (.i32_xor_imm, 2, .i32_xor_imm_iacc),
    (.i32_mul_imm, 2, .i32_mul_imm_iacc), (.i32_shl_imm, 2, .i32_shl_imm_iacc), (.i32_shr_s_imm, 2, .i32_shr_s_imm_iacc),
    (.i32_shr_u_imm, 2, .i32_shr_u_imm_iacc), (.i32_eq_imm, 2, .i32_eq_imm_iacc), (.i32_ne_imm, 2, .i32_ne_imm_iacc),
    (.i32_lt_s_imm, 2, .i32_lt_s_imm_iacc), (.i32_lt_u_imm, 2, .i32_lt_u_imm_iacc), (.i32_gt_s_imm, 2, .i32_gt_s_imm_iacc),
    (.i32_gt_u_imm, 2, .i32_gt_u_imm_iacc), (.i32_le_s_imm, 2, .i32_le_s_imm_iacc), (.i32_le_u_imm, 2, .i32_le_u_imm_iacc),
    (.i32_ge_s_imm, 2, .i32_ge_s_imm_iacc), (.i32_ge_u_imm, 2, .i32_ge_u_imm_iacc),
    (.br_if_i32_eq, 1, .br_if_i32_eq_iacc_l), (.br_if_i32_eq, 2, .br_if_i32_eq_iacc_r),
    (.br_if_i32_ne, 1, .br_if_i32_ne_iacc_l), (.br_if_i32_ne, 2, .br_if_i32_ne_iacc_r),
    (.br_if_i32_lt_s, 1, .br_if_i32_lt_s_iacc_l), (.br_if_i32_lt_s, 2, .br_if_i32_lt_s_iacc_r),
    (.br_if_i32_lt_u, 1, .br_if_i32_lt_u_iacc_l), (.br_if_i32_lt_u, 2, .br_if_i32_lt_u_iacc_r),
    (.br_if_i32_gt_s, 1, .br_if_i32_gt_s_iacc_l), (.br_if_i32_gt_s, 2, .br_if_i32_gt_s_iacc_r),
    (.br_if_i32_gt_u, 1, .br_if_i32_gt_u_iacc_l), (.br_if_i32_gt_u, 2, .br_if_i32_gt_u_iacc_r),
    (.br_if_i32_le_s, 1, .br_if_i32_le_s_iacc_l), (.br_if_i32_le_s, 2, .br_if_i32_le_s_iacc_r),
    (.br_if_i32_le_u, 1, .br_if_i32_le_u_iacc_l), (.br_if_i32_le_u, 2, .br_if_i32_le_u_iacc_r),
    (.br_if_i32_ge_s, 1, .br_if_i32_ge_s_iacc_l), (.br_if_i32_ge_s, 2, .br_if_i32_ge_s_iacc_r),
    (.br_if_i32_ge_u, 1, .br_if_i32_ge_u_iacc_l), (.br_if_i32_ge_u, 2, .br_if_i32_ge_u_iacc_r),
    (.br_if_i32_eq_imm, 1, .br_if_i32_eq_imm_iacc), (.br_if_i32_ne_imm, 1, .br_if_i32_ne_imm_iacc),
    (.br_if_i32_lt_s_imm, 1, .br_if_i32_lt_s_imm_iacc), (.br_if_i32_lt_u_imm, 1, .br_if_i32_lt_u_imm_iacc),
    (.br_if_i32_gt_s_imm, 1, .br_if_i32_gt_s_imm_iacc), (.br_if_i32_gt_u_imm, 1, .br_if_i32_gt_u_imm_iacc),
    (.br_if_i32_le_s_imm, 1, .br_if_i32_le_s_imm_iacc), (.br_if_i32_le_u_imm, 1, .br_if_i32_le_u_imm_iacc),
    (.br_if_i32_ge_s_imm, 1, .br_if_i32_ge_s_imm_iacc), (.br_if_i32_ge_u_imm, 1, .br_if_i32_ge_u_imm_iacc),
    (.br_if, 1, .br_if_iacc), (.br_if_not, 1, .br_if_not_iacc), (.br_if_back, 1, .br_if_back_iacc),
    (.select, 4, .select_iacc_cond),
]

/// Per opcode: whether it leaves its result in the accumulator, and its consumer forms by
/// operand word.
struct IntegerAccumulatorTable: Sendable {
    var produces: [Bool]
    var forms: [[(Int, Opcode)]]

    static let shared: IntegerAccumulatorTable = {
        var t = IntegerAccumulatorTable(
            produces: [Bool](repeating: false, count: Opcode.allCases.count),
            forms: [[(Int, Opcode)]](repeating: [], count: Opcode.allCases.count))
        for p in integerAccumulatorProducers { t.produces[Int(p.rawValue)] = true }
        for (base, k, form) in integerAccumulatorConsumers {
            t.forms[Int(base.rawValue)].append((k, form))
            if t.produces[Int(base.rawValue)] { t.produces[Int(form.rawValue)] = true }
        }
        return t
    }()
}

extension Translator {
    /// Rewrites each instruction that reads the slot the instruction right before it wrote, when
    /// that one leaves its result in the accumulator and no branch targets the reader, to the
    /// consumer form that takes the operand from the accumulator. Runs after `finish` has made
    /// slot operands word indices and before sequences are formed.
    mutating func useIntegerAccumulator() {
        let table = IntegerAccumulatorTable.shared
        var targets = branchTargets.sorted()
        targets.append(Int.max)
        var t = 0
        var k = 1
        while k < offsets.count {
            let s = Int(offsets[k - 1].0), c = Int(offsets[k].0)
            while targets[t] <= s { t += 1 }
            defer { k += 1 }
            // A branch target at c (or between the two) may reach c from elsewhere.
            guard targets[t] > c else { continue }
            let producer = Int(UInt16(truncatingIfNeeded: code[s]))
            let consumer = Int(UInt16(truncatingIfNeeded: code[c]))
            guard producer < table.produces.count, table.produces[producer],
                  consumer < table.forms.count, !table.forms[consumer].isEmpty else { continue }
            let dst = code[s + 1]
            for (word, form) in table.forms[consumer] where c + word < code.count && code[c + word] == dst {
                code[c] = form.word
                break
            }
        }
    }
}
