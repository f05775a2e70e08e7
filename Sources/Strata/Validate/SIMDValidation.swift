/// Decoding and validation of the fixed-width SIMD instructions (0xFD prefix).
/// Tiers that cannot run them reject the module
/// at translation time with a clear error.
extension FunctionValidator {
    enum SIMDShape {
        case unary, binary, ternary, test, shift
        case splat(ValueType)
        case extract(ValueType, lanes: UInt8), replace(ValueType, lanes: UInt8)
        case load(align: UInt32), store
        case loadLane(align: UInt32, lanes: UInt8), storeLane(align: UInt32, lanes: UInt8)
        case const, shuffle
    }

    static func simdShape(_ op: UInt32) -> SIMDShape? {
        switch op {
        case 0x00: return .load(align: 4)
        case 0x01...0x06: return .load(align: 3)
        case 0x07: return .load(align: 0)
        case 0x08: return .load(align: 1)
        case 0x09: return .load(align: 2)
        case 0x0A: return .load(align: 3)
        case 0x0B: return .store
        case 0x0C: return .const
        case 0x0D: return .shuffle
        case 0x0E: return .binary
        case 0x0F, 0x10, 0x11: return .splat(.i32)
        case 0x12: return .splat(.i64)
        case 0x13: return .splat(.f32)
        case 0x14: return .splat(.f64)
        case 0x15, 0x16: return .extract(.i32, lanes: 16)
        case 0x17: return .replace(.i32, lanes: 16)
        case 0x18, 0x19: return .extract(.i32, lanes: 8)
        case 0x1A: return .replace(.i32, lanes: 8)
        case 0x1B: return .extract(.i32, lanes: 4)
        case 0x1C: return .replace(.i32, lanes: 4)
        case 0x1D: return .extract(.i64, lanes: 2)
        case 0x1E: return .replace(.i64, lanes: 2)
        case 0x1F: return .extract(.f32, lanes: 4)
        case 0x20: return .replace(.f32, lanes: 4)
        case 0x21: return .extract(.f64, lanes: 2)
        case 0x22: return .replace(.f64, lanes: 2)
        case 0x23...0x4C: return .binary
        case 0x4D: return .unary
        case 0x4E...0x51: return .binary
        case 0x52: return .ternary
        case 0x53: return .test
        case 0x54: return .loadLane(align: 0, lanes: 16)
        case 0x55: return .loadLane(align: 1, lanes: 8)
        case 0x56: return .loadLane(align: 2, lanes: 4)
        case 0x57: return .loadLane(align: 3, lanes: 2)
        case 0x58: return .storeLane(align: 0, lanes: 16)
        case 0x59: return .storeLane(align: 1, lanes: 8)
        case 0x5A: return .storeLane(align: 2, lanes: 4)
        case 0x5B: return .storeLane(align: 3, lanes: 2)
        case 0x5C: return .load(align: 2)
        case 0x5D: return .load(align: 3)
        case 0x5E, 0x5F, 0x60, 0x61, 0x62: return .unary
        case 0x63, 0x64: return .test
        case 0x65, 0x66: return .binary
        case 0x67...0x6A: return .unary
        case 0x6B...0x6D: return .shift
        case 0x6E...0x73: return .binary
        case 0x74, 0x75: return .unary
        case 0x76...0x79: return .binary
        case 0x7A: return .unary
        case 0x7B: return .binary
        case 0x7C...0x7F: return .unary
        case 0x80, 0x81: return .unary
        case 0x82: return .binary
        case 0x83, 0x84: return .test
        case 0x85, 0x86: return .binary
        case 0x87...0x8A: return .unary
        case 0x8B...0x8D: return .shift
        case 0x8E...0x93: return .binary
        case 0x94: return .unary
        case 0x95...0x99: return .binary
        case 0x9B...0x9F: return .binary
        case 0xA0, 0xA1: return .unary
        case 0xA3, 0xA4: return .test
        case 0xA7...0xAA: return .unary
        case 0xAB...0xAD: return .shift
        case 0xAE, 0xB1, 0xB5...0xBA, 0xBC...0xBF: return .binary
        case 0xC0, 0xC1: return .unary
        case 0xC3, 0xC4: return .test
        case 0xC7...0xCA: return .unary
        case 0xCB...0xCD: return .shift
        case 0xCE, 0xD1, 0xD5...0xDF: return .binary
        case 0xE0, 0xE1, 0xE3: return .unary
        case 0xE4...0xEB: return .binary
        case 0xEC, 0xED, 0xEF: return .unary
        case 0xF0...0xF7: return .binary
        case 0xF8...0xFF: return .unary
        // Relaxed SIMD (Wasm 3.0)
        case 0x100: return .binary                 // i8x16.relaxed_swizzle
        case 0x101...0x104: return .unary          // relaxed truncations
        case 0x105...0x10C: return .ternary        // relaxed madd/nmadd, laneselect
        case 0x10D...0x112: return .binary         // relaxed min/max, q15mulr, dot
        case 0x113: return .ternary                // i32x4.relaxed_dot_i8x16_i7x16_add_s
        default: return nil
        }
    }

    mutating func simd(at offset: Int) throws(WasmError) -> Instruction {
        let op = try reader.readU32()
        guard let shape = Self.simdShape(op) else { throw reader.error("illegal opcode", at: offset) }
        var memOffset: UInt64 = 0
        var memory: UInt32 = 0
        var lane: UInt8 = 0
        func readLane(_ r: inout BinaryReader, _ lanes: UInt8) throws(WasmError) -> UInt8 {
            let l = try r.readByte()
            guard l < lanes else { throw WasmError(.invalid, "invalid lane index", offset: offset) }
            return l
        }
        switch shape {
        case .unary:
            try pop(.v128, at: offset); push(.v128)
        case .binary:
            try pop(.v128, at: offset); try pop(.v128, at: offset); push(.v128)
        case .ternary:
            try pop(.v128, at: offset); try pop(.v128, at: offset); try pop(.v128, at: offset); push(.v128)
        case .test:
            try pop(.v128, at: offset); push(.i32)
        case .shift:
            try pop(.i32, at: offset); try pop(.v128, at: offset); push(.v128)
        case .splat(let t):
            try pop(t, at: offset); push(.v128)
        case .extract(let t, let lanes):
            lane = try readLane(&reader, lanes)
            try pop(.v128, at: offset); push(t)
        case .replace(let t, let lanes):
            lane = try readLane(&reader, lanes)
            try pop(t, at: offset); try pop(.v128, at: offset); push(.v128)
        case .load(let align):
            let arg = try memArg(maxAlignment: align, at: offset)
            (memory, memOffset) = (arg.memory, arg.offset)
            try pop(arg.type.addressType, at: offset); push(.v128)
        case .store:
            let arg = try memArg(maxAlignment: 4, at: offset)
            (memory, memOffset) = (arg.memory, arg.offset)
            try pop(.v128, at: offset); try pop(arg.type.addressType, at: offset)
        case .loadLane(let align, let lanes):
            let arg = try memArg(maxAlignment: align, at: offset)
            (memory, memOffset) = (arg.memory, arg.offset)
            lane = try readLane(&reader, lanes)
            try pop(.v128, at: offset); try pop(arg.type.addressType, at: offset); push(.v128)
        case .storeLane(let align, let lanes):
            let arg = try memArg(maxAlignment: align, at: offset)
            (memory, memOffset) = (arg.memory, arg.offset)
            lane = try readLane(&reader, lanes)
            try pop(.v128, at: offset); try pop(arg.type.addressType, at: offset)
        case .const:
            setV128Immediate(lo: try reader.readF64Bits(), hi: try reader.readF64Bits())
            push(.v128)
        case .shuffle:
            let bytes = try reader.readBytes(16)
            for b in bytes where b >= 32 { throw invalid("invalid lane index", at: offset) }
            var lo: UInt64 = 0, hi: UInt64 = 0
            for i in 0..<8 { lo |= UInt64(bytes[i]) << UInt64(8 * i); hi |= UInt64(bytes[8 + i]) << UInt64(8 * i) }
            setV128Immediate(lo: lo, hi: hi)
            try pop(.v128, at: offset); try pop(.v128, at: offset); push(.v128)
        }
        return .simd(opcode: op, offset: memOffset, lane: lane, memory: memory)
    }
}
