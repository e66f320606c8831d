import CClientModelProto
import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics

/// The protobuf exposition against protobuf-c: every family type decodes into exactly the
/// registry's values, and protobuf-c packs each message back into the very same bytes.
@Suite("Protobuf exposition")
struct ProtobufFamilyWriterTests {
    static func protobuf(_ registry: MetricsRegistry) -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes, format: .protobuf)
        return bytes
    }

    /// Every registry holds the rejection counter (`conveyor_metrics_rejected_values_total`);
    /// the families a test made are the others.
    static func decodedOwnFamilies(_ registry: MetricsRegistry) throws -> [ProtobufExpositionDecoder.Family] {
        let decoded = try ProtobufExpositionDecoder.decode(protobuf(registry))
        #expect(decoded == ProtobufExpositionDecoder.expected(registry.snapshot()))
        return decoded.filter { $0.name != "conveyor_metrics_rejected_values_total" }
    }

    @Test func randomRegistriesDecodeExactlyAndRepackIdentically() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let runs = HeavyTestWork.iterations(1_000)
        await HeavyTestWork.run {
            var random = SplitMix64(seed: seed)
            var seen = (
                families: 0, native: 0, both: 0, nativeBuckets: 0, negativeBuckets: 0, escapes: 0, exemplars: 0
            )
            for run in 0..<runs {
                let runSeed = random.next()
                let registry = Self.randomRegistry(seed: runSeed)
                let bytes = Self.protobuf(registry)
                let expected = ProtobufExpositionDecoder.expected(registry.snapshot())
                guard let decoded = try? ProtobufExpositionDecoder.decode(bytes) else {
                    Issue.record("seed \(seed), run \(run) (run seed \(runSeed)): protobuf-c cannot read it")
                    return
                }
                guard decoded == expected else {
                    let difference = zip(decoded, expected).first { $0 != $1 }.map { "\($0)\n≠\n\($1)" } ?? "-"
                    let counts = "\(decoded.count) families decoded, \(expected.count) expected"
                    Issue.record(
                        "seed \(seed), run \(run) (run seed \(runSeed)): \(counts); first difference:\n\(difference)")
                    return
                }
                seen.families += decoded.count
                for family in decoded {
                    for metric in family.metrics {
                        if metric.labels.contains(where: { $0.value.contains(where: { "\"\\\n".contains($0) }) }) {
                            seen.escapes += 1
                        }
                        if case .counter(_, _, let exemplar?) = metric.value, !exemplar.labels.isEmpty {
                            seen.exemplars += 1
                        }
                        guard case .histogram(let histogram) = metric.value else { continue }
                        seen.exemplars += histogram.buckets.filter { $0.exemplar != nil }.count
                        seen.exemplars += histogram.exemplars.count
                        guard let native = histogram.native else { continue }
                        seen.native += 1
                        if !histogram.buckets.isEmpty { seen.both += 1 }
                        seen.nativeBuckets += native.positiveDeltas.count
                        seen.negativeBuckets += native.negativeDeltas.count
                    }
                }
            }
            // The runs did exercise every part.
            #expect(seen.families > runs, "seed \(seed)")
            #expect(seen.native > runs / 4 && seen.both > 0, "seed \(seed)")
            #expect(seen.nativeBuckets > 0 && seen.negativeBuckets > 0, "seed \(seed)")
            #expect(seen.escapes > 0, "seed \(seed)")
            #expect(seen.exemplars > runs, "seed \(seed)")
        }
    }

    /// A registry of 1…6 random families (counter, gauge, classic, native or both), each
    /// with random label values and observations (negative, zero, NaN, ±Inf included).
    static func randomRegistry(seed: UInt64) -> MetricsRegistry {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ choices: [T]) -> T { choices[Int(random.next() % UInt64(choices.count))] }
        func observation() -> Double {
            switch random.next() % 12 {
            case 0: .nan
            case 1: .infinity
            case 2: -.infinity
            case 3: 0
            case 4: -0.0
            case 5: pick([1e-300, 0x1p-128, 0.001, 0.5])
            case 6: -exp(random.unit() * 20 - 10)
            default: exp(random.unit() * 40 - 20)
            }
        }
        let registry = MetricsRegistry()
        let alphabet = ["a", "Z", " ", "\"", "\\", "\n", "ü", "🙂", "=", ",", "{", "le"]
        /// Nil, or an exemplar with 0…2 labels of random text (over 128 code points at times:
        /// rejected) and a random timestamp (stamped when nil).
        func exemplar() -> Exemplar? {
            guard random.next() % 3 != 0 else { return nil }
            var labels: [Label] = []
            for name in ["trace_id", "span_id"].prefix(Int(random.next() % 3)) {
                var value = ""
                for _ in 0..<Int(random.next() % 70) { value += pick(alphabet) }
                labels.append(Label(name: name, value: value))
            }
            let timestamps: [Int64?] = [nil, 1, 999, 1_520_879_607_789]
            return Exemplar(labels: labels, timestampMilliseconds: pick(timestamps))
        }
        for index in 0..<Int(random.next() % 6 + 1) {
            let labelNames = Array(["route", "code", "_x", "shard"].prefix(Int(random.next() % 4)))
            let unit = pick(["", "", "seconds"])
            let name = "family\(index)_" + pick(["seconds", "bytes", "total", "x"])
            let help = pick(["", "Help with \\ and \n and \"quotes\"", "plain"])
            let type = random.next() % 5
            let seriesCount = Int(random.next() % 5)
            let values = (0..<seriesCount).map { _ in
                labelNames.map { _ in (0..<Int(random.next() % 5)).map { _ in pick(alphabet) }.joined() }
            }
            switch type {
            case 0:
                let family = registry.counterFamily(name: name, help: help, labelNames: labelNames, unit: unit)
                for labelValues in values {
                    family.series(labelValues).increment(
                        by: pick([0, 1, 2.5, 1e300, observation()]), exemplar: exemplar())
                }
            case 1:
                let family = registry.gaugeFamily(name: name, help: help, labelNames: labelNames, unit: unit)
                for labelValues in values { family.series(labelValues).set(observation()) }
            default:
                var bounds = (0..<Int(random.next() % 6)).map { _ in observation() }.filter(\.isFinite)
                bounds = Array(Set(bounds)).sorted()
                let native =
                    type == 2
                    ? nil
                    : NativeHistogramOptions(
                        bucketFactor: pick([1.0001, 1.01, 1.1, 2, 4, 70_000, 0.5]),
                        zeroThreshold: pick([0, 0x1p-128, 1e-3, 0.5]), maxBucketCount: pick([0, 3, 10, 160]),
                        keepClassicBuckets: type == 4)
                let family = registry.histogramFamily(
                    name: name, help: help, labelNames: labelNames, buckets: bounds.isEmpty ? [1] : bounds, unit: unit,
                    native: native)
                for labelValues in values {
                    let series = family.series(labelValues)
                    for _ in 0..<Int(random.next() % 60) { series.observe(observation(), exemplar: exemplar()) }
                }
            }
        }
        return registry
    }

    @Test func aNativeOnlyFamilyCarriesNativeFieldsAndNoClassicBuckets() throws {
        let registry = MetricsRegistry()
        let family = registry.histogramFamily(
            name: "latency_seconds", help: "Latency", buckets: [0.1, 1],
            native: NativeHistogramOptions(bucketFactor: 2, zeroThreshold: 0.01))
        let series = family.series()
        for value in [0.001, 0.3, 0.3, 3, -2, .nan] { series.observe(value) }
        let decoded = try Self.decodedOwnFamilies(registry)
        let metric = try #require(decoded.first?.metrics.first)
        guard case .histogram(let histogram) = metric.value else {
            Issue.record("not a histogram: \(metric)")
            return
        }
        #expect(histogram.buckets.isEmpty, "no classic buckets: Prometheus reads the schema and spans")
        #expect(histogram.count == 6)
        #expect(Double(bitPattern: histogram.sumBits).isNaN)
        let native = try #require(histogram.native)
        // Schema 0: bucket i is (2^(i-1), 2^i]; 0.3 is in bucket -1, 3 in bucket 2; -2 in negative bucket 1.
        #expect(native.schema == 0)
        #expect(native.zeroThresholdBits == 0.01.bitPattern && native.zeroCount == 1)
        #expect(native.positiveSpans == [.init(offset: -1, length: 4)])
        #expect(native.positiveDeltas == [2, -2, 0, 1])
        #expect(native.negativeSpans == [.init(offset: 1, length: 1)] && native.negativeDeltas == [1])
        #expect(histogram.createdMilliseconds > 1_700_000_000_000)
    }

    @Test func aBothFamilyCarriesClassicBucketsAndNativeFields() throws {
        let registry = MetricsRegistry()
        let family = registry.histogramFamily(
            name: "size_bytes", help: "", labelNames: ["kind"], buckets: [1, 10, 100],
            native: NativeHistogramOptions(keepClassicBuckets: true))
        family.series("a").observe(5)
        family.series("a").observe(50)
        family.series("a").observe(500)
        let decoded = try Self.decodedOwnFamilies(registry)
        let metric = try #require(decoded.first?.metrics.first)
        #expect(metric.labels == [Label(name: "kind", value: "a")])
        guard case .histogram(let histogram) = metric.value else {
            Issue.record("not a histogram: \(metric)")
            return
        }
        #expect(histogram.buckets.map(\.cumulativeCount) == [0, 1, 2], "finite bounds only; +Inf is the count")
        #expect(histogram.count == 3 && Double(bitPattern: histogram.sumBits) == 555)
        let native = try #require(histogram.native)
        #expect(native.schema == 3 && native.positiveDeltas.reduce(0, +) >= 0 && !native.positiveSpans.isEmpty)
    }

    @Test func familiesWithoutSeriesAreLeftOutAndEveryTypeIsNamed() throws {
        let registry = MetricsRegistry()
        _ = registry.counterFamily(name: "unused_total", help: "never used", labelNames: ["x"])
        registry.counterFamily(name: "jobs_seconds_total", help: "Jobs", unit: "seconds").series().increment(by: 2.5)
        registry.gaugeFamily(name: "depth", help: "Depth").series().set(-0.0)
        registry.histogramFamily(name: "wait", help: "Wait", buckets: [1]).series().observe(0.5)
        let decoded = try Self.decodedOwnFamilies(registry)
        #expect(decoded.map(\.name) == ["depth", "jobs_seconds_total", "wait"])
        #expect(decoded.map(\.type) == [1, 0, 4])
        #expect(decoded.map(\.unit) == [nil, "seconds", nil])
        #expect(decoded[0].metrics.first?.value == .gauge(bits: (-0.0).bitPattern))
    }

    /// A gauge's bytes written out by hand from the protobuf encoding rules (the last
    /// family: "g" sorts after the registry's own rejection counter).
    @Test func aGaugeFamilyIsTheBytesTheEncodingRulesGive() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "h", labelNames: ["k"]).series("v\"").set(1)
        let label: [UInt8] = [0x0A, 1, UInt8(ascii: "k"), 0x12, 2, UInt8(ascii: "v"), UInt8(ascii: "\"")]
        let gauge: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
        let metric: [UInt8] = [0x0A, UInt8(label.count)] + label + [0x12, UInt8(gauge.count)] + gauge
        let family: [UInt8] =
            [0x0A, 1, UInt8(ascii: "g"), 0x12, 1, UInt8(ascii: "h"), 0x18, 1, 0x22, UInt8(metric.count)] + metric
        let bytes = Self.protobuf(registry)
        #expect(bytes.count > family.count + 1)
        #expect(Array(bytes.suffix(family.count + 1)) == [UInt8(family.count)] + family)
    }
}
