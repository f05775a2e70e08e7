// Usage: wasmkit-driver PROGRAM.wasm [REPS]. Prints the harness protocol of Benchmarks/README.md.
import Foundation
import WasmKit
import WAT

func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: wasmkit-driver PROGRAM.wasm [REPS]\n".utf8))
    exit(2)
}
let reps = arguments.count > 2 ? max(Int(arguments[2]) ?? 1, 1) : 1
do {
    let start = seconds()
    let file = try Data(contentsOf: URL(fileURLWithPath: arguments[1]))
    let bytes = arguments[1].hasSuffix(".wat") ? try wat2wasm(String(decoding: file, as: UTF8.self)) : [UInt8](file)
    let module = try parseWasm(bytes: bytes)
    let store = Store(engine: Engine())
    let instance = try module.instantiate(store: store)
    print(String(format: "load %.9f", seconds() - start))
    guard let run = instance.exports[function: "run"] else {
        FileHandle.standardError.write(Data("\(arguments[1]) exports no run function\n".utf8))
        exit(1)
    }
    for i in 0..<reps {
        let a = seconds()
        let results = try run.invoke([])
        let b = seconds()
        if i == 0, case .i32(let v)? = results.first { print("result \(Int32(bitPattern: v))") }
        print(String(format: "iteration %.9f", b - a))
    }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
print(String(format: "cpu %.6f", Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6))
print("rss \(usage.ru_maxrss)")
