/// One label of a series: a name and its value.
///
/// A series' labels are always kept sorted by name (byte order), so two label sets that
/// name the same pairs in another order identify the same series.
public struct Label: Sendable, Hashable, CustomStringConvertible {
    /// The label name, for example `source_id`.
    public let name: String
    /// The label value; any UTF-8 text.
    public let value: String

    /// Creates a label.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `name="value"`.
    public var description: String { "\(name)=\"\(value)\"" }
}

extension [Label] {
    /// Sorted by name in byte order, as Prometheus and remote write require.
    package func sortedByName() -> [Label] {
        sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
