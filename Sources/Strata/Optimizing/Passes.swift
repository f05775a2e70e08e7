/// The optimizing tier's passes over an `IRFunction`: trivial-parameter removal (the last step
/// of SSA construction), global value numbering with folding, redundant loads, dead-code
/// elimination, loop-invariant code motion (LoopInvariantCodeMotion.swift), and the block
/// order and dominator tree they and the back end use.
enum IRPasses {
    /// Runs the optimization pipeline. Returns the immediate dominators of the resulting
    /// control-flow graph (for the register allocator's loops) and its final reverse postorder
    /// (the block order of the back end).
    ///
    /// The dominator tree depends only on the graph's edges, not on which reverse postorder
    /// computed it, and only two passes change edges (constant branches folded, loops strip
    /// mined; each says whether it did): the tree is computed again after those alone. The
    /// order is passed on the same way to the passes whose result does not depend on which
    /// reverse postorder of the same graph they walk (value numbering walks the dominator tree,
    /// redundant loads extend a block's predecessor, held constants take maxima); a reverse
    /// postorder's choices at branches depend on loop depths and on which blocks are empty, so
    /// the passes that keep their own (known bits, the loop passes) and the final order
    /// compute it again.
    @discardableResult
    static func optimize(_ f: inout IRFunction) -> (idom: [Int32], order: [Int32]) {
        var order = reversePostorder(f)
        var idom = dominators(f, order: order)
        globalValueNumbering(&f, order: order, idom: idom)
        eliminateRedundantLoads(&f, order: order)
        if foldConstantBranches(&f) {
            order = reversePostorder(f)
            idom = dominators(f, order: order)
        }
        removeTrivialParams(&f)
        removeRedundantMasks(&f)
        eliminateDeadCode(&f)
        // Without loops (`hasLoopHeaders`) the loop passes would each find none, and every
        // block's depth is 0 already.
        guard f.hasLoopHeaders else {
            globalValueNumbering(&f, order: order, idom: idom)
            eliminateDeadCode(&f)
            return (idom, reversePostorder(f))
        }
        let walked = hoistLoopInvariants(&f, idom: idom)
        // Sibling blocks of a loop often compute the same invariant: once hoisted side by
        // side, they merge.
        globalValueNumbering(&f, order: walked, idom: idom)
        eliminateDeadCode(&f)
        removeRedundantInterruptChecks(&f, idom: idom)
        if stripMineCountedLoops(&f, idom: idom) {
            idom = dominators(f, order: reversePostorder(f))
            // (A strip's limit may leave a value its folding made unused: the distance d when
            // d - 1 folds to the counter.)
            eliminateDeadCode(&f)
        }
        assignLoopDepths(&f, idom: idom)
        let final = reversePostorder(f)
        holdLoopConstants(&f, order: final)
        return (idom, final)
    }

    /// Branches and tables on constants become jumps; blocks no longer reachable are dropped
    /// from the predecessor lists (so merges they fed may lose parameters). Returns whether
    /// an edge changed.
    @discardableResult
    static func foldConstantBranches(_ f: inout IRFunction) -> Bool {
        var changed = false
        for b in f.blocks.indices {
            switch f.blocks[b].term {
            case .branch(let c, let t, let e):
                guard let bits = f.constant(c) else { continue }
                f.blocks[b].term = .jump(target: bits & 0xFFFF_FFFF != 0 ? t : e, args: [])
                changed = true
            case .table(let i, let targets):
                guard let bits = f.constant(i) else { continue }
                f.blocks[b].term = .jump(target: targets[Int(min(bits & 0xFFFF_FFFF, UInt64(targets.count - 1)))], args: [])
                changed = true
            default:
                continue
            }
        }
        guard changed else { return false }
        var reachable = [Bool](repeating: false, count: f.blocks.count)
        for b in reversePostorder(f) { reachable[Int(b)] = true }
        for b in f.blocks.indices where reachable[b] {
            f.blocks[b].preds.removeAll { !reachable[Int($0)] }
        }
        return true
    }

    // MARK: block order and dominators

    /// Blocks reachable from the entry in reverse postorder (a loop header before its body).
    /// At a branch the successor in a shallower loop is visited first, so it comes after the
    /// deeper one: loop bodies stay contiguous, with their exits after them.
    static func reversePostorder(_ f: IRFunction) -> [Int32] {
        let n = f.blocks.count
        var post: [Int32] = []
        post.reserveCapacity(n)
        f.blocks.withUnsafeBufferPointer { blocks in
            /// How many successors block b has below: its terminator's, then its landing block.
            func successorCount(_ b: Int) -> Int {
                let landing = blocks[b].unwind >= 0 ? 1 : 0
                switch blocks[b].term {
                case .none, .ret, .trap, .leave, .raise: return landing
                case .jump: return 1 + landing
                case .branch: return 2 + landing
                case .table(_, let targets): return targets.count + landing
                }
            }
            /// A block's loop depth, or its target's for an edge block (a block that only jumps on).
            func depth(_ b: Int32) -> Int {
                if case .jump(let t, _) = blocks[Int(b)].term, blocks[Int(b)].insts.isEmpty { return blocks[Int(t)].loopDepth }
                return blocks[Int(b)].loopDepth
            }
            var total = 0
            for b in 0..<n { total += successorCount(b) }
            // One scratch allocation: successor starts (n + 1), successors (flat: per block its
            // terminator's, then its landing block), the DFS stack (block, successors left;
            // each block is pushed once), and the visited marks.
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: (n + 1) + total + 3 * n) { scratch in
                let succStart = scratch.baseAddress!
                let succs = succStart + (n + 1)
                let stackBlock = succs + total, stackLeft = stackBlock + n, visited = stackLeft + n
                var k: Int32 = 0
                for b in 0..<n {
                    succStart[b] = k
                    visited[b] = 0
                    switch blocks[b].term {
                    case .none, .ret, .trap, .leave, .raise: break
                    case .jump(let t, _): succs[Int(k)] = t; k += 1
                    case .branch(_, let t, let e): succs[Int(k)] = t; succs[Int(k) + 1] = e; k += 2
                    case .table(_, let targets):
                        for t in targets { succs[Int(k)] = t; k += 1 }
                    }
                    if blocks[b].unwind >= 0 { succs[Int(k)] = blocks[b].unwind; k += 1 }
                }
                succStart[n] = k
                // A block of two successors lists the one in the deeper loop first (it is
                // visited last).
                for b in 0..<n where succStart[b + 1] - succStart[b] == 2 {
                    let i = Int(succStart[b])
                    if depth(succs[i]) < depth(succs[i + 1]) { swap(&succs[i], &succs[i + 1]) }
                }
                // Iterative DFS, successors counted down so the first is visited last and ends
                // up first in reverse postorder.
                guard n > 0 else { return }
                var top = 0
                stackBlock[0] = 0
                stackLeft[0] = succStart[1] - succStart[0]
                visited[0] = 1
                while top >= 0 {
                    let b = Int(stackBlock[top]), left = stackLeft[top]
                    if left > 0 {
                        stackLeft[top] = left - 1
                        let s = succs[Int(succStart[b] + left - 1)]
                        if visited[Int(s)] == 0 {
                            visited[Int(s)] = 1
                            top += 1
                            stackBlock[top] = s
                            stackLeft[top] = succStart[Int(s) + 1] - succStart[Int(s)]
                        }
                    } else {
                        post.append(Int32(b))
                        top -= 1
                    }
                }
            }
        }
        post.reverse()
        return post
    }

    /// Immediate dominators (Cooper, Harvey and Kennedy), indexed by block; -1 for blocks
    /// not in `order`, the entry is its own.
    static func dominators(_ f: IRFunction, order: [Int32]) -> [Int32] {
        // In reverse-postorder numbers, with the predecessors in one flat list (predecessors as
        // recorded may include unreachable blocks: those are left out).
        let n = order.count
        var rpoIndex = [Int32](repeating: -1, count: f.blocks.count)
        for (i, b) in order.enumerated() { rpoIndex[Int(b)] = Int32(i) }
        var predStart = [Int32](repeating: 0, count: n + 1)
        var preds: [Int32] = []
        preds.reserveCapacity(n + n / 2)
        f.blocks.withUnsafeBufferPointer { blocks in
            for (i, b) in order.enumerated() {
                predStart[i] = Int32(preds.count)
                for p in blocks[Int(b)].preds where rpoIndex[Int(p)] >= 0 { preds.append(rpoIndex[Int(p)]) }
            }
        }
        predStart[n] = Int32(preds.count)
        var idom = [Int32](repeating: -1, count: n)
        idom[0] = 0
        var changed = true
        while changed {
            changed = false
            for i in 1..<max(n, 1) {
                var newIdom: Int32 = -1
                for k in Int(predStart[i])..<Int(predStart[i + 1]) {
                    let p = preds[k]
                    guard idom[Int(p)] >= 0 else { continue }
                    if newIdom < 0 { newIdom = p; continue }
                    var x = p, y = newIdom
                    while x != y {
                        while x > y { x = idom[Int(x)] }
                        while y > x { y = idom[Int(y)] }
                    }
                    newIdom = x
                }
                if newIdom >= 0 && idom[i] != newIdom {
                    idom[i] = newIdom
                    changed = true
                }
            }
        }
        var result = [Int32](repeating: -1, count: f.blocks.count)
        for i in 0..<n where idom[i] >= 0 { result[Int(order[i])] = order[Int(idom[i])] }
        return result
    }

    /// `v` through a replacement map (value id -> the id replacing it, -1: kept), to the end
    /// of its chain.
    static func resolve(_ v: IRValue, _ replacement: [Int32]) -> IRValue {
        var x = v
        while !x.isNone, replacement[Int(x.id)] >= 0 { x = IRValue(id: replacement[Int(x.id)]) }
        return x
    }

    /// Every operand of `f` through `replacement` (`resolve`). The map is a constant for the
    /// closure (a captured variable would be checked for exclusive access at run time).
    static func rewrite(_ f: inout IRFunction, through replacement: [Int32]) {
        // A pass that replaced nothing (value numbering's second run, mostly) rewrites nothing.
        guard replacement.contains(where: { $0 >= 0 }) else { return }
        f.rewriteOperands { resolve($0, replacement) }
    }

    // MARK: SSA cleanup

    /// Removes block parameters whose arguments are all one value (or the parameter itself):
    /// what on-the-fly SSA construction leaves at merges and loop headers that did not need
    /// them. Iterates until none is left.
    static func removeTrivialParams(_ f: inout IRFunction) {
        var replacement = [Int32](repeating: -1, count: f.values.count)
        func resolve(_ v: IRValue) -> IRValue { IRPasses.resolve(v, replacement) }
        var changed = true
        while changed {
            changed = false
            for b in f.blocks.indices where !f.blocks[b].params.isEmpty && !f.blocks[b].preds.isEmpty {
                var k = f.blocks[b].params.count - 1
                while k >= 0 {
                    let p = f.blocks[b].params[k]
                    var same: IRValue?
                    var trivial = true
                    for pred in f.blocks[b].preds {
                        guard case .jump(_, let args) = f.blocks[Int(pred)].term else { preconditionFailure("a block with parameters entered without a jump") }
                        let a = resolve(args[k])
                        if a == p || a == same { continue }
                        if same != nil { trivial = false; break }
                        same = a
                    }
                    if trivial, let same {
                        replacement[Int(p.id)] = same.id
                        f.blocks[b].params.remove(at: k)
                        for pred in f.blocks[b].preds { f.editJumpArgs(pred) { _ = $0.remove(at: k) } }
                        changed = true
                    }
                    k -= 1
                }
            }
        }
        rewrite(&f, through: replacement)
    }

    // MARK: global value numbering

    struct GVNKey: Equatable {
        var op: IROp
        var type: IRType?
        var a: IRValue, b: IRValue, c: IRValue
        var imm: UInt64, imm2: UInt64

        var hash: UInt64 {
            let k: UInt64 = 0x9E37_79B9_7F4A_7C15
            var h = (UInt64(op.rawValue) | UInt64(type?.rawValue ?? 0xFF) << 8) &* k
            h = (h ^ UInt64(UInt32(bitPattern: a.id))) &* k
            h = (h ^ UInt64(UInt32(bitPattern: b.id))) &* k
            h = (h ^ UInt64(UInt32(bitPattern: c.id))) &* k
            h = (h ^ imm) &* k
            h = (h ^ imm2) &* k
            return h ^ (h >> 29)
        }
    }

    /// The scoped table of value numbering: open addressing with linear probing over indices
    /// into a stack of entries. Entries leave in the reverse order they came (the dominator-tree
    /// walk leaving a block), and removing the newest entry never breaks another's probe chain
    /// (every slot an entry probed past held an older entry, still present), so its slot is
    /// simply cleared. No hasher, no per-entry allocation.
    struct ScopedValueTable {
        private var slots = [Int32](repeating: -1, count: 256)
        private var entries: [(key: GVNKey, value: IRValue, slot: Int32)] = []
        var count: Int { entries.count }

        func find(_ key: GVNKey) -> IRValue? {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: key.hash) & mask
            while slots[i] >= 0 {
                let e = entries[Int(slots[i])]
                if e.key == key { return e.value }
                i = (i + 1) & mask
            }
            return nil
        }

        /// Adds a key that is not in the table.
        mutating func insert(_ key: GVNKey, _ value: IRValue) {
            if 2 * (entries.count + 1) > slots.count { grow() }
            entries.append((key, value, place(key, Int32(entries.count))))
        }

        /// Removes the newest entries until `count` are left.
        mutating func removeLast(downTo count: Int) {
            while entries.count > count { slots[Int(entries.removeLast().slot)] = -1 }
        }

        private mutating func place(_ key: GVNKey, _ index: Int32) -> Int32 {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: key.hash) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = index
            return Int32(i)
        }

        /// Twice the slots, entries placed again oldest first (their probe chains as before).
        private mutating func grow() {
            slots = [Int32](repeating: -1, count: 2 * slots.count)
            for k in entries.indices { entries[k].slot = place(entries[k].key, Int32(k)) }
        }
    }

    /// Walks the dominator tree with a scoped table of pure instructions: an instruction equal
    /// to one in a dominating position is replaced by it; instructions whose operands became
    /// constants are folded.
    /// `idom`: the immediate dominators, when known (`dominators`).
    static func globalValueNumbering(_ f: inout IRFunction, order: [Int32], idom known: [Int32]? = nil) {
        let idom = known ?? dominators(f, order: order)
        // The dominator tree's children, flat (a counting sort by parent, in reverse postorder).
        var childStart = [Int32](repeating: 0, count: f.blocks.count + 1)
        for b in order.dropFirst() where idom[Int(b)] >= 0 { childStart[Int(idom[Int(b)]) + 1] += 1 }
        for b in 0..<f.blocks.count { childStart[b + 1] += childStart[b] }
        var childList = [Int32](repeating: 0, count: Int(childStart[f.blocks.count]))
        var fill = childStart
        for b in order.dropFirst() where idom[Int(b)] >= 0 {
            childList[Int(fill[Int(idom[Int(b)])])] = b
            fill[Int(idom[Int(b)])] += 1
        }
        var replacement = [Int32](repeating: -1, count: f.values.count)
        func resolve(_ v: IRValue) -> IRValue { IRPasses.resolve(v, replacement) }
        var table = ScopedValueTable()
        // Iterative dominator-tree walk: enter a block, then its children; leave restores the table.
        var stack: [(block: Int32, child: Int, mark: Int)] = [(0, -1, 0)]
        while !stack.isEmpty {
            let top = stack.count - 1
            let b = stack[top].block
            if stack[top].child < 0 {
                stack[top].mark = table.count
                stack[top].child = 0
                for i in f.blocks[Int(b)].insts {
                    var inst = f.insts[Int(i)]
                    if !inst.a.isNone { inst.a = resolve(inst.a) }
                    if !inst.b.isNone { inst.b = resolve(inst.b) }
                    if !inst.c.isNone { inst.c = resolve(inst.c) }
                    if inst.op.isCommutative {
                        // Canonical operand order: constants second, otherwise by value number.
                        let ka = f.constant(inst.a) != nil, kb = f.constant(inst.b) != nil
                        if ka && !kb || (ka == kb && inst.b < inst.a) { swap(&inst.a, &inst.b) }
                    }
                    f.insts[Int(i)] = inst
                    guard inst.op.isPure, inst.op != .param else { continue }
                    if let r = Simplifier.simplify(inst, f) {
                        switch r {
                        case .value(let v):
                            replacement[Int(inst.result.id)] = v.id
                            continue
                        case .constant(let bits, let high):
                            f.insts[Int(i)] = IRInst(op: .const, type: inst.type, imm: bits, imm2: high, result: inst.result)
                            inst = f.insts[Int(i)]
                        }
                    }
                    let key = GVNKey(op: inst.op, type: inst.type, a: inst.a, b: inst.b, c: inst.c, imm: inst.imm, imm2: inst.imm2)
                    if let existing = table.find(key) {
                        replacement[Int(inst.result.id)] = existing.id
                    } else {
                        table.insert(key, inst.result)
                    }
                }
            }
            let k = stack[top].child
            if k < Int(childStart[Int(b) + 1] - childStart[Int(b)]) {
                stack[top].child = k + 1
                stack.append((childList[Int(childStart[Int(b)]) + k], -1, 0))
            } else {
                table.removeLast(downTo: stack[top].mark)
                stack.removeLast()
            }
        }
        rewrite(&f, through: replacement)
    }

    // MARK: dead code

    /// Removes pure instructions and block parameters whose values are never used.
    static func eliminateDeadCode(_ f: inout IRFunction) {
        var uses = f.useCounts(in: f.blocks.indices.map(Int32.init))
        var removed = [Bool](repeating: false, count: f.insts.count)
        // Only instructions still in a block count (and may go): one removed by an earlier pass
        // must not give back uses it no longer has.
        var placed = [Bool](repeating: false, count: f.insts.count)
        f.blocks.withUnsafeBufferPointer { blocks in
            for b in blocks.indices { for i in blocks[b].insts { placed[Int(i)] = true } }
        }
        var anyRemoved = false
        var work: [IRValue] = []
        for v in 0..<f.values.count where uses[v] == 0 { work.append(IRValue(id: Int32(v))) }
        while let v = work.popLast() {
            let info = f.values[Int(v.id)]
            if info.inst >= 0 {
                let inst = f.insts[Int(info.inst)]
                guard inst.op.isPure, placed[Int(info.inst)], !removed[Int(info.inst)] else { continue }
                removed[Int(info.inst)] = true
                anyRemoved = true
                f.forEachOperand(inst) { o in
                    uses[Int(o.id)] -= 1
                    if uses[Int(o.id)] == 0 { work.append(o) }
                }
            } else {
                // A block parameter: drop it and its arguments.
                let b = Int(info.block)
                guard let k = f.blocks[b].params.firstIndex(of: v) else { continue }
                f.blocks[b].params.remove(at: k)
                for pred in f.blocks[b].preds {
                    guard let a = f.editJumpArgs(pred, { $0.remove(at: k) }) else { continue }
                    uses[Int(a.id)] -= 1
                    if uses[Int(a.id)] == 0 { work.append(a) }
                }
            }
        }
        guard anyRemoved else { return }
        for b in f.blocks.indices { f.blocks[b].insts.removeAll { removed[Int($0)] } }
    }
}

extension IRPasses {
    struct LoadKey: Equatable {
        var opcode: UInt64
        var address: IRValue
        var offset: UInt64
        var memory: UInt32?
    }

    /// What is known at a point: global values and memory contents by (load opcode, address
    /// value, static offset). At most `limit` of each, in small lists searched in order: cheaper
    /// to search, and to copy into each successor, than hashed tables.
    struct KnownValues {
        var globals: [(index: UInt64, value: IRValue)] = []
        var memory: [(key: LoadKey, value: IRValue)] = []
        static let limit = 64

        func global(_ index: UInt64) -> IRValue? { globals.first { $0.index == index }?.value }
        mutating func setGlobal(_ index: UInt64, _ value: IRValue) {
            if let k = globals.firstIndex(where: { $0.index == index }) { globals[k].value = value } else { globals.append((index, value)) }
        }
        func load(_ key: LoadKey) -> IRValue? { memory.first { $0.key == key }?.value }
        mutating func setLoad(_ key: LoadKey, _ value: IRValue) {
            if let k = memory.firstIndex(where: { $0.key == key }) { memory[k].value = value } else { memory.append((key, value)) }
        }
    }

    /// Redundant load elimination and store-to-load forwarding over extended basic blocks (a
    /// block with one predecessor starts from what its predecessor ends with; others start
    /// knowing nothing). Alias model: globals, linear memory and everything else are disjoint;
    /// a store to memory forgets every memory location but its own (addresses may alias), a call
    /// or a builtin forgets everything. A load repeating one that succeeded cannot trap (memory
    /// never shrinks), so the repeat is removed; only full-width stores forward to loads.
    static func eliminateRedundantLoads(_ f: inout IRFunction, order known: [Int32]? = nil) {
        let order = known ?? reversePostorder(f)
        var reachable = [Bool](repeating: false, count: f.blocks.count)
        for b in order { reachable[Int(b)] = true }
        var exit = [KnownValues?](repeating: nil, count: f.blocks.count)
        var replacement = [Int32](repeating: -1, count: f.values.count)
        func resolve(_ v: IRValue) -> IRValue { IRPasses.resolve(v, replacement) }
        var removed = [Bool](repeating: false, count: f.insts.count)
        var anyRemoved = false
        for b in order {
            // Known values carry over from a block's one reached predecessor.
            var reachedPreds = 0, pred: Int32 = -1
            for p in f.blocks[Int(b)].preds where reachable[Int(p)] { reachedPreds += 1; pred = p }
            var known = reachedPreds == 1 && !f.blocks[Int(b)].isLoopHeader ? exit[Int(pred)] ?? KnownValues() : KnownValues()
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                switch inst.op {
                case .globalGet:
                    if let v = known.global(inst.imm) {
                        replacement[Int(inst.result.id)] = v.id
                        removed[Int(i)] = true
                        anyRemoved = true
                    } else if known.globals.count < KnownValues.limit {
                        known.setGlobal(inst.imm, inst.result)
                    }
                case .globalSet:
                    known.setGlobal(inst.imm, resolve(inst.a))
                case .load where !inst.b.isNone:
                    break  // a lane load: its result depends on the vector too
                case .load:
                    let key = LoadKey(opcode: inst.imm, address: resolve(inst.a), offset: inst.imm2, memory: inst.memory)
                    if let v = known.load(key) {
                        replacement[Int(inst.result.id)] = v.id
                        removed[Int(i)] = true
                        anyRemoved = true
                    } else if known.memory.count < KnownValues.limit {
                        known.setLoad(key, inst.result)
                    }
                case .store:
                    known.memory.removeAll(keepingCapacity: true)
                    // Full-width stores forward: i32, i64, f32, f64, v128 stores to the loads of the same type.
                    let load: UInt64? = switch inst.imm {
                    case 0x36: 0x28
                    case 0x37: 0x29
                    case 0x38: 0x2A
                    case 0x39: 0x2B
                    case 0xFD0B: 0xFD00  // v128.store, v128.load
                    default: nil
                    }
                    if let load { known.setLoad(LoadKey(opcode: load, address: resolve(inst.a), offset: inst.imm2, memory: inst.memory), resolve(inst.b)) }
                case .call, .callIndirect, .callRef, .builtin, .throw, .catchClause, .landing:
                    known = KnownValues()
                default:
                    break
                }
            }
            exit[Int(b)] = known
        }
        guard anyRemoved else { return }
        for b in f.blocks.indices { f.blocks[b].insts.removeAll { removed[Int($0)] } }
        rewrite(&f, through: replacement)
    }
}
