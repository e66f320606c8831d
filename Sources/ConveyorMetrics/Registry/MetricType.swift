/// The type of a metric family, as Prometheus names it.
public enum MetricType: String, Sendable, Hashable {
    case counter
    case gauge
    case histogram
}
