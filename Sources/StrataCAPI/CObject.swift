import CStrataAPI
import CStrataAPIInternal
import Glibc
import Strata

/// Every object the C API hands out is one of these, retained once per owner: a `wasm_*_t*`
/// is the object's address (`Unmanaged`), `wasm_*_delete` releases one owner, `wasm_*_copy`
/// of an immutable type or a reference adds one. Host info (`wasm_*_set_host_info...`) lives
/// here; its finalizer runs when the last owner lets go.
class CObject {
    var hostInfo: UnsafeMutableRawPointer?
    var hostFinalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?

    /// The object's kind for checked casts (`strata_capi_kind`).
    var kind: Int32 { Int32(STRATA_CAPI_OTHER.rawValue) }

    deinit { hostFinalizer?(hostInfo) }

    /// A new owner's pointer (+1).
    final func retained() -> OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }

    /// The object at `p`, borrowed (no change of owners).
    static func at(_ p: UnsafeRawPointer) -> CObject { Unmanaged<CObject>.fromOpaque(p).takeUnretainedValue() }
}

/// The object at a C pointer, as the class the API promises for it.
@inline(__always) func object<T: CObject>(_ p: OpaquePointer, as _: T.Type = T.self) -> T {
    unsafeDowncast(CObject.at(UnsafeRawPointer(p)), to: T.self)
}

@_cdecl("strata_capi_release")
func strataCAPIRelease(_ p: UnsafeRawPointer) { Unmanaged<CObject>.fromOpaque(p).release() }

@_cdecl("strata_capi_retain")
func strataCAPIRetain(_ p: UnsafeRawPointer) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(mutating: Unmanaged<CObject>.fromOpaque(p).retain().toOpaque())
}

@_cdecl("strata_capi_host_info")
func strataCAPIHostInfo(_ p: UnsafeRawPointer) -> UnsafeMutableRawPointer? { CObject.at(p).hostInfo }

@_cdecl("strata_capi_set_host_info")
func strataCAPISetHostInfo(
    _ p: UnsafeRawPointer, _ info: UnsafeMutableRawPointer?, _ finalizer: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
) {
    let o = CObject.at(p)
    // The previous info is replaced, not finalized (as in the reference implementation).
    o.hostInfo = info
    o.hostFinalizer = finalizer
}

@_cdecl("strata_capi_kind")
func strataCAPIKind(_ p: UnsafeRawPointer) -> Int32 { CObject.at(p).kind }

/// Whether two references are the same Wasm object (two C owners of one export, for example).
@_cdecl("strata_capi_same")
func strataCAPISame(_ a: UnsafeRawPointer?, _ b: UnsafeRawPointer?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    if a == b { return true }
    switch (CObject.at(a), CObject.at(b)) {
    case (let x as CExtern, let y as CExtern): return x.extern.isSame(as: y.extern)
    case (let x as CModule, let y as CModule): return x.module === y.module
    case (let x as CInstance, let y as CInstance): return x.instance === y.instance
    default: return false
    }
}

// MARK: byte vectors owned by Swift objects

/// A `wasm_byte_vec_t` that an object owns (a name, a message): malloc'ed bytes, as the
/// vector functions in C expect.
final class OwnedBytes {
    let vec: UnsafeMutablePointer<wasm_byte_vec_t>
    init(_ bytes: some Collection<UInt8>, nulTerminated: Bool = false) {
        vec = .allocate(capacity: 1)
        let count = bytes.count + (nulTerminated ? 1 : 0)
        wasm_byte_vec_new_uninitialized(vec, count)
        if vec.pointee.size == count, count > 0 {
            let out = UnsafeMutableRawPointer(vec.pointee.data!).assumingMemoryBound(to: UInt8.self)
            var i = 0
            for b in bytes { out[i] = b; i += 1 }
            if nulTerminated { out[i] = 0 }
        }
    }
    deinit {
        wasm_byte_vec_delete(vec)
        vec.deallocate()
    }
}

extension wasm_byte_vec_t {
    /// The bytes (empty for an empty or null vector).
    var bytes: [UInt8] {
        guard size > 0, let data else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    }
    /// The bytes as text, without a trailing NUL.
    var text: String {
        var b = bytes
        if b.last == 0 { b.removeLast() }
        return String(decoding: b, as: UTF8.self)
    }
}

/// Fills `out` (owned by the caller from now on) with copies of `bytes`.
func fill(_ out: UnsafeMutablePointer<wasm_byte_vec_t>, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { b in
        b.withMemoryRebound(to: CChar.self) { wasm_byte_vec_new(out, b.count, $0.baseAddress) }
    }
}

extension Extern {
    func isSame(as other: Extern) -> Bool {
        switch (self, other) {
        case (.function(let a), .function(let b)): Value.funcref(a) == Value.funcref(b)
        case (.memory(let a), .memory(let b)): a === b
        case (.global(let a), .global(let b)): a === b
        case (.table(let a), .table(let b)): a === b
        default: false
        }
    }
}
