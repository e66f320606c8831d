import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter
@testable import ConveyorMetricsTestKit

/// The push path against hostile or broken receivers: each case handled, logged once, no crash.
@Suite("Push path fault injection")
struct FaultInjectionTests {
    @Test func aOneMegabyteErrorBodyIsCutToOneKilobyteInLogsAndStatus() async throws {
        let logs = LogCapture()
        let body = String(repeating: "x", count: 1 << 20)
        let harness = try await PushHarness.make(
            script: { index in index < 2 ? .respond(status: 500, body: body) : .accept }, sendMetadata: false,
            logger: logs.logger())
        Ticker(harness.registry).counter.increment()
        try await harness.run { harness.receiver.requests.filter { $0.status == 204 }.count >= 1 }
        let failures = logs.all.filter { $0.contains("remote write failed") }
        #expect(failures.count == 1, "the same error is logged once: \(failures.count)")
        #expect(failures.allSatisfy { $0.utf8.count < 2048 }, "the logged body is cut")
        let lastError = harness.writer.statuses.first?.lastError ?? ""
        #expect(lastError.utf8.count <= 1100, "status keeps at most 1 KB of the body")
    }

    @Test func status999IsRefusedForGoodAndTheNextBatchFlows() async throws {
        let harness = try await PushHarness.make(
            script: { index in index == 0 ? .respond(status: 999) : .accept }, sendMetadata: false)
        Ticker(harness.registry).counter.increment()
        try await harness.run { harness.receiver.requests.filter { $0.status == 204 }.count >= 2 }
        #expect(harness.selfMetric("conveyor_metrics_remote_write_requests_total", ["code": "999"]) == 1)
        #expect((harness.selfMetric("conveyor_metrics_remote_write_samples_failed_total") ?? 0) > 0)
        #expect((harness.selfMetric("conveyor_metrics_remote_write_samples_sent_total") ?? 0) > 0)
    }

    @Test func anEmpty200IsADelivery() async throws {
        let harness = try await PushHarness.make(
            script: { _ in .respond(status: 200) }, sendMetadata: false)
        Ticker(harness.registry).counter.increment()
        try await harness.run { harness.receiver.requests.count >= 2 }
        #expect(harness.selfMetric("conveyor_metrics_remote_write_samples_retried_total") == 0)
        #expect((harness.selfMetric("conveyor_metrics_remote_write_samples_sent_total") ?? 0) > 0)
        #expect(harness.writer.statuses.first?.failedRequests == 0)
    }

    @Test func aSlowReceiverNeitherBlocksRecordingNorScraping() async throws {
        let harness = try await PushHarness.make(
            script: { _ in .delay(.seconds(2), then: .accept) }, configure: { $0.remoteTimeout = .seconds(10) },
            sendMetadata: false)
        let exporter = MetricsExporter(
            configuration: .init(host: "127.0.0.1", port: 0), registry: harness.registry)
        try await exporter.start()
        let ticker = Ticker(harness.registry)
        let writer = harness.writer
        let task = Task { try await writer.run() }
        // While the receiver holds a request for 2 s: scrapes answer and records land.
        try await Task.sleep(for: .milliseconds(500))
        var scrapes = 0
        for round in 1...10 {
            ticker.counter.increment()
            let response = try await RawHTTPClient(port: exporter.boundPort ?? 0).get("/metrics")
            #expect(response.status == 200)
            #expect(response.text.contains("ticks_total{k=\"v\"} \(round)"))
            scrapes += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        let pendingMidway = harness.writer.statuses.first?.pendingSamples ?? 0
        #expect(pendingMidway > 0, "snapshots keep being queued behind the slow request")
        for _ in 0..<200 where harness.receiver.requests.count < 3 { try await Task.sleep(for: .milliseconds(50)) }
        task.cancel()
        try await task.value
        await exporter.shutdown()
        await harness.receiver.shutdown()
        #expect(scrapes == 10)
        let delivered = harness.samples("ticks_total").map(\.timestampMilliseconds)
        #expect(delivered == delivered.sorted() && Set(delivered).count == delivered.count)
        #expect(
            harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "queue_full"]) == 0)
    }

    @Test func aSixtySecondOutageAtOneSecondIntervalsLosesNothing() async throws {
        let started = ContinuousClock.now
        let harness = try await PushHarness.make(
            script: { _ in ContinuousClock.now - started < .seconds(60) ? .respond(status: 503) : .accept },
            configure: {
                $0.pushInterval = .seconds(1)
                $0.queue.maxBackoff = .seconds(5)
            }, sendMetadata: false)
        let ticker = Ticker(harness.registry)
        let mostPending = Atomic<Int>(0)
        try await harness.run(timeout: .seconds(120)) {
            ticker.counter.increment()
            let pending = harness.writer.statuses.first?.pendingSamples ?? 0
            mostPending.max(pending, ordering: .relaxed)
            return ContinuousClock.now - started > .seconds(62) && pending == 0
        }
        let delivered = harness.samples("ticks_total").map(\.timestampMilliseconds)
        // One snapshot a second for over 60 s; a loaded machine runs a few flushes late (none
        // is lost: the drop counters below are 0 and the gaps stay under 2.5 s).
        #expect(delivered.count >= 55, "about one snapshot per second for over 60 s: \(delivered.count)")
        #expect(delivered == delivered.sorted() && Set(delivered).count == delivered.count, "in order, none twice")
        let gaps = zip(delivered, delivered.dropFirst()).map { $1 - $0 }
        #expect(
            (gaps.max() ?? 0) < 2500, "no snapshot missing from the 1 s cadence (largest gap \(gaps.max() ?? 0) ms)")
        let firstAccepted = try #require(harness.receiver.requests.firstIndex { $0.status == 204 })
        let outageEnd = harness.receiver.requests[firstAccepted].receivedAtMilliseconds
        // About 60 snapshots fall in the outage (fewer when flushes run late on a slow machine;
        // the gap check above is what proves none is missing).
        #expect(delivered.filter { $0 < outageEnd }.count >= 50, "the outage's snapshots arrived")
        for reason in ["queue_full", "shutdown"] {
            #expect(harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": reason]) == 0)
        }
        #expect(mostPending.load(ordering: .relaxed) <= 10_000, "the queue stayed within its bound")
        #expect(harness.receiver.checker.totals.rejectedRequests == 0)
    }

    @Test func samplesLeftAtAnAbandonedShutdownAreCounted() async throws {
        let harness = try await PushHarness.make(
            script: { _ in .respond(status: 503) }, shutdownTimeout: .milliseconds(300))
        Ticker(harness.registry).counter.increment()
        try await harness.run { harness.receiver.requests.count >= 3 }
        #expect(
            (harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "shutdown"]) ?? 0) > 0
        )
        #expect(harness.selfMetric("conveyor_metrics_remote_write_samples_pending") == 0)
    }
}
