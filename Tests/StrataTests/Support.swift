import Strata
import WAT

/// Compiles WAT text and instantiates it with no imports (or the given linker).
func instantiate(_ wat: String, engine: Engine = Engine(), linker: Linker = Linker()) throws -> (Store, Instance) {
    let module = try Module(engine: engine, bytes: try wat2wasm(wat))
    let store = Store(engine: engine)
    return (store, try linker.instantiate(module, in: store))
}

func module(_ wat: String) throws -> Module {
    try Module(engine: Engine(), bytes: try wat2wasm(wat))
}

/// The error a block throws, or nil.
func thrownError(_ body: () throws -> Void) -> (any Error)? {
    do { try body(); return nil } catch { return error }
}
