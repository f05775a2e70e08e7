/// Known bits: which bits of each integer value may be set, and the masks that change nothing.
///
/// C compiled to Wasm keeps `unsigned char` and `unsigned short` values in i32s and masks them
/// again where they are used (`i32.and x, 255`), also when x was loaded by `load8_u` and only
/// carried through loop parameters (a sliding window of neighbour cells, a byte-wise checksum).
/// Folding in the builder sees one instruction at a time; this pass follows the values through
/// block parameters, so such a mask goes.
extension IRPasses {
    /// For each value, the bits it may have set (an over-approximation; all bits of its type
    /// for values nothing is known of), or nil when the analysis did not settle within its
    /// rounds (then nothing is known). Block parameters start with no bits and gain the bits of
    /// every argument reaching them, so loops are followed optimistically to a fixed point:
    /// every step only adds bits, and the result holds for every execution. A fixed point comes
    /// within a few rounds (widening, below); the bound is a safeguard.
    static func possibleBits(_ f: IRFunction, order: [Int32], rounds: Int = 12) -> [UInt64]? {
        var p = [UInt64](repeating: 0, count: f.values.count)
        var reached = [Bool](repeating: false, count: f.blocks.count)
        for b in order { reached[Int(b)] = true }
        // Per block: whether every reached predecessor passes its parameters by a jump (other
        // edges, such as an exception's landing, say nothing of them).
        var viaJumps = [Bool](repeating: true, count: f.blocks.count)
        // Without loops (`hasLoopHeaders`) every block's predecessors come before it in
        // `order`, a reverse postorder: the first round is exact and the rest would only
        // confirm it.
        let acyclic = !f.hasLoopHeaders
        for b in order {
            for pred in f.blocks[Int(b)].preds where reached[Int(pred)] {
                guard case .jump(let t, let args) = f.blocks[Int(pred)].term, t == b,
                      args.count == f.blocks[Int(b)].params.count else {
                    viaJumps[Int(b)] = false
                    break
                }
            }
        }
        // Blocks through a buffer pointer (no copy of a block per visit).
        let settled = f.blocks.withUnsafeBufferPointer { blocks in
            for round in 0..<rounds {
                var changed = false
                // From the third round on, a parameter that still gains bits gets all of its type's
                // (widening): a sum carried around a loop would gain one bit a round. Every cycle of
                // values passes a parameter, so the rest settles after that.
                let widening = round >= 2
                func update(_ v: IRValue, _ bits: UInt64, parameter: Bool = false) {
                    var new = p[Int(v.id)] | bits
                    if new != p[Int(v.id)] && parameter && widening { new = Simplifier.mask(f.values[Int(v.id)].type) }
                    if new != p[Int(v.id)] { p[Int(v.id)] = new; changed = true }
                }
                for b in order {
                    for (k, param) in blocks[Int(b)].params.enumerated() {
                        var bits: UInt64 = 0
                        if viaJumps[Int(b)] && b != 0 {
                            for pred in blocks[Int(b)].preds where reached[Int(pred)] {
                                if case .jump(_, let args) = blocks[Int(pred)].term { bits |= p[Int(args[k].id)] }
                            }
                        } else {
                            bits = ~0
                        }
                        update(param, bits & Simplifier.mask(f.values[Int(param.id)].type), parameter: true)
                    }
                    for i in blocks[Int(b)].insts {
                        let inst = f.insts[Int(i)]
                        guard !inst.result.isNone else { continue }
                        update(inst.result, transfer(inst, f, p))
                    }
                }
                if !changed || acyclic { return true }
            }
            return false
        }
        return settled ? p : nil
    }

    /// The bits `inst`'s result may have, given the operands' (`p`).
    static func transfer(_ inst: IRInst, _ f: IRFunction, _ p: [UInt64]) -> UInt64 {
        guard let t = inst.type, t == .i32 || t == .i64 else { return ~0 }
        let m = Simplifier.mask(t), width: UInt64 = t == .i32 ? 32 : 64
        /// Every bit below the highest one `bits` may have, and one more (a sum's carry).
        func below(_ bits: UInt64, carry: Bool) -> UInt64 {
            let n = 64 - bits.leadingZeroBitCount + (carry ? 1 : 0)
            return n >= 64 ? m : ((1 << UInt64(n)) - 1) & m
        }
        func pa() -> UInt64 { p[Int(inst.a.id)] }
        func pb() -> UInt64 { p[Int(inst.b.id)] }
        let sign: UInt64 = 1 << (width - 1)
        switch inst.op {
        case .const: return inst.imm & m
        case .load:
            switch inst.imm {
            case 0x2D, 0x31: return 0xFF  // i32/i64.load8_u
            case 0x2F, 0x33: return 0xFFFF  // load16_u
            case 0x35: return 0xFFFF_FFFF  // i64.load32_u
            default: return m
            }
        case .and: return pa() & pb()
        case .or, .xor, .select: return pa() | pb()
        case .add:
            let s = pa() | pb()
            return s == 0 ? 0 : below(s, carry: true)
        case .mul:
            let x = pa(), y = pb()
            if x == 0 || y == 0 { return 0 }
            let n = (64 - x.leadingZeroBitCount) + (64 - y.leadingZeroBitCount)
            return n >= 64 ? m : ((1 << UInt64(n)) - 1) & m
        case .shl:
            guard let k = f.constant(inst.b) else { return m }
            return (pa() << (k & (width - 1))) & m
        case .shrU:
            guard let k = f.constant(inst.b) else { return below(pa(), carry: false) }
            return pa() >> (k & (width - 1))
        case .shrS:
            // Without its sign bit, an arithmetic shift is a logical one.
            guard pa() & sign == 0 else { return m }
            guard let k = f.constant(inst.b) else { return below(pa(), carry: false) }
            return pa() >> (k & (width - 1))
        case .cmp, .eqz: return 1
        case .clz, .ctz, .popcnt: return 0x7F
        case .zext, .wrap: return pa() & 0xFFFF_FFFF
        case .sext: return pa() & 0x8000_0000 == 0 ? pa() : m
        case .extend8S: return pa() & 0x80 == 0 ? pa() & 0xFF : m
        case .extend16S: return pa() & 0x8000 == 0 ? pa() & 0xFFFF : m
        default: return m
        }
    }

    /// Replaces `x & c` by x where x has no bit outside c (by `possibleBits`); dead code
    /// elimination then removes the `and`.
    static func removeRedundantMasks(_ f: inout IRFunction) {
        // Only `and`s with a constant operand can go: without one, no analysis.
        guard f.insts.contains(where: { $0.op == .and && (f.constant($0.a) != nil || f.constant($0.b) != nil) }) else { return }
        let order = reversePostorder(f)
        guard let p = possibleBits(f, order: order) else { return }
        var replacement = [Int32](repeating: -1, count: f.values.count)
        var any = false
        for b in order {
            for i in f.blocks[Int(b)].insts {
                let inst = f.insts[Int(i)]
                guard inst.op == .and, let t = inst.type, t == .i32 || t == .i64 else { continue }
                let m = Simplifier.mask(t)
                for (x, c) in [(inst.a, inst.b), (inst.b, inst.a)] {
                    guard let bits = f.constant(c), p[Int(x.id)] & ~bits & m == 0 else { continue }
                    replacement[Int(inst.result.id)] = x.id
                    any = true
                    break
                }
            }
        }
        guard any else { return }
        rewrite(&f, through: replacement)
    }
}
