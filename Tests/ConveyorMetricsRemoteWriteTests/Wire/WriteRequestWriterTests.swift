import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// The remote write 1.0 writer against protobuf-c's encoder, on random chunks: the common
/// samples (non-zero, 6-byte timestamps) take the pre-encoded prefix, the rest the general
/// path, and both give protobuf-c's bytes.
@Suite("Remote write 1.0 writer")
struct WriteRequestWriterTests {
    @Test func randomChunksAreWhatProtobufCPacks() async {
        await HeavyTestWork.run { Self.randomChunksMatchProtobufC() }
    }

    static func randomChunksMatchProtobufC() {
        var common = 0
        for seed in 0..<UInt64(HeavyTestWork.iterations(300)) {
            var random = SplitMix64(seed: seed)
            let series = WriteRequestV2WriterTests.randomSeries(&random, SymbolTable())
            let chunks = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                var chunk = WriteRequestV2WriterTests.randomChunk(series, &random)
                if Bool.random(using: &random) {  // a timestamp of today: 6 varint bytes
                    chunk = SampleChunk(
                        series: series, values: chunk.values,
                        timestamp: 1_795_567_955_700 + Int64.random(in: 0...1_000_000, using: &random))
                }
                return chunk
            }
            let writer = WriteRequestWriter()
            writer.write(chunks)
            let samples = chunks.flatMap(\.samples)
            common += samples.filter { $0.sample.value != 0 && $0.sample.timestampMilliseconds > 1 << 35 }.count
            let oracle = WriteRequestEncoder().encode(
                samples.map { RemoteTimeSeries(labels: $0.series.labels, samples: [$0.sample]) })
            #expect(writer.bytes == oracle, "seed \(seed)")
        }
        #expect(common > HeavyTestWork.iterations(1000), "the pre-encoded prefix was used: \(common) samples")
    }
}
