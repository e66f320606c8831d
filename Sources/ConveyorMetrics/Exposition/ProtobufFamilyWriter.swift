/// Writes families as length-delimited `io.prometheus.client.MetricFamily` messages
/// (client_model's `metrics.proto`), one series at a time as the registry reads them.
///
/// - Counter: `Metric.counter` with its value, its latest exemplar and created timestamp.
/// - Gauge: `Metric.gauge`.
/// - Histogram: `sample_count`, `sample_sum`, one `bucket` per finite classic bound (the
///   `+Inf` bucket is left out, as client_golang does: it equals the count), the created
///   timestamp, and for a native histogram its schema, zero bucket, spans and deltas. A
///   native-only family has no finite bounds, so no classic buckets: a scraper reads its
///   schema and spans; a "both" family carries both representations. A classic bucket
///   carries its latest exemplar (a `+Inf` bucket is added for the `+Inf` one, as
///   client_golang does); a native family also lists all its exemplars in `exemplars`.
///
/// A family without series is not written (Prometheus 2.42 reads the first series of a
/// histogram family to tell native from classic). The buffers are kept between families and
/// series, so a scrape allocates only when a message is larger than any before it.
struct ProtobufFamilyWriter {
    /// The open family's fields, without its length prefix.
    private var family: [UInt8] = []
    /// The open series' `Metric` fields.
    private var metric: [UInt8] = []
    /// The open series' `Counter` or `Histogram` fields.
    private var value: [UInt8] = []
    private var descriptor: FamilyDescriptor?
    private var seriesCount = 0

    /// `MetricFamily.type` numbers.
    private static func typeNumber(_ type: MetricType) -> UInt64 {
        switch type {
        case .counter: 0
        case .gauge: 1
        case .histogram: 4
        }
    }

    /// Starts a family; its header is written with its first series.
    mutating func begin(_ descriptor: FamilyDescriptor) {
        self.descriptor = descriptor
        seriesCount = 0
        family.removeAll(keepingCapacity: true)
    }

    /// Adds one series: its rendered labels, its value, and when it was created (ms since the
    /// epoch; 0 for none).
    mutating func append(
        _ labels: UnsafeRawBufferPointer, _ seriesValue: SeriesValue, createdMilliseconds: Int64,
        exemplars: SeriesExemplars? = nil
    ) {
        guard let descriptor else { return }
        if seriesCount == 0 {
            ProtobufWire.appendString(1, descriptor.name, to: &family)
            if !descriptor.help.isEmpty { ProtobufWire.appendString(2, descriptor.help, to: &family) }
            ProtobufWire.appendUnsigned(3, Self.typeNumber(descriptor.type), to: &family)
        }
        seriesCount += 1
        metric.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        RenderedLabelPairs.append(labels, to: &metric)
        switch seriesValue {
        case .gauge(let scalar):
            ProtobufWire.appendDouble(1, scalar, to: &value)
            ProtobufWire.appendLengthDelimited(2, value, to: &metric)
        case .counter(let scalar):
            ProtobufWire.appendDouble(1, scalar, to: &value)
            if let exemplar = exemplars?.slot(0) { ProtobufExemplar.append(2, exemplar, to: &value) }
            Self.appendCreated(3, createdMilliseconds, to: &value)
            ProtobufWire.appendLengthDelimited(3, value, to: &metric)
        case .histogram(let histogram):
            Self.appendHistogram(
                histogram, createdMilliseconds: createdMilliseconds, exemplars: exemplars, to: &value)
            ProtobufWire.appendLengthDelimited(7, value, to: &metric)
        }
        ProtobufWire.appendLengthDelimited(4, metric, to: &family)
    }

    /// Ends the family: appends it, length-prefixed, to `out` if it had a series.
    mutating func end(into out: inout [UInt8]) {
        guard let descriptor, seriesCount > 0 else { return }
        let unit = descriptor.unit
        let baseName =
            descriptor.type == .counter && descriptor.name.hasSuffix("_total")
            ? descriptor.name.dropLast(6) : Substring(descriptor.name)
        // The unit only where OpenMetrics writes it: the name ends with it.
        if !unit.isEmpty && baseName.hasSuffix("_" + unit) { ProtobufWire.appendString(5, unit, to: &family) }
        ProtobufWire.appendVarint(UInt64(family.count), to: &out)
        out.append(contentsOf: family)
        self.descriptor = nil
    }

    /// A `Histogram` message's fields, in field-number order.
    private static func appendHistogram(
        _ histogram: HistogramValue, createdMilliseconds: Int64, exemplars: SeriesExemplars?, to out: inout [UInt8]
    ) {
        let native = histogram.native
        ProtobufWire.appendUnsigned(1, native?.count ?? histogram.count, to: &out)
        ProtobufWire.appendDouble(2, native?.sum ?? histogram.sum, to: &out)
        for (index, (bound, count)) in zip(histogram.upperBounds, histogram.cumulativeCounts).enumerated()
        where bound.isFinite {
            appendBucket(bound: bound, count: count, exemplar: exemplars?.slot(index), to: &out)
        }
        let infinity = histogram.upperBounds.count
        if !histogram.upperBounds.isEmpty, let exemplar = exemplars?.slot(infinity) {
            appendBucket(bound: .infinity, count: histogram.count, exemplar: exemplar, to: &out)
        }
        if let native {
            ProtobufWire.appendZigzag(5, Int64(native.schema), to: &out)
            ProtobufWire.appendDouble(6, native.zeroThreshold, to: &out)
            ProtobufWire.appendUnsigned(7, native.zeroCount, to: &out)
            appendSpans(9, native.negativeSpans, to: &out)
            for delta in native.negativeDeltas { ProtobufWire.appendZigzag(10, delta, to: &out) }
            appendSpans(12, native.positiveSpans, to: &out)
            for delta in native.positiveDeltas { ProtobufWire.appendZigzag(13, delta, to: &out) }
        }
        appendCreated(15, createdMilliseconds, to: &out)
        if native != nil, let exemplars {
            for exemplar in exemplars.all { ProtobufExemplar.append(16, exemplar, to: &out) }
        }
    }

    /// A `Bucket`: cumulative_count (varint), upper_bound (double), exemplar.
    private static func appendBucket(bound: Double, count: UInt64, exemplar: RecordedExemplar?, to out: inout [UInt8]) {
        guard let exemplar else {
            ProtobufWire.appendTag(3, .lengthDelimited, to: &out)
            ProtobufWire.appendVarint(UInt64(1 + ProtobufWire.varintSize(count) + 1 + 8), to: &out)
            ProtobufWire.appendUnsigned(1, count, to: &out)
            ProtobufWire.appendDouble(2, bound, to: &out)
            return
        }
        var bucket: [UInt8] = []
        ProtobufWire.appendUnsigned(1, count, to: &bucket)
        ProtobufWire.appendDouble(2, bound, to: &bucket)
        ProtobufExemplar.append(3, exemplar, to: &bucket)
        ProtobufWire.appendLengthDelimited(3, bucket, to: &out)
    }

    /// `BucketSpan` messages (offset and length, both always written).
    private static func appendSpans(
        _ field: UInt64, _ spans: [NativeHistogramValue.BucketSpan], to out: inout [UInt8]
    ) {
        for span in spans {
            let offset = Int64(span.offset)
            let zigzag = UInt64(bitPattern: (offset << 1) ^ (offset >> 63))
            let size = 2 + ProtobufWire.varintSize(zigzag) + ProtobufWire.varintSize(UInt64(span.length))
            ProtobufWire.appendTag(field, .lengthDelimited, to: &out)
            ProtobufWire.appendVarint(UInt64(size), to: &out)
            ProtobufWire.appendZigzag(1, offset, to: &out)
            ProtobufWire.appendUnsigned(2, UInt64(span.length), to: &out)
        }
    }

    /// A `google.protobuf.Timestamp` field for `milliseconds` since the epoch; nothing for 0.
    /// Timestamp is proto3: zero seconds or nanos are left out.
    static func appendCreated(_ field: UInt64, _ milliseconds: Int64, to out: inout [UInt8]) {
        guard milliseconds > 0 else { return }
        let seconds = milliseconds / 1000
        let nanos = (milliseconds % 1000) * 1_000_000
        var size = 0
        if seconds != 0 { size += 1 + ProtobufWire.varintSize(UInt64(seconds)) }
        if nanos != 0 { size += 1 + ProtobufWire.varintSize(UInt64(nanos)) }
        ProtobufWire.appendTag(field, .lengthDelimited, to: &out)
        ProtobufWire.appendVarint(UInt64(size), to: &out)
        if seconds != 0 { ProtobufWire.appendSigned(1, seconds, to: &out) }
        if nanos != 0 { ProtobufWire.appendSigned(2, nanos, to: &out) }
    }
}
