/// Trap kinds shared by every tier. The raw values are the trap codes compiled code and the
/// interpreter store in the execution state; the messages are the spec's.
public enum TrapKind: UInt32, Sendable, CustomStringConvertible {
    case none = 0
    case unreachable
    case memoryOutOfBounds
    case integerDivideByZero
    case integerOverflow
    case invalidConversion
    case undefinedElement
    case uninitializedElement
    case indirectCallTypeMismatch
    case tableOutOfBounds
    case callStackExhausted
    case interrupted
    case hostError
    case nullReference
    /// A Wasm exception no handler caught (`Trap.exception` holds it).
    case exception
    /// `call_ref` / `return_call_ref` of a null reference (typed function references).
    case nullFunctionReference

    public var description: String {
        switch self {
        case .none: "no trap"
        case .unreachable: "unreachable"
        case .memoryOutOfBounds: "out of bounds memory access"
        case .integerDivideByZero: "integer divide by zero"
        case .integerOverflow: "integer overflow"
        case .invalidConversion: "invalid conversion to integer"
        case .undefinedElement: "undefined element"
        case .uninitializedElement: "uninitialized element"
        case .indirectCallTypeMismatch: "indirect call type mismatch"
        case .tableOutOfBounds: "out of bounds table access"
        case .callStackExhausted: "call stack exhausted"
        case .interrupted: "interrupted"
        case .hostError: "host function failed"
        case .nullReference: "null reference"
        case .exception: "uncaught exception"
        case .nullFunctionReference: "null function reference"
        }
    }
}

/// One frame of a Wasm backtrace.
public struct BacktraceFrame: Sendable, CustomStringConvertible {
    /// Index in the module's function index space.
    public var functionIndex: UInt32
    /// Name from the `name` section, when present (looked up when first asked for: a trap
    /// nobody prints, such as a WASI program's exit, reads no names).
    public var name: String? {
        get { names.map { $0[functionIndex] } ?? givenName }
        set { givenName = newValue; names = nil }
    }
    private var givenName: String?
    private var names: FunctionNames?
    /// Byte offset of the instruction in the module binary.
    public var offset: Int?
    /// The same instruction's offset from the start of its function's body (the body's size
    /// field), as the C API's frames and Wasmtime's backtraces give it.
    public var functionOffset: Int?

    /// A frame at module offset `offset` in a function whose body starts at `bodyStart` (every
    /// tier builds its frames here, so the function offset is computed one way).
    init(functionIndex: UInt32, names: FunctionNames, offset: Int?, bodyStart: Int?) {
        self.functionIndex = functionIndex
        self.names = names
        self.offset = offset
        functionOffset = offset.flatMap { o in bodyStart.map { o - $0 } }
    }

    public var description: String {
        let n = name.map { "\($0) (func \(functionIndex))" } ?? "func \(functionIndex)"
        if let offset { return "\(n) at offset 0x\(String(offset, radix: 16))" }
        return n
    }
}

/// Carries a host error inside the Sendable `Trap` (host errors are only read back on the
/// thread that ran the call).
final class ErrorBox: @unchecked Sendable {
    let error: any Error
    init(_ error: any Error) { self.error = error }
}

/// A trap raised while running Wasm code: its kind (with the spec's message) and a backtrace,
/// innermost frame first.
public struct Trap: Error, Sendable, CustomStringConvertible {
    public var kind: TrapKind
    public var backtrace: [BacktraceFrame]
    /// For `.hostError`: what the host function threw.
    public var hostMessage: String?
    /// For `.hostError`: the error the host function threw (e.g. WASI's exit request).
    public var hostError: (any Error)? { box?.error }
    var box: ErrorBox?
    /// For `.exception`: the exception, with its tag and payload.
    public var exception: Exception?

    public init(_ kind: TrapKind, backtrace: [BacktraceFrame] = [], hostMessage: String? = nil) {
        self.kind = kind
        self.backtrace = backtrace
        self.hostMessage = hostMessage
    }

    public var message: String {
        if kind == .hostError, let hostMessage { return "\(kind.description): \(hostMessage)" }
        return kind.description
    }

    public var description: String {
        var s = "trap: \(message)"
        for frame in backtrace { s += "\n  at \(frame)" }
        return s
    }
}
