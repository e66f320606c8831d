/// What identifies a family: name, type, help, unit and its label names.
package struct FamilyDescriptor: Sendable, Equatable {
    package let name: String
    package let help: String
    package let unit: String
    package let type: MetricType
    /// The label names in the order values are given, or nil when every series brings its
    /// own sorted label set (swift-metrics dimensions).
    package let labelNames: [String]?
}
