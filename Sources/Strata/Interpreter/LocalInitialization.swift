/// Which of a function's non-parameter locals the body may read before it has written them:
/// only those need the zero the spec gives every local at entry. Code compiled from C, C++ or
/// Rust writes nearly every local before reading it, so a frame need not be cleared for them
/// (`FunctionCode.imageStart`: the frame image starts at the first local that may be read
/// unwritten).
///
/// A forward pass over the structured body in step with translation (definite assignment, as
/// compilers check it for their source languages): the set of locals written on every path
/// to the current point; a `local.get` of a local not in it marks the local. At a block's end
/// the set is the intersection of the sets of the paths that reach it (the fallthrough and
/// every branch to the label); after an unconditional branch, no path reaches the code until
/// the next label's end (the set is then everything). A loop's header is reached from its
/// entry and from back edges, whose sets contain the entry's, so it starts with the entry's
/// set. An `if` without `else` reaches its end also with its entry set; a `try_table`'s catch
/// clauses branch to their labels with the set at the `try_table` (a throw anywhere inside
/// has at least those locals written).
///
/// Only the first `tracked` non-parameter locals are followed, without allocating per block;
/// the ones after them always count as possibly read unwritten.
struct LocalInitialization {
    static let tracked = 256
    /// A set of tracked locals (bit k: non-parameter local k).
    struct Locals: Equatable {
        var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64
        static let none = Locals(w0: 0, w1: 0, w2: 0, w3: 0)
        static let all = Locals(w0: ~0, w1: ~0, w2: ~0, w3: ~0)
        @inline(__always) func contains(_ k: Int) -> Bool { word(k >> 6) >> UInt64(k & 63) & 1 != 0 }
        @inline(__always) mutating func insert(_ k: Int) {
            let bit: UInt64 = 1 << UInt64(k & 63)
            switch k >> 6 {
            case 0: w0 |= bit
            case 1: w1 |= bit
            case 2: w2 |= bit
            default: w3 |= bit
            }
        }
        @inline(__always) func word(_ i: Int) -> UInt64 {
            switch i {
            case 0: return w0
            case 1: return w1
            case 2: return w2
            default: return w3
            }
        }
        @inline(__always) static func & (a: Locals, b: Locals) -> Locals {
            Locals(w0: a.w0 & b.w0, w1: a.w1 & b.w1, w2: a.w2 & b.w2, w3: a.w3 & b.w3)
        }
    }
    struct Label {
        var isLoop: Bool
        /// An `if` whose `else` has not come: its entry set also reaches its end.
        var isIfWithoutElse: Bool
        /// The set at the label's entry (an `if`'s else arm starts with it).
        var entry: Locals
        /// The intersection of the sets of the branches to the label's end so far.
        var end: Locals
    }

    /// Index of the first non-parameter local, and how many are followed.
    let first: Int
    let count: Int
    var written = Locals.none
    /// The function's own label first.
    var labels: [Label]
    /// The lowest non-parameter local (0 = the first) that may be read before it is written;
    /// `count` when none of the followed ones is (the ones after them always may be).
    private(set) var firstReadUnwritten: Int

    /// `first`: the parameter count; `count`: how many locals after the parameters to follow
    /// (at most `tracked`; the caller stops before the first reference-typed local: references
    /// are always cleared, so a frame never holds a stale one).
    init(first: Int, count: Int) {
        self.first = first
        self.count = min(count, Self.tracked)
        self.firstReadUnwritten = self.count
        labels = [Label(isLoop: false, isIfWithoutElse: false, entry: .none, end: .all)]
        labels.reserveCapacity(16)
    }

    @inline(__always) private mutating func branch(toDepth depth: Int) {
        let i = labels.count - 1 - depth
        if i > 0, !labels[i].isLoop { labels[i].end = labels[i].end & written }
    }

    mutating func visit(_ instruction: Instruction, validator: borrowing FunctionValidator) {
        switch instruction {
        case .localGet(let i):
            let k = Int(i) - first
            if k >= 0, k < firstReadUnwritten, !written.contains(k) { firstReadUnwritten = k }
        case .localSet(let i), .localTee(let i):
            let k = Int(i) - first
            if k >= 0, k < count { written.insert(k) }
        case .block, .loop, .if:
            var label = Label(isLoop: false, isIfWithoutElse: false, entry: written, end: .all)
            if case .loop = instruction { label.isLoop = true }
            if case .if = instruction { label.isIfWithoutElse = true }
            labels.append(label)
        case .tryTable:
            for clause in validator.catchClauses { branch(toDepth: Int(clause.depth)) }
            labels.append(Label(isLoop: false, isIfWithoutElse: false, entry: written, end: .all))
        case .else:
            let i = labels.count - 1
            labels[i].end = labels[i].end & written
            labels[i].isIfWithoutElse = false
            written = labels[i].entry
        case .end:
            guard labels.count > 1 else { return }
            let label = labels.removeLast()
            if !label.isLoop {
                written = written & label.end
                if label.isIfWithoutElse { written = written & label.entry }
            }
        case .br(let depth):
            branch(toDepth: depth)
            written = .all
        case .brIf(let depth), .brOnNull(let depth), .brOnNonNull(let depth):
            branch(toDepth: depth)
        case .brTable:
            for target in validator.brTableTargets { branch(toDepth: Int(target)) }
            written = .all
        case .return, .unreachable, .throw, .throwRef, .returnCall, .returnCallIndirect, .returnCallRef:
            written = .all
        default:
            break
        }
    }
}
