import Foundation
import Testing
import WAT
import Strata
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
}
