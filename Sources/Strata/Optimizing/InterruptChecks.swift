/// Interrupt checks at loop headers that another check already covers.
extension IRPasses {
    /// Drops the interrupt check of a loop whose every iteration calls a function of this
    /// module: the callee polls the interrupt on entry (compiled code in its prologue's stack
    /// check, which an interrupt fails; the interpreter when it enters the function), so the
    /// loop still stops within one iteration of an interrupt, at that call. The call must be
    /// in a block that dominates every back edge of the loop, and be a direct call of a
    /// defined function (an import runs host code, which polls nothing; an indirect call may
    /// reach an import). An inlined call has become the loop's own code and covers nothing.
    /// The check costs a load, a compare and a branch per iteration; in a loop that already
    /// pays for a call each iteration (the loops recursion leaves, `fib(n - 1) + fib(n - 2)`
    /// as a loop over the first call) it buys nothing.
    static func removeCoveredInterruptChecks(_ f: inout IRFunction) {
        let order = reversePostorder(f)
        let idom = dominators(f, order: order)
        let loops = loops(f, order: order, idom: idom)
        guard !loops.isEmpty else { return }
        for loop in loops {
            let h = loop.header
            guard let check = f.blocks[Int(h)].insts.firstIndex(where: { f.insts[Int($0)].op == .interruptCheck }) else { continue }
            let inLoop = Set(loop.body)
            let latches = f.blocks[Int(h)].preds.filter { inLoop.contains($0) }
            let calling = loop.body.filter { b in
                f.blocks[Int(b)].insts.contains { i in
                    let inst = f.insts[Int(i)]
                    return inst.op == .call && Int(inst.imm) >= f.importedFunctionCount
                }
            }
            guard !latches.isEmpty, latches.allSatisfy({ l in calling.contains { dominates($0, l, idom: idom) } }) else { continue }
            f.blocks[Int(h)].insts.remove(at: check)
        }
    }
}
