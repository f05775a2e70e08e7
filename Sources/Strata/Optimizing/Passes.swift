/// The optimizing tier's passes over an `IRFunction`: trivial-parameter removal (the last step
/// of SSA construction), global value numbering with folding, redundant loads, dead-code
/// elimination, loop-invariant code motion (LoopInvariantCodeMotion.swift), and the block
/// order and dominator tree they and the back end use.
enum IRPasses {
    /// Runs the optimization pipeline.
    static func optimize(_ f: inout IRFunction) {
        let order = reversePostorder(f)
        globalValueNumbering(&f, order: order)
        eliminateRedundantLoads(&f)
        foldConstantBranches(&f)
        removeTrivialParams(&f)
        removeRedundantMasks(&f)
        eliminateDeadCode(&f)
        hoistLoopInvariants(&f)
        // Sibling blocks of a loop often compute the same invariant: once hoisted side by
        // side, they merge.
        globalValueNumbering(&f, order: reversePostorder(f))
        eliminateDeadCode(&f)
        removeRedundantInterruptChecks(&f)
        stripMineCountedLoops(&f)
        // (A strip's limit may leave a value its folding made unused: the distance d when
        // d - 1 folds to the counter.)
        eliminateDeadCode(&f)
        assignLoopDepths(&f)
        holdLoopConstants(&f)
    }

    /// Branches and tables on constants become jumps; blocks no longer reachable are dropped
    /// from the predecessor lists (so merges they fed may lose parameters).
    static func foldConstantBranches(_ f: inout IRFunction) {
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
        guard changed else { return }
        var reachable = [Bool](repeating: false, count: f.blocks.count)
        for b in reversePostorder(f) { reachable[Int(b)] = true }
        for b in f.blocks.indices where reachable[b] {
            f.blocks[b].preds.removeAll { !reachable[Int($0)] }
        }
    }

    // MARK: block order and dominators

    /// Blocks reachable from the entry in reverse postorder (a loop header before its body).
    /// At a branch the successor in a shallower loop is visited first, so it comes after the
    /// deeper one: loop bodies stay contiguous, with their exits after them.
    static func reversePostorder(_ f: IRFunction) -> [Int32] {
        // A parameterless block that only jumps on counts as its target (edge blocks).
        func depth(_ b: Int32) -> Int {
            let block = f.blocks[Int(b)]
            if block.insts.isEmpty, case .jump(let t, _) = block.term { return f.blocks[Int(t)].loopDepth }
            return block.loopDepth
        }
        var visited = [Bool](repeating: false, count: f.blocks.count)
        var post: [Int32] = []
        post.reserveCapacity(f.blocks.count)
        // Iterative DFS: (block, next successor index).
        var stack: [(Int32, Int)] = [(0, 0)]
        visited[0] = true
        while !stack.isEmpty {
            let (b, k) = stack[stack.count - 1]
            var succs = f.blocks[Int(b)].successors
            if succs.count == 2 && depth(succs[0]) < depth(succs[1]) { succs.swapAt(0, 1) }
            if k < succs.count {
                stack[stack.count - 1].1 = k + 1
                // Visit successors in reverse so the first successor ends up first in RPO.
                let s = succs[succs.count - 1 - k]
                if !visited[Int(s)] {
                    visited[Int(s)] = true
                    stack.append((s, 0))
                }
            } else {
                post.append(b)
                stack.removeLast()
            }
        }
        return post.reversed()
    }

    /// Immediate dominators (Cooper, Harvey and Kennedy), indexed by block; -1 for blocks
    /// not in `order`, the entry is its own.
    static func dominators(_ f: IRFunction, order: [Int32]) -> [Int32] {
        var rpoIndex = [Int](repeating: -1, count: f.blocks.count)
        for (i, b) in order.enumerated() { rpoIndex[Int(b)] = i }
        var idom = [Int32](repeating: -1, count: f.blocks.count)
        idom[0] = 0
        // Predecessors as recorded may include unreachable blocks: skip those.
        var changed = true
        while changed {
            changed = false
            for b in order.dropFirst() {
                var newIdom: Int32 = -1
                for p in predecessors(f, b) where rpoIndex[Int(p)] >= 0 && idom[Int(p)] >= 0 {
                    if newIdom < 0 { newIdom = p; continue }
                    var x = p, y = newIdom
                    while x != y {
                        while rpoIndex[Int(x)] > rpoIndex[Int(y)] { x = idom[Int(x)] }
                        while rpoIndex[Int(y)] > rpoIndex[Int(x)] { y = idom[Int(y)] }
                    }
                    newIdom = x
                }
                if newIdom >= 0 && idom[Int(b)] != newIdom {
                    idom[Int(b)] = newIdom
                    changed = true
                }
            }
        }
        return idom
    }

    /// The predecessors of `b` (distinct blocks).
    static func predecessors(_ f: IRFunction, _ b: Int32) -> [Int32] { f.blocks[Int(b)].preds }

    // MARK: SSA cleanup

    /// Removes block parameters whose arguments are all one value (or the parameter itself):
    /// what on-the-fly SSA construction leaves at merges and loop headers that did not need
    /// them. Iterates until none is left.
    static func removeTrivialParams(_ f: inout IRFunction) {
        var replacement = [Int32](repeating: -1, count: f.values.count)
        func resolve(_ v: IRValue) -> IRValue {
            var x = v
            while !x.isNone, replacement[Int(x.id)] >= 0 { x = IRValue(id: replacement[Int(x.id)]) }
            return x
        }
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
                        for pred in f.blocks[b].preds {
                            guard case .jump(let t, var args) = f.blocks[Int(pred)].term else { continue }
                            args.remove(at: k)
                            f.blocks[Int(pred)].term = .jump(target: t, args: args)
                        }
                        changed = true
                    }
                    k -= 1
                }
            }
        }
        f.rewriteOperands(resolve)
    }

    // MARK: global value numbering

    struct GVNKey: Hashable {
        var op: IROp
        var type: IRType?
        var a: IRValue, b: IRValue, c: IRValue
        var imm: UInt64, imm2: UInt64
    }

    /// Walks the dominator tree with a scoped table of pure instructions: an instruction equal
    /// to one in a dominating position is replaced by it; instructions whose operands became
    /// constants are folded.
    static func globalValueNumbering(_ f: inout IRFunction, order: [Int32]) {
        let idom = dominators(f, order: order)
        var children = [[Int32]](repeating: [], count: f.blocks.count)
        for b in order.dropFirst() where idom[Int(b)] >= 0 { children[Int(idom[Int(b)])].append(b) }
        var replacement = [Int32](repeating: -1, count: f.values.count)
        func resolve(_ v: IRValue) -> IRValue {
            var x = v
            while !x.isNone, replacement[Int(x.id)] >= 0 { x = IRValue(id: replacement[Int(x.id)]) }
            return x
        }
        var table: [GVNKey: IRValue] = [:]
        var undo: [GVNKey] = []
        // Iterative dominator-tree walk: enter a block, then its children; leave restores the table.
        var stack: [(block: Int32, child: Int, mark: Int)] = [(0, -1, 0)]
        while !stack.isEmpty {
            let top = stack.count - 1
            let b = stack[top].block
            if stack[top].child < 0 {
                stack[top].mark = undo.count
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
                    if let existing = table[key] {
                        replacement[Int(inst.result.id)] = existing.id
                    } else {
                        table[key] = inst.result
                        undo.append(key)
                    }
                }
            }
            let k = stack[top].child
            if k < children[Int(b)].count {
                stack[top].child = k + 1
                stack.append((children[Int(b)][k], -1, 0))
            } else {
                while undo.count > stack[top].mark { table.removeValue(forKey: undo.removeLast()) }
                stack.removeLast()
            }
        }
        f.rewriteOperands(resolve)
    }

    // MARK: dead code

    /// Removes pure instructions and block parameters whose values are never used.
    static func eliminateDeadCode(_ f: inout IRFunction) {
        var uses = f.useCounts(in: f.blocks.indices.map(Int32.init))
        var removed = [Bool](repeating: false, count: f.insts.count)
        // Only instructions still in a block count (and may go): one removed by an earlier pass
        // must not give back uses it no longer has.
        var placed = [Bool](repeating: false, count: f.insts.count)
        for b in f.blocks { for i in b.insts { placed[Int(i)] = true } }
        var work: [IRValue] = []
        for v in 0..<f.values.count where uses[v] == 0 { work.append(IRValue(id: Int32(v))) }
        while let v = work.popLast() {
            let info = f.values[Int(v.id)]
            if info.inst >= 0 {
                let inst = f.insts[Int(info.inst)]
                guard inst.op.isPure, placed[Int(info.inst)], !removed[Int(info.inst)] else { continue }
                removed[Int(info.inst)] = true
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
                    guard case .jump(let t, var args) = f.blocks[Int(pred)].term else { continue }
                    let a = args.remove(at: k)
                    f.blocks[Int(pred)].term = .jump(target: t, args: args)
                    uses[Int(a.id)] -= 1
                    if uses[Int(a.id)] == 0 { work.append(a) }
                }
            }
        }
        for b in f.blocks.indices { f.blocks[b].insts.removeAll { removed[Int($0)] } }
    }
}

extension IRPasses {
    struct LoadKey: Hashable {
        var opcode: UInt64
        var address: IRValue
        var offset: UInt64
        var memory: UInt32?
    }

    /// What is known at a point: global values and memory contents by (load opcode, address
    /// value, static offset).
    struct KnownValues {
        var globals: [UInt64: IRValue] = [:]
        var memory: [LoadKey: IRValue] = [:]
        static let limit = 64
    }

    /// Redundant load elimination and store-to-load forwarding over extended basic blocks (a
    /// block with one predecessor starts from what its predecessor ends with; others start
    /// knowing nothing). Alias model: globals, linear memory and everything else are disjoint;
    /// a store to memory forgets every memory location but its own (addresses may alias), a call
    /// or a builtin forgets everything. A load repeating one that succeeded cannot trap (memory
    /// never shrinks), so the repeat is removed; only full-width stores forward to loads.
    static func eliminateRedundantLoads(_ f: inout IRFunction) {
        let order = reversePostorder(f)
        var reachable = [Bool](repeating: false, count: f.blocks.count)
        for b in order { reachable[Int(b)] = true }
        var exit: [Int32: KnownValues] = [:]
        var replacement = [Int32](repeating: -1, count: f.values.count)
        func resolve(_ v: IRValue) -> IRValue {
            var x = v
            while !x.isNone, replacement[Int(x.id)] >= 0 { x = IRValue(id: replacement[Int(x.id)]) }
            return x
        }
        var removed = Set<Int32>()
        for b in order {
            let preds = f.blocks[Int(b)].preds.filter { reachable[Int($0)] }
            var known = preds.count == 1 && !f.blocks[Int(b)].isLoopHeader ? exit[preds[0]] ?? KnownValues() : KnownValues()
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                switch inst.op {
                case .globalGet:
                    if let v = known.globals[inst.imm] {
                        replacement[Int(inst.result.id)] = v.id
                        removed.insert(i)
                    } else if known.globals.count < KnownValues.limit {
                        known.globals[inst.imm] = inst.result
                    }
                case .globalSet:
                    known.globals[inst.imm] = resolve(inst.a)
                case .load where !inst.b.isNone:
                    break  // a lane load: its result depends on the vector too
                case .load:
                    let key = LoadKey(opcode: inst.imm, address: resolve(inst.a), offset: inst.imm2, memory: inst.memory)
                    if let v = known.memory[key] {
                        replacement[Int(inst.result.id)] = v.id
                        removed.insert(i)
                    } else if known.memory.count < KnownValues.limit {
                        known.memory[key] = inst.result
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
                    if let load { known.memory[LoadKey(opcode: load, address: resolve(inst.a), offset: inst.imm2, memory: inst.memory)] = resolve(inst.b) }
                case .call, .callIndirect, .callRef, .builtin, .throw, .catchClause, .landing:
                    known = KnownValues()
                default:
                    break
                }
            }
            exit[b] = known
        }
        guard !removed.isEmpty else { return }
        for b in f.blocks.indices { f.blocks[b].insts.removeAll { removed.contains($0) } }
        f.rewriteOperands(resolve)
    }
}
