import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetricsRemoteWrite

/// The push pipeline under every fault, seed by seed (see ``PushSimulation``).
///
/// `make test` runs the named regression seeds and 2,000 more (1,000 fixed, 1,000 fresh);
/// `make simulate SEEDS=N` runs N fresh ones. A failure prints its seed, configuration and
/// the shortest step list found that still fails; replay with
/// `SIMULATION_SEED=<seed> swift test --filter PushSimulationTests`.
@Suite struct PushSimulationTests {
    /// Seeds that found defects, kept so they stay fixed.
    static let regressionSeeds: [UInt64] = [
        3_118_812_092_143_073_143,  // a read-only disk at restart: no timestamp floor, clock behind
        3_118_812_092_143_073_150,  // a crash scheduled into the shutdown (simulation)
        282_298_192_053_279_741,  // a torn acknowledgement lost the position: resent everything
        282_298_192_053_279_751,  // segments larger than max_disk_bytes could never be removed
        282_298_192_053_279_753,  // an unreadable disk at restart: no floor, a second value for a timestamp
        7_883_178_659_594_166_281,  // a batch in flight uncounted while its segment went for the limit
        7_883_178_659_594_166_305,  // a record whose fsync failed counted as durable
        8_687_511_704_321_398_979,  // a segment whose directory entry was never synced
        3_134_454_975_075_936_136,  // recovery counted records never synced (page cache after kill -9)
        3_972_586_798_414_869_567,  // an orphaned batch in flight lost at a crash
        3_972_586_798_414_869_144,  // a crash between dropping segments and deleting them: over the limit
        5_579_819_054_962_539_413,  // a batch whose read failed stayed marked in flight, then orphaned
        5_579_819_054_962_541_139,  // too-old records skipped before a failed read went uncounted
        5_277_068_529_539_437_936,  // a disk that fails to open at restart keeps its records for the next
        5_277_068_529_539_437_981,  // a lost acknowledged position counts delivered records as pending
        6_155_621_193_033_316_198,  // an acknowledged file that failed to open (EIO) lost the floor
        6_155_621_193_033_340_464,  // delivered segments deleted before the position covering them was stored
        6_155_621_193_033_355_219,  // the same, with the clock stepped back ten minutes
        8_534_104_015_509_953_590,  // a segment created for a record that failed pushed past max_disk_bytes
    ]

    @Test func regressionSeedsStayFixed() async {
        #expect(!Self.regressionSeeds.isEmpty)
        await Self.offThePool {
            // Found before protocol negotiation and shards: replayed exactly as then (1.0
            // throughout, one request in flight).
            for seed in Self.regressionSeeds { Self.expectClean(seed, drawProtocols: false, drawShards: false) }
        }
    }

    /// Runs `body` on a thread of its own: seconds of CPU on the Swift concurrency pool (two
    /// threads here) would starve every other test that awaits something meanwhile.
    static func offThePool(_ body: @escaping @Sendable () -> Void) async {
        await HeavyTestWork.run(body)
    }

    @Test func fixedSeeds() async {
        await Self.offThePool { Self.runFixedSeeds() }
    }

    static func runFixedSeeds() {
        if let replay = ProcessInfo.processInfo.environment["SIMULATION_SEED"].flatMap(UInt64.init) {
            if ProcessInfo.processInfo.environment["SIMULATION_TRACE"] != nil {
                let simulation = PushSimulation(seed: replay)
                simulation.trace = true
                print(simulation.configuration)
                print(simulation.run(simulation.randomSteps()).map { "\($0)" } ?? "clean")
                return
            }
            Self.expectClean(replay)
            return
        }
        let count = ProcessInfo.processInfo.environment["SIMULATION_FIXED_SEEDS"].flatMap(UInt64.init) ?? 1000
        let seeds = (1...max(1, count)).map { $0 }
        #expect(!seeds.isEmpty)
        var coverage = (stored: 0, ignored: 0, refused: 0, fallbacks: 0)
        var shards = (parallel: 0, resharded: 0, parallelOnDisk: 0)
        for seed in seeds {
            Self.expectClean(seed) { simulation in
                coverage.stored += simulation.receiver.v2Stored
                coverage.ignored += simulation.receiver.v2Ignored
                coverage.refused += simulation.receiver.v2Refused
                coverage.fallbacks += simulation.fallbacks
                if simulation.mostInFlight > 1 {
                    shards.parallel += 1
                    if simulation.configuration.disk { shards.parallelOnDisk += 1 }
                }
                if simulation.mostShards > simulation.configuration.minShards { shards.resharded += 1 }
            }
        }
        // The negotiation was exercised: 2.0 stored, ignored by 1.x receivers, refused, fallen back from.
        #expect(
            coverage.stored > 0 && coverage.ignored > 0 && coverage.refused > 0 && coverage.fallbacks > 0, "\(coverage)"
        )
        // Shards were: several requests in flight (memory and disk), answered in any order,
        // and the controller took more shards than the minimum.
        print("simulation: of \(seeds.count) fixed seeds, \(shards)")
        #expect(
            shards.parallel >= seeds.count / 10 && shards.parallelOnDisk > 0 && shards.resharded > 0, "\(shards)")
    }

    @Test func freshSeeds() async {
        await Self.offThePool { Self.runFreshSeeds() }
    }

    static func runFreshSeeds() {
        let count = ProcessInfo.processInfo.environment["SIMULATION_SEEDS"].flatMap(Int.init) ?? 1000
        let base = UInt64.random(in: 1_000_000...UInt64.max / 2)
        let started = ContinuousClock.now
        var failures = 0
        for offset in 0..<UInt64(count) {
            if !Self.expectClean(base + offset) {
                failures += 1
                if failures >= 3 { break }
            }
            if offset > 0 && offset % 10_000 == 0 { print("simulation: \(offset) fresh seeds from \(base) run") }
        }
        let seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        print(
            "simulation: \(count) fresh seeds from \(base) in \(String(format: "%.1f", seconds)) s "
                + "(\(String(format: "%.0f", Double(count) / max(seconds, 0.001))) seeds/s)")
        #expect(count > 0)
    }

    /// Runs `seed`; on a failure, shrinks its steps and records an issue naming the seed.
    @discardableResult
    static func expectClean(
        _ seed: UInt64, drawProtocols: Bool = true, drawShards: Bool = true,
        inspect: (PushSimulation) -> Void = { _ in }
    ) -> Bool {
        let make = { PushSimulation(seed: seed, drawProtocols: drawProtocols, drawShards: drawShards) }
        let steps = make().randomSteps()
        #expect(!steps.isEmpty)
        let simulation = make()
        let result = simulation.run(steps)
        inspect(simulation)
        guard let failure = result else { return true }
        let shortest = shrink(steps, make)
        let replayed = make().run(shortest) ?? failure
        Issue.record(
            """
            simulation seed \(seed) failed \(failure)
            configuration: \(make().configuration)
            shortest failing steps (\(shortest.count) of \(steps.count)), failing \(replayed):
            \(shortest.enumerated().map { "  \($0.offset + 1). \($0.element)" }.joined(separator: "\n"))
            replay: SIMULATION_SEED=\(seed) swift test --filter PushSimulationTests
            """)
        return false
    }

    /// Removes chunks of steps, then single steps, while the run still fails.
    static func shrink(_ steps: [SimulationStep], _ make: () -> PushSimulation) -> [SimulationStep] {
        var current = steps
        var chunk = max(1, current.count / 2)
        var runs = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while chunk >= 1 && runs < 3000 && ContinuousClock.now < deadline {
            var index = 0
            var removedAny = false
            while index < current.count && runs < 3000 && ContinuousClock.now < deadline {
                var candidate = current
                candidate.removeSubrange(index..<min(current.count, index + chunk))
                runs += 1
                if make().run(candidate) != nil {
                    current = candidate
                    removedAny = true
                } else {
                    index += chunk
                }
            }
            if !removedAny || chunk > 1 { chunk /= 2 }
        }
        return current
    }
}
