import ArgumentParser
import FoundationEssentials
import Glibc
import Strata
import WAT

/// Checks an embedder can rely on: Strata's trap handling coexists with the host's own
/// signal handlers. Used by the test suite; useful on a new platform.
struct SelfTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-test", abstract: "Check that compiled-code traps and the host's own SIGSEGV handler coexist.",
        shouldDisplay: false)

    @Argument(help: "What to check: signals.")
    var what: String

    func run() throws {
        guard what == "signals" else { fail("unknown self-test \(what) (available: signals)") }
        // 1. The host installs its own SIGSEGV handler before Strata starts.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let message: StaticString = "host SIGSEGV handler ran\n"
            _ = write(1, message.utf8Start, message.utf8CodeUnitCount)
            _exit(0)
        }
        sigemptyset(&action.sa_mask)
        sigaction(SIGSEGV, &action, nil)
        // 2. Compiled Wasm code traps (through Strata's handler) and comes back as a Trap.
        var config = EngineConfiguration()
        config.tier = .baseline
        let engine = Engine(configuration: config)
        let module = try Module(engine: engine, bytes: try wat2wasm("""
            (module (memory 1)
              (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
              (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
            """))
        let instance = try Store(engine: engine).instantiate(module)
        for (name, arg) in [("div", Int32(0)), ("load", Int32(1 << 30))] {
            do {
                _ = try instance.function(name)!.callI32(arg)
                fail("\(name) did not trap")
            } catch let t as Trap {
                print("wasm trap caught: \(t.message)")
            }
        }
        fflush(nil)
        // 3. A fault outside Wasm code is the host's: its handler must run.
        let bad = UnsafeMutablePointer<Int>(bitPattern: 16)!
        bad.pointee = 1
        fail("the host fault did not reach the host's handler")
    }
}
