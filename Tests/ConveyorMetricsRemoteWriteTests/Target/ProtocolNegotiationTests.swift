import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// `protobuf_message`: what each setting sends to each kind of receiver, and that a fall
/// back loses nothing (memory and disk).
@Suite("Protocol negotiation")
struct ProtocolNegotiationTests {
    private static func harness(
        _ message: RemoteWriteTargetConfiguration.ProtobufMessage, _ receiver: SimulatedReceiver.Protocols,
        disk: SimulatedFileSystem? = nil
    ) -> PipelineHarness {
        let harness = PipelineHarness(disk: disk) {
            $0.protobufMessage = message
            $0.protocolProbeInterval = .seconds(60)
        }
        harness.receiver.protocols = receiver
        return harness
    }

    private static func produce(_ harness: PipelineHarness, _ value: UInt64 = 1) {
        harness.registry.counterFamily(name: "jobs_total", help: "Jobs", labelNames: ["q"]).series("a")
            .increment(by: value)
        harness.target.produce(harness.registry.snapshot(), final: false)
    }

    private static func storedJobs(_ harness: PipelineHarness) -> [RemoteSample] {
        harness.receiver.stored.filter { $0.key.contains("jobs_total") }.map(\.sample)
    }

    @Test func autoStaysOn2WithA2Receiver() {
        let harness = Self.harness(.auto, .v1AndV2)
        Self.produce(harness)
        #expect(harness.send() == 1)
        #expect(harness.machine.format == .v2)
        #expect(harness.receiver.v2Stored == 1 && Self.storedJobs(harness).count == 1)
        #expect(harness.target.context.metrics.protocolFallbacks.value == 0)
        let written = harness.metrics.snapshot().family(named: "conveyor_metrics_remote_write_reported_written_total")?
            .series(["remote_name": "t", "kind": "samples"])?.value.scalar
        #expect(written == harness.target.context.metrics.samplesSent.value && written ?? 0 > 0, "the receiver's count")
    }

    @Test(arguments: [SimulatedReceiver.Protocols.v1Only, .refusingV2])
    func autoFallsBackAtOnceAndResendsTheSameSamples(receiver: SimulatedReceiver.Protocols) {
        let harness = Self.harness(.auto, receiver)
        Self.produce(harness)
        let sentBefore = harness.target.context.metrics.samplesSent.value
        #expect(harness.send() == 2, "the 2.0 attempt, then the same samples as 1.0")
        #expect(harness.machine.format == .v1)
        #expect(harness.target.context.metrics.protocolFallbacks.value == 1)
        let delivered = harness.target.context.metrics.samplesSent.value - sentBefore
        #expect(delivered > 0 && Int(delivered) == harness.receiver.acceptedSamples, "counted once, as stored")
        #expect(Self.storedJobs(harness).count == 1, "the first attempt's samples arrived")
        // Later requests go as 1.0 straight away.
        Self.produce(harness)
        #expect(harness.send() == 1)
        #expect(Self.storedJobs(harness).count == 2)
    }

    /// Metadata queued while on 2.0 (which carries it inline) is sent once the target falls
    /// back to 1.0, not lost.
    @Test func metadataQueuedOn2IsSentAfterAFallBack() {
        let harness = Self.harness(.auto, .v1Only)
        Self.produce(harness)
        harness.target.setMetadata([RemoteMetadata(familyName: "jobs_total", type: .counter, help: "Jobs", unit: "")])
        #expect(harness.send() == 3, "the 2.0 attempt, the same samples as 1.0, then the metadata request")
        #expect(harness.receiver.requests == 3 && harness.receiver.metadataRequests == 1)
    }

    @Test func autoTries2AgainAfterTheProbeInterval() {
        let harness = Self.harness(.auto, .v1Only)
        Self.produce(harness)
        harness.send()
        #expect(harness.machine.format == .v1)
        harness.clock.advance(milliseconds: 61_000)
        harness.receiver.protocols = .v1AndV2  // the receiver was upgraded meanwhile
        Self.produce(harness)
        #expect(harness.send() == 1)
        #expect(harness.machine.format == .v2 && harness.receiver.v2Stored == 1)
    }

    @Test func explicit2DoesNotFallBack() {
        let harness = Self.harness(.v2, .refusingV2)
        Self.produce(harness)
        #expect(harness.send() == 1)
        #expect(harness.machine.format == .v2)
        #expect(harness.target.context.metrics.samplesFailed.value > 0, "415 is a refusal like any other 4xx")
    }

    /// A 4xx that still wrote part of the request: the counts are logged and counted.
    @Test func aPartialWriteIsLoggedWithItsCounts() {
        let capture = LogCapture()
        let harness = PipelineHarness(logger: capture.logger()) { $0.protobufMessage = .v2 }
        harness.receiver.writtenOnRefusal = 2
        Self.produce(harness)
        #expect(harness.send(.status(400, retryAfter: nil)) == 1)
        let logged = capture.all.filter { $0.contains("wrote part of it") }
        #expect(
            logged.count == 1 && logged[0].contains("samples_written=2") && logged[0].contains("status=400"),
            "\(capture.all)")
        let written = harness.metrics.snapshot().family(named: "conveyor_metrics_remote_write_reported_written_total")?
            .series(["remote_name": "t", "kind": "samples"])?.value.scalar
        #expect(written == 2)
    }

    @Test func explicit1NeverSends2() {
        let harness = Self.harness(.v1, .v1AndV2)
        Self.produce(harness)
        harness.send()
        #expect(harness.receiver.v2Stored == 0 && harness.receiver.v2Ignored == 0 && !Self.storedJobs(harness).isEmpty)
    }

    /// Records written to disk as 2.0 while the receiver took 2.0; then it is rolled back to
    /// a 1.x version: the backlog is sent as 1.0 after the fall back, every sample arrives.
    @Test func aDiskBacklogWrittenAs2ReachesA1Receiver() {
        let harness = Self.harness(.auto, .v1AndV2, disk: SimulatedFileSystem(seed: 9))
        for value in 1...5 as ClosedRange<UInt64> {
            Self.produce(harness, value)
            harness.clock.advance(milliseconds: 1000)
        }
        #expect(harness.target.context.disk?.pendingSamples ?? 0 > 0)
        harness.receiver.protocols = .v1Only
        harness.send()
        #expect(harness.machine.format == .v1)
        #expect(harness.target.context.metrics.protocolFallbacks.value == 1)
        #expect(harness.target.context.disk?.pendingSamples == 0)
        let jobs = Self.storedJobs(harness)
        #expect(jobs.count == 5 && jobs.map(\.value) == [1, 3, 6, 10, 15], "every record, in order, as 1.0")
        #expect(harness.receiver.undecodable.isEmpty)
    }

    @Test func theStoredFormatIsReadFromTheCompressedBody() {
        let table = SymbolTable()
        let series = [RemoteSeries(labels: [Label(name: "__name__", value: "up")], type: .gauge, symbols: table)]
        let chunk = SampleChunk(series: series, values: [1], timestamp: 5)
        let encoder = RequestEncoder()
        #expect(RequestFormat.detect(compressed: encoder.encode([chunk], as: .v1)) == .v1)
        #expect(RequestFormat.detect(compressed: encoder.encode([chunk], as: .v2)) == .v2)
        // A long first literal (its length in extra bytes) and metadata-only 1.0 requests.
        let long = [RemoteSeries(labels: [Label(name: "__name__", value: String(repeating: "x", count: 5000))])]
        #expect(
            RequestFormat.detect(
                compressed: encoder.encode([SampleChunk(series: long, values: [1], timestamp: 5)], as: .v2)) == .v2)
        let metadata = Snappy.compress(
            WriteRequestEncoder().encode(
                [], metadata: [RemoteMetadata(familyName: "up", type: .gauge, help: "h", unit: "")]))
        #expect(RequestFormat.detect(compressed: metadata) == .v1)
        #expect(RequestFormat.detect(compressed: [UInt8]()) == nil)
        #expect(RequestFormat.detect(compressed: [0x05]) == nil)
        // Turned back into 1.0, a 2.0 body carries the same series and samples.
        let v1 = try? RequestEncoder.v1(fromV2: encoder.encode([chunk], as: .v2))
        #expect(v1 == encoder.encode([chunk], as: .v1))
    }
}
