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
    /// Function names, the module's function bodies (where each starts) and its import count,
    /// for backtraces (no reference back to the module; `bodies` is the module's own array).
    let names: FunctionNames
    let bodies: [FunctionBody]
    let importedFunctionCount: Int
    /// The module's name (name section), for profilers.
    var moduleName: String?
    /// Bytes of Wasm code compiled, and bytes of machine code produced.
    let wasmBytes: Int
    let codeBytes: Int
    /// Where the unwind information (`.eh_frame`) is in the mapping, and its size.
    let ehFrameOffset: Int
    let ehFrameBytes: Int
    /// The in-memory object file registered with the GDB JIT interface, and its handle.
    var gdbObject: UnsafeMutableRawBufferPointer?
    var gdbHandle: UnsafeMutableRawPointer?

    /// Places the functions of `image` and registers them. `interpreterRecords` are the
    /// module's interpreter records, copied into the new records for their metadata.
    /// `inPlace`: an image from a mapped cache entry runs where it lies (false: in anonymous
    /// memory, as Linux perf needs for its perf map).
    init(
        image: CodeImage, interpreterRecords: UnsafeMutablePointer<FunctionCode>,
        importedFunctionCount: Int, names: FunctionNames, bodies: [FunctionBody], wasmBytes: Int, inPlace: Bool = true
    ) throws(WasmError) {
        self.bodies = bodies
        self.importedFunctionCount = importedFunctionCount
        let functions = image.functions
        let placement = image.placement
        if let placed = image.placedBytes {
            // From a cache entry: the bytes are placed already; a mapped entry's become
            // executable where they lie (no copy, no fresh pages), an array's are copied once.
            if inPlace, let storage = image.storage, let p = storage.makeExecutable(placed) {
                memory = ExecutableMemory(borrowing: p, size: placed.count, owner: storage)
            } else {
                memory = try ExecutableMemory({ $0.copyMemory(from: placed.baseAddress!, byteCount: placed.count) }, byteCount: placed.count)
            }
        } else {
            memory = try ExecutableMemory({ placement.write(image, to: $0) }, byteCount: placement.byteCount)
        }
        let starts = placement.starts, segments = placement.segments, fdeOffsets = placement.fdeOffsets
        let total = placement.codeBytes
        ehFrameOffset = placement.ehFrameOffset
        ehFrameBytes = placement.byteCount - placement.ehFrameOffset
        self.image = image
        self.names = names
        self.wasmBytes = wasmBytes
        codeBytes = total
        count = functions.count
        ranges = .allocate(capacity: max(count, 1))
        records = .allocate(capacity: max(count, 1))
        // One range and one record per function, in chunks on every core (fresh pages: 20,000
        // cached functions of a large program take 3.7 MB).
        let owner = Unmanaged.passUnretained(self).toOpaque()
        let (ranges, records, codeBase) = (ranges, records, memory.base)
        forEachChunk(count: functions.count, chunk: 4096) { chunk in
            for k in chunk {
                let f = functions[k]
                let start = codeBase + starts[k]
                (ranges + k).initialize(to: StrataCodeRange(
                    start: UInt(bitPattern: start), end: UInt(bitPattern: start + f.codeSize),
                    traps: image.trapTable(f), trapCount: UInt32(f.trapCount),
                    functionIndex: UInt32(importedFunctionCount + f.index),
                    callSites: image.callTable(f), callSiteCount: UInt32(f.callCount / 2), tier: f.tier, owner: owner,
                    handlers: image.handlerTable(f), handlerCount: UInt32(f.handlerCount)))
                // The interpreter record's metadata, field by field (its hotness may be changing).
                let i = interpreterRecords + f.index
                (records + k).initialize(to: FunctionCode(
                    nativeEntry: UnsafeRawPointer(start), kind: f.tier, functionIndex: i.pointee.functionIndex, code: i.pointee.code,
                    frameWords: i.pointee.frameWords, paramWords: i.pointee.paramWords, localWords: i.pointee.localWords,
                    resultWords: i.pointee.resultWords, frameImage: i.pointee.frameImage, imageWords: i.pointee.imageWords, imageStart: i.pointee.imageStart,
                    constWords: i.pointee.constWords,
                    definedIndex: i.pointee.definedIndex, directEntry: f.directEntry == 0 ? nil : UnsafeRawPointer(start + f.directEntry),
                    tailEntry: f.tailEntry == 0 ? nil : UnsafeRawPointer(start + f.tailEntry),
                    osrEntries: f.osrEntryCount == 0 ? nil : image.osrTable(f), osrEntryCount: f.osrEntryCount).withEntryFlags())
            }
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
    }

    /// The record of image function `k`'s defined index.
    func record(forDefined index: Int) -> UnsafeMutablePointer<FunctionCode>? {
        guard let k = image.functions.firstIndex(where: { $0.index == index }) else { return nil }
        return records + k
    }

    private var unwindTable: UnsafeMutablePointer<Int32>?
    private var unwindHandle: UnsafeMutableRawPointer?

    deinit {
        if let gdbHandle { strata_gdb_jit_unregister(gdbHandle) }
        gdbObject?.deallocate()
        strata_unwind_unregister(unwindHandle)
        unwindTable?.deallocate()
        strata_registry_remove(ranges, count)
        ranges.deallocate()
        records.deallocate()
    }

    /// Appends the Wasm frames of a compiled-code pc (a faulting pc, or a return address) to
    /// `trace`: one, or two for a trap in an inlined call (the callee where it trapped, then the
    /// caller at the call). Appends in place: the trap path allocates nothing more per frame.
    static func appendBacktraceFrames(pc: UInt, isReturnAddress: Bool, to trace: inout [BacktraceFrame]) {
        guard let range = strata_registry_lookup(pc) else { return }
        let code = Unmanaged<CompiledCode>.fromOpaque(range.pointee.owner).takeUnretainedValue()
        let offset = UInt32(pc - range.pointee.start)
        let index = range.pointee.functionIndex
        if isReturnAddress {
            var wasm: Int?
            for k in 0..<Int(range.pointee.callSiteCount) where range.pointee.callSites[2 * k] == offset {
                // A slot-buffer wrapper's call of its own direct entry: the same activation.
                if range.pointee.callSites[2 * k + 1] == X64DirectCall.wrapperCallSite { return }
                wasm = Int(range.pointee.callSites[2 * k + 1])
                break
            }
            trace.append(code.frame(index, offset: wasm))
            return
        }
        let wasm = strata_trap_site(range, offset).map { Int($0.pointee.wasmOffset) }
        let k = code.ranges.distance(to: UnsafeMutablePointer(mutating: range))
        if k >= 0, k < code.count, let call = code.image.inlinedCall(code.image.functions[k], at: offset) {
            // Inlined code (no calls in it, so only a faulting pc): the callee, then the caller.
            trace.append(code.frame(call.callee, offset: wasm))
            trace.append(code.frame(index, offset: Int(call.callOffset)))
        } else {
            trace.append(code.frame(index, offset: wasm))
        }
    }

    /// The backtrace frame of module function `index` at module offset `offset`.
    func frame(_ index: UInt32, offset: Int?) -> BacktraceFrame {
        let d = Int(index) - importedFunctionCount
        let start = d >= 0 && d < bodies.count ? bodies[d].bodyOffset : nil
        return BacktraceFrame(functionIndex: index, names: names, offset: offset, bodyStart: start)
    }
}
