/// A `br_table`'s cases as ranges of indices with one target each, for lowering a small table
/// as a tree of compares and direct branches instead of an indirect jump through a table.
///
/// Why (measured; the cause inside the CPU was not seen, it has no counters here): on an AMD
/// Zen 4 host, a 3-cycle loop around a 4-way `br_table` ran at 2, 3 or 6 cycles per iteration
/// depending on where the loop lay (and, at the same address, on the process), Cranelift's code
/// alike; the same loop with direct branches ran at 2 cycles at most placements and never
/// changed between processes (docs/ARCHITECTURE.md, "Small tables"). LLVM lowers switches of up
/// to 3 case ranges as compares (its `min-jump-table-entries` is 4); 4 ranges take compares here
/// too, measured: a 4-operation bytecode loop ran 4.5x faster with them than through a table.
struct CaseRanges {
    /// Indices `low...high` go to `target`.
    struct Case: Equatable {
        var low: UInt32, high: UInt32, target: Int32
    }

    /// The ranges not going to the default, in increasing order (neighbours with one target
    /// merged; indices between ranges and above the last go to `defaultTarget`).
    let ranges: [Case]
    let defaultTarget: Int32

    /// At most this many ranges are lowered as compares: a search of depth two, each leaf
    /// checking its bounds.
    static let maxCompareTree = 4

    /// `targets`: the table's targets, the default last (as in `IRTerminator.table`), already
    /// resolved to the blocks the branches go to (so entries reaching one block merge).
    init(targets: [Int32]) {
        defaultTarget = targets[targets.count - 1]
        var ranges: [Case] = []
        for (k, t) in targets.dropLast().enumerated() where t != defaultTarget {
            let i = UInt32(k)
            if let last = ranges.last, last.target == t, last.high == i - 1 {
                ranges[ranges.count - 1].high = i
            } else {
                ranges.append(Case(low: i, high: i, target: t))
            }
        }
        self.ranges = ranges
    }

    /// Whether a compare tree is the better lowering (few ranges).
    var prefersCompares: Bool { ranges.count <= Self.maxCompareTree }

    /// One step of a binary search over `ranges[part]`, knowing the index is in `low...high`:
    /// either compare with the first index of the middle range (below it: the left part,
    /// `high` = that index - 1; otherwise the right part, `low` = that index), or a leaf (at
    /// most one range left), which checks the bounds it does not know yet.
    enum Step: Equatable {
        case split(pivot: UInt32, left: Range<Int>, right: Range<Int>)
        /// Go to `target` if the index is in `low...high`, else to the default; `checkLow` /
        /// `checkHigh` say which bounds are not known already.
        case leaf(target: Int32, low: UInt32, high: UInt32, checkLow: Bool, checkHigh: Bool)
        /// Every index left goes to the default.
        case defaultOnly
    }

    /// Where every index of `part` (knowing it is in `low...high`) goes when that needs no
    /// compare: the default for no range, a range's target when it covers all of `low...high`.
    func wholeTarget(_ part: Range<Int>, low: UInt32, high: UInt32) -> Int32? {
        switch step(part, low: low, high: high) {
        case .defaultOnly: defaultTarget
        case .leaf(let t, _, _, false, false): t
        default: nil
        }
    }

    func step(_ part: Range<Int>, low: UInt32, high: UInt32) -> Step {
        if part.isEmpty { return .defaultOnly }
        if part.count == 1 {
            let r = ranges[part.lowerBound]
            return .leaf(target: r.target, low: r.low, high: r.high, checkLow: r.low > low, checkHigh: r.high < high)
        }
        let mid = part.lowerBound + part.count / 2
        return .split(pivot: ranges[mid].low, left: part.lowerBound..<mid, right: mid..<part.upperBound)
    }
}
