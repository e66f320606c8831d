/// Every family of a registry with every series' value, at one moment.
///
/// The push path reads this (the remote-write sampler); `/metrics` renders straight from the
/// series instead (`MetricsRegistry.emit`).
/// Families are sorted by name, series by their labels, so output is deterministic.
public struct MetricsSnapshot: Sendable {
    /// When the snapshot was taken, in milliseconds since the Unix epoch.
    public let timestampMilliseconds: Int64
    /// The families, sorted by name.
    public let families: [MetricFamilySnapshot]

    /// Creates a snapshot (the registry makes these; tests may build their own).
    public init(timestampMilliseconds: Int64, families: [MetricFamilySnapshot]) {
        self.timestampMilliseconds = timestampMilliseconds
        self.families = families
    }

    /// The family called `name`, if present.
    public func family(named name: String) -> MetricFamilySnapshot? {
        families.first { $0.name == name }
    }

    /// How many series all families hold together.
    public var seriesCount: Int { families.reduce(0) { $0 + $1.series.count } }
}
