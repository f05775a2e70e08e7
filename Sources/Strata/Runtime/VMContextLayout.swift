import CStrata

/// Offsets compiled code uses to reach the VM context and the blocks it points to: the one
/// source of truth, read from the C declarations in `CStrata.h` (never written as literals in
/// a compiler).
enum VMContextLayout {
    static let memory0 = Int32(MemoryLayout<StrataVMContext>.offset(of: \.memory0)!)
    static let globals = Int32(MemoryLayout<StrataVMContext>.offset(of: \.globals)!)
    static let tables = Int32(MemoryLayout<StrataVMContext>.offset(of: \.tables)!)
    static let functions = Int32(MemoryLayout<StrataVMContext>.offset(of: \.functions)!)
    static let entryTable = Int32(MemoryLayout<StrataVMContext>.offset(of: \.entryTable)!)
    static let typeIDs = Int32(MemoryLayout<StrataVMContext>.offset(of: \.typeIDs)!)
    static let stackLimit = Int32(MemoryLayout<StrataVMContext>.offset(of: \.stackLimit)!)
    static let builtins = Int32(MemoryLayout<StrataVMContext>.offset(of: \.builtins)!)
    static let memories = Int32(MemoryLayout<StrataVMContext>.offset(of: \.memories)!)
    static let tailCall = Int32(MemoryLayout<StrataVMContext>.offset(of: \.tailCall)!)
    static let memory0Base = Int32(MemoryLayout<StrataVMContext>.offset(of: \.memory0Base)!)

    /// The interrupt page: the page right before every VM context (`InstanceStorage`), readable
    /// while no interrupt is pending and unreadable while one is, so a loop polls with one read.
    static let interruptPageBytes = 4096
    static let interruptPage = Int32(-interruptPageBytes)

    /// An instance's VM context is followed, in the same allocation, by the cells of the
    /// module's defined globals (16 bytes each, in index order) and then the references of its
    /// defined functions (`StrataFuncRef`, in index order), so compiled code reaches a defined
    /// global's value and a defined function's direct entry with one load from the VM context.
    static let size = Int(MemoryLayout<StrataVMContext>.stride)
    static let globalCellSize = 16
    static func definedGlobalCell(_ k: Int) -> Int32 { Int32(size + globalCellSize * k) }
    static func definedFunctionReference(_ k: Int, definedGlobals: Int) -> Int32 {
        Int32(size + globalCellSize * definedGlobals + MemoryLayout<StrataFuncRef>.stride * k)
    }
    /// Bytes of an instance's VM context with what follows it.
    static func instanceBytes(definedGlobals: Int, definedFunctions: Int) -> Int {
        size + globalCellSize * definedGlobals + MemoryLayout<StrataFuncRef>.stride * definedFunctions
    }

    /// StrataMemoryDefinition
    static let memoryBase = Int32(MemoryLayout<StrataMemoryDefinition>.offset(of: \.base)!)
    static let memoryByteSize = Int32(MemoryLayout<StrataMemoryDefinition>.offset(of: \.byteSize)!)
    /// StrataTableDefinition
    static let tableElements = Int32(MemoryLayout<StrataTableDefinition>.offset(of: \.elements)!)
    static let tableCount = Int32(MemoryLayout<StrataTableDefinition>.offset(of: \.count)!)
    /// StrataFuncRef
    static let funcRefTypeID = Int32(MemoryLayout<StrataFuncRef>.offset(of: \.typeID)!)
    static let funcRefVMContext = Int32(MemoryLayout<StrataFuncRef>.offset(of: \.vmctx)!)
    static let funcRefEntrySlot = Int32(MemoryLayout<StrataFuncRef>.offset(of: \.entrySlot)!)
    static let funcRefDirectEntry = Int32(MemoryLayout<StrataFuncRef>.offset(of: \.directEntry)!)
    /// StrataTailCall
    static let tailCallCallee = Int32(MemoryLayout<StrataTailCall>.offset(of: \.callee)!)
    static let tailCallWords = Int32(MemoryLayout<StrataTailCall>.offset(of: \.words)!)
    static let tailCallSlots = Int32(MemoryLayout<StrataTailCall>.offset(of: \.slots)!)
    /// FunctionCode: the native entry is its first field.
    static let recordNativeEntry: Int32 = 0
    static let recordKind = Int32(MemoryLayout<FunctionCode>.offset(of: \.kind)!)
    static let recordTailEntry = Int32(MemoryLayout<FunctionCode>.offset(of: \.tailEntry)!)
}
