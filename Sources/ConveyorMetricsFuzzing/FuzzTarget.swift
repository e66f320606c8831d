import ConveyorMetrics
import ConveyorMetricsCLI
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// The fuzzed entry points. Each takes arbitrary bytes and must neither crash nor hang;
/// `exposition` also re-parses what it rendered with a strict checker and traps (a
/// finding) when the output is not valid or does not carry the recorded values exactly.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// The receiver's decode path for remote write 1.0 and 2.0: snappy, protobuf-c, the
    /// spec's rule checks.
    case receiver
    /// The configuration parser (YAML, Prometheus vocabulary, validation).
    case config
    /// The exposition writer on arbitrary label values and floats.
    case exposition
    /// Native histograms: arbitrary options and observations, the snapshot's invariants,
    /// the text, OpenMetrics and protobuf outputs.
    case nativeHistogram = "native-histogram"

    /// A wrong result the exposition oracle found (a crash or hang is found by libFuzzer itself).
    package struct Finding: Error, CustomStringConvertible {
        package let description: String
    }

    package func run(_ data: [UInt8]) throws(Finding) {
        switch self {
        case .receiver: try Self.receiver(data)
        case .config: Self.config(data)
        case .exposition: try Self.exposition(data)
        case .nativeHistogram: try Self.nativeHistogram(data)
        }
    }

    /// Limits below the defaults, so libFuzzer's `-rss_limit_mb` sees any expansion the
    /// limits fail to stop.
    private static let checker: RemoteWriteRequestChecker = {
        var limits = WriteRequestLimits()
        limits.maxDecompressedBytes = 16 << 20
        limits.maxDecodedBytes = 128 << 20
        return RemoteWriteRequestChecker(limits: limits)
    }()
    private static let headers: [DecodedWriteRequest.ProtocolVersion: [(String, String)]] = [
        .v1: [
            ("Content-Encoding", RemoteWriteProtocol.contentEncoding),
            ("Content-Type", RemoteWriteProtocol.contentType),
            ("X-Prometheus-Remote-Write-Version", RemoteWriteProtocol.version),
        ],
        .v2: [
            ("Content-Encoding", RemoteWriteProtocol.contentEncoding),
            ("Content-Type", RemoteWriteProtocol.v2ContentType),
            ("X-Prometheus-Remote-Write-Version", RemoteWriteProtocol.v2Version),
        ],
    ]

    /// Each protocol, both as a snappy body and as raw protobuf (so the fuzzer reaches
    /// protobuf-c quickly). The allocation budget: whatever the wire-format scan lets
    /// through, protobuf-c must not allocate more than the scan estimated (the receiver's
    /// limits rest on that estimate).
    private static func receiver(_ data: [UInt8]) throws(Finding) {
        for version in [DecodedWriteRequest.ProtocolVersion.v1, .v2] {
            _ = checker.check(headers: headers[version] ?? [], body: data)
            guard let size = try? WriteRequestScan.measure(data, limits: .unlimited, protocolVersion: version) else {
                continue
            }
            let counted = WriteRequestDecoder.unpackCounted(data, protocolVersion: version)
            guard counted.allocated <= size.decodedBytes else {
                throw Finding(
                    description:
                        "\(version): protobuf-c allocated \(counted.allocated) bytes;"
                        + " the scan estimated at most \(size.decodedBytes)")
            }
            if let request = counted.request { _ = WriteRequestDecoder.violation(in: request) }
        }
    }

    private static func config(_ data: [UInt8]) {
        _ = try? ConfigFile.parse(String(decoding: data, as: UTF8.self), file: "fuzz.yml")
    }

    /// Bytes 0–7: a Double's bits; the rest, split at 0xFF: up to three label values.
    private static func exposition(_ data: [UInt8]) throws(Finding) {
        var bits: UInt64 = 0
        for (index, byte) in data.prefix(8).enumerated() { bits |= UInt64(byte) << (8 * UInt64(index)) }
        let value = Double(bitPattern: bits)
        var labels = data.dropFirst(8).split(separator: 0xFF, maxSplits: 2, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        while labels.count < 3 { labels.append("") }
        let registry = MetricsRegistry()
        let gauge = registry.gaugeFamily(name: "fuzz_gauge", help: "Fuzzed \\ help\nline", labelNames: ["a", "b", "c"])
        let counter = registry.counterFamily(name: "fuzz_total", help: "Fuzzed counter", labelNames: ["a"])
        let histogram = registry.histogramFamily(
            name: "fuzz_seconds", help: "Fuzzed histogram", labelNames: ["b"], buckets: [0.1, 1, 10])
        let rejectedBefore = RejectionReason.allCases.reduce(0) { $0 + registry.rejectedCount($1) }
        gauge.series(labels).set(value)
        // The third label value is also an exemplar's trace id (invalid ones are rejected).
        let exemplar = Exemplar(["trace_id": labels[2]])
        counter.series(labels[0]).increment(by: value, exemplar: exemplar)
        histogram.series(labels[1]).observe(value, exemplar: exemplar)
        let rejected = RejectionReason.allCases.reduce(0) { $0 + registry.rejectedCount($1) } > rejectedBefore
        for format in [ExpositionFormat.prometheusText, .openMetrics] {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer, format: format)
            let parsed: ExpositionChecker.Parsed
            do {
                parsed = try ExpositionChecker.parse(buffer, openMetrics: format == .openMetrics)
            } catch {
                throw Finding(
                    description:
                        "\(format) output rejected by the checker: \(error)\n\(String(decoding: buffer, as: UTF8.self))"
                )
            }
            let gaugeSample = parsed.samples.first { $0.name == "fuzz_gauge" }
            if let gaugeSample {
                // An empty label value is the same as no label: compare the non-empty ones.
                let expected = zip(["a", "b", "c"], labels).filter { !$0.1.isEmpty }.map {
                    ExpositionChecker.Label(name: $0.0, value: $0.1)
                }
                guard gaugeSample.labels.filter({ !$0.value.isEmpty }) == expected else {
                    throw Finding(description: "label values changed on the way: \(gaugeSample.labels) vs \(labels)")
                }
                // Exact bits, except that -0 is written as 0 (as the remote-write path sends it).
                guard
                    rejected || gaugeSample.value.bitPattern == value.bitPattern
                        || (value == 0 && gaugeSample.value == 0)
                else {
                    throw Finding(description: "gauge value \(value) rendered as \(gaugeSample.value)")
                }
            } else if !rejected {
                throw Finding(description: "an accepted gauge series is missing from the output")
            }
            // An accepted exemplar is on the counter's line (OpenMetrics only), as recorded.
            let exemplars = parsed.samples.compactMap(\.exemplar)
            if format == .prometheusText, !exemplars.isEmpty {
                throw Finding(description: "exemplars in the Prometheus text format")
            }
            if format == .openMetrics, !rejected, value > 0,
                let line = parsed.samples.first(where: { $0.name == "fuzz_total" })
            {
                guard let written = line.exemplar,
                    written.labels == [ExpositionChecker.Label(name: "trace_id", value: labels[2])],
                    written.value.bitPattern == value.bitPattern
                else {
                    throw Finding(
                        description: "the counter's exemplar \(String(describing: line.exemplar)) for \(labels[2])")
                }
            }
        }
    }
}

extension FuzzTarget {
    /// The seed corpus (`conveyor-metrics-fuzz --write-seeds DIR` writes it; Fuzz/corpus/
    /// holds the committed copy): valid inputs from which libFuzzer mutates.
    package var seeds: [[UInt8]] {
        switch self {
        case .receiver:
            let series = [
                RemoteTimeSeries(
                    labels: [Label(name: "__name__", value: "up"), Label(name: "job", value: "router")],
                    samples: [RemoteSample(value: 1, timestampMilliseconds: 1_700_000_000_000)]),
                RemoteTimeSeries(
                    labels: [Label(name: "__name__", value: "q_total"), Label(name: "le", value: "+Inf")],
                    samples: [
                        RemoteSample(value: 2.5, timestampMilliseconds: 1_700_000_000_000),
                        RemoteSample(
                            value: Double(bitPattern: RemoteSample.staleNaNBits),
                            timestampMilliseconds: 1_700_000_001_000),
                    ]),
            ]
            let encoder = WriteRequestEncoder()
            let samples = encoder.encode(series)
            let metadata = encoder.encode(
                [], metadata: [RemoteMetadata(familyName: "q", type: .counter, help: "Queue \"help\"", unit: "")])
            // Empty labels, an exemplar, unknown fields of each wire type, a repeated value: the
            // shapes that make protobuf-c allocate more than the bytes suggest.
            var expanding: [UInt8] = [0x0A, 0x00]
            for _ in 0..<40 { expanding += [0x0A, 0x00] }
            expanding += [0x1A, 0x04, 0x0A, 0x00, 0x0A, 0x00]
            expanding += [0x12, 0x0B, 0x09] + [UInt8](repeating: 0, count: 8) + [0x10, 0x01]
            expanding += [0x78, 0x05, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00]
            let unknown: [UInt8] = [0xF8, 0x01, 0x01, 0xF9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xFA, 0x01, 0x01, 0x41]
            let request = [0x0A, UInt8(expanding.count)] + expanding + unknown
            let v2 = Self.v2Seeds
            // A 1.0 request with a native histogram (TimeSeries field 4, Prometheus' extension).
            func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] {
                [number << 3 | 2, UInt8(payload.count)] + payload
            }
            let histogram: [UInt8] =
                [0x08, 0x03, 0x19, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x20, 0x06, 0x30, 0x00]
                + field(11, [0x10, 0x02]) + field(12, [0x02, 0x00]) + [0x78, 0x01]
            let v1Histogram = field(
                1, field(1, field(1, Array("__name__".utf8)) + field(2, Array("latency".utf8))) + field(4, histogram))
            return [
                Snappy.compress(samples), Snappy.compress(metadata), samples, [], request, Snappy.compress(request),
            ] + v2.flatMap { [Snappy.compress($0), $0] } + [Snappy.compress(v1Histogram), v1Histogram]
        case .config:
            return [
                Array(
                    """
                    exporter: { listen: 127.0.0.1:9090, path: /metrics }
                    external_labels: { cluster: edge, instance: r7 }
                    remote_write:
                      - url: https://metrics.example/api/v1/write
                        name: central
                        push_interval: 15s
                        headers: { X-Scope-OrgID: a }
                        basic_auth: { username: u, password: p }
                        tls_config: { ca_file: /ca.pem, insecure_skip_verify: false }
                        queue_config: { capacity: 1000, storage_path: /q, max_disk_bytes: 1GiB, fsync: every_write }
                    """.utf8),
                Array("remote_write:\n  - url: http://x/\n    authorization: { credentials_file: /t }\n".utf8),
                Array("exporter:\n  listen: '[::1]:9090'\n".utf8),
            ]
        case .exposition:
            func input(_ value: Double, _ labels: [String]) -> [UInt8] {
                var bytes = withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
                for (index, label) in labels.enumerated() {
                    if index > 0 { bytes.append(0xFF) }
                    bytes.append(contentsOf: label.utf8)
                }
                return bytes
            }
            return [
                input(1.5, ["a", "b", "c"]),
                input(-0.0, ["quote \" backslash \\ newline \n", "", "ünïcödé"]),
                input(.greatestFiniteMagnitude, ["x", String(repeating: "y", count: 5000), "z"]),
                input(.nan, ["", "", ""]),
                input(-.infinity, ["\u{0}\u{1}\t", "b", "c"]),
                input(5e-324, ["a"]),
            ]
        case .nativeHistogram:
            return Self.nativeHistogramSeeds
        }
    }
}

extension FuzzTarget {
    /// Remote write 2.0 requests: one packed by protobuf-c (samples with start timestamps,
    /// metadata, an exemplar, a native histogram), and one written by hand with the shapes
    /// that make protobuf-c allocate more than the bytes suggest: refs unpacked and packed,
    /// empty samples, a repeated metadata (merged), empty spans, packed deltas and counts,
    /// unknown fields of each wire type.
    static var v2Seeds: [[UInt8]] {
        let name = Label(name: "__name__", value: "jobs_total")
        let packed = WriteRequestV2Packer(series: [
            .init(
                labels: [name, Label(name: "queue", value: "emails")],
                samples: [
                    RemoteSample(
                        value: 3, timestampMilliseconds: 1_700_000_000_000,
                        startTimestampMilliseconds: 1_699_999_000_000),
                    .staleMarker(at: 1_700_000_001_000),
                ],
                exemplars: [
                    .init(
                        labels: [Label(name: "trace_id", value: "abc")], value: 1,
                        timestampMilliseconds: 1_700_000_000_000)
                ],
                metadata: .init(type: .counter, help: "Jobs done", unit: "jobs")),
            .init(
                labels: [Label(name: "__name__", value: "latency_seconds")],
                histograms: [
                    .init(
                        count: 4, sum: 1.5, schema: 3, positiveSpans: [(offset: 0, length: 2), (offset: 1, length: 1)],
                        positiveDeltas: [1, 1, -1], timestampMilliseconds: 1_700_000_000_000)
                ],
                metadata: .init(type: .histogram, help: "Latency", unit: "seconds")),
        ]).pack()
        func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] {
            var length: [UInt8] = []
            var rest = payload.count
            while rest >= 0x80 {
                length.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            return [number << 3 | 2] + length + [UInt8(rest)] + payload
        }
        let unknown: [UInt8] = [0xF8, 0x01, 0x01, 0xF9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xFD, 0x01, 1, 2, 3, 4]
        var series: [UInt8] = [0x08, 0x01, 0x08, 0x02] + field(1, [0x01, 0x02, 0x00, 0x00])
        for _ in 0..<30 { series += field(2, []) }
        series += field(5, [0x08, 0x01]) + field(5, [0x18, 0x02, 0x20, 0x00] + unknown)
        var histogram: [UInt8] = [0x08, 0x02] + field(8, []) + field(8, [0x08, 0x01, 0x10, 0x02])
        histogram +=
            field(9, [0x02, 0x01, 0x03]) + field(10, [UInt8](repeating: 0, count: 16)) + [0x51] + [
                0, 0, 0, 0, 0, 0, 0, 0,
            ]
        series += field(3, histogram) + field(4, [0x08, 0x01, 0x08, 0x02, 0x11, 0, 0, 0, 0, 0, 0, 0, 0]) + unknown
        let symbols = field(4, []) + field(4, Array("__name__".utf8)) + field(4, Array("up".utf8))
        let expanding = [0x08, 0x01] + symbols + field(5, series) + unknown
        return [packed, expanding]
    }
}
