import CStrata

/// Dynamic counts of adjacent instruction pairs in interpreter code, the profile that
/// superinstructions (`sequencePairs`) are chosen from (`strata run --pair-profile FILE`; see
/// docs/ARCHITECTURE.md, "Interpreter"). A development tool, process-wide: while it runs,
/// interpreter code runs on the switch with a counting probe (slower), and functions translated
/// meanwhile are not fused into sequences, so the counts are of single instructions.
///
/// A pair (a, b) is counted when b runs right after a and starts at most 16 words after a (a
/// fell through to b); a branch, call or return elsewhere is not a pair.
public enum PairProfile {
    static let opcodeCount = Opcode.allCases.count
    nonisolated(unsafe) static var counts: UnsafeMutablePointer<UInt64>? = nil

    /// Starts counting (call before creating the modules to profile).
    public static func start() {
        guard counts == nil else { return }
        let n = opcodeCount * opcodeCount
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        p.initialize(repeating: 0, count: n)
        counts = p
    }

    /// Stops counting and returns the pairs seen, most frequent first: lines
    /// "count first second".
    public static func stop() -> String {
        guard let p = counts else { return "" }
        counts = nil
        var pairs: [(UInt64, Int, Int)] = []
        for a in 0..<opcodeCount {
            for b in 0..<opcodeCount where p[a * opcodeCount + b] != 0 {
                pairs.append((p[a * opcodeCount + b], a, b))
            }
        }
        p.deallocate()
        pairs.sort { $0.0 > $1.0 }
        return pairs.map { "\($0.0) \(Opcode.allCases[$0.1]) \(Opcode.allCases[$0.2])\n" }.joined()
    }
}

/// The probe that counts pairs (see `PairProfile`).
struct PairProbe: DispatchProbe {
    let counts: UnsafeMutablePointer<UInt64>
    var previous: CodePointer? = nil

    @inline(__always)
    mutating func willRun(_ pc: CodePointer) {
        if let p = previous, pc > p, pc - p <= 16 {
            let a = Int(UInt16(truncatingIfNeeded: p.pointee)), b = Int(UInt16(truncatingIfNeeded: pc.pointee))
            counts[a &* PairProfile.opcodeCount &+ b] &+= 1
        }
        previous = pc
    }
}

/// The dispatch loop with the counting probe.
@inline(never)
func profilingDispatch(_ start: CodePointer, _ fp: FramePointer, _ st: StatePointer, _ counts: UnsafeMutablePointer<UInt64>) {
    var probe = PairProbe(counts: counts)
    dispatchLoop(start, fp, st, &probe)
}
