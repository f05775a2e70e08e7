/// Errors raised while decoding, validating, linking and instantiating modules.
/// `message` uses the spec's wording ("type mismatch", "unknown function 3", ...).
public struct WasmError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        /// The bytes are not a well-formed Wasm binary.
        case malformed
        /// The module is well-formed but does not validate.
        case invalid
        /// Imports cannot be resolved or do not match.
        case unlinkable
        /// Instantiation failed after linking (e.g. a segment out of bounds).
        case uninstantiable
        /// Valid Wasm that this build of the engine cannot run yet.
        case unsupported
        /// Misuse of the embedding API (wrong argument types, ...).
        case usage
    }
    public var kind: Kind
    public var message: String
    /// Byte offset in the module binary, when the error comes from a position in it.
    public var offset: Int?

    public init(_ kind: Kind, _ message: String, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset {
            return "\(kind.rawValue) module at offset 0x\(String(offset, radix: 16)): \(message)"
        }
        return "\(kind.rawValue): \(message)"
    }
}
