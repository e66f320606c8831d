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
    /// The labels pre-rendered as `name="escaped value",…` (the series' own bytes, not copied;
    /// valid while `owner` lives).
    nonisolated(unsafe) package let renderedLabels: UnsafeRawBufferPointer
    /// Keeps `renderedLabels` alive: the series, or a box for hand-built snapshots.
    private let owner: any AnyObject & Sendable
    /// The series storage this came from: a stable identity for caches (the push path's
    /// label cache), held strongly so the identity cannot be reused while cached.
    package let source: (any AnyObject & Sendable)?
    /// `source`'s identity, readable without reference counting (nil without a source).
    package let sourceID: ObjectIdentifier?

    /// Creates a series snapshot; label text is rendered here.
    public init(labels: [Label], value: SeriesValue) {
        let sorted = labels.sortedByName()
        self.labelSource = .explicit(sorted)
        self.value = value
        let box = RenderedLabelsBox(RenderedLabels.allocate(sorted))
        self.renderedLabels = box.bytes
        self.owner = box
        self.source = nil
        self.sourceID = nil
    }

    package init(
        key: LabelValuesKey, context: SeriesContext, value: SeriesValue, renderedLabels: UnsafeRawBufferPointer,
        source: any AnyObject & Sendable
    ) {
        self.labelSource = .derived(key, context)
        self.value = value
        self.renderedLabels = renderedLabels
        self.owner = source
        self.source = source
        self.sourceID = ObjectIdentifier(source)
    }
}

/// Owns the rendered label bytes of a hand-built ``SeriesSnapshot``.
final class RenderedLabelsBox: Sendable {
    nonisolated(unsafe) let bytes: UnsafeRawBufferPointer  // immutable after init
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    deinit { RenderedLabels.free(bytes) }
}
