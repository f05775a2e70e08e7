import FoundationEssentials
import Glibc

// What the command-line tools need from the host beyond FoundationEssentials: running a
// program and reading its output, standard error, printf-style numbers, paths as text, and
// JSON as untyped values. The `strata` executable and this library import
// FoundationEssentials, not Foundation: the full Foundation (with its ICU data) costs every
// process about 5 ms to load and link and makes each Swift protocol-conformance scan (which
// the argument parser runs many of) longer.

/// How a subprocess's output stream is handled.
public enum SubprocessStream: Sendable {
    /// Read into the result.
    case capture
    /// Sent to /dev/null.
    case discard
    /// Shared with this process.
    case inherit
}

/// What a finished subprocess left.
public struct SubprocessResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended it.
    public var status: Int32
    public var output: [UInt8]
    public var errors: [UInt8]
}

public struct SubprocessError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `executable` (a path) with `arguments` and this process's environment, waits for it,
/// and returns its status and what it wrote to the captured streams.
public func runSubprocess(
    _ executable: String, _ arguments: [String], output: SubprocessStream = .capture, errors: SubprocessStream = .discard
) throws -> SubprocessResult {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // One pipe per captured stream: [read end, write end].
    var pipes: [Int32: [Int32]] = [:]
    defer { for ends in pipes.values { for fd in ends where fd >= 0 { close(fd) } } }
    for (target, mode) in [(Int32(1), output), (Int32(2), errors)] {
        switch mode {
        case .inherit: break
        case .discard: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
        case .capture:
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw SubprocessError(description: "cannot create a pipe: \(errnoText())") }
            // Not inherited by other children (the child's own copy is the dup2 below).
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            pipes[target] = ends
            posix_spawn_file_actions_adddup2(&actions, ends[1], target)
        }
    }
    let argv = ([executable] + arguments).map { strdup($0) }
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv + [nil], environ)
    guard spawned == 0 else { throw SubprocessError(description: "cannot run \(executable): \(String(cString: strerror(spawned)))") }
    // Close the write ends here, so that reading sees the end of each stream when the child exits.
    for (target, ends) in pipes {
        close(ends[1])
        pipes[target] = [ends[0], -1]
    }
    var collected: [Int32: [UInt8]] = [1: [], 2: []]
    var open = pipes.map { (target: $0.key, fd: $0.value[0]) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    while !open.isEmpty {
        var polls = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        if poll(&polls, nfds_t(polls.count), -1) < 0 {
            if errno == EINTR { continue }
            break
        }
        var still: [(target: Int32, fd: Int32)] = []
        for (i, stream) in open.enumerated() {
            guard polls[i].revents != 0 else { still.append(stream); continue }
            let n = buffer.withUnsafeMutableBytes { read(stream.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                collected[stream.target]!.append(contentsOf: buffer[0..<n])
                still.append(stream)
            } else if n < 0 && (errno == EINTR || errno == EAGAIN) {
                still.append(stream)
            }
        }
        open = still
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw SubprocessError(description: "cannot wait for \(executable): \(errnoText())") }
    }
    let signal = status & 0x7f
    return SubprocessResult(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, output: collected[1]!, errors: collected[2]!)
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// Writes `text` to standard error as it is (add the newline yourself).
public func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress! + done, $0.count - done) }
        if n <= 0 {
            if n < 0 && errno == EINTR { continue }
            return
        }
        done += n
    }
}

/// printf-style formatting for the tools' reports: `%d`, `%x` (any integer), `%f`/`%e`/`%g` with
/// flags, width and precision (a `Double`), `%@` or `%s` (any value, as text), `%%`.
/// Conversions go through the C library's own formatter one at a time.
public func format(_ pattern: String, _ arguments: Any...) -> String {
    var out = ""
    var next = 0
    var chars = pattern.makeIterator()
    while let c = chars.next() {
        guard c == "%" else { out.append(c); continue }
        var spec = "%"
        var conversion: Character = "%"
        while let d = chars.next() {
            if "hlqjzt".contains(d) { continue }  // length modifiers: the argument's type decides
            if d.isLetter || d == "@" || d == "%" { conversion = d; break }
            spec.append(d)
        }
        if conversion == "%" { out += "%"; continue }
        let argument: Any = next < arguments.count ? arguments[next] : ""
        next += 1
        switch conversion {
        case "@", "s":
            let text = "\(argument)"
            let width = Int(spec.dropFirst().filter(\.isNumber)) ?? 0
            let pad = String(repeating: " ", count: max(0, width - text.count))
            out += spec.contains("-") ? text + pad : pad + text
        case "d", "i", "u", "x", "X", "c":
            out += cFormat(spec + "lld", integerValue(argument))
        default:
            out += cFormat(spec + String(conversion), doubleValue(argument))
        }
    }
    return out
}

private func integerValue(_ x: Any) -> Int64 {
    switch x {
    case let v as Int: return Int64(v)
    case let v as Int32: return Int64(v)
    case let v as Int64: return v
    case let v as UInt32: return Int64(v)
    case let v as UInt64: return Int64(bitPattern: v)
    case let v as UInt: return Int64(bitPattern: UInt64(v))
    case let v as Double: return Int64(v)
    default: return 0
    }
}

private func doubleValue(_ x: Any) -> Double {
    switch x {
    case let v as Double: return v
    case let v as Float: return Double(v)
    case let v as Int: return Double(v)
    default: return .nan
    }
}

/// One C conversion of one argument.
private func cFormat(_ spec: String, _ value: any CVarArg) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    var n = withVaList([value]) { vsnprintf(&buffer, buffer.count, spec, $0) }
    if n >= Int32(buffer.count) {
        buffer = [CChar](repeating: 0, count: Int(n) + 1)
        n = withVaList([value]) { vsnprintf(&buffer, buffer.count, spec, $0) }
    }
    return n < 0 ? "" : String(cString: buffer)
}

/// Two configurations measured in paired rounds (`a[i]` and `b[i]` back to back in round i;
/// nil where one failed): in how many rounds `a` took longer, of the rounds both have a time.
/// `strata bench --processes N` prints it for each peer against Strata (`[k/n]`).
public func roundsLonger(_ a: [Double?], than b: [Double?]) -> (longer: Int, rounds: Int) {
    let pairs = zip(a, b).compactMap { x, y in x.flatMap { x in y.map { (x, $0) } } }
    return (pairs.filter { $0.0 > $0.1 }.count, pairs.count)
}

/// The sign test's one-sided probability for `longer` of `rounds` paired rounds: the chance that
/// a configuration exactly as fast as the other (each round a coin toss) takes longer in at least
/// `longer` of them. 1/32 for 5 of 5, 0.019 for 10 of 12; 1 for 0 of any.
public func roundsLongerProbability(_ longer: Int, of rounds: Int) -> Double {
    guard rounds > 0, longer > 0 else { return 1 }
    guard longer <= rounds else { return 0 }
    // Sum of C(rounds, k) / 2^rounds for k >= longer, built term by term in doubles (exact to
    // well past the hundreds of rounds a benchmark has).
    var term = pow(0.5, Double(rounds))  // C(rounds, 0) / 2^rounds
    var tail = 0.0
    for k in 0...rounds {
        if k >= longer { tail += term }
        term = term * Double(rounds - k) / Double(k + 1)
    }
    return min(tail, 1)
}

/// The folder for temporary files: `$TMPDIR`, else /tmp (no trailing slash).
public func temporaryFolder() -> String {
    var dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
    return dir
}

/// A path as text: the last component and the folder holding it, as Foundation's `NSString`
/// path methods split them.
public extension String {
    var lastPathComponent: String {
        var s = Substring(self)
        while s.count > 1 && s.hasSuffix("/") { s = s.dropLast() }
        guard let slash = s.lastIndex(of: "/") else { return String(s) }
        return s == "/" ? "/" : String(s[s.index(after: slash)...])
    }

    var deletingLastPathComponent: String {
        var s = Substring(self)
        while s.count > 1 && s.hasSuffix("/") { s = s.dropLast() }
        guard let slash = s.lastIndex(of: "/") else { return "" }
        var folder = s[..<slash]
        while folder.hasSuffix("/") { folder = folder.dropLast() }
        return folder.isEmpty ? "/" : String(folder)
    }
}

/// Whether `path` names a folder (following symbolic links).
public func isFolder(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
}

public extension String {
    /// The path with `.` and empty components dropped and `..` applied to the component
    /// before it, as text (symbolic links are not resolved).
    var standardizedPath: String {
        var parts: [Substring] = []
        for part in split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", hasPrefix("/") { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

public extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// Parses JSON text into untyped values of the shapes `JSONSerialization` gives: `[String:
/// Any]` objects, `[Any]` arrays, `String`, `Int` (numbers without a fraction or exponent that
/// fit), `Double`, `Bool`, and `Optional<Any>.none` for null.
public func parseJSON(_ bytes: [UInt8]) throws -> Any {
    try JSONDecoder().decode(UntypedJSON.self, from: Data(bytes)).value
}

private struct UntypedJSON: Decodable {
    var value: Any

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var items: [Any] = []
            while !array.isAtEnd { items.append(try array.decode(UntypedJSON.self).value) }
            value = items
        } else if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var fields: [String: Any] = [:]
            for key in object.allKeys { fields[key.stringValue] = try object.decode(UntypedJSON.self, forKey: key).value }
            value = fields
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                value = Optional<Any>.none as Any
            } else if let b = try? single.decode(Bool.self) {
                value = b
            } else if let i = try? single.decode(Int.self) {
                value = i
            } else if let d = try? single.decode(Double.self) {
                value = d
            } else {
                value = try single.decode(String.self)
            }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
