import Synchronization

/// One histogram series: observations counted into fixed buckets, plus their sum.
///
/// Each observation is a binary search over the bounds, one relaxed atomic add on a bucket
/// and a CAS add on the sum. Buckets are stored per bucket and made cumulative when read,
/// and `_count` is the sum of all buckets, so `_count` always equals the `+Inf` bucket.
///
/// A family with ``NativeHistogramOptions`` records into a native histogram instead
/// (its classic buckets too, when it keeps them); a classic-only family pays one branch.
///
/// An observation can carry an ``Exemplar``: the series keeps the latest per classic bucket
/// (`+Inf` included), or, in a native-only family (which has no classic buckets), the latest
/// 4 in all, as Prometheus keeps a native histogram's exemplars
/// per series rather than per bucket. The store is made on the first exemplar.
///
/// ```swift
/// let latency = registry.histogramFamily(
///     name: "request_seconds", help: "Request latency", labelNames: ["route"], buckets: [0.1, 0.5, 1])
/// latency.series("/metrics").observe(0.042)
/// ```
public final class HistogramSeries: SeriesStorage {
    package typealias Configuration = HistogramConfiguration

    // Immutable after init; freed in deinit.
    nonisolated(unsafe) package let renderedLabels: UnsafeRawBufferPointer
    package let lookupKey: LabelValuesKey
    package let lookupHash: UInt64
    package let upperBounds: [Double]
    // Written only through atomics; allocated in init, freed in deinit.
    nonisolated(unsafe) private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    private let bucketCount: Int
    private let sumBits = Atomic<UInt64>(0.0.bitPattern)
    /// The native histogram (and the classic buckets with it); nil for a classic-only family.
    private let nativeStorage: NativeHistogramStorage?
    /// The same, used without retaining it (`nativeStorage` keeps it alive): a classic-only
    /// family pays one load and one branch.
    private let native: Unmanaged<NativeHistogramStorage>?
    package let context: SeriesContext
    /// When it was created (ms since the epoch).
    package let createdMilliseconds = WallClock.unixMilliseconds()
    /// The registry has an exemplar provider (`context.providesExemplars`).
    private let providesExemplars: Bool
    /// Classic buckets only and no exemplar provider: the one branch an observation of such a
    /// family pays; everything else (native, provided exemplars) is out of line.
    private let plain: Bool
    /// `native` when there is no exemplar provider: such an observation goes straight there.
    private let nativeWithoutProvider: Unmanaged<NativeHistogramStorage>?

    package init(identity: SeriesIdentity, configuration: HistogramConfiguration, context: SeriesContext) {
        self.renderedLabels = RenderedLabels.allocate(identity.labels)
        self.lookupKey = identity.key
        self.lookupHash = identity.hash
        self.upperBounds = configuration.upperBounds
        self.nativeStorage = configuration.native.map {
            NativeHistogramStorage(settings: $0, upperBounds: configuration.upperBounds)
        }
        self.native = nativeStorage.map { Unmanaged.passUnretained($0) }
        self.bucketCount = native == nil ? configuration.upperBounds.count + 1 : 0
        self.counts = .allocate(capacity: max(bucketCount, 1))
        for index in 0..<max(bucketCount, 1) {
            (counts + index).initialize(to: Atomic(0))
        }
        self.context = context
        self.providesExemplars = context.providesExemplars
        self.plain = native == nil && !context.providesExemplars
        self.nativeWithoutProvider = context.providesExemplars ? nil : native
    }

    deinit {
        counts.deinitialize(count: max(bucketCount, 1))
        counts.deallocate()
        RenderedLabels.free(renderedLabels)
        context.exemplars.forget(ObjectIdentifier(self))
    }

    /// Records one observation. In a classic-only family NaN and ±Infinity are rejected and
    /// counted; with a native histogram they are recorded as Prometheus does: NaN counts (in
    /// the `+Inf` classic bucket) and makes the sum NaN, ±Infinity goes to the outermost
    /// buckets.
    @inline(__always)
    public func observe(_ value: Double) {
        guard plain else {
            if let native = nativeWithoutProvider {
                native._withUnsafeGuaranteedRef { $0.observe(value) }
                return
            }
            return observeSlowly(value)
        }
        recordClassic(value)
    }

    /// A native histogram and/or an exemplar provider (out of line: a plain family's
    /// `observe` stays one branch and the classic recording).
    @inline(never)
    private func observeSlowly(_ value: Double) {
        record(value)
        if providesExemplars { provideExemplar(value: value) }
    }

    /// Records one observation as ``observe(_:)`` does and keeps `exemplar` (its value set to
    /// `value`, its timestamp to now when it has none) as the latest of the observation's
    /// classic bucket; an invalid exemplar is dropped and counted as
    /// ``RejectionReason/invalidExemplar``. NaN and ±Infinity record no exemplar. With nil,
    /// the registry's provider is asked as ``observe(_:)`` does.
    public func observe(_ value: Double, exemplar: Exemplar?) {
        record(value)
        if let exemplar {
            guard value.isFinite, let recorded = context.validated(exemplar, value: value) else { return }
            keep(recorded)
        } else if providesExemplars {
            provideExemplar(value: value)
        }
    }

    @inline(__always)
    private func record(_ value: Double) {
        if let native {
            native._withUnsafeGuaranteedRef { $0.observe(value) }
            return
        }
        recordClassic(value)
    }

    /// Into the classic buckets (a classic-only family).
    @inline(__always)
    private func recordClassic(_ value: Double) {
        guard value.isFinite else {
            context.reject(value.isNaN ? .notANumber : .infinite, "observe \(value)")
            return
        }
        counts[bucketIndex(for: value)].wrappingAdd(1, ordering: .relaxed)
        sumBits.addDouble(value)
    }

    /// Asks `provider` for an exemplar and keeps it (the rare path: kept out of line).
    @inline(never)
    private func provideExemplar(value: Double) {
        guard value.isFinite, let exemplar = context.exemplarProvider?.make(),
            let recorded = context.validated(exemplar, value: value)
        else { return }
        keep(recorded)
    }

    /// Stores `recorded` in its classic bucket's slot, or among the latest (native-only).
    private func keep(_ recorded: RecordedExemplar) {
        if upperBounds.isEmpty && native != nil {
            context.exemplars.store(for: ObjectIdentifier(self), layout: .latest(ExemplarStore.latestKept))
                .record(recorded, slot: 0)
        } else {
            context.exemplars.store(for: ObjectIdentifier(self), layout: .perSlot(upperBounds.count &+ 1))
                .record(recorded, slot: bucketIndex(for: recorded.value))
        }
    }

    /// The index of the first bucket whose upper bound is ≥ `value` (`le` semantics).
    @inline(__always)
    private func bucketIndex(for value: Double) -> Int {
        HistogramBuckets.index(of: value, in: upperBounds)
    }

    /// Buckets (cumulative, `+Inf` last), sum and count, and the native histogram if the
    /// family records one, read with relaxed atomics.
    public var value: HistogramValue {
        if let nativeStorage { return nativeStorage.value() }
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(bucketCount)
        var running: UInt64 = 0
        for index in 0..<bucketCount {
            running &+= counts[index].load(ordering: .relaxed)
            cumulative.append(running)
        }
        return HistogramValue(
            upperBounds: upperBounds, cumulativeCounts: cumulative, sum: sumBits.loadDouble())
    }

    package func snapshotValue() -> SeriesValue { .histogram(value) }
}
