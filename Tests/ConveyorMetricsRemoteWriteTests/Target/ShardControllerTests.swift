import Testing

@testable import ConveyorMetricsRemoteWrite

/// ``ShardController``: more shards at once for a backlog, fewer only after a while, within
/// the bounds, and enough for the benchmark router to send a snapshot side by side.
@Suite("Shard controller")
struct ShardControllerTests {
    static let second: Int64 = 1_000_000_000

    /// 13,400 samples a second, requests of 2,000 taking `latency` seconds.
    static func controller(latency: Double, max: Int = 50) -> ShardController {
        var controller = ShardController(minShards: 1, maxShards: max, maxSamplesPerSend: 2_000)
        for _ in 0..<5 { controller.delivered(samples: 2_000, nanoseconds: Int64(latency * 1e9)) }
        return controller
    }

    @Test func withoutAMeasurementItKeepsTheMinimum() {
        var controller = ShardController(minShards: 2, maxShards: 10, maxSamplesPerSend: 2_000)
        #expect(controller.update(produced: 0, pending: 1_000_000, pushIntervalSeconds: 1, now: 0) == 2)
        #expect(controller.update(produced: 100_000, pending: 1_000_000, pushIntervalSeconds: 1, now: Self.second) == 2)
    }

    /// A snapshot's 6.7 full requests one after another may take a fifth of a second: one
    /// shard for a receiver that answers in 5 ms (34 ms), four at 105 ms (704 ms), one per
    /// full request (seven) at 300 ms.
    @Test func theSteadyStateOfABenchmarkRouterSendsASnapshotWithinAFifthOfTheInterval() {
        for (latency, expected) in [(0.005, 1), (0.105, 4), (0.3, 7)] {
            var controller = Self.controller(latency: latency)
            var shards = 0
            for second in 0...10 {
                shards = controller.update(
                    produced: 13_400 * second, pending: 13_400, pushIntervalSeconds: 1, now: Int64(second) * Self.second
                )
            }
            #expect(shards == expected, "at \(latency) s a request")
        }
    }

    @Test func aBacklogTakesMoreShardsAtOnceWithinTheMaximumAndFewerOnlyAfterTenSeconds() {
        var controller = Self.controller(latency: 0.105)
        _ = controller.update(produced: 0, pending: 13_400, pushIntervalSeconds: 1, now: 0)
        // An outage's 60 s of samples: 804,000 pending.
        let up = controller.update(produced: 13_400, pending: 804_000, pushIntervalSeconds: 1, now: Self.second)
        #expect(up > 10 && up <= 50, "\(up)")
        var bounded = Self.controller(latency: 0.105, max: 8)
        #expect(bounded.update(produced: 0, pending: 804_000, pushIntervalSeconds: 1, now: 0) == 8)
        // The backlog is gone: the shards stay for 10 s, then drop to what the rate needs.
        var shards = up
        var second: Int64 = 2
        while second < 11 {
            shards = controller.update(
                produced: 13_400 * Int(second), pending: 13_400, pushIntervalSeconds: 1, now: second * Self.second)
            #expect(shards == up, "still \(up) at \(second) s")
            second += 1
        }
        while second < 20 {
            shards = controller.update(
                produced: 13_400 * Int(second), pending: 13_400, pushIntervalSeconds: 1, now: second * Self.second)
            second += 1
        }
        #expect(shards == 4)
    }

    /// The wave as the sender cuts it: a snapshot of `samples` in `shards` streams by position,
    /// each stream in requests of at most 2,000, every request answered after `latency`.
    static func settle(samples: Int, latency: Double, seconds: Int = 60) -> [Int] {
        var controller = ShardController(minShards: 1, maxShards: 50, maxSamplesPerSend: 2_000)
        var shards = 1
        var history: [Int] = []
        for second in 0..<seconds {
            let streams = min(shards, samples)
            for stream in 0..<streams {
                var left = samples / streams + (stream < samples % streams ? 1 : 0)
                while left > 0 {
                    controller.delivered(samples: min(left, 2_000), nanoseconds: Int64(latency * 1e9))
                    left -= min(left, 2_000)
                }
            }
            shards = controller.update(
                produced: samples * (second + 1), pending: samples, pushIntervalSeconds: 1,
                now: Int64(second + 1) * Self.second)
            history.append(shards)
        }
        return history
    }

    /// Splitting a snapshot over more shards makes its requests smaller but hardly faster
    /// (the time is the receiver's latency): shards must not feed on that. Each case settles
    /// and stays for the last half minute of a minute of flushes: at most one shard per full
    /// request (7 for 13,400 samples, 2 for 4,000, 1 for 70) unless keeping up needs more
    /// (9 at 0.9 s a request, near the 1 s interval); 100,000 samples at 105 ms take 27
    /// (50 full requests × 0.105 s over 0.2 s).
    @Test(arguments: [
        (13_400, 0.005, 1), (13_400, 0.105, 4), (13_400, 0.2, 7), (13_400, 0.3, 7), (13_400, 0.9, 9),
        (70, 0.3, 1), (70, 0.9, 1), (100_000, 0.105, 27), (4_000, 0.105, 2), (4_000, 0.3, 2),
    ])
    func shardsSettleWhenRequestsShrinkWithThem(samples: Int, latency: Double, expected: Int) {
        let history = Self.settle(samples: samples, latency: latency)
        #expect(!history.isEmpty)
        #expect(
            history.suffix(30).allSatisfy { $0 == expected },
            "\(samples) samples at \(latency) s a request: \(history)")
    }
}
