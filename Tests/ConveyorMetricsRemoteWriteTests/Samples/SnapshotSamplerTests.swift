import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Snapshot sampler")
struct SnapshotSamplerTests {
    private func labels(_ sample: QueuedSample) -> [String: String] {
        Dictionary(uniqueKeysWithValues: sample.series.labels.map { ($0.name, $0.value) })
    }

    @Test func addsNameAndExternalLabelsWithTheSeriesOwnLabelWinning() {
        let registry = MetricsRegistry()
        registry.counterFamily(name: "c_total", help: "c", labelNames: ["instance", "empty"]).series("own", "")
            .increment()
        let sampler = SnapshotSampler(externalLabels: ["instance": "router-7", "cluster": "edge"])
        let samples = sampler.samples(from: registry.snapshot()).filter { labels($0)["__name__"] == "c_total" }
        #expect(samples.count == 1)
        #expect(samples.first.map(labels) == ["__name__": "c_total", "instance": "own", "cluster": "edge"])
        #expect(
            samples.first?.series.labels.map(\.name) == ["__name__", "cluster", "instance"], "sorted, empty dropped")
    }

    @Test func histogramsBecomeBucketSumAndCount() {
        let registry = MetricsRegistry()
        let histogram = registry.histogramFamily(name: "lat_ms", help: "l", labelNames: ["p"], buckets: [1, 10]).series(
            "x")
        histogram.observe(5)
        histogram.observe(50)
        let samples = SnapshotSampler(externalLabels: [:]).samples(from: registry.snapshot())
            .filter { labels($0)["__name__"]?.hasPrefix("lat_ms") == true }
        let byName = samples.map { (labels($0)["__name__"]!, labels($0)["le"], $0.sample.value) }
        #expect(byName.map(\.0) == ["lat_ms_bucket", "lat_ms_bucket", "lat_ms_bucket", "lat_ms_sum", "lat_ms_count"])
        #expect(byName.map(\.1) == ["1", "10", "+Inf", nil, nil])
        #expect(byName.map(\.2) == [0, 1, 2, 55, 2])
    }

    @Test func vanishedSeriesGetExactlyOneStaleMarkerAndTimestampsIncrease() {
        let registry = MetricsRegistry()
        let family = registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
        family.series("a").set(1)
        family.series("b").set(2)
        let sampler = SnapshotSampler(externalLabels: [:])
        let first = sampler.samples(from: registry.snapshot())
        family.remove(["b"])
        let snapshot = registry.snapshot()
        let second = sampler.samples(from: snapshot)
        let stale = second.filter(\.sample.isStaleMarker)
        #expect(stale.count == 1)
        #expect(stale.first.map(labels)?["k"] == "b")
        #expect(stale.first?.sample.value.bitPattern == 0x7ff0_0000_0000_0002)
        #expect(second.first!.sample.timestampMilliseconds > first.first!.sample.timestampMilliseconds)
        // Same wall-clock snapshot again: still strictly increasing.
        let third = sampler.samples(from: snapshot)
        #expect(third.first!.sample.timestampMilliseconds > second.first!.sample.timestampMilliseconds)
        #expect(third.filter(\.sample.isStaleMarker).isEmpty)
        let final = sampler.staleMarkersForAll(at: 0).samples
        #expect(final.count == third.count)
        #expect(final.allSatisfy { $0.sample.isStaleMarker })
    }

    /// A native histogram series goes stale as Prometheus' own remote write sends it: a
    /// histogram whose sum is the stale NaN (a float would make a receiver that drops native
    /// histograms keep a series of NaN under the histogram's name). Its classic series, and
    /// other families, get float stale markers; 1.0 and 2.0 alike, vanished or at shutdown.
    @Test func aNativeHistogramSeriesGoesStaleAsAHistogram() {
        let registry = MetricsRegistry()
        let native = registry.histogramFamily(
            name: "lat_ms", help: "l", labelNames: ["k"], buckets: [], native: NativeHistogramOptions())
        let both = registry.histogramFamily(
            name: "both_ms", help: "b", labelNames: ["k"], buckets: [1],
            native: NativeHistogramOptions(keepClassicBuckets: true))
        let gauges = registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
        for key in ["a", "b"] {
            native.series(key).observe(3)
            both.series(key).observe(3)
            gauges.series(key).set(1)
        }
        let sampler = SnapshotSampler(externalLabels: [:], sendsNativeHistograms: { true })
        _ = sampler.chunks(from: registry.snapshot(), at: 1_000)
        for family in [native, both] { _ = family.remove(["a"]) }
        _ = gauges.remove(["a"])
        let vanished = sampler.chunks(from: registry.snapshot(), at: 2_000)
        #expect(vanished.count == 2, "the snapshot, then its stale markers")
        let final = sampler.staleMarkersForAll(at: 3_000)
        for (name, stale) in [("vanished", vanished.last), ("shutdown", final)] {
            guard let stale else {
                Issue.record("\(name): no stale markers")
                continue
            }
            // lat_ms, both_ms (native), both_ms_bucket ×2, _sum, _count, g: 7 series of key a
            // vanished; at shutdown those of key b and the registry's own series.
            #expect(name == "vanished" ? stale.count == 7 : stale.count > 7, "\(name): \(stale.count)")
            var histograms = 0
            var floats = 0
            for index in stale.start..<stale.end {
                let series = stale.series[index]
                let metric = series.labels.first { $0.name == "__name__" }?.value ?? ""
                if let histogram = stale.histogram(at: index) {
                    histograms += 1
                    #expect(series.isNativeHistogram && histogram.isStaleMarker, "\(name) \(metric)")
                    #expect(histogram.count == 0 && histogram.positiveDeltas.isEmpty, "\(name) \(metric)")
                } else {
                    floats += 1
                    #expect(!series.isNativeHistogram, "\(name) \(metric)")
                    #expect(stale.values[index].bitPattern == RemoteSample.staleNaNBits, "\(name) \(metric)")
                }
            }
            #expect(histograms == 2 && floats == stale.count - 2, "\(name): lat_ms and both_ms as histograms")
            let v1 = WriteRequestWriter()
            v1.write([stale])
            let v1Histograms = ProtobufCRoundTrip.v1(v1.bytes) { request, identical -> [UInt64] in
                #expect(identical, "\(name)")
                return (0..<request.n_timeseries).compactMap { request.timeseries[$0]?.pointee }
                    .filter { $0.n_histograms == 1 && $0.n_samples == 0 }
                    .compactMap { $0.histograms[0]?.pointee.sum.bitPattern }
            }
            #expect(v1Histograms == [RemoteSample.staleNaNBits, RemoteSample.staleNaNBits], "\(name) 1.0")
            let v2 = WriteRequestV2Writer()
            v2.write([stale])
            let v2Histograms = ProtobufCRoundTrip.v2(v2.bytes) { request, identical -> [UInt64] in
                #expect(identical, "\(name)")
                return (0..<request.n_timeseries).compactMap { request.timeseries[$0]?.pointee }
                    .filter { $0.n_histograms == 1 && $0.n_samples == 0 }
                    .compactMap { $0.histograms[0]?.pointee.sum.bitPattern }
            }
            #expect(v2Histograms == [RemoteSample.staleNaNBits, RemoteSample.staleNaNBits], "\(name) 2.0")
        }
    }

    /// A NaN observed into a native histogram goes out as the normal NaN, both when the
    /// registry is read and through a snapshot, never with the stale bits.
    @Test func aNativeHistogramsNaNSumIsTheNormalNaN() {
        let registry = MetricsRegistry()
        registry.histogramFamily(name: "lat_ms", help: "l", buckets: [], native: NativeHistogramOptions()).series()
            .observe(Double(bitPattern: RemoteSample.staleNaNBits))
        let sampler = SnapshotSampler(externalLabels: [:], sendsNativeHistograms: { true })
        let chunks = [
            sampler.chunks(from: registry.snapshot(), at: 1_000), sampler.chunks(reading: registry, at: 2_000),
        ]
        let sums = chunks.compactMap { $0.first?.histograms?.compactMap { $0?.sum.bitPattern } }
        #expect(sums == [[RemoteSample.normalNaNBits], [RemoteSample.normalNaNBits]])
    }

    @Test func sameSeriesSharesOneLabelSetAcrossSnapshots() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "g").series().set(1)
        let sampler = SnapshotSampler(externalLabels: [:])
        let first = sampler.samples(from: registry.snapshot()).first { labels($0)["__name__"] == "g" }
        let second = sampler.samples(from: registry.snapshot()).first { labels($0)["__name__"] == "g" }
        #expect(first?.series === second?.series, "labels and their protobuf bytes are built once")
    }

    @Test func theFastWriterIsByteIdenticalToProtobufC() throws {
        let series = [
            RemoteSeries(labels: [Label(name: "__name__", value: "up"), Label(name: "job", value: "ünï \"q\"")]),
            RemoteSeries(labels: [Label(name: "__name__", value: String(repeating: "x", count: 300))]),
        ]
        let samples: [RemoteSample] = [
            RemoteSample(value: 0, timestampMilliseconds: 0), RemoteSample(value: -0.0, timestampMilliseconds: 1),
            RemoteSample(value: 1.5, timestampMilliseconds: 1_795_567_955_700), .staleMarker(at: 5),
            RemoteSample(value: -.infinity, timestampMilliseconds: -7),
            RemoteSample(value: Double(bitPattern: RemoteSample.normalNaNBits), timestampMilliseconds: Int64.max),
        ]
        let queued = samples.enumerated().map { QueuedSample(series: series[$0.offset % 2], sample: $0.element) }
        let writer = WriteRequestWriter()
        writer.write(queued)
        let oracle = WriteRequestEncoder().encode(
            queued.map { RemoteTimeSeries(labels: $0.series.labels, samples: [$0.sample]) })
        #expect(writer.bytes == oracle)
        let decoded = try WriteRequestDecoder.decodeProtobuf(writer.bytes)
        // Bits survive, except that proto3 turns -0.0 into the default +0.0.
        #expect(
            decoded.timeSeries.flatMap(\.samples).map(\.value.bitPattern)
                == samples.map { ($0.value == 0 ? 0.0 : $0.value).bitPattern })
        writer.write(Array(queued.prefix(1)))
        #expect(
            writer.bytes
                == WriteRequestEncoder().encode([RemoteTimeSeries(labels: series[0].labels, samples: [samples[0]])]))
    }

    @Test func chunkWritingMatchesSampleWritingIncludingSlices() {
        let registry = MetricsRegistry()
        registry.counterFamily(name: "c_total", help: "c", labelNames: ["k"]).series("a").increment(by: 3 as UInt64)
        registry.histogramFamily(name: "h", help: "h", buckets: [1, 2]).series().observe(1.5)
        let sampler = SnapshotSampler(externalLabels: ["instance": "x"])
        _ = sampler.chunks(from: registry.snapshot())
        var chunk = sampler.chunks(from: registry.snapshot())[0]  // the steady-state fast path
        let chunkWriter = WriteRequestWriter()
        let sampleWriter = WriteRequestWriter()
        chunkWriter.write([chunk])
        sampleWriter.write(chunk.samples)
        #expect(chunkWriter.bytes == sampleWriter.bytes)
        #expect(
            chunk.samples.count == 1 + 3 + 2 + RejectionReason.allCases.count,
            "counter, 3 buckets, sum, count, self-metric")
        chunk.start = 2
        chunk.end = 5
        chunkWriter.write([chunk, chunk])
        sampleWriter.write(chunk.samples + chunk.samples)
        #expect(chunkWriter.bytes == sampleWriter.bytes)
    }
}

@Suite("Snapshot sampler: one series per label set")
struct SnapshotSamplerIdentityTests {
    @Test func aSeriesDestroyedAndRecreatedInOneIntervalContinuesWithoutAStaleMarker() {
        let registry = MetricsRegistry()
        let sampler = SnapshotSampler(externalLabels: [:])
        let first = registry.makeCounter(label: "jobs_total", dimensions: [("queue", "q1")])
        first.increment(by: 3)
        let before = sampler.chunks(from: registry.snapshot(), at: 1_000)
        #expect(before.count == 1)
        registry.destroyCounter(first)
        registry.makeCounter(label: "jobs_total", dimensions: [("queue", "q1")]).increment(by: 1)
        let after = sampler.chunks(from: registry.snapshot(), at: 2_000).flatMap(\.samples)
        let jobs = after.filter { $0.series.labels.contains(Label(name: "__name__", value: "jobs_total")) }
        #expect(jobs.count == 1, "one sample, no stale marker beside it: \(jobs.map(\.sample))")
        #expect(jobs.first?.sample.isStaleMarker == false)
        let previous = before[0].series.first { $0.labels.contains(Label(name: "queue", value: "q1")) }
        #expect(jobs.first?.series.labels == previous?.labels, "the same series at the receiver")
        // Counting again from zero: 2.0's start timestamp is the re-created series' (never earlier).
        #expect((jobs.first?.series.startTimestamp ?? 0) >= (previous?.startTimestamp ?? .max))
    }

    @Test func labelSetsEqualOnceEmptyValuesGoAreOneSeriesAndTheSecondIsCounted() {
        let registry = MetricsRegistry()
        registry.makeCounter(label: "events_total", dimensions: []).increment(by: 1)
        registry.makeCounter(label: "events_total", dimensions: [("zone", "")]).increment(by: 5)
        let sampler = SnapshotSampler(externalLabels: [:])
        let samples = sampler.chunks(from: registry.snapshot(), at: 1_000).flatMap(\.samples)
            .filter { $0.series.labels.contains(Label(name: "__name__", value: "events_total")) }
        #expect(samples.count == 1, "one value for {} at one timestamp")
        #expect(sampler.duplicateSamples == 1)
    }

    @Test func timestampsStayAboveTheFloorAndAStepBackIsCounted() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "g").series().set(1)
        let sampler = SnapshotSampler(externalLabels: [:])
        sampler.raiseFloor(to: 5_000)
        let chunk = sampler.chunks(from: registry.snapshot(), at: 4_000)
        #expect(chunk.first?.timestamp == 5_001)
        #expect(sampler.clockStepBacks == 1)
        #expect(sampler.lastStepBack == 1_000)
    }
}

@Suite("Snapshot sampler: steady state")
struct SnapshotSamplerSteadyStateTests {
    @Test func anUnchangedSetOfSeriesReusesTheSeriesList() {
        let registry = MetricsRegistry()
        for family in 0..<3 {
            let counter = registry.counterFamily(name: "c\(family)_total", help: "c", labelNames: ["id"])
            for value in 0..<10 { counter.series("v\(value)").increment() }
        }
        registry.histogramFamily(name: "h_ms", help: "h", labelNames: ["id"], buckets: [1, 10]).series("a").observe(3)
        let sampler = SnapshotSampler(externalLabels: ["instance": "r"])
        let snapshot = registry.snapshot()
        let first = sampler.chunks(from: snapshot)
        let second = sampler.chunks(from: snapshot)
        #expect(first.count == 1 && second.count == 1)
        let same = first[0].series.withUnsafeBufferPointer { a in
            second[0].series.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress }
        }
        #expect(same, "the second flush reads values only")
    }
}
