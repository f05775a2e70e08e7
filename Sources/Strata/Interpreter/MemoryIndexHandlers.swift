import CStrata

// Memories other than a 32-bit memory 0 (multi-memory, memory64). The interpreter's loads and
// stores read `st.memBase`/`st.memSize`, which hold memory 0, and a 32-bit address. An access
// to another memory, or to a 64-bit one, is the same load or store instruction after a
// `memory_access` prefix, which points the state at that memory for the one instruction (and
// checks a 64-bit address first): every load and store, scalar and SIMD, keeps one
// implementation. The prefix and its instruction are one entry of the offset table, so a trap
// names the Wasm instruction, and `fuseSequences` never pairs the inner instruction. The other
// memory instructions have forms with a memory index and 64-bit operands. Memory 0 with 32-bit
// addresses keeps its own instructions, unchanged.

/// The operand words of a memory access instruction, for the prefix: where its address slot
/// and its offset immediate are, relative to its opcode word.
struct AccessOperands {
    var address: Int
    var offset: Int
    static let load = AccessOperands(address: 2, offset: 3)       // [dst, addr, offset]
    static let store = AccessOperands(address: 1, offset: 3)      // [addr, value, offset]
    static let loadLane = AccessOperands(address: 2, offset: 4)   // [dst, addr, vector, offset, lane]
    static let storeLane = AccessOperands(address: 1, offset: 3)  // [addr, vector, offset, lane]
}

/// [memory, address operand, offset operand, is64] followed by a load or store instruction.
/// A 64-bit memory is at most 4 GiB (`Memory.implementationMaxPages`), so an address or offset
/// of 2^32 or more is out of bounds, and below that the instruction's own 32-bit check is exact.
@inline(never)
func opMemoryAccess(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let inner = pc + 5
    if pc[4] != 0 {
        guard rd64(fp, inner, op(pc, 2)) <= UInt64(UInt32.max), inner[op(pc, 3)] <= UInt64(UInt32.max) else {
            return (trap(st, .memoryOutOfBounds, inner), fp, st)
        }
    }
    let memory = op(pc, 1)
    if memory == 0 { return dispatchAccess(inner, fp, st) }
    let saved = (st.pointee.memBase, st.pointee.memSize)
    let definition = st.pointee.vmctx.pointee.memories[memory]!
    st.pointee.memBase = definition.pointee.base
    st.pointee.memSize = definition.pointee.byteSize
    let next = dispatchAccess(inner, fp, st)
    (st.pointee.memBase, st.pointee.memSize) = saved
    return next
}

/// Runs the load or store after a `memory_access` prefix.
@inline(__always)
func dispatchAccess(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    switch opcode(at: pc) {
    case .i32_load: opI32Load(pc, fp, st)
    case .i64_load: opI64Load(pc, fp, st)
    case .i32_load8_s: opI32Load8S(pc, fp, st)
    case .i32_load8_u: opI32Load8U(pc, fp, st)
    case .i32_load16_s: opI32Load16S(pc, fp, st)
    case .i32_load16_u: opI32Load16U(pc, fp, st)
    case .i64_load8_s: opI64Load8S(pc, fp, st)
    case .i64_load16_s: opI64Load16S(pc, fp, st)
    case .i64_load32_s: opI64Load32S(pc, fp, st)
    case .i32_store: opI32Store(pc, fp, st)
    case .i64_store: opI64Store(pc, fp, st)
    case .store8: opStore8(pc, fp, st)
    case .store16: opStore16(pc, fp, st)
    case .v128_load: opV128Load(pc, fp, st)
    case .v128_load8x8_s: opV128Load8x8S(pc, fp, st)
    case .v128_load8x8_u: opV128Load8x8U(pc, fp, st)
    case .v128_load16x4_s: opV128Load16x4S(pc, fp, st)
    case .v128_load16x4_u: opV128Load16x4U(pc, fp, st)
    case .v128_load32x2_s: opV128Load32x2S(pc, fp, st)
    case .v128_load32x2_u: opV128Load32x2U(pc, fp, st)
    case .v128_load8_splat: opV128Load8Splat(pc, fp, st)
    case .v128_load16_splat: opV128Load16Splat(pc, fp, st)
    case .v128_load32_splat: opV128Load32Splat(pc, fp, st)
    case .v128_load64_splat: opV128Load64Splat(pc, fp, st)
    case .v128_load32_zero: opV128Load32Zero(pc, fp, st)
    case .v128_load64_zero: opV128Load64Zero(pc, fp, st)
    case .v128_load8_lane: opV128Load8Lane(pc, fp, st)
    case .v128_load16_lane: opV128Load16Lane(pc, fp, st)
    case .v128_load32_lane: opV128Load32Lane(pc, fp, st)
    case .v128_load64_lane: opV128Load64Lane(pc, fp, st)
    case .v128_store: opV128Store(pc, fp, st)
    case .v128_store8_lane: opV128Store8Lane(pc, fp, st)
    case .v128_store16_lane: opV128Store16Lane(pc, fp, st)
    case .v128_store32_lane: opV128Store32Lane(pc, fp, st)
    case .v128_store64_lane: opV128Store64Lane(pc, fp, st)
    default: preconditionFailure("memory_access prefix before a non-memory instruction")
    }
}

/// An address or length operand: 64 bits wide for 64-bit memories.
@inline(__always)
func rdAddress(_ fp: FramePointer, _ pc: CodePointer, _ i: Int, is64: Bool) -> UInt64 {
    is64 ? rd64(fp, pc, i) : UInt64(rd32(fp, pc, i))
}

@inline(__always)
func memoryDefinition(_ st: StatePointer, _ memory: Int) -> UnsafeMutablePointer<StrataMemoryDefinition> {
    st.pointee.vmctx.pointee.memories[memory]!
}

/// [dst, memory]
@inline(never)
func opMemorySizeAt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    wr(fp, pc, 1, memoryDefinition(st, op(pc, 2)).pointee.byteSize / wasmPageSize)
    return (pc + 3, fp, st)
}

/// [dst, memory, delta, is64]: the old size, or -1 in the memory's address type.
@inline(never)
func opMemoryGrowAt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let is64 = pc[4] != 0
    let result = instanceOf(st).growMemory(op(pc, 2), by: rdAddress(fp, pc, 3, is64: is64))
    st.pointee.reloadMemory()
    wr(fp, pc, 1, result ?? (is64 ? UInt64.max : UInt64(UInt32.max)))
    return (pc + 5, fp, st)
}

/// [segment, memory, dst, src, n, is64]
@inline(never)
func opMemoryInitAt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = runtimeOp(st, pc, next: 7) {
        instanceOf(st).memoryInit(segment: op(pc, 1), memory: op(pc, 2), dst: rdAddress(fp, pc, 3, is64: pc[6] != 0),
                                  src: rd32(fp, pc, 4), count: rd32(fp, pc, 5))
    }
    return (next, fp, st)
}

/// [dst memory, src memory, dst, src, n, flags]: flags bit 0, a 64-bit destination; bit 1, a
/// 64-bit source (the length is 64-bit when both are).
@inline(never)
func opMemoryCopyAt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let flags = pc[6]
    let next = runtimeOp(st, pc, next: 7) {
        MemoryOperations.copy(memoryDefinition(st, op(pc, 1)), memoryDefinition(st, op(pc, 2)),
                              dst: rdAddress(fp, pc, 3, is64: flags & 1 != 0), src: rdAddress(fp, pc, 4, is64: flags & 2 != 0),
                              count: rdAddress(fp, pc, 5, is64: flags == 3))
    }
    return (next, fp, st)
}

/// [memory, dst, value, n, is64]
@inline(never)
func opMemoryFillAt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let is64 = pc[5] != 0
    let next = runtimeOp(st, pc, next: 6) {
        MemoryOperations.fill(memoryDefinition(st, op(pc, 1)), dst: rdAddress(fp, pc, 2, is64: is64),
                              value: UInt8(truncatingIfNeeded: rd32(fp, pc, 3)), count: rdAddress(fp, pc, 4, is64: is64))
    }
    return (next, fp, st)
}

/// [dst, src]: a 64-bit table's index or length, saturated to 2^32 - 1. Tables hold far fewer
/// elements (`Table.maxElements`), so the saturated value is out of bounds exactly when the
/// original is, and the table instructions then run on 32-bit operands; `table.grow` gets a
/// delta that fails as the original does, and its 32-bit result is sign-extended after it.
@inline(never)
func opIndex64Narrow(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    wr(fp, pc, 1, min(rd64(fp, pc, 2), UInt64(UInt32.max)))
    return (pc + 3, fp, st)
}
