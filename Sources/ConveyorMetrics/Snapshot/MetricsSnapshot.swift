/// Every family of a registry with every series' value, at one moment.
///
/// Both encoders read this: the text exposition (`/metrics`) and the remote-write encoder.
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

/// One family: its metadata and its series.
public struct MetricFamilySnapshot: Sendable {
    /// The family name, for example `conveyor_router_records_received_total`.
    public let name: String
    /// The HELP text.
    public let help: String
    /// The unit (OpenMetrics `# UNIT`), empty when none.
    public let unit: String
    /// Counter, gauge or histogram.
    public let type: MetricType
    /// The series, sorted by labels.
    public let series: [SeriesSnapshot]

    /// Creates a family snapshot.
    public init(name: String, help: String, unit: String, type: MetricType, series: [SeriesSnapshot]) {
        self.name = name
        self.help = help
        self.unit = unit
        self.type = type
        self.series = series
    }

    /// The series whose labels are exactly `labels` (in any order).
    public func series(_ labels: [String: String]) -> SeriesSnapshot? {
        series.first { snapshot in
            snapshot.labels.count == labels.count && snapshot.labels.allSatisfy { labels[$0.name] == $0.value }
        }
    }
}

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

/// A series' value.
public enum SeriesValue: Sendable, Equatable {
    /// A counter's running total.
    case counter(Double)
    /// A gauge's current value.
    case gauge(Double)
    /// A histogram's buckets, sum and count.
    case histogram(HistogramValue)

    /// The scalar value of a counter or gauge; nil for a histogram.
    public var scalar: Double? {
        switch self {
        case .counter(let value), .gauge(let value): value
        case .histogram: nil
        }
    }
}

/// A histogram's state: cumulative bucket counts, sum and count.
public struct HistogramValue: Sendable, Equatable {
    /// Finite upper bounds, increasing; the implied last bound is `+Inf`.
    public let upperBounds: [Double]
    /// Cumulative counts, one per bound plus the `+Inf` bucket last.
    public let cumulativeCounts: [UInt64]
    /// The sum of all observations.
    public let sum: Double
    /// The number of observations (equal to the `+Inf` bucket).
    public var count: UInt64 { cumulativeCounts.last ?? 0 }

    /// Creates a histogram value; `cumulativeCounts` has `upperBounds.count + 1` entries.
    public init(upperBounds: [Double], cumulativeCounts: [UInt64], sum: Double) {
        self.upperBounds = upperBounds
        self.cumulativeCounts = cumulativeCounts
        self.sum = sum
    }
}

/// Owns the rendered label bytes of a hand-built ``SeriesSnapshot``.
final class RenderedLabelsBox: Sendable {
    nonisolated(unsafe) let bytes: UnsafeRawBufferPointer  // immutable after init
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    deinit { RenderedLabels.free(bytes) }
}
