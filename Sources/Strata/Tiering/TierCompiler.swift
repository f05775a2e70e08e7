import CStrata
import Dispatch
import Synchronization

/// One defined function of a decoded, validated module: what every compiler gets.
struct FunctionSource {
    /// Defined-function index.
    let index: Int
    let bytes: UnsafeBufferPointer<UInt8>
    let info: ModuleInfo
    let context: ModuleContext
    /// The body with its locals decoded.
    let body: FunctionBody

    init(_ index: Int, bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo, context: ModuleContext, body: FunctionBody? = nil) {
        self.index = index
        self.bytes = bytes
        self.info = info
        self.context = context
        self.body = body ?? info.bodies[index]
    }

    var type: FuncType { info.types[Int(info.functionTypeIndices[index])] }
    /// In the module's function index space.
    var functionIndex: Int { importedFunctionCount + index }
    var importedFunctionCount: Int { info.importedFunctionTypes.count }
    /// Whether the module has a memory 0 (defined or imported).
    var moduleHasMemory: Bool {
        !info.memories.isEmpty || info.imports.contains { if case .memory = $0.descriptor { true } else { false } }
    }
}

/// A compiled tier's compiler: one interface that module creation, the tier-up service and the
/// code cache's identity probe all use. The machine code it returns is placed by `CodeImage` /
/// `CompiledCode`, whatever the tier (the code says which tier produced it).
protocol TierCompiler: Sendable {
    var tier: Tier { get }
    /// Compiles one body. Throws only validation errors; `.failure` carries the reason the
    /// tier leaves the function to the tier below.
    func compile(_ source: FunctionSource) throws(WasmError) -> Result<MachineFunction, WasmError>
    /// Functions left to the interpreter (`EngineConfiguration.interpreterOnlyFunctions`).
    var interpreterOnly: Set<Int> { get }
}

extension TierCompiler {
    /// `compile`, unless the function is one the configuration keeps in the interpreter.
    func compileUnlessInterpreterOnly(_ source: FunctionSource) throws(WasmError) -> Result<MachineFunction, WasmError> {
        if interpreterOnly.contains(source.functionIndex) {
            return .failure(WasmError(.unsupported, "kept in the interpreter by EngineConfiguration.interpreterOnlyFunctions"))
        }
        return try compile(source)
    }
}

/// The baseline tier; in tiered mode its code counts hotness towards the optimizing tier.
struct BaselineTierCompiler: TierCompiler {
    var hotness: (call: Int32, loop: Int32)?
    var interpreterOnly: Set<Int> = []
    /// Emit AVX encodings (the CPU has them and the configuration allows them).
    var avx = false
    var tier: Tier { .baseline }

    init(hotness: (call: Int32, loop: Int32)? = nil, avx: Bool = false) { self.hotness = hotness; self.avx = avx }
    init(_ configuration: EngineConfiguration, hotness: (call: Int32, loop: Int32)? = nil) {
        self.hotness = hotness
        interpreterOnly = configuration.interpreterOnlyFunctions
        avx = configuration.codeFeatures & STRATA_CPU_AVX != 0
    }

    func compile(_ source: FunctionSource) throws(WasmError) -> Result<MachineFunction, WasmError> {
        let body = source.body, type = source.type
        let functionIndex = source.functionIndex
        var counter = LocalUseCounter(localCount: type.params.count + body.locals.count, functionIndex: functionIndex)
        var first = FunctionValidator(module: source.context, body: body, type: type, bytes: source.bytes)
        try first.run(sink: &counter)
        var compiler = BaselineCompiler(
            context: source.context, importedFunctionCount: source.importedFunctionCount, type: type, locals: body.locals,
            hasMemory: source.moduleHasMemory, localUses: counter.uses,
            tailCalls: (functionIndex: functionIndex, toOthers: counter.tailCallsOthers), catches: counter.catches,
            counting: hotness.map { BaselineCompiler.HotnessCounting(definedIndex: source.index, callWeight: $0.call, loopWeight: $0.loop) },
            avx: avx)
        var validator = FunctionValidator(module: source.context, body: body, type: type, bytes: source.bytes)
        try validator.run(sink: &compiler)
        if let reason = compiler.unsupported { return .failure(reason) }
        return .success(compiler.finish())
    }
}

/// The optimizing tier.
struct OptimizingTierCompiler: TierCompiler {
    /// Emit AVX encodings and BMI2's `rorx` (the CPU has them and the configuration allows them).
    var avx: Bool
    var bmi2: Bool
    var interpreterOnly: Set<Int> = []
    /// An on-stack-replacement entry at the loop at this Wasm offset instead of the function's
    /// entries (`IRBuilder.osrLoop`).
    var osrLoop: Int32? = nil
    var tier: Tier { .optimizing }

    init(avx: Bool, bmi2: Bool = false) { self.avx = avx; self.bmi2 = bmi2 }
    init(_ configuration: EngineConfiguration) {
        avx = configuration.codeFeatures & STRATA_CPU_AVX != 0
        bmi2 = configuration.codeFeatures & STRATA_CPU_BMI2 != 0
        interpreterOnly = configuration.interpreterOnlyFunctions
    }

    func compile(_ source: FunctionSource) throws(WasmError) -> Result<MachineFunction, WasmError> {
        let out = try OptimizingCompiler.compile(source, avx: avx, bmi2: bmi2, osrLoop: osrLoop)
        if let f = out.function { return .success(f) }
        return .failure(out.reason ?? WasmError(.unsupported, "not compiled by the optimizing tier"))
    }
}

extension Tier {
    /// The compilers a module created in this mode runs on every function, best first (a
    /// function one leaves out goes to the next); none for the modes that start interpreted.
    static func eagerCompilers(_ c: EngineConfiguration) -> [any TierCompiler] {
        switch c.tier {
        case .interpreter, .tiered: []
        case .baseline: [BaselineTierCompiler(c)]
        case .optimizing: [OptimizingTierCompiler(c), BaselineTierCompiler(c)]
        }
    }

    /// The compiler tiered mode moves a function up to this tier with.
    static func tierUpCompiler(to tier: Tier, configuration c: EngineConfiguration) -> (any TierCompiler)? {
        switch tier {
        case .baseline: BaselineTierCompiler(c, hotness: (Int32(clamping: c.callWeight), Int32(clamping: c.loopWeight)))
        case .optimizing: OptimizingTierCompiler(c)
        default: nil
        }
    }
}

extension Module {
    /// One function compiled for a tier: its code and the tier that produced it.
    struct TierFunction {
        var index: Int
        var function: MachineFunction
        var tier: Tier
    }

    /// A function a tier left to the tier below, and why (for the tier log).
    struct LeftOut {
        var index: Int
        var tier: Tier
        var reason: WasmError
    }

    /// Compiles every defined function not in `skip` with `compilers` (best first: a function
    /// one leaves out goes to the next), in parallel on `threads` workers. Functions no
    /// compiler takes stay interpreted. Returns the code and, sorted, what each tier left out.
    static func compileFunctions(
        bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo, context: ModuleContext, threads: Int,
        compilers: [any TierCompiler], skip: [Bool] = []
    ) throws(WasmError) -> (compiled: [TierFunction], leftOut: [LeftOut]) {
        let n = info.bodies.count
        guard !compilers.isEmpty else { return ([], []) }
        let results = UnsafeMutableBufferPointer<TierFunction?>.allocate(capacity: max(n, 1))
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        let next = Atomic<Int>(0)
        let failure = Locked<WasmError?>(nil)
        let left = Locked<[LeftOut]>([])
        let workers = max(1, min(threads, n))
        // Each worker writes only its own result slots; the buffers outlive the workers.
        nonisolated(unsafe) let slotsOut = results
        nonisolated(unsafe) let code = bytes
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= n { return }
                if i < skip.count && skip[i] { continue }
                do throws(WasmError) {
                    let source = FunctionSource(i, bytes: code, info: info, context: context)
                    for compiler in compilers {
                        switch try compiler.compileUnlessInterpreterOnly(source) {
                        case .success(let f): slotsOut[i] = TierFunction(index: i, function: f, tier: compiler.tier)
                        case .failure(let reason): left.withLock { $0.append(LeftOut(index: i, tier: compiler.tier, reason: reason)) }
                        }
                        if slotsOut[i] != nil { break }
                    }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
            }
        }
        if let e = failure.withLock({ $0 }) { throw e }
        var out: [TierFunction] = []
        for i in 0..<n { if let f = results[i] { out.append(f) } }
        // Per function, in the order its compilers were tried.
        let rank = { (t: Tier) in compilers.firstIndex { $0.tier == t } ?? 0 }
        let leftOut = left.withLock { $0 }.sorted { $0.index != $1.index ? $0.index < $1.index : rank($0.tier) < rank($1.tier) }
        return (out, leftOut)
    }

    /// Decodes, validates and compiles `bytes` with every compiler a run can use (the
    /// baseline one with and without hotness counting, the optimizing one), on one thread:
    /// the code cache's identity probe.
    static func compileFunctionsForIdentity(_ buffer: UnsafeBufferPointer<UInt8>) throws(WasmError) -> [MachineFunction] {
        let (info, context, _) = try decodeValidating(buffer, threads: 1) { _, _, _, _, validator throws(WasmError) -> Bool? in
            var sink = NullSink()
            try validator.run(sink: &sink)
            return nil
        }
        let compilers: [any TierCompiler] = [
            BaselineTierCompiler(), BaselineTierCompiler(hotness: (15, 1)), BaselineTierCompiler(avx: true), OptimizingTierCompiler(avx: false),
            OptimizingTierCompiler(avx: true), OptimizingTierCompiler(avx: true, bmi2: true),
        ]
        var out: [MachineFunction] = []
        for compiler in compilers {
            out += try compileFunctions(bytes: buffer, info: info, context: context, threads: 1, compilers: [compiler]).compiled.map(\.function)
        }
        return out
    }
}
