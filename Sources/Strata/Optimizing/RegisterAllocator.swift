/// Where a value lives in compiled code.
enum Location: Equatable {
    /// Not allocated: a constant (rematerialized at each use) or a compare fused into its
    /// branch or select.
    case none
    case gpr(UInt8)
    case xmm(UInt8)
    /// 8-byte spill slot k of the frame.
    case stack(Int32)
    /// 16-byte spill slot k of the frame (v128 values; a region of its own).
    case stack16(Int32)

    var isStack: Bool {
        switch self {
        case .stack, .stack16: true
        default: false
        }
    }
}

/// What the allocator needs to know of a machine: allocatable registers per class, in order
/// of preference, and which registers an instruction clobbers. Nothing here is x86-specific;
/// `X64Machine` describes x86-64.
struct RegisterSet: Sendable {
    var gprs: [UInt8]
    var xmms: [UInt8]
    /// Registers a call clobbers (all caller-saved ones).
    var callClobberGPR: UInt32
    var callClobberXMM: UInt32
    /// Other clobbers of an instruction (fixed registers of division, shifts): (gpr, xmm) masks.
    var clobbers: @Sendable (IRInst, IRFunction) -> (UInt32, UInt32)
    /// XMM registers an instruction uses as temporaries: neither its operands nor its result
    /// are there, nor anything live across it.
    var temps: @Sendable (IRInst, IRFunction) -> UInt32 = { _, _ in 0 }
    /// SIMD instructions (by opcode) that can read their second operand from memory as it is
    /// (no alignment required): a v128 load used only by one is folded into it.
    var foldsVectorLoad: @Sendable (UInt64) -> Bool = { _ in false }
    /// The machine computes base + index × 2^k (k ≤ 3) + displacement into a register in one
    /// instruction (x86's `lea`; with no base only when k > 0): adds and shifts feeding
    /// such a sum are folded into it (`AddressForm`).
    var foldsSums = false
    /// Where a call's result arrives (general, XMM): a call result not living across another
    /// call prefers it, so taking the result costs no move.
    var callResultGPR: UInt8? = nil
    var callResultXMM: UInt8? = nil
}

/// A store that reads, modifies and writes its memory (`RegisterAllocator.readModifyWrites`):
/// memory op= operand, trapping where `load` (an instruction index) would.
struct ReadModifyWrite {
    var op: IROp
    var operand: IRValue
    var load: Int32
}

/// Linear-scan register allocation on SSA (after Wimmer and Franz, 2010, without splitting):
/// blocks are laid out in order and numbered; each value gets a lifetime interval made of
/// ranges, one per block where it is live, with holes where it is not (a value live only in
/// one arm of a branch leaves its register to the other arm). Intervals are visited by start,
/// each taking a register of its class that no interval overlapping it holds and no
/// instruction inside its ranges clobbers. When none is free, the cheaper of this interval and
/// the intervals holding some register is spilled whole to a stack slot: cost is use weight
/// (uses weighted by 8^loop depth) per position of the interval, so long intervals with few
/// uses go first and short temporaries keep their registers. Hints coalesce a block argument with its parameter and a two-address
/// result with its operands, so most moves at jumps disappear. Spill slots are reused once
/// their interval ends.
struct RegisterAllocation {
    var locations: [Location]
    var spillSlots: Int
    /// 16-byte slots (v128 values).
    var spillSlots16 = 0
    /// Instruction index -> fused into the next terminator or select (emitted there).
    var fused: [Bool]
    /// Instruction index -> a load folded into the instruction right after it as its memory
    /// operand (`fusedLoads`).
    var foldedLoads: [Bool] = []
    /// Instruction index -> an add or shift folded into the sum after it (`foldedSums`); per
    /// result value of the sum's instruction, the form it computes.
    var foldedSums: [Bool] = []
    var sums: [Int32: AddressForm] = [:]
    /// Instruction index -> a load or an operation folded into the store that writes their
    /// result back (`readModifyWrites`); per such store's instruction index, what it does.
    var foldedIntoStores: [Bool] = []
    var readModifyWrites: [Int32: ReadModifyWrite] = [:]
    /// Linear positions: per block its first and terminator position; per instruction its position.
    var blockStart: [Int32]
    var blockEnd: [Int32]
    var instPosition: [Int32]
    /// Per call instruction: the values in caller-saved registers live across it, each with the
    /// stack slot it is saved to before the call and restored from after it.
    var savedAcrossCall: [Int32: [(value: IRValue, slot: Location)]] = [:]
    /// Per loop preheader: spilled values loaded into a register at its end (after its jump's
    /// moves), where they stay throughout the loop.
    var reloads: [Int32: [(value: IRValue, register: Location)]] = [:]
    /// Per block of such a loop: the register its reloaded values are in there (value id ->
    /// location); everywhere else they are in their stack slots.
    var blockOverrides: [Int32: [Int32: Location]] = [:]
    /// Spilled results whose uses right after their definition (in its block) read a register:
    /// value id -> the register and the last position it holds the value. The definition
    /// stores to the slot as always and copies into the register; the register is one no
    /// interval holds and nothing clobbers from the definition to that position.
    var heads: [Int32: (register: Location, end: Int32)] = [:]
    /// The function's loops in the allocator's block order (`IRPasses.loops`), when it found
    /// them (for the lowering's loop alignment); nil when its budget ran out first.
    var loops: [IRPasses.Loop]? = nil
}

/// An integer sum computed by one instruction: base + index × 2^scale + disp (x86 `lea`; 32-bit
/// sums wrap like the adds they replace). At least one of base and index is set.
struct AddressForm: Equatable {
    var base: IRValue?
    var index: IRValue?
    var scale: UInt8 = 0
    var disp: Int64 = 0

    /// The sum of two forms, if one instruction computes it: at most two registers, one of them
    /// scaled; the displacement wraps for 32-bit sums and must fit a signed 32-bit field for
    /// 64-bit ones.
    static func sum(_ x: AddressForm, _ y: AddressForm, wide: Bool) -> AddressForm? {
        // No allocation: at most two registers fit, so collect them in fixed slots.
        var registers: (IRValue, UInt8, IRValue, UInt8) = (.none, 0, .none, 0)
        var count = 0, scaled = 0
        func add(_ v: IRValue?, _ scale: UInt8) {
            guard let v else { return }
            count += 1
            if scale > 0 { scaled += 1 }
            if count == 1 { registers.0 = v; registers.1 = scale } else if count == 2 { registers.2 = v; registers.3 = scale }
        }
        add(x.base, 0); add(x.index, x.scale); add(y.base, 0); add(y.index, y.scale)
        guard count <= 2, scaled <= 1 else { return nil }
        let d = x.disp &+ y.disp
        guard let disp = wide ? (Int32(exactly: d).map { Int64($0) }) : Int64(Int32(truncatingIfNeeded: d)) else { return nil }
        var r = AddressForm(disp: disp)
        // The unscaled register is the base; a second one (or the scaled one) the index.
        if count >= 1 { if registers.1 == 0 { r.base = registers.0 } else { r.index = registers.0; r.scale = registers.1 } }
        if count == 2 {
            if registers.3 == 0 && r.base == nil { r.base = registers.2 } else { r.index = registers.2; r.scale = registers.3 }
        }
        return r
    }
}

enum AllocationError: Error { case tooComplex }

struct RegisterAllocator {
    let f: IRFunction
    let order: [Int32]
    let machine: RegisterSet
    /// The immediate dominators of `f`, when known (`IRPasses.optimize` returns them).
    let idom: [Int32]?
    /// Work the liveness walk may do before giving up (bounded compile time).
    var livenessBudget = 50_000_000

    init(f: IRFunction, order: [Int32], machine: RegisterSet, idom: [Int32]? = nil) {
        self.f = f
        self.order = order
        self.machine = machine
        self.idom = idom
    }

    /// Compares whose only use is the branch ending their block (anywhere in the block: the
    /// compare is emitted at the branch, its operands kept live until then) or the select right
    /// after them: they are emitted as flags there, and get no register.
    static func fusedCompares(_ f: IRFunction, order: [Int32], uses: [Int32]? = nil) -> [Bool] {
        let uses = uses ?? f.useCounts(in: order)
        var fused = [Bool](repeating: false, count: f.insts.count)
        for b in order {
            let insts = f.blocks[Int(b)].insts
            for (k, i) in insts.enumerated() {
                let inst = f.insts[Int(i)]
                guard inst.op == .cmp || inst.op == .eqz, uses[Int(inst.result.id)] == 1 else { continue }
                // Operands must not be constants only (folded already) and the flags must
                // survive until the consumer: the consumer comes right after.
                if case .branch(let c, _, _) = f.blocks[Int(b)].term, c == inst.result {
                    fused[Int(i)] = true
                } else if k < insts.count - 1 {
                    let next = f.insts[Int(insts[k + 1])]
                    // Into a select of integers, on an integer condition (one flag test).
                    if next.op == .select, next.c == inst.result, next.a != inst.result, next.b != inst.result,
                       !f.type(next.a).inXMM, inst.op == .eqz || !f.type(inst.a).isFloat {
                        fused[Int(i)] = true
                    }
                }
            }
        }
        return fused
    }

    /// Full-width loads whose only use is an arithmetic instruction right after them in their
    /// block (integer add/sub/and/or/xor/mul, float add/sub/mul/div, of the load's type): that
    /// instruction reads the memory operand itself, and the load gets no register. Nothing
    /// comes between them, so no store or trap changes order.
    static func foldedLoads(_ f: IRFunction, order: [Int32], machine: RegisterSet, uses: [Int32]? = nil) -> [Bool] {
        let uses = uses ?? f.useCounts(in: order)
        var folded = [Bool](repeating: false, count: f.insts.count)
        for b in order {
            let insts = f.blocks[Int(b)].insts
            for k in 0..<max(insts.count - 1, 0) {
                let load = f.insts[Int(insts[k])], next = f.insts[Int(insts[k + 1])]
                // Not loads from other memories: their address computation uses both scratch registers.
                guard load.op == .load, load.memory == nil, uses[Int(load.result.id)] == 1, let t = load.type else { continue }
                if load.imm == 0xFD00, next.op == .simd, machine.foldsVectorLoad(next.imm), next.b == load.result, next.a != next.b {
                    folded[Int(insts[k])] = true  // v128.load
                    continue
                }
                guard next.type == t else { continue }
                let fullWidth: Bool = switch (load.imm, t) {
                case (0x28, .i32), (0x29, .i64), (0x2A, .f32), (0x2B, .f64): true
                default: false
                }
                let foldable: Bool = switch next.op {
                case .add, .sub, .and, .or, .xor, .mul: !t.isFloat
                case .fadd, .fsub, .fmul, .fdiv: t.isFloat
                default: false
                }
                guard fullWidth, foldable, next.a != next.b else { continue }
                if next.b == load.result || next.a == load.result && next.op.isCommutative {
                    folded[Int(insts[k])] = true
                }
            }
        }
        return folded
    }

    /// Integer adds (and subtractions of a constant) that one `AddressForm` instruction computes
    /// together with the adds and constant shifts by 1-3 right before them whose only use they
    /// are: those are folded (no register; their operands are read by the sum's instruction),
    /// the sum gets its form (by result value). Adjacent instructions only (constants between
    /// them aside), so nothing runs between a folded operand's definition and its use.
    static func foldedSums(_ f: IRFunction, order: [Int32], foldedLoads: [Bool], uses: [Int32]? = nil) -> (folded: [Bool], sums: [Int32: AddressForm], root: [Int32]) {
        let uses = uses ?? f.useCounts(in: order)
        var folded = [Bool](repeating: false, count: f.insts.count)
        var sums: [Int32: AddressForm] = [:]
        var root = [Int32](repeating: -1, count: f.insts.count)  // folded instruction -> the instruction emitting the sum (-1: none)
        // Per block (buffers kept from one block to the next).
        var insts: [Int32] = [], forms: [AddressForm?] = [], foldsPrevious: [Bool] = []
        for b in order {
            // Constants emit nothing where they stand: they do not separate instructions.
            insts.removeAll(keepingCapacity: true)
            for i in f.blocks[Int(b)].insts where f.insts[Int(i)].op != .const { insts.append(i) }
            forms.removeAll(keepingCapacity: true)
            forms.append(contentsOf: repeatElement(nil, count: insts.count))
            foldsPrevious.removeAll(keepingCapacity: true)
            foldsPrevious.append(contentsOf: repeatElement(false, count: insts.count))
            for (k, i) in insts.enumerated() {
                let inst = f.insts[Int(i)]
                guard let t = inst.type, t == .i32 || t == .i64, inst.op == .add || inst.op == .sub || inst.op == .shl else { continue }
                let wide = t == .i64
                func constant(_ v: IRValue) -> Int64? {
                    f.constant(v).map { wide ? Int64(bitPattern: $0) : Int64(Int32(truncatingIfNeeded: $0)) }
                }
                // An operand as a term: the previous instruction's form when it can fold.
                var usedPrevious = false
                func term(_ v: IRValue, folding: Bool) -> AddressForm? {
                    if let c = constant(v) { return AddressForm(disp: c) }
                    if folding, k > 0, f.insts[Int(insts[k - 1])].result == v, uses[Int(v.id)] == 1, let p = forms[k - 1],
                       f.insts[Int(insts[k - 1])].type == t, !foldedLoads[Int(insts[k - 1])] {
                        usedPrevious = true
                        return p
                    }
                    if k > 0, foldedLoads[Int(insts[k - 1])], f.insts[Int(insts[k - 1])].result == v { return nil }
                    return AddressForm(base: v)
                }
                func form(folding: Bool) -> AddressForm? {
                    usedPrevious = false
                    switch inst.op {
                    case .add:
                        guard let x = term(inst.a, folding: folding), let y = term(inst.b, folding: folding) else { return nil }
                        return AddressForm.sum(x, y, wide: wide)
                    case .sub:
                        guard let c = constant(inst.b), c != Int64.min, let x = term(inst.a, folding: folding) else { return nil }
                        return AddressForm.sum(x, AddressForm(disp: -c), wide: wide)
                    default:  // shl by 1-3 of a register
                        guard let c = f.constant(inst.b), case let n = c & (wide ? 63 : 31), (1...3).contains(n), constant(inst.a) == nil,
                              let x = term(inst.a, folding: folding), x.index == nil, x.disp == 0, let v = x.base else { return nil }
                        return AddressForm(index: v, scale: UInt8(n))
                    }
                }
                if let withPrevious = form(folding: true), usedPrevious {
                    forms[k] = withPrevious
                    foldsPrevious[k] = true
                } else {
                    forms[k] = form(folding: false)
                }
            }
            // Each instruction that folds its predecessor takes it (and what it folded) out; the
            // last of a chain emits the sum.
            for k in insts.indices where foldsPrevious[k] {
                folded[Int(insts[k - 1])] = true
            }
            for k in insts.indices.reversed() where foldsPrevious[k] && !folded[Int(insts[k])] {
                sums[f.insts[Int(insts[k])].result.id] = forms[k]!
                var j = k
                while j > 0 && foldsPrevious[j] {
                    root[Int(insts[j - 1])] = insts[k]
                    j -= 1
                }
            }
        }
        return (folded, sums, root)
    }

    /// Stores of an integer operation's result to the address its other operand was loaded
    /// from (`x = load [p + k]; y = x op z; store [p + k], y`: add, sub, and, or, xor, 32 or
    /// 64 bits, memory 0), where the load and the operation have no other use: the store
    /// reads, modifies and writes the memory itself (`op [m], z`), the load and the operation
    /// are folded (no register; z is read by the store). Only instructions that neither trap
    /// nor touch memory may come between the load and the store, so the one access traps
    /// where the load would have (it takes the load's trap site) and nothing sees the memory
    /// in between.
    static func readModifyWrites(
        _ f: IRFunction, order: [Int32], sums: (folded: [Bool], sums: [Int32: AddressForm]), uses: [Int32]? = nil
    ) -> (folded: [Bool], stores: [Int32: ReadModifyWrite]) {
        let uses = uses ?? f.useCounts(in: order)
        var folded = [Bool](repeating: false, count: f.insts.count)
        var stores: [Int32: ReadModifyWrite] = [:]
        for b in order {
            let insts = f.blocks[Int(b)].insts
            for (k, s) in insts.enumerated() {
                let store = f.insts[Int(s)]
                guard store.op == .store, store.memory == nil, store.imm == 0x36 || store.imm == 0x37 else { continue }
                let t: IRType = store.imm == 0x36 ? .i32 : .i64
                let opIndex = f.values[Int(store.b.id)].inst
                guard opIndex >= 0, f.values[Int(store.b.id)].block == b, uses[Int(store.b.id)] == 1 else { continue }
                let op = f.insts[Int(opIndex)]
                guard op.type == t, [.add, .sub, .and, .or, .xor].contains(op.op), op.a != op.b,
                      !sums.folded[Int(opIndex)], sums.sums[op.result.id] == nil else { continue }
                func load(_ v: IRValue) -> Int32? {
                    let i = f.values[Int(v.id)].inst
                    guard i >= 0, f.values[Int(v.id)].block == b, uses[Int(v.id)] == 1 else { return nil }
                    let l = f.insts[Int(i)]
                    guard l.op == .load, l.memory == nil, l.imm == (t == .i32 ? 0x28 : 0x29), l.a == store.a, l.imm2 == store.imm2 else { return nil }
                    return i
                }
                var operand = op.b
                var loadIndex = load(op.a)
                if loadIndex == nil, op.op.isCommutative, let i = load(op.b) {
                    loadIndex = i
                    operand = op.a
                }
                guard let l = loadIndex, let from = insts.firstIndex(of: l) else { continue }
                // Between the load and the store: nothing that traps, writes or reads memory.
                let between = insts[(from + 1)..<k]
                guard between.allSatisfy({ $0 == opIndex || f.insts[Int($0)].op.isPure && f.insts[Int($0)].op != .simd }) else { continue }
                folded[Int(l)] = true
                folded[Int(opIndex)] = true
                stores[s] = ReadModifyWrite(op: op.op, operand: operand, load: l)
            }
        }
        return (folded, stores)
    }

    /// Every value's live ranges (lifetime intervals with holes), ascending and disjoint, in
    /// one flat list by value: `list[from[v]..<to[v]]`.
    struct LiveRanges {
        var list: [(start: Int32, end: Int32)]
        var from: [Int32], to: [Int32]
        @inline(__always) func ranges(_ v: Int) -> ArraySlice<(start: Int32, end: Int32)> { list[Int(from[v])..<Int(to[v])] }
        @inline(__always) func first(_ v: Int) -> Int32 { list[Int(from[v])].start }
        @inline(__always) func last(_ v: Int) -> Int32 { list[Int(to[v]) - 1].end }
    }

    /// Every value's uses as (block, position), in the order met, in one flat list by value:
    /// `list[start[v]..<start[v + 1]]`.
    struct UseLists {
        var list: [(block: Int32, at: Int32)]
        var start: [Int32]
        @inline(__always) func uses(_ v: Int) -> ArraySlice<(block: Int32, at: Int32)> { list[Int(start[v])..<Int(start[v + 1])] }
    }

    /// Lifetime intervals with holes: a range per block the value is live in, from the
    /// definition or the block's start to its last use there, or to the block's end when it
    /// is live out (liveness by a backward walk from each use to the definition). A function of
    /// its own: in the allocator's long body, the optimizer stops inlining the array accesses of
    /// this walk.
    private func liveRanges(
        _ blocks: UnsafeBufferPointer<IRBlock>, blockStart: [Int32], blockEnd: [Int32], defPos: [Int32], defBlock: [Int32],
        allocatable: [Bool], uses: UseLists, budget: inout Int
    ) throws(AllocationError) -> LiveRanges {
        let nb = blocks.count, nv = f.values.count
        var flatRanges: [(start: Int32, end: Int32)] = []
        flatRanges.reserveCapacity(nv)
        var flatFrom = [Int32](repeating: 0, count: nv), flatTo = [Int32](repeating: 0, count: nv)
        // Predecessors of placed blocks, flat (no reference counting in the walk).
        var predStarts = [Int32](repeating: 0, count: nb + 1)
        var preds: [Int32] = []
        for b in 0..<nb {
            predStarts[b] = Int32(preds.count)
            if blockStart[b] >= 0 { for p in blocks[b].preds where blockStart[Int(p)] >= 0 { preds.append(p) } }
        }
        predStarts[nb] = Int32(preds.count)
        let predStart = predStarts, predList = preds
        // Per block, stamped with the value being walked: visited, live out, its last use there.
        // Raw memory, allocated once: the walk runs for most values of the function.
        let visited = UnsafeMutablePointer<Int32>.allocate(capacity: max(nb, 1))
        let liveOutStamp = UnsafeMutablePointer<Int32>.allocate(capacity: max(nb, 1))
        let lastUse = UnsafeMutablePointer<Int32>.allocate(capacity: max(nb, 1))
        visited.initialize(repeating: -1, count: nb)
        liveOutStamp.initialize(repeating: -1, count: nb)
        lastUse.initialize(repeating: -1, count: nb)
        defer { visited.deallocate(); liveOutStamp.deallocate(); lastUse.deallocate() }
        var work: [Int32] = []
        var touched: [Int32] = []
        var r: [(start: Int32, end: Int32)] = []
        var layoutIndex = [Int32](repeating: -1, count: nb)
        for (i, b) in order.enumerated() { layoutIndex[Int(b)] = Int32(i) }
        var layoutBits = [UInt64](repeating: 0, count: (order.count + 63) / 64)
        for v in 0..<nv where allocatable[v] {
            let db = defBlock[v]
            // Most values are used only in the block that defines them: one range, no walk.
            var local = true
            var lastLocal: Int32 = -1
            for (ub, at) in uses.uses(v) where blockStart[Int(ub)] >= 0 {
                if ub != db { local = false; break }
                lastLocal = max(lastLocal, at)
            }
            if local {
                let from = defPos[v]
                var to = max(lastLocal, from)
                if f.values[v].inst < 0 { to = max(to, from + 1) }  // parameters stay apart
                flatFrom[v] = Int32(flatRanges.count)
                flatRanges.append((from, max(to, from + 1)))
                flatTo[v] = Int32(flatRanges.count)
                if budget < 0 { throw .tooComplex }
                budget -= 1
                continue
            }
            let stamp = Int32(v)
            touched.removeAll(keepingCapacity: true)
            touched.append(db)
            lastUse[Int(db)] = -1
            for (ub, _) in uses.uses(v) where blockStart[Int(ub)] >= 0 {
                if visited[Int(ub)] != stamp && ub != db {
                    visited[Int(ub)] = stamp
                    lastUse[Int(ub)] = -1
                    work.append(ub)
                    touched.append(ub)
                }
            }
            for (ub, at) in uses.uses(v) where blockStart[Int(ub)] >= 0 { lastUse[Int(ub)] = max(lastUse[Int(ub)], at) }
            var steps = 0
            while let b = work.popLast() {
                steps += 1
                for k in Int(predStart[Int(b)])..<Int(predStart[Int(b) + 1]) {
                    let p = predList[k]
                    liveOutStamp[Int(p)] = stamp
                    if p != db && visited[Int(p)] != stamp {
                        visited[Int(p)] = stamp
                        lastUse[Int(p)] = -1
                        work.append(p)
                        touched.append(p)
                    }
                }
            }
            budget -= steps
            if budget < 0 { throw .tooComplex }
            r.removeAll(keepingCapacity: true)
            func range(_ b: Int32) -> (start: Int32, end: Int32) {
                let from = b == db ? defPos[v] : blockStart[Int(b)]
                var to = liveOutStamp[Int(b)] == stamp ? blockEnd[Int(b)] + 1 : max(lastUse[Int(b)], from)
                if b == db && f.values[v].inst < 0 { to = max(to, from + 1) }  // parameters stay apart
                return (from, max(to, from + 1))
            }
            if touched.count <= 8 {
                // Most values live in a few blocks: an insertion sort, without closure calls.
                for b in touched {
                    let x = range(b)
                    r.append(x)
                    var j = r.count - 1
                    while j > 0 && r[j - 1].start > x.start { r[j] = r[j - 1]; j -= 1 }
                    r[j] = x
                }
            } else {
                // Many blocks, in layout order: read off a bitmap of their layout indices when
                // they are dense in their span (long-lived values), else sorted as packed keys.
                var lo = Int32.max, hi = Int32.min
                for b in touched { lo = min(lo, layoutIndex[Int(b)]); hi = max(hi, layoutIndex[Int(b)]) }
                if Int(hi - lo) / 64 <= touched.count {
                    for b in touched { let i = Int(layoutIndex[Int(b)]); layoutBits[i >> 6] |= 1 << UInt64(i & 63) }
                    for w in Int(lo) >> 6...Int(hi) >> 6 {
                        var bits = layoutBits[w]
                        layoutBits[w] = 0
                        while bits != 0 {
                            r.append(range(order[w << 6 + bits.trailingZeroBitCount]))
                            bits &= bits - 1
                        }
                    }
                } else {
                    var keys = touched.map { b in UInt64(UInt32(layoutIndex[Int(b)])) << 32 | UInt64(UInt32(b)) }
                    keys.sort()
                    for k in keys { r.append(range(Int32(truncatingIfNeeded: k))) }
                }
            }
            // Ranges of adjacent blocks join (positions step by 2 between blocks).
            let from = flatRanges.count
            for x in r {
                if flatRanges.count > from, x.start <= flatRanges[flatRanges.count - 1].end + 1 {
                    flatRanges[flatRanges.count - 1].end = max(flatRanges[flatRanges.count - 1].end, x.end)
                } else {
                    flatRanges.append(x)
                }
            }
            flatFrom[v] = Int32(from)
            flatTo[v] = Int32(flatRanges.count)
            budget -= flatRanges.count - from
        }
        return LiveRanges(list: flatRanges, from: flatFrom, to: flatTo)
    }

    /// Spill code out of loops: a spilled value used in a loop it is defined outside of lives,
    /// inside that loop, in a register no interval holds and nothing clobbers there (a split of
    /// its interval at the loop's boundary). The preheader loads it once; its stack slot stays
    /// valid (the value never changes), so nothing is stored back at the exits. Outermost
    /// loops first, so a value reloaded around a loop keeps that register in loops inside it.
    private func reloadsInLoops(
        _ blocks: UnsafeBufferPointer<IRBlock>, blockStart: [Int32], blockEnd: [Int32], defBlock: [Int32],
        live: LiveRanges, uses: UseLists, locations: [Location], byStart: [Int32], budget: inout Int
    ) -> (reloads: [Int32: [(value: IRValue, register: Location)]], blockOverrides: [Int32: [Int32: Location]], loops: [IRPasses.Loop]?) {
        let nb = blockStart.count
        var reloads: [Int32: [(value: IRValue, register: Location)]] = [:]
        var blockOverrides: [Int32: [Int32: Location]] = [:]
        var found: [IRPasses.Loop]?
        if budget > 0 {
            var claimed: [(start: Int32, end: Int32, reg: Int)] = []
            found = IRPasses.loops(f, order: order, idom: idom ?? IRPasses.dominators(f, order: order))
            let loops = found!.reversed()
            var inLoop = [Int32](repeating: -1, count: nb)
            for (id, loop) in loops.enumerated() {
                guard let preheader = loop.preheader, budget > 0 else { continue }
                for b in loop.body { inLoop[Int(b)] = Int32(id) }
                let spans = loop.body.map { (start: blockStart[Int($0)], end: blockEnd[Int($0)] + 1) }
                var clobberG: UInt32 = 0, clobberX: UInt32 = 0
                for b in loop.body {
                    for i in blocks[Int(b)].insts {
                        let inst = f.insts[Int(i)]
                        if inst.op.isCall { clobberG |= machine.callClobberGPR; clobberX |= machine.callClobberXMM } else {
                            let (g, x) = machine.clobbers(inst, f)
                            clobberG |= g; clobberX |= x | machine.temps(inst, f)
                        }
                    }
                }
                /// Whether ranges (ascending) overlap the loop's spans (ascending: blocks in layout order).
                func overlapsLoop(_ ranges: ArraySlice<(start: Int32, end: Int32)>) -> Bool {
                    var i = ranges.startIndex, j = 0
                    while i < ranges.endIndex && j < spans.count {
                        if ranges[i].end <= spans[j].start { i += 1 } else if spans[j].end <= ranges[i].start { j += 1 } else { return true }
                    }
                    return false
                }
                var busy = [Bool](repeating: false, count: 32)
                var candidates: [(value: Int32, uses: Int)] = []
                // The loop's extent: an interval outside it is passed over at once.
                let lo = spans.reduce(Int32.max) { min($0, $1.start) }, hi = spans.reduce(Int32.min) { max($0, $1.end) }
                // Values by start: those starting before the loop's end are a prefix.
                let count = Self.firstAfter(byStart, hi - 1) { live.first(Int($0)) }
                for v32 in byStart[0..<count] {
                    let v = Int(v32)
                    budget -= 1
                    guard lo < live.last(v) else { continue }
                    budget -= live.ranges(v).count
                    if let r = Self.regIndex(locations[v]) {
                        if !busy[r], overlapsLoop(live.ranges(v)) { busy[r] = true }
                    } else if locations[v].isStack, inLoop[Int(defBlock[v])] != Int32(id),
                              blockOverrides[loop.header]?[Int32(v)] == nil {
                        let n = uses.uses(v).reduce(0) { $0 + (inLoop[Int($1.block)] == Int32(id) ? 1 : 0) }
                        if n > 0 { candidates.append((Int32(v), n)) }
                    }
                }
                for c in claimed where spans.contains(where: { $0.start < c.end && c.start < $0.end }) { busy[c.reg] = true }
                candidates.sort { $0.uses != $1.uses ? $0.uses > $1.uses : $0.value < $1.value }
                for c in candidates {
                    let float = f.values[Int(c.value)].type.inXMM
                    let clobber = float ? clobberX : clobberG
                    guard let r = (float ? machine.xmms : machine.gprs).first(where: {
                        !busy[(float ? 16 : 0) + Int($0)] && clobber & (1 << UInt32($0)) == 0
                    }) else { continue }
                    let reg: Location = float ? .xmm(r) : .gpr(r)
                    busy[Self.regIndex(reg)!] = true
                    for span in spans { claimed.append((span.start, span.end, Self.regIndex(reg)!)) }
                    reloads[preheader, default: []].append((IRValue(id: c.value), reg))
                    for b in loop.body { blockOverrides[b, default: [:]][c.value] = reg }
                }
            }
        }
        return (reloads, blockOverrides, found)
    }

    /// Spilled values' first uses from a register (the head of their interval split off):
    /// a value spilled because registers run out somewhere in its life is mostly used right
    /// after its definition, where a register is often free. Per register the positions
    /// held (intervals, reloads in loops, heads given so far), sorted by start.
    private func spilledHeads(
        blockStart: [Int32], blockEnd: [Int32], allocatable: [Bool], defPos: [Int32], defBlock: [Int32],
        live: LiveRanges, uses: UseLists, locations: [Location], spilled: [Int32], blockOverrides: [Int32: [Int32: Location]],
        clobbers: Clobbers, budget: inout Int
    ) -> [Int32: (register: Location, end: Int32)] {
        let callPositions = clobbers.callPositions
        let nv = f.values.count
        var heads: [Int32: (register: Location, end: Int32)] = [:]
        if budget > 0, !spilled.isEmpty {
            var held: [[(start: Int32, end: Int32)]] = Array(repeating: [], count: 32)
            for v in 0..<nv where allocatable[v] {
                if let r = Self.regIndex(locations[v]) { held[r] += live.ranges(v) }
            }
            for (b, values) in blockOverrides {
                for (_, l) in values { if let r = Self.regIndex(l) { held[r].append((blockStart[Int(b)], blockEnd[Int(b)] + 1)) } }
            }
            for r in held.indices { held[r].sort { $0.start < $1.start } }
            /// Whether register r is free over [a, b) (ranges are disjoint per register).
            func isFree(_ r: Int, _ a: Int32, _ b: Int32) -> Bool {
                let list = held[r]
                let lo = Self.firstAfter(list, a) { $0.end }  // the first range ending after a
                budget -= 1
                return lo == list.count || list[lo].start >= b
            }
            for v32 in spilled {
                let v = Int(v32)
                guard locations[v].isStack, f.values[v].inst >= 0, budget > 0 else { continue }
                let a = defPos[v], db = defBlock[v]
                let after = uses.uses(v).filter { $0.block == db && $0.at > a }.map(\.at).sorted()
                guard let firstUse = after.first else { continue }
                let float = f.values[v].type.inXMM
                // Calls and fixed registers between the definition and the use (the use's own
                // instruction included: it may take its fixed registers before reading operands).
                let c = Self.firstAfter(callPositions, a) { $0 }
                if c < callPositions.count && callPositions[c] <= firstUse { continue }
                let list = float ? clobbers.xmm : clobbers.gpr
                func clobbered(upTo end: Int32) -> UInt32 {
                    var mask: UInt32 = 0
                    var k = Self.firstAfter(list, a) { $0.0 }
                    while k < list.count && list[k].0 <= end { mask |= list[k].1; k += 1 }
                    return mask
                }
                let clobber = clobbered(upTo: firstUse)
                let callMask = float ? machine.callClobberXMM : machine.callClobberGPR
                // Caller-saved registers first: a callee-saved one costs a save per activation.
                let candidates = (float ? machine.xmms : machine.gprs).sorted { (callMask >> UInt32($0)) & 1 > (callMask >> UInt32($1)) & 1 }
                let offset = float ? 16 : 0
                guard let r = candidates.first(where: { clobber & (1 << UInt32($0)) == 0 && isFree(offset + Int($0), a, firstUse + 1) }) else { continue }
                // As far as the register stays free, up to the last use in the block.
                var end = firstUse
                for p in after.dropFirst() {
                    let callBetween = c < callPositions.count && callPositions[c] <= p
                    guard !callBetween, clobbered(upTo: p) & (1 << UInt32(r)) == 0, isFree(offset + Int(r), a, p + 1) else { break }
                    end = p
                }
                let list2 = held[offset + Int(r)]
                let at = list2.firstIndex { $0.start > a } ?? list2.count
                held[offset + Int(r)].insert((a, end + 1), at: at)
                heads[v32] = (float ? .xmm(r) : .gpr(r), end)
            }
        }
        return heads
    }

    /// A location's register as an index: general registers 0-15, XMM registers 16-31.
    private static func regIndex(_ l: Location) -> Int? {
        switch l {
        case .gpr(let r): Int(r)
        case .xmm(let x): 16 + Int(x)
        default: nil
        }
    }

    /// The index of the first element of `a` (ascending by `key`) whose key is past `p`.
    fileprivate static func firstAfter<T>(_ a: [T], _ p: Int32, _ key: (T) -> Int32) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if key(a[mid]) <= p { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Linear scan over intervals by start: active ones cover the position, inactive ones
    /// are in a hole there; a register is free for an interval when no active interval holds
    /// it and no inactive one holding it intersects the interval.
    /// Returns each value's location (`.stack(-1)` for spilled ones, slots come later), the
    /// spilled values in the order they were spilled, and the intervals by start.
    private func linearScan(
        _ blocks: UnsafeBufferPointer<IRBlock>, blockStart: [Int32], allocatable: [Bool], inFrame: [Bool], weight: [Double],
        hintParam: [Int32], hintDepth: [Int], live: LiveRanges,
        clobbers: Clobbers, budget: inout Int
    ) throws(AllocationError) -> (locations: [Location], spilled: [Int32], byStart: [Int32]) {
        let nv = f.values.count
        let rangeList = live.list, rangeFrom = live.from, rangeTo = live.to  // the cursor's walks
        let loopWeightOfDepth = Self.loopWeightOfDepth
        func callsCrossed(_ v: Int) -> Double { clobbers.callsCrossed(live.ranges(v)) }
        func clobbered(_ v: Int, float: Bool, saveAroundCalls: Bool) -> UInt32 {
            clobbers.inside(live.ranges(v), float: float, calls: saveAroundCalls ? nil : float ? machine.callClobberXMM : machine.callClobberGPR)
        }
        // The linear scan's position only grows: per value, its first range not ended before it.
        var cursor = rangeFrom
        /// Spill weight per position of the interval (use weight over its length, plus a
        /// constant so a long interval of many uses still beats a short one of one use): where
        /// registers run out, the interval that frees a register over the longest stretch for
        /// the fewest loads goes to the stack. A short temporary between long-lived values keeps
        /// its register; spilling it would free nothing and add a store and a load.
        func density(_ v: Int) -> Double {
            let length = live.ranges(v).reduce(0) { $0 + Int($1.end - $1.start) }
            return weight[v] / Double(length + 16)
        }
        /// Whether position p is in one of v's ranges; p never decreases from one call to the
        /// next for the same value (the linear scan's position), so the search starts at v's cursor.
        func covers(_ v: Int, _ p: Int32) -> Bool {
            var k = Int(cursor[v])
            let end = Int(rangeTo[v])
            while k < end && rangeList[k].end <= p { k += 1 }
            cursor[v] = Int32(k)
            return k < end && rangeList[k].start <= p
        }
        /// Whether interval a shares a position with interval b, which starts at the scan's
        /// position (ranges are half-open; a's ranges before its cursor ended before b starts).
        func intersects(_ a: Int, _ b: Int) -> Bool {
            var i = Int(cursor[a]), j = Int(rangeFrom[b])
            let iEnd = Int(rangeTo[a]), jEnd = Int(rangeTo[b])
            while i < iEnd && j < jEnd {
                budget -= 1
                let x = rangeList[i], y = rangeList[j]
                if x.end <= y.start { i += 1 } else if y.end <= x.start { j += 1 } else { return true }
            }
            return false
        }
        var intervals: [Int32] = []
        for v in 0..<nv where allocatable[v] { intervals.append(Int32(v)) }
        // By start, then by value (packed keys: no closure per comparison).
        var intervalKeys = intervals.map { UInt64(UInt32(live.first(Int($0)))) << 32 | UInt64(UInt32($0)) }
        intervalKeys.sort()
        intervals = intervalKeys.map { Int32(truncatingIfNeeded: $0) }

        var locations = [Location](repeating: .none, count: nv)
        var active: [Int32] = []
        var inactive: [Int32] = []
        var spilled: [Int32] = []
        for v32 in intervals {
            let v = Int(v32)
            let position = live.first(v)
            // Compacted in place, in order (no closure per interval).
            var kept = 0
            for k in active.indices {
                let a = active[k]
                if live.last(Int(a)) <= position { continue }
                if !covers(Int(a), position) { inactive.append(a); continue }
                active[kept] = a
                kept += 1
            }
            active.removeLast(active.count - kept)
            kept = 0
            for k in inactive.indices {
                let a = inactive[k]
                if live.last(Int(a)) <= position { continue }
                if covers(Int(a), position) { active.append(a); continue }
                inactive[kept] = a
                kept += 1
            }
            inactive.removeLast(inactive.count - kept)
            if budget < 0 { throw .tooComplex }
            if inFrame[v] {
                locations[v] = .stack(-1)
                spilled.append(v32)
                continue
            }
            let float = f.values[v].type.inXMM
            // A value used more than a save and a restore per call it crosses would cost may live
            // in a caller-saved register (callee-saved ones first), saved around the calls.
            let crossed = callsCrossed(v)
            let saveAroundCalls = crossed > 0 && 2 * crossed < weight[v]
            let forbidden = clobbered(v, float: float, saveAroundCalls: saveAroundCalls)
            // Per register: the intervals that hold it and overlap this one.
            var holding: UInt32 = 0
            for a in active { if let r = Self.regIndex(locations[Int(a)]), (r >= 16) == float { holding |= 1 << UInt32(r & 15) } }
            for a in inactive {
                if let r = Self.regIndex(locations[Int(a)]), (r >= 16) == float, holding & (1 << UInt32(r & 15)) == 0, intersects(Int(a), v) {
                    holding |= 1 << UInt32(r & 15)
                }
            }
            // Constants from here on: the closures below capture them (a captured variable would
            // be checked for exclusive access at run time).
            let blocked = holding | forbidden
            func isFree(_ r: UInt8) -> Bool { blocked & (1 << UInt32(r)) == 0 }
            var chosen: UInt8?
            // Hints: the parameter this value is passed to, then the first operand of a
            // two-address instruction, or a parameter's first argument (at most three; no array).
            var hintSlots: (IRValue, IRValue, IRValue) = (.none, .none, .none)
            var hintsFound = 0
            func addHint(_ h: IRValue) {
                switch hintsFound {
                case 0: hintSlots.0 = h
                case 1: hintSlots.1 = h
                default: hintSlots.2 = h
                }
                hintsFound += 1
            }
            if hintParam[v] >= 0 { addHint(IRValue(id: hintParam[v])) }
            let vi = f.values[v]
            if vi.inst >= 0 {
                let inst = f.insts[Int(vi.inst)]
                if !inst.a.isNone { addHint(inst.a) }
                if inst.op.isCommutative, !inst.b.isNone { addHint(inst.b) }
            } else if let firstPred = blocks[Int(vi.block)].preds.first(where: { blockStart[Int($0)] >= 0 }),
                      case .jump(_, let args) = blocks[Int(firstPred)].term,
                      let k = blocks[Int(vi.block)].params.firstIndex(of: IRValue(id: v32)) {
                addHint(args[k])
            }
            let hints = hintSlots, hintCount = hintsFound
            let candidates = float ? machine.xmms : machine.gprs
            let callMask = float ? machine.callClobberXMM : machine.callClobberGPR
            // A value crossing calls takes a register calls keep (its save is one push per
            // activation, not a store and a load per call): a hinted one, else any; then the
            // hints, then the first free register.
            func preserved(_ r: UInt8) -> Bool { callMask & (1 << UInt32(r)) == 0 }
            func hinted(_ accept: (UInt8) -> Bool) -> UInt8? {
                for k in 0..<hintCount {
                    let h = k == 0 ? hints.0 : k == 1 ? hints.1 : hints.2
                    if let r = Self.regIndex(locations[Int(h.id)]), (r >= 16) == float, isFree(UInt8(r & 15)), accept(UInt8(r & 15)) {
                        return UInt8(r & 15)
                    }
                }
                return nil
            }
            if crossed > 0 {
                // Unless the hint saves more moves (its jump's loop weight) than saving the value
                // around the calls costs: a loop's value crossing only a call after the loop.
                if saveAroundCalls, hintParam[v] >= 0, loopWeightOfDepth(hintDepth[v]) > 2 * crossed {
                    chosen = hinted { _ in true }
                }
                chosen = chosen ?? hinted(preserved) ?? candidates.first { isFree($0) && preserved($0) }
            }
            if chosen == nil, crossed == 0, vi.inst >= 0, f.insts[Int(vi.inst)].op == .callResult,
               let r = float ? machine.callResultXMM : machine.callResultGPR, isFree(r) {
                chosen = r
            }
            if chosen == nil {
                // Not the register of a non-commutative operation's second operand (x86 computes
                // `a op b` in the result's register: b would have to move out first).
                var avoid: UInt8?
                if vi.inst >= 0 {
                    let inst = f.insts[Int(vi.inst)]
                    if !inst.op.isCommutative, !inst.b.isNone, let r = Self.regIndex(locations[Int(inst.b.id)]), (r >= 16) == float {
                        avoid = UInt8(r & 15)
                    }
                }
                chosen = hinted { _ in true } ?? candidates.first { isFree($0) && $0 != avoid } ?? candidates.first(where: isFree)
            }
            if chosen == nil {
                // Spill the cheapest: this interval, or every interval holding some register.
                var best: (reg: UInt8, cost: Double, holders: [Int32])?
                for r in float ? machine.xmms : machine.gprs where forbidden & (1 << UInt32(r)) == 0 {
                    var holders: [Int32] = []
                    var cost = 0.0
                    for a in active where locations[Int(a)] == (float ? .xmm(r) : .gpr(r)) { holders.append(a); cost += density(Int(a)) }
                    for a in inactive where locations[Int(a)] == (float ? .xmm(r) : .gpr(r)) && intersects(Int(a), v) {
                        holders.append(a); cost += density(Int(a))
                    }
                    if best == nil || cost < best!.cost { best = (r, cost, holders) }
                }
                if let best, best.cost < density(v) {
                    chosen = best.reg
                    for a in best.holders {
                        locations[Int(a)] = .stack(-1)
                        spilled.append(a)
                    }
                    active.removeAll { best.holders.contains($0) }
                    inactive.removeAll { best.holders.contains($0) }
                }
            }
            if let r = chosen {
                locations[v] = float ? .xmm(r) : .gpr(r)
                active.append(v32)
            } else {
                locations[v] = .stack(-1)
                spilled.append(v32)
            }
        }
        return (locations, spilled, intervals)
    }

    /// The calls and fixed-register clobbers of a function by position, for the questions the
    /// allocator asks of an interval's ranges.
    struct Clobbers {
        var callPositions: [Int32]
        /// Running sum of the calls' loop weights (index k: calls before k).
        var callWeightPrefix: [Double]
        var gpr: [(Int32, UInt32)]
        var xmm: [(Int32, UInt32)]

        /// The loop-weighted number of calls strictly inside the ranges.
        func callsCrossed(_ ranges: ArraySlice<(start: Int32, end: Int32)>) -> Double {
            var w = 0.0
            for range in ranges {
                let a = RegisterAllocator.firstAfter(callPositions, range.start) { $0 }
                let b = RegisterAllocator.firstAfter(callPositions, range.end - 1) { $0 }
                if b > a { w += callWeightPrefix[b] - callWeightPrefix[a] }
            }
            return w
        }

        /// Registers clobbered strictly inside one of the ranges (a clobber where the value is
        /// defined or last used leaves it alone); a call inside them adds `calls` (nil: the value
        /// is saved and restored around calls).
        func inside(_ ranges: ArraySlice<(start: Int32, end: Int32)>, float: Bool, calls: UInt32?) -> UInt32 {
            var mask: UInt32 = 0
            let list = float ? xmm : gpr
            for range in ranges {
                let c = RegisterAllocator.firstAfter(callPositions, range.start) { $0 }
                if let calls, c < callPositions.count && callPositions[c] < range.end { mask |= calls }
                var k = RegisterAllocator.firstAfter(list, range.start) { $0.0 }
                while k < list.count && list[k].0 < range.end {
                    mask |= list[k].1
                    k += 1
                }
            }
            return mask
        }
    }

    /// A use's weight at a loop depth: 8 per level, up to 6 levels.
    private static func loopWeightOfDepth(_ depth: Int) -> Double {
        var w = 1.0
        for _ in 0..<min(depth, 6) { w *= 8 }
        return w
    }

    func run() throws(AllocationError) -> RegisterAllocation {
        // Blocks through a buffer pointer: reading a field reads that field, where a huge
        // function's array subscript would copy the whole block.
        try f.blocks.withUnsafeBufferPointer { blocks throws(AllocationError) in try allocate(blocks) }
    }

    private func allocate(_ blocks: UnsafeBufferPointer<IRBlock>) throws(AllocationError) -> RegisterAllocation {
        let nb = blocks.count
        var blockStart = [Int32](repeating: -1, count: nb)
        var blockEnd = [Int32](repeating: -1, count: nb)
        var instPosition = [Int32](repeating: -1, count: f.insts.count)
        let useCounts = f.useCounts(in: order)
        let fused = Self.fusedCompares(f, order: order, uses: useCounts)
        let foldedLoads = Self.foldedLoads(f, order: order, machine: machine, uses: useCounts)
        let sums = machine.foldsSums ? Self.foldedSums(f, order: order, foldedLoads: foldedLoads, uses: useCounts)
            : (folded: [Bool](repeating: false, count: f.insts.count), sums: [:], root: [Int32](repeating: -1, count: f.insts.count))
        let rmw = Self.readModifyWrites(f, order: order, sums: (sums.folded, sums.sums), uses: useCounts)
        var rmwRoot = [Int32](repeating: -1, count: f.insts.count)  // folded load or operation -> its store (-1: none)
        for (s, w) in rmw.stores {
            rmwRoot[Int(w.load)] = s
            rmwRoot[Int(f.values[Int(f.insts[Int(s)].b.id)].inst)] = s
        }
        var pos: Int32 = 0
        for b in order {
            blockStart[Int(b)] = pos
            pos += 2
            for i in blocks[Int(b)].insts {
                instPosition[Int(i)] = pos
                pos += 2
            }
            blockEnd[Int(b)] = pos
            pos += 2
        }

        // Definitions and uses: per value its definition and its uses as (block, position);
        // jump arguments and fused compares' operands are used at the terminator.
        let nv = f.values.count
        var defPos = [Int32](repeating: -1, count: nv)
        var defBlock = [Int32](repeating: -1, count: nv)
        var weight = [Double](repeating: 0, count: nv)
        var allocatable = [Bool](repeating: false, count: nv)
        var useEntries: [(value: Int32, block: Int32, at: Int32)] = []
        useEntries.reserveCapacity(2 * f.insts.count)
        var hintParam = [Int32](repeating: -1, count: nv)
        var hintDepth = [Int](repeating: 0, count: nv)
        let loopWeightOfDepth = Self.loopWeightOfDepth
        func loopWeight(_ b: Int32) -> Double { loopWeightOfDepth(blocks[Int(b)].loopDepth) }
        for b in order {
            let w = loopWeight(b)
            for p in blocks[Int(b)].params {
                defPos[Int(p.id)] = blockStart[Int(b)]
                defBlock[Int(p.id)] = b
                allocatable[Int(p.id)] = true
                weight[Int(p.id)] += w
            }
            for i in blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                var at = instPosition[Int(i)]
                if case let s = rmwRoot[Int(i)], s >= 0 {
                    at = instPosition[Int(s)]  // read by the store
                } else if fused[Int(i)] {
                    // Operands are read where the consumer is (the terminator, or the select next).
                    if case .branch(let c, _, _) = blocks[Int(b)].term, c == inst.result { at = blockEnd[Int(b)] } else { at += 2 }
                } else if foldedLoads[Int(i)] {
                    at += 2  // the address is read by the next instruction
                } else if case let r = sums.root[Int(i)], r >= 0 {
                    at = instPosition[Int(r)]  // read by the sum's instruction
                }
                f.forEachOperand(inst) { v in
                    useEntries.append((v.id, b, at))
                    weight[Int(v.id)] += w
                }
                if !inst.result.isNone, inst.op != .const, !fused[Int(i)], !foldedLoads[Int(i)], sums.root[Int(i)] < 0, rmwRoot[Int(i)] < 0 {
                    let id = Int(inst.result.id)
                    defPos[id] = instPosition[Int(i)]
                    defBlock[id] = b
                    allocatable[id] = true
                    weight[id] += w
                }
            }
            let t = blockEnd[Int(b)]
            f.forEachOperand(blocks[Int(b)].term) { v in
                useEntries.append((v.id, b, t))
                weight[Int(v.id)] += w
            }
            if case .jump(let target, let args) = blocks[Int(b)].term {
                // A value passed on several jumps is hinted to the parameter of the one in the
                // deepest loop (a loop's back edge over its exit): the move left is outside.
                let params = blocks[Int(target)].params
                let depth = blocks[Int(b)].loopDepth
                for (k, a) in args.enumerated() where hintParam[Int(a.id)] < 0 || hintDepth[Int(a.id)] < depth {
                    hintParam[Int(a.id)] = params[k].id
                    hintDepth[Int(a.id)] = depth
                }
            }
        }

        // Uses by value, in the order met (a counting sort into one flat array).
        var useStart = [Int32](repeating: 0, count: nv + 1)
        for u in useEntries { useStart[Int(u.value) + 1] += 1 }
        for v in 0..<nv { useStart[v + 1] += useStart[v] }
        var useList = [(block: Int32, at: Int32)](repeating: (0, 0), count: useEntries.count)
        var next = useStart
        for u in useEntries {
            useList[Int(next[Int(u.value)])] = (u.block, u.at)
            next[Int(u.value)] += 1
        }
        useEntries = []
        let uses = UseLists(list: useList, start: useStart)

        var budget = livenessBudget
        let live = try liveRanges(
            blocks, blockStart: blockStart, blockEnd: blockEnd, defPos: defPos, defBlock: defBlock, allocatable: allocatable,
            uses: uses, budget: &budget)

        // Clobber positions.
        var callPositions: [Int32] = []
        var callInsts: [Int32] = []
        /// Running sum of the calls' loop weights (index k: calls before k).
        var callWeightPrefix: [Double] = [0]
        var gprClobberPositions: [(Int32, UInt32)] = []
        var xmmClobberPositions: [(Int32, UInt32)] = []
        for b in order {
            for i in blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                if inst.op.isCall {
                    callPositions.append(instPosition[Int(i)])
                    callInsts.append(i)
                    callWeightPrefix.append(callWeightPrefix[callWeightPrefix.count - 1] + loopWeight(b))
                } else {
                    let (g, x) = machine.clobbers(inst, f)
                    let at = instPosition[Int(i)]
                    let temps = machine.temps(inst, f)
                    // Temporaries are taken before the operands are read and after the result is
                    // written: the positions around the instruction (odd ones, between
                    // instructions) exclude both.
                    if temps != 0 { xmmClobberPositions.append((at - 1, temps)) }
                    if g != 0 { gprClobberPositions.append((at, g)) }
                    if x | temps != 0 { xmmClobberPositions.append((at, x | temps)) }
                    if temps != 0 { xmmClobberPositions.append((at + 1, temps)) }
                }
            }
        }
        let clobbers = Clobbers(
            callPositions: callPositions, callWeightPrefix: callWeightPrefix, gpr: gprClobberPositions, xmm: xmmClobberPositions)
        func callsCrossed(_ v: Int) -> Double { clobbers.callsCrossed(live.ranges(v)) }

        // Values live into a landing block stay in the frame: the unwinder enters it with no
        // register intact (spilled values' slots stay valid, SSA values never change).
        var inFrame = [Bool](repeating: false, count: nv)
        let landingStarts = order.filter { blocks[Int($0)].insts.first.map { f.insts[Int($0)].op == .landing } ?? false }
            .map { (block: $0, start: blockStart[Int($0)]) }
        if !landingStarts.isEmpty {
            // Landing starts ascend (blocks in layout order): per range, a binary search.
            for v in 0..<nv where allocatable[v] {
                budget -= live.ranges(v).count
                inFrame[v] = live.ranges(v).contains { range in
                    var k = Self.firstAfter(landingStarts, range.start - 1) { $0.start }
                    while k < landingStarts.count && landingStarts[k].start < range.end {
                        if landingStarts[k].block != defBlock[v] { return true }
                        k += 1
                    }
                    return false
                }
            }
        }

        var (locations, spilled, byStart) = try linearScan(
            blocks, blockStart: blockStart, allocatable: allocatable, inFrame: inFrame, weight: weight, hintParam: hintParam,
            hintDepth: hintDepth, live: live, clobbers: clobbers, budget: &budget)

        // Values in caller-saved registers that cross calls get a slot to be saved in.
        var saved: [Int32] = []
        for v in 0..<nv where allocatable[v] {
            let float = f.values[v].type.inXMM
            let callMask = float ? machine.callClobberXMM : machine.callClobberGPR
            guard let r = Self.regIndex(locations[v]), callMask & (1 << UInt32(r & 15)) != 0, callsCrossed(v) > 0 else { continue }
            saved.append(Int32(v))
        }
        spilled += saved
        var saveSlot = [Location](repeating: .none, count: nv)
        // Spill slots: an interval takes a slot freed by one that ended before it starts (v128
        // values from the 16-byte slots).
        spilled.sort { live.first(Int($0)) != live.first(Int($1)) ? live.first(Int($0)) < live.first(Int($1)) : $0 < $1 }
        var slotFreeAt: [Int32] = [], slotFreeAt16: [Int32] = []  // per slot: end of its last interval
        for s in spilled {
            let v = Int(s)
            let wide = f.values[v].type == .v128
            var slot = -1
            let free = wide ? slotFreeAt16 : slotFreeAt
            for k in free.indices where free[k] <= live.first(v) { slot = k; break }
            if slot < 0 { slot = free.count; if wide { slotFreeAt16.append(0) } else { slotFreeAt.append(0) } }
            if wide { slotFreeAt16[slot] = live.last(v) + 1 } else { slotFreeAt[slot] = live.last(v) + 1 }
            let l: Location = wide ? .stack16(Int32(slot)) : .stack(Int32(slot))
            if case .stack = locations[v] { locations[v] = l } else { saveSlot[v] = l }
        }
        var savedAcrossCall: [Int32: [(value: IRValue, slot: Location)]] = [:]
        for v in saved {
            for range in live.ranges(Int(v)) {
                var k = Self.firstAfter(callPositions, range.start) { $0 }
                while k < callPositions.count && callPositions[k] < range.end {
                    savedAcrossCall[callInsts[k], default: []].append((IRValue(id: v), saveSlot[Int(v)]))
                    k += 1
                }
            }
        }
        let (reloads, blockOverrides, loops) = reloadsInLoops(
            blocks, blockStart: blockStart, blockEnd: blockEnd, defBlock: defBlock, live: live, uses: uses, locations: locations,
            byStart: byStart, budget: &budget)
        let heads = spilledHeads(
            blockStart: blockStart, blockEnd: blockEnd, allocatable: allocatable, defPos: defPos, defBlock: defBlock,
            live: live, uses: uses, locations: locations, spilled: spilled, blockOverrides: blockOverrides, clobbers: clobbers,
            budget: &budget)
        return RegisterAllocation(
            locations: locations, spillSlots: slotFreeAt.count, spillSlots16: slotFreeAt16.count, fused: fused, foldedLoads: foldedLoads,
            foldedSums: sums.folded, sums: sums.sums, foldedIntoStores: rmw.folded, readModifyWrites: rmw.stores,
            blockStart: blockStart, blockEnd: blockEnd, instPosition: instPosition, savedAcrossCall: savedAcrossCall,
            reloads: reloads, blockOverrides: blockOverrides, heads: heads, loops: loops)
    }
}
