import ArgumentParser
import FoundationEssentials
import Glibc
import Dispatch
import Strata
import StrataSpecTest

/// `strata compile`: fills the code cache ahead of time (the precompile step).
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile a module into the code cache, so that later runs start compiled.",
        discussion: "With --tier tiered (the default), every function is compiled for tiered runs; with --tier baseline, for baseline runs.")

    @Option(help: "The mode later runs use: tiered or baseline.")
    var tier: Tier = .tiered

    @OptionGroup var folder: CacheFolderOption

    @Option(help: "Compile threads (default: cores - 1, at least 1).")
    var compileThreads: Int?

    @Argument(help: "A .wasm or .wat file.")
    var file: String

    func run() throws {
        guard tier != .interpreter else { fail("the interpreter tier has nothing to cache") }
        guard let cache = folder.open() else { fail("no code cache") }
        var config = EngineConfiguration.with(tier: tier)
        config.codeCache = cache
        if let compileThreads { config.compileThreads = max(1, compileThreads) }
        let engine = Engine(configuration: config)
        let start = DispatchTime.now().uptimeNanoseconds
        let module: Module
        do {
            module = try loadModule(engine: engine, file)
        } catch {
            fail("\(file): \(error)")
        }
        module.precompile()
        engine.flushCodeCache(timeout: 600)
        let s = engine.tieringStatistics
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let compiled = module.compiledFunctionCount
        print(format("%@: %d of %d functions compiled for the %@ tier (%d were cached already), %.3f s; cache %@",
                     file, compiled, module.definedFunctionCount, tier.rawValue, module.functionsLoadedFromCache, elapsed, cache.directory))
        if s.notCompiled > 0 { print("\(s.notCompiled) functions use SIMD and stay in the interpreter") }
    }
}

/// `strata cache`: where the cache is, what it holds, and emptying it.
struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cache", abstract: "Inspect or clean the code cache.")

    @Argument(help: "stats, clean or path.")
    var action: String

    @OptionGroup var folder: CacheFolderOption

    func run() throws {
        guard ["stats", "clean", "path"].contains(action) else { fail("unknown action \(action) (stats, clean, path)") }
        guard let cache = folder.open() else { fail("no code cache") }
        switch action {
        case "path":
            print(cache.directory)
        case "clean":
            let before = cache.statistics
            cache.clean()
            print("removed \(before.entries) entries (\(before.bytes) bytes) from \(cache.directory)")
        default:
            let s = cache.statistics
            print("\(cache.directory): \(s.entries) entries, \(s.bytes) bytes (limit \(cache.sizeLimit) bytes)")
        }
    }
}
