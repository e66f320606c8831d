import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// The demo executable with a disk queue, killed with SIGKILL during an outage.
@Suite("Demo killed during an outage")
struct DemoKillRestartTests {
    @Test func everySnapshotTakenBeforeTheKillArrivesAfterTheRestart() async throws {
        let executable = PackagePaths.executable.path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("conveyor-metrics not built at \(executable)")
            return
        }
        let receiverUp = Atomic<Bool>(false)
        let receiver = RemoteWriteReceiver { _ in receiverUp.load(ordering: .relaxed) ? .accept : .respond(status: 503)
        }
        try await receiver.start()
        let storage = TemporaryDirectory()
        let config = storage.path + "-config.yml"
        defer { try? FileManager.default.removeItem(atPath: config) }
        try """
        remote_write:
          - url: \(receiver.url)
            name: central
            push_interval: 200ms
            queue_config: { storage_path: \(storage.path), min_backoff: 30ms, max_backoff: 200ms }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        func startDemo() async throws -> ExternalServer {
            try await ExternalServer(binary: executable, readyPath: "/-/healthy") { port, _ in
                ["demo", "--listen", "127.0.0.1:\(port)", "--config", config, "--status-interval", "3600"]
            }
        }
        let queueDirectory = storage.path + "/central"

        // First life: the receiver refuses everything; snapshots pile up on disk.
        let first = try await startDemo()
        defer { first.stop() }
        var pendingBeforeKill = 0.0
        for _ in 0..<300 {
            if ((try? DiskQueueInspector.pendingRecords(in: queueDirectory)) ?? []).count >= 10 {
                let scrape = try await first.get("/metrics").text
                pendingBeforeKill = Self.value(of: "conveyor_metrics_remote_write_samples_pending", in: scrape) ?? 0
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        first.kill(SIGKILL)
        let onDisk = try DiskQueueInspector.pendingRecords(in: queueDirectory)
        let snapshots = Set(onDisk.map(\.timestamp))
        #expect(snapshots.count >= 10)
        #expect(pendingBeforeKill > 0)
        #expect(
            Double(onDisk.reduce(0) { $0 + Int($1.samples) }) >= pendingBeforeKill,
            "everything pending at the last scrape before the kill is on disk")
        #expect(receiver.acceptedSeries.isEmpty)

        // Second life: the receiver is back; the backlog arrives first, then new snapshots.
        receiverUp.store(true, ordering: .relaxed)
        let second = try await startDemo()
        defer { second.stop() }
        let series = "conveyor_metrics_remote_write_samples_pending"
        func delivered() -> [Int64] {
            receiver.acceptedSeries.filter { $0.metricName == series }.flatMap(\.samples).map(\.timestampMilliseconds)
        }
        for _ in 0..<300 where !Set(delivered()).isSuperset(of: snapshots) {
            try await Task.sleep(for: .milliseconds(100))
        }
        second.kill(SIGTERM)
        await receiver.shutdown()
        let timestamps = delivered()
        #expect(Set(timestamps).isSuperset(of: snapshots), "every snapshot on disk at the kill arrived")
        #expect(timestamps == timestamps.sorted(), "in timestamp order")
        #expect(Set(timestamps).count == timestamps.count, "none twice (the in-flight request was refused)")
        #expect(receiver.checker.totals.rejectedRequests == 0)
    }

    private static func value(of name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
