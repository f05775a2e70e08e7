/// Type equivalence and subtyping of value types with typed function references.
///
/// Function types are compared iso-recursively (Wasm 3.0): every type of the type section is
/// its own recursion group (`rec` groups and declared subtypes come with GC), so two types are
/// the same when their parameters and results are, with references to earlier types compared
/// by those types' canonical forms and a reference to the type itself by its position in its
/// group. `canonicalKey` builds that form; a module numbers its types by it for validation
/// (`localCanonical`), the engine numbers them across modules (`Engine.typeIDs`): the ids
/// `call_indirect` compares and runtime objects' types carry.
enum TypeCanonicalization {
    /// Type `index`'s canonical form: concrete heap types of earlier types replaced by
    /// `.canonical(id(j))`, a reference to itself by a recursive reference.
    static func canonicalKey(of index: Int, in types: [FuncType], id: (Int) -> UInt32) -> FuncType {
        func map(_ t: ValueType) -> ValueType {
            t.mapHeapType { h in
                guard let j = h.typeIndex else { return h }
                return j == UInt32(index) ? HeapType(raw: HeapType.recursiveFlag) : .canonical(id(Int(j)))
            }
        }
        let t = types[index]
        return FuncType(params: t.params.map(map), results: t.results.map(map))
    }

    /// For each type of a module, the index of the first type equivalent to it (validation
    /// compares concrete heap types through this). Types must only refer to earlier types or
    /// themselves (checked by the module validator).
    static func localCanonical(_ types: [FuncType]) -> [UInt32] {
        var seen: [FuncType: UInt32] = [:]
        var result: [UInt32] = []
        result.reserveCapacity(types.count)
        for i in types.indices {
            let key = canonicalKey(of: i, in: types, id: { result[$0] })
            if let first = seen[key] {
                result.append(first)
            } else {
                seen[key] = UInt32(i)
                result.append(UInt32(i))
            }
        }
        return result
    }
}

extension ValueType {
    /// Whether a value of type `self` is a value of type `other` (`self <: other`); concrete
    /// heap types are the same when `sameType` says so (module type indices compare through
    /// the module's canonical numbering, canonical ids directly).
    @inline(__always)
    func isSubtype(of other: ValueType, sameType: (HeapType, HeapType) -> Bool) -> Bool {
        if self == other { return true }
        guard kind == .ref, other.kind == .ref, !nullable || other.nullable else { return false }
        return heapType.isSubtype(of: other.heapType, sameType: sameType)
    }

    /// Subtyping between types of runtime objects (concrete heap types as canonical ids).
    func matches(_ other: ValueType) -> Bool { isSubtype(of: other, sameType: ==) }

    /// This type with module type indices replaced by the engine's canonical ids.
    func canonicalized(_ typeIDs: UnsafePointer<UInt32>) -> ValueType {
        mapHeapType { h in h.typeIndex.map { .canonical(typeIDs[Int($0)]) } ?? h }
    }
}

extension HeapType {
    func isSubtype(of other: HeapType, sameType: (HeapType, HeapType) -> Bool) -> Bool {
        if self == other { return true }
        switch other {
        case .func: return self == .noFunc || isConcrete
        case .extern: return self == .noExtern
        case .exn: return self == .noExn
        case .noFunc, .noExtern, .noExn: return false
        default:  // a concrete function type
            return self == .noFunc || isConcrete && sameType(self, other)
        }
    }
}

extension FuncType {
    func canonicalized(_ typeIDs: UnsafePointer<UInt32>) -> FuncType {
        FuncType(params: params.map { $0.canonicalized(typeIDs) }, results: results.map { $0.canonicalized(typeIDs) })
    }
}
