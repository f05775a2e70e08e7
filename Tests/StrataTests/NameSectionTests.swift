import Testing
@testable import Strata

/// `FunctionNames`: the name section's function map, indexed on first use and decoded one name
/// at a time.
@Suite struct NameSectionTests {
    private let uleb = unsignedLEB128
    private func map(_ entries: [(Int, [UInt8])]) -> [UInt8] {
        var out = uleb(entries.count)
        for (index, name) in entries { out += uleb(index) + uleb(name.count) + name }
        return out
    }

    @Test func namesAreFoundByIndexAmongThousands() {
        // Every third index named, with multi-byte LEB128 indices and lengths.
        let entries = (0..<3000).map { k in (3 * k, Array("f\(k)_".utf8) + [UInt8](repeating: 0x61, count: k % 200)) }
        let names = FunctionNames(subsection: map(entries))
        #expect(names[0] == "f0_")
        #expect(names[3 * 1234] == "f1234_" + String(repeating: "a", count: 1234 % 200))
        #expect(names[3 * 2999] == "f2999_" + String(repeating: "a", count: 2999 % 200))
        #expect(names[1] == nil)
        #expect(names[3 * 3000] == nil)
        #expect(names[UInt32.max] == nil)
    }

    @Test func aMalformedMapHasNoNames() {
        let ordered = map([(1, Array("a".utf8)), (5, Array("b".utf8))])
        #expect(FunctionNames(subsection: ordered)[5] == "b")
        // Out of order, repeated, cut short, or empty: no names.
        #expect(FunctionNames(subsection: map([(5, Array("b".utf8)), (1, Array("a".utf8))]))[5] == nil)
        #expect(FunctionNames(subsection: map([(1, Array("a".utf8)), (1, Array("b".utf8))]))[1] == nil)
        #expect(FunctionNames(subsection: Array(ordered.dropLast()))[1] == nil)
        #expect(FunctionNames(subsection: [])[0] == nil)
    }

    @Test func aNameThatIsNotUTF8IsMissingAlone() {
        let names = FunctionNames(subsection: map([(0, [0x66, 0xff, 0x66]), (1, Array("ok".utf8))]))
        #expect(names[0] == nil)
        #expect(names[1] == "ok")
    }
}
