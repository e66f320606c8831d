import CClientModelProto
import Testing

@testable import ConveyorMetrics

/// Reads a protobuf exposition with protobuf-c (client_model's `metrics.proto` compiled by
/// protoc-c), packs every message again, and gives what it holds in comparable form; also
/// builds the same form from a registry snapshot, as the exposition should carry it.
enum ProtobufExpositionDecoder {
    struct Family: Equatable, CustomStringConvertible {
        var name: String
        var help: String?
        var type: UInt32
        var unit: String?
        var metrics: [Metric]
        var description: String { "\(name) (type \(type), help \(help ?? "-"), unit \(unit ?? "-")): \(metrics)" }
    }

    struct Metric: Equatable {
        var labels: [Label]
        var value: Value
    }

    /// Doubles as bit patterns, so NaN compares equal to itself and -0 differs from 0.
    enum Value: Equatable {
        case counter(bits: UInt64, createdMilliseconds: Int64, exemplar: Exemplar? = nil)
        case gauge(bits: UInt64)
        case histogram(Histogram)
    }

    struct Histogram: Equatable {
        var count: UInt64
        var sumBits: UInt64
        var buckets: [Bucket]
        var native: Native?
        var createdMilliseconds: Int64
        var exemplars: [Exemplar] = []
    }

    struct Bucket: Equatable {
        var cumulativeCount: UInt64
        var upperBoundBits: UInt64
        var exemplar: Exemplar? = nil
    }

    /// An exemplar, its value as bits.
    struct Exemplar: Equatable {
        var labels: [Label]
        var valueBits: UInt64
        var timestampMilliseconds: Int64

        init(labels: [Label], valueBits: UInt64, timestampMilliseconds: Int64) {
            self.labels = labels
            self.valueBits = valueBits
            self.timestampMilliseconds = timestampMilliseconds
        }

        init(_ recorded: RecordedExemplar) {
            self.init(
                labels: recorded.labels, valueBits: recorded.value.bitPattern,
                timestampMilliseconds: recorded.timestampMilliseconds)
        }
    }

    struct Native: Equatable {
        var schema: Int32
        var zeroThresholdBits: UInt64
        var zeroCount: UInt64
        var negativeSpans: [NativeHistogramValue.BucketSpan]
        var negativeDeltas: [Int64]
        var positiveSpans: [NativeHistogramValue.BucketSpan]
        var positiveDeltas: [Int64]
    }

    /// Splits `bytes` into its length-delimited messages and decodes each; fails the test
    /// when protobuf-c refuses one or packs it into different bytes.
    static func decode(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [Family] {
        var families: [Family] = []
        var position = 0
        while position < bytes.count {
            var length: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try #require(position < bytes.count ? bytes[position] : nil, "truncated length")
                position += 1
                length |= UInt64(byte & 0x7F) << shift
                shift += 7
                if byte < 0x80 { break }
            }
            let end = position + Int(length)
            try #require(end <= bytes.count, "message runs past the end", sourceLocation: sourceLocation)
            let message = Array(bytes[position..<end])
            position = end
            let unpacked = message.withUnsafeBufferPointer {
                io__prometheus__client__metric_family__unpack(nil, $0.count, $0.baseAddress)
            }
            let family = try #require(unpacked, "protobuf-c refuses a message", sourceLocation: sourceLocation)
            defer { io__prometheus__client__metric_family__free_unpacked(family, nil) }
            var repacked = [UInt8](repeating: 0, count: io__prometheus__client__metric_family__get_packed_size(family))
            _ = repacked.withUnsafeMutableBufferPointer {
                io__prometheus__client__metric_family__pack(family, $0.baseAddress)
            }
            #expect(repacked == message, "protobuf-c packs it identically", sourceLocation: sourceLocation)
            families.append(try convert(family.pointee))
        }
        return families
    }

    private static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func convert(_ family: Io__Prometheus__Client__MetricFamily) throws -> Family {
        #expect(family.has_type != 0, "type is always written")
        var metrics: [Metric] = []
        for index in 0..<family.n_metric {
            let metric = try #require(family.metric[index]).pointee
            let labels = try (0..<metric.n_label).map { index in
                let pair = try #require(metric.label[index]).pointee
                return Label(name: string(pair.name) ?? "<none>", value: string(pair.value) ?? "<none>")
            }
            #expect(metric.summary == nil && metric.untyped == nil && metric.has_timestamp_ms == 0)
            let kinds = [metric.counter != nil, metric.gauge != nil, metric.histogram != nil].filter { $0 }
            try #require(kinds.count == 1, "one value per metric")
            let value: Value
            if let counter = metric.counter?.pointee {
                #expect(counter.has_value != 0)
                value = .counter(
                    bits: counter.value.bitPattern, createdMilliseconds: created(counter.created_timestamp),
                    exemplar: try counter.exemplar.map { try exemplar($0.pointee) })
            } else if let gauge = metric.gauge?.pointee {
                #expect(gauge.has_value != 0)
                value = .gauge(bits: gauge.value.bitPattern)
            } else {
                value = .histogram(try histogram(try #require(metric.histogram).pointee))
            }
            metrics.append(Metric(labels: labels, value: value))
        }
        return Family(
            name: string(family.name) ?? "<none>", help: string(family.help), type: family.type.rawValue,
            unit: string(family.unit), metrics: metrics)
    }

    private static func histogram(_ histogram: Io__Prometheus__Client__Histogram) throws -> Histogram {
        #expect(histogram.has_sample_count != 0 && histogram.has_sample_sum != 0)
        #expect(histogram.has_sample_count_float == 0 && histogram.has_zero_count_float == 0)
        #expect(histogram.n_positive_count == 0 && histogram.n_negative_count == 0)
        let buckets = try (0..<histogram.n_bucket).map { index in
            let bucket = try #require(histogram.bucket[index]).pointee
            #expect(bucket.has_cumulative_count != 0 && bucket.has_upper_bound != 0)
            return Bucket(
                cumulativeCount: bucket.cumulative_count, upperBoundBits: bucket.upper_bound.bitPattern,
                exemplar: try bucket.exemplar.map { try exemplar($0.pointee) })
        }
        let exemplars = try (0..<histogram.n_exemplars).map {
            try exemplar(try #require(histogram.exemplars[$0]).pointee)
        }
        func spans(
            _ count: Int, _ spans: UnsafeMutablePointer<UnsafeMutablePointer<Io__Prometheus__Client__BucketSpan>?>?
        )
            throws -> [NativeHistogramValue.BucketSpan]
        {
            try (0..<count).map { index in
                let span = try #require(spans?[index]).pointee
                #expect(span.has_offset != 0 && span.has_length != 0)
                return NativeHistogramValue.BucketSpan(offset: span.offset, length: span.length)
            }
        }
        var native: Native?
        if histogram.has_schema != 0 {
            #expect(histogram.has_zero_threshold != 0 && histogram.has_zero_count != 0)
            native = Native(
                schema: histogram.schema, zeroThresholdBits: histogram.zero_threshold.bitPattern,
                zeroCount: histogram.zero_count,
                negativeSpans: try spans(histogram.n_negative_span, histogram.negative_span),
                negativeDeltas: (0..<histogram.n_negative_delta).map { histogram.negative_delta[$0] },
                positiveSpans: try spans(histogram.n_positive_span, histogram.positive_span),
                positiveDeltas: (0..<histogram.n_positive_delta).map { histogram.positive_delta[$0] })
        } else {
            #expect(histogram.n_positive_span == 0 && histogram.n_negative_span == 0 && histogram.has_zero_count == 0)
        }
        return Histogram(
            count: histogram.sample_count, sumBits: histogram.sample_sum.bitPattern, buckets: buckets, native: native,
            createdMilliseconds: created(histogram.created_timestamp), exemplars: exemplars)
    }

    private static func exemplar(_ exemplar: Io__Prometheus__Client__Exemplar) throws -> Exemplar {
        #expect(exemplar.has_value != 0)
        let labels = try (0..<exemplar.n_label).map { index in
            let pair = try #require(exemplar.label[index]).pointee
            return Label(name: string(pair.name) ?? "<none>", value: string(pair.value) ?? "<none>")
        }
        return Exemplar(
            labels: labels, valueBits: exemplar.value.bitPattern,
            timestampMilliseconds: created(exemplar.timestamp))
    }

    private static func created(_ timestamp: UnsafeMutablePointer<Google__Protobuf__Timestamp>?) -> Int64 {
        guard let timestamp = timestamp?.pointee else { return 0 }
        return timestamp.seconds * 1000 + Int64(timestamp.nanos) / 1_000_000
    }

    /// What the exposition of `snapshot` should hold: every family with a series, in order.
    static func expected(_ snapshot: MetricsSnapshot) -> [Family] {
        snapshot.families.filter { !$0.series.isEmpty }.map { family in
            let baseName =
                family.type == .counter && family.name.hasSuffix("_total")
                ? String(family.name.dropLast(6)) : family.name
            let type: UInt32 =
                switch family.type {
                case .counter: 0
                case .gauge: 1
                case .histogram: 4
                }
            return Family(
                name: family.name, help: family.help.isEmpty ? nil : family.help, type: type,
                unit: !family.unit.isEmpty && baseName.hasSuffix("_" + family.unit) ? family.unit : nil,
                metrics: family.series.map { series in
                    Metric(
                        labels: series.labels,
                        value: value(series.value, created: series.createdMilliseconds, exemplars: series.exemplars))
                })
        }
    }

    /// The exemplars as client_golang writes them: a counter's, each classic bucket's (a
    /// `+Inf` bucket added for its exemplar), and for a native histogram all of them again.
    private static func value(_ value: SeriesValue, created: Int64, exemplars: SeriesExemplars?) -> Value {
        switch value {
        case .counter(let scalar):
            return .counter(
                bits: scalar.bitPattern, createdMilliseconds: created, exemplar: exemplars?.slot(0).map(Exemplar.init))
        case .gauge(let scalar): return .gauge(bits: scalar.bitPattern)
        case .histogram(let histogram):
            let native = histogram.native
            var buckets = zip(histogram.upperBounds, histogram.cumulativeCounts).enumerated().map {
                Bucket(
                    cumulativeCount: $1.1, upperBoundBits: $1.0.bitPattern,
                    exemplar: exemplars?.slot($0).map(Exemplar.init))
            }
            if !histogram.upperBounds.isEmpty, let infinity = exemplars?.slot(histogram.upperBounds.count) {
                buckets.append(
                    Bucket(
                        cumulativeCount: histogram.count, upperBoundBits: Double.infinity.bitPattern,
                        exemplar: Exemplar(infinity)))
            }
            return .histogram(
                Histogram(
                    count: native?.count ?? histogram.count, sumBits: (native?.sum ?? histogram.sum).bitPattern,
                    buckets: buckets,
                    native: native.map {
                        Native(
                            schema: $0.schema, zeroThresholdBits: $0.zeroThreshold.bitPattern,
                            zeroCount: $0.zeroCount, negativeSpans: $0.negativeSpans,
                            negativeDeltas: $0.negativeDeltas, positiveSpans: $0.positiveSpans,
                            positiveDeltas: $0.positiveDeltas)
                    }, createdMilliseconds: created,
                    exemplars: native == nil ? [] : (exemplars?.all ?? []).map(Exemplar.init)))
        }
    }
}
