import CStrataAPI
import CStrataAPIInternal
import Glibc
import Strata

// MARK: modules

final class CModule: CObject {
    let module: Module
    init(_ module: Module) { self.module = module }
    override var kind: Int32 { Int32(STRATA_CAPI_MODULE.rawValue) }
}

/// A module as another thread's store obtains it (a module is immutable and thread-safe).
final class CSharedModule: CObject {
    let module: Module
    init(_ module: Module) { self.module = module }
}

@_cdecl("wasm_module_new")
public func wasmModuleNew(_ store: OpaquePointer, _ binary: UnsafePointer<wasm_byte_vec_t>?) -> OpaquePointer? {
    guard let binary else { return nil }
    let s = object(store, as: CStore.self)
    guard let m = try? Module(engine: s.engine.engine, bytes: binary.pointee.bytes) else { return nil }
    return CModule(m).retained()
}

@_cdecl("wasm_module_validate")
public func wasmModuleValidate(_ store: OpaquePointer, _ binary: UnsafePointer<wasm_byte_vec_t>?) -> Bool {
    guard let binary else { return false }
    return (try? Module.validate(bytes: binary.pointee.bytes)) != nil
}

@_cdecl("wasm_module_imports")
public func wasmModuleImports(_ m: OpaquePointer, _ out: UnsafeMutablePointer<wasm_importtype_vec_t>) {
    let imports = object(m, as: CModule.self).module.importTypes
    wasm_importtype_vec_new_uninitialized(out, imports.count)
    for (i, t) in imports.enumerated() where i < out.pointee.size {
        out.pointee.data[i] = CImportType(module: OwnedBytes(t.module.utf8), name: OwnedBytes(t.name.utf8), type: CExternType.make(t.type)).retained()
    }
}

@_cdecl("wasm_module_exports")
public func wasmModuleExports(_ m: OpaquePointer, _ out: UnsafeMutablePointer<wasm_exporttype_vec_t>) {
    let exports = object(m, as: CModule.self).module.exportTypes
    wasm_exporttype_vec_new_uninitialized(out, exports.count)
    for (i, t) in exports.enumerated() where i < out.pointee.size {
        out.pointee.data[i] = CExportType(name: OwnedBytes(t.name.utf8), type: CExternType.make(t.type)).retained()
    }
}

/// A module and its compiled code, in the code cache's format (`Module.serialized()`).
@_cdecl("wasm_module_serialize")
public func wasmModuleSerialize(_ m: OpaquePointer, _ out: UnsafeMutablePointer<wasm_byte_vec_t>) {
    fill(out, object(m, as: CModule.self).module.serialized())
}

/// NULL for bytes that are not a serialized module; code made by another build or with other
/// settings is compiled again (`Module(engine:serialized:)`).
@_cdecl("wasm_module_deserialize")
public func wasmModuleDeserialize(_ store: OpaquePointer, _ bytes: UnsafePointer<wasm_byte_vec_t>?) -> OpaquePointer? {
    guard let bytes else { return nil }
    let s = object(store, as: CStore.self)
    guard let m = try? Module(engine: s.engine.engine, serialized: bytes.pointee.bytes) else { return nil }
    return CModule(m).retained()
}

@_cdecl("wasm_module_share")
public func wasmModuleShare(_ m: OpaquePointer) -> OpaquePointer { CSharedModule(object(m, as: CModule.self).module).retained() }

@_cdecl("wasm_module_obtain")
public func wasmModuleObtain(_ store: OpaquePointer, _ shared: OpaquePointer?) -> OpaquePointer? {
    guard let shared else { return nil }
    let module = object(shared, as: CSharedModule.self).module
    // Only into a store of the engine the module was made for.
    guard module.engine === object(store, as: CStore.self).engine.engine else { return nil }
    return CModule(module).retained()
}

// MARK: functions

/// A C callback and its environment; the environment's finalizer runs once, when the store
/// that holds the function goes.
final class CallbackEnvironment {
    let env: UnsafeMutableRawPointer?
    let finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    init(env: UnsafeMutableRawPointer?, finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
        self.env = env
        self.finalizer = finalizer
    }
    deinit { finalizer?(env) }
}

public typealias CCallback = @convention(c) (UnsafePointer<wasm_val_vec_t>?, UnsafeMutablePointer<wasm_val_vec_t>?) -> OpaquePointer?
public typealias CCallbackWithEnv = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<wasm_val_vec_t>?, UnsafeMutablePointer<wasm_val_vec_t>?) -> OpaquePointer?

/// A host function calling `invoke(args, results)`: arguments as C values (references owned
/// by this call), results read back by the function type, a returned trap raised as one.
func hostFunction(_ s: CStore, _ type: FuncType, _ invoke: @escaping (UnsafePointer<wasm_val_vec_t>, UnsafeMutablePointer<wasm_val_vec_t>) -> OpaquePointer?) -> Function {
    Function(store: s.store, type: type) { [unowned s] _, arguments in
        var args = wasm_val_vec_t(), results = wasm_val_vec_t()
        wasm_val_vec_new_uninitialized(&args, arguments.count)
        wasm_val_vec_new_uninitialized(&results, type.results.count)
        defer {
            wasm_val_vec_delete(&args)
            wasm_val_vec_delete(&results)
        }
        for (i, a) in arguments.enumerated() { args.data[i] = try s.cValue(a) }
        for (i, t) in type.results.enumerated() { results.data[i].kind = CValType(t).valkind }
        if let trap = invoke(&args, &results) {
            let message = object(trap, as: CTrap.self).message
            strataCAPIRelease(UnsafeRawPointer(trap))
            throw HostTrap(message: message)
        }
        var out: [Value] = []
        for (i, t) in type.results.enumerated() { out.append(try s.value(results.data[i], as: t)) }
        return out
    }
}

@_cdecl("wasm_func_new")
public func wasmFuncNew(_ store: OpaquePointer, _ type: OpaquePointer, _ callback: CCallback?) -> OpaquePointer? {
    guard let callback else { return nil }
    let s = object(store, as: CStore.self)
    let f = hostFunction(s, object(type, as: CFuncType.self).type) { callback($0, $1) }
    return CExtern(.function(f), store: s).retained()
}

@_cdecl("wasm_func_new_with_env")
public func wasmFuncNewWithEnv(
    _ store: OpaquePointer, _ type: OpaquePointer, _ callback: CCallbackWithEnv?, _ env: UnsafeMutableRawPointer?,
    _ finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
) -> OpaquePointer? {
    let environment = CallbackEnvironment(env: env, finalizer: finalizer)
    guard let callback else { return nil }
    let s = object(store, as: CStore.self)
    let f = hostFunction(s, object(type, as: CFuncType.self).type) { callback(environment.env, $0, $1) }
    return CExtern(.function(f), store: s).retained()
}

func function(_ f: OpaquePointer) -> (Function, CExtern)? {
    let e = object(f, as: CExtern.self)
    guard case .function(let fn) = e.extern else { return nil }
    return (fn, e)
}

@_cdecl("wasm_func_type")
public func wasmFuncType(_ f: OpaquePointer) -> OpaquePointer? { function(f).map { CFuncType($0.0.type).retained() } }

@_cdecl("wasm_func_param_arity")
public func wasmFuncParamArity(_ f: OpaquePointer) -> Int { function(f)?.0.type.params.count ?? 0 }

@_cdecl("wasm_func_result_arity")
public func wasmFuncResultArity(_ f: OpaquePointer) -> Int { function(f)?.0.type.results.count ?? 0 }

@_cdecl("wasm_func_call")
public func wasmFuncCall(_ f: OpaquePointer, _ args: UnsafePointer<wasm_val_vec_t>?, _ results: UnsafeMutablePointer<wasm_val_vec_t>?) -> OpaquePointer? {
    guard let (fn, e) = function(f) else { return CTrap(message: "not a function").retained() }
    let type = fn.type
    do {
        let given = args?.pointee.size ?? 0
        guard given == type.params.count else {
            throw CAPIError("\(type) takes \(type.params.count) arguments, got \(given)")
        }
        guard (results?.pointee.size ?? 0) >= type.results.count else {
            throw CAPIError("\(type) returns \(type.results.count) results, the results vector holds \(results?.pointee.size ?? 0)")
        }
        var values: [Value] = []
        values.reserveCapacity(given)
        for (i, t) in type.params.enumerated() { values.append(try e.store.value(args!.pointee.data[i], as: t)) }
        let out = try fn.call(values)
        for (i, v) in out.enumerated() { results!.pointee.data[i] = try e.store.cValue(v) }
        return nil
    } catch {
        return CTrap.from(error).retained()
    }
}

// MARK: globals

@_cdecl("wasm_global_new")
public func wasmGlobalNew(_ store: OpaquePointer, _ type: OpaquePointer, _ value: UnsafePointer<wasm_val_t>?) -> OpaquePointer? {
    guard let value else { return nil }
    let s = object(store, as: CStore.self)
    let t = object(type, as: CGlobalType.self).type
    guard let v = try? s.value(value.pointee, as: t.value), let g = try? Global(store: s.store, type: t, value: v) else { return nil }
    return CExtern(.global(g), store: s).retained()
}

func global(_ g: OpaquePointer) -> (Global, CExtern)? {
    let e = object(g, as: CExtern.self)
    guard case .global(let gl) = e.extern else { return nil }
    return (gl, e)
}

@_cdecl("wasm_global_type")
public func wasmGlobalType(_ g: OpaquePointer) -> OpaquePointer? { global(g).map { CGlobalType($0.0.type).retained() } }

@_cdecl("wasm_global_get")
public func wasmGlobalGet(_ g: OpaquePointer, _ out: UnsafeMutablePointer<wasm_val_t>) {
    guard let (gl, e) = global(g), let v = try? e.store.cValue(gl.value) else { out.pointee = wasm_val_t(); return }
    out.pointee = v
}

/// Setting an immutable global, or with a value of another type, changes nothing (wasm.h has
/// no error path here).
@_cdecl("wasm_global_set")
public func wasmGlobalSet(_ g: OpaquePointer, _ value: UnsafePointer<wasm_val_t>?) {
    guard let value, let (gl, e) = global(g), let v = try? e.store.value(value.pointee, as: gl.type.value) else { return }
    try? gl.set(v)
}

// MARK: tables

func table(_ t: OpaquePointer) -> (Table, CExtern)? {
    let e = object(t, as: CExtern.self)
    guard case .table(let tb) = e.extern else { return nil }
    return (tb, e)
}

/// A reference as the value a table of `type` holds.
func tableValue(_ r: OpaquePointer?, _ type: ValueType, _ s: CStore) -> Value? {
    var v = wasm_val_t()
    v.kind = CValType(type).valkind
    v.of.ref = r
    return try? s.value(v, as: type)
}

@_cdecl("wasm_table_new")
public func wasmTableNew(_ store: OpaquePointer, _ type: OpaquePointer, _ initial: OpaquePointer?) -> OpaquePointer? {
    let s = object(store, as: CStore.self)
    let t = object(type, as: CTableType.self).type
    guard let v = tableValue(initial, t.element, s), let tb = try? Table(type: t, initial: v) else { return nil }
    return CExtern(.table(tb), store: s).retained()
}

@_cdecl("wasm_table_type")
public func wasmTableType(_ t: OpaquePointer) -> OpaquePointer? { table(t).map { CTableType($0.0.type).retained() } }

@_cdecl("wasm_table_get")
public func wasmTableGet(_ t: OpaquePointer, _ index: UInt32) -> OpaquePointer? {
    guard let (tb, e) = table(t), let v = tb.get(Int(index), store: e.store.store), let c = try? e.store.cValue(v) else { return nil }
    return c.of.ref
}

@_cdecl("wasm_table_set")
public func wasmTableSet(_ t: OpaquePointer, _ index: UInt32, _ r: OpaquePointer?) -> Bool {
    guard let (tb, e) = table(t), let v = tableValue(r, tb.type.element, e.store) else { return false }
    return (try? tb.set(Int(index), v)) != nil
}

@_cdecl("wasm_table_size")
public func wasmTableSize(_ t: OpaquePointer) -> UInt32 { UInt32(clamping: table(t)?.0.count ?? 0) }

@_cdecl("wasm_table_grow")
public func wasmTableGrow(_ t: OpaquePointer, _ delta: UInt32, _ initial: OpaquePointer?) -> Bool {
    guard let (tb, e) = table(t), let v = tableValue(initial, tb.type.element, e.store), let old = tb.grow(by: Int(delta)) else { return false }
    if initial != nil {
        for i in old..<(old + Int(delta)) { try? tb.set(i, v) }
    }
    return true
}

// MARK: memories

func memory(_ m: OpaquePointer) -> Memory? {
    guard case .memory(let mem) = object(m, as: CExtern.self).extern else { return nil }
    return mem
}

@_cdecl("wasm_memory_new")
public func wasmMemoryNew(_ store: OpaquePointer, _ type: OpaquePointer) -> OpaquePointer? {
    let s = object(store, as: CStore.self)
    guard let m = try? Memory(type: object(type, as: CMemoryType.self).type) else { return nil }
    return CExtern(.memory(m), store: s).retained()
}

@_cdecl("wasm_memory_type")
public func wasmMemoryType(_ m: OpaquePointer) -> OpaquePointer? { memory(m).map { CMemoryType($0.type).retained() } }

@_cdecl("wasm_memory_data")
public func wasmMemoryData(_ m: OpaquePointer) -> UnsafeMutableRawPointer? { memory(m)?.baseAddress }

@_cdecl("wasm_memory_data_size")
public func wasmMemoryDataSize(_ m: OpaquePointer) -> Int { memory(m)?.byteCount ?? 0 }

@_cdecl("wasm_memory_size")
public func wasmMemorySize(_ m: OpaquePointer) -> UInt32 { UInt32(clamping: memory(m)?.pages ?? 0) }

@_cdecl("wasm_memory_grow")
public func wasmMemoryGrow(_ m: OpaquePointer, _ delta: UInt32) -> Bool { memory(m)?.grow(by: UInt64(delta)) != nil }

// MARK: instances

final class CInstance: CObject {
    let instance: Instance
    let store: CStore
    init(_ instance: Instance, store: CStore) {
        self.instance = instance
        self.store = store
    }
    override var kind: Int32 { Int32(STRATA_CAPI_INSTANCE.rawValue) }
}

@_cdecl("wasm_instance_new")
public func wasmInstanceNew(
    _ store: OpaquePointer, _ module: OpaquePointer, _ imports: UnsafePointer<wasm_extern_vec_t>?, _ trap: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    trap?.pointee = nil
    let s = object(store, as: CStore.self)
    let m = object(module, as: CModule.self).module
    do {
        var externs: [Extern] = []
        let count = imports?.pointee.size ?? 0
        guard count == m.imports.count else { throw CAPIError("the module has \(m.imports.count) imports, \(count) were given") }
        for i in 0..<count {
            guard let p = imports!.pointee.data[i] else { throw CAPIError("import \(i) is null") }
            let e = object(p, as: CExtern.self)
            guard e.store === s else { throw CAPIError("import \(i) belongs to another store") }
            externs.append(e.extern)
        }
        return CInstance(try s.store.instantiate(m, imports: externs), store: s).retained()
    } catch {
        trap?.pointee = CTrap.from(error).retained()
        return nil
    }
}

@_cdecl("wasm_instance_exports")
public func wasmInstanceExports(_ i: OpaquePointer, _ out: UnsafeMutablePointer<wasm_extern_vec_t>) {
    let instance = object(i, as: CInstance.self)
    let names = instance.instance.exportNames
    wasm_extern_vec_new_uninitialized(out, names.count)
    for (k, name) in names.enumerated() where k < out.pointee.size {
        out.pointee.data[k] = instance.instance.export(name).map { CExtern($0, store: instance.store).retained() }
    }
}
