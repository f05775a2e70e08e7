/// The optimizing tier's second entry on x86-64: calls between optimized functions pass
/// arguments and the result in registers. Every optimized function whose signature fits
/// (at most 6 integer and 8 float parameters, no v128, at most one result) has two entries:
///
/// - the uniform slot-buffer entry (`FunctionCode.nativeEntry`, at the start of its code): a
///   small wrapper with the standard frame that loads the arguments from the slots, calls the
///   direct entry and stores the result, so the interpreter, the baseline tier and the host
///   call it as before;
/// - the direct entry (`FunctionCode.directEntry`): vmctx in rdi, integer arguments in rsi,
///   rdx, rcx, r8, r9, rax, float arguments in xmm0-xmm7, the result in rax or xmm0. Compiled
///   code never returns a trap status (traps unwind), so rax is free for the result.
///
/// A caller knows a callee's signature, not its tier: it loads the callee's direct entry from
/// its instance's reference to the callee (past the VM context, kept current by
/// `Module.publish`) and calls it when there is one (optimized code of a function that makes
/// no tail calls), the record's slot-buffer entry otherwise (an out-of-line path), so tier
/// swaps need no patching.
enum X64DirectCall {
    static let gprArguments: [Reg] = [.rsi, .rdx, .rcx, .r8, .r9, .rax]
    static let xmmArguments = 8
    /// The call-site Wasm offset recorded for the wrapper's call of the direct entry: such a
    /// return address is the same activation, left out of backtraces.
    static let wrapperCallSite = X64MachineLayer.wrapperCallSite

    /// Where each argument and the result go, or nil when the signature does not fit.
    static func assignment<P: Collection<IRType>, R: Collection<IRType>>(params: P, results: R) -> (arguments: [Location], result: Location?)? {
        guard results.count <= 1, results.first != .v128 else { return nil }
        var gprs = 0, xmms = 0
        var arguments: [Location] = []
        arguments.reserveCapacity(params.count)
        for t in params {
            if t == .v128 { return nil }  // v128 values go through the slot buffer
            if t.isFloat {
                guard xmms < xmmArguments else { return nil }
                arguments.append(.xmm(UInt8(xmms)))
                xmms += 1
            } else {
                guard gprs < gprArguments.count else { return nil }
                arguments.append(.gpr(gprArguments[gprs].code))
                gprs += 1
            }
        }
        let result: Location? = results.first.map { $0.isFloat ? .xmm(0) : .gpr(Reg.rax.code) }
        return (arguments, result)
    }

    static func assignment(_ type: FuncType) -> (arguments: [Location], result: Location?)? {
        // (Lazily: a call site asks for its callee's assignment, and arrays would be allocated per call.)
        assignment(params: type.params.lazy.map(IRType.init), results: type.results.lazy.map(IRType.init))
    }
}
