import CRemoteWriteProto
import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Write request decoder, remote write 2.0")
struct WriteRequestDecoderV2Tests {
    private static let up = [("__name__", "up"), ("job", "router")]
    private static let jobs = [("__name__", "jobs_total"), ("queue", "emails")]

    private static func labels(_ pairs: [(String, String)]) -> [Label] { pairs.map { Label(name: $0.0, value: $0.1) } }

    private static func bits(_ sample: RemoteSample) -> [Int64] {
        [Int64(bitPattern: sample.value.bitPattern), sample.timestampMilliseconds, sample.startTimestampMilliseconds]
    }

    /// A request written field by field: labels resolved from symbols (packed and unpacked
    /// refs), samples with start timestamps, histograms and exemplars counted, metadata per
    /// family once.
    @Test(arguments: [true, false])
    func aHandWrittenRequestDecodesIntoWhatWasWritten(packedRefs: Bool) throws {
        var builder = V2WireBuilder()
        let samples = [
            RemoteSample(value: 1.5, timestampMilliseconds: 1_000, startTimestampMilliseconds: 500),
            .staleMarker(at: 2_000),
        ]
        builder.addSeries(
            Self.jobs, samples: samples, exemplars: [[("trace_id", "t1")], []],
            metadata: .init(type: 1, help: "Jobs done", unit: "jobs"), packed: packedRefs)
        builder.addSeries(
            [("__name__", "jobs_total"), ("queue", "sms")],
            samples: [RemoteSample(value: 2, timestampMilliseconds: 1_000)],
            metadata: .init(type: 2, help: "ignored: the family has metadata"), packed: packedRefs)
        builder.addSeries(
            [("__name__", "latency_seconds")], histograms: 2,
            metadata: .init(type: 3, help: "Latency", unit: "seconds"),
            packed: packedRefs)
        builder.addSeries(
            Self.up, samples: [RemoteSample(value: 1, timestampMilliseconds: 1_000)], metadata: .init(type: 0, help: "")
        )
        let decoded = try WriteRequestDecoder.decode(body: Snappy.compress(builder.bytes()), protocolVersion: .v2)
        #expect(decoded.protocolVersion == .v2)
        #expect(
            decoded.timeSeries.map(\.labels) == [
                Self.labels(Self.jobs), Self.labels([("__name__", "jobs_total"), ("queue", "sms")]),
                Self.labels([("__name__", "latency_seconds")]), Self.labels(Self.up),
            ])
        // Samples compared bit for bit (the stale marker is a NaN).
        let written = [
            samples, [RemoteSample(value: 2, timestampMilliseconds: 1_000)], [],
            [RemoteSample(value: 1, timestampMilliseconds: 1_000)],
        ]
        #expect(decoded.timeSeries.map { $0.samples.map(Self.bits) } == written.map { $0.map(Self.bits) })
        #expect(decoded.timeSeries[0].samples.last?.isStaleMarker == true, "the stale marker's bits survive")
        #expect(
            decoded.metadata == [
                RemoteMetadata(familyName: "jobs_total", type: .counter, help: "Jobs done", unit: "jobs"),
                RemoteMetadata(familyName: "latency_seconds", type: .histogram, help: "Latency", unit: "seconds"),
            ], "one entry per family, none for an empty Metadata")
        #expect(decoded.sampleCount == 4 && decoded.histogramCount == 2 && decoded.exemplarCount == 2)
        #expect(WriteRequestDecoder.violation(in: decoded) == nil)
    }

    /// The same through protobuf-c's own encoder (`io__prometheus__write__v2__request__pack`).
    @Test func aRequestPackedByProtobufCDecodesIntoWhatWasPacked() throws {
        let samples = [RemoteSample(value: 7, timestampMilliseconds: 3_000, startTimestampMilliseconds: 1_000)]
        let packer = WriteRequestV2Packer(series: [
            .init(
                labels: Self.labels(Self.jobs), samples: samples,
                exemplars: [
                    .init(labels: [Label(name: "trace_id", value: "x")], value: 1, timestampMilliseconds: 3_000)
                ],
                metadata: .init(type: .counter, help: "Jobs", unit: "")),
            .init(
                labels: Self.labels([("__name__", "latency_seconds")]),
                histograms: [
                    .init(
                        count: 3, sum: 0.5, schema: 2, positiveSpans: [(offset: -1, length: 2)],
                        positiveDeltas: [1, 1], timestampMilliseconds: 3_000)
                ]),
        ])
        #expect(packer.symbols.first == "" && packer.symbols.count == 9)
        let bytes = packer.pack()
        let size = try WriteRequestScan.measure(bytes, limits: .unlimited, protocolVersion: .v2)
        #expect(size.series == 2 && size.labels == 4 && size.samples == 1 && size.histograms == 1 && size.symbols == 9)
        let decoded = try WriteRequestDecoder.decodeProtobuf(bytes, protocolVersion: .v2)
        #expect(
            decoded.timeSeries == [
                RemoteTimeSeries(labels: Self.labels(Self.jobs), samples: samples),
                RemoteTimeSeries(
                    labels: Self.labels([("__name__", "latency_seconds")]), samples: [], histogramCount: 1),
            ])
        #expect(decoded.metadata == [RemoteMetadata(familyName: "jobs_total", type: .counter, help: "Jobs", unit: "")])
        #expect(decoded.histogramCount == 1 && decoded.exemplarCount == 1)
        let allocated = WriteRequestDecoder.unpackCounted(bytes, protocolVersion: .v2).allocated
        #expect(allocated > 0 && allocated <= size.decodedBytes)
    }

    /// A 2.0 body decoded as 1.0 (what a 1.x receiver does): fields 4 and 5 are unknown to
    /// `prometheus.WriteRequest`, so it is an empty request.
    @Test func aV2BodyDecodesAsAnEmptyV1Request() throws {
        var builder = V2WireBuilder()
        builder.addSeries(Self.up, samples: [RemoteSample(value: 1, timestampMilliseconds: 1)])
        let decoded = try WriteRequestDecoder.decodeProtobuf(builder.bytes(), protocolVersion: .v1)
        #expect(decoded.protocolVersion == .v1 && decoded.timeSeries.isEmpty && decoded.metadata.isEmpty)
        #expect(WriteRequestDecoder.violation(in: decoded) == nil)
    }

    /// Each rule of remote write 2.0, refused with its reason.
    @Test(arguments: V2Rule.allCases)
    func eachRuleIsRefusedWithItsReason(rule: V2Rule) {
        let bytes = rule.request()
        let reason: String?
        do {
            let decoded = try WriteRequestDecoder.decodeProtobuf(bytes, protocolVersion: .v2)
            reason = WriteRequestDecoder.violation(in: decoded)
        } catch {
            #expect(error.status == 400)
            reason = error.description
        }
        #expect(reason?.contains(rule.reason) == true, "\(rule): \(reason ?? "accepted")")
    }

    /// The expansion attack in 2.0 form: a few MiB that protobuf-c would turn into millions
    /// of elements, structs or strings. The scan refuses each before anything is decoded
    /// (its reason says "once decoded" or names a count limit; the allocator's says
    /// "decoding needs").
    @Test(arguments: V2Expansion.allCases)
    func expansionIsRefusedBeforeDecoding(attack: V2Expansion) async throws {
        try await HeavyTestWork.runThrowing { try Self.expansionRefused(attack) }
    }

    static func expansionRefused(_ attack: V2Expansion) throws {
        let bytes = attack.request()
        #expect(bytes.count < 12_000_000)
        let error = try #require(throws: WriteRequestError.self) {
            try WriteRequestDecoder.decodeProtobuf(bytes, protocolVersion: .v2)
        }
        #expect(error.status == 413 && error.description.contains(attack.limit), "\(error)")
        #expect(!error.description.contains("decoding needs"), "refused by the scan, before protobuf-c")
        var bytesOnly = WriteRequestLimits.unlimited
        bytesOnly.maxDecodedBytes = 16 << 20
        let second = try #require(throws: WriteRequestError.self) {
            try WriteRequestScan.measure(bytes, limits: bytesOnly, protocolVersion: .v2)
        }
        #expect(second.isTooLarge && second.description.contains("max_decoded_bytes"), "\(second)")
    }
}

/// A rule of remote write 2.0 and a request that breaks only it.
enum V2Rule: String, CaseIterable, CustomTestStringConvertible {
    case firstSymbolNotEmpty, refBeyondTable, oddRefs, unsorted, repeatedName, emptyName, emptyValue, noName
    case invalidMetricName, invalidLabelName, samplesAndHistograms, neither, helpRef, unitRef, exemplarRef
    case exemplarOddRefs, samplesOutOfOrder

    var testDescription: String { rawValue }

    var reason: String {
        switch self {
        case .firstSymbolNotEmpty: "symbols[0] must be \"\""
        case .refBeyondTable: "series 1: labels_refs 9 is not in the symbol table (5 symbols)"
        case .oddRefs: "labels_refs has an odd count (3)"
        case .unsorted: "labels not sorted by name (job before instance)"
        case .repeatedName: "repeated label name job"
        case .emptyName: "empty label name"
        case .emptyValue: "label job has an empty value"
        case .noName: "no __name__ label"
        case .invalidMetricName: "invalid metric name"
        case .invalidLabelName: "invalid label name 1job"
        case .samplesAndHistograms: "has both samples and histograms"
        case .neither: "has no samples or histograms"
        case .helpRef: "metadata help_ref 40 is not in the symbol table"
        case .unitRef: "metadata unit_ref 41 is not in the symbol table"
        case .exemplarRef: "exemplar 0: labels_refs 30 is not in the symbol table"
        case .exemplarOddRefs: "exemplar 0: labels_refs has an odd count (1)"
        case .samplesOutOfOrder: "samples not in timestamp order"
        }
    }

    func request() -> [UInt8] {
        var builder = V2WireBuilder()
        let sample = [RemoteSample(value: 1, timestampMilliseconds: 10)]
        let up = [("__name__", "up"), ("job", "a")]
        switch self {
        case .firstSymbolNotEmpty:
            builder.addSeries(up, samples: sample)
            return builder.bytes(replacingSymbols: ["x"] + builder.symbols.dropFirst())
        case .refBeyondTable:
            builder.addSeries(up, samples: sample)
            builder.addSeries(refs: [1, 2, 3, 9], samples: sample)
        case .oddRefs: builder.addSeries(refs: [1, 2, 3], samples: sample)
        case .unsorted: builder.addSeries([("__name__", "up"), ("job", "a"), ("instance", "b")], samples: sample)
        case .repeatedName: builder.addSeries([("__name__", "up"), ("job", "a"), ("job", "b")], samples: sample)
        case .emptyName: builder.addSeries([("", "x"), ("__name__", "up")], samples: sample)
        case .emptyValue: builder.addSeries([("__name__", "up"), ("job", "")], samples: sample)
        case .noName: builder.addSeries([("job", "a")], samples: sample)
        case .invalidMetricName: builder.addSeries([("__name__", "1up")], samples: sample)
        case .invalidLabelName: builder.addSeries([("1job", "a"), ("__name__", "up")], samples: sample)
        case .samplesAndHistograms: builder.addSeries(up, samples: sample, histograms: 1)
        case .neither: builder.addSeries(up)
        case .helpRef, .unitRef:
            builder.addSeries(up, samples: sample)
            builder.addSeries(
                refs: [1, 2, 3, 4], samples: sample,
                metadataRefs: (type: 1, help: self == .helpRef ? 40 : 0, unit: self == .unitRef ? 41 : 0))
        case .exemplarRef, .exemplarOddRefs:
            builder.addSeries(up, samples: sample)
            builder.addSeries(
                refs: [1, 2, 3, 4], samples: sample, exemplarRefs: [self == .exemplarRef ? [1, 30] : [1]])
        case .samplesOutOfOrder:
            builder.addSeries(
                up,
                samples: [
                    RemoteSample(value: 1, timestampMilliseconds: 20),
                    RemoteSample(value: 1, timestampMilliseconds: 10),
                ])
        }
        return builder.bytes()
    }
}

/// A few MiB of 2.0 wire format that decode into millions of things, and the limit that
/// stops it with the defaults.
enum V2Expansion: String, CaseIterable, CustomTestStringConvertible {
    /// 5,000,000 refs of one varint field each (two bytes): slabs of 32 bytes a field.
    case unpackedRefs
    /// 10,000,000 refs packed into one field of zero bytes: 4 bytes each.
    case packedRefs
    /// 3,000,000 empty `Sample` messages.
    case emptySamples
    /// 3,000,000 empty symbols.
    case emptySymbols
    /// 3,000,000 empty `BucketSpan` messages in one histogram.
    case emptySpans
    /// 3,000,000 `Metadata` messages for one series (each unpacked, then merged).
    case repeatedMetadata

    var testDescription: String { rawValue }

    var limit: String {
        switch self {
        case .unpackedRefs, .packedRefs: "max_labels"
        case .emptySamples: "max_samples"
        case .emptySymbols: "max_symbols"
        case .emptySpans: "max_decoded_bytes"
        case .repeatedMetadata: "max_metadata"
        }
    }

    func request() -> [UInt8] {
        var request = WireBytes()
        request.field(4, bytes: [])
        switch self {
        case .unpackedRefs: request.field(5, bytes: Self.repeated([0x08, 0x00], 5_000_000))
        case .packedRefs:
            var series = WireBytes()
            series.field(1, bytes: [UInt8](repeating: 0, count: 10_000_000))
            request.field(5, bytes: series.bytes)
        case .emptySamples: request.field(5, bytes: Self.repeated([0x12, 0x00], 3_000_000))
        case .emptySymbols: request.bytes += Self.repeated([0x22, 0x00], 3_000_000)
        case .emptySpans:
            var series = WireBytes()
            series.field(3, bytes: Self.repeated([0x42, 0x00], 3_000_000))
            request.field(5, bytes: series.bytes)
        case .repeatedMetadata: request.field(5, bytes: Self.repeated([0x2A, 0x00], 3_000_000))
        }
        return request.bytes
    }

    private static func repeated(_ field: [UInt8], _ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.count * count)
        for _ in 0..<count { bytes += field }
        return bytes
    }
}
