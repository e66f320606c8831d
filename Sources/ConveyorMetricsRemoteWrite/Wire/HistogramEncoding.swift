import ConveyorMetrics

/// The `Histogram` message of remote write 1.0 (Prometheus' extension, `TimeSeries` field 4)
/// and 2.0 (`TimeSeries` field 3, with `start_timestamp`): fields 1–15 are the same in both.
///
/// Written as protobuf-c packs it (the tests hold it to that): the count and zero count are
/// oneof members, so they are written even when 0; other proto3 defaults (0, ±0.0, empty)
/// are left out; deltas are packed zigzag varints. Counts are integers (`count_int`,
/// `zero_count_int`, `*_deltas`), as client_golang sends them.
enum HistogramEncoding {
    /// The bytes of the message body (no tag or length).
    static func size(_ histogram: NativeHistogramValue, timestamp: Int64, start: Int64) -> Int {
        var size = 1 + ProtobufWriter.varintSize(histogram.count)  // count_int
        if histogram.sum != 0 || histogram.sum.isNaN { size += 9 }
        if histogram.schema != 0 { size += 1 + ProtobufWriter.varintSize(zigzag(Int64(histogram.schema))) }
        if histogram.zeroThreshold != 0 { size += 9 }
        size += 1 + ProtobufWriter.varintSize(histogram.zeroCount)  // zero_count_int
        size += spansSize(histogram.negativeSpans) + deltasSize(histogram.negativeDeltas)
        size += spansSize(histogram.positiveSpans) + deltasSize(histogram.positiveDeltas)
        if timestamp != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(bitPattern: timestamp)) }
        if start != 0 { size += 2 + ProtobufWriter.varintSize(UInt64(bitPattern: start)) }
        return size
    }

    /// Writes the message body at `start`; returns the position after it.
    static func put(
        _ histogram: NativeHistogramValue, timestamp: Int64, start startTimestamp: Int64,
        at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        var cursor = ProtobufWriter.put(0x08, start)  // count_int
        cursor = ProtobufWriter.putVarint(histogram.count, cursor)
        if histogram.sum != 0 || histogram.sum.isNaN {
            cursor = ProtobufWriter.put(0x19, cursor)  // sum (fixed64)
            // As a float value: the sampler made any NaN observed the normal NaN.
            cursor.storeBytes(of: histogram.sum.bitPattern.littleEndian, as: UInt64.self)
            cursor += 8
        }
        if histogram.schema != 0 {
            cursor = ProtobufWriter.put(0x20, cursor)  // schema (sint32)
            cursor = ProtobufWriter.putVarint(zigzag(Int64(histogram.schema)), cursor)
        }
        if histogram.zeroThreshold != 0 {
            cursor = ProtobufWriter.put(0x29, cursor)  // zero_threshold (fixed64)
            cursor.storeBytes(of: histogram.zeroThreshold.bitPattern.littleEndian, as: UInt64.self)
            cursor += 8
        }
        cursor = ProtobufWriter.put(0x30, cursor)  // zero_count_int
        cursor = ProtobufWriter.putVarint(histogram.zeroCount, cursor)
        cursor = putSpans(histogram.negativeSpans, tag: 0x42, at: cursor)  // negative_spans
        cursor = putDeltas(histogram.negativeDeltas, tag: 0x4A, at: cursor)  // negative_deltas
        cursor = putSpans(histogram.positiveSpans, tag: 0x5A, at: cursor)  // positive_spans
        cursor = putDeltas(histogram.positiveDeltas, tag: 0x62, at: cursor)  // positive_deltas
        if timestamp != 0 {
            cursor = ProtobufWriter.put(0x78, cursor)  // timestamp
            cursor = ProtobufWriter.putVarint(UInt64(bitPattern: timestamp), cursor)
        }
        if startTimestamp != 0 {
            cursor = ProtobufWriter.put(0x88, cursor)  // start_timestamp (2.0: field 17)
            cursor = ProtobufWriter.put(0x01, cursor)
            cursor = ProtobufWriter.putVarint(UInt64(bitPattern: startTimestamp), cursor)
        }
        return cursor
    }

    /// The most bytes a histogram takes in a request besides its body: the `TimeSeries` field
    /// tag and length (≤ 1 + 5) and its own tag and length (≤ 1 + 5).
    static let framing = 12

    @inline(__always)
    private static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    private static func spanSize(_ span: NativeHistogramValue.BucketSpan) -> Int {
        (span.offset != 0 ? 1 + ProtobufWriter.varintSize(zigzag(Int64(span.offset))) : 0)
            + (span.length != 0 ? 1 + ProtobufWriter.varintSize(UInt64(span.length)) : 0)
    }

    private static func spansSize(_ spans: [NativeHistogramValue.BucketSpan]) -> Int {
        spans.reduce(0) {
            let body = spanSize($1)
            return $0 + 1 + ProtobufWriter.varintSize(UInt64(body)) + body
        }
    }

    private static func deltasBody(_ deltas: [Int64]) -> Int {
        deltas.reduce(0) { $0 + ProtobufWriter.varintSize(zigzag($1)) }
    }

    private static func deltasSize(_ deltas: [Int64]) -> Int {
        guard !deltas.isEmpty else { return 0 }
        let body = deltasBody(deltas)
        return 1 + ProtobufWriter.varintSize(UInt64(body)) + body
    }

    private static func putSpans(
        _ spans: [NativeHistogramValue.BucketSpan], tag: UInt8, at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        var cursor = start
        for span in spans {
            cursor = ProtobufWriter.put(tag, cursor)
            cursor = ProtobufWriter.putVarint(UInt64(spanSize(span)), cursor)
            if span.offset != 0 {
                cursor = ProtobufWriter.put(0x08, cursor)
                cursor = ProtobufWriter.putVarint(zigzag(Int64(span.offset)), cursor)
            }
            if span.length != 0 {
                cursor = ProtobufWriter.put(0x10, cursor)
                cursor = ProtobufWriter.putVarint(UInt64(span.length), cursor)
            }
        }
        return cursor
    }

    private static func putDeltas(_ deltas: [Int64], tag: UInt8, at start: UnsafeMutableRawPointer)
        -> UnsafeMutableRawPointer
    {
        guard !deltas.isEmpty else { return start }
        var cursor = ProtobufWriter.put(tag, start)
        cursor = ProtobufWriter.putVarint(UInt64(deltasBody(deltas)), cursor)
        for delta in deltas { cursor = ProtobufWriter.putVarint(zigzag(delta), cursor) }
        return cursor
    }
}
