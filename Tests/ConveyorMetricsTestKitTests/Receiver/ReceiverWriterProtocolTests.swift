import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// This package's `RemoteWriter` against each receiver the TestKit plays: 2.0 accepted and
/// checked by a 2.0 receiver; with `auto`, a fall back to 1.0 from a 1.0-only receiver
/// (after its 204 without `*-Written`) and from one refusing 2.0 (after its 415).
@Suite("Receiver protocols with the writer")
struct ReceiverWriterProtocolTests {
    private func push(
        _ message: RemoteWriteTargetConfiguration.ProtobufMessage, to protocols: RemoteWriteReceiver.ProtocolSupport,
        until condition: @escaping @Sendable (RemoteWriteReceiver) -> Bool
    ) async throws -> RemoteWriteReceiver {
        let receiver = RemoteWriteReceiver(protocols: protocols)
        try await receiver.start()
        let registry = MetricsRegistry()
        registry.counterFamily(name: "jobs_total", help: "Jobs done", labelNames: ["queue"]).series("emails")
            .increment(by: 3.0)
        var target = RemoteWriteTargetConfiguration(url: receiver.url)
        target.name = "test"
        target.pushInterval = .milliseconds(100)
        target.protobufMessage = message
        target.queue.minBackoff = .milliseconds(10)
        let writer = try RemoteWriter(configuration: RemoteWriteConfiguration(targets: [target]), registry: registry)
        let pushing = Task { try await writer.run() }
        let arrived = try await receiver.waitUntil(timeout: .seconds(30), condition)
        pushing.cancel()
        try await pushing.value
        await receiver.shutdown()
        #expect(arrived)
        return receiver
    }

    @Test func aV2WriterIsAcceptedWithStartTimestampsAndMetadata() async throws {
        let receiver = try await push(.v2, to: .v1AndV2) { $0.latestValue(of: "jobs_total") == 3 }
        let requests = receiver.requests
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0.protocolVersion == .v2 && $0.status == 204 }, "\(requests.map(\.status))")
        #expect(receiver.checker.totals.rejectedRequests == 0)
        let first = try #require(requests.first?.accepted)
        #expect(requests.first?.written?.samples == first.sampleCount && first.sampleCount > 0)
        let sample = try #require(receiver.samples(of: "jobs_total", labels: ["queue": "emails"]).first)
        #expect(
            sample.startTimestampMilliseconds > 0 && sample.startTimestampMilliseconds <= sample.timestampMilliseconds)
        #expect(
            first.metadata.contains { $0.familyName == "jobs_total" && $0.type == .counter && $0.help == "Jobs done" })
    }

    @Test func anAutoWriterStaysOn2_0WithA2_0Receiver() async throws {
        let receiver = try await push(.auto, to: .v1AndV2) {
            $0.requests.filter { $0.status == 204 }.count >= 3 && $0.latestValue(of: "jobs_total") == 3
        }
        let requests = receiver.requests
        #expect(requests.count >= 3)
        #expect(
            requests.allSatisfy { $0.protocolVersion == .v2 && $0.written != nil }, "\(requests.map(\.protocolVersion))"
        )
    }

    @Test(arguments: [RemoteWriteReceiver.ProtocolSupport.v1Only, .refusingV2])
    func anAutoWriterFallsBackTo1_0(receiver protocols: RemoteWriteReceiver.ProtocolSupport) async throws {
        let receiver = try await push(.auto, to: protocols) { $0.latestValue(of: "jobs_total") == 3 }
        let requests = receiver.requests
        let first = try #require(requests.first)
        #expect(first.protocolVersion == .v2 && first.written == nil)
        #expect(first.status == (protocols == .v1Only ? 204 : 415))
        #expect(requests.dropFirst().contains { $0.protocolVersion == .v1 && $0.status == 204 })
        let values = receiver.samples(of: "jobs_total").filter { !$0.isStaleMarker }.map(\.value)
        #expect(!values.isEmpty && values.allSatisfy { $0 == 3 }, "\(values)")
    }
}
