/// This library's version, reported by `conveyor-metrics --version` and sent in the
/// remote-write `User-Agent` (`conveyor-metrics/<version>`).
public enum ConveyorMetricsVersion {
    /// The version string.
    public static let current = "0.1.0"
    /// The remote-write `User-Agent` value.
    public static var userAgent: String { "conveyor-metrics/\(current)" }
}
