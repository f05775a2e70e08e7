import CStrata

// The SIMD instructions of the interpreter: one operation per instruction, each a line of
// semantics from SIMDSemantics.swift. Generated once from a table (see the commit that added
// it); edit by hand from now on. Inlined into `Interpreter.dispatchSIMD`.

@inline(__always) func opV128Load(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 16) { vload($0, U8x16.self) }, fp, st)
}
@inline(__always) func opV128Load8x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadExtend($0, I8x16.self, I16x8.self) }, fp, st)
}
@inline(__always) func opV128Load8x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadExtend($0, U8x16.self, U16x8.self) }, fp, st)
}
@inline(__always) func opV128Load16x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadExtend($0, I16x8.self, I32x4.self) }, fp, st)
}
@inline(__always) func opV128Load16x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadExtend($0, U16x8.self, U32x4.self) }, fp, st)
}
@inline(__always) func opV128Load32x2S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadExtend($0, I32x4.self, I64x2.self) }, fp, st)
}
@inline(__always) func opV128Load32x2U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadExtend($0, U32x4.self, U64x2.self) }, fp, st)
}
@inline(__always) func opV128Load8Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 1) { loadSplat($0, U8x16.self) }, fp, st)
}
@inline(__always) func opV128Load16Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 2) { loadSplat($0, U16x8.self) }, fp, st)
}
@inline(__always) func opV128Load32Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 4) { loadSplat($0, U32x4.self) }, fp, st)
}
@inline(__always) func opV128Load64Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { loadSplat($0, U64x2.self) }, fp, st)
}
@inline(__always) func opV128Store(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdStore(pc, fp, st), fp, st)
}
@inline(__always) func opI8x16Shuffle(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBodyI8x16Shuffle(pc, fp, st), fp, st)
}
@inline(__always) func simdBodyI8x16Shuffle(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    vstore(slotPtr(fp, pc, 1), shuffle(vload(slotPtr(fp, pc, 2)), vload(slotPtr(fp, pc, 3)), pc[4], pc[5]))
    return pc + 6
}
@inline(__always) func opI8x16Swizzle(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { swizzle($0, $1) }, fp, st)
}
@inline(__always) func opI8x16Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdSplat(pc, fp, U8x16.self) { UInt8(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opI16x8Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdSplat(pc, fp, U16x8.self) { UInt16(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opI32x4Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdSplat(pc, fp, U32x4.self) { UInt32(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opI64x2Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdSplat(pc, fp, U64x2.self) { $0 }, fp, st)
}
@inline(__always) func opF32x4Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdSplat(pc, fp, U32x4.self) { UInt32(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opF64x2Splat(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdSplat(pc, fp, U64x2.self) { $0 }, fp, st)
}
@inline(__always) func opI8x16ExtractLaneS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, I8x16.self) { UInt64(UInt32(bitPattern: Int32($0))) }, fp, st)
}
@inline(__always) func opI8x16ExtractLaneU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, U8x16.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opI8x16ReplaceLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdReplace(pc, fp, U8x16.self) { UInt8(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opI16x8ExtractLaneS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, I16x8.self) { UInt64(UInt32(bitPattern: Int32($0))) }, fp, st)
}
@inline(__always) func opI16x8ExtractLaneU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, U16x8.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opI16x8ReplaceLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdReplace(pc, fp, U16x8.self) { UInt16(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opI32x4ExtractLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, U32x4.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opI32x4ReplaceLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdReplace(pc, fp, U32x4.self) { UInt32(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opI64x2ExtractLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, U64x2.self) { $0 }, fp, st)
}
@inline(__always) func opI64x2ReplaceLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdReplace(pc, fp, U64x2.self) { $0 }, fp, st)
}
@inline(__always) func opF32x4ExtractLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, U32x4.self) { UInt64($0) }, fp, st)
}
@inline(__always) func opF32x4ReplaceLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdReplace(pc, fp, U32x4.self) { UInt32(truncatingIfNeeded: $0) }, fp, st)
}
@inline(__always) func opF64x2ExtractLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdExtract(pc, fp, U64x2.self) { $0 }, fp, st)
}
@inline(__always) func opF64x2ReplaceLane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdReplace(pc, fp, U64x2.self) { $0 }, fp, st)
}
@inline(__always) func opI8x16Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { maskBits($0 .== $1) }, fp, st)
}
@inline(__always) func opI8x16Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { maskBits($0 .!= $1) }, fp, st)
}
@inline(__always) func opI8x16LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI8x16LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI8x16GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI8x16GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI8x16LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI8x16LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI8x16GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opI8x16GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opI16x8Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { maskBits($0 .== $1) }, fp, st)
}
@inline(__always) func opI16x8Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { maskBits($0 .!= $1) }, fp, st)
}
@inline(__always) func opI16x8LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI16x8LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI16x8GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI16x8GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI16x8LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI16x8LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI16x8GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opI16x8GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opI32x4Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { maskBits($0 .== $1) }, fp, st)
}
@inline(__always) func opI32x4Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { maskBits($0 .!= $1) }, fp, st)
}
@inline(__always) func opI32x4LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI32x4LtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI32x4GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI32x4GtU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI32x4LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI32x4LeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI32x4GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opI32x4GeU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opF32x4Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { maskBits($0 .== $1) }, fp, st)
}
@inline(__always) func opF32x4Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { maskBits($0 .!= $1) }, fp, st)
}
@inline(__always) func opF32x4Lt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opF32x4Gt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opF32x4Le(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opF32x4Ge(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opF64x2Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { maskBits($0 .== $1) }, fp, st)
}
@inline(__always) func opF64x2Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { maskBits($0 .!= $1) }, fp, st)
}
@inline(__always) func opF64x2Lt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opF64x2Gt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opF64x2Le(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opF64x2Ge(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opV128Not(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U64x2.self) { ~$0 }, fp, st)
}
@inline(__always) func opV128And(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 & $1 }, fp, st)
}
@inline(__always) func opV128Andnot(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 & ~$1 }, fp, st)
}
@inline(__always) func opV128Or(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 | $1 }, fp, st)
}
@inline(__always) func opV128Xor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 ^ $1 }, fp, st)
}
@inline(__always) func opV128Bitselect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBodyV128Bitselect(pc, fp, st), fp, st)
}
@inline(__always) func simdBodyV128Bitselect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> CodePointer? {
    let c = vload(slotPtr(fp, pc, 4), U64x2.self)
    vstore(slotPtr(fp, pc, 1), (vload(slotPtr(fp, pc, 2), U64x2.self) & c) | (vload(slotPtr(fp, pc, 3), U64x2.self) & ~c))
    return pc + 5
}
@inline(__always) func opV128AnyTrue(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTest(pc, fp, U64x2.self) { $0 != U64x2() }, fp, st)
}
@inline(__always) func opV128Load8Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoadLane(pc, fp, st, U8x16.self), fp, st)
}
@inline(__always) func opV128Load16Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoadLane(pc, fp, st, U16x8.self), fp, st)
}
@inline(__always) func opV128Load32Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoadLane(pc, fp, st, U32x4.self), fp, st)
}
@inline(__always) func opV128Load64Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoadLane(pc, fp, st, U64x2.self), fp, st)
}
@inline(__always) func opV128Store8Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdStoreLane(pc, fp, st, U8x16.self), fp, st)
}
@inline(__always) func opV128Store16Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdStoreLane(pc, fp, st, U16x8.self), fp, st)
}
@inline(__always) func opV128Store32Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdStoreLane(pc, fp, st, U32x4.self), fp, st)
}
@inline(__always) func opV128Store64Lane(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdStoreLane(pc, fp, st, U64x2.self), fp, st)
}
@inline(__always) func opV128Load32Zero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 4) { U32x4($0.loadUnaligned(as: UInt32.self), 0, 0, 0) }, fp, st)
}
@inline(__always) func opV128Load64Zero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdLoad(pc, fp, st, width: 8) { U64x2($0.loadUnaligned(as: UInt64.self), 0) }, fp, st)
}
@inline(__always) func opF32x4DemoteF64x2Zero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { F32x4(Float($0[0]), Float($0[1]), 0, 0) }, fp, st)
}
@inline(__always) func opF64x2PromoteLowF32x4(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { F64x2(Double($0[0]), Double($0[1])) }, fp, st)
}
@inline(__always) func opI8x16Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I8x16.self) { lanes($0) { wrappingAbs($0) } }, fp, st)
}
@inline(__always) func opI8x16Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I8x16.self) { 0 &- $0 }, fp, st)
}
@inline(__always) func opI8x16Popcnt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U8x16.self) { popcnt($0) }, fp, st)
}
@inline(__always) func opI8x16AllTrue(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTest(pc, fp, U8x16.self) { !any($0 .== U8x16()) }, fp, st)
}
@inline(__always) func opI8x16Bitmask(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBitmask(pc, fp, I8x16.self), fp, st)
}
@inline(__always) func opI8x16NarrowI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { narrow($0, $1, I8x16.self) }, fp, st)
}
@inline(__always) func opI8x16NarrowI16x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { narrow($0, $1, U8x16.self) }, fp, st)
}
@inline(__always) func opF32x4Ceil(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { fround($0, .up) }, fp, st)
}
@inline(__always) func opF32x4Floor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { fround($0, .down) }, fp, st)
}
@inline(__always) func opF32x4Trunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { fround($0, .towardZero) }, fp, st)
}
@inline(__always) func opF32x4Nearest(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { fround($0, .toNearestOrEven) }, fp, st)
}
@inline(__always) func opI8x16Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U8x16.self) { $0 &<< $1 }, fp, st)
}
@inline(__always) func opI8x16ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, I8x16.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI8x16ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U8x16.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI8x16Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { $0 &+ $1 }, fp, st)
}
@inline(__always) func opI8x16AddSatS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { addSat($0, $1) }, fp, st)
}
@inline(__always) func opI8x16AddSatU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { addSat($0, $1) }, fp, st)
}
@inline(__always) func opI8x16Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { $0 &- $1 }, fp, st)
}
@inline(__always) func opI8x16SubSatS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { subSat($0, $1) }, fp, st)
}
@inline(__always) func opI8x16SubSatU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { subSat($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Ceil(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { fround($0, .up) }, fp, st)
}
@inline(__always) func opF64x2Floor(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { fround($0, .down) }, fp, st)
}
@inline(__always) func opI8x16MinS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { pointwiseMin($0, $1) }, fp, st)
}
@inline(__always) func opI8x16MinU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { pointwiseMin($0, $1) }, fp, st)
}
@inline(__always) func opI8x16MaxS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { pointwiseMax($0, $1) }, fp, st)
}
@inline(__always) func opI8x16MaxU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { pointwiseMax($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Trunc(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { fround($0, .towardZero) }, fp, st)
}
@inline(__always) func opI8x16AvgrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { avgr($0, $1) }, fp, st)
}
@inline(__always) func opI16x8ExtaddPairwiseI8x16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I8x16.self) { extaddPairwise($0, I16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtaddPairwiseI8x16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U8x16.self) { extaddPairwise($0, U16x8.self) }, fp, st)
}
@inline(__always) func opI32x4ExtaddPairwiseI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I16x8.self) { extaddPairwise($0, I32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtaddPairwiseI16x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U16x8.self) { extaddPairwise($0, U32x4.self) }, fp, st)
}
@inline(__always) func opI16x8Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I16x8.self) { lanes($0) { wrappingAbs($0) } }, fp, st)
}
@inline(__always) func opI16x8Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I16x8.self) { 0 &- $0 }, fp, st)
}
@inline(__always) func opI16x8Q15mulrSatS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { q15mulr($0, $1) }, fp, st)
}
@inline(__always) func opI16x8AllTrue(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTest(pc, fp, U16x8.self) { !any($0 .== U16x8()) }, fp, st)
}
@inline(__always) func opI16x8Bitmask(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBitmask(pc, fp, I16x8.self), fp, st)
}
@inline(__always) func opI16x8NarrowI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { narrow($0, $1, I16x8.self) }, fp, st)
}
@inline(__always) func opI16x8NarrowI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { narrow($0, $1, U16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtendLowI8x16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I8x16.self) { widen($0, high: false, I16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtendHighI8x16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I8x16.self) { widen($0, high: true, I16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtendLowI8x16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U8x16.self) { widen($0, high: false, U16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtendHighI8x16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U8x16.self) { widen($0, high: true, U16x8.self) }, fp, st)
}
@inline(__always) func opI16x8Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U16x8.self) { $0 &<< $1 }, fp, st)
}
@inline(__always) func opI16x8ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, I16x8.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI16x8ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U16x8.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI16x8Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { $0 &+ $1 }, fp, st)
}
@inline(__always) func opI16x8AddSatS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { addSat($0, $1) }, fp, st)
}
@inline(__always) func opI16x8AddSatU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { addSat($0, $1) }, fp, st)
}
@inline(__always) func opI16x8Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { $0 &- $1 }, fp, st)
}
@inline(__always) func opI16x8SubSatS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { subSat($0, $1) }, fp, st)
}
@inline(__always) func opI16x8SubSatU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { subSat($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Nearest(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { fround($0, .toNearestOrEven) }, fp, st)
}
@inline(__always) func opI16x8Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { $0 &* $1 }, fp, st)
}
@inline(__always) func opI16x8MinS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { pointwiseMin($0, $1) }, fp, st)
}
@inline(__always) func opI16x8MinU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { pointwiseMin($0, $1) }, fp, st)
}
@inline(__always) func opI16x8MaxS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { pointwiseMax($0, $1) }, fp, st)
}
@inline(__always) func opI16x8MaxU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { pointwiseMax($0, $1) }, fp, st)
}
@inline(__always) func opI16x8AvgrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { avgr($0, $1) }, fp, st)
}
@inline(__always) func opI16x8ExtmulLowI8x16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { extmul($0, $1, high: false, I16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtmulHighI8x16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { extmul($0, $1, high: true, I16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtmulLowI8x16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { extmul($0, $1, high: false, U16x8.self) }, fp, st)
}
@inline(__always) func opI16x8ExtmulHighI8x16U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { extmul($0, $1, high: true, U16x8.self) }, fp, st)
}
@inline(__always) func opI32x4Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I32x4.self) { lanes($0) { wrappingAbs($0) } }, fp, st)
}
@inline(__always) func opI32x4Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I32x4.self) { 0 &- $0 }, fp, st)
}
@inline(__always) func opI32x4AllTrue(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTest(pc, fp, U32x4.self) { !any($0 .== U32x4()) }, fp, st)
}
@inline(__always) func opI32x4Bitmask(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBitmask(pc, fp, I32x4.self), fp, st)
}
@inline(__always) func opI32x4ExtendLowI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I16x8.self) { widen($0, high: false, I32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtendHighI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I16x8.self) { widen($0, high: true, I32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtendLowI16x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U16x8.self) { widen($0, high: false, U32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtendHighI16x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U16x8.self) { widen($0, high: true, U32x4.self) }, fp, st)
}
@inline(__always) func opI32x4Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U32x4.self) { $0 &<< $1 }, fp, st)
}
@inline(__always) func opI32x4ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, I32x4.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI32x4ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U32x4.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI32x4Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { $0 &+ $1 }, fp, st)
}
@inline(__always) func opI32x4Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { $0 &- $1 }, fp, st)
}
@inline(__always) func opI32x4Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { $0 &* $1 }, fp, st)
}
@inline(__always) func opI32x4MinS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { pointwiseMin($0, $1) }, fp, st)
}
@inline(__always) func opI32x4MinU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { pointwiseMin($0, $1) }, fp, st)
}
@inline(__always) func opI32x4MaxS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { pointwiseMax($0, $1) }, fp, st)
}
@inline(__always) func opI32x4MaxU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { pointwiseMax($0, $1) }, fp, st)
}
@inline(__always) func opI32x4DotI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { dot($0, $1) }, fp, st)
}
@inline(__always) func opI32x4ExtmulLowI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { extmul($0, $1, high: false, I32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtmulHighI16x8S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { extmul($0, $1, high: true, I32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtmulLowI16x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { extmul($0, $1, high: false, U32x4.self) }, fp, st)
}
@inline(__always) func opI32x4ExtmulHighI16x8U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U16x8.self) { extmul($0, $1, high: true, U32x4.self) }, fp, st)
}
@inline(__always) func opI64x2Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I64x2.self) { lanes($0) { wrappingAbs($0) } }, fp, st)
}
@inline(__always) func opI64x2Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I64x2.self) { 0 &- $0 }, fp, st)
}
@inline(__always) func opI64x2AllTrue(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTest(pc, fp, U64x2.self) { !any($0 .== U64x2()) }, fp, st)
}
@inline(__always) func opI64x2Bitmask(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBitmask(pc, fp, I64x2.self), fp, st)
}
@inline(__always) func opI64x2ExtendLowI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I32x4.self) { widen($0, high: false, I64x2.self) }, fp, st)
}
@inline(__always) func opI64x2ExtendHighI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I32x4.self) { widen($0, high: true, I64x2.self) }, fp, st)
}
@inline(__always) func opI64x2ExtendLowI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U32x4.self) { widen($0, high: false, U64x2.self) }, fp, st)
}
@inline(__always) func opI64x2ExtendHighI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U32x4.self) { widen($0, high: true, U64x2.self) }, fp, st)
}
@inline(__always) func opI64x2Shl(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U64x2.self) { $0 &<< $1 }, fp, st)
}
@inline(__always) func opI64x2ShrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, I64x2.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI64x2ShrU(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdShift(pc, fp, U64x2.self) { $0 &>> $1 }, fp, st)
}
@inline(__always) func opI64x2Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 &+ $1 }, fp, st)
}
@inline(__always) func opI64x2Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 &- $1 }, fp, st)
}
@inline(__always) func opI64x2Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U64x2.self) { $0 &* $1 }, fp, st)
}
@inline(__always) func opI64x2Eq(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I64x2.self) { maskBits($0 .== $1) }, fp, st)
}
@inline(__always) func opI64x2Ne(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I64x2.self) { maskBits($0 .!= $1) }, fp, st)
}
@inline(__always) func opI64x2LtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I64x2.self) { maskBits($0 .< $1) }, fp, st)
}
@inline(__always) func opI64x2GtS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I64x2.self) { maskBits($0 .> $1) }, fp, st)
}
@inline(__always) func opI64x2LeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I64x2.self) { maskBits($0 .<= $1) }, fp, st)
}
@inline(__always) func opI64x2GeS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I64x2.self) { maskBits($0 .>= $1) }, fp, st)
}
@inline(__always) func opI64x2ExtmulLowI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { extmul($0, $1, high: false, I64x2.self) }, fp, st)
}
@inline(__always) func opI64x2ExtmulHighI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I32x4.self) { extmul($0, $1, high: true, I64x2.self) }, fp, st)
}
@inline(__always) func opI64x2ExtmulLowI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { extmul($0, $1, high: false, U64x2.self) }, fp, st)
}
@inline(__always) func opI64x2ExtmulHighI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U32x4.self) { extmul($0, $1, high: true, U64x2.self) }, fp, st)
}
@inline(__always) func opF32x4Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U32x4.self) { $0 & U32x4(repeating: 0x7FFF_FFFF) }, fp, st)
}
@inline(__always) func opF32x4Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U32x4.self) { $0 ^ U32x4(repeating: 0x8000_0000) }, fp, st)
}
@inline(__always) func opF32x4Sqrt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { fsqrt($0) }, fp, st)
}
@inline(__always) func opF32x4Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { $0 + $1 }, fp, st)
}
@inline(__always) func opF32x4Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { $0 - $1 }, fp, st)
}
@inline(__always) func opF32x4Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { $0 * $1 }, fp, st)
}
@inline(__always) func opF32x4Div(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { $0 / $1 }, fp, st)
}
@inline(__always) func opF32x4Min(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { fmin($0, $1) }, fp, st)
}
@inline(__always) func opF32x4Max(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { fmax($0, $1) }, fp, st)
}
@inline(__always) func opF32x4Pmin(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { pmin($0, $1) }, fp, st)
}
@inline(__always) func opF32x4Pmax(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { pmax($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Abs(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U64x2.self) { $0 & U64x2(repeating: 0x7FFF_FFFF_FFFF_FFFF) }, fp, st)
}
@inline(__always) func opF64x2Neg(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U64x2.self) { $0 ^ U64x2(repeating: 0x8000_0000_0000_0000) }, fp, st)
}
@inline(__always) func opF64x2Sqrt(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { fsqrt($0) }, fp, st)
}
@inline(__always) func opF64x2Add(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { $0 + $1 }, fp, st)
}
@inline(__always) func opF64x2Sub(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { $0 - $1 }, fp, st)
}
@inline(__always) func opF64x2Mul(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { $0 * $1 }, fp, st)
}
@inline(__always) func opF64x2Div(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { $0 / $1 }, fp, st)
}
@inline(__always) func opF64x2Min(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { fmin($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Max(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { fmax($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Pmin(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { pmin($0, $1) }, fp, st)
}
@inline(__always) func opF64x2Pmax(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { pmax($0, $1) }, fp, st)
}
@inline(__always) func opI32x4TruncSatF32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { truncSatLanes($0, Int32.self) }, fp, st)
}
@inline(__always) func opI32x4TruncSatF32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { truncSatLanes($0, UInt32.self) }, fp, st)
}
@inline(__always) func opF32x4ConvertI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I32x4.self) { F32x4(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }, fp, st)
}
@inline(__always) func opF32x4ConvertI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U32x4.self) { F32x4(Float($0[0]), Float($0[1]), Float($0[2]), Float($0[3])) }, fp, st)
}
@inline(__always) func opI32x4TruncSatF64x2SZero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { truncSatZero($0, Int32.self) }, fp, st)
}
@inline(__always) func opI32x4TruncSatF64x2UZero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { truncSatZero($0, UInt32.self) }, fp, st)
}
@inline(__always) func opF64x2ConvertLowI32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, I32x4.self) { F64x2(Double($0[0]), Double($0[1])) }, fp, st)
}
@inline(__always) func opF64x2ConvertLowI32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, U32x4.self) { F64x2(Double($0[0]), Double($0[1])) }, fp, st)
}

// Relaxed SIMD (Wasm 3.0): one deterministic behaviour per instruction (see README).
@inline(__always) func opI8x16RelaxedSwizzle(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, U8x16.self) { swizzle($0, $1) }, fp, st)
}
@inline(__always) func opI32x4RelaxedTruncF32x4S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { truncSatLanes($0, Int32.self) }, fp, st)
}
@inline(__always) func opI32x4RelaxedTruncF32x4U(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F32x4.self) { truncSatLanes($0, UInt32.self) }, fp, st)
}
@inline(__always) func opI32x4RelaxedTruncF64x2SZero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { truncSatZero($0, Int32.self) }, fp, st)
}
@inline(__always) func opI32x4RelaxedTruncF64x2UZero(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdUnary(pc, fp, F64x2.self) { truncSatZero($0, UInt32.self) }, fp, st)
}
@inline(__always) func opF32x4RelaxedMadd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, F32x4.self) { $0 * $1 + $2 }, fp, st)
}
@inline(__always) func opF32x4RelaxedNmadd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, F32x4.self) { $2 - $0 * $1 }, fp, st)  // c - a*b: one subtraction, as compiled code computes it (NaN signs alike)
}
@inline(__always) func opF64x2RelaxedMadd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, F64x2.self) { $0 * $1 + $2 }, fp, st)
}
@inline(__always) func opF64x2RelaxedNmadd(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, F64x2.self) { $2 - $0 * $1 }, fp, st)  // c - a*b: one subtraction, as compiled code computes it (NaN signs alike)
}
@inline(__always) func opI8x16RelaxedLaneselect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, U64x2.self) { ($0 & $2) | ($1 & ~$2) }, fp, st)
}
@inline(__always) func opI16x8RelaxedLaneselect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, U64x2.self) { ($0 & $2) | ($1 & ~$2) }, fp, st)
}
@inline(__always) func opI32x4RelaxedLaneselect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, U64x2.self) { ($0 & $2) | ($1 & ~$2) }, fp, st)
}
@inline(__always) func opI64x2RelaxedLaneselect(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernary(pc, fp, U64x2.self) { ($0 & $2) | ($1 & ~$2) }, fp, st)
}
@inline(__always) func opF32x4RelaxedMin(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { fmin($0, $1) }, fp, st)
}
@inline(__always) func opF32x4RelaxedMax(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F32x4.self) { fmax($0, $1) }, fp, st)
}
@inline(__always) func opF64x2RelaxedMin(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { fmin($0, $1) }, fp, st)
}
@inline(__always) func opF64x2RelaxedMax(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, F64x2.self) { fmax($0, $1) }, fp, st)
}
@inline(__always) func opI16x8RelaxedQ15mulrS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I16x8.self) { q15mulr($0, $1) }, fp, st)
}
@inline(__always) func opI16x8RelaxedDotI8x16I7x16S(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdBinary(pc, fp, I8x16.self) { relaxedDot($0, $1) }, fp, st)
}
@inline(__always) func opI32x4RelaxedDotI8x16I7x16AddS(_ pc: CodePointer, _ fp: FramePointer, _ st: StatePointer) -> NextInstruction {
    (simdTernaryMixed(pc, fp) { relaxedDotAdd($0, $1, $2) }, fp, st)
}

/// The handler of a SIMD instruction (0xFD prefix) other than v128.const.
func simdHandler(_ opcode: UInt32) -> Handler? {
    switch opcode {
    case 0x00: Opcode.v128_load
    case 0x01: Opcode.v128_load8x8_s
    case 0x02: Opcode.v128_load8x8_u
    case 0x03: Opcode.v128_load16x4_s
    case 0x04: Opcode.v128_load16x4_u
    case 0x05: Opcode.v128_load32x2_s
    case 0x06: Opcode.v128_load32x2_u
    case 0x07: Opcode.v128_load8_splat
    case 0x08: Opcode.v128_load16_splat
    case 0x09: Opcode.v128_load32_splat
    case 0x0A: Opcode.v128_load64_splat
    case 0x0B: Opcode.v128_store
    case 0x0D: Opcode.i8x16_shuffle
    case 0x0E: Opcode.i8x16_swizzle
    case 0x0F: Opcode.i8x16_splat
    case 0x10: Opcode.i16x8_splat
    case 0x11: Opcode.i32x4_splat
    case 0x12: Opcode.i64x2_splat
    case 0x13: Opcode.f32x4_splat
    case 0x14: Opcode.f64x2_splat
    case 0x15: Opcode.i8x16_extract_lane_s
    case 0x16: Opcode.i8x16_extract_lane_u
    case 0x17: Opcode.i8x16_replace_lane
    case 0x18: Opcode.i16x8_extract_lane_s
    case 0x19: Opcode.i16x8_extract_lane_u
    case 0x1A: Opcode.i16x8_replace_lane
    case 0x1B: Opcode.i32x4_extract_lane
    case 0x1C: Opcode.i32x4_replace_lane
    case 0x1D: Opcode.i64x2_extract_lane
    case 0x1E: Opcode.i64x2_replace_lane
    case 0x1F: Opcode.f32x4_extract_lane
    case 0x20: Opcode.f32x4_replace_lane
    case 0x21: Opcode.f64x2_extract_lane
    case 0x22: Opcode.f64x2_replace_lane
    case 0x23: Opcode.i8x16_eq
    case 0x24: Opcode.i8x16_ne
    case 0x25: Opcode.i8x16_lt_s
    case 0x26: Opcode.i8x16_lt_u
    case 0x27: Opcode.i8x16_gt_s
    case 0x28: Opcode.i8x16_gt_u
    case 0x29: Opcode.i8x16_le_s
    case 0x2A: Opcode.i8x16_le_u
    case 0x2B: Opcode.i8x16_ge_s
    case 0x2C: Opcode.i8x16_ge_u
    case 0x2D: Opcode.i16x8_eq
    case 0x2E: Opcode.i16x8_ne
    case 0x2F: Opcode.i16x8_lt_s
    case 0x30: Opcode.i16x8_lt_u
    case 0x31: Opcode.i16x8_gt_s
    case 0x32: Opcode.i16x8_gt_u
    case 0x33: Opcode.i16x8_le_s
    case 0x34: Opcode.i16x8_le_u
    case 0x35: Opcode.i16x8_ge_s
    case 0x36: Opcode.i16x8_ge_u
    case 0x37: Opcode.i32x4_eq
    case 0x38: Opcode.i32x4_ne
    case 0x39: Opcode.i32x4_lt_s
    case 0x3A: Opcode.i32x4_lt_u
    case 0x3B: Opcode.i32x4_gt_s
    case 0x3C: Opcode.i32x4_gt_u
    case 0x3D: Opcode.i32x4_le_s
    case 0x3E: Opcode.i32x4_le_u
    case 0x3F: Opcode.i32x4_ge_s
    case 0x40: Opcode.i32x4_ge_u
    case 0x41: Opcode.f32x4_eq
    case 0x42: Opcode.f32x4_ne
    case 0x43: Opcode.f32x4_lt
    case 0x44: Opcode.f32x4_gt
    case 0x45: Opcode.f32x4_le
    case 0x46: Opcode.f32x4_ge
    case 0x47: Opcode.f64x2_eq
    case 0x48: Opcode.f64x2_ne
    case 0x49: Opcode.f64x2_lt
    case 0x4A: Opcode.f64x2_gt
    case 0x4B: Opcode.f64x2_le
    case 0x4C: Opcode.f64x2_ge
    case 0x4D: Opcode.v128_not
    case 0x4E: Opcode.v128_and
    case 0x4F: Opcode.v128_andnot
    case 0x50: Opcode.v128_or
    case 0x51: Opcode.v128_xor
    case 0x52: Opcode.v128_bitselect
    case 0x53: Opcode.v128_any_true
    case 0x54: Opcode.v128_load8_lane
    case 0x55: Opcode.v128_load16_lane
    case 0x56: Opcode.v128_load32_lane
    case 0x57: Opcode.v128_load64_lane
    case 0x58: Opcode.v128_store8_lane
    case 0x59: Opcode.v128_store16_lane
    case 0x5A: Opcode.v128_store32_lane
    case 0x5B: Opcode.v128_store64_lane
    case 0x5C: Opcode.v128_load32_zero
    case 0x5D: Opcode.v128_load64_zero
    case 0x5E: Opcode.f32x4_demote_f64x2_zero
    case 0x5F: Opcode.f64x2_promote_low_f32x4
    case 0x60: Opcode.i8x16_abs
    case 0x61: Opcode.i8x16_neg
    case 0x62: Opcode.i8x16_popcnt
    case 0x63: Opcode.i8x16_all_true
    case 0x64: Opcode.i8x16_bitmask
    case 0x65: Opcode.i8x16_narrow_i16x8_s
    case 0x66: Opcode.i8x16_narrow_i16x8_u
    case 0x67: Opcode.f32x4_ceil
    case 0x68: Opcode.f32x4_floor
    case 0x69: Opcode.f32x4_trunc
    case 0x6A: Opcode.f32x4_nearest
    case 0x6B: Opcode.i8x16_shl
    case 0x6C: Opcode.i8x16_shr_s
    case 0x6D: Opcode.i8x16_shr_u
    case 0x6E: Opcode.i8x16_add
    case 0x6F: Opcode.i8x16_add_sat_s
    case 0x70: Opcode.i8x16_add_sat_u
    case 0x71: Opcode.i8x16_sub
    case 0x72: Opcode.i8x16_sub_sat_s
    case 0x73: Opcode.i8x16_sub_sat_u
    case 0x74: Opcode.f64x2_ceil
    case 0x75: Opcode.f64x2_floor
    case 0x76: Opcode.i8x16_min_s
    case 0x77: Opcode.i8x16_min_u
    case 0x78: Opcode.i8x16_max_s
    case 0x79: Opcode.i8x16_max_u
    case 0x7A: Opcode.f64x2_trunc
    case 0x7B: Opcode.i8x16_avgr_u
    case 0x7C: Opcode.i16x8_extadd_pairwise_i8x16_s
    case 0x7D: Opcode.i16x8_extadd_pairwise_i8x16_u
    case 0x7E: Opcode.i32x4_extadd_pairwise_i16x8_s
    case 0x7F: Opcode.i32x4_extadd_pairwise_i16x8_u
    case 0x80: Opcode.i16x8_abs
    case 0x81: Opcode.i16x8_neg
    case 0x82: Opcode.i16x8_q15mulr_sat_s
    case 0x83: Opcode.i16x8_all_true
    case 0x84: Opcode.i16x8_bitmask
    case 0x85: Opcode.i16x8_narrow_i32x4_s
    case 0x86: Opcode.i16x8_narrow_i32x4_u
    case 0x87: Opcode.i16x8_extend_low_i8x16_s
    case 0x88: Opcode.i16x8_extend_high_i8x16_s
    case 0x89: Opcode.i16x8_extend_low_i8x16_u
    case 0x8A: Opcode.i16x8_extend_high_i8x16_u
    case 0x8B: Opcode.i16x8_shl
    case 0x8C: Opcode.i16x8_shr_s
    case 0x8D: Opcode.i16x8_shr_u
    case 0x8E: Opcode.i16x8_add
    case 0x8F: Opcode.i16x8_add_sat_s
    case 0x90: Opcode.i16x8_add_sat_u
    case 0x91: Opcode.i16x8_sub
    case 0x92: Opcode.i16x8_sub_sat_s
    case 0x93: Opcode.i16x8_sub_sat_u
    case 0x94: Opcode.f64x2_nearest
    case 0x95: Opcode.i16x8_mul
    case 0x96: Opcode.i16x8_min_s
    case 0x97: Opcode.i16x8_min_u
    case 0x98: Opcode.i16x8_max_s
    case 0x99: Opcode.i16x8_max_u
    case 0x9B: Opcode.i16x8_avgr_u
    case 0x9C: Opcode.i16x8_extmul_low_i8x16_s
    case 0x9D: Opcode.i16x8_extmul_high_i8x16_s
    case 0x9E: Opcode.i16x8_extmul_low_i8x16_u
    case 0x9F: Opcode.i16x8_extmul_high_i8x16_u
    case 0xA0: Opcode.i32x4_abs
    case 0xA1: Opcode.i32x4_neg
    case 0xA3: Opcode.i32x4_all_true
    case 0xA4: Opcode.i32x4_bitmask
    case 0xA7: Opcode.i32x4_extend_low_i16x8_s
    case 0xA8: Opcode.i32x4_extend_high_i16x8_s
    case 0xA9: Opcode.i32x4_extend_low_i16x8_u
    case 0xAA: Opcode.i32x4_extend_high_i16x8_u
    case 0xAB: Opcode.i32x4_shl
    case 0xAC: Opcode.i32x4_shr_s
    case 0xAD: Opcode.i32x4_shr_u
    case 0xAE: Opcode.i32x4_add
    case 0xB1: Opcode.i32x4_sub
    case 0xB5: Opcode.i32x4_mul
    case 0xB6: Opcode.i32x4_min_s
    case 0xB7: Opcode.i32x4_min_u
    case 0xB8: Opcode.i32x4_max_s
    case 0xB9: Opcode.i32x4_max_u
    case 0xBA: Opcode.i32x4_dot_i16x8_s
    case 0xBC: Opcode.i32x4_extmul_low_i16x8_s
    case 0xBD: Opcode.i32x4_extmul_high_i16x8_s
    case 0xBE: Opcode.i32x4_extmul_low_i16x8_u
    case 0xBF: Opcode.i32x4_extmul_high_i16x8_u
    case 0xC0: Opcode.i64x2_abs
    case 0xC1: Opcode.i64x2_neg
    case 0xC3: Opcode.i64x2_all_true
    case 0xC4: Opcode.i64x2_bitmask
    case 0xC7: Opcode.i64x2_extend_low_i32x4_s
    case 0xC8: Opcode.i64x2_extend_high_i32x4_s
    case 0xC9: Opcode.i64x2_extend_low_i32x4_u
    case 0xCA: Opcode.i64x2_extend_high_i32x4_u
    case 0xCB: Opcode.i64x2_shl
    case 0xCC: Opcode.i64x2_shr_s
    case 0xCD: Opcode.i64x2_shr_u
    case 0xCE: Opcode.i64x2_add
    case 0xD1: Opcode.i64x2_sub
    case 0xD5: Opcode.i64x2_mul
    case 0xD6: Opcode.i64x2_eq
    case 0xD7: Opcode.i64x2_ne
    case 0xD8: Opcode.i64x2_lt_s
    case 0xD9: Opcode.i64x2_gt_s
    case 0xDA: Opcode.i64x2_le_s
    case 0xDB: Opcode.i64x2_ge_s
    case 0xDC: Opcode.i64x2_extmul_low_i32x4_s
    case 0xDD: Opcode.i64x2_extmul_high_i32x4_s
    case 0xDE: Opcode.i64x2_extmul_low_i32x4_u
    case 0xDF: Opcode.i64x2_extmul_high_i32x4_u
    case 0xE0: Opcode.f32x4_abs
    case 0xE1: Opcode.f32x4_neg
    case 0xE3: Opcode.f32x4_sqrt
    case 0xE4: Opcode.f32x4_add
    case 0xE5: Opcode.f32x4_sub
    case 0xE6: Opcode.f32x4_mul
    case 0xE7: Opcode.f32x4_div
    case 0xE8: Opcode.f32x4_min
    case 0xE9: Opcode.f32x4_max
    case 0xEA: Opcode.f32x4_pmin
    case 0xEB: Opcode.f32x4_pmax
    case 0xEC: Opcode.f64x2_abs
    case 0xED: Opcode.f64x2_neg
    case 0xEF: Opcode.f64x2_sqrt
    case 0xF0: Opcode.f64x2_add
    case 0xF1: Opcode.f64x2_sub
    case 0xF2: Opcode.f64x2_mul
    case 0xF3: Opcode.f64x2_div
    case 0xF4: Opcode.f64x2_min
    case 0xF5: Opcode.f64x2_max
    case 0xF6: Opcode.f64x2_pmin
    case 0xF7: Opcode.f64x2_pmax
    case 0xF8: Opcode.i32x4_trunc_sat_f32x4_s
    case 0xF9: Opcode.i32x4_trunc_sat_f32x4_u
    case 0xFA: Opcode.f32x4_convert_i32x4_s
    case 0xFB: Opcode.f32x4_convert_i32x4_u
    case 0xFC: Opcode.i32x4_trunc_sat_f64x2_s_zero
    case 0xFD: Opcode.i32x4_trunc_sat_f64x2_u_zero
    case 0xFE: Opcode.f64x2_convert_low_i32x4_s
    case 0xFF: Opcode.f64x2_convert_low_i32x4_u
    case 0x100: Opcode.i8x16_relaxed_swizzle
    case 0x101: Opcode.i32x4_relaxed_trunc_f32x4_s
    case 0x102: Opcode.i32x4_relaxed_trunc_f32x4_u
    case 0x103: Opcode.i32x4_relaxed_trunc_f64x2_s_zero
    case 0x104: Opcode.i32x4_relaxed_trunc_f64x2_u_zero
    case 0x105: Opcode.f32x4_relaxed_madd
    case 0x106: Opcode.f32x4_relaxed_nmadd
    case 0x107: Opcode.f64x2_relaxed_madd
    case 0x108: Opcode.f64x2_relaxed_nmadd
    case 0x109: Opcode.i8x16_relaxed_laneselect
    case 0x10A: Opcode.i16x8_relaxed_laneselect
    case 0x10B: Opcode.i32x4_relaxed_laneselect
    case 0x10C: Opcode.i64x2_relaxed_laneselect
    case 0x10D: Opcode.f32x4_relaxed_min
    case 0x10E: Opcode.f32x4_relaxed_max
    case 0x10F: Opcode.f64x2_relaxed_min
    case 0x110: Opcode.f64x2_relaxed_max
    case 0x111: Opcode.i16x8_relaxed_q15mulr_s
    case 0x112: Opcode.i16x8_relaxed_dot_i8x16_i7x16_s
    case 0x113: Opcode.i32x4_relaxed_dot_i8x16_i7x16_add_s
    default: nil
    }
}
