import CStrata

/// What an import or export can be.
public enum Extern {
    case function(Function)
    case table(Table)
    case memory(Memory)
    case global(Global)
    case tag(Tag)

    var kind: ExternalKind {
        switch self {
        case .function: .function
        case .table: .table
        case .memory: .memory
        case .global: .global
        case .tag: .tag
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
    private let signature: CallSignatureTable
    unowned let store: Store

    init(type: FuncType, store: Store, body: @escaping (Caller, [Value]) throws -> [Value]) {
        self.type = type
        self.body = body
        self.store = store
        signature = CallSignatureTable([type])
        reference = .allocate(capacity: 1)
        reference.initialize(to: StrataFuncRef(
            typeID: store.engine.typeID(type), functionIndex: 0, vmctx: nil, owner: nil, entrySlot: nil,
            signature: signature.pointer(0), directEntry: nil))
        reference.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
    }
    deinit {
        reference.deallocate()
        signature.deallocate()
    }

    /// Host side of the slot-buffer calling convention (16-byte slots). Types come from the
    /// function's `CallSignature`, as on calls into Wasm, so no `FuncType` is read per call.
    func call(caller: Caller, slots: UnsafeMutablePointer<Slot>) throws {
        let params = signature.signatures.pointee.params, results = signature.signatures.pointee.results
        var args: [Value] = []
        args.reserveCapacity(params.count)
        for i in params.indices {
            args.append(Value.load(from: slots + i * wordsPerSlot, type: params[i], store: store))
        }
        let returned = try body(caller, args)
        guard returned.count == results.count else {
            throw WasmError(.usage, "host function returned \(returned.count) values, expected \(results.count)")
        }
        for i in results.indices {
            guard returned[i].matches(results[i]) else {
                throw WasmError(.usage, "host function returned \(returned[i].type), expected \(results[i])")
            }
            if case .exnref(let e?) = returned[i] { store.keepAlive(e) }
            returned[i].store(to: slots + i * wordsPerSlot)
        }
    }

    /// Called by the interpreter; returns a trap kind on failure.
    func invokeFromWasm(_ st: StatePointer, slots: FramePointer) -> TrapKind? {
        let shape = signature.signatures.pointee
        let needed = max(shape.paramCount, shape.resultCount) * wordsPerSlot
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
        } catch {
            return store.trapStatus(forHostFailure: error)
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

    public var type: FuncType { reference.callSignature.pointee.funcType }

    /// Calls the function with dynamically typed arguments.
    public func call(_ arguments: [Value]) throws -> [Value] {
        let signature = reference.callSignature
        let params = signature.pointee.params
        guard arguments.count == params.count else {
            throw WasmError(.usage, "expected \(params.count) arguments, got \(arguments.count)")
        }
        for i in 0..<params.count where !arguments[i].matches(params[i]) {
            throw WasmError(.usage, "argument \(i): expected \(params[i]), got \(arguments[i].type)")
        }
        return try withSlots(signature) { slots in
            for i in 0..<params.count {
                // An exception passed in may be kept by the code (in a global or table).
                if case .exnref(let e?) = arguments[i] { store.keepAlive(e) }
                arguments[i].store(to: slots + i * wordsPerSlot)
            }
            try callWithSlots(slots, signature)
            let results = signature.pointee.results
            if results.isEmpty { return [] }
            return results.indices.map { Value.load(from: slots + $0 * wordsPerSlot, type: results[$0], store: store) }
        }
    }

    /// Runs `body` with a buffer for the host calling convention, on the native stack.
    @inline(__always)
    func withSlots<R>(_ signature: UnsafePointer<CallSignature>, _ body: (UnsafeMutablePointer<Slot>) throws -> R) throws -> R {
        try withUnsafeTemporaryAllocation(of: Slot.self, capacity: signature.pointee.bufferSlots * wordsPerSlot) {
            try body($0.baseAddress!)
        }
    }

    /// The host calling convention: a buffer of 16-byte slots (two words each), arguments in
    /// slots 0..<params, results written to slots 0..<results; max(params, results) slots.
    func callWithSlots(_ slots: UnsafeMutablePointer<Slot>, _ signature: UnsafePointer<CallSignature>) throws {
        guard let entrySlot = reference.pointee.entrySlot else {
            try host!.call(caller: Caller(runtime: nil, store: store), slots: slots)
            return
        }
        let vm = reference.pointee.vmctx!.assumingMemoryBound(to: StrataVMContext.self)
        let code = functionCode(entrySlot)
        // Any activation may reach compiled code: give this thread what it needs first.
        if store.mayRunCompiledCode { store.prepareNativeStack() }
        defer { store.releaseExceptions(results: slots, types: signature.pointee.results) }
        if code.pointee.kind != 0 {
            try JITRuntime.invoke(store: store, code: code, vmctx: vm, slots: slots)
            return
        }
        try Interpreter.invoke(
            store: store, code: code, vmctx: vm, slots: slots,
            argumentWords: signature.pointee.paramCount * wordsPerSlot,
            resultWords: signature.pointee.resultCount * wordsPerSlot)
    }

    public func callAsFunction(_ arguments: Value...) throws -> [Value] { try call(arguments) }
}

extension Function {
    /// Typed helpers for the common shapes: no `Value` arrays, the buffer on the stack. Inlined
    /// into the caller, so the variadic argument array can live on the caller's stack too.
    @inlinable public func callI32(_ args: Int32...) throws -> Int32 {
        try args.withUnsafeBufferPointer { try callI32(arguments: $0) }
    }
    @inlinable public func callI64(_ args: Int64...) throws -> Int64 {
        try args.withUnsafeBufferPointer { try callI64(arguments: $0) }
    }
    @inlinable public func callF64(_ args: Double...) throws -> Double {
        try args.withUnsafeBufferPointer { try callF64(arguments: $0) }
    }

    @usableFromInline func callI32(arguments: UnsafeBufferPointer<Int32>) throws -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: try callScalar(arguments.lazy.map { UInt64(UInt32(bitPattern: $0)) }, .i32, .i32)))
    }
    @usableFromInline func callI64(arguments: UnsafeBufferPointer<Int64>) throws -> Int64 {
        Int64(bitPattern: try callScalar(arguments.lazy.map { UInt64(bitPattern: $0) }, .i64, .i64))
    }
    @usableFromInline func callF64(arguments: UnsafeBufferPointer<Double>) throws -> Double {
        Double(bitPattern: try callScalar(arguments.lazy.map(\.bitPattern), .f64, .f64))
    }

    /// A call whose parameters all have type `param` and whose one result has type `result`,
    /// with arguments as slot bits.
    @inline(__always)
    private func callScalar<C: Collection>(_ args: C, _ param: ValueType, _ result: ValueType) throws -> UInt64
    where C.Element == UInt64 {
        let signature = reference.callSignature
        let params = signature.pointee.params, results = signature.pointee.results
        guard params.count == args.count, params.allSatisfy({ $0 == param }) else {
            throw WasmError(.usage, "function takes \(signature.pointee.funcType.params), not \(args.count) \(param) arguments")
        }
        guard results.count == 1, results[0] == result else {
            throw WasmError(.usage, "function does not return one \(result)")
        }
        return try withSlots(signature) { slots in
            for (i, a) in args.enumerated() {
                slots[i * wordsPerSlot] = a
                slots[i * wordsPerSlot + 1] = 0
            }
            try callWithSlots(slots, signature)
            return slots[0]
        }
    }
}
