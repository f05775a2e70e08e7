/// The type of an import or export, as an embedder sees it (the C API's reflection, for one).
public enum ExternType: Sendable, Hashable {
    case function(FuncType)
    case table(TableType)
    case memory(MemoryType)
    case global(GlobalType)
    /// An exception tag: its parameters (results are empty).
    case tag(FuncType)
}

extension Module {
    /// Each import's module, name and type, in the module's import order.
    public var importTypes: [(module: String, name: String, type: ExternType)] {
        info.imports.map { i in
            let type: ExternType = switch i.descriptor {
            case .function(let t): .function(info.types[Int(t)])
            case .table(let t): .table(t)
            case .memory(let t): .memory(t)
            case .global(let t): .global(t)
            case .tag(let t): .tag(info.types[Int(t)])
            }
            return (i.module, i.name, type)
        }
    }

    /// Each export's name and type, in the module's export order.
    public var exportTypes: [(name: String, type: ExternType)] {
        info.exports.map { e in
            let i = Int(e.index)
            let type: ExternType = switch e.kind {
            case .function: .function(info.functionType(i))
            case .table: .table(info.tableType(i))
            case .memory: .memory(info.memoryType(i))
            case .global: .global(info.globalType(i))
            case .tag: .tag(info.types[Int(i < info.importedTags.count ? info.importedTags[i] : info.tags[i - info.importedTags.count])])
            }
            return (e.name, type)
        }
    }
}

extension Module {
    /// The module's binary, as it was given (a copy).
    public var binary: [UInt8] { Array(bytes.buffer) }
}
