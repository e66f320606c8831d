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

    // Stored in this order so the object is 88 bytes (a 96-byte heap block, not 112):
    // the key's 33 bytes, then the 4-byte label length fill the tail.
    // Immutable after init; freed in deinit.
    nonisolated(unsafe) private let renderedLabelsStart: UnsafeRawPointer?
    package let lookupHash: UInt64
    private let bits = Atomic<UInt64>(0.0.bitPattern)
    package let context: SeriesContext
    package let lookupKey: LabelValuesKey
    private let renderedLabelsCount: UInt32

    package var renderedLabels: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: renderedLabelsStart, count: Int(renderedLabelsCount))
    }

    package init(identity: SeriesIdentity, configuration: Void, context: SeriesContext) {
        (renderedLabelsStart, renderedLabelsCount) = RenderedLabels.allocateCompact(identity.labels)
        self.lookupKey = identity.key
        self.lookupHash = identity.hash
        self.context = context
    }

    deinit { RenderedLabels.free(renderedLabels) }

    /// Replaces the value.
    @inline(__always)
    public func set(_ value: Double) {
        guard !value.isNaN else {
            context.reject(.notANumber, "set to NaN")
            return
        }
        bits.storeDouble(value)
    }

    /// Adds `amount` (negative to subtract).
    public func add(_ amount: Double) {
        guard !amount.isNaN else {
            context.reject(.notANumber, "add NaN")
            return
        }
        bits.addDouble(amount)
    }

    /// The current value.
    public var value: Double { bits.loadDouble() }

    package func snapshotValue() -> SeriesValue { .gauge(value) }
}
