/// One series: its labels and value.
public struct SeriesSnapshot: Sendable {
    /// Labels sorted by name (built when read: series do not store them).
    public var labels: [Label] {
        switch labelSource {
        case .explicit(let labels): labels
        case .derived(let key, let context): context.labels(for: key)
        }
    }

    private enum LabelSource: Sendable {
        case explicit([Label])
        case derived(LabelValuesKey, SeriesContext)
    }

    private let labelSource: LabelSource
    /// The value at snapshot time.
    public let value: SeriesValue
    /// The series storage this came from: a stable identity for caches (the push path's
    /// label cache), held strongly so the identity cannot be reused while cached.
    package let source: (any AnyObject & Sendable)?
    /// `source`'s identity, readable without reference counting (nil without a source).
    package let sourceID: ObjectIdentifier?
    /// When the series was created (ms since the epoch; 0 for gauges and hand-built snapshots).
    package let createdMilliseconds: Int64
    /// The series' exemplars at snapshot time; nil when it never had one.
    package let exemplars: SeriesExemplars?

    /// Creates a series snapshot (tests, hand-built snapshots); labels are sorted by name.
    public init(labels: [Label], value: SeriesValue) {
        self.labelSource = .explicit(labels.sortedByName())
        self.value = value
        self.source = nil
        self.sourceID = nil
        self.createdMilliseconds = 0
        self.exemplars = nil
    }

    package init(
        key: LabelValuesKey, context: SeriesContext, value: SeriesValue, source: any AnyObject & Sendable,
        createdMilliseconds: Int64 = 0, exemplars: SeriesExemplars? = nil
    ) {
        self.labelSource = .derived(key, context)
        self.value = value
        self.source = source
        self.sourceID = ObjectIdentifier(source)
        self.createdMilliseconds = createdMilliseconds
        self.exemplars = exemplars
    }

    /// A hand-built series with exemplars (tests of the push path).
    package init(labels: [Label], value: SeriesValue, exemplars: SeriesExemplars?) {
        self.labelSource = .explicit(labels.sortedByName())
        self.value = value
        self.source = nil
        self.sourceID = nil
        self.createdMilliseconds = 0
        self.exemplars = exemplars
    }
}
