/// Interrupt checks at loop headers that an iteration does not need: a call every iteration
/// already polls, or the loop ends by itself within a small, known number of instructions.
extension IRPasses {
    /// Removes the interrupt check of every loop where one of the two rules below holds. Both
    /// keep the promise that running code stops soon after an interrupt; the checks that
    /// remain (outer loops, function entries) see it.
    static func removeRedundantInterruptChecks(_ f: inout IRFunction, idom known: [Int32]? = nil) {
        let order = reversePostorder(f)
        let idom = known ?? dominators(f, order: order)
        let loops = loops(f, order: order, idom: idom)
        guard !loops.isEmpty else { return }
        let headers = Set(loops.map(\.header))
        for loop in loops {
            let h = loop.header
            guard let check = f.blocks[Int(h)].insts.firstIndex(where: { f.insts[Int($0)].op == .interruptCheck }) else { continue }
            if everyIterationCalls(f, loop, idom: idom) || endsWithinBudget(f, loop, idom: idom, headers: headers) {
                f.blocks[Int(h)].insts.remove(at: check)
            }
        }
    }

    /// A loop whose every iteration calls a function of this module: the callee polls the
    /// interrupt on entry (compiled code in its prologue's stack check, which an interrupt
    /// fails; the interpreter when it enters the function), so the loop still stops within one
    /// iteration of an interrupt, at that call. The call must be in a block that dominates
    /// every back edge of the loop, and be a direct call of a defined function (an import runs
    /// host code, which polls nothing; an indirect call may reach an import). An inlined call
    /// has become the loop's own code and covers nothing. The check costs a load per iteration;
    /// in a loop that already pays for a call each iteration (the loops recursion leaves,
    /// `fib(n - 1) + fib(n - 2)` as a loop over the first call) it buys nothing.
    private static func everyIterationCalls(_ f: IRFunction, _ loop: Loop, idom: [Int32]) -> Bool {
        let inLoop = Set(loop.body)
        let latches = f.blocks[Int(loop.header)].preds.filter { inLoop.contains($0) }
        let calling = loop.body.filter { b in
            f.blocks[Int(b)].insts.contains { i in
                let inst = f.insts[Int(i)]
                return inst.op == .call && Int(inst.imm) >= f.importedFunctionCount
            }
        }
        return !latches.isEmpty && latches.allSatisfy { l in calling.contains { dominates($0, l, idom: idom) } }
    }

    /// The IR instructions and terminators of `loop` when it is innermost (no other header of
    /// `headers` in it) and calls nothing (a call runs code of unknown length), else nil.
    static func callFreeInnermostSize(_ f: IRFunction, _ loop: Loop, headers: Set<Int32>) -> Int? {
        guard loop.isInnermost(headers: headers) else { return nil }
        var size = 0
        for b in loop.body {
            for i in f.blocks[Int(b)].insts {
                let op = f.insts[Int(i)].op
                if op.isCall || op == .landing { return nil }
                size += 1
            }
            size += 1
        }
        return size
    }

    /// The most instructions a loop without a check may run (its iterations times its body's
    /// IR instructions): well under a millisecond.
    static let uncheckedLoopBudget = 1 << 16
    /// The most iterations this pass works out (it steps the counter at compile time).
    static let uncheckedLoopIterations = 1 << 12

    /// An innermost loop without calls that runs a bounded number of iterations: a counter
    /// that starts at a constant, steps by a constant on every back edge and is compared with
    /// a constant by a branch that every iteration passes (the loops C compilers make of
    /// `for (i = 0; i < 192; i++)` over fixed-size arrays). Stepping the counter finds the
    /// iteration where the branch leaves; when iterations times the body's size stay within
    /// `uncheckedLoopBudget`, the loop ends soon by itself and the loop around it, or the
    /// caller's, polls. (HotSpot drops the safepoint polls of counted loops for the same
    /// reason, unbounded; here the bound is part of the rule.) In a tight loop the check is
    /// one instruction of a dozen and 7 of 64 bytes: on x86 cores that issue a few
    /// instructions per cycle, the row update of a matrix product (`dot_matrix`, `matmul`)
    /// ran 1.7-1.8x slower with it.
    private static func endsWithinBudget(_ f: IRFunction, _ loop: Loop, idom: [Int32], headers: Set<Int32>) -> Bool {
        let h = loop.header
        let inLoop = Set(loop.body)
        guard let size = callFreeInnermostSize(f, loop, headers: headers) else { return false }
        let header = f.blocks[Int(h)]
        let latches = header.preds.filter { inLoop.contains($0) }
        let entries = header.preds.filter { !inLoop.contains($0) }
        guard !latches.isEmpty, !entries.isEmpty else { return false }
        let maxIterations = min(uncheckedLoopIterations, uncheckedLoopBudget / max(size, 1))
        // The exit test: a branch in a block every iteration passes, one side leaving the loop.
        for x in loop.body where latches.allSatisfy({ dominates(x, $0, idom: idom) }) {
            guard case .branch(let cond, let then, let otherwise) = f.blocks[Int(x)].term,
                  inLoop.contains(then) != inLoop.contains(otherwise),
                  let test = CounterTest(f, cond) else { continue }
            let staysOnTrue = inLoop.contains(then)
            // The counter: a header parameter, stepped by the same constant on every back edge.
            guard let k = header.params.firstIndex(where: { $0 == test.counter || f.steps($0, to: test.counter) != nil }) else { continue }
            let counter = header.params[k]
            let testsStepped = test.counter != counter
            var step: UInt64?
            for l in latches {
                guard case .jump(_, let args) = f.blocks[Int(l)].term, let s = f.steps(counter, to: args[k]),
                      step == nil || step == s else { step = nil; break }
                step = s
            }
            guard let step, !testsStepped || f.steps(counter, to: test.counter) == step else { continue }
            // Every way in starts the counter at a constant; each start must leave in time.
            var bounded = true
            for e in entries {
                guard case .jump(_, let args) = f.blocks[Int(e)].term, let start = f.constant(args[k]) else { bounded = false; break }
                let is64 = f.type(counter) == .i64
                var value = start
                var leaves = false
                for _ in 0..<maxIterations {
                    let next = is64 ? value &+ step : (value &+ step) & 0xFFFF_FFFF
                    if test.holds(testsStepped ? next : value, is64: is64) != staysOnTrue { leaves = true; break }
                    value = next
                }
                if !leaves { bounded = false; break }
            }
            if bounded { return true }
        }
        return false
    }

    /// A branch condition on a counter: `counter <cond> constant` (either side), `eqz counter`,
    /// or the counter itself (nonzero).
    private struct CounterTest {
        var counter: IRValue
        var cond: IRCond
        var constant: UInt64

        init?(_ f: IRFunction, _ v: IRValue) {
            guard let d = f.def(v) else { counter = v; cond = .ne; constant = 0; return }
            switch d.op {
            case .cmp:
                guard let c = IRCond(rawValue: UInt8(d.imm)), c.rawValue <= IRCond.geU.rawValue else { return nil }
                if let k = f.constant(d.b) {
                    (counter, cond, constant) = (d.a, c, k)
                } else if let k = f.constant(d.a) {
                    (counter, cond, constant) = (d.b, c.swapped, k)
                } else {
                    return nil
                }
            case .eqz:
                (counter, cond, constant) = (d.a, .eq, 0)
            default:
                (counter, cond, constant) = (v, .ne, 0)
            }
            guard f.type(counter) == .i32 || f.type(counter) == .i64 else { return nil }
        }

        /// Whether the condition holds for the counter's value `x` (i32 values zero-extended).
        func holds(_ x: UInt64, is64: Bool) -> Bool { Simplifier.intCompare(cond, x, constant, is32: !is64) }
    }
}

extension IRFunction {
    /// The constant `v` adds to `base` when `v` is `base + k` or `base - k` for a constant k
    /// (as the wrapping addend), else nil.
    func steps(_ base: IRValue, to v: IRValue) -> UInt64? {
        guard let d = def(v), type(v) == type(base) else { return nil }
        switch d.op {
        case .add where d.a == base: return constant(d.b)
        case .add where d.b == base: return constant(d.a)
        case .sub where d.a == base: return constant(d.b).map { 0 &- $0 }
        default: return nil
        }
    }
}
