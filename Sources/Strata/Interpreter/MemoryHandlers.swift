import CStrata

// Loads [dst, addr, offset] and stores [addr, value, offset]. The interpreter checks bounds
// explicitly; the effective address is computed in 64 bits so it cannot wrap.

/// The interpreter's one bounds check, for every load and store (scalar and SIMD): the
/// address operand at word `addr`, the static offset at word `offset`, `width` bytes.
@inline(__always)
func memoryAddress(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, addr: Int, offset: Int, width: UInt64) -> UnsafeMutableRawPointer? {
    memoryAddress(ea: UInt64(rd32(fp, pc, addr)) &+ pc[offset], st, width: width)
}

/// The checked address of `width` bytes at effective address `ea` (a 32-bit address plus a
/// 32-bit offset, so below 2^33).
@inline(__always)
func memoryAddress(ea: UInt64, _ st: StatePointer, width: UInt64) -> UnsafeMutableRawPointer? {
    // Without a memory, memSize is 0 and every access fails the check: past it, there is a base.
    guard ea &+ width <= st.pointee.memSize else { return nil }
    return UnsafeMutableRawPointer(st.pointee.memBase.unsafelyUnwrapped + Int(truncatingIfNeeded: ea))
}

/// A `T` at effective address `ea`, converted, into the result slot (operand word 1), then the
/// instruction `length` words on: every integer load's access (plain, add-and-load, and their
/// integer-accumulator forms).
@inline(__always)
func loadResult<T: FixedWidthInteger>(
    _ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, ea: UInt64, length: Int, _ t: T.Type, _ convert: (T) -> UInt64
) -> CodePointer? {
    guard let p = memoryAddress(ea: ea, st, width: UInt64(MemoryLayout<T>.size)) else {
        return trap(st, .memoryOutOfBounds, pc)
    }
    wr(fp, pc, 1, convert(T(littleEndian: p.loadUnaligned(as: T.self))))
    return pc + length
}

/// `value` truncated to a `T` at effective address `ea` ([addr, value, offset]): every integer
/// store's access.
@inline(__always)
func storeAt<T: FixedWidthInteger>(_ pc: CodePointer, _ st: StatePointer, ea: UInt64, value: UInt64, _ t: T.Type) -> CodePointer? {
    guard let p = memoryAddress(ea: ea, st, width: UInt64(MemoryLayout<T>.size)) else {
        return trap(st, .memoryOutOfBounds, pc)
    }
    p.storeBytes(of: T(truncatingIfNeeded: value).littleEndian, as: T.self)
    return pc + 4
}

@inline(__always)
func load<T: FixedWidthInteger>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ t: T.Type, _ convert: (T) -> UInt64) -> CodePointer? {
    loadResult(pc, fp, st, ea: UInt64(rd32(fp, pc, 2)) &+ pc[3], length: 4, T.self, convert)
}

@inline(__always)
func storeValue<T: FixedWidthInteger>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ t: T.Type) -> CodePointer? {
    storeAt(pc, st, ea: UInt64(rd32(fp, pc, 1)) &+ pc[3], value: rd64(fp, pc, 2), T.self)
}

@inline(__always) func opI32Load(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Load(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Load(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, UInt32.self) { UInt64($0) }
}
@inline(__always) func opI64Load(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Load(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Load(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, UInt64.self) { $0 }
}
@inline(__always) func opI32Load8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Load8S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Load8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, Int8.self) { UInt64(UInt32(bitPattern: Int32($0))) }
}
@inline(__always) func opI32Load8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Load8U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Load8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, UInt8.self) { UInt64($0) }
}
@inline(__always) func opI32Load16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Load16S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Load16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, Int16.self) { UInt64(UInt32(bitPattern: Int32($0))) }
}
@inline(__always) func opI32Load16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Load16U(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Load16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, UInt16.self) { UInt64($0) }
}
@inline(__always) func opI64Load8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Load8S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Load8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, Int8.self) { UInt64(bitPattern: Int64($0)) }
}
@inline(__always) func opI64Load16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Load16S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Load16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, Int16.self) { UInt64(bitPattern: Int64($0)) }
}
@inline(__always) func opI64Load32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Load32S(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Load32S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    load(pc, fp, st, Int32.self) { UInt64(bitPattern: Int64($0)) }
}
@inline(__always) func opI32Store(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI32Store(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI32Store(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    storeValue(pc, fp, st, UInt32.self)
}
@inline(__always) func opI64Store(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyI64Store(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyI64Store(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    storeValue(pc, fp, st, UInt64.self)
}
@inline(__always) func opStore8(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyStore8(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyStore8(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    storeValue(pc, fp, st, UInt8.self)
}
@inline(__always) func opStore16(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyStore16(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyStore16(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    storeValue(pc, fp, st, UInt16.self)
}

func loadHandler(_ opcode: UInt8) -> Handler {
    switch opcode {
    case 0x28, 0x2A, 0x35: Opcode.i32_load  // i32.load, f32.load, i64.load32_u
    case 0x29, 0x2B: Opcode.i64_load
    case 0x2C: Opcode.i32_load8_s
    case 0x2D, 0x31: Opcode.i32_load8_u
    case 0x2E: Opcode.i32_load16_s
    case 0x2F, 0x33: Opcode.i32_load16_u
    case 0x30: Opcode.i64_load8_s
    case 0x32: Opcode.i64_load16_s
    default: Opcode.i64_load32_s  // 0x34
    }
}

func storeHandler(_ opcode: UInt8) -> Handler {
    switch opcode {
    case 0x36, 0x38, 0x3E: Opcode.i32_store
    case 0x37, 0x39: Opcode.i64_store
    case 0x3A, 0x3C: Opcode.store8
    default: Opcode.store16  // 0x3B, 0x3D
    }
}

/// [dst]
@inline(__always) func opMemorySize(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyMemorySize(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyMemorySize(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, st.pointee.memSize / wasmPageSize); return pc + 2
}
/// [dst, delta]
@inline(__always) func opMemoryGrow(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyMemoryGrow(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyMemoryGrow(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let delta = rd32(fp, pc, 2)
    let instance = instanceOf(st)
    let result = instance.growMemory0(by: UInt64(delta))
    st.pointee.reloadMemory()
    wr32(fp, pc, 1, result.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max)
    return pc + 3
}

// MARK: - globals: vmctx.globals holds one cell pointer per global

/// [dst, index]
@inline(__always) func opGlobalGet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyGlobalGet(pc, fp, st)
    return (next, fp, st)
}
/// Scalar and reference globals move their 8 bytes (the low word of the global's 16 bytes): a
/// 16-byte move would read a slot right after an 8-byte write to it, a load that cannot be
/// store-forwarded and waits for the store to retire (`i32_add_imm__global_set`, a shadow stack
/// pointer's update, was 15% of ERFA's time so). v128 globals move 16 bytes (`global_get_v128`).
@inline(__always) func bodyGlobalGet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    fp[op(pc, 1)] = st.pointee.vmctx.pointee.globals[op(pc, 2)]!.pointee; return pc + 3
}
/// [dst, index]
@inline(__always) func opGlobalGetV128(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    move16(fp + op(pc, 1), st.pointee.vmctx.pointee.globals[op(pc, 2)]!)
    return (pc + 3, fp, st)
}
/// [index, src]
@inline(__always) func opGlobalSetV128(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    move16(st.pointee.vmctx.pointee.globals[op(pc, 1)]!, fp + op(pc, 2))
    return (pc + 3, fp, st)
}
/// [index, src]
@inline(__always) func opGlobalSet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyGlobalSet(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyGlobalSet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    st.pointee.vmctx.pointee.globals[op(pc, 1)]!.pointee = fp[op(pc, 2)]; return pc + 3
}

// MARK: - bulk memory and tables (slow paths through the instance)

@inline(__always)
func instanceOf(_ st: StatePointer) -> InstanceRuntime {
    Unmanaged<InstanceRuntime>.fromOpaque(st.pointee.vmctx.pointee.instance!).takeUnretainedValue()
}

@inline(__always)
func runtimeOp(_ st: StatePointer, _ pc: CodePointer, next: Int, _ body: () -> TrapKind?) -> CodePointer? {
    if let kind = body() { return trap(st, kind, pc) }
    st.pointee.reloadMemory()
    return pc + next
}

/// [segment, dst, src, n]
@inline(__always) func opMemoryInit(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyMemoryInit(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyMemoryInit(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    runtimeOp(st, pc, next: 5) {
        instanceOf(st).memoryInit(segment: op(pc, 1), dst: rd32(fp, pc, 2), src: rd32(fp, pc, 3), count: rd32(fp, pc, 4))
    }
}
/// [segment]
@inline(__always) func opDataDrop(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyDataDrop(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyDataDrop(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    instanceOf(st).dataDrop(op(pc, 1)); return pc + 2
}
/// [dst, src, n]
@inline(__always) func opMemoryCopy(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyMemoryCopy(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyMemoryCopy(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    runtimeOp(st, pc, next: 4) { MemoryOperations.copy(st.pointee.vmctx.pointee.memory0, dst: rd32(fp, pc, 1), src: rd32(fp, pc, 2), count: rd32(fp, pc, 3)) }
}
/// [dst, value, n]
@inline(__always) func opMemoryFill(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyMemoryFill(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyMemoryFill(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    runtimeOp(st, pc, next: 4) {
        MemoryOperations.fill(st.pointee.vmctx.pointee.memory0, dst: rd32(fp, pc, 1), value: UInt8(truncatingIfNeeded: rd32(fp, pc, 2)), count: rd32(fp, pc, 3))
    }
}
/// [dst, table, index]
@inline(__always) func opTableGet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableGet(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableGet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let table = st.pointee.vmctx.pointee.tables[op(pc, 2)]!
    let i = UInt64(rd32(fp, pc, 3))
    guard i < table.pointee.count else { return trap(st, .tableOutOfBounds, pc) }
    wr(fp, pc, 1, table.pointee.elements[Int(i)])
    return pc + 4
}
/// [table, index, value]
@inline(__always) func opTableSet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableSet(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableSet(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let table = st.pointee.vmctx.pointee.tables[op(pc, 1)]!
    let i = UInt64(rd32(fp, pc, 2))
    guard i < table.pointee.count else { return trap(st, .tableOutOfBounds, pc) }
    table.pointee.elements[Int(i)] = rd64(fp, pc, 3)
    return pc + 4
}
/// [dst, table]
@inline(__always) func opTableSize(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableSize(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableSize(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, st.pointee.vmctx.pointee.tables[op(pc, 2)]!.pointee.count); return pc + 3
}
/// [dst, table, init, delta]
@inline(__always) func opTableGrow(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableGrow(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableGrow(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let r = instanceOf(st).tableGrow(table: op(pc, 2), initial: rd64(fp, pc, 3), delta: rd32(fp, pc, 4))
    wr32(fp, pc, 1, r.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max)
    return pc + 5
}
/// [table, index, value, n]
@inline(__always) func opTableFill(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableFill(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableFill(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    runtimeOp(st, pc, next: 5) { instanceOf(st).tableFill(table: op(pc, 1), start: rd32(fp, pc, 2), value: rd64(fp, pc, 3), count: rd32(fp, pc, 4)) }
}
/// [dstTable, srcTable, dst, src, n]
@inline(__always) func opTableCopy(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableCopy(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableCopy(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    runtimeOp(st, pc, next: 6) {
        instanceOf(st).tableCopy(dstTable: op(pc, 1), srcTable: op(pc, 2), dst: rd32(fp, pc, 3), src: rd32(fp, pc, 4), count: rd32(fp, pc, 5))
    }
}
/// [table, segment, dst, src, n]
@inline(__always) func opTableInit(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyTableInit(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyTableInit(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    runtimeOp(st, pc, next: 6) {
        instanceOf(st).tableInit(table: op(pc, 1), segment: op(pc, 2), dst: rd32(fp, pc, 3), src: rd32(fp, pc, 4), count: rd32(fp, pc, 5))
    }
}
/// [segment]
@inline(__always) func opElemDrop(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyElemDrop(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyElemDrop(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    instanceOf(st).elemDrop(op(pc, 1)); return pc + 2
}
/// [dst, function]
@inline(__always) func opRefFunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyRefFunc(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyRefFunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let ref = st.pointee.vmctx.pointee.functions[op(pc, 2)]!
    wr(fp, pc, 1, UInt64(UInt(bitPattern: ref))); return pc + 3
}
/// [dst, src]
@inline(__always) func opRefIsNull(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    let next = bodyRefIsNull(pc, fp, st)
    return (next, fp, st)
}
@inline(__always) func bodyRefIsNull(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    wr(fp, pc, 1, rd64(fp, pc, 2) == 0 ? 1 : 0); return pc + 3
}

// A load whose address is computed by the `i32.add` right before it: [dst, a, b, offset]
// loads from (a + b, wrapping to 32 bits) + offset; the sum is never stored.

@inline(__always)
func loadAdd<T: FixedWidthInteger>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ t: T.Type, _ convert: (T) -> UInt64) -> CodePointer? {
    loadResult(pc, fp, st, ea: UInt64(rd32(fp, pc, 2) &+ rd32(fp, pc, 3)) &+ pc[4], length: 5, T.self, convert)
}

@inline(__always) func opI32LoadAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, UInt32.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opI64LoadAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, UInt64.self) { $0 }, fp, st)
}
@inline(__always) func opI32Load8SAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, Int8.self) { UInt64(UInt32(bitPattern: Int32($0))) }, fp, st)
}
@inline(__always) func opI32Load8UAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, UInt8.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opI32Load16SAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, Int16.self) { UInt64(UInt32(bitPattern: Int32($0))) }, fp, st)
}
@inline(__always) func opI32Load16UAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, UInt16.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opI64Load8SAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, Int8.self) { UInt64(bitPattern: Int64($0)) }, fp, st)
}
@inline(__always) func opI64Load16SAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, Int16.self) { UInt64(bitPattern: Int64($0)) }, fp, st)
}
@inline(__always) func opI64Load32SAdd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (loadAdd(pc, fp, st, Int32.self) { UInt64(bitPattern: Int64($0)) }, fp, st)
}

/// The fused add-and-load form of a load operation.
func loadAddHandler(_ load: Opcode) -> Opcode? {
    switch load {
    case .i32_load: .i32_load_add
    case .i64_load: .i64_load_add
    case .i32_load8_s: .i32_load8_s_add
    case .i32_load8_u: .i32_load8_u_add
    case .i32_load16_s: .i32_load16_s_add
    case .i32_load16_u: .i32_load16_u_add
    case .i64_load8_s: .i64_load8_s_add
    case .i64_load16_s: .i64_load16_s_add
    case .i64_load32_s: .i64_load32_s_add
    default: nil
    }
}
