import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Remote writer with a disk queue")
struct DiskBackedWriterTests {
    @Test func aRestartDuringAnOutageLosesNothing() async throws {
        let storage = TemporaryDirectory()
        func configure(_ target: inout RemoteWriteTargetConfiguration) {
            target.pushInterval = .milliseconds(50)
            target.queue.storagePath = storage.path
            target.queue.maxBackoff = .milliseconds(100)
        }
        // First life: the receiver is down the whole time; shutdown leaves everything on disk.
        let down = try await PushHarness.make(
            script: { _ in .respond(status: 503) }, configure: configure, sendMetadata: false,
            shutdownTimeout: .milliseconds(300))
        let ticker = Ticker(down.registry)
        ticker.counter.increment()
        try await down.run { ((try? DiskQueueInspector.pendingRecords(in: storage.path + "/test")) ?? []).count >= 10 }
        #expect(down.receiver.acceptedSeries.isEmpty)
        #expect(down.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "shutdown"]) == 0)
        let onDisk = try DiskQueueInspector.pendingRecords(in: storage.path + "/test")
        let snapshots = Set(onDisk.map(\.timestamp))
        #expect(snapshots.count >= 10, "\(onDisk.count) records on disk")

        // Second life: the receiver is back; the backlog goes first, in order, then new snapshots.
        let up = try await PushHarness.make(configure: configure, sendMetadata: false)
        try await up.run {
            Set(up.samples("ticks_total").map(\.timestampMilliseconds)).isSuperset(of: snapshots)
        }
        let delivered = up.samples("ticks_total").map(\.timestampMilliseconds)
        #expect(delivered == delivered.sorted() && Set(delivered).count == delivered.count, "in order, none twice")
        #expect(Set(delivered).isSuperset(of: snapshots), "every snapshot of the first life arrived")
        #expect(up.receiver.checker.totals.rejectedRequests == 0)
        #expect(
            try DiskQueueInspector.pendingRecords(in: storage.path + "/test").isEmpty, "acknowledged records are gone")
    }

    @Test func diskFiguresAreSelfMetrics() async throws {
        let storage = TemporaryDirectory()
        let harness = try await PushHarness.make(
            script: { _ in .respond(status: 503) },
            configure: {
                $0.queue.storagePath = storage.path; $0.pushInterval = .milliseconds(50)
            },
            sendMetadata: false, shutdownTimeout: .milliseconds(200))
        try await harness.run { (harness.selfMetric("conveyor_metrics_remote_write_disk_bytes") ?? 0) > 2000 }
        let oldest = try #require(harness.selfMetric("conveyor_metrics_remote_write_oldest_pending_timestamp_seconds"))
        let now = Date().timeIntervalSince1970
        #expect(oldest > now - 60 && oldest < now, "oldest pending is a recent Unix time: \(oldest)")
        for reason in ["disk_full", "corrupt", "disk_error", "too_old"] {
            #expect(harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": reason]) == 0)
        }
    }

    @Test func anUnwritableStoragePathIsAStartUpError() async throws {
        let storage = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: storage.path, withIntermediateDirectories: true)
        let file = storage.path + "/file"
        try Data().write(to: URL(fileURLWithPath: file))
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:1/api/v1/write")
        target.queue.storagePath = file
        let writer = try RemoteWriter(
            configuration: RemoteWriteConfiguration(targets: [target]), registry: MetricsRegistry())
        do {
            try await writer.run()
            Issue.record("a storage path below a regular file was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("remote_write[0].queue_config.storage_path"), "\(text)")
            #expect(text.contains(file), "\(text)")
        }
    }

    @Test func samplesOlderThanTheAgeLimitAreDroppedNotSent() async throws {
        let harness = try await PushHarness.make(
            script: { index in index < 3 ? .delay(.seconds(1), then: .respond(status: 503)) : .accept },
            configure: {
                $0.queue.sampleAgeLimit = .milliseconds(500); $0.pushInterval = .milliseconds(50)
            },
            sendMetadata: false)
        try await harness.run {
            (harness.selfMetric("conveyor_metrics_remote_write_samples_dropped_total", ["reason": "too_old"]) ?? 0) > 0
                && !harness.receiver.acceptedSeries.isEmpty
        }
        // Samples of the outage would be 3 s old or more on arrival; 1 s of slack for a busy machine.
        for request in harness.receiver.requests {
            for sample in request.accepted?.timeSeries.flatMap(\.samples) ?? [] {
                let age = request.receivedAtMilliseconds - sample.timestampMilliseconds
                #expect(age < 1500, "a sample \(age) ms old was sent despite sample_age_limit 500ms")
            }
        }
    }
}
