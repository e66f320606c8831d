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

    /// The sampler's list carries one slot while its series stay the same; the first 1.0
    /// write builds the layout, a 2.0 write never does, a new list gets a new slot, and chunks
    /// without one (stale markers) are written right too.
    @Test func aListHasOneLayoutBuiltByItsFirstOneZeroWrite() throws {
        let registry = MetricsRegistry()
        let counter = registry.counterFamily(name: "jobs_total", help: "Jobs", labelNames: ["queue"])
        for queue in ["mail", "sms", "push"] { counter.series(queue).increment(by: 3 as UInt64) }
        counter.series("idle").increment(by: 0 as UInt64)
        let sampler = SnapshotSampler(externalLabels: ["instance": "a"])
        func oracle(_ chunks: [SampleChunk]) -> [UInt8] {
            WriteRequestEncoder().encode(
                chunks.flatMap(\.samples).map { RemoteTimeSeries(labels: $0.series.labels, samples: [$0.sample]) })
        }
        let first = sampler.chunks(from: registry.snapshot(), at: 1_795_567_955_700)
        let slot = try #require(first.first?.layoutSlot)
        #expect(!slot.isBuilt)
        WriteRequestV2Writer().write(first)
        #expect(!slot.isBuilt, "a 2.0 write builds no layout")
        let writer = WriteRequestWriter()
        writer.write(first)
        #expect(slot.isBuilt)
        #expect(writer.bytes == oracle(first))

        counter.series("mail").increment(by: 1 as UInt64)
        let steady = sampler.chunks(reading: registry, at: 1_795_567_956_700)
        #expect(steady.first?.layoutSlot === slot, "the same list, the same slot")
        writer.write(steady)
        #expect(writer.bytes == oracle(steady))

        // A series goes: a new list with a new slot, and a chunk of stale markers without one.
        #expect(counter.remove(["sms"]))
        let changed = sampler.chunks(from: registry.snapshot(), at: 1_795_567_957_700)
        #expect(changed.count == 2, "the series and the stale marker")
        #expect(changed.first?.layoutSlot !== slot)
        #expect(changed.last?.layoutSlot == nil)
        writer.write(changed)
        #expect(writer.bytes == oracle(changed))
    }
}
