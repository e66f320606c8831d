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
