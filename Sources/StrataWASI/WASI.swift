import Strata
import WASI
import WasmTypes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a WASI program sees the host: its arguments, environment, granted directories and
/// standard streams. Nothing outside the granted directories is reachable.
public struct WASIOptions: Sendable {
    /// argv, program name first.
    public var arguments: [String]
    public var environment: [String: String]
    /// Granted directories: host path and the path the program sees.
    public var directories: [(host: String, guest: String)]
    public var stdin: Int32
    public var stdout: Int32
    public var stderr: Int32

    public init(
        arguments: [String] = [], environment: [String: String] = [:],
        directories: [(host: String, guest: String)] = [],
        stdin: Int32 = 0, stdout: Int32 = 1, stderr: Int32 = 2
    ) {
        self.arguments = arguments
        self.environment = environment
        self.directories = directories
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// WASI preview 1 (`wasi_snapshot_preview1`) for Strata, implemented by WasmKit's
/// engine-agnostic `WASI` product and bridged to Strata's host functions and memory.
/// Strata implements a few calls itself in front of WasmKit's (`WASIOverrides`).
public final class WASI {
    let bridge: WASIBridgeToHost
    let handles: WASIHostHandles

    public init(_ options: WASIOptions) throws {
        bridge = try WASIBridgeToHost(
            args: options.arguments, environment: options.environment,
            preopens: options.directories.map { WASIBridgeToHost.Preopen(guestPath: $0.guest, hostPath: $0.host) },
            stdin: options.stdin, stdout: options.stdout, stderr: options.stderr)
        handles = WASIHostHandles(preopens: options.directories.map(\.host), stdio: [options.stdin, options.stdout, options.stderr])
    }

    deinit { try? bridge.close() }

    /// Defines every `wasi_snapshot_preview1` function in `linker`.
    public func define(in linker: Linker, store: Store) {
        let functions: [String: WASIHostFunction<WASIGuestMemory>] = bridge.hostFunctions(capabilities: WASICapability<WASIGuestMemory>.all)
        let overrides = WASIOverrides.functions(handles)
        for (name, function) in functions {
            let type = FuncType(
                params: function.type.parameters.map(Self.valueType), results: function.type.results.map(Self.valueType))
            let own = overrides[name]
            // Each function keeps this object (and so its descriptors, closed in `deinit`) alive:
            // a program linked with WASI never finds its preopened folders closed under it.
            linker.defineFunction("wasi_snapshot_preview1", name, store: store, type: type) { [self] caller, args in
                withExtendedLifetime(self) {}
                // Memory 0 of the calling instance is the exported "memory" (Wasm 2.0 has one
                // memory); reaching it directly avoids an export lookup per WASI call.
                guard let memory = caller.memory ?? caller.instance?.memory("memory") else {
                    throw WASIError(description: "the module does not export its memory as \"memory\"")
                }
                let guest = WASIGuestMemory(memory: memory)
                let wasmkit = { (callee: String, args: [Strata.Value]) throws -> [Strata.Value] in
                    let results = try functions[callee]!.implementation(guest, args.map(Self.wasiValue))
                    if guest.fault.faulted {
                        throw WASIError(description: "out of bounds memory access in WASI call \(callee)")
                    }
                    return results.map(Self.strataValue)
                }
                if let own { return try own(WASICall(name: name, memory: memory, args: args, wasmkit: wasmkit)) }
                return try wasmkit(name, args)
            }
        }
    }

    /// Runs a command's `_start`; returns its exit code (0 when `_start` returns).
    public func start(_ instance: Instance) throws -> Int32 {
        guard let start = instance.function("_start") else {
            throw WASIError(description: "the module has no \"_start\" function (not a WASI command)")
        }
        do {
            _ = try start.call([])
            return 0
        } catch let trap as Trap {
            if let exit = trap.hostError as? WASIExitCode { return Int32(bitPattern: exit.code) }
            throw trap
        }
    }

    /// Runs a reactor's `_initialize`, when it has one.
    public func initialize(_ instance: Instance) throws {
        if let initialize = instance.function("_initialize") { _ = try initialize.call([]) }
    }

    static func valueType(_ t: WasmTypes.ValueType) -> Strata.ValueType {
        switch t {
        case .i32: .i32
        case .i64: .i64
        case .f32: .f32
        case .f64: .f64
        case .v128: .v128
        case .ref(let r): r.heapType == .externRef ? .externref : .funcref
        }
    }

    static func wasiValue(_ v: Strata.Value) -> WasmTypes.Value {
        switch v {
        case .i32(let x): .i32(UInt32(bitPattern: x))
        case .i64(let x): .i64(UInt64(bitPattern: x))
        case .f32(let x): .f32(x.bitPattern)
        case .f64(let x): .f64(x.bitPattern)
        case .v128(let x): .v128(WasmTypes.V128(bytes: x.bytes))
        case .funcref, .externref, .exnref: .i32(0)  // WASI preview 1 has no reference parameters
        }
    }

    static func strataValue(_ v: WasmTypes.Value) -> Strata.Value {
        switch v {
        case .i32(let x): .i32(Int32(bitPattern: x))
        case .i64(let x): .i64(Int64(bitPattern: x))
        case .f32(let x): .f32(Float(bitPattern: x))
        case .f64(let x): .f64(Double(bitPattern: x))
        case .v128(let x): .v128(Strata.V128(bytes: x.bytes) ?? Strata.V128(lo: 0, hi: 0))
        default: .i32(0)
        }
    }
}

extension Linker {
    /// Adds WASI preview 1 to the linker in one call; keep the returned `WASI` to run
    /// `_start` and learn the exit code.
    @discardableResult
    public func defineWASI(_ options: WASIOptions, store: Store) throws -> WASI {
        let wasi = try WASI(options)
        wasi.define(in: self, store: store)
        return wasi
    }
}

/// Records that a WASI call touched memory out of bounds.
final class WASIMemoryFault: @unchecked Sendable {
    var faulted = false
}

/// Strata's memory as WASI sees it. An out-of-bounds range never reaches the host's memory:
/// the call gets a zeroed scratch buffer instead, and the host function then traps. WasmKit's
/// WASI layer offers no way to check ranges before it acts, so a call may already have used
/// the zeroed bytes (e.g. written zeros) when it traps; host memory is never exposed.
public struct WASIGuestMemory: GuestMemory {
    let memory: Strata.Memory
    let fault = WASIMemoryFault()

    public func withUnsafeMutableBufferPointer<T>(
        offset: UInt, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T
    ) rethrows -> T {
        let size = UInt(memory.byteCount)
        if count >= 0, offset <= size, UInt(count) <= size - offset {
            return try memory.withUnsafeMutableBytes { bytes in
                try body(UnsafeMutableRawBufferPointer(rebasing: bytes[Int(offset)..<(Int(offset) + count)]))
            }
        }
        fault.faulted = true
        let length = max(count, 1)
        guard let scratch = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              scratch != MAP_FAILED else {
            return try body(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
        defer { munmap(scratch, length) }
        return try body(UnsafeMutableRawBufferPointer(start: scratch, count: max(count, 0)))
    }
}
