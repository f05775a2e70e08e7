/// Where a value lives in compiled code.
enum Location: Equatable {
    /// Not allocated: a constant (rematerialized at each use) or a compare fused into its
    /// branch or select.
    case none
    case gpr(UInt8)
    case xmm(UInt8)
    /// 8-byte spill slot k of the frame.
    case stack(Int32)
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
}

/// Linear-scan register allocation on SSA (after Poletto and Sarkar, and Wimmer and Franz):
/// blocks are laid out in reverse postorder and numbered; each value gets one lifetime
/// interval from its definition to its last use (extended over every block where it is live
/// out, so loops are covered); intervals are visited by start, each taking a free register of
/// its class that no instruction inside it clobbers. When none is free, the interval with the
/// lowest use weight (uses weighted by 8^loop depth) among the candidates is spilled whole to
/// a stack slot. Hints coalesce a block argument with its parameter and a two-address result
/// with its first operand, so most moves at jumps disappear. Spill slots are reused once
/// their interval ends.
struct RegisterAllocation {
    var locations: [Location]
    var spillSlots: Int
    /// Instruction index -> fused into the next terminator or select (emitted there).
    var fused: [Bool]
    /// Linear positions: per block its first and terminator position; per instruction its position.
    var blockStart: [Int32]
    var blockEnd: [Int32]
    var instPosition: [Int32]
}

enum AllocationError: Error { case tooComplex }

struct RegisterAllocator {
    let f: IRFunction
    let order: [Int32]
    let machine: RegisterSet
    /// Work the liveness walk may do before giving up (bounded compile time).
    var livenessBudget = 50_000_000

    init(f: IRFunction, order: [Int32], machine: RegisterSet) {
        self.f = f
        self.order = order
        self.machine = machine
    }

    /// Compares whose only use is the branch ending their block (anywhere in the block: the
    /// compare is emitted at the branch, its operands kept live until then) or the select right
    /// after them: they are emitted as flags there, and get no register.
    static func fusedCompares(_ f: IRFunction, order: [Int32]) -> [Bool] {
        var uses = [Int32](repeating: 0, count: f.values.count)
        for b in order {
            for i in f.blocks[Int(b)].insts { f.forEachOperand(f.insts[Int(i)]) { uses[Int($0.id)] += 1 } }
            f.forEachOperand(f.blocks[Int(b)].term) { uses[Int($0.id)] += 1 }
        }
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
                       !f.type(next.a).isFloat, inst.op == .eqz || !f.type(inst.a).isFloat {
                        fused[Int(i)] = true
                    }
                }
            }
        }
        return fused
    }

    func run() throws(AllocationError) -> RegisterAllocation {
        let nb = f.blocks.count
        var blockStart = [Int32](repeating: -1, count: nb)
        var blockEnd = [Int32](repeating: -1, count: nb)
        var instPosition = [Int32](repeating: -1, count: f.insts.count)
        let fused = Self.fusedCompares(f, order: order)
        var pos: Int32 = 0
        for b in order {
            blockStart[Int(b)] = pos
            pos += 2
            for i in f.blocks[Int(b)].insts {
                instPosition[Int(i)] = pos
                pos += 2
            }
            blockEnd[Int(b)] = pos
            pos += 2
        }

        // Definitions and uses.
        let nv = f.values.count
        var defPos = [Int32](repeating: -1, count: nv)
        var defBlock = [Int32](repeating: -1, count: nv)
        var end = [Int32](repeating: -1, count: nv)
        var weight = [Double](repeating: 0, count: nv)
        var allocatable = [Bool](repeating: false, count: nv)
        /// Use sites per value: (block, position); jump arguments count at the terminator.
        var useBlocks: [[Int32]] = Array(repeating: [], count: nv)
        var hintParam = [Int32](repeating: -1, count: nv)
        func loopWeight(_ b: Int32) -> Double {
            var w = 1.0
            for _ in 0..<min(f.blocks[Int(b)].loopDepth, 6) { w *= 8 }
            return w
        }
        for b in order {
            let w = loopWeight(b)
            for p in f.blocks[Int(b)].params {
                defPos[Int(p.id)] = blockStart[Int(b)]
                defBlock[Int(p.id)] = b
                end[Int(p.id)] = blockStart[Int(b)] + 1
                allocatable[Int(p.id)] = true
                weight[Int(p.id)] += w
            }
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                var at = instPosition[Int(i)]
                if fused[Int(i)] {
                    // Operands are read where the consumer is (the terminator, or the select next).
                    if case .branch(let c, _, _) = f.blocks[Int(b)].term, c == inst.result { at = blockEnd[Int(b)] } else { at += 2 }
                }
                f.forEachOperand(inst) { v in
                    let id = Int(v.id)
                    if at > end[id] { end[id] = at }
                    useBlocks[id].append(b)
                    weight[id] += w
                }
                if !inst.result.isNone, inst.op != .const, !fused[Int(i)] {
                    let id = Int(inst.result.id)
                    defPos[id] = instPosition[Int(i)]
                    defBlock[id] = b
                    if end[id] < defPos[id] { end[id] = defPos[id] }
                    allocatable[id] = true
                    weight[id] += w
                }
            }
            let t = blockEnd[Int(b)]
            f.forEachOperand(f.blocks[Int(b)].term) { v in
                let id = Int(v.id)
                if t > end[id] { end[id] = t }
                useBlocks[id].append(b)
                weight[id] += w
            }
            if case .jump(let target, let args) = f.blocks[Int(b)].term {
                let params = f.blocks[Int(target)].params
                for (k, a) in args.enumerated() where hintParam[Int(a.id)] < 0 { hintParam[Int(a.id)] = params[k].id }
            }
        }

        // Liveness: from each use block back to the definition; a value live out of a block is
        // live to its end.
        var visited = [Int32](repeating: -1, count: nb)
        var work: [Int32] = []
        var budget = livenessBudget
        for v in 0..<nv where allocatable[v] {
            let db = defBlock[v]
            for ub in useBlocks[v] where ub != db {
                // Live in at ub: every predecessor has it live out.
                if visited[Int(ub)] == Int32(v) { continue }
                visited[Int(ub)] = Int32(v)
                work.append(ub)
            }
            while let b = work.popLast() {
                budget -= 1
                if budget < 0 { throw .tooComplex }
                for p in f.blocks[Int(b)].preds where blockStart[Int(p)] >= 0 {
                    if blockEnd[Int(p)] > end[v] { end[v] = blockEnd[Int(p)] }
                    if p != db && visited[Int(p)] != Int32(v) {
                        visited[Int(p)] = Int32(v)
                        work.append(p)
                    }
                }
            }
        }

        // Clobber positions.
        var callPositions: [Int32] = []
        var gprClobberPositions: [(Int32, UInt32)] = []
        var xmmClobberPositions: [(Int32, UInt32)] = []
        for b in order {
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                if inst.op.isCall {
                    callPositions.append(instPosition[Int(i)])
                } else {
                    let (g, x) = machine.clobbers(inst, f)
                    if g != 0 { gprClobberPositions.append((instPosition[Int(i)], g)) }
                    if x != 0 { xmmClobberPositions.append((instPosition[Int(i)], x)) }
                }
            }
        }
        func firstAfter<T>(_ a: [T], _ p: Int32, _ key: (T) -> Int32) -> Int {
            var lo = 0, hi = a.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if key(a[mid]) <= p { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        /// Registers clobbered strictly inside (start, end).
        func clobbered(_ start: Int32, _ end: Int32, float: Bool) -> UInt32 {
            let c = firstAfter(callPositions, start) { $0 }
            if c < callPositions.count && callPositions[c] < end { return float ? machine.callClobberXMM : machine.callClobberGPR }
            let list = float ? xmmClobberPositions : gprClobberPositions
            var mask: UInt32 = 0
            var k = firstAfter(list, start) { $0.0 }
            while k < list.count && list[k].0 < end {
                mask |= list[k].1
                k += 1
            }
            return mask
        }

        // Intervals by start.
        var intervals: [Int32] = []
        for v in 0..<nv where allocatable[v] { intervals.append(Int32(v)) }
        intervals.sort { defPos[Int($0)] != defPos[Int($1)] ? defPos[Int($0)] < defPos[Int($1)] : $0 < $1 }

        var locations = [Location](repeating: .none, count: nv)
        var regOwner = [Int32](repeating: -1, count: 32)  // 0..15 gpr, 16..31 xmm
        var active: [Int32] = []  // allocated to registers
        var spilled: [Int32] = []
        func regIndex(_ l: Location) -> Int? {
            switch l {
            case .gpr(let r): Int(r)
            case .xmm(let x): 16 + Int(x)
            default: nil
            }
        }
        for v32 in intervals {
            let v = Int(v32)
            let start = defPos[v]
            // Expire intervals that ended.
            active.removeAll { a in
                if end[Int(a)] <= start {
                    if let r = regIndex(locations[Int(a)]) { regOwner[r] = -1 }
                    return true
                }
                return false
            }
            let float = f.values[v].type.isFloat
            let forbidden = clobbered(start, end[v], float: float)
            let candidates = float ? machine.xmms : machine.gprs
            func loc(_ r: UInt8) -> Location { float ? .xmm(r) : .gpr(r) }
            func isFree(_ r: UInt8) -> Bool { regOwner[(float ? 16 : 0) + Int(r)] < 0 && forbidden & (1 << UInt32(r)) == 0 }
            var chosen: UInt8?
            // Hints: the parameter this value is passed to, then the first operand of a
            // two-address instruction whose interval ends here.
            let hp = hintParam[v]
            if hp >= 0, let r = regIndex(locations[Int(hp)]), (r >= 16) == float {
                let reg = UInt8(r & 15)
                if isFree(reg) { chosen = reg }
            }
            if chosen == nil {
                let vi = f.values[v]
                if vi.inst >= 0 {
                    let inst = f.insts[Int(vi.inst)]
                    if !inst.a.isNone, let r = regIndex(locations[Int(inst.a.id)]), (r >= 16) == float {
                        let reg = UInt8(r & 15)
                        if isFree(reg) { chosen = reg }
                    }
                } else if let first = f.blocks[Int(vi.block)].preds.first,
                          case .jump(_, let args) = f.blocks[Int(first)].term,
                          let k = f.blocks[Int(vi.block)].params.firstIndex(of: IRValue(id: v32)),
                          let r = regIndex(locations[Int(args[k].id)]), (r >= 16) == float {
                    let reg = UInt8(r & 15)
                    if isFree(reg) { chosen = reg }
                }
            }
            if chosen == nil {
                for r in candidates where isFree(r) { chosen = r; break }
            }
            if chosen == nil {
                // Spill the cheapest of this interval and the active ones whose register it could use.
                var victim = -1
                var victimWeight = weight[v]
                var victimEnd = end[v]
                for a in active {
                    let ai = Int(a)
                    guard let r = regIndex(locations[ai]), (r >= 16) == float, forbidden & (1 << UInt32(r & 15)) == 0 else { continue }
                    if weight[ai] < victimWeight || (weight[ai] == victimWeight && end[ai] > victimEnd) {
                        victim = ai
                        victimWeight = weight[ai]
                        victimEnd = end[ai]
                    }
                }
                if victim >= 0 {
                    let r = regIndex(locations[victim])!
                    chosen = UInt8(r & 15)
                    regOwner[r] = -1
                    active.removeAll { $0 == Int32(victim) }
                    locations[victim] = .stack(-1)
                    spilled.append(Int32(victim))
                }
            }
            if let r = chosen {
                locations[v] = loc(r)
                regOwner[(float ? 16 : 0) + Int(r)] = v32
                active.append(v32)
            } else {
                locations[v] = .stack(-1)
                spilled.append(v32)
            }
        }

        // Spill slots: an interval takes a slot freed by one that ended before it starts.
        spilled.sort { defPos[Int($0)] != defPos[Int($1)] ? defPos[Int($0)] < defPos[Int($1)] : $0 < $1 }
        var slotFreeAt: [Int32] = []  // per slot: end of its last interval
        for s in spilled {
            let v = Int(s)
            var slot = -1
            for k in slotFreeAt.indices where slotFreeAt[k] < defPos[v] { slot = k; break }
            if slot < 0 { slot = slotFreeAt.count; slotFreeAt.append(0) }
            slotFreeAt[slot] = end[v]
            locations[v] = .stack(Int32(slot))
        }
        return RegisterAllocation(
            locations: locations, spillSlots: slotFreeAt.count, fused: fused,
            blockStart: blockStart, blockEnd: blockEnd, instPosition: instPosition)
    }
}
