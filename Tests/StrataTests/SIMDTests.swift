import CStrata
import Testing
import WAT
@testable import Strata

@Suite struct SIMDTests {
    func v(_ lanes: [UInt32]) -> Value {
        .v128(V128(lo: UInt64(lanes[0]) | UInt64(lanes[1]) << 32, hi: UInt64(lanes[2]) | UInt64(lanes[3]) << 32))
    }

    @Test func v128CrossesTheHostBoundaryAndGlobals() throws {
        let (_, instance) = try instantiate("""
            (module
              (global $g (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
              (func (export "add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
              (func (export "swap") (param v128 i32) (result i32 v128) (local.get 1) (local.get 0))
              (func (export "acc") (param v128) (result v128)
                (global.set $g (i32x4.add (global.get $g) (local.get 0))) (global.get $g)))
            """)
        #expect(try instance.function("add")!.call([v([1, 2, 3, 4]), v([10, 20, 30, 0xFFFF_FFFF])]) == [v([11, 22, 33, 3])])
        #expect(try instance.function("swap")!.call([v([5, 6, 7, 8]), .i32(9)]) == [.i32(9), v([5, 6, 7, 8])])
        #expect(try instance.function("acc")!.call([v([1, 1, 1, 1])]) == [v([2, 3, 4, 5])])
        #expect(instance.global("g")!.value == v([2, 3, 4, 5]))
    }

    /// A loop of SIMD instructions with scalar loop control runs in the SIMD dispatch loop
    /// without returning to the main one (`Interpreter.dispatchSIMD` runs `i32.add`, moves and
    /// back edges too): same results, and its back edges still count for tiering and poll.
    @Test func simdLoopsKeepScalarControlInTheSIMDLoop() throws {
        let m = try module("""
            (module
              (func (export "sum") (param i32) (result v128) (local v128 i32)
                (local.set 1 (v128.const i32x4 0 0 0 0))
                (loop
                  (local.set 1 (i32x4.add (local.get 1) (i32x4.splat (local.get 2))))
                  (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                  (br_if 0 (i32.lt_u (local.get 2) (local.get 0))))
                (local.get 1))
              (func (export "count") (param i32) (result i32) (local v128)
                (loop
                  (local.set 1 (i32x4.add (local.get 1) (v128.const i32x4 1 2 3 4)))
                  (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
                (i32x4.extract_lane 3 (local.get 1))))
            """)
        let store = Store(engine: m.engine)
        let instance = try store.instantiate(m)
        // 0 + 1 + ... + 99 in every lane
        #expect(try instance.function("sum")!.call([.i32(100)]) == [v([4950, 4950, 4950, 4950])])
        #expect(try instance.function("count")!.call([.i32(1000)]) == [.i32(4000)])
        // 99 + 999 back edges: batches at back edges 1, 65, ..., 1089 of the store's count.
        let c = m.engine.configuration
        let batches = Int64((99 + 999 - 1) / backEdgePeriod + 1)
        #expect((try m.interpreterRecord(0).get()).pointee.hotness.count + (try m.interpreterRecord(1).get()).pointee.hotness.count
                == 2 * Int64(c.callWeight) + batches * Int64(backEdgePeriod * c.loopWeight))
    }

    @Test func lanesShufflesAndMemory() throws {
        let (_, instance) = try instantiate("""
            (module (memory 1)
              (func (export "shuffle") (result v128)
                (i8x16.shuffle 16 17 18 19 0 1 2 3 20 21 22 23 4 5 6 7
                  (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8)))
              (func (export "lane") (param i32) (result i32)
                (i32.add (i8x16.extract_lane_s 15 (i8x16.splat (local.get 0)))
                         (i16x8.extract_lane_u 0 (i16x8.splat (local.get 0)))))
              (func (export "roundtrip") (result i64)
                (v128.store offset=16 (i32.const 0) (v128.const i64x2 0x1122334455667788 -1))
                (i64x2.extract_lane 0 (v128.load64_zero offset=16 (i32.const 0))))
              (func (export "oob") (v128.store8_lane 3 (i32.const 65536) (v128.const i64x2 0 0))))
            """)
        #expect(try instance.function("shuffle")!.call([]) == [v([5, 1, 6, 2])])
        #expect(try instance.function("lane")!.callI32(-1) == -1 + 0xFFFF)
        #expect(try instance.function("roundtrip")!.callI64() == 0x1122_3344_5566_7788)
        let trap = try #require(thrownError { _ = try instance.function("oob")!.call([]) } as? Trap)
        #expect(trap.kind == .memoryOutOfBounds)
    }

    @Test func saturationNarrowingAndFloats() throws {
        let (_, instance) = try instantiate("""
            (module
              (func (export "sat") (result v128) (i8x16.add_sat_s (v128.const i8x16 127 -128 1 0 0 0 0 0 0 0 0 0 0 0 0 0)
                                                                   (v128.const i8x16 1 -1 1 0 0 0 0 0 0 0 0 0 0 0 0 0)))
              (func (export "narrow") (result v128) (i8x16.narrow_i16x8_u (v128.const i16x8 -5 300 255 0 0 0 0 0) (v128.const i16x8 0 0 0 0 0 0 0 0)))
              (func (export "fmin") (result v128) (f32x4.min (v128.const f32x4 0 -0 nan 1) (v128.const f32x4 -0 0 1 nan)))
              (func (export "bitmask") (result i32) (i32x4.bitmask (v128.const i32x4 -1 0 -5 7)))
              (func (export "dot") (result v128) (i32x4.dot_i16x8_s (v128.const i16x8 1 2 3 4 -32768 -32768 0 0) (v128.const i16x8 5 6 7 8 -32768 -32768 0 0))))
            """)
        let sat = try instance.function("sat")!.call([])[0].v128!.bytes
        #expect(Array(sat.prefix(3)) == [127, 0x80, 2])
        #expect(Array(try instance.function("narrow")!.call([])[0].v128!.bytes.prefix(3)) == [0, 255, 255])
        let fmin = try instance.function("fmin")!.call([])[0].v128!
        #expect(UInt32(truncatingIfNeeded: fmin.lo) == 0x8000_0000)           // min(0, -0) = -0
        #expect(UInt32(truncatingIfNeeded: fmin.lo >> 32) == 0x8000_0000)     // min(-0, 0) = -0
        #expect(Float(bitPattern: UInt32(truncatingIfNeeded: fmin.hi)).isNaN)
        #expect(Float(bitPattern: UInt32(truncatingIfNeeded: fmin.hi >> 32)).isNaN)
        #expect(try instance.function("bitmask")!.callI32() == 0b0101)
        #expect(try instance.function("dot")!.call([]) == [v([17, 53, 0x8000_0000, 0])])
    }
}

/// SIMD compiled by the baseline tier: every instruction it compiles, on operands with the
/// lane values that need care (zero, all ones, the sign bit, the largest lane values, NaNs of
/// both signs and payloads, infinities, signed zeros, values at the conversions' limits), gives
/// the interpreter's bits; and each such function is compiled (not left to the interpreter).
/// Every SIMD instruction in the compiled tiers gives the interpreter's bits (the sequences
/// are shared; the tiers differ in where operands are: the baseline's value stack, the
/// optimizing tier's allocated registers, 16-byte spill slots and constant pool).
@Suite struct CompiledSIMDTests {
    static let binary = [
        "i8x16.add", "i8x16.sub", "i8x16.add_sat_s", "i8x16.add_sat_u", "i8x16.sub_sat_s", "i8x16.sub_sat_u",
        "i8x16.min_s", "i8x16.min_u", "i8x16.max_s", "i8x16.max_u", "i8x16.avgr_u", "i8x16.narrow_i16x8_s", "i8x16.narrow_i16x8_u",
        "i8x16.swizzle",
        "i16x8.add", "i16x8.sub", "i16x8.mul", "i16x8.add_sat_s", "i16x8.add_sat_u", "i16x8.sub_sat_s", "i16x8.sub_sat_u",
        "i16x8.min_s", "i16x8.min_u", "i16x8.max_s", "i16x8.max_u", "i16x8.avgr_u", "i16x8.narrow_i32x4_s", "i16x8.narrow_i32x4_u",
        "i32x4.add", "i32x4.sub", "i32x4.mul", "i32x4.min_s", "i32x4.min_u", "i32x4.max_s", "i32x4.max_u", "i32x4.dot_i16x8_s",
        "i64x2.add", "i64x2.sub",
        "v128.and", "v128.or", "v128.xor", "v128.andnot",
        "f32x4.add", "f32x4.sub", "f32x4.mul", "f32x4.div", "f32x4.pmin", "f32x4.pmax",
        "f64x2.add", "f64x2.sub", "f64x2.mul", "f64x2.div", "f64x2.pmin", "f64x2.pmax",
        "f32x4.min", "f32x4.max", "f64x2.min", "f64x2.max", "i64x2.mul", "i16x8.q15mulr_sat_s",
        "i16x8.extmul_low_i8x16_s", "i16x8.extmul_high_i8x16_s", "i16x8.extmul_low_i8x16_u", "i16x8.extmul_high_i8x16_u",
        "i32x4.extmul_low_i16x8_s", "i32x4.extmul_high_i16x8_s", "i32x4.extmul_low_i16x8_u", "i32x4.extmul_high_i16x8_u",
        "i64x2.extmul_low_i32x4_s", "i64x2.extmul_high_i32x4_s", "i64x2.extmul_low_i32x4_u", "i64x2.extmul_high_i32x4_u",
        "i8x16.relaxed_swizzle", "f32x4.relaxed_min", "f32x4.relaxed_max", "f64x2.relaxed_min", "f64x2.relaxed_max",
        "i16x8.relaxed_q15mulr_s", "i16x8.relaxed_dot_i8x16_i7x16_s",
    ] + ["i8x16", "i16x8", "i32x4"].flatMap { s in
        ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"].map { "\(s).\($0)" }
    } + ["i64x2.eq", "i64x2.ne", "i64x2.lt_s", "i64x2.gt_s", "i64x2.le_s", "i64x2.ge_s"]
      + ["f32x4", "f64x2"].flatMap { s in ["eq", "ne", "lt", "gt", "le", "ge"].map { "\(s).\($0)" } }
    static let unary = [
        "v128.not", "i8x16.abs", "i8x16.neg", "i16x8.abs", "i16x8.neg", "i32x4.abs", "i32x4.neg", "i64x2.neg",
        "f32x4.abs", "f32x4.neg", "f32x4.sqrt", "f32x4.ceil", "f32x4.floor", "f32x4.trunc", "f32x4.nearest",
        "f64x2.abs", "f64x2.neg", "f64x2.sqrt", "f64x2.ceil", "f64x2.floor", "f64x2.trunc", "f64x2.nearest",
        "f32x4.convert_i32x4_s", "f32x4.convert_i32x4_u", "f64x2.convert_low_i32x4_s", "f64x2.promote_low_f32x4", "f32x4.demote_f64x2_zero",
        "i16x8.extend_low_i8x16_s", "i16x8.extend_high_i8x16_s", "i16x8.extend_low_i8x16_u", "i16x8.extend_high_i8x16_u",
        "i32x4.extend_low_i16x8_s", "i32x4.extend_high_i16x8_s", "i32x4.extend_low_i16x8_u", "i32x4.extend_high_i16x8_u",
        "i64x2.extend_low_i32x4_s", "i64x2.extend_high_i32x4_s", "i64x2.extend_low_i32x4_u", "i64x2.extend_high_i32x4_u",
        "i8x16.popcnt", "i64x2.abs", "i16x8.extadd_pairwise_i8x16_s", "i16x8.extadd_pairwise_i8x16_u",
        "i32x4.extadd_pairwise_i16x8_s", "i32x4.extadd_pairwise_i16x8_u",
        "i32x4.trunc_sat_f32x4_s", "i32x4.trunc_sat_f32x4_u", "i32x4.trunc_sat_f64x2_s_zero", "i32x4.trunc_sat_f64x2_u_zero",
        "f64x2.convert_low_i32x4_u", "i32x4.relaxed_trunc_f32x4_s", "i32x4.relaxed_trunc_f32x4_u",
        "i32x4.relaxed_trunc_f64x2_s_zero", "i32x4.relaxed_trunc_f64x2_u_zero",
    ]
    static let toScalar = [
        "v128.any_true", "i8x16.all_true", "i16x8.all_true", "i32x4.all_true", "i64x2.all_true",
        "i8x16.bitmask", "i16x8.bitmask", "i32x4.bitmask", "i64x2.bitmask",
    ]
    static let ternary = [
        "v128.bitselect", "f32x4.relaxed_madd", "f32x4.relaxed_nmadd", "f64x2.relaxed_madd", "f64x2.relaxed_nmadd",
        "i8x16.relaxed_laneselect", "i16x8.relaxed_laneselect", "i32x4.relaxed_laneselect", "i64x2.relaxed_laneselect",
        "i32x4.relaxed_dot_i8x16_i7x16_add_s",
    ]
    static let shifts = ["i8x16.shl", "i8x16.shr_s", "i8x16.shr_u", "i64x2.shr_s", "i16x8.shl", "i16x8.shr_s", "i16x8.shr_u", "i32x4.shl", "i32x4.shr_s", "i32x4.shr_u", "i64x2.shl", "i64x2.shr_u"]

    static var wat: String {
        var out = "(module (memory 1)\n"
        for (k, op) in binary.enumerated() { out += "(func (export \"b\(k)\") (param v128 v128) (result v128) (\(op) (local.get 0) (local.get 1)))\n" }
        for (k, op) in unary.enumerated() { out += "(func (export \"u\(k)\") (param v128) (result v128) (\(op) (local.get 0)))\n" }
        for (k, op) in ternary.enumerated() {
            out += "(func (export \"r\(k)\") (param v128 v128 v128) (result v128) (\(op) (local.get 0) (local.get 1) (local.get 2)))\n"
        }
        for (k, op) in toScalar.enumerated() { out += "(func (export \"t\(k)\") (param v128) (result i32) (\(op) (local.get 0)))\n" }
        for (k, op) in shifts.enumerated() {
            out += "(func (export \"s\(k)\") (param v128 i32) (result v128) (\(op) (local.get 0) (local.get 1)))\n"
            out += "(func (export \"c\(k)\") (param v128) (result v128) (\(op) (local.get 0) (i32.const 37)))\n"
        }
        out += """
            (func (export "bitselect") (param v128 v128 v128) (result v128) (v128.bitselect (local.get 0) (local.get 1) (local.get 2)))
            (func (export "shuffle") (param v128 v128) (result v128)
              (i8x16.shuffle 31 0 17 2 19 4 21 6 8 25 10 27 12 29 14 15 (local.get 0) (local.get 1)))
            (func (export "lanes") (param v128 i64 f32 f64) (result v128)
              (local $v v128)
              (local.set $v (i8x16.replace_lane 3 (local.get 0) (i32.wrap_i64 (local.get 1))))
              (local.set $v (i16x8.replace_lane 5 (local.get $v) (i32x4.extract_lane 2 (local.get 0))))
              (local.set $v (i32x4.replace_lane 1 (local.get $v) (i8x16.extract_lane_s 15 (local.get 0))))
              (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.add (local.get 2) (f32x4.extract_lane 3 (local.get 0)))))
              (local.set $v (i64x2.replace_lane 1 (local.get $v) (i64.add (local.get 1) (i64x2.extract_lane 0 (local.get 0)))))
              (local.set $v (f64x2.replace_lane 0 (local.get $v) (f64.mul (local.get 3) (f64x2.extract_lane 1 (local.get 0)))))
              (i16x8.replace_lane 0 (local.get $v)
                (i32.add (i8x16.extract_lane_u 9 (local.get 0)) (i32.add (i16x8.extract_lane_s 3 (local.get 0)) (i16x8.extract_lane_u 6 (local.get 0))))))
            (func (export "splats") (param i64 f32 f64) (result v128)
              (v128.xor (v128.xor (i8x16.splat (i32.wrap_i64 (local.get 0))) (i16x8.splat (i32.wrap_i64 (local.get 0))))
                (v128.xor (v128.xor (i32x4.splat (i32.wrap_i64 (local.get 0))) (i64x2.splat (local.get 0)))
                  (v128.xor (f32x4.splat (local.get 1)) (f64x2.splat (local.get 2))))))
            (func (export "memory") (param v128 i32) (result v128)
              (v128.store offset=16 (local.get 1) (local.get 0))
              (v128.store8_lane offset=0 1 (i32.add (local.get 1) (i32.const 40)) (local.get 0))
              (v128.store16_lane offset=0 2 (i32.add (local.get 1) (i32.const 42)) (local.get 0))
              (v128.store32_lane offset=0 3 (i32.add (local.get 1) (i32.const 44)) (local.get 0))
              (v128.store64_lane offset=0 1 (i32.add (local.get 1) (i32.const 48)) (local.get 0))
              (v128.xor
                (v128.xor (v128.xor (v128.load offset=16 (local.get 1)) (v128.load8x8_s offset=17 (local.get 1)))
                  (v128.xor (v128.load16x4_u offset=18 (local.get 1)) (v128.load32x2_s offset=20 (local.get 1))))
                (v128.xor
                  (v128.xor (v128.load8_splat offset=40 (local.get 1)) (v128.load16_splat offset=42 (local.get 1)))
                  (v128.xor (v128.xor (v128.load32_splat offset=44 (local.get 1)) (v128.load64_splat offset=48 (local.get 1)))
                    (v128.xor (v128.load32_zero offset=21 (local.get 1))
                      (v128.load64_lane offset=8 0 (local.get 1) (v128.load8_lane offset=19 7 (local.get 1) (v128.const i64x2 -1 5))))))))
            (func (export "select") (param v128 v128 i32) (result v128) (select (local.get 0) (local.get 1) (local.get 2)))
            (func (export "compareSelect") (param v128 v128 i32 i32) (result v128)
              (select (local.get 0) (local.get 1) (i32.lt_s (local.get 2) (local.get 3))))
            (func (export "shuffleA") (param v128 v128) (result v128)
              (i8x16.shuffle 15 14 13 12 3 3 3 3 0 1 2 3 8 9 10 11 (local.get 0) (local.get 1)))
            (func (export "shuffleB") (param v128 v128) (result v128)
              (i8x16.shuffle 16 17 18 19 16 17 18 19 20 21 22 23 31 30 29 28 (local.get 0) (local.get 1)))
            (func (export "shuffleDwords") (param v128 v128) (result v128)
              (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get 0) (local.get 1)))
            (func (export "shuffleHalves") (param v128 v128) (result v128)
              (i8x16.shuffle 8 9 10 11 0 1 2 3 28 29 30 31 16 17 18 19 (local.get 0) (local.get 1)))
            ;; A compare's lanes as the mask (one blend with AVX), splats of constants (folded).
            (func (export "blends") (param v128 v128) (result v128)
              (v128.xor
                (v128.bitselect (local.get 0) (local.get 1) (i32x4.gt_s (local.get 0) (local.get 1)))
                (v128.xor
                  (i8x16.relaxed_laneselect (local.get 1) (local.get 0) (f32x4.lt (local.get 0) (local.get 1)))
                  (i16x8.add (i16x8.splat (i32.const 0x1234)) (f64x2.mul (local.get 0) (f64x2.splat (f64.const -2.5)))))))
            (func $keep (param v128) (result v128) (local.get 0))
            (global $g (mut v128) (v128.const i64x2 3 4))
            ;; More v128 values live at once than registers, across a call and a loop whose
            ;; parameters are v128: spills to 16-byte slots, saves around the call, moves at
            ;; the back edge, a v128 global and constants as operands.
            (func (export "pressure") (param v128 v128) (result v128)
              (local $i i32) (local $acc v128)
              (local.set $acc (local.get 0))
              (loop $l
                (local.set $acc
                  (i32x4.add (local.get $acc)
                    (v128.xor (i16x8.mul (local.get $acc) (local.get 1))
                      (i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14 (local.get $acc) (global.get $g)))))
                (global.set $g (i64x2.add (global.get $g) (v128.const i64x2 1 -1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $i) (i32.const 9))))
              (i32x4.add
                (i32x4.add
                  (i32x4.add (i8x16.add (local.get 0) (local.get 1)) (i16x8.sub (local.get 0) (local.get 1)))
                  (i32x4.add (i32x4.mul (local.get 0) (local.get $acc)) (v128.or (local.get 1) (local.get $acc))))
                (i32x4.add
                  (call $keep (i64x2.sub (local.get 0) (local.get $acc)))
                  (i32x4.add
                    (i32x4.add (f32x4.add (local.get 0) (local.get 1)) (f64x2.mul (local.get $acc) (local.get 1)))
                    (i32x4.add
                      (i32x4.add (i8x16.avgr_u (local.get 0) (local.get $acc)) (i16x8.min_s (local.get 1) (local.get $acc)))
                      (i32x4.add (i32x4.max_u (local.get 0) (local.get 1)) (v128.andnot (local.get $acc) (local.get 0))))))))
            """
        return out + ")"
    }

    /// Operand bits: each lane pattern repeated and mixed.
    static func operands(_ seed: UInt64) -> [V128] {
        let special: [UInt64] = [
            0, ~0, 0x8000_0000_8000_0000, 0x7FFF_FFFF_7FFF_FFFF, 0x7FC0_0000_FFC0_0001, 0x7FF8_0000_0000_0001, 0xFFF0_0000_0000_0000,
            0x7F80_0000_FF80_0000, 0x8000_0000_0000_0000, 0x4F80_0000_CF00_0000, 0x8080_8080_7F7F_7F7F, 0x0001_FFFF_8000_7FFF,
            0x3FF0_0000_0000_0000, 0xC1E0_0000_0020_0000, 0x4B7F_FFFF_3F00_0001,
        ]
        var rng = ChaosGenerator(seed: seed)
        var out: [V128] = []
        for a in special { for b in special.prefix(4) { out.append(V128(lo: a, hi: b)) } }
        for _ in 0..<40 { out.append(V128(lo: rng.next(), hi: rng.next())) }
        return out
    }

    @Test(arguments: [(Tier.baseline, true), (Tier.optimizing, true), (Tier.optimizing, false)])
    func compiledSIMDGivesTheInterpretersBits(tier: Tier, avx: Bool) throws {
        var c = EngineConfiguration()
        c.tier = tier
        c.useAVX = avx
        let engine = Engine(configuration: c)
        let bytes = try wat2wasm(Self.wat)
        let compiled = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: bytes))
        var ic = EngineConfiguration()
        ic.tier = .interpreter
        let ie = Engine(configuration: ic)
        let interpreted = try Store(engine: ie).instantiate(try Module(engine: ie, bytes: bytes))
        let module = compiled.module
        #expect(module.functionCount(in: tier) == module.definedFunctionCount)
        let xs = Self.operands(1), ys = Self.operands(2)
        var checked = 0
        func same(_ name: String, _ args: [Value]) throws {
            let a = try interpreted.function(name)!.call(args), b = try compiled.function(name)!.call(args)
            #expect(a == b, "\(name)\(args): interpreter \(a), \(tier) \(b)")
            checked += 1
        }
        for k in Self.binary.indices { for (x, y) in zip(xs, ys) { try same("b\(k)", [.v128(x), .v128(y)]) } }
        for k in Self.unary.indices { for x in xs { try same("u\(k)", [.v128(x)]) } }
        for k in Self.toScalar.indices { for x in xs { try same("t\(k)", [.v128(x)]) } }
        for k in Self.ternary.indices {
            for (n, (x, y)) in zip(xs, ys).enumerated() { try same("r\(k)", [.v128(x), .v128(y), .v128(xs[(n + 5) % xs.count])]) }
        }
        for k in Self.shifts.indices {
            for (n, x) in xs.enumerated() {
                try same("s\(k)", [.v128(x), .i32(Int32(n * 7) - 20)])
                try same("c\(k)", [.v128(x)])
            }
        }
        for (n, (x, y)) in zip(xs, ys).enumerated() {
            try same("bitselect", [.v128(x), .v128(y), .v128(xs[(n + 3) % xs.count])])
            try same("shuffle", [.v128(x), .v128(y)])
            try same("lanes", [.v128(x), .i64(Int64(bitPattern: y.lo)), .f32(Float(bitPattern: UInt32(truncatingIfNeeded: y.hi))), .f64(Double(bitPattern: x.lo))])
            try same("splats", [.i64(Int64(bitPattern: x.hi)), .f32(Float(bitPattern: UInt32(truncatingIfNeeded: y.lo))), .f64(Double(bitPattern: y.hi))])
            try same("memory", [.v128(x), .i32(Int32(n * 64))])
            try same("select", [.v128(x), .v128(y), .i32(Int32(n % 2))])
            try same("compareSelect", [.v128(x), .v128(y), .i32(Int32(n)), .i32(30)])
            for name in ["shuffleA", "shuffleB", "shuffleDwords", "shuffleHalves", "pressure", "blends"] { try same(name, [.v128(x), .v128(y)]) }
        }
        #expect(checked > 10_000)
    }

    /// A CPU without SSE4.1 (masked for the test) gets no compiled code at all, never an
    /// illegal instruction: the eager modes refuse with the reason, tiered mode stays in the
    /// interpreter and says why.
    @Test func withoutSSE41TheCompiledTiersStepAside() throws {
        let bytes = try wat2wasm("""
            (module (func (export "f") (param i32) (result i32)
              (i32x4.extract_lane 2 (i32x4.mul (i32x4.splat (local.get 0)) (v128.const i32x4 1 2 3 4)))))
            """)
        var c = EngineConfiguration()
        c.maskedCPUFeatures = STRATA_CPU_SSE41
        for tier in [Tier.baseline, .optimizing] {
            c.tier = tier
            #expect(throws: WasmError.self) { try Module(engine: Engine(configuration: c), bytes: bytes) }
            do { _ = try Module(engine: Engine(configuration: c), bytes: bytes) } catch {
                #expect("\(error)".contains("SSE4.2"), "\(error)")
            }
        }
        c.tier = .tiered
        c.tierUpThreshold = 1
        c.optimizeThreshold = 2
        let events = Locked<[TierEvent]>([])
        c.tierLog = { e in events.withLock { $0.append(e) } }
        let engine = Engine(configuration: c)
        let module = try Module(engine: engine, bytes: bytes)
        let f = try Store(engine: engine).instantiate(module).function("f")!
        for k in Int32(0)..<200 { #expect(try f.callI32(k) == 3 &* k) }
        engine.flushCodeCache()
        #expect(module.currentTier(function: 0) == .interpreter)
        #expect(events.withLock { $0 }.contains { if case .notCompiled(let why) = $0.kind { why.contains("SSE4.2") } else { false } })
    }

    /// With AVX a v128.load used only by the lane arithmetic after it is that instruction's
    /// memory operand; out of bounds, the trap names the load's offset as the interpreter's does.
    @Test func foldedVectorLoadsTrapAtTheLoad() throws {
        guard strata_cpu_features() & STRATA_CPU_AVX != 0 else { return }
        let bytes = try wat2wasm("""
            (module (memory 1)
              (func (export "f") (param v128 i32) (result v128)
                (i32x4.add (local.get 0) (v128.load offset=8 (local.get 1)))))
            """)
        let engine = OptimizingTests.machineCodeEngine()
        let optimized = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: bytes))
        let code = try X64AssemblerTests.disassemble(try #require(optimized.module.machineCode(function: 0)))
        #expect(code.contains { $0.hasPrefix("vpaddd") && $0.contains("xmmword ptr [r15") }, "\(code)")
        var c = EngineConfiguration()
        c.tier = .interpreter
        let ie = Engine(configuration: c)
        let interpreted = try Store(engine: ie).instantiate(try Module(engine: ie, bytes: bytes))
        let x = Value.v128(V128(lo: 0x0000_0001_FFFF_FFFF, hi: 7))
        for address in [0, 100, 65_512] {
            #expect(try optimized.function("f")!.call([x, .i32(Int32(address))]) == interpreted.function("f")!.call([x, .i32(Int32(address))]))
        }
        for address in [65_513, -1] {
            let want = try #require(thrownError { _ = try interpreted.function("f")!.call([x, .i32(Int32(address))]) } as? Trap)
            let got = try #require(thrownError { _ = try optimized.function("f")!.call([x, .i32(Int32(address))]) } as? Trap)
            #expect(got.kind == .memoryOutOfBounds && want.kind == .memoryOutOfBounds)
            #expect(got.backtrace.map(\.offset) == want.backtrace.map(\.offset), "\(got) vs \(want)")
        }
    }

    /// v128 values as exception payloads and live into a try_table's landing block (kept in
    /// 16-byte frame slots in the optimizing tier): every tier computes the interpreter's result.
    @Test func vectorsCrossExceptionHandlers() throws {
        let bytes = try wat2wasm("""
            (module
              (tag $t (param v128 i32))
              (func $thrower (param i32) (param v128)
                (if (i32.and (local.get 0) (i32.const 1)) (then (throw $t (i32x4.mul (local.get 1) (local.get 1)) (local.get 0)))))
              (func (export "run") (param $n i32) (result i32)
                (local $acc v128) (local $keep v128) (local $i i32) (local $got i32)
                (local.set $keep (v128.const i32x4 7 8 9 10))
                (loop $l
                  (block $next
                    (block $caught (result v128 i32)
                      (try_table (catch $t $caught)
                        (call $thrower (local.get $i) (i32x4.add (local.get $acc) (local.get $keep)))
                        (local.set $acc (i32x4.add (local.get $acc) (i32x4.splat (local.get $i)))))
                      (br $next))
                    (local.set $got)
                    (i32x4.add (local.get $keep) (i32x4.splat (local.get $got)))
                    (v128.xor)
                    (local.get $acc)
                    (i32x4.add)
                    (local.set $acc))
                  (local.set $keep (i32x4.add (local.get $keep) (i32x4.splat (i32.const 3))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
                (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 3 (local.get $keep)))))
            """)
        var results: [Tier: Int32] = [:]
        for tier in [Tier.interpreter, .baseline, .optimizing] {
            var c = EngineConfiguration()
            c.tier = tier
            let engine = Engine(configuration: c)
            let module = try Module(engine: engine, bytes: bytes)
            if tier != .interpreter { #expect(module.functionCount(in: tier) == 2) }
            results[tier] = try Store(engine: engine).instantiate(module).function("run")!.callI32(1000)
        }
        #expect(results[.interpreter] == 839_971_019)
        #expect(results[.baseline] == results[.interpreter] && results[.optimizing] == results[.interpreter])
    }
}
