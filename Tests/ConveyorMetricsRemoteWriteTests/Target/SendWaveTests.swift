import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// ``SendWave/partition(_:shards:maxSamples:)`` over 1,000 random chunk sets of one series list:
/// every sample in exactly one request, no series in two streams, each series' samples in
/// timestamp order within its stream, no request over the limit, and as many streams as
/// shards (or series).
@Suite("Send waves")
struct SendWaveTests {
    @Test func randomPartitionsKeepEverySampleOnceAndEverySeriesInOneStreamInOrder() async {
        await HeavyTestWork.run { Self.randomPartitions() }
    }

    static func randomPartitions() {
        let runs = HeavyTestWork.iterations(1_000)
        var seen = (multiStream: 0, multiRequest: 0)
        for seed in 1...UInt64(runs) {
            var random = SimulationRandom(seed: seed)
            let seriesCount = random.int(in: 1...300)
            let list = (0..<seriesCount).map { RemoteSeries(labels: [Label(name: "__name__", value: "s\($0)")]) }
            let chunks = (0..<random.int(in: 1...6)).map { index -> SampleChunk in
                var chunk = SampleChunk(
                    series: list, values: (0..<seriesCount).map { Double($0) }, timestamp: Int64(1_000 + index))
                // The head chunk may have lost its oldest samples to the queue's bound.
                if index == 0 { chunk.start = random.int(in: 0...(seriesCount - 1)) }
                return chunk
            }
            let shards = random.int(in: 1...12)
            let maxSamples = random.int(in: 1...200)
            let streams = SendWave.partition(chunks, shards: shards, maxSamples: maxSamples)
            let context =
                "seed \(seed): \(seriesCount) series, \(chunks.count) chunks, \(shards) shards, max \(maxSamples)"
            #expect(!streams.isEmpty, "\(context)")
            var streamOf: [Int: Int] = [:]
            var count: [String: Int] = [:]
            for (streamIndex, stream) in streams.enumerated() {
                var lastTimestamp: [Int: Int64] = [:]
                if stream.count > 1 { seen.multiRequest += 1 }
                for request in stream {
                    #expect(request.samples <= maxSamples && request.samples > 0, "\(context)")
                    guard case .memory(let parts) = request.content else {
                        Issue.record("a memory wave holds memory requests")
                        continue
                    }
                    #expect(parts.reduce(0) { $0 + $1.count } == request.samples, "\(context)")
                    for part in parts {
                        for position in part.start..<part.end {
                            if let other = streamOf[position], other != streamIndex {
                                Issue.record("series \(position) in streams \(other) and \(streamIndex): \(context)")
                            }
                            streamOf[position] = streamIndex
                            if let last = lastTimestamp[position], last >= part.timestamp {
                                Issue.record("series \(position) out of order in its stream: \(context)")
                            }
                            lastTimestamp[position] = part.timestamp
                            count["\(position)@\(part.timestamp)", default: 0] += 1
                        }
                    }
                }
            }
            let expected = chunks.reduce(0) { $0 + $1.count }
            #expect(count.count == expected && count.values.allSatisfy { $0 == 1 }, "\(context)")
            if shards > 1 && seriesCount > 1 {
                seen.multiStream += 1
                // Streams cover ranges of the whole list; a head chunk missing its first
                // positions can leave the first ranges empty only when no chunk holds them.
                #expect(streams.count <= min(shards, seriesCount), "\(context)")
                if chunks.count > 1 { #expect(streams.count == min(shards, seriesCount), "\(context)") }
            } else {
                #expect(streams.count == 1, "one shard: one stream, \(context)")
            }
        }
        #expect(seen.multiStream > runs / 3 && seen.multiRequest > runs / 10, "\(seen)")
    }

    @Test func oneShardSplitsIntoConsecutiveRequestsOfTheLimit() {
        let list = (0..<10).map { RemoteSeries(labels: [Label(name: "__name__", value: "s\($0)")]) }
        let chunks = [1_000, 2_000].map {
            SampleChunk(series: list, values: Array(repeating: 1, count: 10), timestamp: $0)
        }
        let streams = SendWave.partition(chunks, shards: 1, maxSamples: 8)
        #expect(streams.count == 1)
        #expect(streams.first?.map(\.samples) == [8, 8, 4])
        #expect(streams.first?.map(\.oldestTimestamp) == [1_000, 1_000, 2_000])
    }
}
