import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Remote writer against the mock receiver")
struct RemoteWriterTests {
    @Test func pushesEveryFamilyWithTheProtocolHeadersAndMetadata() async throws {
        let harness = try await PushHarness.make()
        ConveyorRouterMetrics(registry: harness.registry).recordRecordsReceived(sourceID: "s", count: 3)
        harness.registry.histogramFamily(name: "h_ms", help: "h", buckets: [1]).series().observe(0.5)
        try await harness.run {
            harness.receiver.requests.contains { $0.accepted?.metadata.isEmpty == false }
                && !harness.samples("h_ms_count").isEmpty
        }
        let requests = harness.receiver.requests
        #expect(!requests.isEmpty)
        for request in requests {
            #expect(request.header("Content-Encoding") == "snappy")
            #expect(request.header("Content-Type") == "application/x-protobuf")
            #expect(request.header("X-Prometheus-Remote-Write-Version") == "0.1.0")
            #expect(request.header("User-Agent") == "conveyor-metrics/\(ConveyorMetricsVersion.current)")
            #expect(request.status == 204, "\(request.decoded)")
        }
        let received = harness.samples("conveyor_router_records_received_total", ["source_id": "s"])
        #expect(received.first?.value == 3)
        let series = harness.receiver.acceptedSeries.first { $0.metricName == "conveyor_router_records_received_total" }
        #expect(series?.labels.map(\.name) == ["__name__", "instance", "source_id"])
        #expect(series?.labels.first { $0.name == "instance" }?.value == "test-router")
        #expect(harness.samples("h_ms_bucket", ["le": "+Inf"]).first?.value == 1)
        let metadata = requests.compactMap(\.accepted).first { !$0.metadata.isEmpty }
        #expect(metadata?.timeSeries.isEmpty == true, "metadata travels without samples")
        #expect(metadata?.metadata.contains { $0.familyName == "h_ms" && $0.type == .histogram } == true)
        #expect(harness.receiver.checker.totals.rejectedRequests == 0)
    }

    @Test func refused500IsSentAgain() async throws {
        let harness = try await PushHarness.make(
            script: { index in index == 0 ? .respond(status: 500) : .accept }, sendMetadata: false)
        let ticker = Ticker(harness.registry)
        ticker.counter.increment(by: 41 as UInt64)
        try await harness.run { harness.receiver.requests.count >= 3 }
        let first = try #require(harness.receiver.requests.first)
        #expect(first.status == 500)
        guard case .success(let refused) = first.decoded else { return #expect(Bool(false)) }
        let refusedTimestamps = Set(refused.timeSeries.flatMap(\.samples).map(\.timestampMilliseconds))
        let second = try #require(
            harness.receiver.requests.dropFirst().first {
                $0.accepted != nil && !($0.accepted?.timeSeries.isEmpty ?? true)
            })
        let resent = Set(second.accepted!.timeSeries.flatMap(\.samples).map(\.timestampMilliseconds))
        #expect(refusedTimestamps.isSubset(of: resent), "the refused batch arrives later")
        #expect((harness.selfMetric("conveyor_metrics_remote_write_samples_retried_total") ?? 0) > 0)
        #expect(harness.selfMetric("conveyor_metrics_remote_write_requests_total", ["code": "500"]) == 1)
    }

    @Test func refused400IsDroppedAndLaterBatchesFlow() async throws {
        let harness = try await PushHarness.make(
            script: { index in index == 0 ? .respond(status: 400, body: "bad sample\n") : .accept }, sendMetadata: false
        )
        let ticker = Ticker(harness.registry)
        ticker.counter.increment()
        try await harness.run { harness.receiver.requests.filter { $0.accepted != nil }.count >= 3 }
        guard case .success(let refused) = harness.receiver.requests.first?.decoded else { return #expect(Bool(false)) }
        let refusedTimestamps = Set(refused.timeSeries.flatMap(\.samples).map(\.timestampMilliseconds))
        let accepted = Set(harness.receiver.acceptedSeries.flatMap(\.samples).map(\.timestampMilliseconds))
        #expect(refusedTimestamps.isDisjoint(with: accepted), "the refused batch never arrives again")
        #expect(harness.selfMetric("conveyor_metrics_remote_write_samples_failed_total") == Double(refused.sampleCount))
        #expect(harness.writer.statuses.first?.lastError?.contains("HTTP 400: bad sample") == true)
    }

    @Test func retryAfterIsHonoured() async throws {
        let harness = try await PushHarness.make(
            script: { index in index == 0 ? .respond(status: 429, headers: [("Retry-After", "1")]) : .accept },
            sendMetadata: false)
        try await harness.run { harness.receiver.requests.count >= 2 }
        let requests = harness.receiver.requests
        let gap = requests[1].receivedAtMilliseconds - requests[0].receivedAtMilliseconds
        #expect(gap >= 950, "waited for Retry-After: 1 (gap \(gap) ms; backoff alone would be ≤ 200 ms)")
    }

    @Test func outageOf503DeliversEverySnapshotInOrder() async throws {
        // The outage is counted in requests (about 2 s of backoff), not wall time, so a slow
        // start on a loaded machine cannot swallow it.
        let harness = try await PushHarness.make(
            script: { index in index < 15 ? .respond(status: 503) : .accept }, sendMetadata: false)
        let ticker = Ticker(harness.registry)
        let stop = Atomic<Bool>(false)
        let recorder = Task {
            while !stop.load(ordering: .relaxed) {
                ticker.counter.increment()
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await harness.run {
            harness.receiver.requests.count > 16 && harness.writer.statuses.first?.pendingSamples == 0
        }
        stop.store(true, ordering: .relaxed)
        _ = try? await recorder.value
        let refusedTimestamps = Set(
            harness.receiver.requests.filter { $0.status == 503 }.compactMap { try? $0.decoded.get() }
                .flatMap(\.timeSeries).filter { $0.metricName == "ticks_total" }.flatMap(\.samples)
                .map(\.timestampMilliseconds))
        let delivered = harness.samples("ticks_total").map(\.timestampMilliseconds)
        #expect(!refusedTimestamps.isEmpty)
        #expect(refusedTimestamps.isSubset(of: Set(delivered)), "every snapshot of the outage is delivered")
        #expect(
            delivered == delivered.sorted() && Set(delivered).count == delivered.count, "strictly in order, none twice")
        #expect(harness.receiver.checker.totals.rejectedRequests == 0)
        let values = harness.samples("ticks_total").filter { !$0.isStaleMarker }.map(\.value)
        #expect(values == values.sorted(), "a counter never goes down on the receiver")
    }

    @Test func hangPastRemoteTimeoutIsRetried() async throws {
        let harness = try await PushHarness.make(
            script: { index in index == 0 ? .delay(.seconds(3), then: .accept) : .accept },
            configure: { $0.remoteTimeout = .milliseconds(500) })
        try await harness.run { harness.receiver.requests.filter { $0.status == 204 }.count >= 2 }
        #expect(harness.selfMetric("conveyor_metrics_remote_write_requests_total", ["code": "error"]) ?? 0 >= 1)
    }

    @Test func connectionClosedMidRequestIsRetried() async throws {
        let harness = try await PushHarness.make(script: { index in index < 2 ? .closeConnection : .accept })
        let ticker = Ticker(harness.registry)
        ticker.counter.increment(by: 7 as UInt64)
        try await harness.run { !harness.samples("ticks_total").isEmpty }
        #expect(harness.samples("ticks_total").first?.value == 7)
        #expect(harness.writer.statuses.first?.failedRequests ?? 0 >= 2)
    }

    @Test func connectionRefusedUntilTheReceiverComesUp() async throws {
        // Find a free port, leave it closed for a while, then start a receiver on it.
        let probe = RemoteWriteReceiver()
        try await probe.start()
        let port = try #require(probe.boundPort)
        await probe.shutdown()
        let registry = MetricsRegistry()
        Ticker(registry).counter.increment(by: 5 as UInt64)
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:\(port)/api/v1/write")
        target.pushInterval = .milliseconds(100)
        target.queue.maxBackoff = .milliseconds(100)
        let writer = try RemoteWriter(configuration: .init(targets: [target]), registry: registry)
        let task = Task { try await writer.run() }
        for _ in 0..<200 where writer.statuses.first?.lastError == nil { try await Task.sleep(for: .milliseconds(50)) }
        #expect(writer.statuses.first?.lastError?.lowercased().contains("connect") == true)
        let receiver = RemoteWriteReceiver(port: port)
        // Another test's outgoing connection may hold the port for a moment: retry binding.
        for attempt in 1...50 {
            do {
                try await receiver.start()
                break
            } catch  where attempt < 50 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { Task { await receiver.shutdown() } }
        let deadline = ContinuousClock.now + .seconds(10)
        while receiver.acceptedSeries.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        try await task.value
        let ticks = receiver.acceptedSeries.filter { $0.metricName == "ticks_total" }.flatMap(\.samples)
        #expect(ticks.first?.value == 5, "the first snapshot, queued while refused, arrives first")
        await receiver.shutdown()
    }

    @Test func shutdownSendsFinalSnapshotAndExactStaleMarkers() async throws {
        let harness = try await PushHarness.make(configure: { $0.pushInterval = .seconds(60) })
        let gauge = harness.registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
        gauge.series("gone").set(1)
        gauge.series("kept").set(2)
        try await harness.run { !harness.samples("g").isEmpty }
        let kept = harness.samples("g", ["k": "kept"])
        #expect(kept.count >= 2, "first push plus the final snapshot")
        let last = try #require(kept.last)
        #expect(last.value.bitPattern == 0x7ff0_0000_0000_0002, "stale marker has the exact bits")
        #expect(harness.receiver.acceptedSeries.flatMap(\.samples).filter { $0.isStaleMarker }.count >= 2)
        let nonStaleNaN = harness.receiver.acceptedSeries.flatMap(\.samples).filter {
            $0.value.isNaN && !$0.isStaleMarker
        }
        #expect(nonStaleNaN.allSatisfy { $0.value.bitPattern == 0x7ff8_0000_0000_0001 })
    }

    @Test func removedSeriesGetAStaleMarkerAtTheNextFlush() async throws {
        let harness = try await PushHarness.make()
        let gauge = harness.registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
        gauge.series("gone").set(1)
        try await harness.run {
            if !harness.samples("g", ["k": "gone"]).isEmpty { gauge.remove(["gone"]) }
            return harness.samples("g", ["k": "gone"]).contains { $0.isStaleMarker }
        }
        let gone = harness.samples("g", ["k": "gone"])
        #expect(gone.filter(\.isStaleMarker).count == 1, "one stale marker, not one per flush")
        #expect(gone.last?.isStaleMarker == true)
    }

    @Test func queueBoundDropsOldestAndCountsExactly() async throws {
        let open = Atomic<Bool>(false)
        let harness = try await PushHarness.make(
            script: { _ in open.load(ordering: .relaxed) ? .accept : .respond(status: 503) },
            configure: {
                $0.queue.capacity = 20
                $0.queue.maxSamplesPerSend = 5
            })
        let ticker = Ticker(harness.registry)
        try await harness.run {
            ticker.counter.increment()
            if (harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "queue_full"]) ?? 0)
                > 50
            {
                open.store(true, ordering: .relaxed)
            }
            return open.load(ordering: .relaxed) && harness.writer.statuses.first?.pendingSamples == 0
        }
        let sent = harness.selfMetric("conveyor_metrics_remote_write_samples_sent_total") ?? 0
        let dropped =
            (harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "queue_full"]) ?? 0)
            + (harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "shutdown"]) ?? 0)
        let failed = harness.selfMetric("conveyor_metrics_remote_write_samples_failed_total") ?? 0
        let deliveredSamples = Double(harness.receiver.acceptedSeries.flatMap(\.samples).count)
        #expect(sent == deliveredSamples)
        #expect(failed == 0)
        #expect(dropped > 50)
        let delivered = harness.samples("ticks_total").map(\.timestampMilliseconds)
        #expect(delivered == delivered.sorted())
        #expect(
            harness.receiver.requests.compactMap(\.accepted).allSatisfy { $0.sampleCount <= 5 }, "max_samples_per_send")
    }

    @Test func oneDeadTargetNeverDelaysAnother() async throws {
        let live = RemoteWriteReceiver()
        let dead = RemoteWriteReceiver(script: { _ in .delay(.seconds(30), then: .accept) })
        try await live.start()
        try await dead.start()
        let registry = MetricsRegistry()
        Ticker(registry).counter.increment()
        var liveTarget = RemoteWriteTargetConfiguration(url: live.url)
        liveTarget.name = "live"
        liveTarget.pushInterval = .milliseconds(200)
        var deadTarget = RemoteWriteTargetConfiguration(url: dead.url)
        deadTarget.name = "dead"
        deadTarget.pushInterval = .milliseconds(200)
        var configuration = RemoteWriteConfiguration(targets: [liveTarget, deadTarget])
        configuration.shutdownTimeout = .seconds(1)
        let writer = try RemoteWriter(configuration: configuration, registry: registry)
        let task = Task { try await writer.run() }
        // The dead target's first request hangs for 30 s. Five deliveries of the live one
        // within 20 s show it never waits behind the other (blocked, it would get at most 1).
        func liveDeliveries() -> Int { live.requests.filter { !($0.accepted?.timeSeries.isEmpty ?? true) }.count }
        for _ in 0..<400 where liveDeliveries() < 5 { try await Task.sleep(for: .milliseconds(50)) }
        let liveRequests = liveDeliveries()
        task.cancel()
        try await task.value
        #expect(liveRequests >= 5, "the live target kept pushing while the other hung (\(liveRequests))")
        #expect(dead.requests.allSatisfy { $0.status != 204 }, "the dead target delivered nothing meanwhile")
        await live.shutdown()
        await dead.shutdown()
    }

    @Test func customHeadersGoOutButCannotReplaceProtocolHeaders() async throws {
        let harness = try await PushHarness.make(configure: {
            $0.headers = ["X-Scope-OrgID": "tenant-a"]
            $0.basicAuth = .init(username: "edge", password: "s3cret-pass")
        })
        try await harness.run { !harness.receiver.requests.isEmpty }
        let request = try #require(harness.receiver.requests.first)
        #expect(request.header("X-Scope-OrgID") == "tenant-a")
        #expect(request.header("Authorization") == "Basic " + Data("edge:s3cret-pass".utf8).base64EncodedString())
        for header in ["User-Agent", "content-type", "Content-Encoding", "X-Prometheus-Remote-Write-Version"] {
            var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:1/api/v1/write")
            target.headers = [header: "x"]
            #expect(throws: RemoteWriteConfigurationError.self) {
                try RemoteWriteConfiguration(targets: [target]).validate()
            }
        }
    }
}
