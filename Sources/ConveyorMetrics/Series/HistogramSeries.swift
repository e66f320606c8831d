import Synchronization

/// One histogram series: observations counted into fixed buckets, plus their sum.
///
/// Each observation is a binary search over the bounds, one relaxed atomic add on a bucket
/// and a CAS add on the sum. Buckets are stored per bucket and made cumulative when read,
/// and `_count` is the sum of all buckets, so `_count` always equals the `+Inf` bucket.
///
/// ```swift
/// let latency = registry.histogramFamily(
///     name: "request_seconds", help: "Request latency", labelNames: ["route"], buckets: [0.1, 0.5, 1])
/// latency.series("/metrics").observe(0.042)
/// ```
public final class HistogramSeries: SeriesStorage {
    package typealias Configuration = HistogramBuckets

    // Immutable after init; freed in deinit.
    nonisolated(unsafe) package let renderedLabels: UnsafeRawBufferPointer
    package let lookupKey: LabelValuesKey
    package let lookupHash: UInt64
    package let upperBounds: [Double]
    // Written only through atomics; allocated in init, freed in deinit.
    nonisolated(unsafe) private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    private let bucketCount: Int
    private let sumBits = Atomic<UInt64>(0.0.bitPattern)
    package let context: SeriesContext
    /// When it was created (ms since the epoch).
    package let createdMilliseconds = WallClock.unixMilliseconds()

    package init(identity: SeriesIdentity, configuration: HistogramBuckets, context: SeriesContext) {
        self.renderedLabels = RenderedLabels.allocate(identity.labels)
        self.lookupKey = identity.key
        self.lookupHash = identity.hash
        self.upperBounds = configuration.upperBounds
        self.bucketCount = configuration.upperBounds.count + 1
        self.counts = .allocate(capacity: bucketCount)
        for index in 0..<bucketCount {
            (counts + index).initialize(to: Atomic(0))
        }
        self.context = context
    }

    deinit {
        counts.deinitialize(count: bucketCount)
        counts.deallocate()
        RenderedLabels.free(renderedLabels)
    }

    /// Records one observation. NaN and ±Infinity are rejected and counted.
    @inline(__always)
    public func observe(_ value: Double) {
        guard value.isFinite else {
            context.reject(value.isNaN ? .notANumber : .infinite, "observe \(value)")
            return
        }
        counts[bucketIndex(for: value)].wrappingAdd(1, ordering: .relaxed)
        sumBits.addDouble(value)
    }

    /// The index of the first bucket whose upper bound is ≥ `value` (`le` semantics).
    @inline(__always)
    private func bucketIndex(for value: Double) -> Int {
        var low = 0
        var high = upperBounds.count
        while low < high {
            let mid = (low &+ high) >> 1
            if upperBounds[mid] < value { low = mid &+ 1 } else { high = mid }
        }
        return low
    }

    /// Buckets (cumulative, `+Inf` last), sum and count, read with relaxed atomics.
    public var value: HistogramValue {
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
