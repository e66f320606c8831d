/// The type of a metric family, as Prometheus names it.
public enum MetricType: String, Sendable, Hashable {
    /// A value that only goes up (and resets to zero when the process restarts).
    case counter
    /// A value that goes up and down.
    case gauge
    /// Observations counted into buckets, with their sum and count.
    case histogram
}
