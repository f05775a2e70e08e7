import CStrata

/// A function type as the host call path reads it: counts and type codes in memory that lives
/// as long as the function, so a call from Swift checks its arguments and reads its results
/// without copying a `FuncType` (two arrays, four reference-count operations) or reaching the
/// module through its objects. Every `StrataFuncRef` points at one (`signature`).
struct CallSignature {
    let paramCount: Int
    let resultCount: Int
    /// Parameter types, then result types.
    let types: UnsafePointer<ValueType>

    var params: UnsafeBufferPointer<ValueType> { UnsafeBufferPointer(start: types, count: paramCount) }
    var results: UnsafeBufferPointer<ValueType> { UnsafeBufferPointer(start: types + paramCount, count: resultCount) }
    /// Slots of the host calling convention's buffer: max(params, results), at least one.
    var bufferSlots: Int { max(paramCount, resultCount, 1) }

    var funcType: FuncType { FuncType(params: Array(params), results: Array(results)) }
}

/// Call signatures for a list of function types, in one allocation (freed with `deallocate`).
struct CallSignatureTable {
    let signatures: UnsafeMutablePointer<CallSignature>
    private let storage: UnsafeMutablePointer<ValueType>

    init(_ types: [FuncType]) {
        let total = types.reduce(0) { $0 + $1.params.count + $1.results.count }
        storage = .allocate(capacity: max(total, 1))
        signatures = .allocate(capacity: max(types.count, 1))
        var at = 0
        for (i, t) in types.enumerated() {
            (storage + at).initialize(from: t.params, count: t.params.count)
            (storage + at + t.params.count).initialize(from: t.results, count: t.results.count)
            (signatures + i).initialize(to: CallSignature(
                paramCount: t.params.count, resultCount: t.results.count, types: UnsafePointer(storage + at)))
            at += t.params.count + t.results.count
        }
    }

    /// The signature of type `index`, as a `StrataFuncRef` holds it.
    func pointer(_ index: Int) -> UnsafeRawPointer { UnsafeRawPointer(signatures + index) }

    func deallocate() {
        signatures.deallocate()
        storage.deallocate()
    }
}

extension UnsafeMutablePointer where Pointee == StrataFuncRef {
    /// The function's signature (set for every function reference Strata creates).
    var callSignature: UnsafePointer<CallSignature> {
        pointee.signature.unsafelyUnwrapped.assumingMemoryBound(to: CallSignature.self)
    }
}
