import Testing
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
