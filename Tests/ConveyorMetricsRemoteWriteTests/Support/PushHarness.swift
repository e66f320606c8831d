import ConveyorMetricsTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// A registry, a receiver with a fault script, and a writer pushing to it.
struct PushHarness {
    let registry: MetricsRegistry
    let receiver: RemoteWriteReceiver
    let writer: RemoteWriter

    /// Starts the receiver, builds the writer (not yet running).
    static func make(
        script: @escaping @Sendable (Int) -> ReceiverAction = { _ in .accept },
        configure: (inout RemoteWriteTargetConfiguration) -> Void = { _ in },
        externalLabels: [String: String] = ["instance": "test-router"],
        sendMetadata: Bool = true,
        shutdownTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "conveyor-metrics.remote-write")
    ) async throws -> PushHarness {
        let registry = MetricsRegistry()
        let receiver = RemoteWriteReceiver(script: script)
        try await receiver.start()
        var target = RemoteWriteTargetConfiguration(url: receiver.url)
        target.name = "test"
        target.pushInterval = .milliseconds(100)
        target.remoteTimeout = .seconds(2)
        target.queue.minBackoff = .milliseconds(10)
        target.queue.maxBackoff = .milliseconds(200)
        configure(&target)
        var configuration = RemoteWriteConfiguration(targets: [target], externalLabels: externalLabels)
        configuration.shutdownTimeout = shutdownTimeout
        configuration.sendMetadata = sendMetadata
        let writer = try RemoteWriter(configuration: configuration, registry: registry, logger: logger)
        return PushHarness(registry: registry, receiver: receiver, writer: writer)
    }

    /// Runs the writer until `until` holds (checked every 50 ms, at most `timeout`: 60 s, as
    /// a full suite on 2 cores can stall every test for 20 s at its start), then
    /// shuts it down gracefully (cancellation) and waits for the final flush.
    func run(timeout: Duration = .seconds(60), until condition: @escaping @Sendable () -> Bool) async throws {
        let writer = writer
        let task = Task { try await writer.run() }
        let deadline = ContinuousClock.now + timeout
        while !condition() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(condition(), "condition reached within \(timeout)")
        task.cancel()
        try await task.value
        await receiver.shutdown()
    }

    /// Samples of the accepted requests for `metric` (with `labels` contained), in arrival order.
    func samples(_ metric: String, _ labels: [String: String] = [:]) -> [RemoteSample] {
        receiver.acceptedSeries.filter { series in
            series.metricName == metric
                && labels.allSatisfy { key, value in series.labels.contains { $0.name == key && $0.value == value } }
        }.flatMap(\.samples)
    }

    func selfMetric(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        registry.snapshot().family(named: name)?.series.first { series in
            labels.allSatisfy { key, value in series.labels.contains { $0.name == key && $0.value == value } }
        }?.value.scalar
    }
}

/// A counter the tests bump so every snapshot carries a new value.
final class Ticker: Sendable {
    let counter: CounterSeries
    init(_ registry: MetricsRegistry) {
        counter = registry.counterFamily(name: "ticks_total", help: "Ticks", labelNames: ["k"]).series("v")
    }
}
