/// One decoded, validated instruction, as the function validator hands it to a code sink
/// (the interpreter's translator now; the JIT tiers later). Payloads are plain values: no
/// allocation per instruction. `br_table` targets are read from `FunctionValidator.brTableTargets`.
enum Instruction {
    case unreachable
    case nop
    case block(params: Int, results: Int)
    case loop(params: Int, results: Int)
    case `if`(params: Int, results: Int)
    case `else`
    case end
    case br(depth: Int)
    case brIf(depth: Int)
    case brTable
    case `return`
    case call(function: UInt32)
    case callIndirect(typeIndex: UInt32, table: UInt32)
    /// Tail calls (`return_call`, `return_call_indirect`).
    case returnCall(function: UInt32)
    case returnCallIndirect(typeIndex: UInt32, table: UInt32)
    /// Typed function references: calls through a function reference (null traps).
    case callRef(typeIndex: UInt32)
    case returnCallRef(typeIndex: UInt32)
    /// `ref.as_non_null` (traps on null), `br_on_null`, `br_on_non_null`.
    case refAsNonNull
    case brOnNull(depth: Int)
    case brOnNonNull(depth: Int)
    /// Exception handling. `try_table`'s catch clauses are read from
    /// `FunctionValidator.catchClauses`; it is a block otherwise (ended by `end`).
    case tryTable(params: Int, results: Int)
    case `throw`(tag: UInt32)
    case throwRef
    case drop
    case select
    case localGet(UInt32)
    case localSet(UInt32)
    case localTee(UInt32)
    case globalGet(UInt32)
    case globalSet(UInt32)
    case tableGet(UInt32)
    case tableSet(UInt32)
    /// opcode: 0x28...0x35. `memory`: the memory index (multi-memory; 0 in Wasm 2.0).
    case load(opcode: UInt8, offset: UInt64, memory: UInt32)
    /// opcode: 0x36...0x3E
    case store(opcode: UInt8, offset: UInt64, memory: UInt32)
    case memorySize(UInt32)
    case memoryGrow(UInt32)
    case const(ValueType, UInt64)
    /// Plain numeric instruction: opcode 0x45...0xC4, or 0xFC00 | n for the saturating truncations.
    case numeric(opcode: UInt16)
    case refNull(ValueType)
    case refIsNull
    case refFunc(UInt32)
    case memoryInit(segment: UInt32, memory: UInt32)
    case dataDrop(UInt32)
    case memoryCopy(destination: UInt32, source: UInt32)
    case memoryFill(UInt32)
    case tableInit(element: UInt32, table: UInt32)
    case elemDrop(UInt32)
    case tableCopy(destination: UInt32, source: UInt32)
    case tableGrow(UInt32)
    case tableSize(UInt32)
    case tableFill(UInt32)
    /// A fixed-width SIMD instruction (0xFD prefix); `immediate` holds a lane index, a memory
    /// offset or the index of the 16 constant bytes in `FunctionValidator.v128Immediate`;
    /// `memory`: the memory index of a load or store.
    case simd(opcode: UInt32, offset: UInt64, lane: UInt8, memory: UInt32)
}

/// The signature of a plain numeric instruction, for validation and for every tier.
struct NumericSignature {
    var operands: (ValueType, ValueType?)
    var result: ValueType

    @inline(__always) static func of(_ opcode: UInt16) -> NumericSignature? {
        func un(_ a: ValueType, _ r: ValueType) -> NumericSignature { NumericSignature(operands: (a, nil), result: r) }
        func bin(_ a: ValueType, _ r: ValueType) -> NumericSignature { NumericSignature(operands: (a, a), result: r) }
        switch opcode {
        case 0x45: return un(.i32, .i32)
        case 0x46...0x4F: return bin(.i32, .i32)
        case 0x50: return un(.i64, .i32)
        case 0x51...0x5A: return bin(.i64, .i32)
        case 0x5B...0x60: return bin(.f32, .i32)
        case 0x61...0x66: return bin(.f64, .i32)
        case 0x67...0x69: return un(.i32, .i32)
        case 0x6A...0x78: return bin(.i32, .i32)
        case 0x79...0x7B: return un(.i64, .i64)
        case 0x7C...0x8A: return bin(.i64, .i64)
        case 0x8B...0x91: return un(.f32, .f32)
        case 0x92...0x98: return bin(.f32, .f32)
        case 0x99...0x9F: return un(.f64, .f64)
        case 0xA0...0xA6: return bin(.f64, .f64)
        case 0xA7: return un(.i64, .i32)
        case 0xA8, 0xA9: return un(.f32, .i32)
        case 0xAA, 0xAB: return un(.f64, .i32)
        case 0xAC, 0xAD: return un(.i32, .i64)
        case 0xAE, 0xAF: return un(.f32, .i64)
        case 0xB0, 0xB1: return un(.f64, .i64)
        case 0xB2, 0xB3: return un(.i32, .f32)
        case 0xB4, 0xB5: return un(.i64, .f32)
        case 0xB6: return un(.f64, .f32)
        case 0xB7, 0xB8: return un(.i32, .f64)
        case 0xB9, 0xBA: return un(.i64, .f64)
        case 0xBB: return un(.f32, .f64)
        case 0xBC: return un(.f32, .i32)
        case 0xBD: return un(.f64, .i64)
        case 0xBE: return un(.i32, .f32)
        case 0xBF: return un(.i64, .f64)
        case 0xC0, 0xC1: return un(.i32, .i32)
        case 0xC2...0xC4: return un(.i64, .i64)
        case 0xFC00, 0xFC01: return un(.f32, .i32)
        case 0xFC02, 0xFC03: return un(.f64, .i32)
        case 0xFC04, 0xFC05: return un(.f32, .i64)
        case 0xFC06, 0xFC07: return un(.f64, .i64)
        default: return nil
        }
    }
}

/// Memory access shape of loads and stores: value type, byte width, natural alignment (log2).
struct MemoryAccess {
    var type: ValueType
    var width: Int
    var naturalAlignment: UInt32

    static func load(_ opcode: UInt8) -> MemoryAccess {
        switch opcode {
        case 0x28: MemoryAccess(type: .i32, width: 4, naturalAlignment: 2)
        case 0x29: MemoryAccess(type: .i64, width: 8, naturalAlignment: 3)
        case 0x2A: MemoryAccess(type: .f32, width: 4, naturalAlignment: 2)
        case 0x2B: MemoryAccess(type: .f64, width: 8, naturalAlignment: 3)
        case 0x2C, 0x2D: MemoryAccess(type: .i32, width: 1, naturalAlignment: 0)
        case 0x2E, 0x2F: MemoryAccess(type: .i32, width: 2, naturalAlignment: 1)
        case 0x30, 0x31: MemoryAccess(type: .i64, width: 1, naturalAlignment: 0)
        case 0x32, 0x33: MemoryAccess(type: .i64, width: 2, naturalAlignment: 1)
        default: MemoryAccess(type: .i64, width: 4, naturalAlignment: 2)  // 0x34, 0x35
        }
    }

    static func store(_ opcode: UInt8) -> MemoryAccess {
        switch opcode {
        case 0x36: MemoryAccess(type: .i32, width: 4, naturalAlignment: 2)
        case 0x37: MemoryAccess(type: .i64, width: 8, naturalAlignment: 3)
        case 0x38: MemoryAccess(type: .f32, width: 4, naturalAlignment: 2)
        case 0x39: MemoryAccess(type: .f64, width: 8, naturalAlignment: 3)
        case 0x3A: MemoryAccess(type: .i32, width: 1, naturalAlignment: 0)
        case 0x3B: MemoryAccess(type: .i32, width: 2, naturalAlignment: 1)
        case 0x3C: MemoryAccess(type: .i64, width: 1, naturalAlignment: 0)
        case 0x3D: MemoryAccess(type: .i64, width: 2, naturalAlignment: 1)
        default: MemoryAccess(type: .i64, width: 4, naturalAlignment: 2)  // 0x3E
        }
    }
}
