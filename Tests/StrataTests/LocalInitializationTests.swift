import Testing
import WAT
@testable import Strata

/// A new interpreter frame clears only the locals the body may read before writing them
/// (`LocalInitialization`, `FunctionCode.imageStart`). Each case runs right after a function that
/// fills the same stack area with -1, so a local left out of the clearing by mistake reads -1
/// instead of 0; and the listing shows which locals each case clears.
@Suite struct LocalInitializationTests {
    /// (name, body reading and writing locals 1-3 of `(param i32) (local i64 i64 i64)`, the
    /// results for arguments 0 and 1, the first frame word cleared: 2 + 2 x the first of the
    /// three that may be read unwritten, 8 when none is).
    static let cases: [(name: String, body: String, results: (Int64, Int64), clearedFrom: Int)] = [
        ("unwritten", "(local.get 1)", (0, 0), 2),
        ("if_then", "(if (local.get 0) (then (local.set 1 (i64.const 5)))) (local.get 1)", (0, 5), 2),
        ("if_else", "(if (local.get 0) (then) (else (local.set 1 (i64.const 5)))) (local.get 1)", (5, 0), 2),
        ("both_arms", "(if (local.get 0) (then (local.set 1 (i64.const 6))) (else (local.set 1 (i64.const 5)))) (local.get 1)",
         (5, 6), 8),
        ("br_if_out", "(block (br_if 0 (local.get 0)) (local.set 1 (i64.const 5))) (local.get 1)", (5, 0), 2),
        ("loop_exit", "(block (loop (br_if 1 (local.get 0)) (local.set 1 (i64.const 5)))) (local.get 1)", (5, 0), 2),
        // Read at the top of a loop's first iteration, written later in the iteration.
        ("loop_header",
         """
         (local.set 2 (i64.const 0))
         (loop
           (if (i64.eqz (local.get 2)) (then (local.set 3 (local.get 1))))
           (local.set 1 (i64.const 5))
           (local.set 2 (i64.add (local.get 2) (i64.const 1)))
           (br_if 0 (i64.lt_u (local.get 2) (i64.const 2))))
         (i64.add (local.get 3) (i64.extend_i32_u (local.get 0)))
         """, (0, 1), 2),
        ("br_table", "(block (block (br_table 0 1 (local.get 0))) (local.set 1 (i64.const 5))) (local.get 1)", (5, 0), 2),
        // A write only in unreachable code writes nothing.
        ("dead_write", "(block (br 0) (local.set 1 (i64.const 5))) (local.get 1)", (0, 0), 2),
        ("after_return", "(if (local.get 0) (then (return (local.get 2)))) (local.set 1 (i64.const 5)) (local.get 1)", (5, 0), 4),
        // A throw before the write lands at the catch clause's label.
        ("catch", "(block $h (try_table (catch_all $h) (call $maybe_throw (local.get 0)) (local.set 1 (i64.const 5)))) (local.get 1)",
         (5, 0), 2),
        ("tee", "(i64.add (local.tee 1 (i64.const 5)) (local.get 1))", (10, 10), 8),
        ("written_first",
         """
         (local.set 3 (i64.const 1)) (local.set 2 (i64.const 2)) (local.set 1 (i64.const 3))
         (block (br_if 0 (local.get 0)) (local.set 2 (i64.const 7)))
         (i64.add (local.get 1) (i64.add (local.get 2) (local.get 3)))
         """, (11, 6), 8),
    ]

    static func engine() -> Engine {
        var c = EngineConfiguration()
        c.tier = .interpreter
        return Engine(configuration: c)
    }

    static var wat: String {
        var funcs = ""
        for c in cases {
            funcs += """
              (func $c_\(c.name) (param i32) (result i64) (local i64 i64 i64) \(c.body))
              (func (export "\(c.name)") (param i32) (result i64)
                (drop (call $dirty (local.get 0))) (call $c_\(c.name) (local.get 0)))

            """
        }
        return """
            (module
              (tag $t)
              (func $maybe_throw (param i32) (if (local.get 0) (then (throw $t))))
              \(dirty(locals: 12))
            \(funcs))
            """
    }

    /// `$dirty`: a function with `locals` i64 locals that it sets to -1, so that the frame of
    /// the function called after it starts on words holding -1.
    static func dirty(locals: Int) -> String {
        let sets = (1...locals).map { "(local.set \($0) (i64.const -1))" }.joined(separator: " ")
        return "(func $dirty (param i32) (result i32) (local\(String(repeating: " i64", count: locals))) \(sets) (local.get 0))"
    }

    @Test func localsReadBeforeWrittenAreZero() throws {
        let (_, instance) = try instantiate(Self.wat, engine: Self.engine())
        for c in Self.cases {
            let f = try #require(instance.function(c.name))
            #expect(try f.call([.i32(0)]) == [.i64(c.results.0)], "\(c.name)(0)")
            #expect(try f.call([.i32(1)]) == [.i64(c.results.1)], "\(c.name)(1)")
        }
    }

    /// The listing's "N words set at entry from word W": a case that writes every local before
    /// reading it starts past them (word 2 + 3 locals x 2), the others at its first local that
    /// is read unwritten.
    @Test func framesClearOnlyLocalsReadUnwritten() throws {
        let m = try Module(engine: Self.engine(), bytes: try wat2wasm(Self.wat))
        // Functions: $maybe_throw, $dirty, then a case and its export, in order.
        for (k, c) in Self.cases.enumerated() {
            let listing = try #require(m.interpreterListing(function: 2 + 2 * k))
            let start = try #require(listing.firstMatch(of: /set at entry from word (\d+)/)).1
            #expect(Int(start) == c.clearedFrom, "\(c.name): \(listing.prefix(200))")
        }
    }

    /// A frame with nothing to set (no constants, every local written first) copies no image,
    /// and one with a 4-word image copies one 32-byte chunk: both right after `$dirty`.
    @Test func emptyAndSmallestImages() throws {
        let wat = """
            (module
              \(Self.dirty(locals: 8))
              (func $empty (param i32 i32) (result i32) (local i32)
                (local.set 2 (i32.mul (local.get 0) (local.get 1)))
                (i32.sub (local.get 2) (local.get 0)))
              (func $one_local (param i32) (result i64) (local i64)
                (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
              (func (export "empty") (param i32) (result i32)
                (drop (call $dirty (local.get 0))) (call $empty (local.get 0) (i32.const 7)))
              (func (export "one_local") (param i32) (result i64)
                (drop (call $dirty (local.get 0))) (call $one_local (local.get 0))))
            """
        let engine = Self.engine()
        let m = try Module(engine: engine, bytes: try wat2wasm(wat))
        let empty = try #require(m.interpreterListing(function: 1))
        #expect(empty.contains("0 words set at entry"), "\(empty.prefix(200))")
        let oneLocal = try #require(m.interpreterListing(function: 2))
        #expect(oneLocal.contains("4 words set at entry"), "\(oneLocal.prefix(200))")
        let instance = try Linker().instantiate(m, in: Store(engine: engine))
        for x: Int32 in [0, 3, 1000] {
            #expect(try instance.function("empty")!.call([.i32(x)]) == [.i32(x &* 7 &- x)])
            #expect(try instance.function("one_local")!.call([.i32(x)]) == [.i64(Int64(x))])
        }
    }

    /// Reference and v128 locals: a v128 local is followed like a number (read unwritten: zero;
    /// written first: not cleared); a reference local and every local after it is always
    /// cleared (null), written first or not.
    @Test func referenceAndVectorLocals() throws {
        let wat = """
            (module
              \(Self.dirty(locals: 8))
              (func $refs (param i32) (result i32) (local i64 funcref i64 v128)
                (local.set 1 (i64.const 1))
                (i32.add (i32.add (ref.is_null (local.get 2)) (i32.wrap_i64 (local.get 3)))
                         (i32.add (i32.wrap_i64 (local.get 1)) (i32x4.extract_lane 3 (local.get 4)))))
              (func (export "refs") (param i32) (result i32)
                (drop (call $dirty (local.get 0))) (call $refs (local.get 0))))
            """
        let (_, instance) = try instantiate(wat, engine: Self.engine())
        #expect(try instance.function("refs")!.call([.i32(0)]) == [.i32(2)])
        let vectors = """
            (module
              \(Self.dirty(locals: 8))
              (func $written (param i32) (result i32) (local v128 v128)
                (local.set 1 (i32x4.splat (local.get 0)))
                (local.set 2 (local.get 1))
                (i32x4.extract_lane 2 (local.get 2)))
              (func $unwritten (param i32) (result i32) (local v128 v128)
                (local.set 1 (i32x4.splat (local.get 0)))
                (i32.add (i32x4.extract_lane 0 (local.get 1)) (i32x4.extract_lane 3 (local.get 2))))
              (func (export "written") (param i32) (result i32)
                (drop (call $dirty (local.get 0))) (call $written (local.get 0)))
              (func (export "unwritten") (param i32) (result i32)
                (drop (call $dirty (local.get 0))) (call $unwritten (local.get 0))))
            """
        let (_, v) = try instantiate(vectors, engine: Self.engine())
        #expect(try v.function("written")!.call([.i32(7)]) == [.i32(7)])
        #expect(try v.function("unwritten")!.call([.i32(7)]) == [.i32(7)])
        let vm = try Module(engine: Self.engine(), bytes: try wat2wasm(vectors))
        #expect(try #require(vm.interpreterListing(function: 1)).contains("set at entry from word 6"))
        #expect(try #require(vm.interpreterListing(function: 2)).contains("set at entry from word 4"))
        let m = try Module(engine: Self.engine(), bytes: try wat2wasm(wat))
        let listing = try #require(m.interpreterListing(function: 1))
        // Local 1 is written first (skipped); the funcref (local 2) and the rest are cleared.
        #expect(listing.contains("set at entry from word 4"), "\(listing.prefix(200))")
    }
}
