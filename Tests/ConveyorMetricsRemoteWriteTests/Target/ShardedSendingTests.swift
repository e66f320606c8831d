import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// Shards over real HTTP (libcurl's multi interface against the TestKit receiver): requests
/// overlap, every series keeps its timestamp order, and the controller takes more shards
/// for a backlog after an outage.
@Suite("Sharded sending")
struct ShardedSendingTests {
    /// Counters bumped before every flush, so each snapshot carries new values.
    final class Load: Sendable {
        let series: [CounterSeries]

        init(_ registry: MetricsRegistry, count: Int = 100) {
            let family = registry.counterFamily(name: "load_total", help: "Load", labelNames: ["n"])
            series = (0..<count).map { family.series(String($0)) }
        }

        func bump() { for counter in series { counter.increment() } }
    }

    /// Arrival order per series: the timestamps each series' samples came in, request by
    /// request as the receiver recorded them.
    static func arrivals(_ receiver: RemoteWriteReceiver) -> [String: [Int64]] {
        var arrivals: [String: [Int64]] = [:]
        for request in receiver.requests {
            for series in request.accepted?.timeSeries ?? [] where series.metricName == "load_total" {
                let key = series.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                arrivals[key, default: []] += series.samples.map(\.timestampMilliseconds)
            }
        }
        return arrivals
    }

    @Test func fourShardsOverlapRequestsAndKeepEverySeriesInOrder() async throws {
        // Each answer takes 300 ms: one request at a time, arrivals would be 300 ms apart.
        let harness = try await PushHarness.make(
            script: { _ in .delay(.milliseconds(300), then: .accept) },
            configure: { target in
                target.pushInterval = .milliseconds(100)
                target.queue.maxSamplesPerSend = 25
                target.queue.minShards = 4
                target.queue.maxShards = 4
            }, sendMetadata: false)
        let load = Load(harness.registry)
        let bumping = Task {
            while !Task.isCancelled {
                load.bump()
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { bumping.cancel() }
        try await harness.run { harness.receiver.requests.count >= 24 }
        let times = harness.receiver.requests.map(\.receivedAtMilliseconds).sorted()
        #expect(times.count >= 24)
        let close = zip(times, times.dropFirst()).filter { $1 - $0 < 150 }.count
        #expect(close >= times.count / 2, "requests answered within 150 ms of another: \(close) of \(times.count)")
        let arrivals = Self.arrivals(harness.receiver)
        #expect(arrivals.count == 100)
        for (series, timestamps) in arrivals {
            #expect(timestamps == timestamps.sorted() && Set(timestamps).count == timestamps.count, "\(series)")
        }
        #expect(harness.selfMetric("conveyor_metrics_remote_write_shards") == 4)
        #expect(harness.receiver.requests.allSatisfy { $0.status == 204 })
    }

    @Test func aBacklogAfterAnOutageTakesMoreShards() async throws {
        // 503s until 8,000 samples wait (however slowly a loaded machine flushes), then
        // answers that take 100 ms: one shard would need 16 s to send them.
        let outage = Atomic<Bool>(true)
        let harness = try await PushHarness.make(
            script: { _ in
                outage.load(ordering: .relaxed) ? .respond(status: 503) : .delay(.milliseconds(100), then: .accept)
            },
            configure: { target in
                target.pushInterval = .milliseconds(100)
                target.queue.maxSamplesPerSend = 50
                target.queue.maxShards = 8
            }, sendMetadata: false)
        let load = Load(harness.registry, count: 200)
        load.bump()
        let mostShards = Mutex(0.0)
        try await harness.run(timeout: .seconds(90)) {
            let shards = harness.selfMetric("conveyor_metrics_remote_write_shards") ?? 0
            mostShards.withLock { $0 = max($0, shards) }
            let pending = harness.selfMetric("conveyor_metrics_remote_write_samples_pending") ?? 0
            if outage.load(ordering: .relaxed) {
                if pending >= 8_000 { outage.store(false, ordering: .relaxed) }
                return false
            }
            return pending < 1_000
        }
        let most = mostShards.withLock { $0 }
        #expect(most > 1, "the controller took more shards for the backlog (most seen: \(most))")
        #expect((harness.selfMetric("conveyor_metrics_remote_write_shards_desired") ?? 0) >= 1)
        let arrivals = Self.arrivals(harness.receiver)
        #expect(arrivals.count == 200)
        for (series, timestamps) in arrivals {
            #expect(timestamps == timestamps.sorted(), "\(series)")
        }
        #expect(harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total") ?? 0 == 0)
    }
}
