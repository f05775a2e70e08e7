import Foundation
import Testing
import WAT
import Strata
@testable import StrataSpecTest
import StrataWASI

/// WASI through the embedding API, with WAT programs (no libc needed); the C programs in
/// Tests/wasi compare whole programs against native builds.
@Suite struct WASITests {
    static let hello = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello, wasi\\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))   ;; iovec.buf
            (i32.store (i32.const 4) (i32.const 12))   ;; iovec.len
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $proc_exit (i32.const 7)))
          (func (export "bad")   ;; an iovec pointing past the end of memory
            (i32.store (i32.const 0) (i32.const 65530))
            (i32.store (i32.const 4) (i32.const 100))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
        """

    func run(_ body: (Instance, WASI) throws -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let engine = Engine()
        let store = Store(engine: engine)
        let linker = Linker()
        let wasi = try linker.defineWASI(WASIOptions(arguments: ["hello"], stdout: fds[1]), store: store)
        let instance = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm(Self.hello)), in: store)
        try body(instance, wasi)
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func commandWritesAndExits() throws {
        let output = try run { instance, wasi in
            let code = try wasi.start(instance)
            #expect(code == 7)
        }
        #expect(output == "hello, wasi\n")
    }

    @Test func outOfBoundsGuestBufferTrapsInsteadOfCrashing() throws {
        let output = try run { instance, _ in
            let trap = try #require(thrownError { _ = try instance.function("bad")!.call([]) } as? Trap)
            #expect(trap.kind == .hostError)
            #expect(trap.message.contains("out of bounds"))
        }
        // WasmKit's WASI layer may already have acted on the zeroed stand-in bytes before the
        // call traps; what must never appear is host memory.
        #expect(output.utf8.allSatisfy { $0 == 0 })
    }

    @Test func missingImportNamesModuleAndField() throws {
        let m = try module("(module (import \"wasi_snapshot_preview1\" \"no_such_call\" (func)))")
        let store = Store(engine: m.engine)
        let linker = Linker()
        try linker.defineWASI(WASIOptions(), store: store)
        let e = try #require(thrownError { _ = try linker.instantiate(m, in: store) } as? WasmError)
        #expect(e.message.contains("\"wasi_snapshot_preview1\" \"no_such_call\""))
    }

    /// The calls Strata implements in front of WasmKit's (`WASIOverrides`), through a module that
    /// calls them on the preopened folder (descriptor 3): hard links, a symlink's own times,
    /// absolute symlink targets, the SYNC flag, `fd_allocate` on a directory; and none of them
    /// reaches outside the folder (`..`, absolute paths, a symlink pointing out).
    @Test func stratasOwnCallsStayInThePreopenedFolder() throws {
        let wat = """
            (module
              (import "wasi_snapshot_preview1" "path_link" (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
              (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_allocate" (func $allocate (param i32 i64 i64) (result i32)))
              (memory (export "memory") 1)
              ;; strings: a at 0, b at 256
              (func (export "link") (param $flags i32) (param $a i32) (param $b i32) (result i32)
                (call $link (i32.const 3) (local.get $flags) (i32.const 0) (local.get $a) (i32.const 3) (i32.const 256) (local.get $b)))
              (func (export "symlink") (param $a i32) (param $b i32) (result i32)
                (call $symlink (i32.const 0) (local.get $a) (i32.const 3) (i32.const 256) (local.get $b)))
              (func (export "setMtime") (param $flags i32) (param $a i32) (param $mtime i64) (result i32)
                (call $times (i32.const 3) (local.get $flags) (i32.const 0) (local.get $a) (i64.const 0) (local.get $mtime) (i32.const 4)))
              ;; opens path a for writing with fdflags; returns errno * 65536 + fs_flags, writes 3 bytes
              (func (export "openSync") (param $a i32) (param $fdflags i32) (result i32) (local $e i32) (local $fd i32)
                (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 0) (local.get $a) (i32.const 1)
                  (i64.const -1) (i64.const -1) (local.get $fdflags) (i32.const 512)))
                (if (local.get $e) (then (return (i32.mul (local.get $e) (i32.const 65536)))))
                (local.set $fd (i32.load (i32.const 512)))
                (local.set $e (call $fdstat (local.get $fd) (i32.const 544)))
                (i32.store (i32.const 600) (i32.const 256)) (i32.store (i32.const 604) (i32.const 3))
                (local.set $e (i32.or (local.get $e) (call $write (local.get $fd) (i32.const 600) (i32.const 1) (i32.const 608))))
                (drop (call $close (local.get $fd)))
                (i32.add (i32.mul (local.get $e) (i32.const 65536)) (i32.load16_u (i32.const 546))))
              (func (export "allocateRoot") (result i32) (call $allocate (i32.const 3) (i64.const 0) (i64.const 1))))
            """
        let fm = FileManager.default
        let top = NSTemporaryDirectory() + "strata-wasi-overrides-\(getpid())"
        let root = top + "/root"
        try? fm.removeItem(atPath: top)
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: top) }
        #expect(fm.createFile(atPath: top + "/outside", contents: Data("secret".utf8)))
        #expect(fm.createFile(atPath: root + "/a", contents: Data("inside".utf8)))
        try fm.createSymbolicLink(atPath: root + "/up", withDestinationPath: "..")
        try fm.createSymbolicLink(atPath: root + "/toA", withDestinationPath: "a")

        let engine = Engine()
        let store = Store(engine: engine)
        let linker = Linker()
        // The WASI object is not kept here: the linked functions keep it (and its descriptors).
        _ = try linker.defineWASI(WASIOptions(arguments: ["t"], directories: [(host: root, guest: "/")]), store: store)
        let instance = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm(wat)), in: store)
        let memory = try #require(instance.memory("memory"))
        func strings(_ a: String, _ b: String = "") -> (Int32, Int32) {
            #expect(memory.write(offset: 0, bytes: Array(a.utf8)) && memory.write(offset: 256, bytes: Array(b.utf8)))
            return (Int32(a.utf8.count), Int32(b.utf8.count))
        }
        func link(_ a: String, _ b: String, follow: Bool = false) throws -> Int32 {
            let (x, y) = strings(a, b)
            return try instance.function("link")!.callI32(follow ? 1 : 0, x, y)
        }
        let notcapable: Int32 = 76, success: Int32 = 0
        // Hard links: within the folder, as the host sees it.
        #expect(try link("a", "b") == success)
        let a = try fm.attributesOfItem(atPath: root + "/a"), b = try fm.attributesOfItem(atPath: root + "/b")
        #expect(a[.systemFileNumber] as? Int == b[.systemFileNumber] as? Int)
        #expect(try link("a", "b") == 20, "EXIST")
        #expect(try link("a", "c", follow: true) == 28, "INVAL: links never follow")
        // ... never to or from outside it.
        #expect(try link("../outside", "c") == notcapable)
        #expect(try link("/etc/hostname", "c") == notcapable)
        #expect(try link("up/outside", "c") == notcapable, "a symlink leading out")
        #expect(try link("a", "../stolen") == notcapable)
        #expect(try link("a", "up/stolen") == notcapable)
        #expect(!fm.fileExists(atPath: root + "/c") && !fm.fileExists(atPath: top + "/stolen"))
        // Symlinks to absolute paths are refused; relative ones are made.
        var (x, y) = strings("/etc", "abs")
        #expect(try instance.function("symlink")!.callI32(x, y) == notcapable)
        (x, y) = strings("a", "rel")
        let made = try instance.function("symlink")!.callI32(x, y)
        #expect(made == success, "\(made)")
        // Times without SYMLINK_FOLLOW: the link's own, not its target's.
        let before = try fm.attributesOfItem(atPath: root + "/a")[.modificationDate] as? Date
        (x, _) = strings("toA")
        #expect(try instance.function("setMtime")!.call([.i32(0), .i32(x), .i64(1_000_000_000_000_000_000)]) == [.i32(success)])
        var st = stat()
        #expect(lstat(root + "/toA", &st) == 0 && st.st_mtim.tv_sec == 1_000_000_000)
        #expect(try fm.attributesOfItem(atPath: root + "/a")[.modificationDate] as? Date == before)
        for escape in ["..", "../outside", "up/outside", "/etc"] {
            (x, _) = strings(escape)
            #expect(try instance.function("setMtime")!.call([.i32(0), .i32(x), .i64(0)]) == [.i32(notcapable)], "\(escape)")
        }
        #expect(lstat(top + "/outside", &st) == 0 && st.st_mtim.tv_sec != 0)
        // SYNC (16) is reported back; the write goes through.
        (x, _) = strings("synced")
        let synced = try instance.function("openSync")!.callI32(x, 16)
        #expect(synced == 16, "errno \(synced >> 16), flags \(synced & 0xFFFF)")
        #expect(fm.contents(atPath: root + "/synced") == Data("rel".utf8))
        (x, _) = strings("plain")
        #expect(try instance.function("openSync")!.callI32(x, 0) == 0)
        // fd_allocate on a directory: ISDIR.
        #expect(try instance.function("allocateRoot")!.callI32() == 31)
    }

    /// A standard stream on `/dev/null` is no terminal to the program (wasi-libc's `isatty`: a
    /// character device without the seek and tell rights), a terminal still is one, and the
    /// stream's description follows it through `fd_renumber`.
    @Test func streamsOnCharacterDevicesThatAreNoTerminals() throws {
        let wat = """
            (module
              (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_tell" (func $tell (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
              (memory (export "memory") 1)
              ;; wasi-libc's isatty; -errno when fd_fdstat_get fails
              (func (export "isatty") (param $fd i32) (result i32) (local $e i32)
                (local.set $e (call $fdstat (local.get $fd) (i32.const 64)))
                (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
                (i32.and (i32.eq (i32.load8_u (i32.const 64)) (i32.const 2))
                         (i64.eqz (i64.and (i64.load (i32.const 72)) (i64.const 0x24)))))
              (func (export "filetype") (param $fd i32) (result i32)
                (drop (call $fdstat (local.get $fd) (i32.const 64))) (i32.load8_u (i32.const 64)))
              (func (export "tell") (param $fd i32) (result i32) (call $tell (local.get $fd) (i32.const 128)))
              (func (export "renumber") (param i32 i32) (result i32) (call $renumber (local.get 0) (local.get 1))))
            """
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(null >= 0 && master >= 0, "/dev/null and a pseudo-terminal")
        // unlockpt and ptsname, which Swift's Glibc module does not show: TIOCSPTLCK, TIOCGPTN.
        var unlock: Int32 = 0, number: UInt32 = 0
        #expect(ioctl(master, 0x4004_5431, &unlock) == 0 && ioctl(master, 0x8004_5430, &number) == 0)
        let terminal = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var fds: [Int32] = [0, 0]
        try #require(terminal >= 0 && pipe(&fds) == 0)
        defer { for fd in [null, master, terminal, fds[0], fds[1]] { close(fd) } }
        #expect(isatty(null) == 0 && isatty(terminal) == 1, "the host's view")

        let engine = Engine()
        let store = Store(engine: engine)
        let linker = Linker()
        _ = try linker.defineWASI(WASIOptions(arguments: ["t"], stdin: null, stdout: terminal, stderr: fds[1]), store: store)
        let instance = try linker.instantiate(try Module(engine: engine, bytes: try wat2wasm(wat)), in: store)
        func call(_ name: String, _ args: Int32...) throws -> Int32 {
            guard case .i32(let v)? = try instance.function(name)!.call(args.map { .i32($0) }).first else { return .min }
            return v
        }
        let characterDevice: Int32 = 2
        #expect(try call("isatty", 0) == 0, "stdin on /dev/null")
        #expect(try call("filetype", 0) == characterDevice, "still a character device")
        #expect(try call("tell", 0) == 0, "which the program can tell on, as the rights say")
        #expect(try call("isatty", 1) == 1, "stdout on a pseudo-terminal")
        #expect(try call("isatty", 2) == 0, "stderr on a pipe")
        // stdin's /dev/null becomes descriptor 1: no terminal there any more.
        #expect(try call("renumber", 0, 1) == 0)
        #expect(try call("isatty", 1) == 0)
        #expect(try call("isatty", 0) == -8, "BADF: descriptor 0 is gone")
    }

    /// The WASI testsuite runner follows the suite's specification: a test passes only with the
    /// exit code and standard output its JSON file gives (none: exit 0), and its root is a fresh
    /// copy (the suite's folder is never written, `*.cleanup` leftovers are gone). Arguments and
    /// environment are checked by the suite's own `args_get` and `environ_get` programs.
    @Test func testsuiteRunnerChecksExitCodeAndOutput() throws {
        let fm = FileManager.default
        let suite = NSTemporaryDirectory() + "strata-wasi-suite-\(getpid())"
        try? fm.removeItem(atPath: suite)
        try fm.createDirectory(atPath: suite + "/root/leftover.cleanup", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: suite) }
        #expect(fm.createFile(atPath: suite + "/manifest.json", contents: Data("{\"name\": \"t\"}".utf8)))
        let hello = Data(try wat2wasm(Self.hello))
        let cases: [(String, String, Bool)] = [
            ("exact", #"{"exit_code": 7, "stdout": "hello, wasi\n"}"#, true),
            ("wrongCode", "{}", false),
            ("wrongOutput", #"{"exit_code": 7, "stdout": "bye\n"}"#, false),
            ("withRoot", #"{"exit_code": 7, "root": "root", "args": ["x"], "env": {"K": "V"}}"#, true),
        ]
        for (name, json, _) in cases {
            #expect(fm.createFile(atPath: "\(suite)/\(name).wasm", contents: hello))
            #expect(fm.createFile(atPath: "\(suite)/\(name).json", contents: Data(json.utf8)))
        }
        let tests = WASITestsuite.tests(in: suite)
        #expect(tests.count == cases.count)
        for test in tests {
            let outcome = WASITestsuite.run(test, configuration: EngineConfiguration())
            let expected = try #require(cases.first { test.hasSuffix("/\($0.0).wasm") }).2
            #expect(outcome.passed == expected, "\(outcome.test): \(outcome.detail)")
        }
        #expect(fm.fileExists(atPath: suite + "/root/leftover.cleanup"), "the suite's own folder is untouched")
        #expect(try WASITestsuite.prepareRoot(suite + "/root", in: suite + "/scratch").hasSuffix("/scratch/root"))
        #expect(try fm.contentsOfDirectory(atPath: suite + "/scratch/root").isEmpty, "leftovers removed from the copy")
    }
}
