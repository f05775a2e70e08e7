import CStrata
/// Strata's optimizing tier: builds a function's SSA form from its validated body
/// (`IRBuilder`), optimizes it (`IRPasses`), allocates registers (`RegisterAllocator`) and
/// lowers it to x86-64 (`X64Lowering`). What it does not compile yet (SIMD, functions past its
/// size bounds) it leaves to the tier below, with the reason.
enum OptimizingCompiler {
    /// Bumped with any change to the code this tier emits (part of the code cache key).
    static let revision = 41

    /// The start of the reason for a function past the tier's bounds (`IRBuilder`'s budgets,
    /// the register allocator's): the function's own size, whatever entry is compiled, so a
    /// module asks no more for it (`Module.optimizeRefusals`).
    static let tooLarge = "the function is too large for the optimizing tier"
    static let tooComplex = "the function is too complex for the optimizing tier's register allocator"
    static func refusesFunction(_ reason: WasmError) -> Bool {
        reason.kind == .unsupported && (reason.message.hasPrefix(tooLarge) || reason.message.hasPrefix(tooComplex))
    }
    /// A refusal as the code cache keeps it (0 too large, 1 too complex), and the refusal a
    /// later run reads back from it.
    static func refusalCode(_ reason: WasmError) -> UInt32 { reason.message.hasPrefix(tooComplex) ? 1 : 0 }
    static func rememberedRefusal(_ code: UInt32) -> WasmError {
        WasmError(.unsupported, (code == 1 ? tooComplex : tooLarge) + " (found by an earlier run, kept in the code cache)")
    }

    struct Output {
        var function: MachineFunction?
        /// Why the function was not compiled (it stays in a lower tier).
        var reason: WasmError?
        /// The optimized IR, when asked for (listings).
        var ir: IRFunction?
    }

    /// Compiles one body. Throws only what validation throws; what this tier cannot compile
    /// comes back as `reason`.
    /// `avx`, `bmi2`: use AVX encodings and BMI2's `rorx`, `shlx`, `shrx`, `sarx` (the caller
    /// checked the CPU).
    /// `osrLoop`: an on-stack-replacement entry at the loop at this Wasm offset instead of the
    /// function's entries (see `IRBuilder.osrLoop`).
    static func compile(_ source: FunctionSource, avx: Bool, bmi2: Bool = false, keepIR: Bool = false, osrLoop: Int32? = nil) throws(WasmError) -> Output {
        let context = source.context, importedFunctionCount = source.importedFunctionCount, type = source.type
        let index = importedFunctionCount + source.index
        var builder = IRBuilder(
            context: context, importedFunctionCount: importedFunctionCount, type: type, locals: source.body.locals,
            inlineFrom: (source.bytes, source.info), functionIndex: index,
            selfTailCalls: IRBuilder.mayTailCallItself(source.bytes, body: source.body, index: index), osrLoop: osrLoop)
        var validator = FunctionValidator(module: context, body: source.body, type: type, bytes: source.bytes)
        try validator.run(sink: &builder)
        if let reason = builder.unsupported { return Output(reason: reason) }
        if osrLoop != nil && builder.osrHeader == nil {
            return Output(reason: WasmError(.unsupported, "no reachable loop at the OSR entry's offset"))
        }
        var f = builder.finish()
        if osrLoop != nil && f.insts.contains(where: { $0.op.isTailCall }) {
            return Output(reason: WasmError(.unsupported, "an OSR entry into a function that makes tail calls"))
        }
        f.functionIndex = index
        f.importedFunctionCount = importedFunctionCount
        let (idom, order) = IRPasses.optimize(&f)
        let allocation: RegisterAllocation
        do {
            allocation = try RegisterAllocator(f: f, order: order, machine: X64Machine.registers(avx: avx, bmi2: bmi2), idom: idom).run()
        } catch {
            return Output(reason: WasmError(.unsupported, tooComplex))
        }
        // Memory 0's base is loaded into r15 only by functions that access memory.
        let accessesMemory = source.moduleHasMemory && order.contains { b in
            f.blocks[Int(b)].insts.contains { f.insts[Int($0)].op == .load || f.insts[Int($0)].op == .store }
        }
        var lowering = X64Lowering(
            f: f, allocation: allocation, order: order, context: context, importedFunctionCount: importedFunctionCount,
            hasMemory: accessesMemory, avx: avx, bmi2: bmi2)
        var machine = lowering.emit()
        if lowering.leafBroken {
            // A body taken for a leaf emitted a call: again, with a frame.
            var framed = X64Lowering(
                f: f, allocation: allocation, order: order, context: context, importedFunctionCount: importedFunctionCount,
                hasMemory: accessesMemory, avx: avx, bmi2: bmi2, allowLeaf: false)
            machine = framed.emit()
        }
        return Output(function: machine, ir: keepIR ? f : nil)
    }
}

extension Module {
    /// The optimizing tier's IR of function `index` (module function index space) after
    /// optimization, as text, or why the tier leaves the function out. A debugging aid
    /// (`strata dump --tier optimizing`); compiles the function again from `bytes`.
    public static func optimizedIRListing(bytes: [UInt8], function index: Int) throws(WasmError) -> String {
        try bytes.withUnsafeBufferPointer { buffer throws(WasmError) -> String in
            let (info, context, _) = try decodeValidating(buffer, threads: 1) { _, _, _, _, validator throws(WasmError) -> Bool? in
                var sink = NullSink()
                try validator.run(sink: &sink)
                return nil
            }
            let d = index - info.importedFunctionTypes.count
            guard d >= 0, d < info.bodies.count else { throw WasmError(.invalid, "no defined function \(index)") }
            let out = try OptimizingCompiler.compile(
                FunctionSource(d, bytes: buffer, info: info, context: context), avx: strata_cpu_features() & STRATA_CPU_AVX != 0,
                bmi2: strata_cpu_features() & STRATA_CPU_BMI2 != 0, keepIR: true)
            if let reason = out.reason { return "not compiled by the optimizing tier: \(reason.message)\n" }
            return out.ir?.listing() ?? ""
        }
    }

    /// Where compiled function `index`'s code maps to Wasm: (code offset, Wasm offset, what),
    /// from its trap sites and call sites (a call's entry is its return address).
    public func machineCodeMap(function index: Int) -> [(codeOffset: Int, wasmOffset: Int, what: String)] {
        guard let code = compiled, let k = code.image.functions.firstIndex(where: { $0.index == index - importedFunctionCount }) else { return [] }
        let f = code.image.functions[k]
        var out: [(Int, Int, String)] = []
        let traps = code.image.trapTable(f)
        for t in 0..<f.trapCount {
            var kind = traps[t].kind == STRATA_TRAP_KIND_DYNAMIC ? "trap from the callee" : "trap: \(TrapKind(rawValue: traps[t].kind).map { "\($0)" } ?? "?")"
            if let call = code.image.inlinedCall(f, at: traps[t].codeOffset) {
                kind += " in func \(call.callee) inlined at @wasm 0x\(String(call.callOffset, radix: 16))"
            }
            out.append((Int(traps[t].codeOffset), Int(traps[t].wasmOffset), kind))
        }
        let calls = code.image.callTable(f)
        for c in stride(from: 0, to: f.callCount, by: 2) { out.append((Int(calls[c]), Int(calls[c + 1]), "return from call")) }
        return out.sorted { $0.0 < $1.0 }
    }
}
