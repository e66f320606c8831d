import CRemoteWriteProto
import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Write request scan, remote write 2.0")
struct WriteRequestScanV2Tests {
    private static let seeds = HeavyTestWork.iterations(3_000)

    /// Random 2.0 requests and mutations of them: whatever the scan lets through, protobuf-c
    /// allocates at most what it estimated; a valid request's counts are exact, and one that
    /// fits its symbol table decodes into exactly what was written.
    @Test func theEstimateBoundsWhatProtobufCAllocates() async {
        await HeavyTestWork.run { Self.estimatesBoundAllocations() }
    }

    static func estimatesBoundAllocations() {
        var checked = 0
        var decoded = 0
        var mutantsAccepted = 0
        var worstRatio = 0.0
        for seed in 0..<UInt64(Self.seeds) {
            var random = SplitMix64(seed: seed)
            let request = RandomV2WireRequest(random: &random)
            guard let size = try? WriteRequestScan.measure(request.bytes, limits: .unlimited, protocolVersion: .v2)
            else {
                Issue.record("seed \(seed): a valid request was refused by the scan")
                continue
            }
            let counted = [
                size.series, size.labels, size.samples, size.histograms, size.exemplars, size.metadata, size.symbols,
            ]
            let written = [
                request.series, request.labels, request.samples, request.histograms, request.exemplars,
                request.metadata, request.symbols,
            ]
            #expect(counted == written, "seed \(seed)")
            let unpacked = WriteRequestDecoder.unpackCounted(request.bytes, protocolVersion: .v2)
            #expect(
                unpacked.allocated <= size.decodedBytes, "seed \(seed): \(unpacked.allocated) > \(size.decodedBytes)")
            worstRatio = max(worstRatio, Double(size.decodedBytes) / Double(max(unpacked.allocated, 1)))
            if request.convertible {
                let result = unpacked.request
                #expect(result?.timeSeries.count == request.series, "seed \(seed)")
                #expect(result?.sampleCount == request.samples, "seed \(seed)")
                #expect(result?.histogramCount == request.histograms, "seed \(seed)")
                #expect(result?.exemplarCount == request.exemplars, "seed \(seed)")
                #expect(result?.timeSeries.reduce(0) { $0 + $1.labels.count } ?? -1 <= request.labels, "seed \(seed)")
                decoded += 1
            }
            checked += 1
            for _ in 0..<10 {
                let mutant = WireMutation.mutate(request.bytes, &random)
                guard let estimate = try? WriteRequestScan.measure(mutant, limits: .unlimited, protocolVersion: .v2)
                else { continue }
                mutantsAccepted += 1
                let allocated = WriteRequestDecoder.unpackCounted(mutant, protocolVersion: .v2).allocated
                #expect(allocated <= estimate.decodedBytes, "seed \(seed): mutant \(mutant)")
            }
        }
        #expect(checked == Self.seeds)
        #expect(decoded > Self.seeds / 4, "most random requests fit their symbol table (\(decoded))")
        #expect(mutantsAccepted > Self.seeds, "mutations the scan accepts are checked too")
        #expect(worstRatio < 4, "estimate / allocation up to \(worstRatio)")
        print(
            "remote write 2.0: estimate / allocation at most \(worstRatio); \(decoded) decoded, \(mutantsAccepted) mutants"
        )
    }

    /// Packed and unpacked refs, over-long varints, repeated fields: what protobuf-c counts.
    @Test func packedAndUnpackedRefsCountAlike() throws {
        var unpacked = WireBytes()
        for ref: UInt64 in [1, 2, 3, 4] { unpacked.field(1, varint: ref) }
        var packed = WireBytes()
        packed.field(1, bytes: [0x01, 0x82, 0x00, 0x03])  // 1, 2 (two bytes), 3
        packed.field(1, varint: 4)
        packed.field(1, bytes: [])
        for series in [unpacked, packed] {
            var request = WireBytes()
            for symbol in ["", "__name__", "up", "job", "a"] { request.field(4, bytes: Array(symbol.utf8)) }
            var sample = WireBytes()
            sample.field(2, varint: 5)
            var withSample = series
            withSample.field(2, bytes: sample.bytes)
            request.field(5, bytes: withSample.bytes)
            let size = try WriteRequestScan.measure(request.bytes, limits: .unlimited, protocolVersion: .v2)
            #expect(size.labels == 2 && size.symbols == 5 && size.samples == 1)
            let result = WriteRequestDecoder.unpackCounted(request.bytes, protocolVersion: .v2)
            #expect(result.allocated <= size.decodedBytes)
            let labels = try #require(result.request?.timeSeries.first?.labels)
            #expect(labels == [Label(name: "__name__", value: "up"), Label(name: "job", value: "a")])
        }
    }

    @Test(arguments: [
        [0x0A, 0x02, 0x80, 0x80] as [UInt8],  // unterminated packed varint
        [0x0A, 0x0B] + [UInt8](repeating: 0x80, count: 10) + [0x00],  // an 11-byte packed varint
        [0x1A, 0x04, 0x52, 0x02, 0x00, 0x00],  // packed doubles of 2 bytes
        [0x09, 0, 0, 0, 0, 0, 0, 0, 0],  // labels_refs as fixed64
        [0x2A, 0x02, 0x0A, 0x00],  // Metadata.type as LEN
    ])
    func malformedV2FieldsAre400(series: [UInt8]) {
        var request = WireBytes()
        request.field(5, bytes: series)
        let error = #expect(throws: WriteRequestError.self) {
            try WriteRequestScan.measure(request.bytes, limits: .unlimited, protocolVersion: .v2)
        }
        #expect(error?.status == 400 && error?.description.contains("io.prometheus.write.v2.Request") == true)
    }

    @Test(arguments: ["max_series", "max_labels", "max_samples", "max_exemplars", "max_metadata", "max_symbols"])
    func eachLimitIsEnforcedAndNamed(key: String) throws {
        var random = SplitMix64(seed: 5)
        var request = RandomV2WireRequest(random: &random)
        while request.series < 3 || request.labels < 3 || request.samples + request.histograms < 3
            || request.exemplars < 3 || request.metadata < 3 || request.symbols < 3
        {
            request = RandomV2WireRequest(random: &random)
        }
        let size = try WriteRequestScan.measure(request.bytes, limits: .unlimited, protocolVersion: .v2)
        var limits = WriteRequestLimits.unlimited
        switch key {
        case "max_series": limits.maxSeries = size.series - 1
        case "max_labels": limits.maxLabels = size.labels - 1
        case "max_samples": limits.maxSamples = size.samples + size.histograms - 1
        case "max_exemplars": limits.maxExemplars = size.exemplars - 1
        case "max_metadata": limits.maxMetadata = size.metadata - 1
        default: limits.maxSymbols = size.symbols - 1
        }
        let error = try #require(throws: WriteRequestError.self) {
            try WriteRequestScan.measure(request.bytes, limits: limits, protocolVersion: .v2)
        }
        #expect(error.isTooLarge && error.description.contains(key), "\(error)")
    }
}

/// 2.0's own expansion: refs are a byte each, so a request can name one long symbol in
/// thousands of labels. What the labels resolve to is bounded (`max_label_bytes`) before the
/// checks after decoding ever build text from them.
@Suite("Write request 2.0 label bytes")
struct WriteRequestV2LabelBytesTests {
    @Test func oneLongSymbolInManyLabelsIsRefused() throws {
        var builder = V2WireBuilder()
        let long = String(repeating: "a", count: 1 << 20)
        let labels = [("__name__", "up")] + (0..<100).map { (String(format: "n%04d", $0), long) }
        builder.addSeries(labels, samples: [RemoteSample(value: 1, timestampMilliseconds: 1)])
        let body = Snappy.compress(builder.bytes())
        #expect(body.count < 2 << 20, "the whole attack fits in a small body (\(body.count) bytes)")
        let error = try #require(throws: WriteRequestError.self) {
            try WriteRequestDecoder.decode(body: body, protocolVersion: .v2)
        }
        #expect(error.status == 413 && error.description.contains("max_label_bytes"), "\(error)")
        // Under the limit, the same shape decodes.
        var limits = WriteRequestLimits()
        limits.maxLabelBytes = 200 << 20
        let decoded = try WriteRequestDecoder.decode(body: body, limits: limits, protocolVersion: .v2)
        #expect(decoded.timeSeries.first?.labels.count == 101)
    }
}
