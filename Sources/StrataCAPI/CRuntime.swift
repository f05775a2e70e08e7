import CStrataAPI
import CStrataAPIInternal
import Glibc
import Strata

// wasm.h's runtime objects over Strata's Swift API: configuration, engine and store,
// values, traps and frames, modules, functions, globals, tables, memories and instances.

/// Why a C API call failed, as the trap message the caller gets.
struct CAPIError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

// MARK: configuration, engine, store

final class CConfig: CObject {
    var configuration = EngineConfiguration()
}

final class CEngine: CObject {
    let engine: Engine
    init(_ engine: Engine) { self.engine = engine }
}

final class CStore: CObject {
    let store: Store
    let engine: CEngine
    /// The objects behind external references the host gave to Wasm: kept alive as long as
    /// the store, so a reference that comes back is still the host's object.
    var hostReferences: [UInt64: CObject] = [:]
    init(engine: CEngine) {
        self.engine = engine
        store = Store(engine: engine.engine)
    }
}

@_cdecl("wasm_config_new")
public func wasmConfigNew() -> OpaquePointer { CConfig().retained() }

@_cdecl("wasm_engine_new")
public func wasmEngineNew() -> OpaquePointer { CEngine(Engine(configuration: EngineConfiguration())).retained() }

@_cdecl("wasm_engine_new_with_config")
public func wasmEngineNewWithConfig(_ config: OpaquePointer?) -> OpaquePointer {
    var configuration = EngineConfiguration()
    if let config {
        configuration = object(config, as: CConfig.self).configuration
        strataCAPIRelease(UnsafeRawPointer(config))
    }
    return CEngine(Engine(configuration: configuration)).retained()
}

@_cdecl("wasm_store_new")
public func wasmStoreNew(_ engine: OpaquePointer) -> OpaquePointer { CStore(engine: object(engine, as: CEngine.self)).retained() }

// MARK: externs (functions, globals, tables, memories)

/// A function, global, table or memory of a store.
final class CExtern: CObject {
    let extern: Extern
    let store: CStore
    init(_ extern: Extern, store: CStore) {
        self.extern = extern
        self.store = store
    }
    override var kind: Int32 {
        switch extern {
        case .function: Int32(STRATA_CAPI_FUNC.rawValue)
        case .global: Int32(STRATA_CAPI_GLOBAL.rawValue)
        case .table: Int32(STRATA_CAPI_TABLE.rawValue)
        case .memory: Int32(STRATA_CAPI_MEMORY.rawValue)
        case .tag: Int32(STRATA_CAPI_TAG.rawValue)
        }
    }
    var externType: ExternType {
        switch extern {
        case .function(let f): .function(f.type)
        case .global(let g): .global(g.type)
        case .table(let t): .table(t.type)
        case .memory(let m): .memory(m.type)
        case .tag(let t): .tag(FuncType(params: t.type.params, results: []))
        }
    }
}

@_cdecl("wasm_extern_kind")
public func wasmExternKind(_ e: OpaquePointer) -> wasm_externkind_t { wasm_externkind_t(object(e, as: CExtern.self).kind) }

@_cdecl("wasm_extern_type")
public func wasmExternType(_ e: OpaquePointer) -> OpaquePointer { CExternType.make(object(e, as: CExtern.self).externType).retained() }

// MARK: values

final class CForeign: CObject {
    override var kind: Int32 { Int32(STRATA_CAPI_FOREIGN.rawValue) }
}

@_cdecl("wasm_foreign_new")
public func wasmForeignNew(_ store: OpaquePointer) -> OpaquePointer { CForeign().retained() }

extension CStore {
    /// A C value as a Strata value of `type` (its references borrowed).
    func value(_ v: wasm_val_t, as type: ValueType) throws(CAPIError) -> Value {
        let want = CValType(type).valkind
        guard v.kind == want else { throw CAPIError("value of kind \(v.kind) where \(type) (kind \(want)) was expected") }
        switch UInt32(v.kind) {
        case WASM_I32.rawValue: return .i32(v.of.i32)
        case WASM_I64.rawValue: return .i64(v.of.i64)
        case WASM_F32.rawValue: return .f32(v.of.f32)
        case WASM_F64.rawValue: return .f64(v.of.f64)
        case WASM_FUNCREF.rawValue:
            guard let r = v.of.ref else { return .funcref(nil) }
            guard let e = CObject.at(UnsafeRawPointer(r)) as? CExtern, case .function(let f) = e.extern else {
                throw CAPIError("a funcref value that is not a function")
            }
            guard e.store === self else { throw CAPIError("a function of another store") }
            return .funcref(f)
        default:
            guard let r = v.of.ref else { return .externref(nil) }
            let bits = UInt64(UInt(bitPattern: UnsafeRawPointer(r)))
            hostReferences[bits] = CObject.at(UnsafeRawPointer(r))
            return .externref(bits)
        }
    }

    /// A Strata value as a C value; a reference in it is a new owner.
    func cValue(_ v: Value) throws(CAPIError) -> wasm_val_t {
        var out = wasm_val_t()
        switch v {
        case .i32(let x): out.kind = wasm_valkind_t(WASM_I32.rawValue); out.of.i32 = x
        case .i64(let x): out.kind = wasm_valkind_t(WASM_I64.rawValue); out.of.i64 = x
        case .f32(let x): out.kind = wasm_valkind_t(WASM_F32.rawValue); out.of.f32 = x
        case .f64(let x): out.kind = wasm_valkind_t(WASM_F64.rawValue); out.of.f64 = x
        case .funcref(let f):
            out.kind = wasm_valkind_t(WASM_FUNCREF.rawValue)
            out.of.ref = f.map { CExtern(.function($0), store: self).retained() }
        case .externref(let bits):
            out.kind = wasm_valkind_t(WASM_EXTERNREF.rawValue)
            // A reference the host passed in comes back as its object; any other (made by
            // the Swift API, not through C) as null.
            out.of.ref = bits.flatMap { hostReferences[$0] }.map { $0.retained() }
        case .v128: throw CAPIError("a v128 value (wasm.h has no v128 values)")
        case .exnref: throw CAPIError("an exnref value (wasm.h has no exception references)")
        }
        return out
    }
}

@_cdecl("wasm_val_delete")
public func wasmValDelete(_ v: UnsafeMutablePointer<wasm_val_t>?) {
    guard let v, v.pointee.kind >= UInt8(WASM_EXTERNREF.rawValue), let r = v.pointee.of.ref else { return }
    strataCAPIRelease(UnsafeRawPointer(r))
    v.pointee.of.ref = nil
}

@_cdecl("wasm_val_copy")
public func wasmValCopy(_ out: UnsafeMutablePointer<wasm_val_t>?, _ v: UnsafePointer<wasm_val_t>?) {
    guard let out, let v else { return }
    out.pointee = v.pointee
    if v.pointee.kind >= UInt8(WASM_EXTERNREF.rawValue), let r = v.pointee.of.ref { _ = strataCAPIRetain(UnsafeRawPointer(r)) }
}

// MARK: traps and frames

final class CFrame: CObject {
    let functionIndex: UInt32
    let functionOffset: Int
    let moduleOffset: Int
    init(functionIndex: UInt32, functionOffset: Int, moduleOffset: Int) {
        self.functionIndex = functionIndex
        self.functionOffset = functionOffset
        self.moduleOffset = moduleOffset
    }
}

final class CTrap: CObject {
    let message: String
    let frames: [CFrame]
    init(message: String, frames: [CFrame] = []) {
        self.message = message
        self.frames = frames
    }
    override var kind: Int32 { Int32(STRATA_CAPI_TRAP.rawValue) }

    /// The trap for an error raised by a call: a Wasm trap with its frames, a host callback's
    /// own trap, or a usage error.
    static func from(_ error: any Error) -> CTrap {
        if let t = error as? Trap {
            let frames = t.backtrace.map { f in
                CFrame(functionIndex: f.functionIndex, functionOffset: f.functionOffset ?? 0, moduleOffset: f.offset ?? 0)
            }
            if t.kind == .hostError, let own = t.hostError as? HostTrap { return CTrap(message: own.message, frames: frames) }
            return CTrap(message: t.message, frames: frames)
        }
        if let e = error as? CAPIError { return CTrap(message: e.message) }
        return CTrap(message: "\(error)")
    }
}

/// What a host callback's trap becomes while it unwinds through Wasm.
struct HostTrap: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@_cdecl("wasm_trap_new")
public func wasmTrapNew(_ store: OpaquePointer?, _ message: UnsafePointer<wasm_byte_vec_t>?) -> OpaquePointer {
    CTrap(message: message?.pointee.text ?? "").retained()
}

@_cdecl("wasm_trap_message")
public func wasmTrapMessage(_ t: OpaquePointer, _ out: UnsafeMutablePointer<wasm_byte_vec_t>) {
    fill(out, Array(object(t, as: CTrap.self).message.utf8) + [0])
}

@_cdecl("wasm_trap_origin")
public func wasmTrapOrigin(_ t: OpaquePointer) -> OpaquePointer? { object(t, as: CTrap.self).frames.first?.retained() }

@_cdecl("wasm_trap_trace")
public func wasmTrapTrace(_ t: OpaquePointer, _ out: UnsafeMutablePointer<wasm_frame_vec_t>) {
    let frames = object(t, as: CTrap.self).frames
    wasm_frame_vec_new_uninitialized(out, frames.count)
    for (i, f) in frames.enumerated() where i < out.pointee.size { out.pointee.data[i] = f.retained() }
}

@_cdecl("wasm_frame_instance")
public func wasmFrameInstance(_ f: OpaquePointer) -> OpaquePointer? { nil }

@_cdecl("wasm_frame_func_index")
public func wasmFrameFuncIndex(_ f: OpaquePointer) -> UInt32 { object(f, as: CFrame.self).functionIndex }

@_cdecl("wasm_frame_func_offset")
public func wasmFrameFuncOffset(_ f: OpaquePointer) -> Int { object(f, as: CFrame.self).functionOffset }

@_cdecl("wasm_frame_module_offset")
public func wasmFrameModuleOffset(_ f: OpaquePointer) -> Int { object(f, as: CFrame.self).moduleOffset }
