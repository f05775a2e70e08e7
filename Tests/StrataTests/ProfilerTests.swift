import Foundation
import Testing
import WAT
import CStrata
@testable import Strata

/// What external profilers are told about compiled code.
@Suite struct ProfilerTests {
    /// `Profiler.perfmap` appends a line per placed function to `/tmp/perf-PID.map`: its start,
    /// its size (the machine code's), and `wasm[MODULE]::NAME [TIER]` with the name section's
    /// names (an unnamed function by index).
    @Test(arguments: [Tier.baseline, .optimizing]) func perfMapListsEveryCompiledFunction(tier: Tier) throws {
        var c = EngineConfiguration()
        c.tier = tier
        c.keepMachineCode = true
        c.profiler = .perfmap
        let wat = """
            (module $profiled
              (func $twice (export "twice") (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
              (func (export "unnamed") (result i32) (i32.const 7))
              (func $loop (export "loop") (param i32) (result i32) (local $s i32)
                (loop $l
                  (local.set $s (i32.add (local.get $s) (call $twice (local.get 0))))
                  (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get $s)))
            """
        // WAT's names do not reach the binary: a name section of its own.
        let bytes = try wat2wasm(wat) + Self.nameSection(module: "profiled", functions: [0: "twice", 2: "loop"])
        let module = try Module(engine: Engine(configuration: c), bytes: bytes)
        let text = try String(contentsOfFile: "/tmp/perf-\(getpid()).map", encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 2).map(String.init) }
        for (index, name) in [(0, "twice"), (1, "function[1]"), (2, "loop")] {
            let code = try #require(module.machineCode(function: index))
            let label = "wasm[profiled]::\(name) [\(tier.rawValue)]"
            // The last line for the function (earlier test runs of this process add their own).
            let line = try #require(lines.last { $0.count == 3 && $0[2] == label }, "\(label) in \(text)")
            #expect(Int(line[1], radix: 16) == code.count, "\(line)")
            #expect(UInt(line[0], radix: 16).map { $0 % 64 == 0 } == true, "functions start on cache lines: \(line)")
        }
        #expect(try Store(engine: module.engine).instantiate(module).function("loop")!.callI32(3) == 12)
    }

    /// `Profiler.jitdump` writes `/tmp/jit-PID.dump` in perf's jitdump format: the header, then
    /// a code-load record per placed function with its name, address, size and the machine code
    /// itself (read back here and compared with the module's code).
    @Test func jitdumpHoldsEveryCompiledFunctionsCode() throws {
        var c = EngineConfiguration()
        c.tier = .optimizing
        c.keepMachineCode = true
        c.profiler = .jitdump
        let wat = """
            (module
              (func (export "twice") (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
              (func (export "square") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))
            """
        let bytes = try wat2wasm(wat) + Self.nameSection(module: "dumped", functions: [0: "twice", 1: "square"])
        let module = try Module(engine: Engine(configuration: c), bytes: bytes)
        let data = try #require(FileManager.default.contents(atPath: "/tmp/jit-\(getpid()).dump"))
        let file = [UInt8](data)
        func u32(_ at: Int) -> UInt32 { file[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ at: Int) -> UInt64 { file[at..<at + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(u32(0) == 0x4A69_5444 && u32(4) == 1 && u32(8) == 40 && u32(12) == 62 && u32(20) == UInt32(getpid()))
        var records: [String: (address: UInt64, code: [UInt8])] = [:]
        var debugAddresses: Set<UInt64> = []
        var at = 40
        while at + 16 <= file.count {
            let id = u32(at), size = Int(u32(at + 4))
            #expect(size >= 16 && at + size <= file.count)
            guard size >= 16, at + size <= file.count else { break }
            if id == 0 {
                let codeSize = Int(u64(at + 40))
                #expect(u64(at + 24) == u64(at + 32), "vma is the code address")
                let nameStart = at + 56
                let nameEnd = try #require(file[nameStart..<at + size].firstIndex(of: 0))
                let name = String(decoding: file[nameStart..<nameEnd], as: UTF8.self)
                #expect(nameEnd + 1 + codeSize == at + size)
                records[name] = (u64(at + 32), Array(file[nameEnd + 1..<nameEnd + 1 + codeSize]))
            } else if id == 2 {
                // Debug info: {code address, entry count, entries {address, line, 0, file}}.
                debugAddresses.insert(u64(at + 16))
                #expect(u64(at + 24) >= 1)
            }
            at += size
        }
        for (index, name) in [(0, "twice"), (1, "square")] {
            let record = try #require(records["wasm[dumped]::\(name) [optimizing]"], "\(records.keys)")
            #expect(record.code == module.machineCode(function: index))
            #expect(record.address % 64 == 0)
        }
        // `twice`'s and `square`'s only trap sites: the prologue's stack checks (Wasm offset 0
        // names the function's start), so each has debug info at its address.
        #expect(records.values.allSatisfy { debugAddresses.contains($0.address) })
    }

    /// `gdbJIT`: each placed mapping is registered with the GDB JIT interface as an ELF object
    /// (a function symbol per compiled function at its address and size, the mapping's unwind
    /// information), and unregistered when its code is freed.
    @Test func gdbJITRegistersAnObjectPerMappingUntilTheCodeIsFreed() throws {
        func registered() -> [UnsafeRawPointer] {
            var objects = [UnsafeRawPointer?](repeating: nil, count: 4096)
            let n = strata_gdb_jit_entries(&objects, objects.count)
            return objects.prefix(min(n, objects.count)).compactMap { $0 }
        }
        var c = EngineConfiguration()
        c.tier = .optimizing
        c.keepMachineCode = true
        c.gdbJIT = true
        let wat = """
            (module
              (func (export "twice") (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
              (func (export "square") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))
            """
        let bytes = try wat2wasm(wat) + Self.nameSection(module: "debugged", functions: [0: "twice", 1: "square"])
        // Everything that holds the code lives in this function; its object's address comes out.
        func check() throws -> UnsafeRawPointer {
            let module = try Module(engine: Engine(configuration: c), bytes: bytes)
            let code = try #require(module.compiled)
            let object = try #require(code.gdbObject)
            #expect(registered().contains(UnsafeRawPointer(object.baseAddress!)))
            let elf = [UInt8](object)
            func u16(_ at: Int) -> Int { Int(elf[at]) | Int(elf[at + 1]) << 8 }
            func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
            func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
            #expect(elf.prefix(4) == [0x7F, 0x45, 0x4C, 0x46] && u16(16) == 1 && u16(18) == 62, "ELF64 relocatable for x86-64")
            // Sections: find .symtab, .strtab and .text by type and link.
            let shoff = Int(u64(40)), shnum = u16(60)
            func section(_ k: Int) -> (type: Int, addr: UInt64, offset: Int, size: Int, link: Int) {
                let h = shoff + 64 * k
                return (u32(h + 4), u64(h + 16), Int(u64(h + 24)), Int(u64(h + 32)), u32(h + 40))
            }
            let text = section(1), symtab = try #require((0..<shnum).map(section).first { $0.type == 2 })
            let strtab = section(symtab.link)
            #expect(text.type == 8 && text.addr == UInt64(UInt(bitPattern: code.memory.base)))
            var symbols: [String: (value: UInt64, size: UInt64)] = [:]
            for k in 1..<(symtab.size / 24) {
                let s = symtab.offset + 24 * k
                let nameAt = strtab.offset + u32(s)
                let name = String(decoding: elf[nameAt...].prefix { $0 != 0 }, as: UTF8.self)
                symbols[name] = (u64(s + 8), u64(s + 16))
            }
            for (index, name) in [(0, "twice"), (1, "square")] {
                let machine = try #require(module.machineCode(function: index))
                let symbol = try #require(symbols["wasm[debugged]::\(name) [optimizing]"], "\(symbols)")
                #expect(Int(symbol.size) == machine.count)
                let range = try #require((0..<code.count).map { code.ranges[$0] }.first { $0.functionIndex == UInt32(index) })
                #expect(text.addr + symbol.value == UInt64(range.start))
            }
            return UnsafeRawPointer(object.baseAddress!)
        }
        let address = try check()
        #expect(!registered().contains(address), "unregistered with the code")
    }

    /// A `name` custom section with a module name and function names.
    static func nameSection(module: String, functions: [Int: String]) -> [UInt8] {
        let uleb = unsignedLEB128
        func name(_ s: String) -> [UInt8] { uleb(s.utf8.count) + Array(s.utf8) }
        let moduleName = name(module)
        var functionNames = uleb(functions.count)
        for (k, v) in functions.sorted(by: { $0.key < $1.key }) { functionNames += uleb(k) + name(v) }
        let body = name("name") + [0] + uleb(moduleName.count) + moduleName + [1] + uleb(functionNames.count) + functionNames
        return [0] + uleb(body.count) + body
    }
}
