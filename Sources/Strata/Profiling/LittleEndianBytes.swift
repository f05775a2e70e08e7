/// Appending integers to a byte buffer in little-endian order: what the profiling file and
/// object writers (`JitDump`, `GDBJITInterface`) lay out.
extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { self += $0 }
    }
}
