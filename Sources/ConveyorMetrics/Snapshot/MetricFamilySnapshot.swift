/// One family: its metadata and its series.
public struct MetricFamilySnapshot: Sendable {
    /// The family name, for example `conveyor_router_records_received_total`.
    public let name: String
    /// The HELP text.
    public let help: String
    /// The unit (OpenMetrics `# UNIT`), empty when none.
    public let unit: String
    /// Counter, gauge or histogram.
    public let type: MetricType
    /// The series, sorted by labels.
    public let series: [SeriesSnapshot]

    /// Creates a family snapshot.
    public init(name: String, help: String, unit: String, type: MetricType, series: [SeriesSnapshot]) {
        self.name = name
        self.help = help
        self.unit = unit
        self.type = type
        self.series = series
    }

    /// The series whose labels are exactly `labels` (in any order).
    public func series(_ labels: [String: String]) -> SeriesSnapshot? {
        series.first { snapshot in
            snapshot.labels.count == labels.count && snapshot.labels.allSatisfy { labels[$0.name] == $0.value }
        }
    }
}
