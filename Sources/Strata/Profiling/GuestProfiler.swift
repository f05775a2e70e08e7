import CStrata
import Glibc

/// Samples the Wasm stack of code a store runs, at a fixed interval of wall-clock time,
/// with the tier of every frame (interpreter, baseline, optimizing), and gives the result as a
/// `GuestProfile` (a flame graph in SVG, a speedscope file).
///
/// Call `start()` on the thread that then runs the store's code, and `stop()` when done. The
/// sampler is a timer aimed at that thread whose signal (SIGPROF) records the interrupted Wasm
/// stack (see docs/ARCHITECTURE.md, "Guest profiler"); nothing runs on any hot path while no
/// profiler runs. One profiler runs at a time in a process.
public final class GuestProfiler {
    public let store: Store
    public let interval: Duration
    private var started = false

    /// Bytes reserved for samples (touched as used): at 2 ms and 30 frames a sample, about 50
    /// minutes of running time. Samples past it are counted as dropped.
    private static let bufferBytes = 1 << 30

    /// The default interval in milliseconds: 2 ms (500 samples a second). Each sample costs a
    /// timer interrupt and a signal; measured on a 2-core VM (AMD EPYC), 1 ms cost 6-7% of an
    /// interpreted program's time and 2 ms about 2-3%.
    public static let defaultInterval = 2.0

    public init(store: Store, interval: Duration = .milliseconds(2)) {
        self.store = store
        self.interval = interval
    }

    deinit {
        if started {
            strata_sampler_stop()
            strata_sampler_release()
        }
    }

    /// Starts sampling the calling thread.
    public func start() throws(GuestProfilerError) {
        guard !started else { throw .alreadyRunning }
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        guard nanoseconds >= 10_000 else { throw .intervalTooShort }
        let st = UnsafeMutablePointer<ExecState>(store.execState())
        func offset(_ path: PartialKeyPath<ExecState>) -> Int { MemoryLayout<ExecState>.offset(of: path)! }
        func frameOffset(_ path: PartialKeyPath<CallFrame>) -> Int { MemoryLayout<CallFrame>.offset(of: path)! }
        var layout = StrataSamplerLayout(
            execState: UnsafeRawPointer(st),
            framesOffset: offset(\.frames), frameTopOffset: offset(\.frameTop), frameEndOffset: offset(\.frameEnd),
            currentOffset: offset(\.current), vmctxOffset: offset(\.vmctx),
            markersOffset: offset(\.activationMarkers), markerCountOffset: offset(\.activationCount),
            frameStride: MemoryLayout<CallFrame>.stride, frameReturnPCOffset: frameOffset(\.returnPC),
            frameFunctionOffset: frameOffset(\.function), frameVMContextOffset: frameOffset(\.vmctx))
        let status = strata_sampler_start(&layout, UInt64(nanoseconds), Self.bufferBytes)
        switch status {
        case 0: started = true
        case EBUSY: throw .alreadyRunning
        default: throw .system(String(cString: strerror(status)))
        }
    }

    /// Stops sampling and returns the profile (empty when this profiler was not started: the
    /// process's one sampler may be another profiler's, and its samples are not this one's).
    @discardableResult
    public func stop() -> GuestProfile {
        guard started else { return GuestProfile(interval: interval) }
        strata_sampler_stop()
        started = false
        var words = 0
        var samples: UInt64 = 0, dropped: UInt64 = 0
        let buffer = strata_sampler_buffer(&words, &samples, &dropped)
        defer { strata_sampler_release() }
        var profile = GuestProfile(interval: interval)
        profile.droppedSamples = Int(dropped)
        guard let buffer else { return profile }
        // Code objects to frames, and frames to ids: one function in one tier is one frame,
        // whichever of its code objects ran (an on-stack-replacement entry, a recompilation).
        var frameIDs: [FrameKey: Int] = [:]
        var ids: [GuestProfile.Frame: Int] = [:]
        var i = 0
        while i < words {
            let items = Int(buffer[i])
            i += 1
            var stack: [Int] = []
            stack.reserveCapacity(items)
            for _ in 0..<items {
                let tag = buffer[i], a = buffer[i + 1], b = buffer[i + 2]
                i += Int(STRATA_SAMPLE_ITEM_WORDS)
                guard let key = FrameKey(tag: tag, a, b) else { continue }
                let id: Int
                if let known = frameIDs[key] {
                    id = known
                } else {
                    let frame = key.frame()
                    if let known = ids[frame] {
                        id = known
                    } else {
                        id = profile.frames.count
                        profile.frames.append(frame)
                        ids[frame] = id
                    }
                    frameIDs[key] = id
                }
                stack.append(id)
            }
            if stack.isEmpty {
                profile.samplesOutsideWasm += 1
            } else {
                profile.samples.append(stack.reversed())
            }
        }
        return profile
    }

    /// A frame of a sample as recorded: the code that ran it and the function.
    private struct FrameKey: Hashable {
        let code: UInt  // CompiledCode, or the instance runtime of an interpreted frame
        let function: UInt32
        let tier: Tier

        init?(tag: UInt64, _ a: UInt64, _ b: UInt64) {
            switch UInt32(tag & 0xFF) {
            case UInt32(STRATA_SAMPLE_COMPILED):
                code = UInt(a)
                function = UInt32(truncatingIfNeeded: tag >> 32)
                tier = Tier(recordKind: UInt32((tag >> 8) & 0xFF))
            case UInt32(STRATA_SAMPLE_INTERPRETED):
                guard let fc = UnsafeMutablePointer<FunctionCode>(bitPattern: UInt(a)),
                      let vm = UnsafeMutablePointer<StrataVMContext>(bitPattern: UInt(b)),
                      let instance = vm.pointee.instance
                else { return nil }
                code = UInt(bitPattern: instance)
                function = fc.pointee.functionIndex
                tier = .interpreter
            default:
                return nil
            }
        }

        /// The function's names. The code objects are alive: the store's instances keep their
        /// modules, and a module keeps every compiled code it placed.
        func frame() -> GuestProfile.Frame {
            let raw = UnsafeMutableRawPointer(bitPattern: code)!
            if tier == .interpreter {
                let module = Unmanaged<InstanceRuntime>.fromOpaque(raw).takeUnretainedValue().module
                return GuestProfile.Frame(
                    function: module.info.functionNames[function] ?? "function[\(function)]", functionIndex: function,
                    module: module.info.moduleName, tier: tier)
            }
            let compiled = Unmanaged<CompiledCode>.fromOpaque(raw).takeUnretainedValue()
            return GuestProfile.Frame(
                function: compiled.names[function] ?? "function[\(function)]", functionIndex: function,
                module: compiled.moduleName, tier: tier)
        }
    }
}

public enum GuestProfilerError: Error, Equatable, CustomStringConvertible {
    /// Another guest profiler is sampling in this process.
    case alreadyRunning
    /// Intervals below 10 µs would measure the sampler itself.
    case intervalTooShort
    case system(String)

    public var description: String {
        switch self {
        case .alreadyRunning: "a guest profiler is already running in this process"
        case .intervalTooShort: "the sampling interval must be at least 10 µs"
        case .system(let message): "cannot start sampling: \(message)"
        }
    }
}

/// What a `GuestProfiler` recorded: the functions seen and one stack per sample.
public struct GuestProfile: Sendable {
    public struct Frame: Hashable, Sendable {
        public var function: String
        public var functionIndex: UInt32
        public var module: String?
        /// The tier that ran this frame (`.interpreter`, `.baseline` or `.optimizing`).
        public var tier: Tier
    }

    public let interval: Duration
    public var frames: [Frame] = []
    /// Each sample's stack as indices into `frames`, outermost first.
    public var samples: [[Int]] = []
    /// Samples taken while the thread ran no Wasm code (the host, or between calls).
    public var samplesOutsideWasm = 0
    /// Samples lost because the buffer was full.
    public var droppedSamples = 0

    init(interval: Duration) { self.interval = interval }

    /// The share of samples whose stack contains a frame of function `name` (any tier).
    public func share(of name: String) -> Double {
        guard !samples.isEmpty else { return 0 }
        let ids = Set(frames.indices.filter { frames[$0].function == name })
        return Double(samples.filter { $0.contains(where: ids.contains) }.count) / Double(samples.count)
    }

    /// The share of samples whose innermost frame is function `name` (self time).
    public func selfShare(of name: String) -> Double {
        guard !samples.isEmpty else { return 0 }
        return Double(samples.filter { $0.last.map { frames[$0].function == name } ?? false }.count) / Double(samples.count)
    }
}
