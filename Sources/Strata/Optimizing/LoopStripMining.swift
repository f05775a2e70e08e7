/// Strip mining of counted loops whose bound is not known at compile time: the interrupt
/// check moves from every iteration to every `strip` iterations.
extension IRPasses {
    /// The most IR instructions of a loop body this pass strip-mines (a larger body's check is
    /// a small part of its iteration).
    static let stripMinedBodyLimit = 128

    /// Strip-mines every innermost loop without calls that still has its interrupt check and
    /// has the shape C compilers give `for (i = start; i < n; i += s)` (rotated: the test at
    /// the bottom): one back edge, from a block without instructions entered by the exit
    /// test's branch; the test compares the stepped counter `x = p + s` (a header parameter
    /// `p`, a constant `s`) with a loop-invariant `n` and continues while `x != n` (s a power
    /// of two, either sign), `x < n` (s > 0) or `x > n` (s < 0), signed or unsigned.
    ///
    /// ```
    /// entries -> OH(q...)                   OH: interruptCheck; lim = limit(q_k, n)
    ///                                           jump H(q..., lim)
    /// H(p..., lim): body; x = p_k + s          (no check)
    ///   branch x <cond> lim ? B : T            B: jump H(args..., lim)
    /// T: branch x <cond> n ? OB : exit         OB: jump OH(args...)
    /// ```
    /// `limit` is `n` when the loop ends within `strip` iterations and the counter cannot wrap
    /// on the way (the inner test is then the loop's own); otherwise the value the counter
    /// reaches after `strip` iterations when the loop surely runs that far; otherwise a value
    /// that stops the inner loop after one iteration. The inner loop therefore runs at most
    /// `strip` iterations per visit of OH, and T's test, the original one, decides whether
    /// the loop goes on: the iterations and their order are the original's. (HotSpot's loop
    /// strip mining, for its safepoint polls.)
    /// Returns whether a loop was strip mined (the graph changed).
    @discardableResult
    static func stripMineCountedLoops(_ f: inout IRFunction, idom known: [Int32]? = nil) -> Bool {
        let order = reversePostorder(f)
        let idom = known ?? dominators(f, order: order)
        let loops = loops(f, order: order, idom: idom)
        let headers = Set(loops.map(\.header))
        // Uses of the values there before (a transformation adds values but changes no use
        // of another loop's compare): counted once, so the pass stays linear in the body.
        let uses = f.useCounts(in: Array(0..<Int32(f.blocks.count)))
        var changed = false
        for loop in loops {
            if let shape = StripMineShape(f, loop, headers: headers, uses: uses) {
                stripMine(&f, shape)
                changed = true
            }
        }
        return changed
    }

    /// A loop this pass can strip-mine, as found.
    private struct StripMineShape {
        var header: Int32
        var check: Int  // index of the interrupt check in the header
        var latch: Int32  // B
        var test: Int32  // X, ending in the exit test's branch
        var exit: Int32  // the exit edge block
        var counterIndex: Int  // k: the counter's position among the header's parameters
        var stepped: IRValue  // x
        var step: UInt64
        var bound: IRValue  // n (.none when the bound is `boundConstant`)
        var boundConstant: UInt64?
        var cond: IRCond  // continue while x <cond> n
        var oldCompare: Int32?  // the test's compare instruction, when only the branch uses it
        var strip: UInt64

        init?(_ f: IRFunction, _ loop: Loop, headers: Set<Int32>, uses: [Int32]) {
            let h = loop.header
            let block = f.blocks[Int(h)]
            guard let check = block.insts.firstIndex(where: { f.insts[Int($0)].op == .interruptCheck }), !block.params.isEmpty else { return nil }
            let inLoop = Set(loop.body)
            guard let size = IRPasses.callFreeInnermostSize(f, loop, headers: headers), size <= IRPasses.stripMinedBodyLimit else { return nil }
            let latches = block.preds.filter { inLoop.contains($0) }
            guard latches.count == 1, let latch = latches.first, f.blocks[Int(latch)].insts.isEmpty,
                  case .jump(_, let args) = f.blocks[Int(latch)].term, f.blocks[Int(latch)].preds.count == 1 else { return nil }
            let x = f.blocks[Int(latch)].preds[0]
            guard inLoop.contains(x), case .branch(let c, let then, let otherwise) = f.blocks[Int(x)].term,
                  then == latch || otherwise == latch else { return nil }
            let exit = then == latch ? otherwise : then
            guard !inLoop.contains(exit), f.blocks[Int(exit)].params.isEmpty, f.blocks[Int(exit)].preds == [x] else { return nil }
            // The test: a compare of the stepped counter with an invariant, or the counter itself.
            var compared: IRValue
            var other: IRValue = .none
            var cond: IRCond
            var oldCompare: Int32?
            if let d = f.def(c), d.op == .cmp, let k = IRCond(rawValue: UInt8(d.imm)), k.rawValue <= IRCond.geU.rawValue {
                if uses[Int(c.id)] == 1 { oldCompare = f.values[Int(c.id)].inst }
                if Self.counter(f, block, d.a) != nil {
                    (compared, other, cond) = (d.a, d.b, k)
                } else {
                    (compared, other, cond) = (d.b, d.a, k.swapped)
                }
            } else {
                (compared, cond) = (c, .ne)
            }
            if then != latch { cond = cond.negated }
            guard let p = Self.counter(f, block, compared), let k = block.params.firstIndex(of: p),
                  let step = f.steps(p, to: compared), args.count == block.params.count, args[k] == compared else { return nil }
            let is64 = f.type(p) == .i64
            let width: UInt64 = is64 ? ~0 : 0xFFFF_FFFF
            let s = step & width
            guard s != 0 else { return nil }
            let negative = is64 ? Int64(bitPattern: s) < 0 : Int32(truncatingIfNeeded: s) < 0
            let magnitude = negative ? (0 &- s) & width : s
            switch cond {
            case .ne: guard magnitude & (magnitude - 1) == 0 else { return nil }
            case .ltU, .ltS: guard !negative else { return nil }
            case .gtU, .gtS: guard negative else { return nil }
            default: return nil
            }
            // The bound: loop-invariant (defined outside the loop), or a constant (made again
            // in the new header).
            var boundConstant: UInt64?
            if other.isNone {
                boundConstant = 0
            } else if let k = f.constant(other) {
                boundConstant = k
            } else {
                guard !inLoop.contains(f.values[Int(other.id)].block) else { return nil }
            }
            let strip = UInt64(min(1024, 65536 / max(size, 1)))
            guard strip >= 16, magnitude <= width / 4 / strip else { return nil }  // strip × step stays far from wrapping
            self.header = h
            self.check = check
            self.latch = latch
            self.test = x
            self.exit = exit
            self.counterIndex = k
            self.stepped = compared
            self.step = s
            self.bound = other
            self.boundConstant = boundConstant
            self.cond = cond
            self.oldCompare = oldCompare
            self.strip = strip
        }

        /// The header parameter that `v` steps by a constant (`v = p + s` or `p - s`), or nil.
        static func counter(_ f: IRFunction, _ header: IRBlock, _ v: IRValue) -> IRValue? {
            v.isNone ? nil : header.params.first { f.steps($0, to: v) != nil }
        }
    }

    private static func stripMine(_ f: inout IRFunction, _ s: StripMineShape) {
        let h = s.header
        let type = f.type(s.stepped)
        let is64 = type == .i64
        let width: UInt64 = is64 ? ~0 : 0xFFFF_FFFF
        let header = f.blocks[Int(h)]
        let inline = header.inline
        let entries = header.preds.filter { $0 != s.latch }
        // OH: the outer header, with the check and the limit.
        let oh = f.newBlock()
        f.blocks[Int(oh)].isLoopHeader = true
        f.blocks[Int(oh)].wasmOffset = header.wasmOffset
        f.blocks[Int(oh)].inline = inline
        let q = header.params.map { f.addParam(oh, f.type($0)) }
        let checkInst = header.insts[s.check]
        f.blocks[Int(h)].insts.remove(at: s.check)
        f.blocks[Int(oh)].insts.append(checkInst)
        // (Folded as the builder folds: a bound of 0 or a step of 1 leaves operations that are
        // nothing, e.g. the distance i - 0.)
        func emit(_ op: IROp, _ t: IRType?, _ a: IRValue = .none, _ b: IRValue = .none, _ c: IRValue = .none, imm: UInt64 = 0, in block: Int32) -> IRValue {
            let inst = IRInst(op: op, type: t, a: a, b: b, c: c, imm: imm, offset: f.insts[Int(checkInst)].offset)
            return Simplifier.fold(inst, in: &f, block: block) ?? f.append(inst, to: block)
        }
        func constant(_ bits: UInt64, _ t: IRType, in block: Int32) -> IRValue { emit(.const, t, imm: bits & (t == .i64 ? ~0 : 0xFFFF_FFFF), in: block) }
        func compare(_ cond: IRCond, _ a: IRValue, _ b: IRValue, in block: Int32) -> IRValue {
            emit(.cmp, .i32, a, b, imm: UInt64(cond.rawValue), in: block)
        }
        let i = q[s.counterIndex]
        let n = s.boundConstant.map { constant($0, type, in: oh) } ?? s.bound
        let negative = is64 ? Int64(bitPattern: s.step) < 0 : Int32(truncatingIfNeeded: s.step) < 0
        let magnitude = negative ? (0 &- s.step) & width : s.step
        let span = constant(s.strip &* magnitude, type, in: oh)  // strip × |s|
        let stripEnd = emit(.add, type, i, constant(s.strip &* s.step, type, in: oh), in: oh)  // i + strip × s
        var limit: IRValue
        switch s.cond {
        case .ne:
            // d: how far the counter has to go (downwards for a negative step); n ends the
            // strip when 0 < d <= strip × |s|, that is d - 1 < strip × |s| unsigned (one
            // compare), and |s| divides d.
            let d = negative ? emit(.sub, type, i, n, in: oh) : emit(.sub, type, n, i, in: oh)
            var ok = compare(.ltU, emit(.sub, type, d, constant(1, type, in: oh), in: oh), span, in: oh)
            if magnitude > 1 {
                let rest = emit(.and, type, d, constant(magnitude - 1, type, in: oh), in: oh)
                ok = emit(.and, .i32, ok, emit(.eqz, .i32, rest, in: oh), in: oh)
            }
            // Otherwise the counter meets n later or never: a whole strip, which never meets it.
            limit = emit(.select, type, n, stripEnd, ok, in: oh)
        default:
            // x < n with s > 0, or x > n with s < 0: "ahead" is the counter still short of n;
            // d the distance. n ends the strip when d <= strip × |s| and x cannot wrap past
            // the type's end before passing n; a whole strip when d > strip × |s|; else one
            // iteration (a limit the inner test never continues to).
            let signed = s.cond == .ltS || s.cond == .gtS
            let ahead = compare(s.cond, i, n, in: oh)
            let d = negative ? emit(.sub, type, i, n, in: oh) : emit(.sub, type, n, i, in: oh)
            let near = emit(.and, .i32, ahead, compare(.leU, d, span, in: oh), in: oh)
            let far = emit(.and, .i32, ahead, compare(.gtU, d, span, in: oh), in: oh)
            let typeMax: UInt64 = signed ? width >> 1 : width  // largest value, as bits
            let typeMin: UInt64 = signed ? (width >> 1) + 1 : 0  // smallest
            // n with room for one more step without wrapping: n <= max - |s| (up), n >= min + |s| (down).
            let room = negative
                ? compare(signed ? .geS : .geU, n, constant(typeMin &+ magnitude, type, in: oh), in: oh)
                : compare(signed ? .leS : .leU, n, constant(typeMax &- magnitude, type, in: oh), in: oh)
            let once = constant(negative ? typeMax : typeMin, type, in: oh)
            limit = emit(.select, type, stripEnd, once, far, in: oh)
            limit = emit(.select, type, n, limit, emit(.and, .i32, near, room, in: oh), in: oh)
        }
        f.blocks[Int(oh)].term = .jump(target: h, args: q + [limit])
        // H takes the limit as a new parameter, passed on by the back edge.
        let lim = f.addParam(h, type)
        if case .jump(let t, let args) = f.blocks[Int(s.latch)].term { f.blocks[Int(s.latch)].term = .jump(target: t, args: args + [lim]) }
        // X: the inner test against the limit; T: the loop's own test.
        let t = f.newBlock()
        let ob = f.newBlock()
        f.blocks[Int(t)].inline = f.blocks[Int(s.test)].inline
        f.blocks[Int(ob)].inline = f.blocks[Int(s.test)].inline
        if let old = s.oldCompare { f.blocks[Int(s.test)].insts.removeAll { $0 == old } }
        let inner = compare(s.cond, s.stepped, lim, in: s.test)
        f.blocks[Int(s.test)].term = .branch(cond: inner, then: s.latch, else: t)
        let nAtT = s.boundConstant.map { constant($0, type, in: t) } ?? s.bound
        let outer = compare(s.cond, s.stepped, nAtT, in: t)
        f.blocks[Int(t)].term = .branch(cond: outer, then: ob, else: s.exit)
        guard case .jump(_, let latchArgs) = f.blocks[Int(s.latch)].term else { return }
        f.blocks[Int(ob)].term = .jump(target: oh, args: Array(latchArgs.dropLast()))
        // Predecessors.
        for e in entries {
            if case .jump(let target, let args) = f.blocks[Int(e)].term, target == h { f.blocks[Int(e)].term = .jump(target: oh, args: args) }
        }
        f.blocks[Int(oh)].preds = entries + [ob]
        f.blocks[Int(h)].preds = [oh, s.latch]
        f.blocks[Int(t)].preds = [s.test]
        f.blocks[Int(ob)].preds = [t]
        f.blocks[Int(s.exit)].preds = [t]
    }
}

extension IRCond {
    /// The condition that holds exactly when this one does not (integer conditions).
    var negated: IRCond {
        switch self {
        case .eq: .ne
        case .ne: .eq
        case .ltS: .geS
        case .ltU: .geU
        case .gtS: .leS
        case .gtU: .leU
        case .leS: .gtS
        case .leU: .gtU
        case .geS: .ltS
        case .geU: .ltU
        case .flt, .fgt, .fle, .fge: self  // not used for floats
        }
    }
}
