import Testing

@testable import ConveyorMetricsRemoteWrite

/// ``ShardController``: more shards at once for a backlog, fewer only after a while, within
/// the bounds, and enough for the benchmark router to send a snapshot side by side.
@Suite("Shard controller")
struct ShardControllerTests {
    static let second: Int64 = 1_000_000_000

    /// 13,400 samples a second, requests of 2,000 taking `latency` seconds.
    static func controller(latency: Double, max: Int = 50) -> ShardController {
        var controller = ShardController(minShards: 1, maxShards: max)
        for _ in 0..<5 { controller.delivered(samples: 2_000, nanoseconds: Int64(latency * 1e9)) }
        return controller
    }

    @Test func withoutAMeasurementItKeepsTheMinimum() {
        var controller = ShardController(minShards: 2, maxShards: 10)
        #expect(controller.update(produced: 0, pending: 1_000_000, pushIntervalSeconds: 1, now: 0) == 2)
        #expect(controller.update(produced: 100_000, pending: 1_000_000, pushIntervalSeconds: 1, now: Self.second) == 2)
    }

    /// Sending one second's 13,400 samples may take a fifth of it: one shard for a receiver
    /// that answers in 5 ms (34 ms of sending), four at 105 ms (704 ms one after another),
    /// eleven at 300 ms.
    @Test func theSteadyStateOfABenchmarkRouterSendsASnapshotWithinAFifthOfTheInterval() {
        for (latency, expected) in [(0.005, 1), (0.105, 4), (0.3, 11)] {
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
}
