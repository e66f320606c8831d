import ConveyorMetrics

/// Writes `prometheus.WriteRequest` bodies of samples: one `TimeSeries` per sample, as
/// Prometheus' own sender does, each series' bytes up to its sample copied from its list's
/// ``PrefixLayout``.
///
/// A sample or histogram with new exemplars carries them in `TimeSeries.exemplars`.
///
/// The hot path of every flush: one pass sizes the request, a second writes it through a
/// raw pointer into a buffer that is kept and reused between flushes. Its output is
/// byte-for-byte what protobuf-c's `prometheus__write_request__pack` produces for the same
/// message (proto3 defaults — a value of ±0.0 and a timestamp of 0 — are omitted the same
/// way); the tests hold it to that. protobuf-c remains the decoder and encodes metadata.
final class WriteRequestWriter {
    private let buffer = RequestBuffer()

    init() {}

    /// Length of the last request in `body`.
    var count: Int { buffer.count }

    /// The last request written (valid until the next `write`).
    var body: UnsafeRawBufferPointer { buffer.body }

    /// A copy of the last request (tests).
    var bytes: [UInt8] { Array(body) }

    /// Writes the request for the samples of `chunks` in one pass (the buffer is reserved
    /// from the chunks' label byte totals plus the most a sample adds).
    func write(_ chunks: [SampleChunk]) {
        // (+ 8: a packed timestamp stores 8 bytes at once, 2 past the last one's end)
        let bound =
            8
            + chunks.reduce(0) {
                $0 + $1.labelBytes + $1.histogramBytes + $1.exemplarBytes + $1.count * Self.maxOverheadPerSample
            }
        let start = buffer.reserve(bound)
        var cursor = start
        for chunk in chunks {
            let timestamp = UInt64(bitPattern: chunk.timestamp)
            let timestampSize = Self.timestampSize(chunk.timestamp)
            // Almost every sample is non-zero with a 6-byte timestamp: its series' prefix
            // (tags, lengths, labels) was encoded once, and only value and timestamp follow.
            let common = timestampSize == 1 + RemoteSeries.commonTimestampSize
            let packed = PackedVarint(timestamp)
            let hasHistograms = chunk.histograms != nil
            let hasExemplars = chunk.exemplars != nil
            // The list's layout, or one for this request (a list of stale markers, a subset).
            let layout = chunk.layoutSlot?.layout(of: chunk.series) ?? PrefixLayout(chunk.series)
            chunk.series.withUnsafeBufferPointer { series in
                chunk.values.withUnsafeBufferPointer { values in
                    for index in chunk.start..<chunk.end {
                        if hasHistograms, let histogram = chunk.histogram(at: index) {
                            cursor = Self.withLabels(layout, series[index], index) {
                                Self.put(
                                    $0, histogram, chunk.timestamp,
                                    exemplars: hasExemplars ? chunk.exemplars(at: index) : [], at: cursor)
                            }
                            continue
                        }
                        let value = values[index]
                        if hasExemplars, let exemplars = chunk.exemplars?[index] {
                            cursor = Self.withLabels(layout, series[index], index) {
                                Self.put($0, value, timestamp, timestampSize, exemplars: exemplars, at: cursor)
                            }
                            continue
                        }
                        if common && value != 0, let layout {
                            cursor = ProtobufWriter.put(layout.prefix(at: index), cursor)
                            cursor = ProtobufWriter.put(0x09, cursor)  // Sample.value (fixed64)
                            cursor.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
                            cursor = ProtobufWriter.put(0x10, cursor + 8)  // Sample.timestamp (varint)
                            cursor = packed.put(cursor)
                        } else if common, let layout {
                            // A zero (±0.0): proto3 leaves the value out; the Sample is its timestamp.
                            let labels = layout.labels(at: index)
                            cursor = ProtobufWriter.put(0x0A, cursor)  // WriteRequest.timeseries
                            cursor = ProtobufWriter.putVarint(UInt64(labels.count + 2 + Self.zeroSampleSize), cursor)
                            cursor = ProtobufWriter.put(labels, cursor)  // TimeSeries.labels
                            cursor = ProtobufWriter.put(0x12, cursor)  // TimeSeries.samples
                            cursor = ProtobufWriter.put(UInt8(Self.zeroSampleSize), cursor)
                            cursor = ProtobufWriter.put(0x10, cursor)  // Sample.timestamp (varint)
                            cursor = packed.put(cursor)
                        } else {
                            cursor = Self.withLabels(layout, series[index], index) {
                                Self.put($0, value, timestamp, timestampSize, at: cursor)
                            }
                        }
                    }
                }
            }
        }
        buffer.count = cursor - start
    }

    /// Calls `body` with the label fields of `series`, at `index` of its list: from the list's
    /// layout, or written from the series when the list has none.
    @inline(__always)
    private static func withLabels<R>(
        _ layout: PrefixLayout?, _ series: RemoteSeries, _ index: Int, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        if let layout { return body(layout.labels(at: index)) }
        return series.labelFieldBytes.withUnsafeBytes(body)
    }

    /// The Sample of a zero with a common timestamp: the timestamp's tag and varint.
    private static let zeroSampleSize = 1 + RemoteSeries.commonTimestampSize

    /// Tag and length of the TimeSeries (≤ 1 + 10), of its Sample (≤ 1 + 1), value (9), timestamp (≤ 11).
    private static let maxOverheadPerSample = 33

    /// Writes the request for `samples`, each with its own timestamp.
    func write(_ samples: [QueuedSample]) {
        var total = 0
        for queued in samples {
            total += Self.size(
                labels: queued.series.labelFieldCount, value: queued.sample.value,
                Self.timestampSize(queued.sample.timestampMilliseconds))
        }
        var cursor = buffer.reserve(total)
        for queued in samples {
            let timestamp = queued.sample.timestampMilliseconds
            cursor = queued.series.labelFieldBytes.withUnsafeBytes {
                Self.put(
                    $0, queued.sample.value, UInt64(bitPattern: timestamp), Self.timestampSize(timestamp), at: cursor)
            }
        }
        buffer.count = total
    }

    @inline(__always)
    private static func timestampSize(_ timestamp: Int64) -> Int {
        timestamp != 0 ? 1 + ProtobufWriter.varintSize(UInt64(bitPattern: timestamp)) : 0
    }

    @inline(__always)
    private static func sampleSize(_ value: Double, _ timestampSize: Int) -> Int {
        (value != 0 ? 9 : 0) + timestampSize  // proto3 omits 0 (protobuf-c omits -0.0 as well)
    }

    @inline(__always)
    private static func size(labels: Int, value: Double, _ timestampSize: Int) -> Int {
        let sample = sampleSize(value, timestampSize)
        let series = labels + 1 + ProtobufWriter.varintSize(UInt64(sample)) + sample
        return 1 + ProtobufWriter.varintSize(UInt64(series)) + series
    }

    /// One `TimeSeries` with one native histogram (and its exemplars) at `start`; returns the
    /// position after it.
    private static func put(
        _ labels: UnsafeRawBufferPointer, _ histogram: NativeHistogramValue, _ timestamp: Int64,
        exemplars: [RecordedExemplar], at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        let body = HistogramEncoding.size(histogram, timestamp: timestamp, start: 0)
        let exemplarBytes = exemplars.isEmpty ? 0 : ExemplarEncoding.fieldsSize(exemplars)
        let series = labels.count + exemplarBytes + 1 + ProtobufWriter.varintSize(UInt64(body)) + body
        var cursor = ProtobufWriter.put(0x0A, start)  // WriteRequest.timeseries
        cursor = ProtobufWriter.putVarint(UInt64(series), cursor)
        cursor = ProtobufWriter.put(labels, cursor)  // TimeSeries.labels
        if !exemplars.isEmpty { cursor = ExemplarEncoding.putFields(exemplars, at: cursor) }  // TimeSeries.exemplars
        cursor = ProtobufWriter.put(0x22, cursor)  // TimeSeries.histograms
        cursor = ProtobufWriter.putVarint(UInt64(body), cursor)
        return HistogramEncoding.put(histogram, timestamp: timestamp, start: 0, at: cursor)
    }

    /// One `TimeSeries` with one `Sample` (and its exemplars) at `cursor`; returns the
    /// position after it.
    @inline(__always)
    private static func put(
        _ labels: UnsafeRawBufferPointer, _ value: Double, _ timestamp: UInt64, _ timestampSize: Int,
        exemplars: [RecordedExemplar] = [], at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        let sample = sampleSize(value, timestampSize)
        let exemplarBytes = exemplars.isEmpty ? 0 : ExemplarEncoding.fieldsSize(exemplars)
        let series = labels.count + 1 + ProtobufWriter.varintSize(UInt64(sample)) + sample + exemplarBytes
        var cursor = start
        cursor = ProtobufWriter.put(0x0A, cursor)  // WriteRequest.timeseries
        cursor = ProtobufWriter.putVarint(UInt64(series), cursor)
        cursor = ProtobufWriter.put(labels, cursor)  // TimeSeries.labels
        cursor = ProtobufWriter.put(0x12, cursor)  // TimeSeries.samples
        cursor = ProtobufWriter.putVarint(UInt64(sample), cursor)
        if value != 0 {
            cursor = ProtobufWriter.put(0x09, cursor)  // Sample.value (fixed64)
            cursor.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
            cursor += 8
        }
        if timestamp != 0 {
            cursor = ProtobufWriter.put(0x10, cursor)  // Sample.timestamp (varint)
            cursor = ProtobufWriter.putVarint(timestamp, cursor)
        }
        if !exemplars.isEmpty { cursor = ExemplarEncoding.putFields(exemplars, at: cursor) }  // TimeSeries.exemplars
        return cursor
    }
}
