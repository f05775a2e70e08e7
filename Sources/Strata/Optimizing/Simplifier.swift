/// Constant folding and algebraic simplification of one instruction, used while the IR is
/// built and again by global value numbering (when operands have become constants or equal).
/// Results match the interpreter bit for bit: only integer operations, comparisons and exact
/// float operations (IEEE add, sub, mul, div, sqrt and sign operations) are folded; operations that may
/// trap never are.
enum Simplifier {
    enum Folded {
        /// The instruction equals an existing value.
        case value(IRValue)
        /// The instruction is a constant (`high`: a v128's upper half).
        case constant(UInt64, high: UInt64 = 0)
    }

    /// Folds `inst` in the builder: returns the value that replaces it (a new constant is
    /// appended to `block`), or nil to emit it.
    static func fold(_ inst: IRInst, in f: inout IRFunction, block: Int32) -> IRValue? {
        guard let r = simplify(inst, f) else { return nil }
        switch r {
        case .value(let v): return v
        case .constant(let bits, let high):
            if inst.op == .const { return nil }
            return f.append(IRInst(op: .const, type: inst.type, imm: bits, imm2: high), to: block)
        }
    }

    static func mask(_ t: IRType?) -> UInt64 { t == .i32 || t == .f32 ? 0xFFFF_FFFF : ~0 }

    static func simplify(_ inst: IRInst, _ f: IRFunction) -> Folded? {
        guard inst.op.isPure, inst.op != .const, inst.op != .refFunc else { return nil }
        let t = inst.type
        let ca = f.constant(inst.a), cb = f.constant(inst.b)
        switch inst.op {
        case .mulhiU:
            if let x = ca, let y = cb { return .constant(x.multipliedFullWidth(by: y).high) }
            if ca == 0 || cb == 0 { return .constant(0) }
            return nil
        case .select:
            if let c = f.constant(inst.c) { return .value((c & 0xFFFF_FFFF) != 0 ? inst.a : inst.b) }
            if inst.a == inst.b { return .value(inst.a) }
            return nil
        case .add, .sub, .mul, .and, .or, .xor, .shl, .shrS, .shrU, .rotl, .rotr:
            let is32 = t == .i32
            if let x = ca, let y = cb { return .constant(integer(inst.op, x, y, is32: is32)) }
            let m = mask(t)
            // x + c - c, x - c + c (strip mining's distance less one, inlined offsets): x.
            if let y = cb, inst.op == .add || inst.op == .sub, let inner = f.def(inst.a), inner.op == .add || inner.op == .sub,
               let z = f.constant(inner.b), ((inst.op == .add ? y : 0 &- y) &+ (inner.op == .add ? z : 0 &- z)) & m == 0 {
                return .value(inner.a)
            }
            if let y = cb {
                switch inst.op {
                case .add, .sub, .or, .xor, .shl, .shrS, .shrU, .rotl, .rotr:
                    let amount = (inst.op == .add || inst.op == .sub || inst.op == .or || inst.op == .xor) ? y & m : y & (is32 ? 31 : 63)
                    if amount == 0 { return .value(inst.a) }
                case .mul:
                    if y & m == 1 { return .value(inst.a) }
                    if y & m == 0 { return .constant(0) }
                case .and:
                    if y & m == m { return .value(inst.a) }
                    if y & m == 0 { return .constant(0) }
                default: break
                }
            }
            if let x = ca, inst.op.isCommutative {
                switch inst.op {
                case .add, .or, .xor: if x & m == 0 { return .value(inst.b) }
                case .mul:
                    if x & m == 1 { return .value(inst.b) }
                    if x & m == 0 { return .constant(0) }
                case .and:
                    if x & m == m { return .value(inst.b) }
                    if x & m == 0 { return .constant(0) }
                default: break
                }
            }
            if inst.a == inst.b {
                switch inst.op {
                case .sub, .xor: return .constant(0)
                case .and, .or: return .value(inst.a)
                default: break
                }
            }
            return nil
        case .eqz:
            if let x = ca { return .constant(x & mask(f.type(inst.a)) == 0 ? 1 : 0) }
            return nil
        case .cmp:
            let cond = IRCond(rawValue: UInt8(inst.imm))!
            let ot = f.type(inst.a)
            if ot.isFloat {
                if let x = ca, let y = cb { return .constant(floatCompare(cond, x, y, f32: ot == .f32) ? 1 : 0) }
                return nil
            }
            if let x = ca, let y = cb { return .constant(intCompare(cond, x, y, is32: ot == .i32) ? 1 : 0) }
            if inst.a == inst.b {
                switch cond {
                case .eq, .leS, .leU, .geS, .geU: return .constant(1)
                case .ne, .ltS, .ltU, .gtS, .gtU: return .constant(0)
                default: return nil
                }
            }
            return nil
        case .clz, .ctz, .popcnt, .extend8S, .extend16S, .extend32S, .wrap, .sext, .zext:
            guard let x = ca else { return nil }
            let is32 = t == .i32
            switch inst.op {
            case .clz: return .constant(UInt64(is32 ? UInt32(truncatingIfNeeded: x).leadingZeroBitCount : x.leadingZeroBitCount))
            case .ctz: return .constant(UInt64(is32 ? UInt32(truncatingIfNeeded: x).trailingZeroBitCount : x.trailingZeroBitCount))
            case .popcnt: return .constant(UInt64(is32 ? UInt32(truncatingIfNeeded: x).nonzeroBitCount : x.nonzeroBitCount))
            case .extend8S: return .constant(UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: x))) & mask(t))
            case .extend16S: return .constant(UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: x))) & mask(t))
            case .extend32S, .sext: return .constant(UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x))))
            case .wrap: return .constant(x & 0xFFFF_FFFF)
            default: return .constant(x & 0xFFFF_FFFF)  // zext
            }
        case .bitcast:
            if let x = ca { return .constant(x & mask(t)) }
            return nil
        case .fadd, .fsub, .fmul, .fdiv:
            guard let x = ca, let y = cb else { return nil }
            if t == .f32 {
                let a = Float(bitPattern: UInt32(truncatingIfNeeded: x)), b = Float(bitPattern: UInt32(truncatingIfNeeded: y))
                let r: Float = inst.op == .fadd ? a + b : inst.op == .fsub ? a - b : inst.op == .fmul ? a * b : a / b
                if r.isNaN { return nil }  // NaN payloads are left to the hardware, as in the interpreter
                return .constant(UInt64(r.bitPattern))
            }
            let a = Double(bitPattern: x), b = Double(bitPattern: y)
            let r: Double = inst.op == .fadd ? a + b : inst.op == .fsub ? a - b : inst.op == .fmul ? a * b : a / b
            if r.isNaN { return nil }
            return .constant(r.bitPattern)
        case .fneg, .fabs:
            guard let x = ca else { return nil }
            let sign: UInt64 = t == .f32 ? 0x8000_0000 : 1 << 63
            return .constant(inst.op == .fneg ? x ^ sign : x & ~sign)
        case .simd:
            // A splat of a constant is a v128 constant (the lane repeated).
            guard (0x0F...0x14).contains(inst.imm), let x = ca else { return nil }
            let width: UInt64 = switch inst.imm {
            case 0x0F: 8
            case 0x10: 16
            case 0x11, 0x13: 32
            default: 64
            }
            let lane = width == 64 ? x : x & ((1 << width) - 1)
            var half: UInt64 = 0
            for k in 0..<(64 / width) { half |= lane << (width * k) }
            return .constant(half, high: half)
        default:
            return nil
        }
    }

    static func integer(_ op: IROp, _ x: UInt64, _ y: UInt64, is32: Bool) -> UInt64 {
        if is32 {
            let a = UInt32(truncatingIfNeeded: x), b = UInt32(truncatingIfNeeded: y)
            let r: UInt32
            switch op {
            case .add: r = a &+ b
            case .sub: r = a &- b
            case .mul: r = a &* b
            case .and: r = a & b
            case .or: r = a | b
            case .xor: r = a ^ b
            case .shl: r = a << (b & 31)
            case .shrS: r = UInt32(bitPattern: Int32(bitPattern: a) >> Int32(b & 31))
            case .shrU: r = a >> (b & 31)
            case .rotl: r = a << (b & 31) | a >> ((32 - (b & 31)) & 31)
            default: r = a >> (b & 31) | a << ((32 - (b & 31)) & 31)  // rotr
            }
            return UInt64(r)
        }
        switch op {
        case .add: return x &+ y
        case .sub: return x &- y
        case .mul: return x &* y
        case .and: return x & y
        case .or: return x | y
        case .xor: return x ^ y
        case .shl: return x << (y & 63)
        case .shrS: return UInt64(bitPattern: Int64(bitPattern: x) >> Int64(y & 63))
        case .shrU: return x >> (y & 63)
        case .rotl: return x << (y & 63) | x >> ((64 - (y & 63)) & 63)
        default: return x >> (y & 63) | x << ((64 - (y & 63)) & 63)
        }
    }

    static func intCompare(_ c: IRCond, _ x: UInt64, _ y: UInt64, is32: Bool) -> Bool {
        let ux = is32 ? x & 0xFFFF_FFFF : x, uy = is32 ? y & 0xFFFF_FFFF : y
        let sx = is32 ? Int64(Int32(truncatingIfNeeded: x)) : Int64(bitPattern: x)
        let sy = is32 ? Int64(Int32(truncatingIfNeeded: y)) : Int64(bitPattern: y)
        switch c {
        case .eq: return ux == uy
        case .ne: return ux != uy
        case .ltS: return sx < sy
        case .ltU: return ux < uy
        case .gtS: return sx > sy
        case .gtU: return ux > uy
        case .leS: return sx <= sy
        case .leU: return ux <= uy
        case .geS: return sx >= sy
        case .geU: return ux >= uy
        default: return false
        }
    }

    static func floatCompare(_ c: IRCond, _ x: UInt64, _ y: UInt64, f32: Bool) -> Bool {
        let a = f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: x))) : Double(bitPattern: x)
        let b = f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: y))) : Double(bitPattern: y)
        switch c {
        case .eq: return a == b
        case .ne: return a != b
        case .flt: return a < b
        case .fgt: return a > b
        case .fle: return a <= b
        case .fge: return a >= b
        default: return false
        }
    }
}
