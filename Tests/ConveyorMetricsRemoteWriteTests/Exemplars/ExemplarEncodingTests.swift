import CRemoteWriteProto
import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// Remote write 1.0 `TimeSeries.exemplars` against protobuf-c: random exemplars (empty and
/// escaped label values, values of 0, −0, NaN, timestamps of 0 and negative) on float samples
/// and native histograms decode to what was written and re-pack into the very same bytes.
@Suite("Exemplars on the wire")
struct ExemplarEncodingTests {
    static func randomExemplar(_ random: inout SplitMix64) -> RecordedExemplar {
        let texts = ["", "4bf92f3577b34da6a3ce929d0e0e4736", "a\"b\\c\nd", "🙂é", String(repeating: "x", count: 120)]
        var labels: [Label] = []
        for name in ["trace_id", "span_id", "a"].prefix(Int(random.next() % 4)) {
            labels.append(Label(name: name, value: texts[Int(random.next() % UInt64(texts.count))]))
        }
        let values: [Double] = [0, -0.0, 1, 12.5, -3, .nan, .infinity, 1e300]
        let timestamps: [Int64] = [0, 1, -1, 1_520_879_607_789, Int64.max]
        return RecordedExemplar(
            exemplar: Exemplar(labels: labels, value: values[Int(random.next() % UInt64(values.count))]),
            timestampMilliseconds: timestamps[Int(random.next() % UInt64(timestamps.count))],
            sequence: random.next())
    }

    /// Random chunks (a third of the positions native histograms) with 0…3 exemplars at about
    /// half the positions.
    static func randomChunks(_ random: inout SplitMix64) -> [SampleChunk] {
        HistogramEncodingTests.randomChunks(&random).map { chunk in
            var exemplars: [Int: [RecordedExemplar]] = [:]
            for index in chunk.series.indices where random.next() % 2 == 0 {
                exemplars[index] = (0..<Int(random.next() % 3 + 1)).map { _ in randomExemplar(&random) }
            }
            var result = SampleChunk(
                series: chunk.series, values: chunk.values, histograms: chunk.histograms, exemplars: exemplars,
                timestamp: chunk.timestamp)
            result.start = chunk.start
            result.end = chunk.end
            return result
        }
    }

    static func decoded(_ exemplar: Prometheus__Exemplar) -> (labels: [Label], valueBits: UInt64, timestamp: Int64) {
        let labels = (0..<exemplar.n_labels).compactMap { exemplar.labels[$0]?.pointee }.map {
            Label(name: String(cString: $0.name), value: String(cString: $0.value))
        }
        return (labels, exemplar.value.bitPattern, exemplar.timestamp)
    }

    @Test func v1ExemplarsDecodeAndRepackIdentically() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        await HeavyTestWork.run {
            var random = SplitMix64(seed: seed)
            var seen = (exemplars: 0, onHistograms: 0)
            for run in 0..<HeavyTestWork.iterations(300) {
                let chunks = Self.randomChunks(&random)
                let writer = WriteRequestWriter()
                writer.write(chunks)
                let checked = ProtobufCRoundTrip.v1(writer.bytes) { request, identical -> Bool in
                    guard identical else { return false }
                    var position = 0
                    for chunk in chunks {
                        for index in chunk.start..<chunk.end {
                            guard position < request.n_timeseries, let series = request.timeseries[position]?.pointee
                            else { return false }
                            position += 1
                            let written = chunk.exemplars(at: index)
                            let read = (0..<series.n_exemplars).compactMap { series.exemplars[$0]?.pointee }.map(
                                Self.decoded)
                            let expected = written.map { exemplar in
                                let value =
                                    exemplar.value.isNaN
                                    ? Double(bitPattern: RemoteSample.normalNaNBits) : exemplar.value
                                return (
                                    exemplar.labels, value == 0 ? 0 : value.bitPattern,
                                    exemplar.timestampMilliseconds
                                )
                            }
                            let same =
                                read.count == expected.count
                                && zip(read, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 && $0.2 == $1.2 }
                            #expect(same, "seed \(seed), run \(run): \(read) ≠ \(expected)")
                            seen.exemplars += read.count
                            if chunk.histogram(at: index) != nil { seen.onHistograms += read.count }
                        }
                    }
                    return position == request.n_timeseries
                }
                guard checked == true else {
                    Issue.record(
                        "seed \(seed), run \(run): protobuf-c refuses the output, re-packs it otherwise, or its series differ"
                    )
                    return
                }
            }
            #expect(
                seen.exemplars > HeavyTestWork.iterations(500) && seen.onHistograms > HeavyTestWork.iterations(50),
                "seed \(seed): \(seen)")
        }
    }
}
