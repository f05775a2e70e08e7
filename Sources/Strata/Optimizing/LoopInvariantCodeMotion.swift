/// Loops of an `IRFunction` (natural loops from back edges) and loop-invariant code motion.
extension IRPasses {
    struct Loop {
        var header: Int32
        /// The blocks of the loop, header included, in reverse postorder.
        var body: [Int32]
        /// The one block outside the loop that enters it, ending in a jump to the header (nil:
        /// the loop has no such block and nothing is hoisted out of it).
        var preheader: Int32?

        /// Whether no other loop's header (of `headers`, every loop's) is in this loop's body.
        func isInnermost(headers: Set<Int32>) -> Bool {
            !body.contains { $0 != header && headers.contains($0) }
        }
    }

    /// Whether block `a` dominates block `b`, by the immediate dominators `idom` (`dominators`).
    static func dominates(_ a: Int32, _ b: Int32, idom: [Int32]) -> Bool {
        var x = b
        while true {
            if x == a { return true }
            let up = idom[Int(x)]
            if up < 0 || up == x { return false }
            x = up
        }
    }

    /// The natural loops of `f`, innermost first (a loop's body comes before any loop that
    /// contains it). A back edge is an edge to a block that dominates its source.
    static func loops(_ f: IRFunction, order: [Int32], idom: [Int32]) -> [Loop] {
        var rpoIndex = [Int](repeating: -1, count: f.blocks.count)
        for (i, b) in order.enumerated() { rpoIndex[Int(b)] = i }
        /// A dominator comes first in reverse postorder: only an edge from a block at or after
        /// `h` can be a back edge, and the walk up the dominator tree stops below `h`.
        func isBackEdge(from p: Int32, to h: Int32) -> Bool {
            let limit = rpoIndex[Int(h)]
            var x = p
            while rpoIndex[Int(x)] >= limit {
                if x == h { return true }
                let up = idom[Int(x)]
                if up < 0 || up == x { return false }
                x = up
            }
            return false
        }
        var loops: [Loop] = []
        var mark = [Int](repeating: -1, count: f.blocks.count)
        // Scratch, kept across loops: the backward walk's work list and the body's sort keys.
        var work: [Int32] = [], keys: [UInt64] = []
        f.blocks.withUnsafeBufferPointer { blocks in
            // Only a marked header can be entered by a back edge (`IRFunction.hasLoopHeaders`).
            for h in order where blocks[Int(h)].isLoopHeader {
                // The latches (the sources of back edges into h), then the body: every block
                // reaching a latch backwards without passing the header.
                work.removeAll(keepingCapacity: true)
                for p in blocks[Int(h)].preds where isBackEdge(from: p, to: h) { work.append(p) }
                guard !work.isEmpty else { continue }
                let id = loops.count
                mark[Int(h)] = id
                keys.removeAll(keepingCapacity: true)
                keys.append(UInt64(rpoIndex[Int(h)]) << 32 | UInt64(UInt32(h)))
                while let b = work.popLast() {
                    guard mark[Int(b)] != id else { continue }
                    mark[Int(b)] = id
                    keys.append(UInt64(rpoIndex[Int(b)]) << 32 | UInt64(UInt32(b)))
                    for p in blocks[Int(b)].preds where rpoIndex[Int(p)] >= 0 { work.append(p) }
                }
                // In reverse postorder (packed keys: no closure per comparison).
                keys.sort()
                let body = keys.map { Int32(truncatingIfNeeded: $0) }
                var outside = 0, entry: Int32 = -1
                for p in blocks[Int(h)].preds where rpoIndex[Int(p)] >= 0 && mark[Int(p)] != id { outside += 1; entry = p }
                var preheader: Int32?
                if outside == 1, case .jump(let t, _) = blocks[Int(entry)].term, t == h { preheader = entry }
                loops.append(Loop(header: h, body: body, preheader: preheader))
            }
        }
        // Innermost first: a loop nested in another has fewer blocks.
        return loops.sorted { $0.body.count < $1.body.count }
    }

    /// The headers of the innermost loops of `f` (loops with no other loop header in their
    /// body), `order` its reverse postorder.
    static func innermostLoopHeaders(_ f: IRFunction, order: [Int32]) -> Set<Int32> {
        innermostLoopHeaders(loops(f, order: order, idom: dominators(f, order: order)))
    }

    /// The headers of the innermost of `loops` (`loops(_:order:idom:)`).
    static func innermostLoopHeaders(_ loops: [Loop]) -> Set<Int32> {
        let headers = Set(loops.map(\.header))
        return Set(loops.filter { $0.isInnermost(headers: headers) }.map(\.header))
    }

    /// Sets each block's loop depth to the number of natural loops containing it. The builder's
    /// depth is the Wasm nesting where a block was created, which counts the code after a loop
    /// that ends by falling through (it continues in a block made inside the loop) as in the
    /// loop; block order and the allocator's weights want the loops the code really runs in.
    static func assignLoopDepths(_ f: inout IRFunction, idom: [Int32]? = nil) {
        let order = reversePostorder(f)
        let loops = loops(f, order: order, idom: idom ?? dominators(f, order: order))
        var depth = [Int](repeating: 0, count: f.blocks.count)
        for loop in loops { for b in loop.body { depth[Int(b)] += 1 } }
        for b in order { f.blocks[Int(b)].loopDepth = depth[Int(b)] }
    }

    /// Moves pure instructions whose operands are all defined outside their loop to the end of
    /// the loop's preheader, innermost loops first (so an invariant of two nested loops moves
    /// out of both). Constants move too (they cost nothing: immediates at their uses), so the
    /// value numbering after this pass merges equal invariants hoisted from sibling blocks.
    /// Anything that may trap or touch memory stays: moving a load above a store or a trap would change what
    /// the program sees. Hoisting pure code out of a branch inside the loop is safe (it cannot
    /// trap) and costs at most one evaluation per entry into the loop.
    /// Returns the reverse postorder it walked (the graph's edges are unchanged).
    @discardableResult
    static func hoistLoopInvariants(_ f: inout IRFunction, idom known: [Int32]? = nil) -> [Int32] {
        let order = reversePostorder(f)
        let idom = known ?? dominators(f, order: order)
        let loops = loops(f, order: order, idom: idom)
        guard !loops.isEmpty else { return order }
        var inLoop = [Int](repeating: -1, count: f.blocks.count)
        for (id, loop) in loops.enumerated() {
            guard let preheader = loop.preheader else { continue }
            for b in loop.body { inLoop[Int(b)] = id }
            func invariant(_ v: IRValue) -> Bool { inLoop[Int(f.values[Int(v.id)].block)] != id || f.constant(v) != nil }
            var hoisted: [Int32] = []
            for b in loop.body {
                var kept: [Int32] = []
                kept.reserveCapacity(f.blocks[Int(b)].insts.count)
                for i in f.blocks[Int(b)].insts {
                    let inst = f.insts[Int(i)]
                    var movable = inst.op.isPure && inst.op != .param
                    if movable { f.forEachOperand(inst) { if !invariant($0) { movable = false } } }
                    if movable {
                        hoisted.append(i)
                        f.values[Int(inst.result.id)].block = preheader
                    } else {
                        kept.append(i)
                    }
                }
                f.blocks[Int(b)].insts = kept
            }
            f.blocks[Int(preheader)].insts += hoisted
        }
        return order
    }
}

extension IRPasses {
    /// Float and vector constants used in a loop deeper than the block that defines them (LICM
    /// moved them to the outermost preheader) become `heldConst`: the allocator gives them a
    /// location like any other value, so an iteration reads a register where it loaded the
    /// constant from the pool at every use (with the loop's own loads and stores, such loads
    /// can be what limits it). Zero stays a constant (`xorps` loads nothing), integers stay
    /// immediates, and a held constant the allocator spills is read from its slot, no worse
    /// than from the pool. A shuffle's lane indices are an immediate the lowering reads from
    /// their constant, so a constant used as one stays. Needs the loop depths (`assignLoopDepths`).
    static func holdLoopConstants(_ f: inout IRFunction, order known: [Int32]? = nil) {
        let order = known ?? reversePostorder(f)
        var deepest = [Int](repeating: 0, count: f.values.count)
        var immediate = [Bool](repeating: false, count: f.values.count)
        for b in order {
            let depth = f.blocks[Int(b)].loopDepth
            func note(_ v: IRValue) { deepest[Int(v.id)] = max(deepest[Int(v.id)], depth) }
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                if inst.isShuffle { immediate[Int(inst.c.id)] = true }
                if depth > 0 { f.forEachOperand(inst, note) }
            }
            if depth > 0 { f.forEachOperand(f.blocks[Int(b)].term, note) }
        }
        for b in order {
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                guard inst.op == .const, let t = inst.type, t.isFloat || t == .v128, !immediate[Int(inst.result.id)],
                      deepest[Int(inst.result.id)] > f.blocks[Int(b)].loopDepth else { continue }
                let bits = t == .f32 ? inst.imm & 0xFFFF_FFFF : inst.imm
                if bits == 0 && (t != .v128 || inst.imm2 == 0) { continue }
                f.insts[Int(i)].op = .heldConst
            }
        }
    }
}
