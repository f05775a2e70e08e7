#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemRead = Glibc.read
#else
private let systemRead = Darwin.read
#endif

/// Reading a whole file straight into a byte array (no intermediate buffer and copy): the code
/// cache's entries and, in the CLI, module files.
public enum FileBytes {
    /// Everything left to read from `fd`, nil on a read error. `expected`: the size fstat gave
    /// (0 for a pipe); one byte more is asked for, so the end shows in the same read, and a
    /// file that grew meanwhile is read on in chunks.
    public static func read(_ fd: Int32, expected: Int) -> [UInt8]? {
        var failed = false
        func readAll(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            var done = 0
            while done < buffer.count {
                let n = systemRead(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failed = true }
                guard n > 0 else { break }
                done += n
            }
            return done
        }
        let size = max(expected, 0)
        var bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, count in
            count = readAll(into: UnsafeMutableRawBufferPointer(buffer))
        }
        if bytes.count > size {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while !failed {
                let n = chunk.withUnsafeMutableBytes { readAll(into: $0) }
                bytes.append(contentsOf: chunk[..<n])
                if n < chunk.count { break }
            }
        }
        return failed ? nil : bytes
    }
}
