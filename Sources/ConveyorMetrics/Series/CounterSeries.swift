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

    // Stored in this order so the object is 104 bytes (a 112-byte heap block, not 128):
    // the key's 33 bytes, then the 4-byte label length fill the tail.
    // Immutable after init; freed in deinit.
    nonisolated(unsafe) private let renderedLabelsStart: UnsafeRawPointer?
    package let lookupHash: UInt64
    private let integerPart = Atomic<UInt64>(0)
    private let floatingPart = Atomic<UInt64>(0.0.bitPattern)
    package let context: SeriesContext
    /// When it was created (ms since the epoch).
    package let createdMilliseconds = WallClock.unixMilliseconds()
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

    /// Adds a whole number; one relaxed atomic add, no allocation.
    @inline(__always)
    public func increment(by amount: UInt64 = 1) {
        integerPart.wrappingAdd(amount, ordering: .relaxed)
    }

    /// Adds a signed whole number; a negative amount is rejected and counted.
    public func increment(by amount: Int64) {
        guard amount >= 0 else {
            context.reject(.negativeIncrement, "increment by \(amount)")
            return
        }
        integerPart.wrappingAdd(UInt64(amount), ordering: .relaxed)
    }

    /// Adds a fractional amount; NaN, ±Infinity and negative amounts are rejected and counted.
    public func increment(by amount: Double) {
        guard amount.isFinite, amount >= 0 else {
            let reason: RejectionReason =
                amount.isNaN ? .notANumber : amount.isInfinite ? .infinite : .negativeIncrement
            context.reject(reason, "increment by \(amount)")
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

    /// Replaces the value with a running total read elsewhere (a collector reading the
    /// kernel's CPU time); not for recording.
    func setTotal(_ total: Double) {
        guard total.isFinite, total >= 0 else { return }
        integerPart.store(0, ordering: .relaxed)
        floatingPart.storeDouble(total)
    }

    /// The current value.
    public var value: Double { Double(integerPart.load(ordering: .relaxed)) + floatingPart.loadDouble() }

    var integerValue: UInt64 { integerPart.load(ordering: .relaxed) }

    package func snapshotValue() -> SeriesValue { .counter(value) }
}
