import Synchronization

/// One counter series: a value that only goes up.
///
/// Integer increments are a single relaxed atomic add; floating-point increments add to a
/// separate CAS-updated `Double`, so integer recording never loops.
///
/// An increment can carry an ``Exemplar``; the series keeps the latest. Its exemplar store
/// is made on the first one, so a counter without exemplars pays only for checking the
/// registry's ``ExemplarProvider`` (one branch).
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
    /// `context.providesExemplars`, here so that an increment without a provider tests a byte
    /// of this object (the byte after the key's 33: the object stays 104 bytes).
    private let providesExemplars: Bool
    private let renderedLabelsCount: UInt32

    package var renderedLabels: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: renderedLabelsStart, count: Int(renderedLabelsCount))
    }

    package init(identity: SeriesIdentity, configuration: Void, context: SeriesContext) {
        (renderedLabelsStart, renderedLabelsCount) = RenderedLabels.allocateCompact(identity.labels)
        providesExemplars = context.providesExemplars
        self.lookupKey = identity.key
        self.lookupHash = identity.hash
        self.context = context
    }

    deinit {
        RenderedLabels.free(renderedLabels)
        context.exemplars.forget(ObjectIdentifier(self))
    }

    /// Adds a whole number; one relaxed atomic add, no allocation (and an exemplar from the
    /// registry's provider, when it has one).
    @inline(__always)
    public func increment(by amount: UInt64 = 1) {
        integerPart.wrappingAdd(amount, ordering: .relaxed)
        if providesExemplars { provideExemplar(value: Double(amount)) }
    }

    /// Adds a whole number and keeps `exemplar` (its value set to `amount`, its timestamp to
    /// now when it has none) as the counter's latest; an invalid exemplar is dropped and
    /// counted as ``RejectionReason/invalidExemplar``. With nil, the registry's provider is
    /// asked as `increment(by:)` does.
    public func increment(by amount: UInt64 = 1, exemplar: Exemplar?) {
        integerPart.wrappingAdd(amount, ordering: .relaxed)
        recordExemplar(exemplar, value: Double(amount))
    }

    /// Adds a signed whole number; a negative amount is rejected and counted.
    public func increment(by amount: Int64) {
        guard amount >= 0 else {
            context.reject(.negativeIncrement, "increment by \(amount)")
            return
        }
        integerPart.wrappingAdd(UInt64(amount), ordering: .relaxed)
        if providesExemplars { provideExemplar(value: Double(amount)) }
    }

    /// Adds a fractional amount; NaN, ±Infinity and negative amounts are rejected and counted.
    public func increment(by amount: Double) {
        guard add(amount) else { return }
        if providesExemplars { provideExemplar(value: amount) }
    }

    /// Adds a fractional amount and keeps `exemplar` as the counter's latest (see
    /// the `UInt64` variant); a rejected amount records no exemplar.
    /// (Disfavored, so that an integer literal picks the `UInt64` variant.)
    @_disfavoredOverload
    public func increment(by amount: Double, exemplar: Exemplar?) {
        guard add(amount) else { return }
        recordExemplar(exemplar, value: amount)
    }

    /// Adds a fractional amount; false when it was rejected (counted).
    private func add(_ amount: Double) -> Bool {
        guard amount.isFinite, amount >= 0 else {
            let reason: RejectionReason =
                amount.isNaN ? .notANumber : amount.isInfinite ? .infinite : .negativeIncrement
            context.reject(reason, "increment by \(amount)")
            return false
        }
        if amount > 0 { floatingPart.addDouble(amount) }
        return true
    }

    /// Keeps `exemplar`, or the provider's when it is nil.
    private func recordExemplar(_ exemplar: Exemplar?, value: Double) {
        if let exemplar {
            guard let recorded = context.validated(exemplar, value: value) else { return }
            context.exemplars.store(for: ObjectIdentifier(self), layout: .perSlot(1)).record(recorded, slot: 0)
        } else if providesExemplars {
            provideExemplar(value: value)
        }
    }

    /// Asks `provider` for an exemplar and keeps it (the rare path: kept out of line).
    @inline(never)
    private func provideExemplar(value: Double) {
        guard let exemplar = context.exemplarProvider?.make(), let recorded = context.validated(exemplar, value: value)
        else { return }
        context.exemplars.store(for: ObjectIdentifier(self), layout: .perSlot(1)).record(recorded, slot: 0)
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
