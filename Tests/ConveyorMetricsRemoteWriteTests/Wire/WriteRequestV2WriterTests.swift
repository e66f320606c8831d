import CRemoteWriteProto
import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// The remote write 2.0 writer against protobuf-c: what it writes decodes to the samples
/// given, and protobuf-c packs the decoded message back into the very same bytes.
@Suite("Remote write 2.0 writer")
struct WriteRequestV2WriterTests {
    /// One decoded series: labels resolved through the symbols, the sample, the metadata.
    struct Decoded: Equatable {
        var labels: [Label]
        var value: UInt64
        var timestamp: Int64
        var start: Int64
        var type: UInt32?
        var help: String
        var unit: String
    }

    /// Decodes `bytes` with protobuf-c, packs the message again and returns both.
    static func decodeAndRepack(_ bytes: [UInt8]) throws -> (symbols: [String], series: [Decoded], repacked: [UInt8]) {
        let unpacked = bytes.withUnsafeBufferPointer {
            io__prometheus__write__v2__request__unpack(nil, $0.count, $0.baseAddress)
        }
        let request = try #require(unpacked, "protobuf-c refuses the writer's output")
        defer { io__prometheus__write__v2__request__free_unpacked(request, nil) }
        let symbols = (0..<request.pointee.n_symbols).map { String(cString: request.pointee.symbols[$0]!) }
        var series: [Decoded] = []
        for index in 0..<request.pointee.n_timeseries {
            let entry = try #require(request.pointee.timeseries[index]).pointee
            let refs = (0..<entry.n_labels_refs).map { Int(entry.labels_refs[$0]) }
            #expect(refs.count % 2 == 0 && refs.allSatisfy { $0 < symbols.count })
            let labels = stride(from: 0, to: refs.count, by: 2).map {
                Label(name: symbols[refs[$0]], value: symbols[refs[$0 + 1]])
            }
            #expect(entry.n_samples == 1)
            let sample = try #require(entry.samples[0]).pointee
            let metadata = entry.metadata?.pointee
            series.append(
                Decoded(
                    labels: labels, value: sample.value.bitPattern, timestamp: sample.timestamp,
                    start: sample.start_timestamp, type: metadata.map { $0.type.rawValue },
                    help: metadata.map { symbols[Int($0.help_ref)] } ?? "",
                    unit: metadata.map { symbols[Int($0.unit_ref)] } ?? ""))
        }
        let size = io__prometheus__write__v2__request__get_packed_size(request)
        var repacked = [UInt8](repeating: 0, count: size)
        _ = repacked.withUnsafeMutableBufferPointer {
            io__prometheus__write__v2__request__pack(request, $0.baseAddress)
        }
        return (symbols, series, repacked)
    }

    @Test func aRegistrySnapshotDecodesExactlyAndRepacksIdentically() throws {
        let registry = MetricsRegistry()
        let jobs = registry.counterFamily(name: "jobs_total", help: "Jobs \"run\"", labelNames: ["queue"])
        jobs.series("emails").increment(by: 3 as UInt64)
        jobs.series("ünïcödé").increment(by: 1 as UInt64)
        registry.gaugeFamily(name: "depth", help: "", labelNames: ["queue"]).series("emails").set(-0.0)
        registry.histogramFamily(name: "wait_seconds", help: "Wait", buckets: [0.1, 1], unit: "seconds").series()
            .observe(0.5)
        let sampler = SnapshotSampler(externalLabels: ["instance": "router-7"])
        let now = WallClock.unixMilliseconds() + 1000
        let chunks = sampler.chunks(from: registry.snapshot(), at: now)
        let writer = WriteRequestV2Writer()
        writer.write(chunks)
        let (symbols, series, repacked) = try Self.decodeAndRepack(writer.bytes)
        #expect(repacked == writer.bytes, "byte-identical to protobuf-c's packing")
        #expect(symbols.first == "")
        #expect(Set(symbols).count == symbols.count, "each string once")
        let expected = chunks.flatMap(\.samples)
        #expect(!expected.isEmpty && series.count == expected.count)
        for (decoded, queued) in zip(series, expected) {
            #expect(decoded.labels == queued.series.labels)
            #expect(
                decoded.labels.map(\.name)
                    == decoded.labels.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            #expect(decoded.timestamp == now)
            #expect(decoded.value == (queued.sample.value == 0 ? 0 : queued.sample.value.bitPattern))
        }
        let byName = Dictionary(series.map { (Label.value(of: "__name__", in: $0.labels), $0) }) { first, _ in first }
        let counter = try #require(byName["jobs_total"])
        #expect(counter.type == 1 && counter.help == "Jobs \"run\"" && counter.start > 0 && counter.start <= now)
        let gauge = try #require(byName["depth"])
        #expect(gauge.type == 2 && gauge.help == "" && gauge.start == 0)
        let bucket = try #require(byName["wait_seconds_bucket"])
        #expect(bucket.type == 3 && bucket.unit == "seconds" && bucket.start > 0)
    }

    /// Random series, values (0, -0, NaN, stale markers, infinities) and timestamps (0,
    /// negative, huge), in slices: always what protobuf-c would pack.
    @Test func randomRequestsRepackIdentically() async {
        await HeavyTestWork.run { Self.randomRequestsRepack() }
    }

    /// Up to 20 random series: a few names, optional labels with short, non-ASCII and long
    /// values, now and then so many labels that the refs need a 2-byte length; random
    /// types, help, unit and start; a shared symbol table or a private one.
    static func randomSeries(_ random: inout SplitMix64, _ table: SymbolTable) -> [RemoteSeries] {
        let names = ["__name__", "a", "job", "le", "zone"]
        return (0..<Int.random(in: 1...20, using: &random)).map { index -> RemoteSeries in
            var labels = [Label(name: "__name__", value: "m\(index % 3)")]
            if random.next() % 8 == 0 {
                for extra in 0..<Int.random(in: 40...150, using: &random) {
                    labels.append(Label(name: "x\(extra)", value: "v\(extra % 7)"))
                }
            }
            for name in names.dropFirst() where Bool.random(using: &random) {
                labels.append(
                    Label(
                        name: name,
                        value: ["x", "ü", String(repeating: "v", count: 200)][Int.random(in: 0..<3, using: &random)]
                    ))
            }
            let type: MetricType? = [nil, .counter, .gauge, .histogram][Int.random(in: 0..<4, using: &random)]
            return RemoteSeries(
                labels: labels.sortedByName(), type: type, help: Bool.random(using: &random) ? "h" : "",
                unit: Bool.random(using: &random) ? "seconds" : "",
                startTimestamp: Int64.random(in: 0...3000, using: &random),
                symbols: Bool.random(using: &random) ? table : nil)
        }
    }

    static let randomValues: [Double] = [
        0, -0.0, 1.5, .nan, .infinity, Double(bitPattern: RemoteSample.staleNaNBits), 1e300,
    ]

    /// A chunk of `series` with random values, a random timestamp and a random slice.
    static func randomChunk(_ series: [RemoteSeries], _ random: inout SplitMix64) -> SampleChunk {
        let timestamp = [0, -5, 2000, Int64.max][Int.random(in: 0..<4, using: &random)]
        var chunk = SampleChunk(
            series: series,
            values: series.map { _ in randomValues[Int.random(in: 0..<randomValues.count, using: &random)] },
            timestamp: timestamp)
        chunk.start = Int.random(in: 0..<series.count, using: &random)
        chunk.end = Int.random(in: chunk.start...series.count, using: &random)
        return chunk
    }

    static func randomRequestsRepack() {
        for seed in 0..<UInt64(HeavyTestWork.iterations(300)) {
            var random = SplitMix64(seed: seed)
            let series = randomSeries(&random, SymbolTable())
            let chunks = (0..<Int.random(in: 1...3, using: &random)).map { _ in randomChunk(series, &random) }
            let writer = WriteRequestV2Writer(templates: false)
            writer.write(chunks)
            guard let (_, decoded, repacked) = try? Self.decodeAndRepack(writer.bytes) else {
                Issue.record("seed \(seed): protobuf-c refuses the writer's output")
                continue
            }
            #expect(repacked == writer.bytes, "seed \(seed)")
            let expected = chunks.flatMap(\.samples)
            #expect(decoded.map(\.labels) == expected.map(\.series.labels), "seed \(seed)")
            for (item, queued) in zip(decoded, expected) {
                let start = queued.series.startTimestamp
                let sent = start > 0 && start <= queued.sample.timestampMilliseconds && !queued.sample.isStaleMarker
                #expect(item.start == (sent ? start : 0), "seed \(seed)")
            }
            // Written twice, the same writer gives the same bytes (per-request stamps reset).
            let first = writer.bytes
            writer.write(chunks)
            #expect(writer.bytes == first, "seed \(seed)")
        }
    }

    /// Batches that come again are written from their templates: random sequences of
    /// batches (slices of a few series lists, lists replaced midway, values, timestamps and
    /// stale markers changing every time) give, request after request, the very bytes a
    /// writer without templates gives.
    @Test func requestsFromTemplatesAreTheBytesWrittenAnew() async {
        await HeavyTestWork.run { Self.templatesMatchFreshWrites() }
    }

    static func templatesMatchFreshWrites() {
        var hits = 0
        for seed in 0..<UInt64(HeavyTestWork.iterations(200)) {
            var random = SplitMix64(seed: seed)
            let table = SymbolTable()
            var lists = (0..<Int.random(in: 1...3, using: &random)).map { _ in randomSeries(&random, table) }
            // A few batch shapes (series list and slice per chunk), each sent many times.
            var shapes = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                (0..<Int.random(in: 1...3, using: &random)).map { _ in
                    let list = Int.random(in: 0..<lists.count, using: &random)
                    let chunk = randomChunk(lists[list], &random)
                    return (list, chunk.start, chunk.end)
                }
            }
            let writer = WriteRequestV2Writer()
            let fresh = WriteRequestV2Writer(templates: false)
            for step in 0..<40 {
                if random.next() % 16 == 0 {  // the registry changed: a new list, same series
                    let replaced = Int.random(in: 0..<lists.count, using: &random)
                    lists[replaced] = lists[replaced].map { $0 }
                }
                if random.next() % 20 == 0 {  // a batch shifted by a backlog
                    let shape = Int.random(in: 0..<shapes.count, using: &random)
                    shapes[shape] = shapes[shape].map { (list, start, end) in (list, start, max(start, end - 1)) }
                }
                let shape = shapes[Int.random(in: 0..<shapes.count, using: &random)]
                let chunks = shape.map { (list, start, end) -> SampleChunk in
                    var chunk = randomChunk(lists[list], &random)
                    chunk.start = min(start, lists[list].count)
                    chunk.end = min(max(end, chunk.start), lists[list].count)
                    return chunk
                }
                writer.write(chunks)
                fresh.write(chunks)
                if writer.bytes != fresh.bytes {
                    Issue.record("seed \(seed) step \(step): a request from a template differs from one written anew")
                    break
                }
            }
            hits += writer.templateWrites
            #expect(writer.templateCount <= WriteRequestV2Writer.maxTemplates, "seed \(seed)")
        }
        #expect(hits > HeavyTestWork.iterations(1000), "templates were used: \(hits) requests")
    }

    /// Templates are bounded in number and bytes, however many batches come again; a
    /// flush cut into more batches than that still has most of them from templates.
    @Test func templatesAreBounded() async {
        await HeavyTestWork.run { Self.templatesStayBounded() }
    }

    static func templatesStayBounded() {
        let batches = WriteRequestV2Writer.maxTemplates + 20
        let series = (0..<batches * 10).map {
            RemoteSeries(labels: [Label(name: "__name__", value: "m\($0)")], type: .gauge)
        }
        let writer = WriteRequestV2Writer()
        for round in 0..<3 {
            for start in stride(from: 0, to: series.count, by: 10) {
                var chunk = SampleChunk(series: series, values: series.map { _ in Double(round) }, timestamp: 1000)
                chunk.start = start
                chunk.end = start + 10
                writer.write([chunk])
            }
        }
        #expect(writer.templateCount == WriteRequestV2Writer.maxTemplates)
        #expect(writer.templateWrites == WriteRequestV2Writer.maxTemplates, "every template used in the third round")
        #expect(writer.templateBytes > 0 && writer.templateBytes <= WriteRequestV2Writer.maxTemplateBytes)
    }

    /// What remote write 2.0 is for: fewer bytes for the same samples, compressed too.
    @Test func v2IsSmallerThanV1ForARouterRegistry() {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        for index in 0..<200 {
            metrics.recordRecordsReceived(sourceID: "source-\(index % 20)", count: UInt64(index))
            metrics.recordRoutingLatency(pipelineID: "pipeline-\(index % 10)", latencyMs: Double(index))
        }
        let sampler = SnapshotSampler(externalLabels: ["instance": "router-7", "cluster": "edge-eu-1"])
        let chunks = sampler.chunks(from: registry.snapshot(), at: 1_795_567_955_700)
        let v1 = WriteRequestWriter()
        v1.write(chunks)
        let v2 = WriteRequestV2Writer()
        v2.write(chunks)
        let v1Compressed = Snappy.compress(Array(v1.body))
        let v2Compressed = Snappy.compress(Array(v2.body))
        #expect(v2.count < v1.count)
        #expect(
            Double(v2Compressed.count) <= 0.8 * Double(v1Compressed.count),
            "\(v2Compressed.count) vs \(v1Compressed.count)")
    }
}

extension Label {
    static func value(of name: String, in labels: [Label]) -> String { labels.first { $0.name == name }?.value ?? "" }
}
