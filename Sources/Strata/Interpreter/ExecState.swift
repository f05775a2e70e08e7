import CStrata

/// A 64-bit word of the value stack. Every value occupies one 16-byte slot (two words): scalars
/// and references in the low word, v128 in both; a frame's scalar constants are the exception,
/// one word each (`Translator.constImage`). Code operands are word indices (2 x slot).
typealias Slot = UInt64
/// Words per value slot.
let wordsPerSlot = 2
typealias CodePointer = UnsafeMutablePointer<UInt64>
typealias FramePointer = UnsafeMutablePointer<Slot>

/// What starts an instruction in the code stream (see `Opcode`).
typealias Handler = Opcode

/// What an operation returns to the dispatch loop: the next pc (nil leaves the loop), and the
/// frame pointer and state to continue with.
typealias NextInstruction = (CodePointer?, FramePointer, StatePointer)

/// An `Int` field kept in 32 bits (`FunctionCode`'s sizes and counts).
@propertyWrapper
struct Stored32 {
    private var value: Int32
    @inline(__always) init(wrappedValue: Int) { value = Int32(wrappedValue) }
    var wrappedValue: Int {
        @inline(__always) get { Int(value) }
        @inline(__always) set { value = Int32(newValue) }
    }
}

/// The interpreter's code for one function: what an entry-table slot points to while the
/// function runs in the interpreter. Owned by the module; shared by all its instances.
/// 128 bytes: sizes and counts are kept in 32 bits (`Stored32`; a module creates one record
/// per defined function at creation, 46,000 for a large program: 5.9 MB instead of 7.7 when
/// they were words).
struct FunctionCode {
    /// Native entry point (offset 0, ABI): compiled code for compiled records; for interpreter
    /// records, the thunk that runs the interpreter. Called as
    /// entry(vmctx, slots, record) -> trap kind (see docs/ARCHITECTURE.md, "Compiled code").
    var nativeEntry: UnsafeRawPointer? = interpreterNativeEntry
    /// Kind tag (`Tier.recordKind`): 0 = interpreter code, 1 = baseline, 2 = optimized machine code.
    var kind: UInt32 = 0
    var functionIndex: UInt32 = 0
    var code: CodePointer
    /// Words the frame needs: params, locals, constants, operand stack.
    @Stored32 var frameWords: Int
    @Stored32 var paramWords: Int
    /// Words of non-parameter locals (zeroed at entry from `imageStart` on: see `frameImage`).
    @Stored32 var localWords: Int
    @Stored32 var resultWords: Int
    /// The frame's image: zero words for the non-parameter locals from the first one the body
    /// may read before writing it (`LocalInitialization`; the ones before it are written first
    /// on every path, so they need no zero), the `constWords` words of the constant pool, then
    /// zeros up to `imageWords` (a multiple of 4: whole 32-byte chunks), copied to words
    /// [imageStart, imageStart + imageWords) at entry (`initializeFrame`). `frameWords` covers
    /// the padding.
    var frameImage: UnsafeMutablePointer<Slot>
    @Stored32 var imageWords: Int
    @Stored32 var imageStart: Int
    @Stored32 var constWords: Int
    /// Index of this function in the module's defined functions.
    @Stored32 var definedIndex: Int
    /// Tiering counters (calls and loop back edges, weighted) and the tier-up threshold.
    var hotness = StrataHotness(count: 0, tierUpAt: Int64.max)
    /// Optimized code with a register-argument entry (`X64DirectCall`): its address; nil otherwise.
    var directEntry: UnsafeRawPointer? = nil
    /// Compiled code of a function that makes tail calls: its body, entered without the entry
    /// wrapper by the function that runs tail calls (`strata_builtin_tail_call`); nil otherwise.
    var tailEntry: UnsafeRawPointer? = nil
    /// Compiled code's on-stack-replacement entries: pairs (the loop's Wasm offset, the entry's
    /// offset from `nativeEntry`); nil for none.
    var osrEntries: UnsafePointer<UInt32>? = nil
    /// Interpreter code's loop headers: pairs (code index, the loop's Wasm offset), sorted by
    /// code index; nil for none.
    var loopHeaders: UnsafePointer<Int32>? = nil
    @Stored32 var osrEntryCount: Int = 0
    @Stored32 var loopHeaderCount: Int = 0
    /// Nonzero when an interpreted call cannot take `enterFunction`'s fast path for this
    /// record: compiled code, a frame image over `smallFrameImageWords`, or a stub (a body not
    /// yet translated), one compare for all three (`withEntryFlags` sets it).
    var slowEntry: UInt32 = 0

    /// This record with `slowEntry` set from its kind and image; `stub`: the record of a body
    /// not yet translated.
    func withEntryFlags(stub: Bool = false) -> FunctionCode {
        var r = self
        r.slowEntry = stub || kind != 0 || imageWords > smallFrameImageWords ? 1 : 0
        return r
    }
}

/// A frame of the interpreter's control stack.
struct CallFrame {
    var returnPC: CodePointer?
    var fp: FramePointer
    var vmctx: UnsafeMutablePointer<StrataVMContext>
    var function: UnsafeMutablePointer<FunctionCode>?
}

/// Per-store execution state the operations read and write. Calls and returns update `fp`
/// here and hand the new value to the dispatch loop in their `NextInstruction`.
struct ExecState {
    var fp: FramePointer
    var vmctx: UnsafeMutablePointer<StrataVMContext>
    /// Cached from vmctx.memory0; reloaded whenever the vmctx changes or memory may have grown.
    var memBase: UnsafeMutablePointer<UInt8>?
    var memSize: UInt64
    /// One past the last usable value-stack slot.
    var stackEnd: FramePointer
    /// What a call's fast path checks a new frame's end against (`enterFunction`): `stackEnd`'s
    /// address while no interrupt is pending, 0 while one is (`InterruptHandle` writes it from
    /// any thread; relaxed atomics), so one compare sees both a full stack and an interrupt.
    var callLimit: UInt
    /// The control stack: call records from `frames` up to `frameTop` (the next free one);
    /// `frameEnd` is the first a call may not fill (`frameLimit` records).
    var frames: UnsafeMutablePointer<CallFrame>
    var frameTop: UnsafeMutablePointer<CallFrame>
    var frameEnd: UnsafeMutablePointer<CallFrame>
    /// The function whose frame is on top.
    var current: UnsafeMutablePointer<FunctionCode>?
    var trap: TrapKind
    var trapPC: CodePointer?
    var interrupt: UnsafeMutablePointer<UInt32>
    /// The store running this code (unretained: the store outlives its executions).
    var store: Unmanaged<Store>
    /// Lowest free slot for a nested activation started by a host function.
    var reentryTop: FramePointer
    /// The entry trampoline into compiled code (nil when compiled tiers cannot run here).
    var compiledEntry: JITRuntime.EntryFunction?
    /// Tiering weights (from the engine configuration; `callWeight` is 0 outside tiered mode,
    /// where calls count nothing: `enterFunction`).
    var callWeight: Int64 = 0
    var loopWeight: Int64 = 0
    /// Whether back edges are counted (tiered mode; see `backEdge`).
    var countsBackEdges = false
    /// Back edges left before the next count-and-poll (see `backEdge`). Starts at 0, so the
    /// first back edge takes the slow path.
    var backEdgeBudget = 0
    /// Back edges from one visit of the slow path to the next (`backEdgePeriod`, or 1).
    var backEdgePeriod = 64
    /// On-stack replacement (`OSRMode`; disabled outside tiered mode), the transfer the slow
    /// path decided on for `osr_transfer`, and chaos mode's generator (transfers at random
    /// back edges).
    var osrMode = OSRMode.disabled
    var osr: OSRTransfer? = nil
    var chaos: ChaosGenerator? = nil
    /// The frame level of the entry frame of the innermost activation whose caller runs tail
    /// calls (-1: none): a tail call from that frame to compiled or host code is handed back
    /// instead of made (see `Interpreter.invoke`).
    var tailCallLevel = -1
    /// Set when that activation ended by handing its tail call back.
    var tailCallHandedBack = false
    /// The native stack position of each running activation (`Interpreter.invoke`), outermost
    /// first: where the guest profiler's sampler puts the activation's frames among compiled
    /// frames. Its capacity is `activationCapacity`.
    var activationMarkers: UnsafeMutablePointer<UInt>
    var activationCount = 0
    var activationCapacity: Int

    /// The number of call records (the depth of the control stack).
    var frameCount: Int {
        @inline(__always) get { frameTop - frames }
        @inline(__always) set { frameTop = frames + newValue }
    }
    var frameLimit: Int { frameEnd - frames }

    @inline(__always)
    mutating func reloadMemory() {
        if let mem = vmctx.pointee.memory0 {
            memBase = mem.pointee.base
            memSize = mem.pointee.byteSize
        } else {
            memBase = nil
            memSize = 0
        }
    }
}

@inline(__always)
func handlerWord(_ h: Handler) -> UInt64 { h.word }



/// Handlers receive the execution state as an opaque pointer (C-representable).
typealias StatePointer = OpaquePointer

extension OpaquePointer {
    /// The execution state behind a `StatePointer`.
    @inline(__always)
    var pointee: ExecState {
        unsafeAddress { UnsafePointer<ExecState>(self) }
        nonmutating unsafeMutableAddress { UnsafeMutablePointer<ExecState>(self) }
    }
}
