import Synchronization

/// One gauge series: a value that goes up and down.
///
/// NaN is rejected and counted (it would break every aggregation downstream); ±Infinity
/// is accepted, as Prometheus does.
///
/// ```swift
/// let depth = registry.gaugeFamily(name: "queue_depth", help: "Items queued", labelNames: ["queue"])
/// depth.series("ingest").set(42)
/// ```
public final class GaugeSeries: SeriesStorage {
    package typealias Configuration = Void

    package let labels: [Label]
    package let renderedLabels: [UInt8]
    package let lookupKey: LabelValuesKey
    package let lookupHash: UInt64
    private let bits = Atomic<UInt64>(0.0.bitPattern)
    private let rejections: RejectedValueRecorder?
    private let metricName: String

    package init(
        identity: SeriesIdentity, configuration: Void, rejections: RejectedValueRecorder?, metricName: String
    ) {
        self.labels = identity.labels
        self.renderedLabels = Self.renderLabels(identity.labels)
        self.lookupKey = identity.key
        self.lookupHash = identity.hash
        self.rejections = rejections
        self.metricName = metricName
    }

    /// Replaces the value.
    @inline(__always)
    public func set(_ value: Double) {
        guard !value.isNaN else {
            rejections?.reject(.notANumber, metric: metricName, "set to NaN")
            return
        }
        bits.storeDouble(value)
    }

    /// Adds `amount` (negative to subtract).
    public func add(_ amount: Double) {
        guard !amount.isNaN else {
            rejections?.reject(.notANumber, metric: metricName, "add NaN")
            return
        }
        bits.addDouble(amount)
    }

    /// The current value.
    public var value: Double { bits.loadDouble() }

    package func snapshotValue() -> SeriesValue { .gauge(value) }
}
