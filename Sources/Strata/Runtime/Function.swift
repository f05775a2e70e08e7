import CStrata

/// What an import or export can be.
public enum Extern {
    case function(Function)
    case table(Table)
    case memory(Memory)
    case global(Global)

    var kind: ExternalKind {
        switch self {
        case .function: .function
        case .table: .table
        case .memory: .memory
        case .global: .global
        }
    }
}

/// What a host function sees of its caller.
public struct Caller {
    let runtime: InstanceRuntime?
    public let store: Store
    /// The calling instance (nil when called from the host directly).
    public var instance: Instance? { runtime.map { Instance(store: store, runtime: $0) } }
    /// Memory 0 of the calling instance.
    public var memory: Memory? { runtime?.memories.first }
}

/// A host function: a Swift closure with a Wasm signature.
final class HostFunction {
    let type: FuncType
    let body: (Caller, [Value]) throws -> [Value]
    let reference: UnsafeMutablePointer<StrataFuncRef>
    unowned let store: Store

    init(type: FuncType, store: Store, body: @escaping (Caller, [Value]) throws -> [Value]) {
        self.type = type
        self.body = body
        self.store = store
        reference = .allocate(capacity: 1)
        reference.initialize(to: StrataFuncRef(
            typeID: store.engine.typeID(type), functionIndex: 0, vmctx: nil, owner: nil, entrySlot: nil))
        reference.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
    }
    deinit { reference.deallocate() }

    /// Host side of the slot-buffer calling convention (16-byte slots).
    func call(caller: Caller, slots: UnsafeMutablePointer<Slot>) throws {
        var args: [Value] = []
        args.reserveCapacity(type.params.count)
        for (i, t) in type.params.enumerated() {
            args.append(Value.load(from: slots + i * wordsPerSlot, type: t, store: store))
        }
        let results = try body(caller, args)
        guard results.count == type.results.count else {
            throw WasmError(.usage, "host function returned \(results.count) values, expected \(type.results.count)")
        }
        for (i, r) in results.enumerated() {
            guard r.type == type.results[i] else {
                throw WasmError(.usage, "host function returned \(r.type), expected \(type.results[i])")
            }
            r.store(to: slots + i * wordsPerSlot)
        }
    }

    /// Called by the interpreter; returns a trap kind on failure.
    func invokeFromWasm(_ st: StatePointer, slots: FramePointer) -> TrapKind? {
        let needed = max(type.params.count, type.results.count) * wordsPerSlot
        guard slots + needed <= st.pointee.stackEnd else { return .callStackExhausted }
        let instance = st.pointee.vmctx.pointee.instance.map { Unmanaged<InstanceRuntime>.fromOpaque($0).takeUnretainedValue() }
        let savedTop = st.pointee.reentryTop
        let savedFP = st.pointee.fp
        let savedVM = st.pointee.vmctx
        let savedCurrent = st.pointee.current
        st.pointee.reentryTop = slots + needed
        defer {
            st.pointee.reentryTop = savedTop
            st.pointee.fp = savedFP
            st.pointee.vmctx = savedVM
            st.pointee.current = savedCurrent
        }
        do {
            try call(caller: Caller(runtime: instance, store: store), slots: slots)
            return nil
        } catch let t as Trap {
            if t.kind == .hostError { store.setHostError(t.hostError ?? HostMessage(t.hostMessage ?? "host error")) }
            return t.kind
        } catch {
            store.setHostError(error)
            return .hostError
        }
    }
}

struct HostMessage: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A function of a store: exported Wasm code or a host function.
public struct Function: @unchecked Sendable {
    let store: Store
    let reference: UnsafeMutablePointer<StrataFuncRef>

    init(store: Store, reference: UnsafeMutablePointer<StrataFuncRef>) {
        self.store = store
        self.reference = reference
    }

    /// Wraps a Swift closure as a Wasm function of `store`.
    public init(store: Store, type: FuncType, _ body: @escaping (Caller, [Value]) throws -> [Value]) {
        let host = HostFunction(type: type, store: store, body: body)
        store.hostFunctions.append(host)
        self.init(store: store, reference: host.reference)
    }

    var host: HostFunction? {
        reference.pointee.entrySlot == nil
            ? Unmanaged<HostFunction>.fromOpaque(reference.pointee.owner).takeUnretainedValue() : nil
    }
    var instance: InstanceRuntime? {
        reference.pointee.entrySlot == nil
            ? nil : Unmanaged<InstanceRuntime>.fromOpaque(reference.pointee.owner).takeUnretainedValue()
    }

    public var type: FuncType {
        if let host { return host.type }
        return instance!.module.info.functionType(Int(reference.pointee.functionIndex))
    }

    /// Calls the function with dynamically typed arguments.
    public func call(_ arguments: [Value]) throws -> [Value] {
        let type = self.type
        guard arguments.count == type.params.count else {
            throw WasmError(.usage, "expected \(type.params.count) arguments, got \(arguments.count)")
        }
        for (i, a) in arguments.enumerated() where a.type != type.params[i] {
            throw WasmError(.usage, "argument \(i): expected \(type.params[i]), got \(a.type)")
        }
        let n = max(type.params.count, type.results.count) * wordsPerSlot
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: max(n, 1))
        defer { slots.deallocate() }
        for (i, a) in arguments.enumerated() { a.store(to: slots + i * wordsPerSlot) }
        try callWithSlots(slots)
        return type.results.enumerated().map {
            Value.load(from: slots + $0.offset * wordsPerSlot, type: $0.element, store: store)
        }
    }

    /// The host calling convention: a buffer of 16-byte slots (two words each), arguments in
    /// slots 0..<params, results written to slots 0..<results; max(params, results) slots.
    func callWithSlots(_ slots: UnsafeMutablePointer<Slot>) throws {
        if let host {
            try host.call(caller: Caller(runtime: nil, store: store), slots: slots)
            return
        }
        let type = self.type
        let vm = reference.pointee.vmctx!.assumingMemoryBound(to: StrataVMContext.self)
        let code = functionCode(reference.pointee.entrySlot!)
        // Any activation may reach compiled code: give this thread what it needs first.
        if store.engine.configuration.tier != .interpreter { store.prepareNativeStack() }
        if code.pointee.kind != 0 {
            try JITRuntime.invoke(store: store, code: code, vmctx: vm, slots: slots)
            return
        }
        try Interpreter.invoke(
            store: store, code: code, vmctx: vm, slots: slots,
            argumentWords: type.params.count * wordsPerSlot, resultWords: type.results.count * wordsPerSlot)
    }

    public func callAsFunction(_ arguments: Value...) throws -> [Value] { try call(arguments) }
}

extension Function {
    /// Typed helpers for the common shapes.
    public func callI32(_ args: Int32...) throws -> Int32 {
        let r = try call(args.map { .i32($0) })
        guard r.count == 1, case .i32(let v) = r[0] else { throw WasmError(.usage, "function does not return one i32") }
        return v
    }
    public func callI64(_ args: Int64...) throws -> Int64 {
        let r = try call(args.map { .i64($0) })
        guard r.count == 1, case .i64(let v) = r[0] else { throw WasmError(.usage, "function does not return one i64") }
        return v
    }
    public func callF64(_ args: Double...) throws -> Double {
        let r = try call(args.map { .f64($0) })
        guard r.count == 1, case .f64(let v) = r[0] else { throw WasmError(.usage, "function does not return one f64") }
        return v
    }
}
