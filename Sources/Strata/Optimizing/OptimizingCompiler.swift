/// Strata's optimizing tier: builds a function's SSA form from its validated body
/// (`IRBuilder`), optimizes it (`IRPasses`), allocates registers (`RegisterAllocator`) and
/// lowers it to x86-64 (`X64Lowering`). What it does not compile yet (SIMD, functions past its
/// size bounds) it leaves to the tier below, with the reason.
enum OptimizingCompiler {
    /// Bumped with any change to the code this tier emits (part of the code cache key).
    static let revision = 1

    struct Output {
        var function: MachineFunction?
        /// Why the function was not compiled (it stays in a lower tier).
        var reason: WasmError?
        /// The optimized IR, when asked for (listings).
        var ir: IRFunction?
    }

    /// Compiles one body. Throws only what validation throws; what this tier cannot compile
    /// comes back as `reason`.
    static func compile(
        context: ModuleContext, importedFunctionCount: Int, type: FuncType, body: FunctionBody,
        bytes: UnsafeBufferPointer<UInt8>, hasMemory: Bool, keepIR: Bool = false
    ) throws(WasmError) -> Output {
        var builder = IRBuilder(context: context, importedFunctionCount: importedFunctionCount, type: type, locals: body.locals)
        var validator = FunctionValidator(module: context, body: body, type: type, bytes: bytes)
        try validator.run(sink: &builder)
        if let reason = builder.unsupported { return Output(reason: reason) }
        var f = builder.finish()
        IRPasses.optimize(&f)
        let order = IRPasses.reversePostorder(f)
        let allocation: RegisterAllocation
        do {
            allocation = try RegisterAllocator(f: f, order: order, machine: X64Machine.registers).run()
        } catch {
            return Output(reason: WasmError(.unsupported, "the function is too complex for the optimizing tier's register allocator"))
        }
        var lowering = X64Lowering(
            f: f, allocation: allocation, order: order, importedFunctionCount: importedFunctionCount, hasMemory: hasMemory)
        let machine = lowering.emit()
        return Output(function: machine, ir: keepIR ? f : nil)
    }
}
