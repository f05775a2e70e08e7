/// A text form of the IR for listings (`strata dump --tier optimizing`) and tests.
extension IRFunction {
    func valueName(_ v: IRValue) -> String {
        if let c = constant(v) { return constantText(c, type(v), high: def(v)?.imm2 ?? 0) }
        return "v\(v.id)"
    }

    /// A constant's bits as its type reads them.
    func constantText(_ c: UInt64, _ t: IRType, high: UInt64) -> String {
        switch t {
        case .f32: "\(Float(bitPattern: UInt32(truncatingIfNeeded: c)))"
        case .f64: "\(Double(bitPattern: c))"
        case .i32: "\(Int32(bitPattern: UInt32(truncatingIfNeeded: c)))"
        case .i64: "\(Int64(bitPattern: c))"
        case .v128: "0x" + String(high, radix: 16) + ":" + String(c, radix: 16)
        }
    }

    func text(_ inst: IRInst) -> String {
        var s = ""
        if !inst.result.isNone { s += "v\(inst.result.id):\(inst.type!) = " }
        s += "\(inst.op)"
        var operands: [String] = []
        forEachOperand(inst) { operands.append(valueName($0)) }
        switch inst.op {
        case .cmp: s += ".\(IRCond(rawValue: UInt8(inst.imm))!)"
        case .load, .store: s += " 0x\(String(inst.imm, radix: 16)) +\(inst.imm2)" + (inst.memory.map { " memory \($0)" } ?? "")
        case .const:
            return "v\(inst.result.id):\(inst.type!) = const \(valueName(inst.result))"
        case .heldConst:
            return "v\(inst.result.id):\(inst.type!) = heldConst \(constantText(inst.imm, inst.type!, high: inst.imm2))"
        case .param, .globalGet, .globalSet, .call, .callResult, .refFunc, .tableGet, .tableSet, .tableSize, .convert:
            s += " \(inst.imm)"
        case .simd: s += " 0x\(String(inst.imm, radix: 16))" + (inst.imm2 != 0 ? " lane \(inst.imm2)" : "")
        case .callIndirect: s += " type \(inst.imm) table \(inst.imm2)"
        case .builtin: s += " \(Builtin(rawValue: Int(inst.imm)).map { "\($0)" } ?? "?")"
        case .throw: s += inst.imm == UInt64.max ? "_ref" : " tag \(inst.imm)"
        case .catchClause: s += (inst.imm == UInt64(UInt32.max) ? " all" : " tag \(inst.imm)") + (inst.imm2 != 0 ? " ref" : "")
        case .caught: s += " \(inst.imm)"
        default: break
        }
        if !operands.isEmpty { s += " " + operands.joined(separator: ", ") }
        return s
    }

    /// The function in text, blocks in `order` (default: reverse postorder).
    func listing(order: [Int32]? = nil) -> String {
        var out = ""
        for b in order ?? IRPasses.reversePostorder(self) {
            let block = blocks[Int(b)]
            let params = block.params.map { "v\($0.id):\(type($0))" }.joined(separator: ", ")
            let inlined = block.inline > 0 ? " inlined from func \(inlines[Int(block.inline) - 1].callee)" : ""
            out += "block\(b)(\(params))\(block.isLoopHeader ? " loop" : "")\(inlined):\n"
            for i in block.insts { out += "  \(text(insts[Int(i)]))\n" }
            let args = { (vs: [IRValue]) in vs.map(valueName).joined(separator: ", ") }
            switch block.term {
            case .none: out += "  (no terminator)\n"
            case .jump(let t, let a): out += "  jump block\(t)(\(args(a)))\n"
            case .branch(let c, let t, let e): out += "  branch \(valueName(c)) ? block\(t) : block\(e)\n"
            case .table(let i, let ts): out += "  table \(valueName(i)) [\(ts.map { "block\($0)" }.joined(separator: ", "))]\n"
            case .ret(let vs): out += "  return \(args(vs))\n"
            case .trap(let k, _): out += "  trap \(k)\n"
            case .leave: out += "  leave (tail call)\n"
            case .raise: out += "  raise\n"
            }
            if block.unwind >= 0 { out += "  unwind block\(block.unwind)\n" }
        }
        return out
    }
}
