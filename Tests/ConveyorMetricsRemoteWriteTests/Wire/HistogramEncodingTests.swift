import CRemoteWriteProto
import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// Native histograms on the wire, 1.0 and 2.0, against protobuf-c: random histograms (every
/// schema, negative offsets and deltas, empty and zero parts, NaN sums) mixed with float
/// samples decode to what was written and re-pack into the very same bytes.
@Suite("Native histograms on the wire")
struct HistogramEncodingTests {
    static func randomHistogram(_ random: inout SplitMix64) -> NativeHistogramValue {
        func spans(_ random: inout SplitMix64) -> ([NativeHistogramValue.BucketSpan], [Int64]) {
            var spans: [NativeHistogramValue.BucketSpan] = []
            var deltas: [Int64] = []
            for index in 0..<Int(random.next() % 4) {
                let length = UInt32(random.next() % 6)
                let offset = index == 0 ? Int32(Int64(random.next() % 400) - 200) : Int32(random.next() % 5)
                spans.append(.init(offset: offset, length: length))
                for _ in 0..<length { deltas.append(Int64(random.next() % 2001) - 1000) }
            }
            return (spans, deltas)
        }
        let (positiveSpans, positiveDeltas) = spans(&random)
        let (negativeSpans, negativeDeltas) = spans(&random)
        let sums: [Double] = [0, -0.0, 1.5, -7.25, .nan, 1e300, 123_456.789]
        return NativeHistogramValue(
            schema: Int32(Int64(random.next() % 13) - 4), zeroThreshold: [0, 0x1p-128, 0.001][Int(random.next() % 3)],
            zeroCount: [0, 1, 300, UInt64.max >> 2][Int(random.next() % 4)], count: random.next() % 1_000_000,
            sum: sums[Int(random.next() % UInt64(sums.count))], positiveSpans: positiveSpans,
            positiveDeltas: positiveDeltas, negativeSpans: negativeSpans, negativeDeltas: negativeDeltas)
    }

    /// Chunks over random series where about a third of the positions are histograms.
    static func randomChunks(_ random: inout SplitMix64) -> [SampleChunk] {
        let series = WriteRequestV2WriterTests.randomSeries(&random, SymbolTable())
        return (0..<Int.random(in: 1...3, using: &random)).map { _ in
            var chunk = WriteRequestV2WriterTests.randomChunk(series, &random)
            let histograms: [NativeHistogramValue?] = series.map { _ in
                random.next() % 3 == 0 ? randomHistogram(&random) : nil
            }
            let timestamp = random.next() % 2 == 0 ? chunk.timestamp : 1_795_567_955_700
            let (start, end) = (chunk.start, chunk.end)
            chunk = SampleChunk(series: series, values: chunk.values, histograms: histograms, timestamp: timestamp)
            chunk.start = start
            chunk.end = end
            return chunk
        }
    }

    static func expectEqual(
        _ decoded: Prometheus__Histogram?, _ written: NativeHistogramValue, _ timestamp: Int64, _ context: String
    ) {
        guard let decoded else {
            Issue.record("\(context): no histogram")
            return
        }
        #expect(decoded.count_int == written.count && decoded.zero_count_int == written.zeroCount, "\(context)")
        #expect(decoded.schema == written.schema && decoded.timestamp == timestamp, "\(context)")
        #expect(
            decoded.sum.bitPattern == written.sum.bitPattern || (decoded.sum.isNaN && written.sum.isNaN)
                || (decoded.sum == 0 && written.sum == 0), "\(context)")
        let positive = (0..<decoded.n_positive_deltas).map { decoded.positive_deltas[$0] }
        let negative = (0..<decoded.n_negative_deltas).map { decoded.negative_deltas[$0] }
        #expect(positive == written.positiveDeltas && negative == written.negativeDeltas, "\(context)")
        let spans = (0..<decoded.n_positive_spans).compactMap { decoded.positive_spans[$0]?.pointee }
        #expect(spans.map(\.offset) == written.positiveSpans.map(\.offset), "\(context)")
        #expect(spans.map(\.length) == written.positiveSpans.map(\.length), "\(context)")
    }

    @Test func v1HistogramsDecodeAndRepackIdentically() async {
        await HeavyTestWork.run {
            var histograms = 0
            for seed in 0..<UInt64(HeavyTestWork.iterations(300)) {
                var random = SplitMix64(seed: seed)
                let chunks = Self.randomChunks(&random)
                let writer = WriteRequestWriter()
                writer.write(chunks)
                let checked = ProtobufCRoundTrip.v1(writer.bytes) { request, identical -> Int in
                    #expect(identical, "seed \(seed): byte-identical to protobuf-c's packing")
                    var position = 0
                    for chunk in chunks {
                        for index in chunk.start..<chunk.end {
                            guard position < request.n_timeseries, let series = request.timeseries[position]?.pointee
                            else {
                                Issue.record("seed \(seed): series missing")
                                return position
                            }
                            position += 1
                            if let histogram = chunk.histogram(at: index) {
                                histograms += 1
                                #expect(series.n_samples == 0 && series.n_histograms == 1, "seed \(seed)")
                                Self.expectEqual(
                                    series.histograms[0]?.pointee, histogram, chunk.timestamp, "seed \(seed)")
                            } else {
                                #expect(series.n_samples == 1 && series.n_histograms == 0, "seed \(seed)")
                            }
                        }
                    }
                    #expect(position == request.n_timeseries, "seed \(seed)")
                    return position
                }
                guard checked != nil else {
                    Issue.record("seed \(seed): protobuf-c refuses the writer's output")
                    return
                }
            }
            #expect(histograms > HeavyTestWork.iterations(500), "histograms were written: \(histograms)")
        }
    }

    /// 2.0, written anew and from templates: protobuf-c re-packs it identically, histograms
    /// carry the series' start timestamp, and both ways give the same bytes.
    @Test func v2HistogramsRepackIdenticallyFromTemplatesToo() async {
        await HeavyTestWork.run {
            var histograms = 0
            for seed in 0..<UInt64(HeavyTestWork.iterations(200)) {
                var random = SplitMix64(seed: seed)
                let chunks = Self.randomChunks(&random)
                let writer = WriteRequestV2Writer()
                let fresh = WriteRequestV2Writer(templates: false)
                for round in 0..<3 {
                    writer.write(chunks)
                    fresh.write(chunks)
                    #expect(writer.bytes == fresh.bytes, "seed \(seed) round \(round)")
                }
                #expect(writer.templateWrites == 1, "seed \(seed): the third request came from a template")
                let checked = ProtobufCRoundTrip.v2(writer.bytes) { request, identical -> Bool in
                    #expect(identical, "seed \(seed): byte-identical to protobuf-c's packing")
                    var position = 0
                    for chunk in chunks {
                        for index in chunk.start..<chunk.end {
                            guard position < request.n_timeseries, let series = request.timeseries[position]?.pointee
                            else { return false }
                            position += 1
                            guard let histogram = chunk.histogram(at: index) else { continue }
                            histograms += 1
                            guard series.n_histograms == 1, series.n_samples == 0,
                                let decoded = series.histograms[0]?.pointee
                            else { return false }
                            let start = chunk.series[index].startTimestamp
                            let expectedStart = start > 0 && start <= chunk.timestamp ? start : 0
                            #expect(
                                decoded.count_int == histogram.count && decoded.start_timestamp == expectedStart,
                                "seed \(seed)")
                            #expect(
                                (0..<decoded.n_positive_deltas).map { decoded.positive_deltas[$0] }
                                    == histogram.positiveDeltas)
                        }
                    }
                    return true
                }
                guard checked == true else {
                    Issue.record("seed \(seed): protobuf-c refuses the output, or a series or histogram is missing")
                    return
                }
            }
            #expect(histograms > HeavyTestWork.iterations(300), "histograms were written: \(histograms)")
        }
    }

    /// A receiver that refused histograms gets the same request without them.
    @Test func strippingKeepsEverythingButTheHistograms() throws {
        var random = SplitMix64(seed: 42)
        var chunks: [SampleChunk] = []
        while !chunks.contains(where: { $0.histograms != nil && $0.count > 0 }) { chunks = Self.randomChunks(&random) }
        let histograms = chunks.reduce(0) { total, chunk in
            total + (chunk.start..<chunk.end).filter { chunk.histogram(at: $0) != nil }.count
        }
        let (kept, dropped) = HistogramStripping.withoutHistograms(chunks)
        #expect(dropped == histograms && histograms > 0)
        #expect(kept.allSatisfy { $0.histograms == nil })
        #expect(kept.reduce(0) { $0 + $1.count } == chunks.reduce(0) { $0 + $1.count } - histograms)
        for format in [RequestFormat.v1, .v2] {
            let body = RequestEncoder().encode(chunks, as: format)
            let stripped = try HistogramStripping.withoutHistograms(body: body, format: format)
            #expect(stripped.dropped == histograms)
            #expect(stripped.body == RequestEncoder().encode(kept, as: format) || format == .v2, "\(format)")
            let again = try HistogramStripping.withoutHistograms(body: stripped.body, format: format)
            #expect(again.dropped == 0 && again.body == stripped.body)
        }
    }
}
