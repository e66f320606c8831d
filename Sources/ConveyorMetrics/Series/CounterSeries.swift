import Synchronization

/// One counter series: a value that only goes up.
///
/// Integer increments are a single relaxed atomic add; floating-point increments add to a
/// separate CAS-updated `Double`, so integer recording never loops.
///
/// ```swift
/// let requests = registry.counterFamily(name: "http_requests_total", help: "Requests", labelNames: ["method"])
/// requests.series("GET").increment()
/// ```
public final class CounterSeries: SeriesStorage {
    package typealias Configuration = Void

    package let labels: [Label]
    package let renderedLabels: [UInt8]
    package let lookupKey: LabelValuesKey
    package let lookupHash: UInt64
    private let integerPart = Atomic<UInt64>(0)
    private let floatingPart = Atomic<UInt64>(0.0.bitPattern)
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

    /// Adds a whole number; one relaxed atomic add, no allocation.
    @inline(__always)
    public func increment(by amount: UInt64 = 1) {
        integerPart.wrappingAdd(amount, ordering: .relaxed)
    }

    /// Adds a signed whole number; a negative amount is rejected and counted.
    public func increment(by amount: Int64) {
        guard amount >= 0 else {
            rejections?.reject(.negativeIncrement, metric: metricName, "increment by \(amount)")
            return
        }
        integerPart.wrappingAdd(UInt64(amount), ordering: .relaxed)
    }

    /// Adds a fractional amount; NaN, ±Infinity and negative amounts are rejected and counted.
    public func increment(by amount: Double) {
        guard amount.isFinite, amount >= 0 else {
            let reason: RejectionReason =
                amount.isNaN ? .notANumber : amount.isInfinite ? .infinite : .negativeIncrement
            rejections?.reject(reason, metric: metricName, "increment by \(amount)")
            return
        }
        guard amount > 0 else { return }
        floatingPart.addDouble(amount)
    }

    /// Sets the counter back to zero (swift-metrics `reset()`).
    public func reset() {
        integerPart.store(0, ordering: .relaxed)
        floatingPart.storeDouble(0)
    }

    /// The current value.
    public var value: Double { Double(integerPart.load(ordering: .relaxed)) + floatingPart.loadDouble() }

    var integerValue: UInt64 { integerPart.load(ordering: .relaxed) }

    package func snapshotValue() -> SeriesValue { .counter(value) }
}
