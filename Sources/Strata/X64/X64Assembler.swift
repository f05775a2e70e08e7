// An x86-64 assembler for Strata's compiled tiers: typed registers and operands, the
// encodings the compilers need, and labels with back-patched jumps. It writes into a growable
// byte buffer; nothing here knows about Wasm.

/// A general-purpose register (encoding 0...15).
struct Reg: Equatable, Hashable {
    let code: UInt8
    init(_ code: UInt8) { self.code = code }
    static let rax = Reg(0), rcx = Reg(1), rdx = Reg(2), rbx = Reg(3)
    static let rsp = Reg(4), rbp = Reg(5), rsi = Reg(6), rdi = Reg(7)
    static let r8 = Reg(8), r9 = Reg(9), r10 = Reg(10), r11 = Reg(11)
    static let r12 = Reg(12), r13 = Reg(13), r14 = Reg(14), r15 = Reg(15)
    var low: UInt8 { code & 7 }
    var high: UInt8 { code >> 3 }
}

/// An SSE register xmm0...xmm15.
struct XReg: Equatable, Hashable {
    let code: UInt8
    init(_ code: UInt8) { self.code = code }
    static func xmm(_ n: UInt8) -> XReg { XReg(n) }
}

/// A memory operand: [base + index * 2^scale + disp].
struct Mem: Equatable {
    var base: Reg
    var index: Reg?
    var scale: UInt8
    var disp: Int32
    init(_ base: Reg, _ disp: Int32 = 0) {
        self.base = base; index = nil; scale = 0; self.disp = disp
    }
    init(_ base: Reg, index: Reg, scale: UInt8 = 0, _ disp: Int32 = 0) {
        precondition(index != .rsp, "rsp cannot be an index register")
        self.base = base; self.index = index; self.scale = scale; self.disp = disp
    }
}

/// A 16-byte SIMD operand: a register, memory (16-byte aligned where a legacy SSE form reads
/// it whole), or a constant placed after the code ([rip + label]).
enum XOperand: Equatable {
    case reg(XReg), mem(Mem), rip(Label)
}

/// Condition codes (the low nibble of Jcc / SETcc / CMOVcc).
enum Cond: UInt8 {
    case o = 0, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
    var negated: Cond { Cond(rawValue: rawValue ^ 1)! }
}

/// Operand width of an integer instruction.
enum Width { case w32, w64 }

/// A jump target. Bound once; jumps to it before binding are patched when it is bound.
struct Label: Equatable { let id: Int }

/// Integer ALU operations sharing the classic encoding (opcode base and the /digit of 0x81).
enum ALU: UInt8 {
    case add = 0, or = 1, adc = 2, sbb = 3, and = 4, sub = 5, xor = 6, cmp = 7
}

/// Shift and rotate operations (the /digit of 0xC1 / 0xD3).
enum Shift: UInt8 {
    case rol = 0, ror = 1, shl = 4, shr = 5, sar = 7
}

/// Scalar SSE operations: (opcode byte after 0x0F; the prefix selects ss/sd).
enum SSEOp: UInt8 {
    case sqrt = 0x51, add = 0x58, mul = 0x59, sub = 0x5C, min = 0x5D, div = 0x5E, max = 0x5F
}

enum FloatWidth { case f32, f64 }

struct X64Assembler {
    private(set) var bytes: [UInt8] = []
    private var labelOffsets: [Int] = []
    /// Unresolved 32-bit relative fixups: (position of the rel32 field, label, bytes of the
    /// instruction after the field: an immediate after a rip-relative operand).
    private var fixups: [(at: Int, label: Int, trailing: Int)] = []

    /// Call instructions emitted so far (a leaf body must emit none: `X64MachineLayer.prologue`).
    private(set) var calls = 0

    init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    var offset: Int { bytes.count }

    // MARK: raw emission

    @inline(__always) mutating func byte(_ b: UInt8) { bytes.append(b) }
    @inline(__always) mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v)); bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16)); bytes.append(UInt8(truncatingIfNeeded: v >> 24))
    }
    @inline(__always) mutating func u64(_ v: UInt64) {
        u32(UInt32(truncatingIfNeeded: v)); u32(UInt32(truncatingIfNeeded: v >> 32))
    }
    mutating func patch32(at: Int, _ v: Int32) {
        let u = UInt32(bitPattern: v)
        bytes[at] = UInt8(truncatingIfNeeded: u); bytes[at + 1] = UInt8(truncatingIfNeeded: u >> 8)
        bytes[at + 2] = UInt8(truncatingIfNeeded: u >> 16); bytes[at + 3] = UInt8(truncatingIfNeeded: u >> 24)
    }

    /// REX prefix when needed (`force` for byte access to spl/bpl/sil/dil).
    @inline(__always) private mutating func rex(w: Bool, r: UInt8, x: UInt8, b: UInt8, force: Bool = false) {
        let v: UInt8 = (w ? 8 : 0) | (r << 2) | (x << 1) | b
        if v != 0 || force { byte(0x40 | v) }
    }

    /// ModRM (+ SIB + displacement) for a memory operand with `reg` in the reg field.
    private mutating func modrm(reg: UInt8, _ m: Mem) {
        let r = (reg & 7) << 3
        let needsSIB = m.index != nil || m.base.low == 4
        let mod: UInt8
        if m.disp == 0 && m.base.low != 5 { mod = 0 } else if Int8(exactly: m.disp) != nil { mod = 1 } else { mod = 2 }
        if needsSIB {
            byte(mod << 6 | r | 4)
            let idx = m.index?.low ?? 4
            byte(m.scale << 6 | idx << 3 | m.base.low)
        } else {
            byte(mod << 6 | r | m.base.low)
        }
        if mod == 1 { byte(UInt8(bitPattern: Int8(m.disp))) } else if mod == 2 { u32(UInt32(bitPattern: m.disp)) }
    }

    /// prefix? REX opcode ModRM for reg, reg (reg field `reg`, r/m field `rm`).
    private mutating func opRR(_ prefix: UInt8?, w: Bool, _ opcode: [UInt8], reg: UInt8, rm: UInt8, byteRegs: Bool = false) {
        if let prefix { byte(prefix) }
        rex(w: w, r: reg >> 3, x: 0, b: rm >> 3, force: byteRegs && rm >= 4 && rm < 8)
        for b in opcode { byte(b) }
        byte(0xC0 | (reg & 7) << 3 | (rm & 7))
    }

    /// prefix? REX opcode ModRM for reg, [mem].
    private mutating func opRM(_ prefix: UInt8?, w: Bool, _ opcode: [UInt8], reg: UInt8, _ m: Mem, byteReg: Bool = false) {
        if let prefix { byte(prefix) }
        rex(w: w, r: reg >> 3, x: m.index?.high ?? 0, b: m.base.high, force: byteReg && reg >= 4 && reg < 8)
        for b in opcode { byte(b) }
        modrm(reg: reg, m)
    }

    /// A VEX prefix (128-bit, W0): the two-byte form when the map is 0F and no extended index
    /// or base register needs the three-byte one. `pp`: 0 none, 1 66, 2 F3, 3 F2; `vvvv` the
    /// extra source register; `map`: 1 0F, 2 0F 38, 3 0F 3A.
    private mutating func vex(pp: UInt8, r: UInt8, x: UInt8, b: UInt8, vvvv: UInt8, map: UInt8 = 1) {
        let tail = (~vvvv & 15) << 3 | pp
        if map == 1 && x == 0 && b == 0 {
            byte(0xC5); byte((r == 0 ? 0x80 : 0) | tail)
        } else {
            byte(0xC4)
            byte((r == 0 ? 0x80 : 0) | (x == 0 ? 0x40 : 0) | (b == 0 ? 0x20 : 0) | map)
            byte(tail)
        }
    }

    // MARK: moves

    /// mov dst, src (32-bit moves zero the upper half).
    mutating func mov(_ w: Width, _ dst: Reg, _ src: Reg) {
        opRR(nil, w: w == .w64, [0x89], reg: src.code, rm: dst.code)
    }
    /// xchg a, b (64-bit): swaps two registers without a scratch.
    mutating func xchg(_ a: Reg, _ b: Reg) {
        opRR(nil, w: true, [0x87], reg: a.code, rm: b.code)
    }
    /// Loads a 64-bit constant with the shortest encoding.
    mutating func movImm(_ dst: Reg, _ value: UInt64) {
        if value <= UInt64(UInt32.max) {
            movImm32(dst, UInt32(value))
        } else if let s = Int32(exactly: Int64(bitPattern: value)) {
            // mov r/m64, imm32 (sign-extended)
            rex(w: true, r: 0, x: 0, b: dst.high); byte(0xC7); byte(0xC0 | dst.low); u32(UInt32(bitPattern: s))
        } else {
            rex(w: true, r: 0, x: 0, b: dst.high); byte(0xB8 | dst.low); u64(value)
        }
    }
    /// mov r32, imm32 (zero-extends); `xor` for zero would clobber flags, so it is not used.
    mutating func movImm32(_ dst: Reg, _ value: UInt32) {
        rex(w: false, r: 0, x: 0, b: dst.high); byte(0xB8 | dst.low); u32(value)
    }
    mutating func load(_ w: Width, _ dst: Reg, _ m: Mem) { opRM(nil, w: w == .w64, [0x8B], reg: dst.code, m) }
    mutating func store(_ w: Width, _ m: Mem, _ src: Reg) { opRM(nil, w: w == .w64, [0x89], reg: src.code, m) }
    mutating func store8(_ m: Mem, _ src: Reg) { opRM(nil, w: false, [0x88], reg: src.code, m, byteReg: true) }
    mutating func store16(_ m: Mem, _ src: Reg) { opRM(0x66, w: false, [0x89], reg: src.code, m) }
    /// mov qword/dword [m], imm32 (sign-extended for 64-bit).
    mutating func storeImm(_ w: Width, _ m: Mem, _ value: Int32) {
        opRM(nil, w: w == .w64, [0xC7], reg: 0, m); u32(UInt32(bitPattern: value))
    }
    /// mov byte [m], imm8.
    mutating func storeImm8(_ m: Mem, _ value: UInt8) { opRM(nil, w: false, [0xC6], reg: 0, m); byte(value) }
    /// Zero-extending and sign-extending loads of 8/16/32 bits into a 32- or 64-bit register.
    mutating func loadZX8(_ dst: Reg, _ m: Mem) { opRM(nil, w: false, [0x0F, 0xB6], reg: dst.code, m) }
    mutating func loadZX16(_ dst: Reg, _ m: Mem) { opRM(nil, w: false, [0x0F, 0xB7], reg: dst.code, m) }
    mutating func loadSX8(_ w: Width, _ dst: Reg, _ m: Mem) { opRM(nil, w: w == .w64, [0x0F, 0xBE], reg: dst.code, m) }
    mutating func loadSX16(_ w: Width, _ dst: Reg, _ m: Mem) { opRM(nil, w: w == .w64, [0x0F, 0xBF], reg: dst.code, m) }
    mutating func loadSX32(_ dst: Reg, _ m: Mem) { opRM(nil, w: true, [0x63], reg: dst.code, m) }
    /// Register forms of the extensions.
    mutating func movzx8(_ dst: Reg, _ src: Reg) { opRR(nil, w: false, [0x0F, 0xB6], reg: dst.code, rm: src.code, byteRegs: true) }
    mutating func movzx16(_ dst: Reg, _ src: Reg) { opRR(nil, w: false, [0x0F, 0xB7], reg: dst.code, rm: src.code) }
    mutating func movsx8(_ w: Width, _ dst: Reg, _ src: Reg) { opRR(nil, w: w == .w64, [0x0F, 0xBE], reg: dst.code, rm: src.code, byteRegs: true) }
    mutating func movsx16(_ w: Width, _ dst: Reg, _ src: Reg) { opRR(nil, w: w == .w64, [0x0F, 0xBF], reg: dst.code, rm: src.code) }
    mutating func movsxd(_ dst: Reg, _ src: Reg) { opRR(nil, w: true, [0x63], reg: dst.code, rm: src.code) }
    mutating func lea(_ w: Width, _ dst: Reg, _ m: Mem) { opRM(nil, w: w == .w64, [0x8D], reg: dst.code, m) }
    /// lea dst, [index × 2^scale + disp32]: no base register (SIB base 101 with mod 00).
    mutating func lea(_ w: Width, _ dst: Reg, index: Reg, scale: UInt8, _ disp: Int32) {
        precondition(index != .rsp, "rsp cannot be an index register")
        rex(w: w == .w64, r: dst.high, x: index.high, b: 0)
        byte(0x8D); byte(dst.low << 3 | 4); byte(scale << 6 | index.low << 3 | 5); u32(UInt32(bitPattern: disp))
    }

    mutating func push(_ r: Reg) { rex(w: false, r: 0, x: 0, b: r.high); byte(0x50 | r.low) }
    mutating func pop(_ r: Reg) { rex(w: false, r: 0, x: 0, b: r.high); byte(0x58 | r.low) }

    /// Leaves a frame made by `push rbp; mov rbp, rsp; push saved[0]; push saved[1]...`,
    /// whatever rsp is: each saved register loaded from its slot below rbp, then `mov rsp,
    /// rbp; pop rbp` (the return address is on top). Loads, not pops after a write of rsp:
    /// those wait for the write, and the return waits for them (docs/ARCHITECTURE.md, "Epilogue").
    mutating func leaveFrame(restoring saved: [Reg]) {
        for (k, r) in saved.enumerated() { load(.w64, r, Mem(.rbp, Int32(-8 * (k + 1)))) }
        mov(.w64, .rsp, .rbp)
        pop(.rbp)
    }

    // MARK: integer arithmetic

    mutating func alu(_ op: ALU, _ w: Width, _ dst: Reg, _ src: Reg) {
        opRR(nil, w: w == .w64, [op.rawValue << 3 | 1], reg: src.code, rm: dst.code)
    }
    mutating func alu(_ op: ALU, _ w: Width, _ dst: Reg, _ m: Mem) {
        opRM(nil, w: w == .w64, [op.rawValue << 3 | 3], reg: dst.code, m)
    }
    mutating func alu(_ op: ALU, _ w: Width, _ dst: Reg, imm: Int32) {
        if let i8 = Int8(exactly: imm) {
            opRR(nil, w: w == .w64, [0x83], reg: op.rawValue, rm: dst.code); byte(UInt8(bitPattern: i8))
        } else {
            opRR(nil, w: w == .w64, [0x81], reg: op.rawValue, rm: dst.code); u32(UInt32(bitPattern: imm))
        }
    }
    /// op [m], src: read, modify and write memory in one instruction.
    mutating func alu(_ op: ALU, _ w: Width, _ m: Mem, _ src: Reg) {
        opRM(nil, w: w == .w64, [op.rawValue << 3 | 1], reg: src.code, m)
    }
    mutating func alu(_ op: ALU, _ w: Width, _ m: Mem, imm: Int32) {
        if let i8 = Int8(exactly: imm) {
            opRM(nil, w: w == .w64, [0x83], reg: op.rawValue, m); byte(UInt8(bitPattern: i8))
        } else {
            opRM(nil, w: w == .w64, [0x81], reg: op.rawValue, m); u32(UInt32(bitPattern: imm))
        }
    }
    mutating func test(_ w: Width, _ a: Reg, _ b: Reg) { opRR(nil, w: w == .w64, [0x85], reg: b.code, rm: a.code) }
    /// test [m], r: reads memory (and may fault), writes only the flags.
    mutating func test(_ w: Width, _ m: Mem, _ r: Reg) { opRM(nil, w: w == .w64, [0x85], reg: r.code, m) }
    mutating func imul(_ w: Width, _ dst: Reg, _ src: Reg) { opRR(nil, w: w == .w64, [0x0F, 0xAF], reg: dst.code, rm: src.code) }
    mutating func imul(_ w: Width, _ dst: Reg, _ src: Reg, imm: Int32) {
        if let i8 = Int8(exactly: imm) {
            opRR(nil, w: w == .w64, [0x6B], reg: dst.code, rm: src.code); byte(UInt8(bitPattern: i8))
        } else {
            opRR(nil, w: w == .w64, [0x69], reg: dst.code, rm: src.code); u32(UInt32(bitPattern: imm))
        }
    }
    /// Unsigned / signed divide rdx:rax (edx:eax) by `src`.
    /// mul src: rdx:rax = rax * src (unsigned).
    mutating func mul(_ w: Width, _ src: Reg) { opRR(nil, w: w == .w64, [0xF7], reg: 4, rm: src.code) }
    mutating func div(_ w: Width, _ src: Reg) { opRR(nil, w: w == .w64, [0xF7], reg: 6, rm: src.code) }
    mutating func idiv(_ w: Width, _ src: Reg) { opRR(nil, w: w == .w64, [0xF7], reg: 7, rm: src.code) }
    /// cdq / cqo: sign-extend eax/rax into edx/rdx.
    mutating func signExtendAccumulator(_ w: Width) { if w == .w64 { byte(0x48) }; byte(0x99) }
    mutating func neg(_ w: Width, _ r: Reg) { opRR(nil, w: w == .w64, [0xF7], reg: 3, rm: r.code) }
    mutating func not(_ w: Width, _ r: Reg) { opRR(nil, w: w == .w64, [0xF7], reg: 2, rm: r.code) }
    /// Shift by cl.
    mutating func shift(_ op: Shift, _ w: Width, _ r: Reg) { opRR(nil, w: w == .w64, [0xD3], reg: op.rawValue, rm: r.code) }
    mutating func shift(_ op: Shift, _ w: Width, _ r: Reg, imm: UInt8) {
        opRR(nil, w: w == .w64, [0xC1], reg: op.rawValue, rm: r.code); byte(imm)
    }
    /// btc / btr r, imm8: complement / reset one bit.
    mutating func btc(_ w: Width, _ r: Reg, bit: UInt8) { opRR(nil, w: w == .w64, [0x0F, 0xBA], reg: 7, rm: r.code); byte(bit) }
    mutating func btr(_ w: Width, _ r: Reg, bit: UInt8) { opRR(nil, w: w == .w64, [0x0F, 0xBA], reg: 6, rm: r.code); byte(bit) }
    /// rorx dst, src, imm (BMI2): src rotated right by imm into dst, flags untouched. VEX map
    /// 0F3A, prefix F2, W for 64 bits.
    mutating func rorx(_ w: Width, _ dst: Reg, _ src: Reg, _ imm: UInt8) {
        byte(0xC4)
        byte((dst.code >> 3 == 0 ? 0x80 : 0) | 0x40 | (src.code >> 3 == 0 ? 0x20 : 0) | 0x03)
        byte((w == .w64 ? 0x80 : 0) | 0x78 | 0x03)
        byte(0xF0); byte(0xC0 | (dst.code & 7) << 3 | (src.code & 7)); byte(imm)
    }
    /// shlx / shrx / sarx dst, src, count (BMI2): src shifted by count (any registers, count
    /// masked like cl's) into dst, flags untouched. VEX map 0F38, opcode F7, prefix 66 / F2 /
    /// F3, W for 64 bits, the count in vvvv.
    mutating func shiftx(_ op: Shift, _ w: Width, _ dst: Reg, _ src: Reg, count: Reg) {
        let pp: UInt8 = op == .shl ? 1 : op == .shr ? 3 : 2
        precondition(op == .shl || op == .shr || op == .sar, "BMI2 has no rotate by a register")
        byte(0xC4)
        byte((dst.code >> 3 == 0 ? 0x80 : 0) | 0x40 | (src.code >> 3 == 0 ? 0x20 : 0) | 0x02)
        byte((w == .w64 ? 0x80 : 0) | (~count.code & 15) << 3 | pp)
        byte(0xF7); byte(0xC0 | (dst.code & 7) << 3 | (src.code & 7))
    }
    mutating func lzcnt(_ w: Width, _ dst: Reg, _ src: Reg) { opRR(0xF3, w: w == .w64, [0x0F, 0xBD], reg: dst.code, rm: src.code) }
    mutating func tzcnt(_ w: Width, _ dst: Reg, _ src: Reg) { opRR(0xF3, w: w == .w64, [0x0F, 0xBC], reg: dst.code, rm: src.code) }
    mutating func popcnt(_ w: Width, _ dst: Reg, _ src: Reg) { opRR(0xF3, w: w == .w64, [0x0F, 0xB8], reg: dst.code, rm: src.code) }
    /// setcc r8 (the caller zero-extends).
    mutating func setcc(_ c: Cond, _ r: Reg) { opRR(nil, w: false, [0x0F, 0x90 | c.rawValue], reg: 0, rm: r.code, byteRegs: true) }
    mutating func cmov(_ c: Cond, _ w: Width, _ dst: Reg, _ src: Reg) {
        opRR(nil, w: w == .w64, [0x0F, 0x40 | c.rawValue], reg: dst.code, rm: src.code)
    }

    // MARK: control flow

    mutating func newLabel() -> Label {
        labelOffsets.append(-1)
        return Label(id: labelOffsets.count - 1)
    }
    func isBound(_ l: Label) -> Bool { labelOffsets[l.id] >= 0 }
    func position(of l: Label) -> Int? { labelOffsets[l.id] >= 0 ? labelOffsets[l.id] : nil }

    mutating func bind(_ l: Label) {
        precondition(labelOffsets[l.id] < 0, "label bound twice")
        labelOffsets[l.id] = offset
    }

    /// Resolves every jump to a bound label; call once all labels are bound.
    mutating func resolveFixups() {
        for f in fixups {
            let target = labelOffsets[f.label]
            precondition(target >= 0, "jump to an unbound label")
            patch32(at: f.at, Int32(target - (f.at + 4 + f.trailing)))
        }
        fixups.removeAll()
    }

    private mutating func rel32(to l: Label, trailing: Int = 0) {
        let target = labelOffsets[l.id]
        if target >= 0 {
            u32(UInt32(bitPattern: Int32(target - (offset + 4 + trailing))))
        } else {
            fixups.append((offset, l.id, trailing)); u32(0)
        }
    }

    mutating func jmp(_ l: Label) {
        if let t = position(of: l), let d = Int8(exactly: t - (offset + 2)) {
            byte(0xEB); byte(UInt8(bitPattern: d))
        } else {
            byte(0xE9); rel32(to: l)
        }
    }
    mutating func jcc(_ c: Cond, _ l: Label) {
        if let t = position(of: l), let d = Int8(exactly: t - (offset + 2)) {
            byte(0x70 | c.rawValue); byte(UInt8(bitPattern: d))
        } else {
            byte(0x0F); byte(0x80 | c.rawValue); rel32(to: l)
        }
    }
    mutating func call(_ r: Reg) { calls += 1; opRR(nil, w: false, [0xFF], reg: 2, rm: r.code) }
    /// movss/movsd dst, [rip + label] (a constant placed after the code).
    mutating func movss(_ fw: FloatWidth, _ dst: XReg, rip l: Label) {
        byte(fw == .f32 ? 0xF3 : 0xF2)
        rex(w: false, r: dst.code >> 3, x: 0, b: 0)
        byte(0x0F); byte(0x10); byte(0x05 | (dst.code & 7) << 3); rel32(to: l)
    }
    /// addss/addsd ... dst, [rip + label] (an operand from the constant pool).
    mutating func sse(_ op: SSEOp, _ fw: FloatWidth, _ dst: XReg, rip l: Label) {
        byte(fw == .f32 ? 0xF3 : 0xF2)
        rex(w: false, r: dst.code >> 3, x: 0, b: 0)
        byte(0x0F); byte(op.rawValue); byte(0x05 | (dst.code & 7) << 3); rel32(to: l)
    }
    /// call rel32 to a label (in the same code).
    mutating func call(_ l: Label) { calls += 1; byte(0xE8); rel32(to: l) }
    mutating func call(_ m: Mem) { calls += 1; opRM(nil, w: false, [0xFF], reg: 2, m) }
    mutating func jmp(_ r: Reg) { opRR(nil, w: false, [0xFF], reg: 4, rm: r.code) }
    /// jmp [m] (an indirect jump through memory, for jump tables).
    mutating func jmp(_ m: Mem) { opRM(nil, w: false, [0xFF], reg: 4, m) }
    mutating func ret() { byte(0xC3) }
    mutating func ud2() { byte(0x0F); byte(0x0B) }
    mutating func int3() { byte(0xCC) }
    /// lea dst, [rip + label] (for jump tables placed after the code).
    mutating func leaRIP(_ dst: Reg, _ l: Label) {
        rex(w: true, r: dst.high, x: 0, b: 0); byte(0x8D); byte(0x05 | dst.low << 3); rel32(to: l)
    }
    /// Emits a 32-bit label-relative entry (target - base) for a jump table.
    mutating func tableEntry(_ target: Label, base: Label) {
        guard let b = position(of: base) else { preconditionFailure("table base must be bound") }
        // Stored as target - base: patched through a fixup measured from the entry itself.
        if let t = position(of: target) {
            u32(UInt32(bitPattern: Int32(t - b)))
        } else {
            tableFixups.append((offset, target.id, b)); u32(0)
        }
    }
    private var tableFixups: [(at: Int, label: Int, base: Int)] = []
    mutating func resolveTableFixups() {
        for f in tableFixups {
            let t = labelOffsets[f.label]
            precondition(t >= 0, "jump-table target unbound")
            patch32(at: f.at, Int32(t - f.base))
        }
        tableFixups.removeAll()
    }

    /// Pads to `skew` bytes past an `alignment` boundary with the fewest nops (the recommended
    /// multi-byte forms, up to 9 bytes each: padding that runs costs one instruction per 9
    /// bytes).
    mutating func align(_ alignment: Int, skew: Int = 0) {
        var n = (alignment + skew - offset % alignment) % alignment
        while n > 0 {
            let k = min(n, 9)
            for b in Self.nops[k] { byte(b) }
            n -= k
        }
    }
    static let nops: [[UInt8]] = [
        [],
        [0x90],
        [0x66, 0x90],
        [0x0F, 0x1F, 0x00],
        [0x0F, 0x1F, 0x40, 0x00],
        [0x0F, 0x1F, 0x44, 0x00, 0x00],
        [0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00],
        [0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00],
        [0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ]

    // MARK: SSE

    private func ssePrefix(_ fw: FloatWidth) -> UInt8 { fw == .f32 ? 0xF3 : 0xF2 }

    /// addss/addsd ... dst, src.
    mutating func sse(_ op: SSEOp, _ fw: FloatWidth, _ dst: XReg, _ src: XReg) {
        opRR(ssePrefix(fw), w: false, [0x0F, op.rawValue], reg: dst.code, rm: src.code)
    }
    /// vaddss/vaddsd ... dst, a, b (AVX: three operands, the destination need not be a).
    mutating func vsse(_ op: SSEOp, _ fw: FloatWidth, _ dst: XReg, _ a: XReg, _ b: XReg) {
        vex(pp: fw == .f32 ? 2 : 3, r: dst.code >> 3, x: 0, b: b.code >> 3, vvvv: a.code)
        byte(op.rawValue); byte(0xC0 | (dst.code & 7) << 3 | (b.code & 7))
    }
    /// vaddss/vaddsd ... dst, a, [m].
    mutating func vsse(_ op: SSEOp, _ fw: FloatWidth, _ dst: XReg, _ a: XReg, _ m: Mem) {
        vex(pp: fw == .f32 ? 2 : 3, r: dst.code >> 3, x: m.index?.high ?? 0, b: m.base.high, vvvv: a.code)
        byte(op.rawValue); modrm(reg: dst.code, m)
    }
    /// vaddss/vaddsd ... dst, a, [rip + label].
    mutating func vsse(_ op: SSEOp, _ fw: FloatWidth, _ dst: XReg, _ a: XReg, rip l: Label) {
        vex(pp: fw == .f32 ? 2 : 3, r: dst.code >> 3, x: 0, b: 0, vvvv: a.code)
        byte(op.rawValue); byte(0x05 | (dst.code & 7) << 3); rel32(to: l)
    }
    /// addss/addsd ... dst, [m].
    mutating func sse(_ op: SSEOp, _ fw: FloatWidth, _ dst: XReg, _ m: Mem) {
        opRM(ssePrefix(fw), w: false, [0x0F, op.rawValue], reg: dst.code, m)
    }
    mutating func movss(_ fw: FloatWidth, _ dst: XReg, _ m: Mem) { opRM(ssePrefix(fw), w: false, [0x0F, 0x10], reg: dst.code, m) }
    mutating func movss(_ fw: FloatWidth, _ m: Mem, _ src: XReg) { opRM(ssePrefix(fw), w: false, [0x0F, 0x11], reg: src.code, m) }
    /// movaps dst, src (whole-register copy).
    mutating func movaps(_ dst: XReg, _ src: XReg) { opRR(nil, w: false, [0x0F, 0x28], reg: dst.code, rm: src.code) }
    /// movdqu: 16-byte unaligned load/store.
    mutating func movdqu(_ dst: XReg, _ m: Mem) { opRM(0xF3, w: false, [0x0F, 0x6F], reg: dst.code, m) }
    mutating func movdqu(_ m: Mem, _ src: XReg) { opRM(0xF3, w: false, [0x0F, 0x7F], reg: src.code, m) }
    /// movd/movq xmm <- gpr.
    mutating func movToX(_ w: Width, _ dst: XReg, _ src: Reg) { opRR(0x66, w: w == .w64, [0x0F, 0x6E], reg: dst.code, rm: src.code) }
    /// movd/movq gpr <- xmm.
    mutating func movFromX(_ w: Width, _ dst: Reg, _ src: XReg) { opRR(0x66, w: w == .w64, [0x0F, 0x7E], reg: src.code, rm: dst.code) }
    /// ucomiss / ucomisd a, b.
    mutating func ucomis(_ fw: FloatWidth, _ a: XReg, _ b: XReg) {
        opRR(fw == .f32 ? nil : 0x66, w: false, [0x0F, 0x2E], reg: a.code, rm: b.code)
    }
    /// Bitwise ops on the whole register: andps/andnps/orps/xorps (pd forms identical in effect).
    mutating func andps(_ dst: XReg, _ src: XReg) { opRR(nil, w: false, [0x0F, 0x54], reg: dst.code, rm: src.code) }
    mutating func andnps(_ dst: XReg, _ src: XReg) { opRR(nil, w: false, [0x0F, 0x55], reg: dst.code, rm: src.code) }
    mutating func orps(_ dst: XReg, _ src: XReg) { opRR(nil, w: false, [0x0F, 0x56], reg: dst.code, rm: src.code) }
    mutating func xorps(_ dst: XReg, _ src: XReg) { opRR(nil, w: false, [0x0F, 0x57], reg: dst.code, rm: src.code) }
    /// roundss/roundsd dst, src, mode (SSE4.1): 0 nearest, 1 floor, 2 ceil, 3 trunc; +8 suppresses precision exceptions.
    mutating func round(_ fw: FloatWidth, _ dst: XReg, _ src: XReg, mode: UInt8) {
        opRR(0x66, w: false, [0x0F, 0x3A, fw == .f32 ? 0x0A : 0x0B], reg: dst.code, rm: src.code); byte(mode)
    }
    /// cvtsi2ss/sd dst, src (signed integer of width `w`).
    mutating func cvtsi2s(_ fw: FloatWidth, _ w: Width, _ dst: XReg, _ src: Reg) {
        opRR(ssePrefix(fw), w: w == .w64, [0x0F, 0x2A], reg: dst.code, rm: src.code)
    }
    /// cvttss2si/cvttsd2si dst, src (truncating; 0x80..0 on overflow or NaN).
    mutating func cvtts2si(_ fw: FloatWidth, _ w: Width, _ dst: Reg, _ src: XReg) {
        opRR(ssePrefix(fw), w: w == .w64, [0x0F, 0x2C], reg: dst.code, rm: src.code)
    }
    /// cvtss2sd (from f32) / cvtsd2ss (from f64): converts `src` of width `from`.
    mutating func cvtFloat(from: FloatWidth, _ dst: XReg, _ src: XReg) {
        opRR(ssePrefix(from), w: false, [0x0F, 0x5A], reg: dst.code, rm: src.code)
    }

    // MARK: SIMD (128-bit packed forms, SSE2 to SSE4.1)

    /// A packed instruction on whole xmm registers: `prefix` 0x66 (integer and double forms) or
    /// nil (single forms), `opcode` from the 0F map byte on (0F xx, 0F 38 xx, 0F 3A xx), an
    /// immediate byte when the form takes one.
    mutating func packed(_ prefix: UInt8?, _ opcode: [UInt8], _ dst: XReg, _ src: XReg, imm: UInt8? = nil) {
        opRR(prefix, w: false, opcode, reg: dst.code, rm: src.code)
        if let imm { byte(imm) }
    }
    /// The same with a memory source (or destination, for the store forms).
    mutating func packed(_ prefix: UInt8?, _ opcode: [UInt8], _ dst: XReg, _ m: Mem, imm: UInt8? = nil) {
        opRM(prefix, w: false, opcode, reg: dst.code, m)
        if let imm { byte(imm) }
    }
    /// An SSE4.1 lane insert or extract with a general register (66 0F 3A: pinsrb 20, pinsrd/q
    /// 22, pextrb 14, pextrw 15, pextrd/q 16; 66 0F C4: pinsrw): the xmm register in the reg
    /// field, the general one in r/m, REX.W for the q forms.
    mutating func lane(_ opcode: [UInt8], _ x: XReg, _ r: Reg, wide: Bool = false, imm: UInt8) {
        opRR(0x66, w: wide, opcode, reg: x.code, rm: r.code)
        byte(imm)
    }
    /// The same with a memory operand (a lane loaded from or stored to memory).
    mutating func lane(_ opcode: [UInt8], _ x: XReg, _ m: Mem, wide: Bool = false, imm: UInt8) {
        opRM(0x66, w: wide, opcode, reg: x.code, m)
        byte(imm)
    }
    /// psllw/pslld/psllq, psrlw/..., psraw/psrad, psrldq/pslldq by an immediate (66 0F 71/72/73
    /// with the operation in the reg field).
    mutating func packedShift(_ opcode: UInt8, _ op: UInt8, _ x: XReg, imm: UInt8) {
        opRR(0x66, w: false, [0x0F, opcode], reg: op, rm: x.code)
        byte(imm)
    }
    /// A general register from an xmm register (pmovmskb, movmskps/pd): reg field the general
    /// register, r/m the xmm one.
    mutating func packedToGPR(_ prefix: UInt8?, _ opcode: [UInt8], _ dst: Reg, _ src: XReg) {
        opRR(prefix, w: false, opcode, reg: dst.code, rm: src.code)
    }
    /// The same with a constant after the code as the source ([rip + label]).
    mutating func packed(_ prefix: UInt8?, _ opcode: [UInt8], _ dst: XReg, rip l: Label, imm: UInt8? = nil) {
        if let prefix { byte(prefix) }
        rex(w: false, r: dst.code >> 3, x: 0, b: 0)
        for b in opcode { byte(b) }
        byte(0x05 | (dst.code & 7) << 3)
        rel32(to: l, trailing: imm == nil ? 0 : 1)
        if let imm { byte(imm) }
    }
    /// The same with any 16-byte operand (`XOperand`).
    mutating func packed(_ prefix: UInt8?, _ opcode: [UInt8], _ dst: XReg, _ src: XOperand, imm: UInt8? = nil) {
        switch src {
        case .reg(let x): packed(prefix, opcode, dst, x, imm: imm)
        case .mem(let m): packed(prefix, opcode, dst, m, imm: imm)
        case .rip(let l): packed(prefix, opcode, dst, rip: l, imm: imm)
        }
    }
    /// A VEX-encoded packed instruction (AVX, 128-bit): dst = a op src, `a` in VEX.vvvv, so dst
    /// need not be a. `opcode` as for `packed` (its 0F / 0F 38 / 0F 3A map becomes VEX.mmmmm).
    mutating func vpacked(_ prefix: UInt8?, _ opcode: [UInt8], _ dst: XReg, _ a: XReg, _ src: XOperand, imm: UInt8? = nil) {
        let map: UInt8 = opcode.count == 3 ? (opcode[1] == 0x38 ? 2 : 3) : 1
        let pp: UInt8 = switch prefix { case 0x66: 1; case 0xF3: 2; case 0xF2: 3; default: 0 }
        let op = opcode[opcode.count - 1]
        let (x, b): (UInt8, UInt8) = switch src {
        case .reg(let s): (0, s.code >> 3)
        case .mem(let m): (m.index?.high ?? 0, m.base.high)
        case .rip: (0, 0)
        }
        vex(pp: pp, r: dst.code >> 3, x: x, b: b, vvvv: a.code, map: map)
        byte(op)
        switch src {
        case .reg(let s): byte(0xC0 | (dst.code & 7) << 3 | (s.code & 7))
        case .mem(let m): modrm(reg: dst.code, m)
        case .rip(let l): byte(0x05 | (dst.code & 7) << 3); rel32(to: l, trailing: imm == nil ? 0 : 1)
        }
        if let imm { byte(imm) }
    }
    /// movdqa/movdqu dst, src for any 16-byte operand (movaps between registers).
    mutating func load128(_ dst: XReg, _ src: XOperand) {
        switch src {
        case .reg(let x): if x != dst { movaps(dst, x) }
        case .mem(let m): movdqu(dst, m)
        case .rip(let l): packed(0x66, [0x0F, 0x6F], dst, rip: l)
        }
    }

    /// movq xmm, [m] (the low 8 bytes, the rest zeroed).
    mutating func movq(_ dst: XReg, _ m: Mem) { opRM(0xF3, w: false, [0x0F, 0x7E], reg: dst.code, m) }
    /// movd xmm, [m] (the low 4 bytes, the rest zeroed).
    mutating func movd(_ dst: XReg, _ m: Mem) { opRM(0x66, w: false, [0x0F, 0x6E], reg: dst.code, m) }
}
