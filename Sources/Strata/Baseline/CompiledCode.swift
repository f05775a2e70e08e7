import CStrata
import Glibc
import Dispatch
import Synchronization

/// Compiled functions of one module placed in one executable mapping, with their entry
/// records, trap tables and call-site maps, registered with the code registry (the signal
/// handler's view) for as long as the object lives. Shared by every instance of the module.
final class CompiledCode: @unchecked Sendable {
    let memory: ExecutableMemory
    /// The functions' image: the trap and call-site tables are used in place.
    let image: CodeImage
    /// One registry range and one entry record per compiled function (image order).
    let count: Int
    let ranges: UnsafeMutablePointer<StrataCodeRange>
    let records: UnsafeMutablePointer<FunctionCode>
    /// Function names and import count, for backtraces (no reference back to the module).
    let names: FunctionNames
    /// Bytes of Wasm code compiled, and bytes of machine code produced.
    let wasmBytes: Int
    let codeBytes: Int

    /// Places the functions of `image` and registers them. `interpreterRecords` are the
    /// module's interpreter records, copied into the new records for their metadata.
    init(
        image: CodeImage, interpreterRecords: UnsafeMutablePointer<FunctionCode>,
        importedFunctionCount: Int, names: FunctionNames, wasmBytes: Int
    ) throws(WasmError) {
        let functions = image.functions
        var starts: [Int] = []
        starts.reserveCapacity(functions.count)
        var total = 0
        for f in functions {
            total = (total + 15) & ~15
            starts.append(total)
            total += f.codeSize
        }
        // Unwind information follows the code in the same mapping (libunwind reads FDEs at
        // 32-bit offsets from the mapping's base).
        let ehFrameOffset = (total + 7) & ~7
        var fdeOffsets: [Int] = []
        var segments: [UnwindInfo.Segment] = []
        for (k, f) in functions.enumerated() { segments += f.unwindSegments(at: starts[k]) }
        memory = try ExecutableMemory({ base in
            for (k, f) in functions.enumerated() {
                (base + starts[k]).copyMemory(from: image.base + f.code, byteCount: f.codeSize)
            }
            fdeOffsets = UnwindInfo.write(segments, mappingBase: base, at: ehFrameOffset)
        }, byteCount: ehFrameOffset + UnwindInfo.byteCount(segments))
        self.image = image
        self.names = names
        self.wasmBytes = wasmBytes
        codeBytes = total
        count = functions.count
        ranges = .allocate(capacity: max(count, 1))
        records = .allocate(capacity: max(count, 1))
        let owner = Unmanaged.passUnretained(self).toOpaque()
        for (k, f) in functions.enumerated() {
            let start = memory.base + starts[k]
            (ranges + k).initialize(to: StrataCodeRange(
                start: UInt(bitPattern: start), end: UInt(bitPattern: start + f.codeSize),
                traps: image.trapTable(f), trapCount: UInt32(f.trapCount),
                functionIndex: UInt32(importedFunctionCount + f.index),
                callSites: image.callTable(f), callSiteCount: UInt32(f.callCount / 2), tier: f.tier, owner: owner))
            // The interpreter record's metadata, field by field (its hotness may be changing).
            let i = interpreterRecords + f.index
            (records + k).initialize(to: FunctionCode(
                nativeEntry: UnsafeRawPointer(start), kind: f.tier, functionIndex: i.pointee.functionIndex, code: i.pointee.code,
                frameWords: i.pointee.frameWords, paramWords: i.pointee.paramWords, localWords: i.pointee.localWords,
                resultWords: i.pointee.resultWords, consts: i.pointee.consts, constWords: i.pointee.constWords,
                definedIndex: i.pointee.definedIndex, directEntry: f.directEntry == 0 ? nil : UnsafeRawPointer(start + f.directEntry)))
        }
        var pointers: [UnsafePointer<StrataCodeRange>?] = (0..<count).map { UnsafePointer(ranges + $0) }
        pointers.withUnsafeMutableBufferPointer { strata_registry_add($0.baseAddress, count) }
        // One (start, FDE) pair per segment, sorted by start.
        let table = UnsafeMutablePointer<Int32>.allocate(capacity: max(2 * segments.count, 2))
        for (k, segment) in segments.enumerated() {
            table[2 * k] = Int32(segment.start)
            table[2 * k + 1] = Int32(fdeOffsets[k])
        }
        unwindTable = table
        let base = UInt(bitPattern: memory.base)
        unwindHandle = count == 0 ? nil : strata_unwind_register(base, base + UInt(total), base, table, segments.count)
        if Self.perfMap != nil {
            var lines = ""
            for k in 0..<count {
                let r = ranges[k]
                let name = names[r.functionIndex] ?? "func\(r.functionIndex)"
                lines += "\(String(r.start, radix: 16)) \(String(r.end - r.start, radix: 16)) wasm[\(r.functionIndex)] \(name) (\(Tier(recordKind: r.tier).rawValue))\n"
            }
            Self.perfMap?.withLock { fd in _ = lines.withCString { write(fd, $0, strlen($0)) } }
        }
    }

    /// With STRATA_PERF_MAP set, every placed function is appended to /tmp/perf-PID.map (the
    /// format `perf report` reads for JIT code: start, size, name), a debugging aid.
    static let perfMap: Locked<Int32>? = {
        guard getenv("STRATA_PERF_MAP") != nil else { return nil }
        let fd = open("/tmp/perf-\(getpid()).map", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        return fd < 0 ? nil : Locked(fd)
    }()

    /// The record of image function `k`'s defined index.
    func record(forDefined index: Int) -> UnsafeMutablePointer<FunctionCode>? {
        guard let k = image.functions.firstIndex(where: { $0.index == index }) else { return nil }
        return records + k
    }

    private var unwindTable: UnsafeMutablePointer<Int32>?
    private var unwindHandle: UnsafeMutableRawPointer?

    deinit {
        strata_unwind_unregister(unwindHandle)
        unwindTable?.deallocate()
        strata_registry_remove(ranges, count)
        ranges.deallocate()
        records.deallocate()
    }

    /// The Wasm frame of a compiled-code pc (a faulting pc, or a return address).
    static func backtraceFrame(pc: UInt, isReturnAddress: Bool) -> BacktraceFrame? {
        guard let range = strata_registry_lookup(pc) else { return nil }
        let code = Unmanaged<CompiledCode>.fromOpaque(range.pointee.owner).takeUnretainedValue()
        let offset = UInt32(pc - range.pointee.start)
        var wasm: Int?
        if isReturnAddress {
            for k in 0..<Int(range.pointee.callSiteCount) where range.pointee.callSites[2 * k] == offset {
                // A slot-buffer wrapper's call of its own direct entry: the same activation.
                if range.pointee.callSites[2 * k + 1] == X64DirectCall.wrapperCallSite { return nil }
                wasm = Int(range.pointee.callSites[2 * k + 1])
                break
            }
        } else if let site = strata_trap_site(range, offset) {
            wasm = Int(site.pointee.wasmOffset)
        }
        let index = range.pointee.functionIndex
        return BacktraceFrame(functionIndex: index, name: code.names[index], offset: wasm)
    }
}

extension Module {
    /// One function compiled for a tier: its code and the tier that produced it (a function
    /// the optimizing tier leaves out is compiled by the baseline tier).
    struct TierFunction {
        var index: Int
        var function: MachineFunction
        var tier: Tier
    }

    /// Compiles every defined function for `tier` (.baseline or .optimizing), in parallel on
    /// `threads` workers. Functions no compiled tier takes (SIMD) stay interpreted; `notCompiled`
    /// gets (index, tier, reason) for each function left to a lower tier.
    static func compileFunctions(
        bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo, context: ModuleContext, threads: Int, tier: Tier,
        skip: [Bool] = [], notCompiled: ((Int, Tier, WasmError) -> Void)? = nil
    ) throws(WasmError) -> [TierFunction] {
        let n = info.bodies.count
        let results = UnsafeMutableBufferPointer<TierFunction?>.allocate(capacity: max(n, 1))
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        let next = Atomic<Int>(0)
        let failure = Locked<WasmError?>(nil)
        let left = Locked<[(Int, Tier, WasmError)]>([])
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
                    if tier == .optimizing {
                        let out = try compileOptimized(i, bytes: code, info: info, context: context)
                        if let f = out.function {
                            slotsOut[i] = TierFunction(index: i, function: f, tier: .optimizing)
                            continue
                        }
                        if let reason = out.reason { left.withLock { $0.append((i, .optimizing, reason)) } }
                    }
                    switch try compileBaseline(i, bytes: code, info: info, context: context) {
                    case .success(let f): slotsOut[i] = TierFunction(index: i, function: f, tier: .baseline)
                    case .failure(let reason): left.withLock { $0.append((i, .baseline, reason)) }
                    }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
            }
        }
        if let e = failure.withLock({ $0 }) { throw e }
        if let notCompiled { for (i, t, reason) in left.withLock({ $0 }).sorted(by: { $0.0 < $1.0 }) { notCompiled(i, t, reason) } }
        var out: [TierFunction] = []
        for i in 0..<n { if let f = results[i] { out.append(f) } }
        return out
    }

    static func hasMemory(_ info: ModuleInfo) -> Bool {
        !info.memories.isEmpty || info.imports.contains { if case .memory = $0.descriptor { true } else { false } }
    }

    /// Defined function `i` by the baseline compiler; `.failure` with the reason when the tier
    /// leaves it out. Throws validation errors only.
    static func compileBaseline(
        _ i: Int, bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo, context: ModuleContext, countHotness: Bool = false,
        weights: (call: Int32, loop: Int32) = (15, 1), body decoded: FunctionBody? = nil
    ) throws(WasmError) -> Result<MachineFunction, WasmError> {
        let body = decoded ?? info.bodies[i]
        let type = info.types[Int(info.functionTypeIndices[i])]
        var counter = LocalUseCounter(localCount: type.params.count + body.locals.count)
        var first = FunctionValidator(module: context, body: body, type: type, bytes: bytes)
        try first.run(sink: &counter)
        var compiler = BaselineCompiler(
            context: context, importedFunctionCount: info.importedFunctionTypes.count, type: type, locals: body.locals,
            hasMemory: hasMemory(info), localUses: counter.uses,
            counting: countHotness ? BaselineCompiler.HotnessCounting(definedIndex: i, callWeight: weights.call, loopWeight: weights.loop) : nil)
        var validator = FunctionValidator(module: context, body: body, type: type, bytes: bytes)
        try validator.run(sink: &compiler)
        if let reason = compiler.unsupported { return .failure(reason) }
        return .success(compiler.finish())
    }

    /// Defined function `i` by the optimizing compiler.
    static func compileOptimized(
        _ i: Int, bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo, context: ModuleContext, keepIR: Bool = false,
        body decoded: FunctionBody? = nil
    ) throws(WasmError) -> OptimizingCompiler.Output {
        let type = info.types[Int(info.functionTypeIndices[i])]
        return try OptimizingCompiler.compile(
            context: context, importedFunctionCount: info.importedFunctionTypes.count, type: type, body: decoded ?? info.bodies[i],
            bytes: bytes, hasMemory: hasMemory(info), functionIndex: info.importedFunctionTypes.count + i, keepIR: keepIR)
    }
}

extension Module {
    /// Decodes, validates and compiles `bytes` with the baseline compiler (with and without
    /// hotness counting) and the optimizing compiler, one thread (the code cache's identity probe).
    static func compileFunctionsForIdentity(_ buffer: UnsafeBufferPointer<UInt8>) throws(WasmError) -> [MachineFunction] {
        let (info, context, _) = try decodeValidating(buffer, threads: 1) { _, _, _, _, validator throws(WasmError) -> Bool? in
            var sink = NullSink()
            try validator.run(sink: &sink)
            return nil
        }
        var out = try compileFunctions(bytes: buffer, info: info, context: context, threads: 1, tier: .baseline).map(\.function)
        out += try compileFunctions(bytes: buffer, info: info, context: context, threads: 1, tier: .optimizing).map(\.function)
        for i in 0..<info.bodies.count {
            if case .success(let f) = try compileBaseline(i, bytes: buffer, info: info, context: context, countHotness: true) { out.append(f) }
        }
        return out
    }
}
