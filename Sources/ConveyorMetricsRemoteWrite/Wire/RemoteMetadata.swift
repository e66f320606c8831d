import ConveyorMetrics

/// A family's metadata, sent in its own sample-free requests.
public struct RemoteMetadata: Sendable, Equatable {
    /// The family name, e.g. `http_requests_total`.
    public var familyName: String
    /// Counter, gauge or histogram.
    public var type: MetricType
    /// The HELP text.
    public var help: String
    /// The unit, empty when none.
    public var unit: String

    /// Metadata of one family.
    public init(familyName: String, type: MetricType, help: String, unit: String) {
        self.familyName = familyName
        self.type = type
        self.help = help
        self.unit = unit
    }
}
