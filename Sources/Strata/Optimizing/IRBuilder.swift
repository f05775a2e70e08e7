/// Builds a function's SSA form in one pass over its validated body (a `CodeSink`, driven by
/// the `FunctionValidator` like the other tiers). Locals become SSA values as they are built,
/// by the algorithm of Braun et al., "Simple and Efficient Construction of Static Single
/// Assignment Form" (2013): a block's value of a local is looked up through its predecessors;
/// blocks whose predecessors are not all known yet (loop headers until the loop's `end`,
/// merge blocks until the block's `end`) get a parameter that is completed when they are
/// sealed. The lookup is iterative, so deep nesting costs no native stack. A lookup that
/// reaches the merge block of a closed construct (block, if, loop, try_table, or a try_table's
/// handler) that does not write the local continues at the block the construct was entered
/// from (`Bypass`), so it neither walks nor records the construct's blocks and adds no
/// parameter there. Parameters that turn out trivial are removed afterwards
/// (`removeTrivialParams`).
struct IRBuilder: CodeSink {
    struct Control {
        enum Kind { case function, block, loop, `if`, tryTable }
        var kind: Kind
        /// Operand-stack height below the construct's params.
        var height: Int
        var paramCount: Int
        var resultCount: Int
        /// The block after `end` (block, if), or the header (loop); -1 for the function.
        var target: Int32
        /// The else arm of an `if` not yet entered (-1 once entered or for other kinds).
        var elseBlock: Int32 = -1
        /// The `if`'s param values (an if without else passes them on).
        var ifParams: [IRValue] = []
        var deadAtEntry = false
        /// A try_table: the block its landing blocks and throws go to (its handler, which tries
        /// the clauses; see `buildHandler`), the clauses, and its Wasm offset.
        var handler: Int32 = -1
        var clauses: [CatchClause] = []
        var tryOffset: Int32 = 0
        /// A block, if, loop or try_table: the block it was entered from (-1: none, no
        /// bypass) and the number of local definitions before it (`writeCount`).
        var entry: Int32 = -1
        var firstWrite: Int32 = 0
    }

    /// Where a lookup may continue from a closed construct's merge block (the block after a
    /// block's, if's or try_table's `end`, a loop's header, a try_table's handler): at
    /// `entry`, the block the construct was entered from, when the construct defines the local
    /// nowhere (no definition numbered in `firstWrite..<endWrite`). Then every path through the
    /// construct carries the value the local had at its entry. Not used for OSR entries (their
    /// entry block defines every local from inside the loop's enclosing constructs).
    struct Bypass {
        var entry: Int32 = -1
        var firstWrite: Int32 = 0
        var endWrite: Int32 = 0
    }

    let context: ModuleContext
    let importedFunctionCount: Int
    /// The types of the variables locals become: the function's locals, then those of each
    /// inlined call (its local i is variable `localBase + i` while it is built, so a lookup
    /// from the caller's code through the callee's blocks never finds the callee's locals).
    var localTypes: [IRType]
    var localBase = 0
    /// Where inlined callees come from (nil: no inlining).
    let module: (bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo)?
    /// Per callee (function index space): whether calls to it are inlined.
    var inlinable: [Int: Bool] = [:]
    /// Bytes of callee code inlined so far.
    var inlinedBytes = 0
    /// While an inlined call is built: 1 + its index in `f.inlines` (new blocks get it).
    var inlineTag: Int32 = 0
    /// Callees of at most this many bytes of code are inlined ...
    static let inlineCalleeBytes = 48
    /// ... up to this many bytes per function, callees with at most this many locals.
    static let inlineBudget = 4000
    static let inlineCalleeLocals = 32
    var f = IRFunction()
    var stack: [IRValue] = []
    var controls: [Control] = []
    /// The block being filled; nil in unreachable code.
    var current: Int32?
    var sealed: [Bool] = []
    /// Per block (see `Bypass`).
    var bypass: [Bypass] = []
    /// Per local, the numbers of its definitions (`define`), ascending.
    var writes: [[Int32]] = []
    var writeCount: Int32 = 0
    /// Definitions of locals per block: key = block << 32 | local.
    var defs = IntegerMap<IRValue>(placeholder: .none)
    /// Scratch arrays of `readLocal` and `lookup` (kept for their capacity).
    var lookupWork: [(block: Int32, param: IRValue, pred: Int32)] = []
    var lookupChain: [Int32] = []
    /// Parameters of unsealed blocks waiting for their predecessors' values: (local, param).
    var incomplete: [Int32: [(Int, IRValue)]] = [:]
    var zeroes: [IRType: IRValue] = [:]
    var loopDepth = 0
    /// Set when the body uses something this tier does not compile (the function stays in a
    /// lower tier with this reason); validation still completes.
    var unsupported: WasmError?
    /// Values a body may build before the tier gives up on it (bounded work); the SSA
    /// construction's definitions of locals per block (`defs`) may grow to twice as many. A body
    /// of many locals and many blocks reaches that bound first: every block a lookup passes
    /// through keeps the local's value (Yosys's `replace_const_cells`, 214 KB of Wasm with 658
    /// locals and 25,900 blocks: 5.8 million definitions and 3.4 s before the value budget
    /// stopped it; most functions keep 1-2 definitions per value).
    let valueBudget: Int
    var definitionBudget: Int { 2 * valueBudget }

    /// `functionIndex` (function index space, -1: unknown) with `selfTailCalls`: the body may
    /// tail-call itself (`IRBuilder.mayTailCallItself`), so it starts with a loop header whose
    /// parameters are the function's: such a `return_call` is a jump back to it.
    init(
        context: ModuleContext, importedFunctionCount: Int, type: FuncType, locals: [ValueType], valueBudget: Int = 400_000,
        inlineFrom module: (bytes: UnsafeBufferPointer<UInt8>, info: ModuleInfo)? = nil, functionIndex: Int = -1,
        selfTailCalls: Bool = false, osrLoop: Int32? = nil
    ) {
        self.osrLoop = osrLoop
        self.context = context
        self.module = module
        self.importedFunctionCount = importedFunctionCount
        self.valueBudget = valueBudget
        let all = type.params + locals
        var lt: [IRType] = []
        lt.reserveCapacity(all.count)
        for t in all { lt.append(IRType(t)) }
        localTypes = lt
        ownLocalCount = lt.count
        f.paramTypes = Array(lt[0..<type.params.count])
        f.resultTypes = type.results.map(IRType.init)
        if osrLoop != nil {
            // Block 0, the entry, loads the state when the target loop is reached (`osrHeader`).
            seal(newBlock())
            f.isOSREntry = true
        }
        let entry = newBlock()
        seal(entry)
        current = entry
        for (i, t) in f.paramTypes.enumerated() {
            let v = f.append(IRInst(op: .param, type: t, imm: UInt64(i)), to: entry)
            define(i, in: entry, v)
        }
        controls.append(Control(kind: .function, height: 0, paramCount: 0, resultCount: type.results.count, target: -1))
        self.functionIndex = functionIndex
        if selfTailCalls && functionIndex >= 0 && osrLoop == nil {
            // Every local is defined at the header (parameters as its parameters, the others
            // zero), so no lookup passes it; it is sealed when the body is done.
            let header = newBlock()
            f.blocks[Int(header)].isLoopHeader = true
            var args: [IRValue] = []
            for (i, t) in f.paramTypes.enumerated() {
                args.append(defs[key(entry, i)]!)
                define(i, in: header, f.addParam(header, t))
            }
            for i in f.paramTypes.count..<localTypes.count { define(i, in: header, zero(localTypes[i])) }
            jump(from: entry, to: header, args: args)
            f.append(IRInst(op: .interruptCheck, type: nil, offset: 0), to: header)
            current = header
            selfLoop = header
        }
    }

    /// The function's index (function index space, -1: unknown; `IRFunction.functionIndex` is
    /// set after building) and the loop header of a body that tail-calls itself (see `init`).
    var functionIndex = -1
    var selfLoop: Int32?

    /// An on-stack-replacement entry (see docs/ARCHITECTURE.md, "On-stack replacement"): the
    /// Wasm offset of the loop the code is entered at. The body is built as usual from its
    /// start, but block 0 is an entry of its own: at the loop it loads every local and the
    /// operand stack from the moved frame (`param` with `imm2` 1 and 2) and jumps to the
    /// header, which takes every operand-stack value as a parameter (the values enclosing
    /// blocks hold below the loop's params stay the same around the loop). The code before
    /// the loop is then unreachable and dropped (`finish`).
    let osrLoop: Int32?
    var osrHeader: Int32?
    /// The function's own locals (parameters included): the variables of inlined callees come
    /// after them in `localTypes` and are never live at a loop of the function.
    let ownLocalCount: Int
    /// The header's parameters for the values below the loop's own params.
    var osrBelow: [IRValue] = []

    /// Whether a body may contain `return_call` of function `index`: its encoding (0x12 and the
    /// index's LEB128) occurs in the body's bytes. Cheap; a false positive costs one block.
    static func mayTailCallItself(_ bytes: UnsafeBufferPointer<UInt8>, body: FunctionBody, index: Int) -> Bool {
        var pattern: [UInt8] = [0x12]
        var v = UInt(index)
        repeat {
            let low = UInt8(v & 0x7F)
            v >>= 7
            pattern.append(v == 0 ? low : low | 0x80)
        } while v != 0
        guard body.codeEnd - body.codeStart >= pattern.count else { return false }
        var i = body.codeStart
        while i + pattern.count <= body.codeEnd {
            if bytes[i] == 0x12 && (1..<pattern.count).allSatisfy({ bytes[i + $0] == pattern[$0] }) { return true }
            i += 1
        }
        return false
    }

    // MARK: blocks and locals

    @inline(__always) func key(_ block: Int32, _ local: Int) -> Int64 { Int64(block) << 32 | Int64(local) }

    mutating func newBlock() -> Int32 {
        sealed.append(false)
        bypass.append(Bypass())
        let b = f.newBlock()
        f.blocks[Int(b)].loopDepth = loopDepth
        f.blocks[Int(b)].inline = inlineTag
        return b
    }

    /// Ends `from` with a jump to `to` carrying `args` (and, for a sealed target, the values
    /// of the locals it has parameters for).
    mutating func jump(from: Int32, to: Int32, args: [IRValue]) {
        f.blocks[Int(from)].term = .jump(target: to, args: args)
        f.blocks[Int(to)].preds.append(from)
        precondition(!sealed[Int(to)], "jump to a sealed block")
    }

    /// A parameterless block entered only from `from` (a conditional edge), sealed.
    mutating func edgeBlock(from: Int32) -> Int32 {
        let e = newBlock()
        f.blocks[Int(e)].preds.append(from)
        seal(e)
        return e
    }

    /// All predecessors of `block` are known: completes its pending parameters.
    mutating func seal(_ block: Int32) {
        sealed[Int(block)] = true
        guard let pending = incomplete.removeValue(forKey: block) else { return }
        for (local, param) in pending {
            for p in f.blocks[Int(block)].preds {
                let v = readLocal(local, in: p)
                appendJumpArg(from: p, to: block, v, param: param)
            }
        }
    }

    mutating func appendJumpArg(from: Int32, to: Int32, _ v: IRValue, param: IRValue) {
        guard case .jump(let t, _) = f.blocks[Int(from)].term, t == to else {
            preconditionFailure("a block with parameters is entered by a jump")
        }
        let count = f.editJumpArgs(from) { args in
            args.append(v)
            return args.count
        }
        assert(f.blocks[Int(to)].params[count! - 1] == param, "block arguments out of order")
    }

    mutating func writeLocal(_ local: Int, _ v: IRValue) {
        define(local, in: current!, v)
    }

    /// `local` has value `v` at the end of `block`: a definition (numbered for `Bypass`).
    mutating func define(_ local: Int, in block: Int32, _ v: IRValue) {
        defs[key(block, local)] = v
        if local >= writes.count { writes += [[Int32]](repeating: [], count: local + 1 - writes.count) }
        writes[local].append(writeCount)
        writeCount += 1
    }

    /// Whether `local` has a definition numbered in `start..<end`.
    func isDefined(_ local: Int, from start: Int32, to end: Int32) -> Bool {
        guard local < writes.count else { return false }
        return writes[local].withUnsafeBufferPointer { w in
            guard let last = w.last, last >= start else { return false }
            var lo = 0, hi = w.count - 1  // the first definition at or after start
            while lo < hi {
                let mid = (lo + hi) / 2
                if w[mid] < start { lo = mid + 1 } else { hi = mid }
            }
            return w[lo] < end
        }
    }

    /// `c` has ended: lookups may pass `block`, its merge block (a loop's header, a
    /// try_table's handler), when it does not define the local.
    mutating func recordBypass(_ c: Control, at block: Int32) {
        guard c.entry >= 0, osrLoop == nil else { return }
        bypass[Int(block)] = Bypass(entry: c.entry, firstWrite: c.firstWrite, endWrite: writeCount)
    }

    /// The value of `local` at the end of `block` (iterative: pending operand lookups of new
    /// parameters are kept on an explicit work list).
    /// Most reads find a definition in `block` itself: no work list, no allocation. Otherwise
    /// the work list and the lookup's chain reuse the builder's scratch arrays.
    mutating func readLocal(_ local: Int, in block: Int32) -> IRValue {
        if let v = defs[key(block, local)] { return v }
        var work = lookupWork
        lookupWork = []
        work.removeAll(keepingCapacity: true)
        let result = lookup(local, block, &work)
        while let task = work.popLast() {
            let v = lookup(local, task.pred, &work)
            appendJumpArg(from: task.pred, to: task.block, v, param: task.param)
        }
        lookupWork = work
        return result
    }

    private mutating func lookup(_ local: Int, _ start: Int32, _ work: inout [(block: Int32, param: IRValue, pred: Int32)]) -> IRValue {
        var chain = lookupChain
        lookupChain = []
        chain.removeAll(keepingCapacity: true)
        defer { lookupChain = chain }
        var b = start
        var result: IRValue
        while true {
            if let v = defs[key(b, local)] { result = v; break }
            let preds = f.blocks[Int(b)].preds
            if !sealed[Int(b)] {
                result = f.addParam(b, localTypes[local])
                incomplete[b, default: []].append((local, result))
                defs[key(b, local)] = result
                break
            }
            if preds.count == 1 { chain.append(b); b = preds[0]; continue }
            if preds.isEmpty {
                result = zero(localTypes[local])
                break
            }
            let by = bypass[Int(b)]
            if by.entry >= 0 && !isDefined(local, from: by.firstWrite, to: by.endWrite) {
                chain.append(b)
                b = by.entry
                continue
            }
            result = f.addParam(b, localTypes[local])
            defs[key(b, local)] = result
            for p in preds.reversed() { work.append((b, result, p)) }
            break
        }
        // Kept at the first block and every eighth of the chain: later lookups stop within
        // eight steps of where this one went, and `defs` stays small for long chains.
        for (i, c) in chain.enumerated() where i == 0 || i & 7 == 7 { defs[key(c, local)] = result }
        return result
    }

    mutating func zero(_ t: IRType) -> IRValue {
        if let z = zeroes[t] { return z }
        let z = f.append(IRInst(op: .const, type: t, imm: 0), to: 0)
        zeroes[t] = z
        return z
    }

    // MARK: emission

    @discardableResult
    mutating func emit(_ inst: IRInst) -> IRValue {
        if let folded = Simplifier.fold(inst, in: &f, block: current!) { return folded }
        return f.append(inst, to: current!)
    }
    mutating func const(_ t: IRType, _ bits: UInt64) -> IRValue {
        emit(IRInst(op: .const, type: t, imm: bits))
    }
    mutating func pop() -> IRValue { stack.removeLast() }
    mutating func pop(_ n: Int) -> [IRValue] {
        let vs = Array(stack[(stack.count - n)...])
        stack.removeLast(n)
        return vs
    }

    /// Branches to the construct `depth` levels out from the current block (which it ends).
    mutating func branch(depth: Int, from block: Int32) {
        let c = controls[controls.count - 1 - depth]
        switch c.kind {
        case .function:
            f.blocks[Int(block)].term = .ret(Array(stack[(stack.count - c.resultCount)...]))
        case .loop:
            let below = c.target == osrHeader ? osrBelow : []
            jump(from: block, to: c.target, args: below + Array(stack[(stack.count - c.paramCount)...]))
        case .block, .if, .tryTable:
            jump(from: block, to: c.target, args: Array(stack[(stack.count - c.resultCount)...]))
        }
    }

    /// The payload types of tag `tag`.
    func payloadTypes(tag: UInt32) -> [IRType] {
        context.types[Int(context.tags[Int(tag)])].params.map(IRType.init)
    }

    /// The handler of the innermost try_table around the code being built (nil: none in this
    /// function).
    var handler: Int32? {
        controls.last { $0.kind == .tryTable && !$0.deadAtEntry }?.handler
    }

    /// After a `throw` in `block`: the exception goes to the innermost try_table's handler, or
    /// leaves the function.
    mutating func exceptionLeaves(_ block: Int32, offset: Int32) {
        if let h = handler {
            jump(from: block, to: h, args: [])
        } else {
            f.blocks[Int(block)].term = .raise(offset: offset)
        }
        current = nil
    }

    /// A try_table's handler, once its body is built (every landing block and throw that goes
    /// to it is known): it tries the clauses in order, each a `catchClause` that, when it
    /// catches, branches to its label with the payload (`caught` values); when none catches,
    /// the exception goes to the enclosing try_table's handler or leaves the function. Locals
    /// reach it like any merge block's, through its predecessors.
    mutating func buildHandler(_ c: Control) {
        let h = c.handler
        recordBypass(c, at: h)  // its predecessors are all in the body
        seal(h)
        guard !f.blocks[Int(h)].preds.isEmpty else { return }
        let saved = stack
        stack.removeSubrange(min(c.height, stack.count)...)
        var at = h
        for clause in c.clauses {
            let all = clause.kind == .catchAll || clause.kind == .catchAllRef
            let withReference = clause.kind == .catchTagRef || clause.kind == .catchAllRef
            var types = all ? [] : payloadTypes(tag: clause.tag)
            if withReference { types.append(.i64) }
            let caught = f.append(IRInst(
                op: .catchClause, type: .i32, imm: UInt64(all ? UInt32.max : clause.tag), imm2: withReference ? 1 : 0,
                offset: c.tryOffset), to: at)
            let taken = edgeBlock(from: at), next = edgeBlock(from: at)
            f.blocks[Int(at)].term = .branch(cond: caught, then: taken, else: next)
            let height = stack.count
            for (k, t) in types.enumerated() {
                stack.append(f.append(IRInst(op: .caught, type: t, imm: UInt64(k), offset: c.tryOffset), to: taken))
            }
            branch(depth: Int(clause.depth), from: taken)
            stack.removeSubrange(height...)
            at = next
        }
        if let outer = handler {
            jump(from: at, to: outer, args: [])
        } else {
            f.blocks[Int(at)].term = .raise(offset: c.tryOffset)  // not a call: in no handler
        }
        stack = saved
    }

    /// Types of the innermost control frame's params and results (the validator pushed it).
    func frameTypes(_ validator: borrowing FunctionValidator) -> (params: [IRType], results: [IRType]) {
        let frame = validator.controls[validator.controls.count - 1]
        return (frame.params.map(IRType.init), frame.results.map(IRType.init))
    }

    // MARK: the sink

    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError) {
        if unsupported != nil { return }
        if f.values.count > valueBudget {
            unsupported = WasmError(.unsupported, "\(OptimizingCompiler.tooLarge) (over \(valueBudget) values)")
            return
        }
        if defs.count > definitionBudget {
            unsupported = WasmError(.unsupported, "\(OptimizingCompiler.tooLarge) (over \(definitionBudget) definitions of locals)")
            return
        }
        guard let block = current else {
            deadCode(instruction, validator: validator)
            return
        }
        let at = Int32(truncatingIfNeeded: offset)
        switch instruction {
        case .unreachable:
            f.blocks[Int(block)].term = .trap(.unreachable, offset: at)
            current = nil
        case .nop:
            break
        case .block(let p, let r):
            let types = frameTypes(validator)
            let merge = newBlock()
            for t in types.results { _ = f.addParam(merge, t) }
            var c = Control(kind: .block, height: stack.count - p, paramCount: p, resultCount: r, target: merge)
            c.entry = block
            c.firstWrite = writeCount
            controls.append(c)
        case .loop(let p, let r) where at == osrLoop && inlineTag == 0 && osrHeader == nil:
            osrEntryLoop(p, r, validator: validator, offset: at)
        case .loop(let p, let r):
            let types = frameTypes(validator)
            loopDepth += 1
            let header = newBlock()
            f.blocks[Int(header)].isLoopHeader = true
            f.blocks[Int(header)].wasmOffset = at
            var params: [IRValue] = []
            for t in types.params { params.append(f.addParam(header, t)) }
            jump(from: block, to: header, args: pop(p))
            stack += params
            current = header
            f.append(IRInst(op: .interruptCheck, type: nil, offset: at), to: header)
            var c = Control(kind: .loop, height: stack.count - p, paramCount: p, resultCount: r, target: header)
            c.entry = block
            c.firstWrite = writeCount
            controls.append(c)
        case .if(let p, let r):
            let types = frameTypes(validator)
            let cond = pop()
            let thenBlock = edgeBlock(from: block)
            let elseBlock = edgeBlock(from: block)
            f.blocks[Int(block)].term = .branch(cond: cond, then: thenBlock, else: elseBlock)
            let merge = newBlock()
            for t in types.results { _ = f.addParam(merge, t) }
            var c = Control(kind: .if, height: stack.count - p, paramCount: p, resultCount: r, target: merge)
            c.elseBlock = elseBlock
            c.ifParams = Array(stack[(stack.count - p)...])
            c.entry = block
            c.firstWrite = writeCount
            controls.append(c)
            current = thenBlock
        case .else:
            elseArm(from: block)
        case .end:
            end(from: block)
        case .br(let depth):
            branch(depth: depth, from: block)
            current = nil
        case .brIf(let depth):
            let cond = pop()
            let taken = edgeBlock(from: block)
            let next = edgeBlock(from: block)
            f.blocks[Int(block)].term = .branch(cond: cond, then: taken, else: next)
            branch(depth: depth, from: taken)
            current = next
        case .brTable:
            let index = pop()
            var edgeFor: [UInt32: Int32] = [:]
            var targets: [Int32] = []
            for depth in validator.brTableTargets {
                if let e = edgeFor[depth] { targets.append(e); continue }
                let e = edgeBlock(from: block)
                edgeFor[depth] = e
                targets.append(e)
            }
            // Preds were added per distinct edge; the terminator lists every entry.
            f.blocks[Int(block)].term = .table(index: index, targets: targets)
            for (depth, e) in edgeFor { branch(depth: Int(depth), from: e) }
            current = nil
        case .return:
            branch(depth: controls.count - 1, from: block)
            current = nil
        case .returnCall(let function) where Int(function) == functionIndex && selfLoop != nil && inlineTag == 0:
            // The function calls itself: the arguments become the parameters at the loop header.
            jump(from: block, to: selfLoop!, args: pop(f.paramTypes.count))
            current = nil
        case .returnCall(let function):
            let type = context.types[Int(context.functionTypes[Int(function)])]
            tailCall(IRInst(op: .tailCall, type: nil, imm: UInt64(function), offset: at), type: type, extraArgs: [])
        case .returnCallIndirect(let typeIndex, let table):
            let type = context.types[Int(typeIndex)]
            let index = pop()
            tailCall(IRInst(op: .tailCallIndirect, type: nil, imm: UInt64(typeIndex), imm2: UInt64(table), offset: at), type: type, extraArgs: [index])
        case .returnCallRef(let typeIndex):
            let type = context.types[Int(typeIndex)]
            let ref = pop()
            tailCall(IRInst(op: .tailCallRef, type: nil, imm: UInt64(typeIndex), offset: at), type: type, extraArgs: [ref])
        case .tryTable(let p, let r):
            let types = frameTypes(validator)
            let clauses = validator.catchClauses
            let merge = newBlock()
            for t in types.results { _ = f.addParam(merge, t) }
            var c = Control(kind: .tryTable, height: stack.count - p, paramCount: p, resultCount: r, target: merge)
            c.handler = newBlock()
            c.clauses = clauses
            c.tryOffset = at
            c.entry = block
            c.firstWrite = writeCount
            controls.append(c)
        case .throw(let tag):
            let types = payloadTypes(tag: tag)
            var i = IRInst(op: .throw, type: nil, imm: UInt64(tag), offset: at)
            let args = pop(types.count)
            i.extraStart = Int32(f.extra.count)
            i.extraCount = Int32(args.count)
            f.extra += args
            f.append(i, to: block)
            exceptionLeaves(block, offset: at)
        case .throwRef:
            f.append(IRInst(op: .throw, type: nil, a: pop(), imm: UInt64.max, offset: at), to: block)
            exceptionLeaves(block, offset: at)
        case .callRef(let typeIndex):
            let type = context.types[Int(typeIndex)]
            let ref = pop()
            call(IRInst(op: .callRef, type: nil, imm: UInt64(typeIndex), offset: at), type: type, extraArgs: [ref])
        case .refAsNonNull:
            // The value stays; only the check is an instruction.
            _ = emit(IRInst(op: .nullCheck, type: nil, a: stack[stack.count - 1], offset: at))
        case .brOnNull(let depth), .brOnNonNull(let depth):
            // br_on_null branches without the reference when it is null; br_on_non_null
            // branches with it when it is not; each falls through otherwise.
            let ref = pop()
            let isNull = emit(IRInst(op: .eqz, type: .i32, a: ref, offset: at))
            let taken = edgeBlock(from: block)
            let next = edgeBlock(from: block)
            if case .brOnNull = instruction {
                f.blocks[Int(block)].term = .branch(cond: isNull, then: taken, else: next)
                branch(depth: depth, from: taken)
                stack.append(ref)
            } else {
                f.blocks[Int(block)].term = .branch(cond: isNull, then: next, else: taken)
                stack.append(ref)
                branch(depth: depth, from: taken)
                _ = pop()
            }
            current = next
        case .call(let function):
            if try inline(Int(function), at: at) { break }
            let type = context.types[Int(context.functionTypes[Int(function)])]
            call(IRInst(op: .call, type: nil, imm: UInt64(function), offset: at), type: type, extraArgs: [])
        case .callIndirect(let typeIndex, let table):
            let type = context.types[Int(typeIndex)]
            let index = pop()
            call(IRInst(op: .callIndirect, type: nil, imm: UInt64(typeIndex), imm2: UInt64(table), offset: at), type: type, extraArgs: [index])
        case .drop:
            _ = pop()
        case .select:
            let c = pop(), b = pop(), a = pop()
            stack.append(emit(IRInst(op: .select, type: f.type(a), a: a, b: b, c: c)))
        case .localGet(let i):
            stack.append(readLocal(localBase + Int(i), in: block))
        case .localSet(let i):
            writeLocal(localBase + Int(i), pop())
        case .localTee(let i):
            writeLocal(localBase + Int(i), stack[stack.count - 1])
        case .globalGet(let g):
            let t = IRType(context.globals[Int(g)].value)
            stack.append(emit(IRInst(op: .globalGet, type: t, imm: UInt64(g), offset: at)))
        case .globalSet(let g):
            emit(IRInst(op: .globalSet, type: nil, a: pop(), imm: UInt64(g), offset: at))
        case .tableGet(let t):
            stack.append(emit(IRInst(op: .tableGet, type: .i64, a: pop(), imm: UInt64(t), offset: at)))
        case .tableSet(let t):
            let v = pop(), i = pop()
            emit(IRInst(op: .tableSet, type: nil, a: i, b: v, imm: UInt64(t), offset: at))
        case .load(let opcode, let memOffset, let memory):
            let t = IRType(MemoryAccess.load(opcode).type)
            var load = IRInst(op: .load, type: t, a: pop(), imm: UInt64(opcode), imm2: memOffset, offset: at)
            load.memory = context.isPlainMemory0(memory) ? nil : memory
            stack.append(emit(load))
        case .store(let opcode, let memOffset, let memory):
            let v = pop(), address = pop()
            var store = IRInst(op: .store, type: nil, a: address, b: v, imm: UInt64(opcode), imm2: memOffset, offset: at)
            store.memory = context.isPlainMemory0(memory) ? nil : memory
            emit(store)
        case .memorySize(let memory):
            var size = IRInst(op: .memorySize, type: context.memories[Int(memory)].is64 ? .i64 : .i32, offset: at)
            size.memory = context.isPlainMemory0(memory) ? nil : memory
            stack.append(emit(size))
        case .memoryGrow(let memory) where !context.isPlainMemory0(memory):
            builtin(.memoryGrowAt, args: 1, result: context.memories[Int(memory)].is64 ? .i64 : .i32, immediates: [memory], offset: at)
        case .memoryGrow:
            builtin(.memoryGrow, args: 1, result: .i32, immediates: [], offset: at)
        case .const(let type, let bits):
            let t = IRType(type)
            stack.append(const(t, bits))
        case .numeric(let opcode):
            numeric(opcode, offset: at)
        case .refNull:
            stack.append(const(.i64, 0))
        case .refIsNull:
            stack.append(emit(IRInst(op: .eqz, type: .i32, a: pop())))
        case .refFunc(let function):
            stack.append(emit(IRInst(op: .refFunc, type: .i64, imm: UInt64(function))))
        case .memoryInit(let segment, let memory) where !context.isPlainMemory0(memory):
            builtin(.memoryInitAt, args: 3, result: nil, immediates: [segment, memory], offset: at)
        case .memoryInit(let segment, _):
            builtin(.memoryInit, args: 3, result: nil, immediates: [segment], offset: at)
        case .dataDrop(let segment):
            builtin(.dataDrop, args: 0, result: nil, immediates: [segment], offset: at)
        case .memoryCopy(let d, let s) where !context.isPlainMemory0(d) || !context.isPlainMemory0(s):
            builtin(.memoryCopyAt, args: 3, result: nil, immediates: [d, s], offset: at)
        case .memoryCopy:
            builtin(.memoryCopy, args: 3, result: nil, immediates: [], offset: at)
        case .memoryFill(let memory) where !context.isPlainMemory0(memory):
            builtin(.memoryFillAt, args: 3, result: nil, immediates: [memory], offset: at)
        case .memoryFill:
            builtin(.memoryFill, args: 3, result: nil, immediates: [], offset: at)
        case .tableInit(let segment, let table):
            builtin(.tableInit, args: 3, result: nil, immediates: [table, segment], offset: at)
        case .elemDrop(let segment):
            builtin(.elemDrop, args: 0, result: nil, immediates: [segment], offset: at)
        case .tableCopy(let dt, let st):
            builtin(.tableCopy, args: 3, result: nil, immediates: [dt, st], offset: at)
        case .tableGrow(let t):
            builtin(.tableGrow, args: 2, result: context.tables[Int(t)].is64 ? .i64 : .i32, immediates: [t], offset: at)
        case .tableSize(let t):
            stack.append(emit(IRInst(op: .tableSize, type: context.tables[Int(t)].is64 ? .i64 : .i32, imm: UInt64(t))))
        case .tableFill(let t):
            builtin(.tableFill, args: 3, result: nil, immediates: [t], offset: at)
        case .simd(let opcode, let memOffset, let lane, let memory):
            simd(opcode, memOffset: memOffset, lane: lane, memory: memory, at: at, validator: validator)
        }
    }

    /// A SIMD instruction: the memory ones are `load` and `store` with the SIMD opcode (see
    /// `IROp.load`), `v128.const` a constant, the others one `simd` instruction.
    mutating func simd(_ opcode: UInt32, memOffset: UInt64, lane: UInt8, memory: UInt32, at: Int32, validator: borrowing FunctionValidator) {
        guard let shape = FunctionValidator.simdShape(opcode) else { return }
        let code = UInt64(0xFD00 + opcode) | UInt64(lane) << 16
        let mem: UInt32? = context.isPlainMemory0(memory) ? nil : memory
        switch shape {
        case .load, .loadLane:
            var vector = IRValue.none
            if case .loadLane = shape { vector = pop() }
            var load = IRInst(op: .load, type: .v128, a: pop(), b: vector, imm: code, imm2: memOffset, offset: at)
            load.memory = mem
            stack.append(emit(load))
        case .store, .storeLane:
            let v = pop(), address = pop()
            var store = IRInst(op: .store, type: nil, a: address, b: v, imm: code, imm2: memOffset, offset: at)
            store.memory = mem
            emit(store)
        case .const:
            let (lo, hi) = validator.v128Immediate
            stack.append(emit(IRInst(op: .const, type: .v128, imm: lo, imm2: hi)))
        case .shuffle:
            let (lo, hi) = validator.v128Immediate
            let indices = emit(IRInst(op: .const, type: .v128, imm: lo, imm2: hi))
            let b = pop(), a = pop()
            stack.append(emit(IRInst(op: .simd, type: .v128, a: a, b: b, c: indices, imm: UInt64(opcode), offset: at)))
        default:
            let (count, result): (Int, IRType) = switch shape {
            case .unary, .splat: (1, .v128)
            case .binary, .shift, .replace: (2, .v128)
            case .ternary: (3, .v128)
            case .test: (1, .i32)
            case .extract(let t, _): (1, IRType(t))
            default: preconditionFailure("SIMD shape")
            }
            let operands = pop(count)
            stack.append(emit(IRInst(
                op: .simd, type: result, a: operands[0], b: count > 1 ? operands[1] : .none, c: count > 2 ? operands[2] : .none,
                imm: UInt64(opcode), imm2: UInt64(lane), offset: at)))
        }
    }

    /// Unreachable code: only the nesting of constructs matters.
    mutating func deadCode(_ instruction: Instruction, validator: borrowing FunctionValidator) {
        switch instruction {
        case .block(let p, let r), .loop(let p, let r), .if(let p, let r), .tryTable(let p, let r):
            var c = Control(kind: .block, height: stack.count, paramCount: p, resultCount: r, target: -1)
            c.deadAtEntry = true
            controls.append(c)
        case .else:
            let c = controls[controls.count - 1]
            if !c.deadAtEntry, c.elseBlock >= 0 { enterElse() }
        case .end:
            let c = controls.removeLast()
            if c.deadAtEntry { return }
            if c.kind == .loop { loopDepth -= 1; seal(c.target); recordBypass(c, at: c.target); return }
            if c.kind == .function { return }
            if c.kind == .if, c.elseBlock >= 0 {
                // The then arm ended unreachable; the else arm passes the params on.
                jump(from: c.elseBlock, to: c.target, args: c.ifParams)
            }
            if c.kind == .tryTable { buildHandler(c) }
            continueAt(c)
        default:
            break
        }
    }

    mutating func enterElse() {
        let i = controls.count - 1
        let c = controls[i]
        stack.removeSubrange(c.height...)
        stack += c.ifParams
        current = c.elseBlock
        controls[i].elseBlock = -1
    }

    mutating func elseArm(from block: Int32) {
        let c = controls[controls.count - 1]
        jump(from: block, to: c.target, args: Array(stack[(stack.count - c.resultCount)...]))
        enterElse()
    }

    mutating func end(from block: Int32) {
        let c = controls.removeLast()
        switch c.kind {
        case .function:
            f.blocks[Int(block)].term = .ret(Array(stack[(stack.count - c.resultCount)...]))
            current = nil
        case .loop:
            loopDepth -= 1
            seal(c.target)  // every back edge is known now
            recordBypass(c, at: c.target)
        case .block, .if, .tryTable:
            jump(from: block, to: c.target, args: Array(stack[(stack.count - c.resultCount)...]))
            if c.kind == .if, c.elseBlock >= 0 {
                jump(from: c.elseBlock, to: c.target, args: c.ifParams)
            }
            if c.kind == .tryTable { buildHandler(c) }
            continueAt(c)
        }
    }

    /// After a block's `end`: code continues in its merge block (if anything reaches it).
    mutating func continueAt(_ c: Control) {
        seal(c.target)
        recordBypass(c, at: c.target)
        stack.removeSubrange(min(c.height, stack.count)...)
        if f.blocks[Int(c.target)].preds.isEmpty {
            current = nil
            // Keep the operand stack shape for the validator-driven code that follows (dead).
            return
        }
        current = c.target
        stack += f.blocks[Int(c.target)].params[0..<c.resultCount]
    }

    mutating func call(_ inst: IRInst, type: FuncType, extraArgs: [IRValue]) {
        var i = inst
        let resultTypes = type.results.map(IRType.init)
        let args = pop(type.params.count) + extraArgs
        i.extraStart = Int32(f.extra.count)
        i.extraCount = Int32(args.count)
        f.extra += args
        f.append(i, to: current!)
        for (k, t) in resultTypes.enumerated() {
            stack.append(f.append(IRInst(op: .callResult, type: t, imm: UInt64(k), offset: inst.offset), to: current!))
        }
        if let h = handler {
            // Inside a try_table: the block ends here, its landing block goes to the handler.
            let block = current!
            let next = newBlock()
            jump(from: block, to: next, args: [])
            seal(next)
            let landing = newBlock()
            f.blocks[Int(landing)].preds.append(block)
            f.blocks[Int(block)].unwind = landing
            seal(landing)
            f.append(IRInst(op: .landing, type: nil, offset: inst.offset), to: landing)
            jump(from: landing, to: h, args: [])
            current = next
        }
    }

    /// A tail call ends the block: the function leaves for the callee.
    mutating func tailCall(_ inst: IRInst, type: FuncType, extraArgs: [IRValue]) {
        var i = inst
        let args = pop(type.params.count) + extraArgs
        i.extraStart = Int32(f.extra.count)
        i.extraCount = Int32(args.count)
        f.extra += args
        f.append(i, to: current!)
        f.blocks[Int(current!)].term = .leave
        current = nil
    }

    mutating func builtin(_ b: Builtin, args n: Int, result: IRType?, immediates: [UInt32], offset: Int32) {
        let args = pop(n)
        var packed = UInt64(immediates.count) << 48
        for (k, v) in immediates.enumerated() { packed |= UInt64(v & 0xFFFF) << (16 * UInt64(k)) }
        if immediates.contains(where: { $0 > 0xFFFF }) {
            unsupported = WasmError(.unsupported, "an index above 65535 in a bulk operation")
            return
        }
        var i = IRInst(op: .builtin, type: result, imm: UInt64(b.rawValue), imm2: packed, offset: offset)
        i.extraStart = Int32(f.extra.count)
        i.extraCount = Int32(args.count)
        f.extra += args
        let v = f.append(i, to: current!)
        if result != nil { stack.append(v) }
    }

    // MARK: inlining

    /// Builds a call of a small leaf function as the callee's own code in this function:
    /// its body runs through a validator of its own with this builder as the sink, its locals
    /// start as the arguments and zeroes, its returns jump to a block after the call whose
    /// parameters are the results. Its blocks carry an inline tag, so trap sites in them name
    /// the callee (then this function at the call) in backtraces. Callees with loops, calls,
    /// runtime calls (bulk memory, tables, growth, conversions done by the runtime)
    /// are not inlined: the calls inlined add no call sites and no interrupt checks.
    mutating func inline(_ function: Int, at: Int32) throws(WasmError) -> Bool {
        guard let module, inlineTag == 0, function >= importedFunctionCount, inlinable[function] != false else { return false }
        let d = function - importedFunctionCount
        let extent = module.info.bodies[d]
        let size = extent.codeEnd - extent.localsStart
        guard size <= Self.inlineCalleeBytes, inlinedBytes + size <= Self.inlineBudget else { return false }
        // Decoded again: a body whose code came from the cache was never decoded past its extent.
        let body = try ModuleDecoder.decodeLocals(module.bytes, FunctionBody(
            locals: [], localsStart: extent.localsStart, codeStart: extent.localsStart, codeEnd: extent.codeEnd,
            bodyOffset: extent.bodyOffset))
        let type = module.info.types[Int(module.info.functionTypeIndices[d])]
        let locals = (type.params + body.locals).map(IRType.init)
        let results = type.results.map(IRType.init)
        if inlinable[function] == nil {
            var scan = InlineScan(context: context)
            var validator = FunctionValidator(module: context, body: body, type: type, bytes: module.bytes)
            try validator.run(sink: &scan)
            // A few bytes can declare thousands of locals: each inlined copy defines them all.
            inlinable[function] = scan.inlinable && locals.count <= Self.inlineCalleeLocals && function != f.functionIndex
        }
        guard inlinable[function] == true, let caller = current else { return false }
        inlinedBytes += size
        let args = pop(type.params.count)
        // The block after the call (the caller's), then the callee's entry.
        let after = newBlock()
        for t in results { _ = f.addParam(after, t) }
        f.inlines.append(IRInline(callee: Int32(function), callOffset: at))
        inlineTag = Int32(f.inlines.count)
        let entry = newBlock()
        jump(from: caller, to: entry, args: [])
        seal(entry)
        let base = localTypes.count
        localTypes += locals
        for (i, t) in locals.enumerated() { define(base + i, in: entry, i < args.count ? args[i] : zero(t)) }
        let saved = (stack: stack, controls: controls)
        stack = []
        controls = [Control(kind: .block, height: 0, paramCount: 0, resultCount: results.count, target: after)]
        localBase = base
        current = entry
        var validator = FunctionValidator(module: context, body: body, type: type, bytes: module.bytes)
        try validator.run(sink: &self)
        // The callee's last `end` continued at `after` (with the results on the stack), or
        // nothing reaches it (the callee always traps).
        inlineTag = 0
        localBase = 0
        controls = saved.controls
        stack = saved.stack + stack
        return true
    }

    // MARK: numeric

    /// Pushes the i32 quotient `q` of `x` by constant `d`, or the remainder x - q * d.
    mutating func quotientOrRemainder(_ q: IRValue, of x: IRValue, by d: UInt64, remainder: Bool) {
        guard remainder else { return stack.append(q) }
        let product = emit(IRInst(op: .mul, type: .i32, a: q, b: const(.i32, d)))
        stack.append(emit(IRInst(op: .sub, type: .i32, a: x, b: product)))
    }

    mutating func numeric(_ opcode: UInt16, offset: Int32) {
        func bin(_ op: IROp, _ t: IRType) {
            let b = pop(), a = pop()
            // Unsigned division and remainder by a nonzero constant cannot trap: by a power of
            // two a shift or a mask.
            if op == .divU || op == .remU, let bits = f.constant(b) {
                let d = t == .i32 ? bits & 0xFFFF_FFFF : bits
                if d != 0 && d & (d - 1) == 0 {
                    let reduced = op == .divU
                        ? IRInst(op: .shrU, type: t, a: a, b: const(t, UInt64(d.trailingZeroBitCount)), offset: offset)
                        : IRInst(op: .and, type: t, a: a, b: const(t, d - 1), offset: offset)
                    stack.append(emit(reduced))
                    return
                }
                if t == .i32 && d > 2 {
                    // By another 32-bit constant: the quotient is the high half of x times
                    // ceil(2^64 / d), exact for every 32-bit x (Lemire, Kaser and Kurz, "Faster
                    // remainder by direct computation", 2019); the remainder is x - q * d.
                    let wide = emit(IRInst(op: .zext, type: .i64, a: a, offset: offset))
                    let high = emit(IRInst(op: .mulhiU, type: .i64, a: wide, b: const(.i64, UInt64.max / d + 1), offset: offset))
                    quotientOrRemainder(emit(IRInst(op: .wrap, type: .i32, a: high, offset: offset)), of: a, by: d, remainder: op == .remU)
                    return
                }
            }
            if op == .divS || op == .remS, t == .i32, let bits = f.constant(b), Int32(truncatingIfNeeded: bits) >= 2 {
                // Signed i32 by a constant d >= 2 (never traps): the unsigned quotient of |x|
                // as above, given x's sign (truncating division); the remainder is x - q * d.
                let d = UInt64(Int32(truncatingIfNeeded: bits))
                let wide = emit(IRInst(op: .sext, type: .i64, a: a, offset: offset))
                let sign = emit(IRInst(op: .shrS, type: .i64, a: wide, b: const(.i64, 63), offset: offset))
                let magnitude = emit(IRInst(op: .sub, type: .i64,
                    a: emit(IRInst(op: .xor, type: .i64, a: wide, b: sign, offset: offset)), b: sign, offset: offset))
                let high = emit(IRInst(op: .mulhiU, type: .i64, a: magnitude, b: const(.i64, UInt64.max / d + 1), offset: offset))
                let signed = emit(IRInst(op: .sub, type: .i64,
                    a: emit(IRInst(op: .xor, type: .i64, a: high, b: sign, offset: offset)), b: sign, offset: offset))
                quotientOrRemainder(emit(IRInst(op: .wrap, type: .i32, a: signed, offset: offset)), of: a, by: d, remainder: op == .remS)
                return
            }
            // A negation times a constant is the operand times the negated constant (C's
            // `p - i * k` often arrives as (0 - i) * k): one instruction, off the negation's chain.
            if op == .mul, let k = f.constant(b), let negation = f.def(a), negation.op == .sub,
               let zero = f.constant(negation.a), zero & Simplifier.mask(t) == 0 {
                stack.append(emit(IRInst(op: .mul, type: t, a: negation.b, b: const(t, (0 &- k) & Simplifier.mask(t)), offset: offset)))
                return
            }
            stack.append(emit(IRInst(op: op, type: t, a: a, b: b, offset: offset)))
        }
        func un(_ op: IROp, _ t: IRType) {
            let a = pop()
            stack.append(emit(IRInst(op: op, type: t, a: a, offset: offset)))
        }
        func cmp(_ c: IRCond) {
            let b = pop(), a = pop()
            stack.append(emit(IRInst(op: .cmp, type: .i32, a: a, b: b, imm: UInt64(c.rawValue))))
        }
        let intConds: [IRCond] = [.eq, .ne, .ltS, .ltU, .gtS, .gtU, .leS, .leU, .geS, .geU]
        let floatConds: [IRCond] = [.eq, .ne, .flt, .fgt, .fle, .fge]
        let intOps: [IROp] = [.clz, .ctz, .popcnt, .add, .sub, .mul, .divS, .divU, .remS, .remU,
                              .and, .or, .xor, .shl, .shrS, .shrU, .rotl, .rotr]
        let floatOps: [IROp] = [.fabs, .fneg, .fceil, .ffloor, .ftrunc, .fnearest, .fsqrt,
                                .fadd, .fsub, .fmul, .fdiv, .fmin, .fmax, .fcopysign]
        switch opcode {
        case 0x45: un(.eqz, .i32)
        case 0x50: un(.eqz, .i32)
        case 0x46...0x4F: cmp(intConds[Int(opcode - 0x46)])
        case 0x51...0x5A: cmp(intConds[Int(opcode - 0x51)])
        case 0x5B...0x60: cmp(floatConds[Int(opcode - 0x5B)])
        case 0x61...0x66: cmp(floatConds[Int(opcode - 0x61)])
        case 0x67...0x69: un(intOps[Int(opcode - 0x67)], .i32)
        case 0x6A...0x78: bin(intOps[Int(opcode - 0x67)], .i32)
        case 0x79...0x7B: un(intOps[Int(opcode - 0x79)], .i64)
        case 0x7C...0x8A: bin(intOps[Int(opcode - 0x79)], .i64)
        case 0x8B...0x91: un(floatOps[Int(opcode - 0x8B)], .f32)
        case 0x92...0x98: bin(floatOps[Int(opcode - 0x8B)], .f32)
        case 0x99...0x9F: un(floatOps[Int(opcode - 0x99)], .f64)
        case 0xA0...0xA6: bin(floatOps[Int(opcode - 0x99)], .f64)
        case 0xA7: un(.wrap, .i32)
        case 0xAC: un(.sext, .i64)
        case 0xAD: un(.zext, .i64)
        case 0xB2: un(.sitofp, .f32)
        case 0xB3: un(.uitofp32, .f32)
        case 0xB4: un(.sitofp, .f32)
        case 0xB6: un(.fdemote, .f32)
        case 0xB7: un(.sitofp, .f64)
        case 0xB8: un(.uitofp32, .f64)
        case 0xB9: un(.sitofp, .f64)
        case 0xBB: un(.fpromote, .f64)
        case 0xBC: un(.bitcast, .i32)
        case 0xBD: un(.bitcast, .i64)
        case 0xBE: un(.bitcast, .f32)
        case 0xBF: un(.bitcast, .f64)
        case 0xC0: un(.extend8S, .i32)
        case 0xC1: un(.extend16S, .i32)
        case 0xC2: un(.extend8S, .i64)
        case 0xC3: un(.extend16S, .i64)
        case 0xC4: un(.extend32S, .i64)
        default:
            // Float-to-int truncations (trapping and saturating) and u64-to-float: the runtime's
            // conversion.
            let sig = NumericSignature.of(opcode)!
            let a = pop()
            let v = f.append(IRInst(op: .convert, type: IRType(sig.result), a: a, imm: UInt64(opcode), offset: offset), to: current!)
            stack.append(v)
        }
    }

    // MARK: finishing

    /// The finished function: trivial block parameters removed.
    mutating func finish() -> IRFunction {
        if let h = selfLoop { seal(h) }  // every self tail call is known now
        precondition(incomplete.isEmpty, "unsealed blocks at the end of the body")
        if osrLoop != nil {
            // Only what the entry reaches: the code before the loop goes.
            var reachable = [Bool](repeating: false, count: f.blocks.count)
            for b in IRPasses.reversePostorder(f) { reachable[Int(b)] = true }
            for b in f.blocks.indices where reachable[b] { f.blocks[b].preds.removeAll { !reachable[Int($0)] } }
        }
        IRPasses.removeTrivialParams(&f)
        return f
    }

    /// The target loop of an OSR entry (see `osrLoop`): its header takes every operand-stack
    /// value; the entry block loads them and the locals from the moved frame and jumps there.
    mutating func osrEntryLoop(_ p: Int, _ r: Int, validator: borrowing FunctionValidator, offset at: Int32) {
        let block = current!
        let height = stack.count
        var types: [IRType] = []
        for k in 0..<height {
            let t = validator.values[k]
            guard t != .unknown else { unsupported = WasmError(.unsupported, "an operand of unknown type at the loop"); return }
            types.append(IRType(t))
        }
        loopDepth += 1
        let header = newBlock()
        f.blocks[Int(header)].isLoopHeader = true
        f.blocks[Int(header)].wasmOffset = at
        var params: [IRValue] = []
        for t in types { params.append(f.addParam(header, t)) }
        jump(from: block, to: header, args: stack)
        // The entry: locals from the frame's local slots (`imm2` 1), the operand stack from
        // its value-stack slots (`imm2` 2).
        for i in 0..<ownLocalCount {
            define(i, in: 0, f.append(IRInst(op: .param, type: localTypes[i], imm: UInt64(i), imm2: 1), to: 0))
        }
        var loaded: [IRValue] = []
        for (h, t) in types.enumerated() { loaded.append(f.append(IRInst(op: .param, type: t, imm: UInt64(h), imm2: 2), to: 0)) }
        jump(from: 0, to: header, args: loaded)
        stack = params
        osrBelow = Array(params[0..<(height - p)])
        osrHeader = header
        current = header
        f.append(IRInst(op: .interruptCheck, type: nil, offset: at), to: header)
        controls.append(Control(kind: .loop, height: height - p, paramCount: p, resultCount: r, target: header))
    }
}

/// Decides whether a callee may be inlined (`IRBuilder.inline`): straight-line and branching
/// code over locals, globals and memory (SIMD included), without loops, calls or runtime calls.
struct InlineScan: CodeSink {
    let context: ModuleContext
    var inlinable = true

    mutating func visit(_ instruction: Instruction, offset: Int, validator: borrowing FunctionValidator) throws(WasmError) {
        switch instruction {
        case .nop, .else, .end, .br, .brIf, .brTable, .return, .drop, .select, .localGet, .localSet, .localTee,
             .memorySize, .refIsNull, .unreachable, .block, .if, .globalGet, .globalSet, .load, .store, .const, .refNull, .simd:
            break
        case .numeric(let opcode):
            // Not the conversions the runtime does (float-to-int truncations, u64-to-float).
            if opcode > 0xFF || (0xA8...0xBA).contains(opcode) && ![0xAC, 0xAD, 0xB2, 0xB3, 0xB4, 0xB6, 0xB7, 0xB8, 0xB9].contains(opcode) {
                inlinable = false
            }
        default:
            inlinable = false
        }
    }
}
