import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// The push path takes each exemplar once, with the sample of its counter or bucket, and
/// only with `send_exemplars`.
@Suite("Snapshot sampler, exemplars")
struct SnapshotSamplerExemplarTests {
    static func trace(_ id: String) -> Exemplar { Exemplar(["trace_id": id]) }

    /// Each exemplar in the chunk as (`__name__`, `le`, trace id, value).
    static func sent(_ chunk: SampleChunk) -> [String] {
        (chunk.exemplars ?? [:]).sorted { $0.key < $1.key }.flatMap { position, exemplars in
            let labels = Dictionary(uniqueKeysWithValues: chunk.series[position].labels.map { ($0.name, $0.value) })
            return exemplars.map { exemplar in
                let name = labels["__name__"] ?? "?"
                let le = labels["le"].map { "{le=\($0)}" } ?? ""
                return "\(name)\(le) \(exemplar.labels.first?.value ?? "-") \(exemplar.value)"
            }
        }
    }

    @Test func eachExemplarGoesOnceWithItsCounterOrBucket() throws {
        let registry = MetricsRegistry()
        let counter = registry.counterFamily(name: "jobs_total", help: "").series()
        let histogram = registry.histogramFamily(name: "wait_ms", help: "", buckets: [1, 10]).series()
        counter.increment(by: 2, exemplar: Self.trace("c1"))
        histogram.observe(5, exemplar: Self.trace("h1"))
        histogram.observe(50, exemplar: Self.trace("h2"))
        let sampler = SnapshotSampler(externalLabels: [:], sendsExemplars: true)
        let first = try #require(sampler.chunks(from: registry.snapshot()).first)
        #expect(
            Self.sent(first) == [
                "jobs_total c1 2.0", "wait_ms_bucket{le=10} h1 5.0", "wait_ms_bucket{le=+Inf} h2 50.0",
            ])
        // Nothing new: none again (the steady path).
        let second = try #require(sampler.chunks(from: registry.snapshot()).first)
        #expect(second.exemplars == nil)
        // One new exemplar in one bucket: that one only.
        histogram.observe(0.5, exemplar: Self.trace("h3"))
        counter.increment()
        let third = try #require(sampler.chunks(from: registry.snapshot()).first)
        #expect(Self.sent(third) == ["wait_ms_bucket{le=1} h3 0.5"])
        // A new series changes the layout (the slow path): still only what is new.
        registry.counterFamily(name: "other_total", help: "").series().increment(by: 1, exemplar: Self.trace("o"))
        counter.increment(by: 4, exemplar: Self.trace("c2"))
        let fourth = try #require(sampler.chunks(from: registry.snapshot()).first)
        #expect(Self.sent(fourth) == ["jobs_total c2 4.0", "other_total o 1.0"])
    }

    @Test func withoutSendExemplarsNoneAreTaken() throws {
        let registry = MetricsRegistry()
        registry.counterFamily(name: "jobs_total", help: "").series().increment(by: 1, exemplar: Self.trace("c"))
        let chunk = try #require(SnapshotSampler(externalLabels: [:]).chunks(from: registry.snapshot()).first)
        #expect(chunk.exemplars == nil && chunk.exemplarBytes == 0)
    }

    @Test func nativeHistogramExemplarsGoWithTheNativeSampleOrThePlusInfBucket() throws {
        let registry = MetricsRegistry()
        let nativeOnly = registry.histogramFamily(
            name: "native_ms", help: "", buckets: [1], native: NativeHistogramOptions()
        ).series()
        let both = registry.histogramFamily(
            name: "both_ms", help: "", buckets: [1], native: NativeHistogramOptions(keepClassicBuckets: true)
        ).series()
        nativeOnly.observe(3, exemplar: Self.trace("n1"))
        nativeOnly.observe(4, exemplar: Self.trace("n2"))
        both.observe(0.5, exemplar: Self.trace("b1"))
        let native = SnapshotSampler(externalLabels: [:], sendsNativeHistograms: { true }, sendsExemplars: true)
        let chunk = try #require(native.chunks(from: registry.snapshot()).first)
        #expect(Self.sent(chunk) == ["both_ms_bucket{le=1} b1 0.5", "native_ms n1 3.0", "native_ms n2 4.0"])
        if let position = chunk.exemplars?.keys.first(where: {
            chunk.series[$0].labels.contains { $0.value == "native_ms" }
        }) {
            #expect(chunk.histogram(at: position) != nil, "on the native histogram's series")
        }
        let classic = SnapshotSampler(externalLabels: [:], sendsExemplars: true)
        let classicChunk = try #require(classic.chunks(from: registry.snapshot()).first)
        #expect(
            Self.sent(classicChunk) == [
                "both_ms_bucket{le=1} b1 0.5", "native_ms_bucket{le=+Inf} n1 3.0", "native_ms_bucket{le=+Inf} n2 4.0",
            ])
    }
}
