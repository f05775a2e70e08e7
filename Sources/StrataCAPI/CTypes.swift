import CStrataAPI
import CStrataAPIInternal
import Glibc
import Strata

// wasm.h's type objects: immutable, so a copy is another owner of the same object. Views an
// object hands out (a function type's parameter vector, a table type's limits) live inside
// it, as long as it does.

final class CValType: CObject {
    let type: ValueType
    init(_ type: ValueType) { self.type = type }

    /// wasm.h's kind of a Strata value type (v128 and typed references have none there: they
    /// show as the nearest, and calls that would need them report it).
    var valkind: wasm_valkind_t {
        switch type.kind {
        case .i32: wasm_valkind_t(WASM_I32.rawValue)
        case .i64: wasm_valkind_t(WASM_I64.rawValue)
        case .f32: wasm_valkind_t(WASM_F32.rawValue)
        case .f64: wasm_valkind_t(WASM_F64.rawValue)
        default: type.isReference && type.heapType.top == .func ? wasm_valkind_t(WASM_FUNCREF.rawValue) : wasm_valkind_t(WASM_EXTERNREF.rawValue)
        }
    }

    static func type(of kind: wasm_valkind_t) -> ValueType? {
        switch UInt32(kind) {
        case WASM_I32.rawValue: .i32
        case WASM_I64.rawValue: .i64
        case WASM_F32.rawValue: .f32
        case WASM_F64.rawValue: .f64
        case WASM_EXTERNREF.rawValue: .externref
        case WASM_FUNCREF.rawValue: .funcref
        default: nil
        }
    }
}

/// Base of the types an import or export can have.
class CExternType: CObject {
    var externKind: wasm_externkind_t { preconditionFailure("abstract") }

    /// The C object for a Strata extern type.
    static func make(_ t: ExternType) -> CExternType {
        switch t {
        case .function(let f): CFuncType(f)
        case .global(let g): CGlobalType(g)
        case .table(let t): CTableType(t)
        case .memory(let m): CMemoryType(m)
        case .tag(let f): CTagType(CFuncType(f))
        }
    }
}

/// A vector of value-type pointers the object owns.
final class OwnedValTypes {
    let vec: UnsafeMutablePointer<wasm_valtype_vec_t>
    init(_ types: [ValueType]) {
        vec = .allocate(capacity: 1)
        wasm_valtype_vec_new_uninitialized(vec, types.count)
        for (i, t) in types.enumerated() where i < vec.pointee.size { vec.pointee.data[i] = CValType(t).retained() }
    }
    deinit {
        wasm_valtype_vec_delete(vec)
        vec.deallocate()
    }
}

final class CFuncType: CExternType {
    let type: FuncType
    let params: OwnedValTypes
    let results: OwnedValTypes
    init(_ type: FuncType) {
        self.type = type
        params = OwnedValTypes(type.params)
        results = OwnedValTypes(type.results)
    }
    override var externKind: wasm_externkind_t { wasm_externkind_t(WASM_EXTERN_FUNC.rawValue) }
}

final class CGlobalType: CExternType {
    let type: GlobalType
    let content: CValType
    init(_ type: GlobalType) {
        self.type = type
        content = CValType(type.value)
    }
    override var externKind: wasm_externkind_t { wasm_externkind_t(WASM_EXTERN_GLOBAL.rawValue) }
}

/// wasm.h's 32-bit limits (a larger maximum shows as "none").
func cLimits(_ l: Limits) -> wasm_limits_t {
    wasm_limits_t(min: UInt32(clamping: l.min), max: l.max.map { UInt32(clamping: $0) } ?? wasm_limits_max_default)
}
func limits(_ l: wasm_limits_t) -> Limits {
    Limits(min: UInt64(l.min), max: l.max == wasm_limits_max_default ? nil : UInt64(l.max))
}

/// The `wasm_limits_t` a table or memory type hands out (a stable address, as the object's).
final class OwnedLimits {
    let pointer: UnsafeMutablePointer<wasm_limits_t>
    init(_ l: Limits) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: cLimits(l))
    }
    deinit { pointer.deallocate() }
}

final class CTableType: CExternType {
    let type: TableType
    let element: CValType
    let limits: OwnedLimits
    init(_ type: TableType) {
        self.type = type
        element = CValType(type.element)
        limits = OwnedLimits(type.limits)
    }
    override var externKind: wasm_externkind_t { wasm_externkind_t(WASM_EXTERN_TABLE.rawValue) }
}

final class CMemoryType: CExternType {
    let type: MemoryType
    let limits: OwnedLimits
    init(_ type: MemoryType) {
        self.type = type
        limits = OwnedLimits(type.limits)
    }
    override var externKind: wasm_externkind_t { wasm_externkind_t(WASM_EXTERN_MEMORY.rawValue) }
}

final class CTagType: CExternType {
    let functype: CFuncType
    init(_ f: CFuncType) { functype = f }
    override var externKind: wasm_externkind_t { wasm_externkind_t(WASM_EXTERN_TAG.rawValue) }
}

final class CImportType: CObject {
    let module: OwnedBytes
    let name: OwnedBytes
    let type: CExternType
    init(module: OwnedBytes, name: OwnedBytes, type: CExternType) {
        self.module = module
        self.name = name
        self.type = type
    }
}

final class CExportType: CObject {
    let name: OwnedBytes
    let type: CExternType
    init(name: OwnedBytes, type: CExternType) {
        self.name = name
        self.type = type
    }
}

/// Takes an owned vector's bytes into an object (the vector is left empty, as consumed).
func take(_ v: UnsafeMutablePointer<wasm_byte_vec_t>?) -> OwnedBytes {
    guard let v else { return OwnedBytes([]) }
    let o = OwnedBytes(v.pointee.bytes)
    wasm_byte_vec_delete(v)
    return o
}

/// Takes ownership of an owned vector of value types (its elements are released with it).
func take(_ v: UnsafeMutablePointer<wasm_valtype_vec_t>?) -> [ValueType] {
    guard let v else { return [] }
    var out: [ValueType] = []
    for i in 0..<v.pointee.size {
        if let p = v.pointee.data[i] { out.append(object(p, as: CValType.self).type) }
    }
    wasm_valtype_vec_delete(v)
    return out
}

// MARK: value types

@_cdecl("wasm_valtype_new")
public func wasmValtypeNew(_ kind: wasm_valkind_t) -> OpaquePointer? { CValType.type(of: kind).map { CValType($0).retained() } }

@_cdecl("wasm_valtype_kind")
public func wasmValtypeKind(_ t: OpaquePointer) -> wasm_valkind_t { object(t, as: CValType.self).valkind }

// MARK: function types

@_cdecl("wasm_functype_new")
public func wasmFunctypeNew(_ params: UnsafeMutablePointer<wasm_valtype_vec_t>?, _ results: UnsafeMutablePointer<wasm_valtype_vec_t>?) -> OpaquePointer {
    CFuncType(FuncType(params: take(params), results: take(results))).retained()
}

@_cdecl("wasm_functype_params")
public func wasmFunctypeParams(_ t: OpaquePointer) -> UnsafePointer<wasm_valtype_vec_t> { UnsafePointer(object(t, as: CFuncType.self).params.vec) }

@_cdecl("wasm_functype_results")
public func wasmFunctypeResults(_ t: OpaquePointer) -> UnsafePointer<wasm_valtype_vec_t> { UnsafePointer(object(t, as: CFuncType.self).results.vec) }

// MARK: global, table, memory and tag types

@_cdecl("wasm_globaltype_new")
public func wasmGlobaltypeNew(_ content: OpaquePointer?, _ mutability: wasm_mutability_t) -> OpaquePointer? {
    guard let content else { return nil }
    let v = object(content, as: CValType.self).type
    strataCAPIRelease(UnsafeRawPointer(content))
    return CGlobalType(GlobalType(value: v, mutable: mutability == UInt8(WASM_VAR.rawValue))).retained()
}

@_cdecl("wasm_globaltype_content")
public func wasmGlobaltypeContent(_ t: OpaquePointer) -> OpaquePointer { OpaquePointer(Unmanaged.passUnretained(object(t, as: CGlobalType.self).content).toOpaque()) }

@_cdecl("wasm_globaltype_mutability")
public func wasmGlobaltypeMutability(_ t: OpaquePointer) -> wasm_mutability_t {
    object(t, as: CGlobalType.self).type.mutable ? wasm_mutability_t(WASM_VAR.rawValue) : wasm_mutability_t(WASM_CONST.rawValue)
}

@_cdecl("wasm_tabletype_new")
public func wasmTabletypeNew(_ element: OpaquePointer?, _ l: UnsafePointer<wasm_limits_t>?) -> OpaquePointer? {
    guard let element, let l else { return nil }
    let v = object(element, as: CValType.self).type
    strataCAPIRelease(UnsafeRawPointer(element))
    guard v.isReference else { return nil }
    return CTableType(TableType(element: v, limits: limits(l.pointee))).retained()
}

@_cdecl("wasm_tabletype_element")
public func wasmTabletypeElement(_ t: OpaquePointer) -> OpaquePointer { OpaquePointer(Unmanaged.passUnretained(object(t, as: CTableType.self).element).toOpaque()) }

@_cdecl("wasm_tabletype_limits")
public func wasmTabletypeLimits(_ t: OpaquePointer) -> UnsafePointer<wasm_limits_t> { UnsafePointer(object(t, as: CTableType.self).limits.pointer) }

@_cdecl("wasm_memorytype_new")
public func wasmMemorytypeNew(_ l: UnsafePointer<wasm_limits_t>?) -> OpaquePointer? {
    guard let l else { return nil }
    return CMemoryType(MemoryType(limits: limits(l.pointee))).retained()
}

@_cdecl("wasm_memorytype_limits")
public func wasmMemorytypeLimits(_ t: OpaquePointer) -> UnsafePointer<wasm_limits_t> { UnsafePointer(object(t, as: CMemoryType.self).limits.pointer) }

@_cdecl("wasm_tagtype_new")
public func wasmTagtypeNew(_ f: OpaquePointer?) -> OpaquePointer? {
    guard let f else { return nil }
    let t = CTagType(object(f, as: CFuncType.self))
    strataCAPIRelease(UnsafeRawPointer(f))
    return t.retained()
}

@_cdecl("wasm_tagtype_functype")
public func wasmTagtypeFunctype(_ t: OpaquePointer) -> OpaquePointer { OpaquePointer(Unmanaged.passUnretained(object(t, as: CTagType.self).functype).toOpaque()) }

@_cdecl("wasm_externtype_kind")
public func wasmExterntypeKind(_ t: OpaquePointer) -> wasm_externkind_t { object(t, as: CExternType.self).externKind }

// MARK: import and export types

@_cdecl("wasm_importtype_new")
public func wasmImporttypeNew(_ module: UnsafeMutablePointer<wasm_byte_vec_t>?, _ name: UnsafeMutablePointer<wasm_byte_vec_t>?, _ type: OpaquePointer?) -> OpaquePointer? {
    guard let type else { return nil }
    let t = object(type, as: CExternType.self)
    strataCAPIRelease(UnsafeRawPointer(type))
    return CImportType(module: take(module), name: take(name), type: t).retained()
}

@_cdecl("wasm_importtype_module")
public func wasmImporttypeModule(_ t: OpaquePointer) -> UnsafePointer<wasm_byte_vec_t> { UnsafePointer(object(t, as: CImportType.self).module.vec) }

@_cdecl("wasm_importtype_name")
public func wasmImporttypeName(_ t: OpaquePointer) -> UnsafePointer<wasm_byte_vec_t> { UnsafePointer(object(t, as: CImportType.self).name.vec) }

@_cdecl("wasm_importtype_type")
public func wasmImporttypeType(_ t: OpaquePointer) -> OpaquePointer { OpaquePointer(Unmanaged.passUnretained(object(t, as: CImportType.self).type).toOpaque()) }

@_cdecl("wasm_exporttype_new")
public func wasmExporttypeNew(_ name: UnsafeMutablePointer<wasm_byte_vec_t>?, _ type: OpaquePointer?) -> OpaquePointer? {
    guard let type else { return nil }
    let t = object(type, as: CExternType.self)
    strataCAPIRelease(UnsafeRawPointer(type))
    return CExportType(name: take(name), type: t).retained()
}

@_cdecl("wasm_exporttype_name")
public func wasmExporttypeName(_ t: OpaquePointer) -> UnsafePointer<wasm_byte_vec_t> { UnsafePointer(object(t, as: CExportType.self).name.vec) }

@_cdecl("wasm_exporttype_type")
public func wasmExporttypeType(_ t: OpaquePointer) -> OpaquePointer { OpaquePointer(Unmanaged.passUnretained(object(t, as: CExportType.self).type).toOpaque()) }
