/// What every kind of series storage provides to its family and to snapshots.
package protocol SeriesStorage: AnyObject, Sendable {
    /// Per-family settings every series of the family shares (histogram bounds).
    associatedtype Configuration: Sendable

    init(identity: SeriesIdentity, configuration: Configuration, context: SeriesContext)

    /// What the family's series share: metric name, label names, where rejections go.
    var context: SeriesContext { get }
    /// The key the family's lookup table finds it by, and that key's hash.
    var lookupKey: LabelValuesKey { get }
    var lookupHash: UInt64 { get }
    /// `name="value",…` with values escaped for the text formats, rendered once at creation
    /// into memory the series owns (exact size, freed with the series).
    var renderedLabels: UnsafeRawBufferPointer { get }
    /// The current value, read with relaxed atomics.
    func snapshotValue() -> SeriesValue
    /// When the series was created (ms since the epoch): counters and histograms start
    /// counting then (remote write 2.0's `start_timestamp`); 0 for gauges.
    var createdMilliseconds: Int64 { get }
}

extension SeriesStorage {
    package var createdMilliseconds: Int64 { 0 }
    /// The series' exemplar store in its family's side table; nil before its first exemplar
    /// (always, for a gauge).
    package var exemplarStore: ExemplarStore? { context.exemplars.store(of: ObjectIdentifier(self)) }
    /// The series' exemplars as they are now; nil when it never had one.
    package var exemplars: SeriesExemplars? { exemplarStore?.read() }

    /// The series' labels, sorted by name (derived from its key and the family's label names).
    package var labels: [Label] { context.labels(for: lookupKey) }
}
