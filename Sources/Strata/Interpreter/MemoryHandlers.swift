import CStrata

// Loads [dst, addr, offset] and stores [addr, value, offset]. The interpreter checks bounds
// explicitly; the effective address is computed in 64 bits so it cannot wrap.

@inline(__always)
func effectiveAddress(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, width: UInt64) -> UnsafeMutableRawPointer? {
    let ea = UInt64(rd32(fp, pc, 2)) &+ pc[3]
    guard ea &+ width <= st.pointee.memSize, let base = st.pointee.memBase else { return nil }
    return UnsafeMutableRawPointer(base + Int(ea))
}

@inline(__always)
func load<T: FixedWidthInteger>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ t: T.Type, _ convert: (T) -> UInt64) -> CodePointer? {
    guard let p = effectiveAddress(pc, fp, st, width: UInt64(MemoryLayout<T>.size)) else {
        return trap(st, .memoryOutOfBounds, pc)
    }
    wr(fp, pc, 1, convert(T(littleEndian: p.loadUnaligned(as: T.self))))
    return pc + 4
}

@inline(__always)
func storeValue<T: FixedWidthInteger>(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ t: T.Type) -> CodePointer? {
    let ea = UInt64(rd32(fp, pc, 1)) &+ pc[3]
    guard ea &+ UInt64(MemoryLayout<T>.size) <= st.pointee.memSize, let base = st.pointee.memBase else {
        return trap(st, .memoryOutOfBounds, pc)
    }
    UnsafeMutableRawPointer(base + Int(ea)).storeBytes(of: T(truncatingIfNeeded: rd64(fp, pc, 2)).littleEndian, as: T.self)
    return pc + 4
}

let hI32Load: Handler = { pc, fp, st in load(pc, fp, st, UInt32.self) { UInt64($0) } }
let hI64Load: Handler = { pc, fp, st in load(pc, fp, st, UInt64.self) { $0 } }
let hI32Load8S: Handler = { pc, fp, st in load(pc, fp, st, Int8.self) { UInt64(UInt32(bitPattern: Int32($0))) } }
let hI32Load8U: Handler = { pc, fp, st in load(pc, fp, st, UInt8.self) { UInt64($0) } }
let hI32Load16S: Handler = { pc, fp, st in load(pc, fp, st, Int16.self) { UInt64(UInt32(bitPattern: Int32($0))) } }
let hI32Load16U: Handler = { pc, fp, st in load(pc, fp, st, UInt16.self) { UInt64($0) } }
let hI64Load8S: Handler = { pc, fp, st in load(pc, fp, st, Int8.self) { UInt64(bitPattern: Int64($0)) } }
let hI64Load16S: Handler = { pc, fp, st in load(pc, fp, st, Int16.self) { UInt64(bitPattern: Int64($0)) } }
let hI64Load32S: Handler = { pc, fp, st in load(pc, fp, st, Int32.self) { UInt64(bitPattern: Int64($0)) } }
let hI32Store: Handler = { pc, fp, st in storeValue(pc, fp, st, UInt32.self) }
let hI64Store: Handler = { pc, fp, st in storeValue(pc, fp, st, UInt64.self) }
let hStore8: Handler = { pc, fp, st in storeValue(pc, fp, st, UInt8.self) }
let hStore16: Handler = { pc, fp, st in storeValue(pc, fp, st, UInt16.self) }

func loadHandler(_ opcode: UInt8) -> Handler {
    switch opcode {
    case 0x28, 0x2A, 0x35: hI32Load  // i32.load, f32.load, i64.load32_u
    case 0x29, 0x2B: hI64Load
    case 0x2C: hI32Load8S
    case 0x2D, 0x31: hI32Load8U
    case 0x2E: hI32Load16S
    case 0x2F, 0x33: hI32Load16U
    case 0x30: hI64Load8S
    case 0x32: hI64Load16S
    default: hI64Load32S  // 0x34
    }
}

func storeHandler(_ opcode: UInt8) -> Handler {
    switch opcode {
    case 0x36, 0x38, 0x3E: hI32Store
    case 0x37, 0x39: hI64Store
    case 0x3A, 0x3C: hStore8
    default: hStore16  // 0x3B, 0x3D
    }
}

/// [dst]
let hMemorySize: Handler = { pc, fp, st in
    wr(fp, pc, 1, st.pointee.memSize / wasmPageSize); return pc + 2
}
/// [dst, delta]
let hMemoryGrow: Handler = { pc, fp, st in
    let delta = rd32(fp, pc, 2)
    let instance = instanceOf(st)
    let result = instance.growMemory0(by: UInt64(delta))
    st.pointee.reloadMemory()
    wr32(fp, pc, 1, result.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max)
    return pc + 3
}

// MARK: - globals: vmctx.globals holds one cell pointer per global

/// [dst, index]
let hGlobalGet: Handler = { pc, fp, st in
    fp[op(pc, 1)] = st.pointee.vmctx.pointee.globals[op(pc, 2)]!.pointee; return pc + 3
}
/// [index, src]
let hGlobalSet: Handler = { pc, fp, st in
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
let hMemoryInit: Handler = { pc, fp, st in
    runtimeOp(st, pc, next: 5) {
        instanceOf(st).memoryInit(segment: op(pc, 1), dst: rd32(fp, pc, 2), src: rd32(fp, pc, 3), count: rd32(fp, pc, 4))
    }
}
/// [segment]
let hDataDrop: Handler = { pc, _, st in instanceOf(st).dataDrop(op(pc, 1)); return pc + 2 }
/// [dst, src, n]
let hMemoryCopy: Handler = { pc, fp, st in
    runtimeOp(st, pc, next: 4) { instanceOf(st).memoryCopy(dst: rd32(fp, pc, 1), src: rd32(fp, pc, 2), count: rd32(fp, pc, 3)) }
}
/// [dst, value, n]
let hMemoryFill: Handler = { pc, fp, st in
    runtimeOp(st, pc, next: 4) { instanceOf(st).memoryFill(dst: rd32(fp, pc, 1), value: UInt8(truncatingIfNeeded: rd32(fp, pc, 2)), count: rd32(fp, pc, 3)) }
}
/// [dst, table, index]
let hTableGet: Handler = { pc, fp, st in
    let table = st.pointee.vmctx.pointee.tables[op(pc, 2)]!
    let i = UInt64(rd32(fp, pc, 3))
    guard i < table.pointee.count else { return trap(st, .tableOutOfBounds, pc) }
    wr(fp, pc, 1, table.pointee.elements[Int(i)])
    return pc + 4
}
/// [table, index, value]
let hTableSet: Handler = { pc, fp, st in
    let table = st.pointee.vmctx.pointee.tables[op(pc, 1)]!
    let i = UInt64(rd32(fp, pc, 2))
    guard i < table.pointee.count else { return trap(st, .tableOutOfBounds, pc) }
    table.pointee.elements[Int(i)] = rd64(fp, pc, 3)
    return pc + 4
}
/// [dst, table]
let hTableSize: Handler = { pc, fp, st in
    wr(fp, pc, 1, st.pointee.vmctx.pointee.tables[op(pc, 2)]!.pointee.count); return pc + 3
}
/// [dst, table, init, delta]
let hTableGrow: Handler = { pc, fp, st in
    let r = instanceOf(st).tableGrow(table: op(pc, 2), initial: rd64(fp, pc, 3), delta: rd32(fp, pc, 4))
    wr32(fp, pc, 1, r.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max)
    return pc + 5
}
/// [table, index, value, n]
let hTableFill: Handler = { pc, fp, st in
    runtimeOp(st, pc, next: 5) { instanceOf(st).tableFill(table: op(pc, 1), start: rd32(fp, pc, 2), value: rd64(fp, pc, 3), count: rd32(fp, pc, 4)) }
}
/// [dstTable, srcTable, dst, src, n]
let hTableCopy: Handler = { pc, fp, st in
    runtimeOp(st, pc, next: 6) {
        instanceOf(st).tableCopy(dstTable: op(pc, 1), srcTable: op(pc, 2), dst: rd32(fp, pc, 3), src: rd32(fp, pc, 4), count: rd32(fp, pc, 5))
    }
}
/// [table, segment, dst, src, n]
let hTableInit: Handler = { pc, fp, st in
    runtimeOp(st, pc, next: 6) {
        instanceOf(st).tableInit(table: op(pc, 1), segment: op(pc, 2), dst: rd32(fp, pc, 3), src: rd32(fp, pc, 4), count: rd32(fp, pc, 5))
    }
}
/// [segment]
let hElemDrop: Handler = { pc, _, st in instanceOf(st).elemDrop(op(pc, 1)); return pc + 2 }
/// [dst, function]
let hRefFunc: Handler = { pc, fp, st in
    let ref = st.pointee.vmctx.pointee.functions[op(pc, 2)]!
    wr(fp, pc, 1, UInt64(UInt(bitPattern: ref))); return pc + 3
}
/// [dst, src]
let hRefIsNull: Handler = { pc, fp, _ in wr(fp, pc, 1, rd64(fp, pc, 2) == 0 ? 1 : 0); return pc + 3 }
