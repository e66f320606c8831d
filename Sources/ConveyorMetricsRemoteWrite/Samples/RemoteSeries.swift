import ConveyorMetrics

/// One series as the push path knows it: its full remote-write label set and those labels
/// already encoded as protobuf `Label` fields, built once and shared by every queued sample.
final class RemoteSeries: Sendable {
    let labels: [Label]
    /// `TimeSeries.labels` (field 1, repeated) as protobuf bytes, in memory owned by this
    /// object so the writer reads them without reference counting.
    nonisolated(unsafe) let encodedLabels: UnsafeRawBufferPointer  // immutable after init

    /// Everything before the value for the common sample (a non-zero value and a timestamp
    /// of 6 varint bytes — every millisecond timestamp from 2004 to 2527): TimeSeries tag
    /// and length, the labels, Sample tag and length.
    nonisolated(unsafe) let commonPrefix: UnsafeRawBufferPointer  // immutable after init
    /// The Sample length `commonPrefix` assumes: value (1 + 8) and timestamp (1 + 6).
    static let commonSampleSize = 16

    /// The labels as one string, for a stable order (stale markers).
    var sortKey: String { labels.map { $0.name + "\u{0}" + $0.value }.joined(separator: "\u{1}") }

    deinit {
        OwnedBytes.free(encodedLabels)
        OwnedBytes.free(commonPrefix)
    }

    init(labels: [Label]) {
        self.labels = labels
        let encoded = TimeSeriesPrefix.labelFields(labels)
        encodedLabels = OwnedBytes.copy(encoded)
        commonPrefix = OwnedBytes.copy(
            TimeSeriesPrefix.commonPrefix(labelFields: encoded, sampleSize: Self.commonSampleSize))
    }
}
