import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// The 1.0 writer's per-list prefix layouts: each position holds its series' common prefix
/// and label fields, written from the series' symbols as protobuf-c packs them; a steady
/// list keeps one layout, other lists are made as needed and let go when not written
/// lately, and whatever layouts are kept, the requests are protobuf-c's bytes.
@Suite("Prefix layouts")
struct PrefixLayoutTests {
    @Test func eachPositionHoldsItsSeriesPrefixAndLabels() throws {
        var random = SplitMix64(seed: 11)
        let series = WriteRequestV2WriterTests.randomSeries(&random, SymbolTable())
        let layout = try #require(PrefixLayout(series))
        #expect(!series.isEmpty)
        var total = 0
        for (index, item) in series.enumerated() {
            // protobuf-c's packing of a request with the series' one common sample, cut
            // before the sample's value: tag, length, labels, Sample tag and length.
            let request = WriteRequestEncoder().encode([
                RemoteTimeSeries(labels: item.labels, samples: [RemoteSample(value: 1, timestampMilliseconds: 1 << 40)])
            ])
            let prefix = Array(request.prefix(request.count - RemoteSeries.commonSampleSize))
            #expect(Array(layout.prefix(at: index)) == prefix, "position \(index)")
            #expect(Array(layout.labels(at: index)) == item.labelFieldBytes, "position \(index)")
            #expect(item.labelFieldBytes.count == item.labelFieldCount)
            #expect(
                Array(prefix.dropFirst(prefix.count - 2 - item.labelFieldCount).dropLast(2)) == item.labelFieldBytes)
            total += prefix.count
        }
        #expect(layout.byteCount == total)
    }

    @Test func aSteadyListKeepsOneLayoutAndOthersAreLetGo() {
        var random = SplitMix64(seed: 12)
        let table = SymbolTable()
        let lists = (0..<4).map { _ in WriteRequestV2WriterTests.randomSeries(&random, table) }
        let writer = WriteRequestWriter()
        func check(_ list: [RemoteSeries], _ note: String) {
            let chunk = SampleChunk(
                series: list, values: list.map { _ in Double(random.next() % 100) }, timestamp: 1_795_567_955_700)
            writer.write([chunk])
            let oracle = WriteRequestEncoder().encode(
                chunk.samples.map { RemoteTimeSeries(labels: $0.series.labels, samples: [$0.sample]) })
            #expect(writer.bytes == oracle, "\(note)")
        }
        for round in 0..<5 { check(lists[0], "steady \(round)") }
        #expect(writer.layouts.count == 1, "one layout for a steady list")
        check(lists[1], "a second list")
        check(lists[2], "a third list")
        #expect(writer.layouts.count == PrefixLayouts.maxLayouts)
        // Several lists in one request (a backlog across series changes): each chunk has its
        // layout or gets one made, and the bytes stay right.
        let mixed = lists.map {
            SampleChunk(series: $0, values: $0.map { _ in 2.5 }, timestamp: 1_795_567_955_700)
        }
        writer.write(mixed)
        let oracle = WriteRequestEncoder().encode(
            mixed.flatMap(\.samples).map { RemoteTimeSeries(labels: $0.series.labels, samples: [$0.sample]) })
        #expect(writer.bytes == oracle, "four lists in one request")
        #expect(writer.layouts.count <= PrefixLayouts.maxLayouts)
        // A list not written for more than `maxIdleWrites` requests is let go.
        for round in 0...PrefixLayouts.maxIdleWrites { check(lists[3], "idle others \(round)") }
        #expect(writer.layouts.count == 1)
        #expect(writer.layouts.byteCount == PrefixLayout(lists[3])?.byteCount)
    }
}
