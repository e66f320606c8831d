import ConveyorMetrics

/// A family's metadata, sent in its own sample-free requests.
package struct RemoteMetadata: Sendable, Equatable {
    package var familyName: String
    package var type: MetricType
    package var help: String
    package var unit: String

    package init(familyName: String, type: MetricType, help: String, unit: String) {
        self.familyName = familyName
        self.type = type
        self.help = help
        self.unit = unit
    }
}
