/// A series' value.
public enum SeriesValue: Sendable, Equatable {
    /// A counter's running total.
    case counter(Double)
    /// A gauge's current value.
    case gauge(Double)
    /// A histogram's buckets, sum and count.
    case histogram(HistogramValue)

    /// How many samples the value is in remote write and the text format: one for a counter
    /// or gauge; buckets (with `+Inf`), `_sum` and `_count` for a histogram.
    package var sampleCount: Int {
        switch self {
        case .counter, .gauge: 1
        case .histogram(let histogram): histogram.cumulativeCounts.count + 2
        }
    }

    /// The scalar value of a counter or gauge; nil for a histogram.
    public var scalar: Double? {
        switch self {
        case .counter(let value), .gauge(let value): value
        case .histogram: nil
        }
    }
}
