/// What every kind of series storage provides to its family and to snapshots.
package protocol SeriesStorage: AnyObject, Sendable {
    /// Per-family settings every series of the family shares (histogram bounds).
    associatedtype Configuration: Sendable

    init(identity: SeriesIdentity, configuration: Configuration, rejections: RejectedValueRecorder?, metricName: String)

    /// The series' labels, sorted by name.
    var labels: [Label] { get }
    /// The key the family's lookup table finds it by, and that key's hash.
    var lookupKey: LabelValuesKey { get }
    var lookupHash: UInt64 { get }
    /// `name="value",…` with values escaped for the text formats, rendered once at creation.
    var renderedLabels: [UInt8] { get }
    /// The current value, read with relaxed atomics.
    func snapshotValue() -> SeriesValue
}

/// What identifies a series inside its family.
package struct SeriesIdentity: Sendable {
    package let key: LabelValuesKey
    package let hash: UInt64
    package let labels: [Label]

    package init(key: LabelValuesKey, labels: [Label]) {
        self.key = key
        self.hash = key.lookupHash
        self.labels = labels
    }

    /// The identity of a series that is never in a lookup table.
    static let detached = SeriesIdentity(key: .none, labels: [])
}

extension SeriesStorage {
    static func renderLabels(_ labels: [Label]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for (index, label) in labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: label.name.utf8)
            out.append(contentsOf: "=\"".utf8)
            TextEscaping.appendLabelValue(label.value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        return out
    }
}
