import CStrata
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instance of a module in a store, as the embedder holds it. The handle keeps its store
/// alive; the store owns the instance's runtime state, which function references in shared
/// tables may point into.
public final class Instance {
    public let store: Store
    let runtime: InstanceRuntime

    init(store: Store, runtime: InstanceRuntime) {
        self.store = store
        self.runtime = runtime
    }

    public var module: Module { runtime.module }
    public var exportNames: [String] { runtime.module.info.exports.map(\.name) }
    public var globals: [Global] { runtime.globals }
    public var tables: [Table] { runtime.tables }
    public var memories: [Memory] { runtime.memories }
    public var tags: [Tag] { runtime.tags }

    public func export(_ name: String) -> Extern? { runtime.export(name) }

    public func function(_ name: String) -> Function? {
        if case .function(let f)? = export(name) { return f }
        return nil
    }
    public func memory(_ name: String) -> Memory? {
        if case .memory(let m)? = export(name) { return m }
        return nil
    }
    public func global(_ name: String) -> Global? {
        if case .global(let g)? = export(name) { return g }
        return nil
    }
    public func table(_ name: String) -> Table? {
        if case .table(let t)? = export(name) { return t }
        return nil
    }
    public func tag(_ name: String) -> Tag? {
        if case .tag(let t)? = export(name) { return t }
        return nil
    }
}

/// The runtime state of an instance: its functions, tables, memories and globals, and the VM
/// context compiled code reads them through. Owned by its store.
final class InstanceRuntime {
    let module: Module
    unowned let store: Store
    let vmctx: UnsafeMutablePointer<StrataVMContext>
    /// The VM context's allocation, with the defined globals' cells and the defined functions'
    /// references after it (`VMContextLayout`); the defined globals keep it too.
    private let storage: InstanceStorage
    /// One funcref per function (imports first).
    private let functionRefs: UnsafeMutablePointer<UnsafeMutablePointer<StrataFuncRef>?>
    /// Records of this instance's defined functions.
    private let ownRefs: UnsafeMutablePointer<StrataFuncRef>
    private let globalCells: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>
    private let tableDefinitions: UnsafeMutablePointer<UnsafeMutablePointer<StrataTableDefinition>?>
    private let memoryDefinitions: UnsafeMutablePointer<UnsafeMutablePointer<StrataMemoryDefinition>?>
    private(set) var globals: [Global] = []
    private(set) var tables: [Table] = []
    private(set) var memories: [Memory] = []
    /// Tags, imports first (exception handling).
    private(set) var tags: [Tag] = []
    private var importedFunctionCount = 0
    /// Imported functions of other stores, kept alive with this instance. Those of its own
    /// store are not retained here: the store keeps its host functions and instances, and a
    /// `Function` holds its store, so retaining them would keep the store alive forever.
    private var otherStoresFunctions: [Function] = []
    private var elementSegments: [[Slot]] = []
    private var dataDropped: [Bool] = []

    init(module: Module, store: Store, imports: [Extern]) throws {
        self.module = module
        self.store = store
        let info = module.info
        let fCount = info.functionCount
        let definedGlobals = info.globals.count, definedFunctions = info.functionTypeIndices.count
        // (Room for one reference at least: `ownRefs` is bound for one when there are none.)
        storage = try InstanceStorage(byteCount: VMContextLayout.instanceBytes(definedGlobals: definedGlobals, definedFunctions: max(definedFunctions, 1)))
        vmctx = storage.base.bindMemory(to: StrataVMContext.self, capacity: 1)
        vmctx.initialize(to: StrataVMContext())
        functionRefs = .allocate(capacity: max(fCount, 1))
        functionRefs.initialize(repeating: nil, count: max(fCount, 1))
        ownRefs = (storage.base + Int(VMContextLayout.definedFunctionReference(0, definedGlobals: definedGlobals)))
            .bindMemory(to: StrataFuncRef.self, capacity: max(definedFunctions, 1))
        globalCells = .allocate(capacity: max(info.globalCount, 1))
        globalCells.initialize(repeating: nil, count: max(info.globalCount, 1))
        tableDefinitions = .allocate(capacity: max(info.tableCount, 1))
        tableDefinitions.initialize(repeating: nil, count: max(info.tableCount, 1))
        memoryDefinitions = .allocate(capacity: max(info.memoryCount, 1))
        memoryDefinitions.initialize(repeating: nil, count: max(info.memoryCount, 1))

        // 1. Imports: count, kinds and types.
        guard imports.count == info.imports.count else {
            throw WasmError(.unlinkable, "expected \(info.imports.count) imports, got \(imports.count)")
        }
        for (imp, ext) in zip(info.imports, imports) {
            try Self.checkImport(imp, ext, engine: module.engine, module: module)
            switch ext {
            case .function(let f):
                functionRefs[importedFunctionCount] = f.reference
                importedFunctionCount += 1
                if f.store !== store { otherStoresFunctions.append(f) }
            case .table(let t): tables.append(t)
            case .memory(let m): memories.append(m)
            case .global(let g): globals.append(g)
            case .tag(let t): tags.append(t)
            }
        }
        // Runtime objects carry canonical types (concrete heap types as engine-wide ids).
        let typeIDs = UnsafePointer(module.typeIDs)
        for t in info.tags { tags.append(Tag(type: info.types[Int(t)].canonicalized(typeIDs))) }

        // 2. Defined functions: their references, written in chunks on every core (fresh pages:
        //    48 bytes per function, 2.2 MB for the 46,000 of a large program).
        let importCount = info.importedFunctionTypes.count
        let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
        let (refs, table, context) = (ownRefs, functionRefs, vmctx)
        let (moduleTypeIDs, entries, signatures) = (UnsafePointer(module.typeIDs), module.entryTable, module.callSignatures)
        let typeIndices = info.functionTypeIndices
        forEachChunk(count: typeIndices.count, chunk: 8192) { range in
            for i in range {
                let typeIndex = Int(typeIndices[i])
                (refs + i).initialize(to: StrataFuncRef(
                    typeID: moduleTypeIDs[typeIndex], functionIndex: UInt32(importCount + i),
                    vmctx: UnsafeMutableRawPointer(context), owner: opaqueSelf,
                    entrySlot: UnsafePointer(entries + i), signature: signatures.pointer(typeIndex),
                    directEntry: nil))
                table[importCount + i] = refs + i
            }
        }
        // Their direct entries follow the entry slots from now on (`Module.publish`).
        module.registerReferences(ownRefs)

        // 3. Globals (initializers read imported globals and function references).
        for g in info.globals {
            let high: Slot = switch g.initializer {
            case .v128(_, let hi): hi
            case .globalGet(let source): globals[Int(source)].cell[1]
            default: 0
            }
            let type = GlobalType(value: g.type.value.canonicalized(typeIDs), mutable: g.type.mutable)
            let cell = (storage.base + Int(VMContextLayout.definedGlobalCell(globals.count - info.importedGlobals.count)))
                .bindMemory(to: UInt64.self, capacity: wordsPerSlot)
            globals.append(Global(type: type, store: store, cell: cell, owner: storage, low: try evaluate(g.initializer), high: high))
        }
        for (i, g) in globals.enumerated() { globalCells[i] = g.cell }

        // 4. Tables and memories.
        for (t, initializer) in zip(info.tables, info.tableInitializers) {
            let type = TableType(element: t.element.canonicalized(typeIDs), limits: t.limits, is64: t.is64)
            tables.append(try Table(type: type, initial: try initializer.map { e throws(WasmError) in try evaluate(e) } ?? 0))
        }
        for (i, t) in tables.enumerated() { tableDefinitions[i] = t.definition }
        for m in info.memories { memories.append(try Memory(type: m)) }
        for (i, m) in memories.enumerated() { memoryDefinitions[i] = m.definition }

        vmctx.pointee.memory0 = memories.first?.definition
        vmctx.pointee.memory0Base = memories.first?.definition.pointee.base
        vmctx.pointee.memories = memoryDefinitions
        vmctx.pointee.globals = globalCells
        vmctx.pointee.tables = tableDefinitions
        vmctx.pointee.functions = functionRefs
        vmctx.pointee.entryTable = UnsafeMutablePointer(mutating: module.entryTable).withMemoryRebound(
            to: Optional<UnsafeRawPointer>.self, capacity: 1) { $0 }
        vmctx.pointee.typeIDs = module.typeIDs
        vmctx.pointee.instance = opaqueSelf
        // Compiled code (now, or after tier-up) reaches the runtime through the builtin table.
        if module.engine.configuration.tier != .interpreter, case .success(let runtime) = JITRuntime.shared {
            vmctx.pointee.builtins = UnsafePointer(runtime.builtins)
            vmctx.pointee.tailCall = store.tailCallArea
            if memories.contains(where: { !$0.isGuarded }) {
                throw WasmError(.uninstantiable, "compiled code needs every memory in a guarded 8 GiB reservation (address space is short)")
            }
        }

        // 5. Segments.
        for seg in info.elements {
            var items: [Slot] = []
            items.reserveCapacity(seg.items.count)
            for item in seg.items { items.append(try evaluate(item)) }
            elementSegments.append(items)
        }
        dataDropped = Array(repeating: false, count: info.data.count)

        // The store keeps the instance alive from here on: its function references may
        // already sit in shared tables.
        store.instances.append(self)
        if module.engine.configuration.tier != .interpreter { store.interruptHandle.attach(vmctx) }

        for (i, seg) in info.elements.enumerated() {
            switch seg.mode {
            case .active(let table, let offsetExpr):
                // A 64-bit table's offset saturates: tables hold far fewer than 2^32 - 1
                // elements (`Table.maxElements`), so 2^32 - 1 is out of bounds like the offset.
                let value = try evaluate(offsetExpr)
                let offset = tables[Int(table)].type.is64 ? UInt32(min(value, UInt64(UInt32.max))) : UInt32(truncatingIfNeeded: value)
                if let kind = tableInit(table: Int(table), segment: i, dst: offset, src: 0, count: UInt32(seg.items.count)) {
                    throw Trap(kind)
                }
                elemDrop(i)
            case .declarative:
                elemDrop(i)
            case .passive:
                break
            }
        }
        try initializeData(info)

        // 6. Start function.
        if let start = info.start {
            _ = try Function(store: store, reference: functionRefs[Int(start)]!).call([])
        }
    }

    deinit {
        module.unregisterReferences(ownRefs)
        functionRefs.deallocate()
        globalCells.deallocate()
        tableDefinitions.deallocate()
        memoryDefinitions.deallocate()
    }

    static func checkImport(_ imp: Import, _ ext: Extern, engine: Engine, module: Module) throws(WasmError) {
        func fail(_ reason: String = "incompatible import type") -> WasmError {
            WasmError(.unlinkable, "\(reason) for \"\(imp.module)\" \"\(imp.name)\"", offset: imp.offset)
        }
        func limitsMatch(_ actual: Limits, _ expected: Limits) -> Bool {
            guard actual.min >= expected.min else { return false }
            if let emax = expected.max {
                guard let amax = actual.max, amax <= emax else { return false }
            }
            return true
        }
        // Types compare as canonical types: the import's concrete heap types by their ids.
        let typeIDs = UnsafePointer(module.typeIDs)
        switch (imp.descriptor, ext) {
        case (.function(let t), .function(let f)):
            guard f.reference.pointee.typeID == typeIDs[Int(t)] else { throw fail() }
        case (.table(let expected), .table(let t)):
            let actual = TableType(element: t.type.element, limits: Limits(min: UInt64(t.count), max: t.type.limits.max))
            guard t.type.is64 == expected.is64, actual.element == expected.element.canonicalized(typeIDs),
                  limitsMatch(actual.limits, expected.limits) else { throw fail() }
        case (.memory(let expected), .memory(let m)):
            guard m.type.is64 == expected.is64, limitsMatch(Limits(min: m.pages, max: m.type.limits.max), expected.limits) else { throw fail() }
        case (.global(let expected), .global(let g)):
            // Immutable globals are covariant, mutable ones invariant.
            let value = expected.value.canonicalized(typeIDs)
            guard g.type.mutable == expected.mutable,
                  expected.mutable ? g.type.value == value : g.type.value.matches(value) else { throw fail() }
        case (.tag(let typeIndex), .tag(let t)):
            guard t.type == module.info.types[Int(typeIndex)].canonicalized(typeIDs) else { throw fail() }
        default:
            throw fail()
        }
    }

    /// Evaluates a constant expression in this instance (the low word; `v128` keeps its high
    /// word in the expression).
    func evaluate(_ e: ConstExpr) throws(WasmError) -> Slot {
        switch e {
        case .i32(let v): return UInt64(UInt32(bitPattern: v))
        case .i64(let v): return UInt64(bitPattern: v)
        case .f32(let v): return UInt64(v)
        case .f64(let v): return v
        case .v128(let lo, _): return lo
        case .refNull: return 0
        case .refFunc(let f): return UInt64(UInt(bitPattern: functionRefs[Int(f)]))
        case .globalGet(let g): return globals[Int(g)].cell.pointee
        case .binary(let op, let a, let b): return op.apply(try evaluate(a), try evaluate(b))
        }
    }

    // MARK: exports

    func export(_ name: String) -> Extern? {
        guard let e = module.info.exports.first(where: { $0.name.utf8.elementsEqual(name.utf8) }) else { return nil }
        return extern(kind: e.kind, index: Int(e.index))
    }

    func extern(kind: ExternalKind, index: Int) -> Extern {
        switch kind {
        case .function: .function(Function(store: store, reference: functionRefs[index]!))
        case .table: .table(tables[index])
        case .memory: .memory(memories[index])
        case .global: .global(globals[index])
        case .tag: .tag(tags[index])
        }
    }


    // MARK: runtime operations shared by all tiers

    func growMemory0(by delta: UInt64) -> UInt64? {
        memories.first?.grow(by: delta)
    }

    func growMemory(_ memory: Int, by delta: UInt64) -> UInt64? {
        memories[memory].grow(by: delta)
    }

    func memoryInit(segment: Int, dst: UInt32, src: UInt32, count: UInt32) -> TrapKind? {
        memoryInit(segment: segment, memory: 0, dst: UInt64(dst), src: src, count: count)
    }

    /// `memory.init` on any memory (`dst` is a 64-bit address for 64-bit memories).
    func memoryInit(segment: Int, memory: Int, dst: UInt64, src: UInt32, count: UInt32) -> TrapKind? {
        let range = dataDropped[segment] ? 0..<0 : module.info.data[segment].bytes
        guard memory < memories.count else { return .memoryOutOfBounds }
        let mem = memories[memory]
        guard UInt64(src) + UInt64(count) <= UInt64(range.count),
              dst <= UInt64(mem.byteCount), UInt64(count) <= UInt64(mem.byteCount) - dst else { return .memoryOutOfBounds }
        if count > 0 {
            module.bytes.withUnsafeBufferPointer { b in
                (mem.definition.pointee.base + Int(dst)).update(from: b.baseAddress! + range.lowerBound + Int(src), count: Int(count))
            }
        }
        return nil
    }

    func dataDrop(_ segment: Int) { dataDropped[segment] = true }

    /// Instantiation's step for the active data segments: each copied into its memory in order
    /// (`memory.init`, then dropped), the first out of bounds a trap. One segment's whole
    /// pages may be mapped copy-on-write from the file the module's bytes are mapped from
    /// (the code cache's copy of the module file, which lays the largest segment out for it,
    /// `ModuleCopies`) instead of copied: when its file offset and address agree modulo the
    /// page size, every segment lies inside its memory (so none traps), and no other active
    /// segment touches those pages (so the order of the writes cannot matter there). The
    /// bytes of the memory are the same.
    private func initializeData(_ info: ModuleInfo) throws {
        var targets: [(segment: Int, memory: Int, dst: UInt64)] = []
        for (i, seg) in info.data.enumerated() {
            if case .active(let memory, let offsetExpr) = seg.mode {
                let value = try evaluate(offsetExpr)
                targets.append((i, Int(memory), memories[Int(memory)].type.is64 ? value : UInt64(UInt32(truncatingIfNeeded: value))))
            }
        }
        var mapped: (segment: Int, pages: Range<UInt64>)?
        if targets.count > 0, let file = module.bytes.openFile() {
            defer { close(file.descriptor) }
            let page = UInt64(ModuleCopies.pageSize)
            let largest = targets.max { info.data[$0.segment].bytes.count < info.data[$1.segment].bytes.count }!
            let bytes = info.data[largest.segment].bytes
            let fileStart = UInt64(file.offset + bytes.lowerBound)
            let mem = memories[largest.memory]
            // Inside the memory (at most 4 GiB), so nothing below overflows.
            let inside = largest.dst <= UInt64(mem.byteCount) && UInt64(bytes.count) <= UInt64(mem.byteCount) - largest.dst
            // Its whole pages: none for a segment within one page or two (the first whole page
            // would start after the last one ends). Computed only inside the memory: a 64-bit
            // offset out of bounds could overflow.
            var pages: Range<UInt64> = 0..<0
            if inside {
                let first = (largest.dst + page - 1) / page * page, end = (largest.dst + UInt64(bytes.count)) / page * page
                if first < end { pages = first..<end }
            }
            if inside, fileStart % page == largest.dst % page, pages.lowerBound < pages.upperBound,
               targets.allSatisfy({ t in
                   // In bounds (no trap: nothing after a failing segment may be written) and
                   // apart from the mapped pages.
                   let r = info.data[t.segment].bytes, size = UInt64(memories[t.memory].byteCount)
                   return t.dst <= size && UInt64(r.count) <= size - t.dst
                       && (t.segment == largest.segment || t.memory != largest.memory || t.dst >= pages.upperBound
                           || t.dst + UInt64(r.count) <= pages.lowerBound || r.isEmpty)
               }),
               mem.mapCopyOnWrite(at: Int(pages.lowerBound), count: Int(pages.upperBound - pages.lowerBound), file: file.descriptor,
                                  fileOffset: Int(fileStart + (pages.lowerBound - largest.dst))) {
                mapped = (largest.segment, pages)
            }
        }
        for t in targets {
            let count = UInt64(info.data[t.segment].bytes.count)
            if let m = mapped, m.segment == t.segment {
                // The bytes before and after the mapped pages.
                let head = m.pages.lowerBound - t.dst, tailStart = m.pages.upperBound - t.dst
                if let kind = memoryInit(segment: t.segment, memory: t.memory, dst: t.dst, src: 0, count: UInt32(head))
                    ?? memoryInit(segment: t.segment, memory: t.memory, dst: t.dst + tailStart, src: UInt32(tailStart), count: UInt32(count - tailStart)) {
                    throw Trap(kind)
                }
            } else if let kind = memoryInit(segment: t.segment, memory: t.memory, dst: t.dst, src: 0, count: UInt32(count)) {
                throw Trap(kind)
            }
            dataDrop(t.segment)
        }
    }

    func tableInit(table: Int, segment: Int, dst: UInt32, src: UInt32, count: UInt32) -> TrapKind? {
        let items = elementSegments[segment]
        let t = tables[table]
        guard UInt64(src) + UInt64(count) <= UInt64(items.count),
              UInt64(dst) + UInt64(count) <= UInt64(t.count) else { return .tableOutOfBounds }
        for i in 0..<Int(count) { t.elements[Int(dst) + i] = items[Int(src) + i] }
        return nil
    }

    func elemDrop(_ segment: Int) { elementSegments[segment] = [] }

    func tableCopy(dstTable: Int, srcTable: Int, dst: UInt32, src: UInt32, count: UInt32) -> TrapKind? {
        let d = tables[dstTable], s = tables[srcTable]
        guard UInt64(src) + UInt64(count) <= UInt64(s.count),
              UInt64(dst) + UInt64(count) <= UInt64(d.count) else { return .tableOutOfBounds }
        (d.elements + Int(dst)).update(from: s.elements + Int(src), count: 0)
        UnsafeMutableRawPointer(d.elements + Int(dst)).copyMemory(
            from: UnsafeRawPointer(s.elements + Int(src)), byteCount: Int(count) * 8)
        return nil
    }

    func tableGrow(table: Int, initial: Slot, delta: UInt32) -> UInt64? {
        tables[table].grow(by: UInt64(delta), initial: initial)
    }

    func tableFill(table: Int, start: UInt32, value: Slot, count: UInt32) -> TrapKind? {
        let t = tables[table]
        guard UInt64(start) + UInt64(count) <= UInt64(t.count) else { return .tableOutOfBounds }
        (t.elements + Int(start)).update(repeating: value, count: Int(count))
        return nil
    }
}

/// Resolves imports by module and field name.
public final class Linker {
    /// Keyed by the names' bytes: Wasm names compare as bytes, not as Unicode strings.
    private var definitions: [[UInt8]: [[UInt8]: Extern]] = [:]
    public init() {}

    public func define(_ module: String, _ name: String, _ extern: Extern) {
        definitions[Array(module.utf8), default: [:]][Array(name.utf8)] = extern
    }

    /// Defines every export of `instance` under the module name `name`.
    public func define(instance: Instance, as name: String) {
        for e in instance.module.info.exports {
            define(name, e.name, instance.runtime.extern(kind: e.kind, index: Int(e.index)))
        }
    }

    /// Defines a host function.
    public func defineFunction(
        _ module: String, _ name: String, store: Store, type: FuncType,
        _ body: @escaping (Caller, [Value]) throws -> [Value]
    ) {
        define(module, name, .function(Function(store: store, type: type, body)))
    }

    public func resolve(_ module: Module) throws(WasmError) -> [Extern] {
        var result: [Extern] = []
        for imp in module.info.imports {
            guard let e = definitions[Array(imp.module.utf8)]?[Array(imp.name.utf8)] else {
                throw WasmError(.unlinkable, "unknown import \"\(imp.module)\" \"\(imp.name)\"", offset: imp.offset)
            }
            result.append(e)
        }
        return result
    }

    public func instantiate(_ module: Module, in store: Store) throws -> Instance {
        try store.instantiate(module, imports: try resolve(module))
    }
}

/// The memory of an instance's VM context and what follows it (zeroed): freed when neither the
/// instance nor any of its defined globals (which the host or other instances may hold longer)
/// is left. A mapping of its own whose first page is the context's interrupt page
/// (`VMContextLayout.interruptPage`): read-only, never written, made unreadable while an
/// interrupt is pending (`InterruptHandle`, which a store detaches before its instances go).
final class InstanceStorage {
    let base: UnsafeMutableRawPointer
    private let mapping: UnsafeMutableRawPointer
    private let mappingBytes: Int

    init(byteCount: Int) throws(WasmError) {
        let page = VMContextLayout.interruptPageBytes
        mappingBytes = page + (max(byteCount, 16) + page - 1) / page * page
        guard let p = mmap(nil, mappingBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw WasmError(.uninstantiable, "cannot map \(mappingBytes) bytes for the instance's VM context")
        }
        mapping = p
        base = p + page
        _ = mprotect(p, page, PROT_READ)
        adviseHugePages(base, bytes: mappingBytes - page)  // a large module's function references
    }
    deinit { munmap(mapping, mappingBytes) }

    /// Makes a VM context's interrupt page unreadable (an interrupt is pending) or readable.
    static func setInterruptPage(of vmctx: UnsafeMutablePointer<StrataVMContext>, pending: Bool) {
        let page = UnsafeMutableRawPointer(vmctx) + Int(VMContextLayout.interruptPage)
        _ = mprotect(page, VMContextLayout.interruptPageBytes, pending ? PROT_NONE : PROT_READ)
    }
}
