import CStrata
import Glibc
import Synchronization

/// An execution mode: one tier, or tiering.
public enum Tier: String, Sendable, CaseIterable {
    /// The threaded interpreter only.
    case interpreter
    /// Every function compiled by the baseline x86-64 compiler when the module is created
    /// (functions it cannot compile yet, those using SIMD, stay interpreted).
    case baseline
    /// Start in the interpreter; functions that get hot are compiled by the baseline compiler
    /// in the background and swapped in while the program runs, and those that stay hot move
    /// on to the optimizing compiler the same way.
    case tiered
    /// Every function compiled by the optimizing compiler when the module is created (functions
    /// it leaves out go to the baseline compiler, those using SIMD to the interpreter).
    case optimizing

    /// The kind tag of an entry record running this tier's code (`FunctionCode.kind`).
    var recordKind: UInt32 {
        switch self {
        case .interpreter, .tiered: 0
        case .baseline: 1
        case .optimizing: 2
        }
    }
    init(recordKind: UInt32) {
        self = recordKind == 0 ? .interpreter : recordKind == 1 ? .baseline : .optimizing
    }
}

/// Engine-wide configuration.
public struct EngineConfiguration: Sendable {
    /// Value-stack size of each store, in 16-byte value slots (default 1 Mi slots = 16 MiB of
    /// address space, committed as it is touched).
    public var stackSlots: Int = 1 << 20
    /// Deepest Wasm call nesting before "call stack exhausted".
    public var maxCallDepth: Int = 100_000
    /// Deepest nesting of host -> Wasm -> host -> Wasm activations (these use the native stack).
    public var maxHostNesting: Int = 200
    /// Which tier runs the code.
    public var tier: Tier = .tiered
    /// Threads compiling functions: the background compile service's bound, and the workers of
    /// a baseline-tier module creation (default: cores - 1, at least 1).
    public var compileThreads: Int = max(1, EngineConfiguration.processorCount - 1)
    /// Cores online.
    static let processorCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Tiering: a function is queued for compilation when its hotness reaches the threshold;
    /// each call adds `callWeight`, each loop back edge `loopWeight`. Only tiered mode counts
    /// (the interpreter's calls in the other modes skip the count).
    public var tierUpThreshold: Int = 1500
    /// Tiered mode: baseline code counts the same way from zero; at this hotness the function
    /// is queued for the optimizing tier.
    public var optimizeThreshold: Int = 15_000
    public var callWeight: Int = 15
    public var loopWeight: Int = 1
    /// Called (on a compile thread) for every tiering event.
    public var tierLog: (@Sendable (TierEvent) -> Void)?
    /// Chaos mode for tests: thresholds drawn at random, entries swapped between tiers at
    /// random moments, and running activations moved to compiled code at random back edges,
    /// from this seed.
    public var chaosSeed: UInt64?
    /// Tiered mode: whether a running interpreter activation moves to compiled code at a loop's
    /// back edge (on-stack replacement) once the function's compiled code is ready.
    public var osr: OSRMode = .enabled
    /// Where compiled code is kept between runs (nil: no cache). `DirectoryCodeCache()` is the
    /// usual choice; `InMemoryCodeCache` shares code between engines of one process.
    public var codeCache: (any CodeCache)?
    /// Which external profiler hears of placed code (`Profiler`; not part of the code cache
    /// key: the code is the same).
    public var profiler: Profiler = .none
    /// Register placed code with the GDB JIT interface (`__jit_debug_register_code`): an
    /// in-memory ELF object per placed mapping with a symbol per function and its unwind
    /// information, so gdb's backtraces name Wasm functions (`GDBJITInterface`). Unregistered
    /// when the code is freed.
    public var gdbJIT: Bool = false
    /// Keep each compiled function's machine code for `Module.compiledCodeListing` (debugging).
    public var keepMachineCode: Bool = false
    /// Compiled code uses VEX encodings where the CPU has them: AVX's three-operand float
    /// arithmetic and BMI2's `rorx`; false forces the SSE and legacy forms (tests run both).
    public var useAVX: Bool = true
    /// The Wasm proposals beyond 2.0 that modules may use (default: every one Strata
    /// implements). A module using a disabled one is rejected as Wasm 2.0 rejects it.
    public var features: WasmFeatures = .all
    /// For tests: functions (module function index space) no compiled tier compiles, so they
    /// run in the interpreter in every mode (mixed-tier calls, traps and exceptions are tested
    /// with them), like V8's tier mask for testing. Part of the code cache key.
    var interpreterOnlyFunctions: Set<Int> = []
    /// For tests: CPU features (`STRATA_CPU_*`) compiled code must do without, as on a CPU that
    /// lacks them (without SSE4.1 the compiled tiers are unavailable: eager modes fail with the
    /// reason, tiered mode stays in the interpreter). Part of the code cache key.
    var maskedCPUFeatures: UInt32 = 0
    public init() {}

    /// The CPU features compiled code may use under this configuration.
    var codeFeatures: UInt32 {
        strata_cpu_features() & ~maskedCPUFeatures & (useAVX ? ~0 : ~(STRATA_CPU_AVX | STRATA_CPU_BMI2))
    }
}

/// Wasm proposals past 2.0 that can be switched off (Wasm 2.0 itself, SIMD and relaxed SIMD
/// included, is always on).
public struct WasmFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `i32`/`i64` `add`, `sub`, `mul` in constant expressions, and `global.get` of any earlier
    /// immutable global (Wasm 2.0: imported ones only).
    public static let extendedConstantExpressions = WasmFeatures(rawValue: 1 << 0)
    /// `return_call` and `return_call_indirect`: calls that replace the caller's frame.
    public static let tailCalls = WasmFeatures(rawValue: 1 << 1)
    /// Several memories per module, every memory instruction with a memory index.
    public static let multiMemory = WasmFeatures(rawValue: 1 << 2)
    /// 64-bit memories (memory64): i64 addresses, limits and offsets.
    public static let memory64 = WasmFeatures(rawValue: 1 << 3)
    /// Exception handling: tags, `throw`, `throw_ref`, `try_table`, `exnref`.
    public static let exceptionHandling = WasmFeatures(rawValue: 1 << 4)
    /// Typed function references: `(ref null? ht)` types (non-nullable references, concrete
    /// function types, the bottom types), `call_ref`, `return_call_ref`, `ref.as_non_null`,
    /// `br_on_null`, `br_on_non_null`, locals that must be set before use, table initializers.
    public static let functionReferences = WasmFeatures(rawValue: 1 << 5)
    /// Wasm 2.0 exactly.
    public static let wasm2: WasmFeatures = []
    /// Every proposal Strata implements.
    public static let all: WasmFeatures = [.extendedConstantExpressions, .tailCalls, .multiMemory, .memory64, .exceptionHandling, .functionReferences]
}

/// How a trap in compiled code finds its way to the host entry (process-wide).
public enum TrapUnwinder: Sendable {
    /// libunwind, stepping with the unwind information Strata registers for its code.
    case libunwind
    /// The frame-pointer chain every compiled frame keeps: no lookups outside Strata's registry.
    case framePointers
}

/// Shared, thread-safe engine: configuration and the canonical signature table that makes
/// `call_indirect` type checks a single integer compare across modules.
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    private let signatures = Locked<[FuncType: UInt32]>([:])

    /// The unwinder the trap handler uses, for every engine of the process (default libunwind).
    public static var trapUnwinder: TrapUnwinder {
        get { strata_trap_unwinder() == STRATA_UNWIND_LIBUNWIND ? .libunwind : .framePointers }
        set { strata_set_trap_unwinder(newValue == .libunwind ? STRATA_UNWIND_LIBUNWIND : STRATA_UNWIND_FRAME_POINTERS) }
    }

    /// The background compile service (tiered mode).
    let tierUp: TierUpService

    public init(configuration: EngineConfiguration = EngineConfiguration()) {
        self.configuration = configuration
        tierUp = TierUpService(configuration: configuration)
    }

    /// What tiering has compiled so far, how long it took, and what is waiting.
    public var tieringStatistics: TieringStatistics { tierUp.statistics }

    /// Waits (at most `timeout` seconds) until queued compilations are done and compiled code
    /// is written to the code cache. Call it before exiting to keep this run's work.
    /// `exiting`: the caller runs no more Wasm, so queued on-stack-replacement compiles are
    /// dropped first (their code is never cached, and no activation is left to move: a cold
    /// Yosys run waited 0.2 s for 16 of them after its program had finished), and the calling
    /// thread compiles what is queued beside the compile threads.
    public func flushCodeCache(timeout: Double = 10, exiting: Bool = false) {
        if exiting {
            tierUp.dropQueuedOSR()
            tierUp.helpDrain()  // this thread compiles too: it has nothing else to do
        }
        tierUp.waitUntilIdle(timeout: timeout)
    }

    /// Canonical id of a signature (equal types, equal ids, for the engine's lifetime). Its
    /// concrete heap types must be canonical ids already (a host function's type). 0 (no
    /// module type's id: nothing links to it or calls it indirectly) once the engine holds
    /// `HeapType.maxIndex` distinct types.
    func typeID(_ type: FuncType) -> UInt32 {
        signatures.withLock { table in Self.intern(type, &table) ?? 0 }
    }

    /// Canonical ids of a module's types (`TypeCanonicalization`): equivalent types of any
    /// modules of this engine get one id.
    func typeIDs(_ types: [FuncType]) throws(WasmError) -> [UInt32] {
        let ids: [UInt32]? = signatures.withLock { table in
            var ids: [UInt32] = []
            ids.reserveCapacity(types.count)
            for i in types.indices {
                guard let id = Self.intern(TypeCanonicalization.canonicalKey(of: i, in: types, id: { ids[$0] }), &table) else { return nil }
                ids.append(id)
            }
            return ids
        }
        guard let ids else { throw WasmError(.unsupported, "the engine holds too many distinct function types (\(HeapType.maxIndex))") }
        return ids
    }

    private static func intern(_ key: FuncType, _ table: inout [FuncType: UInt32]) -> UInt32? {
        if let id = table[key] { return id }
        guard table.count < Int(HeapType.maxIndex) else { return nil }
        let id = UInt32(table.count + 1)
        table[key] = id
        return id
    }
}
