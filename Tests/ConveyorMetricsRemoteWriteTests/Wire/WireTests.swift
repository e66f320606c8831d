import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Remote-write wire")
struct WireTests {
    private let series = [
        RemoteTimeSeries(
            labels: [Label(name: "__name__", value: "up"), Label(name: "job", value: "ü \"x\"")],
            samples: [
                RemoteSample(value: 1, timestampMilliseconds: 1000),
                .staleMarker(at: 2000),
                RemoteSample(value: -.infinity, timestampMilliseconds: 3000),
            ]),
        RemoteTimeSeries(
            labels: [Label(name: "__name__", value: "b")], samples: [RemoteSample(value: 2.5, timestampMilliseconds: 5)]
        ),
    ]

    @Test func encodeDecodeRoundTripKeepsEverythingIncludingStaleBits() throws {
        let encoder = WriteRequestEncoder()
        let body = Snappy.compress(encoder.encode(series))
        let decoded = try WriteRequestDecoder.decode(body: body)
        #expect(decoded.timeSeries.count == 2)
        #expect(decoded.timeSeries[0].labels == series[0].labels)
        #expect(decoded.timeSeries[0].samples[1].value.bitPattern == 0x7ff0_0000_0000_0002)
        #expect(decoded.timeSeries[0].samples[2].value == -.infinity)
        #expect(decoded.timeSeries[1].samples == series[1].samples)
        // The encoder reuses its buffers: a second, smaller request is still right.
        let again = try WriteRequestDecoder.decode(body: Snappy.compress(encoder.encode([series[1]])))
        #expect(again.timeSeries == [series[1]])
    }

    @Test func metadataTravelsInASampleFreeRequest() throws {
        let body = Snappy.compress(
            WriteRequestEncoder().encode(
                [], metadata: [RemoteMetadata(familyName: "x_total", type: .counter, help: "X things", unit: "")]))
        let decoded = try WriteRequestDecoder.decode(body: body)
        #expect(decoded.timeSeries.isEmpty)
        #expect(decoded.metadata == [RemoteMetadata(familyName: "x_total", type: .counter, help: "X things", unit: "")])
    }

    @Test func snappyIsTheBlockFormat() throws {
        let input = Array(repeating: UInt8(ascii: "a"), count: 1000)
        let compressed = Snappy.compress(input)
        #expect(compressed.first == 0xE8 && compressed[1] == 0x07, "a block starts with the varint length 1000")
        #expect(try Snappy.decompress(compressed, limit: 1000) == input)
        #expect(throws: Snappy.DecompressionError.tooLarge(1000, limit: 999)) {
            try Snappy.decompress(compressed, limit: 999)
        }
        #expect(throws: Snappy.DecompressionError.notSnappy) {
            try Snappy.decompress([0xff, 0xff, 0xff], limit: 1 << 20)
        }
        #expect(throws: Snappy.DecompressionError.notSnappy) { try Snappy.decompress([], limit: 10) }
    }

    @Test func garbageIsAnErrorNotACrash() {
        #expect(throws: WriteRequestError.self) {
            try WriteRequestDecoder.decode(body: Snappy.compress([0x0a, 0xff, 0xff, 0x01]))
        }
        var random = SystemRandomNumberGenerator()
        for length in [1, 7, 64, 512] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = try? WriteRequestDecoder.decode(body: bytes)
            _ = try? WriteRequestDecoder.decodeProtobuf(bytes)
        }
    }

    @Test(arguments: [
        ([("job", "x")], "no __name__"),
        ([("__name__", "up"), ("b", "1"), ("a", "2")], "not sorted"),
        ([("__name__", "up"), ("a", "1"), ("a", "2")], "repeated label name a"),
        ([("__name__", "up"), ("a", "")], "empty value"),
        ([("__name__", "9up")], "invalid metric name"),
        ([("__name__", "up"), ("bad-name", "x")], "invalid label name"),
    ])
    func specRulesAreChecked(labels: [(String, String)], problem: String) {
        let request = DecodedWriteRequest(
            timeSeries: [
                RemoteTimeSeries(
                    labels: labels.map { Label(name: $0.0, value: $0.1) },
                    samples: [RemoteSample(value: 1, timestampMilliseconds: 1)])
            ], metadata: [])
        let violation = WriteRequestDecoder.violation(in: request)
        #expect(violation?.contains(problem) == true, "\(violation ?? "nil")")
    }
}
