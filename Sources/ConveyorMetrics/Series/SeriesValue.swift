/// A series' value.
public enum SeriesValue: Sendable, Equatable {
    /// A counter's running total.
    case counter(Double)
    /// A gauge's current value.
    case gauge(Double)
    /// A histogram's buckets, sum and count.
    case histogram(HistogramValue)

    /// The scalar value of a counter or gauge; nil for a histogram.
    public var scalar: Double? {
        switch self {
        case .counter(let value), .gauge(let value): value
        case .histogram: nil
        }
    }
}
