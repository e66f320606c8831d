import ConveyorMetrics

/// One series as the push path knows it: its full remote-write label set, those labels
/// already encoded as protobuf `Label` fields (remote write 1.0), their symbols and the
/// family's metadata (remote write 2.0), built once and shared by every queued sample.
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

    /// Name, value, name, value… in label order (nil: the empty string).
    let labelSymbols: [Symbol?]
    /// The family's metadata, inline in every remote write 2.0 series (nil: none sent).
    let metadata: Metadata?
    /// When the series started counting (ms since the epoch); 0 for gauges and when unknown.
    let startTimestamp: Int64

    /// Remote write 2.0's `Metadata`: type (its wire number), help and unit.
    struct Metadata: Sendable {
        let type: UInt8
        let help: Symbol?
        let unit: Symbol?
    }

    /// The labels as one string, for a stable order (stale markers).
    var sortKey: String { labels.map { $0.name + "\u{0}" + $0.value }.joined(separator: "\u{1}") }

    deinit {
        OwnedBytes.free(encodedLabels)
        OwnedBytes.free(commonPrefix)
    }

    /// A series whose strings come from `symbols` (a private table when nil), with the
    /// family's type, help and unit.
    init(
        labels: [Label], type: MetricType? = nil, help: String = "", unit: String = "", startTimestamp: Int64 = 0,
        symbols: SymbolTable? = nil
    ) {
        self.labels = labels
        let encoded = TimeSeriesPrefix.labelFields(labels)
        encodedLabels = OwnedBytes.copy(encoded)
        commonPrefix = OwnedBytes.copy(
            TimeSeriesPrefix.commonPrefix(labelFields: encoded, sampleSize: Self.commonSampleSize))
        let table = symbols ?? SymbolTable()
        labelSymbols = labels.flatMap { [table.symbol($0.name), table.symbol($0.value)] }
        metadata = type.map {
            Metadata(type: Self.wireType($0), help: table.symbol(help), unit: table.symbol(unit))
        }
        self.startTimestamp = startTimestamp
    }

    /// `io.prometheus.write.v2.Metadata.MetricType`.
    private static func wireType(_ type: MetricType) -> UInt8 {
        switch type {
        case .counter: 1
        case .gauge: 2
        case .histogram: 3
        }
    }
}
