import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// Snappy blocks joined without decompressing decode to the concatenation of their inputs
/// (random inputs of every size class, compressible and not), and remote write 1.0 records
/// joined so decode to one request holding all their series.
@Suite("Snappy concatenation")
struct SnappyConcatenationTests {
    @Test func joinedBlocksDecodeToTheJoinedInputs() async {
        await HeavyTestWork.run { Self.randomBlocks() }
    }

    static func randomBlocks() {
        let runs = HeavyTestWork.iterations(200)
        for seed in 1...UInt64(runs) {
            var random = SimulationRandom(seed: seed)
            let inputs = (0..<random.int(in: 1...6)).map { _ -> [UInt8] in
                let count = [0, 1, 63, 64, 65_535, 65_536, 70_000, random.int(in: 0...100_000)][random.int(in: 0...7)]
                let alphabet = random.chance(0.5) ? 4 : 256  // compressible or not
                return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.int(in: 0...(alphabet - 1))) }
            }
            let blocks = inputs.map { Snappy.compress($0)[...] }
            guard let joined = Snappy.concatenate(blocks) else {
                Issue.record("seed \(seed): not joined")
                continue
            }
            let decoded = try? Snappy.decompress(joined, limit: 1 << 30)
            #expect(decoded == inputs.flatMap { $0 }, "seed \(seed): sizes \(inputs.map(\.count))")
        }
        #expect(runs > 0)
    }

    @Test func anUnreadableLengthIsRefused() {
        #expect(Snappy.concatenate([[0x80, 0x80, 0x80, 0x80, 0x80, 0x80][...]]) == nil)
        #expect(Snappy.concatenate([[][...]]) == nil)
    }

    @Test func joinedRemoteWriteRecordsAreOneRequestWithEverySeries() throws {
        let records = (0..<4).map { index -> ArraySlice<UInt8> in
            let series = RemoteSeries(labels: [Label(name: "__name__", value: "m\(index)")])
            let writer = WriteRequestWriter()
            writer.write([SampleChunk(series: [series], values: [Double(index)], timestamp: 1_000 + Int64(index))])
            return Snappy.compress(writer.bytes)[...]
        }
        let joined = try #require(Snappy.concatenate(records))
        let request = try WriteRequestDecoder.decode(body: joined)
        #expect(request.timeSeries.map(\.metricName) == ["m0", "m1", "m2", "m3"])
        #expect(request.timeSeries.flatMap(\.samples).map(\.value) == [0, 1, 2, 3])
    }
}
