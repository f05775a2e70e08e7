import Testing
import WAT
@testable import Strata

/// Multi-memory and memory64: several memories per module, every memory instruction with a
/// memory index, 64-bit addresses, sizes and offsets; bounds checked without wrapping; the
/// plain memory 0 unaffected; the feature switches; imports matched by index type. Every mode
/// gives the interpreter's results (both compiled tiers compile accesses to other memories and
/// 64-bit ones).
@Suite struct MemoryIndexTests {
    static let wat = """
        (module
          (memory $m0 1)
          (memory $m1 2 3)
          (memory $m64 (export "m64") i64 1 4)
          (data (memory $m1) (i32.const 16) "\\01\\02\\03\\04")
          (data (memory $m64) (i64.const 32) "\\05\\06\\07\\08")
          (func (export "load0") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "store0") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
          (func (export "load1") (param i32) (result i32) (i32.load $m1 (local.get 0)))
          (func (export "load64") (param i64) (result i64) (i64.load $m64 offset=8 (local.get 0)))
          (func (export "load64-far") (param i64) (result i32) (i32.load8_u $m64 offset=0xffffffff (local.get 0)))
          (func (export "store64") (param i64 i64) (i64.store $m64 (local.get 0) (local.get 1)))
          (func (export "sizes") (result i64)
            (i64.add (i64.extend_i32_u (i32.add (memory.size $m0) (i32.mul (memory.size $m1) (i32.const 10))))
                     (i64.mul (memory.size $m64) (i64.const 100))))
          (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
          (func (export "grow64") (param i64) (result i64) (memory.grow $m64 (local.get 0)))
          ;; memory 64 <- memory 1: the length is i32 (one of them is 32-bit).
          (func (export "copy") (param i64 i32 i32) (memory.copy $m64 $m1 (local.get 0) (local.get 1) (local.get 2)))
          (func (export "fill64") (param i64 i32 i64) (memory.fill $m64 (local.get 0) (local.get 1) (local.get 2)))
          (func (export "vector") (param i64) (result i32) (i32x4.extract_lane 0 (v128.load $m64 (local.get 0))))
          ;; Constant addresses (the compilers fold them).
          (func (export "constNear") (result i32) (i32.load $m1 (i32.const 16)))
          (func (export "constFar") (result i64) (i64.load $m64 (i64.const 0x100000000)))
          (func (export "constWrap") (result i32) (i32.load8_u $m64 offset=0xffffffff (i64.const 1)))
          ;; Stores to memory 1 followed by adds: the pair the interpreter fuses for memory 0.
          (func (export "fillLoop") (param i32) (result i32) (local i32)
            (loop $l
              (i32.store $m1 (local.get 1) (local.get 1))
              (local.set 1 (i32.add (local.get 1) (i32.const 4)))
              (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
            (i32.load $m1 (i32.sub (local.get 0) (i32.const 4))))
          ;; Redundant-load elimination must not forward a store on one memory to a load of
          ;; the same address on another (nor reuse a load across memories).
          (func (export "alias") (param i32) (result i32)
            (i32.store $m1 (local.get 0) (i32.const 5))
            (i32.add (i32.load (local.get 0))
                     (i32.mul (i32.load $m1 (local.get 0)) (i32.const 100))))
        )
        """

    func instance(_ tier: Tier) throws -> Instance {
        var c = EngineConfiguration()
        c.tier = tier
        if tier == .tiered {
            c.tierUpThreshold = 1
            c.optimizeThreshold = 1
        }
        let engine = Engine(configuration: c)
        return try Store(engine: engine).instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.wat)), imports: [])
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing, .tiered])
    func memoriesAreSeparate(tier: Tier) throws {
        let i = try instance(tier)
        func call(_ name: String, _ args: [Value] = []) throws -> [Value] { try i.function(name)!.call(args) }
        for _ in 0..<3 {  // tiered mode: the later rounds run whatever the tier-ups produced
            #expect(try call("load1", [.i32(16)]) == [.i32(0x0403_0201)])
            #expect(try call("load0", [.i32(16)]) == [.i32(0)])
            #expect(try call("load64", [.i64(24)]) == [.i64(0x0807_0605)])
            _ = try call("store0", [.i32(100), .i32(7)])
            #expect(try call("load1", [.i32(100)]) == [.i32(0)])
            #expect(try call("load0", [.i32(100)]) == [.i32(7)])
            #expect(try call("vector", [.i64(32)]) == [.i32(0x0807_0605)])
        }
        _ = try call("store0", [.i32(200), .i32(7)])
        #expect(try call("alias", [.i32(200)]) == [.i32(507)])
        for _ in 0..<3 {
            #expect(try call("fillLoop", [.i32(4096)]) == [.i32(4092)])
            #expect(try call("load1", [.i32(100)]) == [.i32(100)])
            #expect(try call("load0", [.i32(4092)]) == [.i32(0)])
        }
        #expect(i.memories.count == 3)
        #expect(i.memories[2].type.is64 && !i.memories[1].type.is64)
        #expect(i.memory("m64")?.pages == 1)
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func sixtyFourBitAddressesAreCheckedWithoutWrapping(tier: Tier) throws {
        let i = try instance(tier)
        func trap(_ name: String, _ args: [Value]) -> Trap? { thrownError { _ = try i.function(name)!.call(args) } as? Trap }
        // The last 8 bytes of the one page: in bounds; one byte further: out.
        #expect(try i.function("load64")!.call([.i64(65536 - 16)]) == [.i64(0)])
        #expect(trap("load64", [.i64(65536 - 15)])?.kind == .memoryOutOfBounds)
        // Addresses of 2^32 and more, and sums that would wrap around 2^64 to a small address.
        #expect(trap("load64", [.i64(1 << 32)])?.kind == .memoryOutOfBounds)
        #expect(trap("load64", [.i64(-8)])?.kind == .memoryOutOfBounds)   // -8 + offset 8 = 2^64
        #expect(trap("load64", [.i64(-1)])?.kind == .memoryOutOfBounds)
        #expect(trap("load64-far", [.i64(1)])?.kind == .memoryOutOfBounds)  // 2^32 exactly
        #expect(trap("store64", [.i64(-4), .i64(1)])?.kind == .memoryOutOfBounds)
        #expect(trap("vector", [.i64(65536 - 15)])?.kind == .memoryOutOfBounds)
        #expect(try i.function("constNear")!.call([]) == [.i32(0x0403_0201)])
        #expect(trap("constFar", [])?.kind == .memoryOutOfBounds)
        #expect(trap("constWrap", [])?.kind == .memoryOutOfBounds)
        // The trap names the function and the instruction.
        let t = try #require(trap("load64", [.i64(1 << 40)]))
        #expect(t.backtrace.first?.functionIndex == 3 && t.backtrace.first?.offset != nil)
        // Bulk operations take 64-bit operands and check them the same way.
        #expect(trap("fill64", [.i64(-1), .i32(1), .i64(2)])?.kind == .memoryOutOfBounds)
        #expect(trap("fill64", [.i64(0), .i32(1), .i64(1 << 33)])?.kind == .memoryOutOfBounds)
        _ = try i.function("fill64")!.call([.i64(40), .i32(0xAB), .i64(4)])
        #expect(try i.function("load64")!.call([.i64(32)]) == [.i64(0xABAB_ABAB)])
        _ = try i.function("copy")!.call([.i64(48), .i32(16), .i32(4)])
        #expect(try i.function("load64")!.call([.i64(40)]) == [.i64(0x0403_0201)])
        #expect(trap("copy", [.i64(65535), .i32(16), .i32(2)])?.kind == .memoryOutOfBounds)
    }

    /// A 64-bit memory's static offsets of 2^32 and more are out of bounds from any address, and
    /// an address plus such an offset must not wrap around 2^64 to a small one. The text
    /// parser takes offsets below 2^32 only, so the module is written in binary: a 64-bit
    /// memory of one page and `load8` (i32.load8_u), `store` (i64.store of 1) and `vector`
    /// (v128.load, lane 0), each at static offset `offset` from its i64 parameter.
    static func farOffsetModule(offset: UInt64) -> [UInt8] {
        func function(_ code: [UInt8]) -> [UInt8] { leb128(UInt64(code.count + 2)) + [0] + code + [0x0B] }
        let o = leb128(offset)
        let bodies = [
            [0x20, 0, 0x2D, 0] + o,                                   // i32.load8_u
            [0x20, 0, 0x42, 1, 0x37, 3] + o,                          // i64.store
            [0x20, 0, 0xFD, 0, 4] + o + [0xFD, 0x1B, 0],              // v128.load; i32x4.extract_lane 0
        ].map(function)
        func export(_ name: String, _ index: UInt8) -> [UInt8] { [UInt8(name.utf8.count)] + Array(name.utf8) + [0, index] }
        return binaryModule([
            (1, [2, 0x60, 1, 0x7E, 1, 0x7F, 0x60, 1, 0x7E, 0]),
            (3, [3, 0, 1, 0]),
            (5, [1, 0x04, 1]),
            (7, [3] + export("load8", 0) + export("store", 1) + export("vector", 2)),
            (10, [3] + bodies.flatMap { $0 }),
        ])
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func farStaticOffsets(tier: Tier) throws {
        var c = EngineConfiguration()
        c.tier = tier
        let engine = Engine(configuration: c)
        for offset: UInt64 in [0x1_0000_0000, 0x1_0000_0001, 0xFFFF_FFFF_FFFF_FFF8, UInt64.max] {
            let i = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: Self.farOffsetModule(offset: offset)), imports: [])
            for address: Int64 in [0, 1, 8, 16, -1] {
                for name in ["load8", "store", "vector"] {
                    let t = thrownError { _ = try i.function(name)!.call([.i64(address)]) } as? Trap
                    #expect(t?.kind == .memoryOutOfBounds, "\(name) at \(address) + \(offset)")
                }
            }
        }
        // The same module with a small offset runs: the module is right, only the offsets trap.
        let i = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: Self.farOffsetModule(offset: 8)), imports: [])
        _ = try i.function("store")!.call([.i64(0)])
        #expect(try i.function("load8")!.call([.i64(0)]) == [.i32(1)])
        #expect(try i.function("vector")!.call([.i64(-8 + 8)]) == [.i32(1)])
    }

    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func sizesAndGrowth(tier: Tier) throws {
        let i = try instance(tier)
        #expect(try i.function("sizes")!.call([]) == [.i64(1 + 20 + 100)])
        #expect(try i.function("grow1")!.call([.i32(1)]) == [.i32(2)])
        #expect(try i.function("grow1")!.call([.i32(1)]) == [.i32(-1)])  // max 3
        #expect(try i.function("grow64")!.call([.i64(3)]) == [.i64(1)])
        // -1 of the memory's address type; a delta that would wrap the page count fails too.
        #expect(try i.function("grow64")!.call([.i64(1)]) == [.i64(-1)])
        #expect(try i.function("grow64")!.call([.i64(-1)]) == [.i64(-1)])
        #expect(try i.function("sizes")!.call([]) == [.i64(1 + 30 + 400)])
        #expect(try i.function("load64")!.call([.i64(4 * 65536 - 16)]) == [.i64(0)])
    }

    @Test func whichTierCompilesWhat() throws {
        // Both compiled tiers compile accesses to every memory (SIMD ones too).
        let baseline = try instance(.baseline).module
        #expect(baseline.currentTier(function: 0) == .baseline)
        #expect(baseline.currentTier(function: 2) == .baseline)
        #expect(baseline.currentTier(function: 3) == .baseline)
        #expect(baseline.currentTier(function: 11) == .baseline)  // "vector"
        let optimizing = try instance(.optimizing).module
        #expect(optimizing.currentTier(function: 0) == .optimizing)
        #expect(optimizing.currentTier(function: 2) == .optimizing)
        #expect(optimizing.currentTier(function: 3) == .optimizing)
        #expect(optimizing.currentTier(function: 10) == .optimizing)  // "fill64": a builtin
        #expect(optimizing.currentTier(function: 11) == .optimizing)  // "vector"
    }

    /// A 64-bit memory 0 (what a wasm64 toolchain emits): compiled code keeps its base in the
    /// memory-0 register and checks the address's upper half.
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing])
    func sixtyFourBitMemoryZero(tier: Tier) throws {
        let wat = """
            (module
              (memory i64 1)
              (data (i64.const 8) "\\2a")
              (func (export "get") (param i64) (result i32) (i32.load8_u offset=4 (local.get 0)))
              (func (export "getFar") (param i64) (result i32) (i32.load8_u offset=0xffffffff (local.get 0)))
              (func (export "getConst") (result i32) (i32.load8_u (i64.const 8)))
              (func (export "getConstFar") (result i32) (i32.load8_u (i64.const 0x100000008)))
              (func (export "set") (param i64 i32) (i32.store8 (local.get 0) (local.get 1))))
            """
        var c = EngineConfiguration()
        c.tier = tier
        let engine = Engine(configuration: c)
        let i = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: try wat2wasm(wat)), imports: [])
        func trap(_ name: String, _ args: [Value]) -> Trap? { thrownError { _ = try i.function(name)!.call(args) } as? Trap }
        #expect(try i.function("get")!.call([.i64(4)]) == [.i32(42)])
        #expect(try i.function("getConst")!.call([]) == [.i32(42)])
        #expect(trap("getConstFar", [])?.kind == .memoryOutOfBounds)
        #expect(trap("get", [.i64(0x1_0000_0004)])?.kind == .memoryOutOfBounds)  // not byte 8
        #expect(trap("get", [.i64(-4)])?.kind == .memoryOutOfBounds)             // no wrap to 0
        #expect(trap("getFar", [.i64(1)])?.kind == .memoryOutOfBounds)
        #expect(trap("set", [.i64(65536), .i32(1)])?.kind == .memoryOutOfBounds)
        _ = try i.function("set")!.call([.i64(65535), .i32(7)])
        #expect(try i.function("get")!.call([.i64(65531)]) == [.i32(7)])
        if tier != .interpreter { #expect(i.module.currentTier(function: 0) == tier) }
    }

    /// The optimizing tier checks a 64-bit address of memory 0 once per block: later accesses
    /// through the same value, or through it plus a constant below 2^31, rely on the guard
    /// region. Every access past the memory still traps, however the address was formed.
    @Test(arguments: [Tier.baseline, .optimizing])
    func sixtyFourBitChecksAreShared(tier: Tier) throws {
        let wat = """
            (module
              (memory i64 1)
              ;; p, p + 8, p + 16 loaded, p stored: one address check in the optimizing tier.
              (func (export "walk") (param $p i64) (result i64)
                (i64.store (local.get $p)
                  (i64.add (i64.add (i64.load (local.get $p)) (i64.load (i64.add (local.get $p) (i64.const 8))))
                           (i64.load offset=16 (local.get $p))))
                (i64.load (local.get $p)))
              ;; The constant step past 2^31 needs its own check.
              (func (export "far") (param $p i64) (result i64)
                (i64.add (i64.load (local.get $p)) (i64.load (i64.add (local.get $p) (i64.const 0x80000000))))))
            """
        var c = EngineConfiguration()
        c.tier = tier
        c.keepMachineCode = true
        let engine = Engine(configuration: c)
        let i = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: try wat2wasm(wat)), imports: [])
        func trap(_ name: String, _ p: Int64) -> TrapKind? { (thrownError { _ = try i.function(name)!.call([.i64(p)]) } as? Trap)?.kind }
        let mem = try #require(i.memories.first)
        var words = [UInt8](repeating: 0, count: 24)
        words[0] = 1; words[8] = 2; words[16] = 3  // 1, 2, 3 as i64s
        #expect(mem.write(offset: 100, bytes: words))
        #expect(try i.function("walk")!.call([.i64(100)]) == [.i64(6)])
        for p: Int64 in [65536 - 24 + 1, 65536 - 16, 65536 - 8, 65536, 0xFFFF_FFF8, 0x1_0000_0000, -8, Int64.max] {
            #expect(trap("walk", p) == .memoryOutOfBounds, "p = \(p)")
        }
        #expect(trap("far", 0) == .memoryOutOfBounds)
        #expect(trap("far", 65528) == .memoryOutOfBounds)
        if tier == .optimizing {
            // One `shr r, 32` check in "walk", two in "far".
            let shr: [UInt8] = [0x49, 0xC1, 0xEB, 0x20]  // shr r11, 32
            func checks(_ f: Int) throws -> Int {
                let code = try #require(i.module.machineCode(function: f))
                return (0..<(code.count - 3)).filter { Array(code[$0..<($0 + 4)]) == shr }.count
            }
            #expect(try checks(0) == 1)
            #expect(try checks(1) == 2)
        }
    }

    @Test func featureSwitchesAndImports() throws {
        let two = try wat2wasm("(module (memory 1) (memory 1))")
        #expect(creationError(two) == nil)
        let e = try #require(creationError(two, features: .wasm2))
        #expect(e.kind == .invalid && e.message == "multiple memories")
        let wide = try wat2wasm("(module (memory i64 1))")
        let w = try #require(creationError(wide, features: .wasm2))
        #expect(w.kind == .malformed)

        // An import matches only a memory of the same index type.
        let engine = Engine()
        let store = Store(engine: engine)
        let importer = try Module(engine: engine, bytes: try wat2wasm("(module (import \"m\" \"mem\" (memory i64 1)))"))
        let narrow = try Memory(type: MemoryType(limits: Limits(min: 1, max: nil)))
        let u = try #require(thrownError { _ = try store.instantiate(importer, imports: [.memory(narrow)]) } as? WasmError)
        #expect(u.kind == .unlinkable)
        let wideMemory = try Memory(type: MemoryType(limits: Limits(min: 1, max: nil), is64: true))
        _ = try store.instantiate(importer, imports: [.memory(wideMemory)])
        // A 64-bit memory larger than Strata's 4 GiB limit cannot be created.
        let huge = try wat2wasm("(module (memory i64 0x10001))")
        let h = try #require(thrownError { _ = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: huge), imports: []) } as? WasmError)
        #expect(h.kind == .uninstantiable)
    }

    /// 64-bit tables (table64): i64 indices, sizes and lengths (saturated to 32 bits by the
    /// interpreter and the builtins, compared whole by compiled code); an index of 2^32 + 1
    /// must not reach element 1.
    @Test(arguments: [Tier.interpreter, .baseline, .optimizing, .tiered])
    func sixtyFourBitTables(tier: Tier) throws {
        let wat = """
            (module
              (type $f (func (result i32)))
              (table $t i64 4 10 funcref)
              (elem (table $t) (i64.const 1) func $a $b)
              (func $a (result i32) (i32.const 10))
              (func $b (result i32) (i32.const 20))
              (func (export "call") (param i64) (result i32) (call_indirect $t (type $f) (local.get 0)))
              (func (export "size") (result i64) (table.size $t))
              (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
              (func (export "isnull") (param i64) (result i32) (ref.is_null (table.get $t (local.get 0))))
              (func (export "fill") (param i64 i64) (table.fill $t (local.get 0) (ref.func $a) (local.get 1))))
            """
        var c = EngineConfiguration()
        c.tier = tier
        c.tierUpThreshold = 1
        c.optimizeThreshold = 1
        let engine = Engine(configuration: c)
        let i = try Store(engine: engine).instantiate(try Module(engine: engine, bytes: try wat2wasm(wat)), imports: [])
        func call(_ name: String, _ args: [Value]) throws -> [Value] { try i.function(name)!.call(args) }
        func trap(_ name: String, _ args: [Value]) -> Trap? { thrownError { _ = try i.function(name)!.call(args) } as? Trap }
        for _ in 0..<2 {
            #expect(try call("call", [.i64(1)]) == [.i32(10)])
            #expect(try call("call", [.i64(2)]) == [.i32(20)])
            #expect(trap("call", [.i64(0)])?.message == "uninitialized element")
            #expect(trap("call", [.i64((1 << 32) + 1)])?.message == "undefined element")
            #expect(trap("call", [.i64(-1)])?.message == "undefined element")
            #expect(trap("isnull", [.i64(1 << 32)])?.kind == .tableOutOfBounds)
            #expect(try call("isnull", [.i64(3)]) == [.i32(1)])
        }
        #expect(try call("size", []) == [.i64(4)])
        #expect(try call("grow", [.i64(1 << 32)]) == [.i64(-1)])
        #expect(try call("grow", [.i64(1)]) == [.i64(4)])
        #expect(try call("grow", [.i64(100)]) == [.i64(-1)])
        #expect(try call("size", []) == [.i64(5)])
        #expect(trap("fill", [.i64(1 << 32), .i64(0)])?.kind == .tableOutOfBounds)
        #expect(trap("fill", [.i64(0), .i64((1 << 32) + 1)])?.kind == .tableOutOfBounds)
        _ = try call("fill", [.i64(3), .i64(2)])
        #expect(try call("call", [.i64(4)]) == [.i32(10)])
        if tier == .baseline || tier == .optimizing {
            #expect(i.module.currentTier(function: 2) == tier)
        }
    }
}
