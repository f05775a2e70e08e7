import ArgumentParser
import Foundation
import Strata

/// The execution options `run`, `wast` and `bench-run` share.
struct TieringOptions: ParsableArguments {
    @Option(help: "Execution mode: \(Tier.allCases.map(\.rawValue).joined(separator: ", ")) (default: tiered).")
    var tier: Tier = .tiered

    @Option(help: "Tiered mode: the hotness that queues a function for compilation (calls weigh 15, loop iterations 1).")
    var tierUpThreshold: Int?

    @Option(help: "Background compile threads (default: cores - 1, at least 1).")
    var compileThreads: Int?

    @Flag(help: "Print one line per tiering event to standard error.")
    var tierLog = false

    @Option(help: "Tiered mode for testing: random thresholds and random swaps between tiers, from this seed.")
    var chaosSeed: UInt64?

    var configuration: EngineConfiguration {
        var c = EngineConfiguration.with(tier: tier)
        if let tierUpThreshold { c.tierUpThreshold = max(1, tierUpThreshold) }
        if let compileThreads { c.compileThreads = max(1, compileThreads) }
        if let chaosSeed {
            c.chaosSeed = chaosSeed
            FileHandle.standardError.write(Data("strata: chaos mode, seed \(chaosSeed)\n".utf8))
        }
        if tierLog {
            c.tierLog = { event in FileHandle.standardError.write(Data("\(event)\n".utf8)) }
        }
        return c
    }
}
