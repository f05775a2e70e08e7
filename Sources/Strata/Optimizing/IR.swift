/// The optimizing tier's intermediate representation: a control-flow graph of basic blocks in
/// SSA form with block parameters (no phi instructions), independent of any ISA.
///
/// - A value (`IRValue`) is defined exactly once: by an instruction, or as a block parameter.
/// - A block is a list of instructions and one terminator. Every block with parameters is
///   entered only by `jump`s (conditional branches and tables go to parameterless edge
///   blocks), so every edge that carries values has its own jump: no critical edges.
/// - Integer values of type i32 are kept zero-extended to 64 bits by every lowering (x86-64
///   32-bit operations do that), so they can index memory directly.
/// - References (funcref, externref) are i64 values (pointers, 0 = null).
/// See docs/ARCHITECTURE.md, "Optimizing tier".
struct IRValue: Hashable, Comparable {
    var id: Int32
    static let none = IRValue(id: -1)
    var isNone: Bool { id < 0 }
    static func < (a: IRValue, b: IRValue) -> Bool { a.id < b.id }
}

enum IRType: UInt8 {
    case i32, i64, f32, f64, v128
    var isFloat: Bool { self == .f32 || self == .f64 }
    var is64: Bool { self == .i64 || self == .f64 }
    /// Lives in the vector registers (floats and v128), not the general ones.
    var inXMM: Bool { self == .f32 || self == .f64 || self == .v128 }

    init(_ t: ValueType) {
        switch t.kind {
        case .i32: self = .i32
        case .i64, .ref: self = .i64  // a reference is a 64-bit word (0: null)
        case .f32: self = .f32
        case .f64: self = .f64
        case .v128: self = .v128
        }
    }
}

/// Integer and float comparison conditions (`icmp`, `fcmp`).
enum IRCond: UInt8 {
    case eq, ne, ltS, ltU, gtS, gtU, leS, leU, geS, geU
    // float: ordered lt/gt/le/ge (false on NaN); eq false on NaN; ne true on NaN
    case flt, fgt, fle, fge

    var swapped: IRCond {
        switch self {
        case .eq, .ne: self
        case .ltS: .gtS
        case .ltU: .gtU
        case .gtS: .ltS
        case .gtU: .ltU
        case .leS: .geS
        case .leU: .geU
        case .geS: .leS
        case .geU: .leU
        case .flt: .fgt
        case .fgt: .flt
        case .fle: .fge
        case .fge: .fle
        }
    }
}

enum IROp: UInt8 {
    // Constants: `imm` holds the bits (i32/f32 zero-extended; a v128's low half, `imm2` its high).
    case const
    /// A float or v128 constant used inside a loop (`IRPasses.holdLoopConstants`), held in a
    /// location of its own: materialized once where it is defined, instead of loaded from the
    /// constant pool at each use. `imm`/`imm2` as for `const`; not a constant to the passes.
    case heldConst
    /// Function parameter `imm` (entry block only).
    case param
    // Integer arithmetic on i32 or i64 (the result type says which).
    case add, sub, mul, and, or, xor, shl, shrS, shrU, rotl, rotr
    /// May trap (division by zero, overflow): not removable, not movable.
    case divS, divU, remS, remU
    /// The high 64 bits of the unsigned 128-bit product of two i64 values (division by a
    /// constant).
    case mulhiU
    case clz, ctz, popcnt
    /// a == 0 (operand i32 or i64), result i32.
    case eqz
    /// a <cond> b, result i32; `imm` = IRCond raw value (integer or float operands).
    case cmp
    case extend8S, extend16S, extend32S
    /// i32.wrap_i64, i64.extend_i32_s, i64.extend_i32_u.
    case wrap, sext, zext
    // Floats (f32 or f64 by type).
    case fadd, fsub, fmul, fdiv, fmin, fmax, fcopysign, fabs, fneg, fsqrt, fceil, ffloor, ftrunc, fnearest
    case fpromote, fdemote
    /// Signed int (operand type) to float (result type).
    case sitofp
    /// Unsigned i32 to float.
    case uitofp32
    /// Reinterpret bits between integer and float of the same width.
    case bitcast
    /// Conversions done by the runtime (float-to-int truncations, u64-to-float): `imm` = the
    /// Wasm opcode. The trapping truncations may trap.
    case convert
    /// c != 0 ? a : b
    case select
    /// Memory 0: `imm` = Wasm opcode (0x28...0x3E), `imm2` = static offset. a = address,
    /// b = value (stores). SIMD loads and stores: `imm` = 0xFD00 + the SIMD opcode, plus the
    /// lane << 16 (`simdMemoryOpcode`); b = the vector of lane loads.
    case load, store
    case globalGet, globalSet
    case memorySize
    /// A direct call of function `imm` with `args`; results are read by the `callResult`
    /// instructions right after it.
    case call
    /// Indirect call through table `imm2` with type `imm`; the index is the last of `args`.
    case callIndirect
    /// `call_ref` with type `imm`: the function reference is the last of `args` (null traps).
    case callRef
    /// Result `imm` of the call just before.
    case callResult
    /// Tail calls: `return_call` of function `imm`, `return_call_indirect` with type `imm`
    /// through table `imm2` (the index last of `args`), `return_call_ref` with type `imm` (the
    /// reference last). The function leaves for the callee; its block ends with `leave`.
    case tailCall, tailCallIndirect, tailCallRef
    /// A runtime builtin: `imm` = Builtin raw value, `imm2` packs up to 3 u16 immediates
    /// (count in bits 48...), `args` the operands; result (if typed) is the builtin's u32.
    case builtin
    case refFunc
    case tableGet, tableSet, tableSize
    /// Traps with `interrupted` when the engine asks running code to stop (loop headers;
    /// `offset` the loop's). How it is checked is the machine layer's business.
    case interruptCheck
    /// Traps with `nullReference` when reference `a` is null (`ref.as_non_null`).
    case nullCheck
    // Exception handling (see docs/ARCHITECTURE.md, "Exceptions").
    /// `throw` of tag `imm` with the payload `args`, or (`imm` = `UInt64.max`) `throw_ref` of
    /// reference `a` (null traps): the exception is made or taken and is pending; the block
    /// ends with a jump to the function's handler or with `raise`.
    case `throw`
    /// First instruction of a landing block (`IRBlock.landing`): the block is entered by the
    /// unwinder with nothing but the frame intact; what is live here was kept in the frame.
    case landing
    /// A catch clause: when the pending exception has tag `imm` (any tag for `UInt32.max`), its
    /// payload (then, when `imm2` is 1, its exnref) goes to the catch area, it is caught and the
    /// result is 1; else 0.
    case catchClause
    /// Value `imm` of the catch area (a caught exception's payload), right after its clause.
    case caught
    /// A SIMD instruction (not a memory one): `imm` = its opcode after 0xFD, `imm2` = its lane;
    /// operands a, b, c in Wasm order (v128, float or integer as the instruction takes them);
    /// `i8x16.shuffle` has its 16 index bytes as a v128 constant in c.
    case simd
}

extension IRInst {
    /// The SIMD opcode of a SIMD `load` or `store` (nil for the others).
    var simdMemoryOpcode: UInt32? { imm >= 0xFD00 ? UInt32(imm & 0xFFFF) - 0xFD00 : nil }
    var simdLane: UInt8 { UInt8(truncatingIfNeeded: imm >> 16) }
    /// `i8x16.shuffle` (opcode 0x0D): its operand c is the constant of its lane indices, an
    /// immediate of the instruction (it must stay a `const`).
    var isShuffle: Bool { op == .simd && imm == 0x0D }
}

extension IROp {
    /// No side effects and no trap: may be removed when unused, merged when equal, moved.
    var isPure: Bool {
        switch self {
        case .const, .heldConst, .param, .add, .sub, .mul, .mulhiU, .and, .or, .xor, .shl, .shrS, .shrU, .rotl, .rotr,
             .clz, .ctz, .popcnt, .eqz, .cmp, .extend8S, .extend16S, .extend32S, .wrap, .sext, .zext,
             .fadd, .fsub, .fmul, .fdiv, .fmin, .fmax, .fcopysign, .fabs, .fneg, .fsqrt, .fceil, .ffloor,
             .ftrunc, .fnearest, .fpromote, .fdemote, .sitofp, .uitofp32, .bitcast, .select, .refFunc, .simd:
            true
        default:
            false
        }
    }
    var isCommutative: Bool {
        switch self {
        case .add, .mul, .and, .or, .xor, .fadd, .fmul: true
        default: false
        }
    }
    /// Calls into other code (all caller-saved registers are clobbered).
    var isCall: Bool {
        switch self {
        case .call, .callIndirect, .callRef, .builtin, .convert, .tailCall, .tailCallIndirect, .tailCallRef, .throw, .catchClause: true
        default: false
        }
    }
    var isTailCall: Bool { self == .tailCall || self == .tailCallIndirect || self == .tailCallRef }
}

struct IRInst {
    var op: IROp
    /// Result type; nil for instructions without a result.
    var type: IRType?
    var a: IRValue = .none
    var b: IRValue = .none
    var c: IRValue = .none
    var imm: UInt64 = 0
    var imm2: UInt64 = 0
    /// Further operands (calls, builtins): indices into `IRFunction.extra`.
    var extraStart: Int32 = 0
    var extraCount: Int32 = 0
    /// The result, or `.none`.
    var result: IRValue = .none
    /// Byte offset of the Wasm instruction in the module (traps, call sites).
    var offset: Int32 = 0
    /// `load`, `store`, `memorySize`: the memory when it is not the plain memory 0 (another
    /// memory, or a 64-bit one; see `ModuleContext.isPlainMemory0`), else nil.
    var memory: UInt32? = nil
}

enum IRTerminator {
    case none
    case jump(target: Int32, args: [IRValue])
    /// cond != 0 ? then : else; both targets are parameterless blocks.
    case branch(cond: IRValue, then: Int32, else: Int32)
    /// targets[min(index, count - 1)]; all parameterless blocks.
    case table(index: IRValue, targets: [Int32])
    case ret([IRValue])
    case trap(TrapKind, offset: Int32)
    /// The block's last instruction, a tail call, left the function.
    case leave
    /// The pending exception leaves the function (its callers' handlers, or the entry); the
    /// Wasm offset says where it is raised and is in none of the function's handlers.
    case raise(offset: Int32)
}

struct IRBlock {
    var params: [IRValue] = []
    var insts: [Int32] = []
    var term: IRTerminator = .none
    var preds: [Int32] = []
    /// A loop header (the target of back edges).
    var isLoopHeader = false
    /// Loop nesting depth (weights spill decisions).
    var loopDepth = 0
    /// Loop headers: the Wasm offset of the `loop` (its interrupt check's trap site).
    var wasmOffset: Int32 = 0
    /// The code of an inlined call: 1 + its index in `IRFunction.inlines` (0: the function's own).
    var inline: Int32 = 0
    /// The landing block of this block's last call (-1: none): a try_table around the call
    /// catches exceptions there. An edge without moves, taken by the unwinder right after the
    /// call (the block's other instructions are its results); the landing block has this block
    /// as its one predecessor and starts with a `landing` instruction.
    var unwind: Int32 = -1
}

/// A call inlined into the function: its trap sites name the callee, then the caller at the call.
struct IRInline {
    /// The callee, in the module's function index space.
    var callee: Int32
    /// The Wasm offset of the call in the caller.
    var callOffset: Int32
}

struct IRValueInfo {
    var type: IRType
    /// Defining instruction, or -1 for a block parameter.
    var inst: Int32
    var block: Int32
}

/// One function in SSA form.
struct IRFunction {
    var blocks: [IRBlock] = []
    var insts: [IRInst] = []
    var values: [IRValueInfo] = []
    var extra: [IRValue] = []
    var paramTypes: [IRType] = []
    var resultTypes: [IRType] = []
    /// The function's index in the module's function index space (-1: not known).
    var functionIndex = -1
    /// How many of the module's functions are imports (calls of those run host code).
    var importedFunctionCount = 0
    /// Calls inlined into it (blocks say which they belong to).
    var inlines: [IRInline] = []
    /// An on-stack-replacement entry (`IRBuilder.osrLoop`): block 0 loads the moved frame's
    /// state (`param` with `imm2` 1: local `imm`, 2: operand-stack slot `imm`).
    var isOSREntry = false

    /// Whether some block is a loop header. Wasm's only back edges go to `loop`s, whose headers
    /// the builder marks (so do the self-tail-call and OSR headers, and strip mining's), so a
    /// body without one has no loop: every block's predecessors come before it in reverse
    /// postorder. (A header whose back edge was folded away still counts: a safe answer.)
    var hasLoopHeaders: Bool { blocks.contains { $0.isLoopHeader } }

    func type(_ v: IRValue) -> IRType { values[Int(v.id)].type }
    func def(_ v: IRValue) -> IRInst? {
        let i = values[Int(v.id)].inst
        return i < 0 ? nil : insts[Int(i)]
    }
    /// The constant bits of `v`, when it is defined by `const`.
    func constant(_ v: IRValue) -> UInt64? {
        guard !v.isNone, let d = def(v), d.op == .const else { return nil }
        return d.imm
    }
    func args(_ inst: IRInst) -> ArraySlice<IRValue> {
        extra[Int(inst.extraStart)..<Int(inst.extraStart + inst.extraCount)]
    }

    /// Edits the arguments of `block`'s jump in place and returns what `edit` returns (nil when
    /// the block does not end in a jump). The terminator is emptied while `edit` runs, so the
    /// arguments are not shared and an edit does not copy them.
    @discardableResult
    mutating func editJumpArgs<R>(_ block: Int32, _ edit: (inout [IRValue]) -> R) -> R? {
        guard case .jump(let target, var args) = blocks[Int(block)].term else { return nil }
        blocks[Int(block)].term = .none
        let r = edit(&args)
        blocks[Int(block)].term = .jump(target: target, args: args)
        return r
    }

    mutating func newBlock() -> Int32 {
        blocks.append(IRBlock())
        return Int32(blocks.count - 1)
    }
    mutating func newValue(_ type: IRType, inst: Int32, block: Int32) -> IRValue {
        values.append(IRValueInfo(type: type, inst: inst, block: block))
        return IRValue(id: Int32(values.count - 1))
    }
    mutating func addParam(_ block: Int32, _ type: IRType) -> IRValue {
        let v = newValue(type, inst: -1, block: block)
        blocks[Int(block)].params.append(v)
        return v
    }
    /// Appends `inst` to `block`; returns its result (or `.none`).
    @discardableResult
    mutating func append(_ inst: IRInst, to block: Int32) -> IRValue {
        var i = inst
        let index = Int32(insts.count)
        if let t = i.type { i.result = newValue(t, inst: index, block: block) }
        insts.append(i)
        blocks[Int(block)].insts.append(index)
        return i.result
    }

    /// Per value, its uses by the instructions and terminators of `blocks`.
    func useCounts(in blocks: [Int32]) -> [Int32] {
        var uses = [Int32](repeating: 0, count: values.count)
        // Through buffer pointers: every pass that removes or folds code asks this.
        uses.withUnsafeMutableBufferPointer { uses in
            self.blocks.withUnsafeBufferPointer { blockList in
                insts.withUnsafeBufferPointer { insts in
                    extra.withUnsafeBufferPointer { extra in
                        for b in blocks {
                            for i in blockList[Int(b)].insts {
                                Self.forEachOperand(insts[Int(i)], extra: extra) { uses[Int($0.id)] += 1 }
                            }
                            forEachOperand(blockList[Int(b)].term) { uses[Int($0.id)] += 1 }
                        }
                    }
                }
            }
        }
        return uses
    }

    /// Every value operand of an instruction.
    func forEachOperand(_ inst: IRInst, _ body: (IRValue) -> Void) {
        extra.withUnsafeBufferPointer { Self.forEachOperand(inst, extra: $0, body) }
    }
    /// An instruction's operands, its extra ones read from `extra` (the function's `extra`).
    @inline(__always)
    static func forEachOperand(_ inst: IRInst, extra: UnsafeBufferPointer<IRValue>, _ body: (IRValue) -> Void) {
        if !inst.a.isNone { body(inst.a) }
        if !inst.b.isNone { body(inst.b) }
        if !inst.c.isNone { body(inst.c) }
        for k in Int(inst.extraStart)..<Int(inst.extraStart + inst.extraCount) { body(extra[k]) }
    }
    func forEachOperand(_ term: IRTerminator, _ body: (IRValue) -> Void) {
        switch term {
        case .jump(_, let args): for v in args { body(v) }
        case .branch(let c, _, _): body(c)
        case .table(let i, _): body(i)
        case .ret(let vs): for v in vs { body(v) }
        case .none, .trap, .leave, .raise: break
        }
    }

    /// Replaces every operand through `map` (instructions and terminators).
    mutating func rewriteOperands(_ map: (IRValue) -> IRValue) {
        for k in insts.indices {
            if !insts[k].a.isNone { insts[k].a = map(insts[k].a) }
            if !insts[k].b.isNone { insts[k].b = map(insts[k].b) }
            if !insts[k].c.isNone { insts[k].c = map(insts[k].c) }
        }
        for k in extra.indices { extra[k] = map(extra[k]) }
        // A terminator is rebuilt only when an operand changes (most keep theirs). Terminators
        // are read through a buffer pointer: in a huge function the array's subscript copied
        // each whole `IRBlock` (its arrays retained and released).
        var rebuilt: [(block: Int, term: IRTerminator)] = []
        blocks.withUnsafeBufferPointer { blocks in
            for b in blocks.indices {
                switch blocks[b].term {
                case .jump(let t, let args):
                    if args.contains(where: { map($0) != $0 }) { rebuilt.append((b, .jump(target: t, args: args.map(map)))) }
                case .branch(let c, let t, let e):
                    if map(c) != c { rebuilt.append((b, .branch(cond: map(c), then: t, else: e))) }
                case .table(let i, let ts):
                    if map(i) != i { rebuilt.append((b, .table(index: map(i), targets: ts))) }
                case .ret(let vs):
                    if vs.contains(where: { map($0) != $0 }) { rebuilt.append((b, .ret(vs.map(map)))) }
                case .none, .trap, .leave, .raise: break
                }
            }
        }
        for (b, term) in rebuilt { blocks[b].term = term }
    }
}
