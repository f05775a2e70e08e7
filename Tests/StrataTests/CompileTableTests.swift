import Testing
@testable import Strata

/// The optimizing tier's own hash tables (`IntegerMap`, `IRPasses.ScopedValueTable`), checked
/// against the standard library's `Dictionary` on the same sequences of operations.
@Suite struct CompileTableTests {
    /// Keys as the builder makes them (block << 32 | local), many colliding in their low bits,
    /// inserted, replaced and looked up (present and absent) across several growths.
    @Test func integerMapMatchesADictionary() {
        var map = IntegerMap<IRValue>(placeholder: .none)
        var reference: [Int64: IRValue] = [:]
        var rng = SystemRandomNumberGenerator()
        var agree = true
        for step in 0..<20_000 {
            let key = Int64.random(in: 0..<300, using: &rng) << 32 | Int64.random(in: 0..<40, using: &rng) * 64
            let value = IRValue(id: Int32(step))
            if Bool.random(using: &rng) {
                map[key] = value
                reference[key] = value
            }
            agree = agree && map[key] == reference[key]
        }
        #expect(agree)
        #expect(map.count == reference.count)
        for (key, value) in reference { #expect(map[key] == value) }
        #expect(map[Int64(999) << 32 | 7] == nil)  // a block past those used
    }

    /// A dominator-tree walk's use: entries added in scopes and removed newest first. After
    /// each removal every entry still present is found and every removed one is not, also when
    /// keys share their home slot and the table grew in between.
    @Test func scopedValueTableRemovesNewestFirst() {
        var table = IRPasses.ScopedValueTable()
        var live: [(IRPasses.GVNKey, IRValue)] = []
        var rng = SystemRandomNumberGenerator()
        func key(_ k: Int) -> IRPasses.GVNKey {
            // Few distinct operands: many keys equal but for one field.
            IRPasses.GVNKey(op: .add, type: .i32, a: IRValue(id: Int32(k % 7)), b: IRValue(id: Int32(k / 7)), c: .none, imm: 0, imm2: 0)
        }
        var next = 0
        for _ in 0..<400 {
            // Enter a scope: add a few new keys.
            let mark = table.count
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                let k = key(next)
                next += 1
                #expect(table.find(k) == nil)
                table.insert(k, IRValue(id: Int32(next)))
                live.append((k, IRValue(id: Int32(next))))
            }
            // Leave it again about half of the time.
            if Bool.random(using: &rng) {
                table.removeLast(downTo: mark)
                #expect(live[mark...].allSatisfy { table.find($0.0) == nil })
                live.removeLast(live.count - mark)
            }
            #expect(table.count == live.count)
            #expect(live.allSatisfy { table.find($0.0) == $0.1 })
        }
    }
}
