import Testing
import WAT
@testable import Strata

@Suite struct ValidationTests {
    func error(_ bytes: [UInt8]) -> WasmError? {
        thrownError { _ = try Module(engine: Engine(), bytes: bytes) } as? WasmError
    }

    /// One function of type () -> () with `code` as its body (without the final end).
    func function(_ code: [UInt8], locals: [UInt8] = [0]) -> [UInt8] {
        let body = locals + code + [0x0B]
        return binaryModule([(1, [1, 0x60, 0, 0]), (3, [1, 0]), (10, [1, UInt8(body.count)] + body)])
    }

    @Test func invalidFunctionIsRejectedEvenIfNeverCalled() throws {
        let e = try #require(thrownError {
            _ = try module("""
                (module (func (export "ok") (result i32) (i32.const 1))
                        (func $never (result i32) (i64.const 1)))
                """)
        } as? WasmError)
        #expect(e.kind == .invalid)
        #expect(e.message == "type mismatch")
        #expect(e.offset != nil)
    }

    /// Extended constant expressions: add/sub/mul trees and `global.get` of earlier defined
    /// globals, evaluated with wrapping arithmetic in globals and data offsets; with
    /// the feature off, Wasm 2.0's errors.
    @Test func extendedConstantExpressions() throws {
        // global 0: i32 = 10; global 1: i32 = (global.get 0) * 3 - 2 = 28;
        // global 2: i64 = 0x7fff_ffff_ffff_ffff + 2 (wraps); data at (global.get 1) + 4 = 32.
        let g0: [UInt8] = [0x7F, 0x00, 0x41, 10, 0x0B]
        let g1: [UInt8] = [0x7F, 0x00, 0x23, 0, 0x41, 3, 0x6C, 0x41, 2, 0x6B, 0x0B]
        let g2: [UInt8] = [0x7E, 0x00, 0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x42, 2, 0x7C, 0x0B]
        let exports: [UInt8] = [3, 1, 0x67, 0x03, 1, 1, 0x68, 0x03, 2, 1, 0x6D, 0x02, 0]  // "g" global 1, "h" global 2, "m" memory
        let data: [UInt8] = [1, 0x00, 0x23, 1, 0x41, 4, 0x6A, 0x0B, 1, 0x2A]
        let bytes = binaryModule([(5, [1, 0, 1]), (6, [3] + g0 + g1 + g2), (7, exports), (11, data)])
        let instance = try Store(engine: Engine()).instantiate(try Module(engine: Engine(), bytes: bytes))
        #expect(instance.global("g")?.value == .i32(28))
        #expect(instance.global("h")?.value == .i64(Int64.min + 1))
        #expect(instance.memory("m")?.read(offset: 31, count: 3) == [0, 0x2A, 0])

        var c = EngineConfiguration()
        c.features = .wasm2
        let wasm2 = Engine(configuration: c)
        func error2(_ b: [UInt8]) -> WasmError? { thrownError { _ = try Module(engine: wasm2, bytes: b) } as? WasmError }
        // An arithmetic instruction, and a defined global, in Wasm 2.0.
        #expect(error2(binaryModule([(6, [1, 0x7F, 0x00, 0x41, 1, 0x41, 2, 0x6A, 0x0B])]))?.message == "constant expression required")
        #expect(error2(binaryModule([(6, [2] + g0 + [0x7F, 0x00, 0x23, 0, 0x0B])]))?.message == "unknown global 0")
        // Operand types, a global not yet defined, a mutable one, a missing operand.
        #expect(error(binaryModule([(6, [1, 0x7F, 0x00, 0x42, 1, 0x41, 2, 0x6A, 0x0B])]))?.message == "type mismatch")
        #expect(error(binaryModule([(6, [2, 0x7F, 0x00, 0x23, 1, 0x0B] + g0)]))?.message == "unknown global 1")
        #expect(error(binaryModule([(6, [2, 0x7F, 0x01, 0x41, 0, 0x0B, 0x7F, 0x00, 0x23, 0, 0x0B])]))?.message == "constant expression required")
        #expect(error(binaryModule([(6, [1, 0x7F, 0x00, 0x41, 1, 0x6A, 0x0B])]))?.message == "type mismatch")
    }

    @Test func outOfRangeIndicesInBinaryForm() {
        #expect(error(function([0x10, 0x05]))?.message == "unknown function 5")          // call 5
        #expect(error(function([0x20, 0x03, 0x1A]))?.message == "unknown local 3")       // local.get 3
        #expect(error(function([0x23, 0x00, 0x1A]))?.message == "unknown global 0")      // global.get 0
        #expect(error(function([0x41, 0, 0x28, 2, 0, 0x1A]))?.message == "unknown memory 0")
        #expect(error(function([0x0C, 0x01]))?.message == "unknown label")               // br 1
        #expect(error(function([0x41, 0, 0x41, 0, 0x11, 0x07, 0x00]))?.message == "unknown table 0")
        #expect(error(function([0xFC, 0x09, 0x00]))?.message == "data count section required")
    }

    @Test func malformedInputsFailCleanly() {
        #expect(error([])?.kind == .malformed)
        #expect(error([0, 0x61, 0x73])?.message == "unexpected end")
        #expect(error([0, 0x61, 0x73, 0x6D, 2, 0, 0, 0])?.message == "unknown binary version")
        // A huge count with nothing behind it must not allocate or hang.
        #expect(error(binaryModule([(1, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])]))?.kind == .malformed)
        #expect(error(function([0xFF]))?.message == "illegal opcode")
        // Sizes that pass the length rule (counted from before the size field) but reach past
        // the input: a custom section, and a function body. These crashed before the fix.
        let header: [UInt8] = [0, 0x61, 0x73, 0x6D, 1, 0, 0, 0]
        #expect(error(header + [0x00, 0x85, 0x80, 0x80, 0x80, 0x00])?.kind == .malformed)
        #expect(error(header + [1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 7, 1, 0x85, 0x80, 0x80, 0x80, 0x00])?.kind == .malformed)
        // Too many locals.
        #expect(error(function([], locals: [1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F]))?.message == "too many locals")
        // A global's constant expression without its `end` stops at its section's end (the
        // next section's id is not read as an instruction).
        let global: [UInt8] = [6, 5, 1, 0x7F, 0, 0x41, 0]
        #expect(error(header + [1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0] + global + [10, 4, 1, 2, 0, 0x0B])?.message
            == "unexpected end of section or function")
    }

    @Test func deepNestingIsBoundedByInput() throws {
        // 100 000 nested blocks: validated without recursion.
        let depth = 100_000
        let code: [UInt8] = Array(repeating: [UInt8(0x02), 0x40], count: depth).flatMap { $0 } + Array(repeating: UInt8(0x0B), count: depth)
        var body: [UInt8] = [0] + code + [0x0B]
        var size: [UInt8] = []
        var n = body.count
        repeat { var b = UInt8(n & 0x7F); n >>= 7; if n > 0 { b |= 0x80 }; size.append(b) } while n > 0
        body = size + body
        var section: [UInt8] = [1] + body
        var sectionSize: [UInt8] = []
        n = section.count
        repeat { var b = UInt8(n & 0x7F); n >>= 7; if n > 0 { b |= 0x80 }; sectionSize.append(b) } while n > 0
        section = [10] + sectionSize + section
        let bytes: [UInt8] = [0, 0x61, 0x73, 0x6D, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0] + section
        let m = try Module(engine: Engine(), bytes: bytes)
        let store = Store(engine: m.engine)
        #expect(try store.instantiate(m).exportNames.isEmpty)
    }

    /// Random corruption of a valid module never crashes the host: every input either loads
    /// or fails with a WasmError.
    @Test func mutatedModulesNeverCrash() throws {
        let valid = try wat2wasm("""
            (module (memory 1) (global $g (mut i32) (i32.const 0)) (table 2 funcref)
              (func $f (param i32) (result i32)
                (block (result i32) (loop (result i32)
                  (br_if 1 (i32.eqz (local.get 0)) (i32.const 7))
                  (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                  (global.set $g (i32.load (local.get 0)))
                  (br 0))))
              (elem (i32.const 0) $f) (export "f" (func $f)) (data (i32.const 0) "abc"))
            """)
        var rng = SystemRandomNumberGenerator()
        var loaded = 0
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 8..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count - 8, using: &rng)) }
            do {
                _ = try Module(engine: Engine(), bytes: bytes)
                loaded += 1
            } catch {
                // Module creation throws only `WasmError`: a clear error, never a crash.
            }
        }
        #expect(loaded < 3000)
    }

    @Test func simdIsValidated() throws {
        let invalid = thrownError { _ = try module("(module (func (result v128) (i32.const 0)))") } as? WasmError
        #expect(invalid?.kind == .invalid)
        // v128.const 0; i8x16.extract_lane_s 16; drop
        let code: [UInt8] = [0xFD, 0x0C] + Array(repeating: 0, count: 16) + [0xFD, 0x15, 16, 0x1A]
        #expect(error(function(code))?.message == "invalid lane index")
        #expect(error(function(code.enumerated().map { $0.offset == 20 ? 15 : $0.element })) == nil)
    }
}
