import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The native part of a histogram series: lock-free recording, and a rare path that changes
/// resolution or table sizes without losing an observation.
///
/// ## Recording (lock-free, no allocation once the bucket exists)
/// Two banks of counts (``NativeHistogramBank``), one hot, as client_golang keeps them.
/// `countAndHot` holds the hot bank's index in its top bit and, below, how many observations
/// have started. An observation adds 1 to it (acquiring: one atomic add both registers it and
/// names the hot bank), records into that bank (a probe of the sign's bucket table and one
/// atomic add, or the zero bucket or NaN count; the CAS-added sum; the classic bucket), then
/// adds 1 to the bank's `finished` (releasing). Outside the rare path the cold bank is empty,
/// has no tables, and every observation that chose it has finished.
///
/// ## The rare path (a lock; may allocate)
/// Taken when a new bucket makes a table more than half full or the populated buckets exceed
/// `maxBucketCount`, or when a table had no room (the observation then counts as finished,
/// recorded nothing, and is retried afterwards). Under the lock:
/// 1. the cold bank gets the new schema (the resolution halved as often as needed to get under
///    the limit, down to −4) and new, larger tables;
/// 2. adding 2^63 flips the hot bank: new observations go to the new one; the count of
///    observations started so far (`N`) comes back;
/// 3. the old bank's `finished` is awaited until it reaches `N` (observers never wait for the
///    lock, so this always ends): the old bank is then quiet and complete;
/// 4. its counts are added into the new hot bank with atomic adds (buckets at the new
///    schema: bucket `i` goes to `(i + 1) >> 1` per halving) while observers keep adding
///    there, and it is cleared and its tables freed. Nothing is counted twice or lost: every
///    observation is in exactly one bank, and the old bank's `finished` (= `N`) is carried
///    over so the invariant `finished == started` holds again at rest.
///
/// With `minResetDuration` set, exceeding the limit at least that long after the last reset
/// resets the histogram instead (both banks emptied, the original schema back, the latest
/// observation kept; client_golang's strategy); after a resolution reduction a reset is
/// due that long after the last one, and happens at the first snapshot (after it was read)
/// or bucket-limit overflow from then on. Widening the zero bucket (client_golang's
/// `NativeHistogramMaxZeroThreshold`) is not implemented.
///
/// ## Snapshots
/// Take the lock (so no rare path runs meanwhile) and read the hot bank with relaxed loads.
/// The count is derived from what was read (buckets + zero bucket + NaN), so it always
/// equals the reported buckets; the classic buckets of a "both" family are read separately
/// and may differ from it by the observations in flight during the read.
package final class NativeHistogramStorage: Sendable {
    private static let hotBit: UInt64 = 1 << 63
    private static let startedMask: UInt64 = hotBit &- 1
    /// Slots of a table when it is first made; tables grow when more than half full.
    package static let initialCapacity = 16

    private let countAndHot = Atomic<UInt64>(0)
    private let banks: (NativeHistogramBank, NativeHistogramBank)
    package let settings: NativeHistogramSettings
    /// The classic upper bounds recorded (empty for a native-only family).
    private let upperBounds: [Double]
    private let classicCount: Int
    private let clock: @Sendable () -> Int64
    private let rare: Mutex<RareState>

    private struct RareState {
        var lastReset: Int64
        /// When a reset is due after a resolution reduction (nil: none scheduled).
        var resetDue: Int64?
    }

    /// `upperBounds` are the classic bounds to keep (empty for a native-only family); `clock`
    /// gives monotonic nanoseconds (tests pass their own).
    package init(
        settings: NativeHistogramSettings, upperBounds: [Double],
        clock: @escaping @Sendable () -> Int64 = { MonotonicClock.nanoseconds() }
    ) {
        self.settings = settings
        self.upperBounds = settings.keepClassicBuckets ? upperBounds : []
        classicCount = settings.keepClassicBuckets ? upperBounds.count &+ 1 : 0
        banks = (
            NativeHistogramBank(schema: settings.schema, classicCount: classicCount),
            NativeHistogramBank(schema: settings.schema, classicCount: classicCount)
        )
        banks.0.prepare(schema: settings.schema, positiveCapacity: Self.initialCapacity, negativeCapacity: 0)
        self.clock = clock
        rare = Mutex(RareState(lastReset: clock(), resetDue: nil))
    }

    @inline(__always)
    private func bank(_ index: UInt64) -> NativeHistogramBank { index & 1 == 0 ? banks.0 : banks.1 }

    /// Records `value`: NaN is counted (and makes the sum NaN) but has no bucket; ±Infinity
    /// goes to the bucket past the largest finite value's.
    @inline(never)
    package func observe(_ value: Double) {
        let classicIndex =
            classicCount == 0 ? 0 : value.isNaN ? upperBounds.count : HistogramBuckets.index(of: value, in: upperBounds)
        let zeroThreshold = settings.zeroThreshold
        let limit = settings.maxBucketCount
        while true {
            let started = countAndHot.wrappingAdd(1, ordering: .acquiring).newValue
            // (The banks are `let`s of this object: called directly, no reference counting.)
            let result =
                started & Self.hotBit == 0
                ? banks.0.recordAndFinish(value, classicIndex, zeroThreshold, limit)
                : banks.1.recordAndFinish(value, classicIndex, zeroThreshold, limit)
            if result == 0 { return }
            if result == 1 {
                makeRoom(recorded: value, classicIndex: classicIndex, missing: nil)
                return
            }
            makeRoom(recorded: nil, classicIndex: classicIndex, missing: result == 3)
        }
    }

    /// The rare path: resets, halves the resolution or grows the tables as needed.
    /// `recorded` is the observation that created a bucket (kept by a reset); `missing` the
    /// sign whose table had no room for an observation that will be retried.
    @inline(never)
    private func makeRoom(recorded: Double?, classicIndex: Int, missing: Bool?) {
        rare.withLock { state in
            let hotIndex = countAndHot.load(ordering: .relaxed) >> 63
            let hot = bank(hotIndex)
            let limit = settings.maxBucketCount
            if limit > 0 && hot.bucketCount > limit {
                let now = clock()
                let resetNanoseconds = settings.minResetNanoseconds
                if resetNanoseconds > 0
                    && (state.resetDue.map { now >= $0 }
                        ?? (now.saturatingSubtracting(state.lastReset) >= resetNanoseconds))
                {
                    reset(&state, hotIndex: hotIndex, keeping: recorded, classicIndex: classicIndex, now: now)
                    return
                }
                if resetNanoseconds > 0 && state.resetDue == nil {
                    state.resetDue = state.lastReset.saturatingAdding(resetNanoseconds)
                }
                let schema = hot.schema.load(ordering: .relaxed)
                var halvings = 0
                var counts = (positive: hot.positive?.used ?? 0, negative: hot.negative?.used ?? 0)
                while schema &- halvings > NativeHistogramSchema.minimum && counts.positive &+ counts.negative > limit {
                    halvings &+= 1
                    counts = hot.bucketCounts(afterHalving: halvings)
                }
                if halvings > 0 {
                    rebuild(
                        from: hotIndex, schema: schema &- halvings,
                        positiveCapacity: Self.capacity(for: counts.positive, needed: missing == false),
                        negativeCapacity: Self.capacity(for: counts.negative, needed: missing == true))
                    return
                }
            }
            let positive = hot.positive
            let negative = hot.negative
            let grow = { (table: NativeHistogramBucketTable?, needed: Bool) -> Bool in
                guard let table else { return needed }
                return table.used &* 2 > table.capacity || needed
            }
            if grow(positive, missing == false) || grow(negative, missing == true) {
                rebuild(
                    from: hotIndex, schema: hot.schema.load(ordering: .relaxed),
                    positiveCapacity: Self.capacity(for: positive?.used ?? 0, needed: missing == false),
                    negativeCapacity: Self.capacity(for: negative?.used ?? 0, needed: missing == true))
            }
        }
    }

    /// Runs the rare path's bank swap now, at the same schema (or one lower with
    /// `halving`): tests drive it while observers record.
    package func rebuildNow(halving: Bool = false) {
        rare.withLock { _ in
            let hotIndex = countAndHot.load(ordering: .relaxed) >> 63
            let hot = bank(hotIndex)
            let schema = hot.schema.load(ordering: .relaxed)
            let target = halving ? max(NativeHistogramSchema.minimum, schema &- 1) : schema
            let counts = hot.bucketCounts(afterHalving: schema &- target)
            rebuild(
                from: hotIndex, schema: target, positiveCapacity: Self.capacity(for: counts.positive, needed: true),
                negativeCapacity: Self.capacity(for: counts.negative, needed: false))
        }
    }

    /// Slots for a table that will hold `buckets` (and one more if `needed`): under half full.
    private static func capacity(for buckets: Int, needed: Bool) -> Int {
        let wanted = buckets &+ (needed ? 1 : 0)
        guard wanted > 0 else { return 0 }
        var slots = initialCapacity
        while slots < wanted &* 2 &+ 2 && slots < 1 << 30 { slots <<= 1 }
        return slots
    }

    /// Moves everything from the hot bank into the cold one, given `schema` and tables of these
    /// capacities, and makes it hot (steps 1–4 of the type's description). Repeats with
    /// doubled tables when observers filled the new ones before everything was merged.
    private func rebuild(from hotIndex: UInt64, schema: Int, positiveCapacity: Int, negativeCapacity: Int) {
        var hotIndex = hotIndex
        var capacities = (positive: positiveCapacity, negative: negativeCapacity)
        var carried: [NativeHistogramBank.Leftover] = []
        while true {
            let old = bank(hotIndex)
            let fresh = bank(hotIndex ^ 1)
            fresh.prepare(
                schema: schema, positiveCapacity: capacities.positive, negativeCapacity: capacities.negative)
            let before = countAndHot.wrappingAdd(Self.hotBit, ordering: .acquiringAndReleasing).oldValue
            waitUntilDrained(old, started: before & Self.startedMask)
            var leftovers = fresh.absorb(old)
            for item in carried where !fresh.add(item.count, to: item.key, negative: item.negative) {
                leftovers.append(item)
            }
            old.clear()
            hotIndex ^= 1
            guard !leftovers.isEmpty else { return }
            carried = leftovers
            capacities = (
                max(Self.initialCapacity, (fresh.positive?.capacity ?? 0) &* 2),
                max(Self.initialCapacity, (fresh.negative?.capacity ?? 0) &* 2)
            )
        }
    }

    /// Empties the histogram (a counter reset) at its original schema, keeping `value`.
    private func reset(
        _ state: inout RareState, hotIndex: UInt64, keeping value: Double?, classicIndex: Int, now: Int64
    ) {
        let old = bank(hotIndex)
        let fresh = bank(hotIndex ^ 1)
        fresh.prepare(
            schema: settings.schema, positiveCapacity: Self.initialCapacity,
            negativeCapacity: (value ?? 0) < 0 ? Self.initialCapacity : 0)
        var kept: UInt64 = 0
        if let value {
            _ = fresh.record(value, classicIndex: classicIndex, zeroThreshold: settings.zeroThreshold)
            fresh.finished.store(1, ordering: .relaxed)
            kept = 1
        }
        let before = countAndHot.exchange(((hotIndex ^ 1) << 63) | kept, ordering: .acquiringAndReleasing)
        waitUntilDrained(old, started: before & Self.startedMask)
        old.clear()
        state.lastReset = now
        state.resetDue = nil
    }

    /// Waits until every observation that chose `bank` (`started` of them) has finished.
    private func waitUntilDrained(_ bank: NativeHistogramBank, started: UInt64) {
        while bank.finished.load(ordering: .acquiring) != started { sched_yield() }
    }

    /// The current native histogram and the classic part (`upperBounds` plus `+Inf`, or just
    /// `+Inf` for a native-only family), read under the lock with relaxed loads. Performs a
    /// reset that is due, after reading.
    package func value() -> HistogramValue {
        rare.withLock { state in
            let hotIndex = countAndHot.load(ordering: .acquiring) >> 63
            let hot = bank(hotIndex)
            let positive = hot.buckets(negative: false)
            let negative = hot.buckets(negative: true)
            let zeroCount = hot.zeroCount.load(ordering: .relaxed)
            var count = zeroCount &+ hot.nanCount.load(ordering: .relaxed)
            for bucket in positive { count &+= bucket.count }
            for bucket in negative { count &+= bucket.count }
            let sum = hot.sumBits.loadDouble()
            let native = NativeHistogramValue(
                schema: Int32(truncatingIfNeeded: hot.schema.load(ordering: .relaxed)),
                zeroThreshold: settings.zeroThreshold, zeroCount: zeroCount, count: count, sum: sum,
                positiveBuckets: positive, negativeBuckets: negative)
            let cumulative = classicCount == 0 ? [count] : hot.cumulativeClassicCounts()
            if let due = state.resetDue {
                let now = clock()
                if now >= due { reset(&state, hotIndex: hotIndex, keeping: nil, classicIndex: 0, now: now) }
            }
            return HistogramValue(upperBounds: upperBounds, cumulativeCounts: cumulative, sum: sum, native: native)
        }
    }
}

extension Int64 {
    /// `self − other`, clamped instead of trapping.
    fileprivate func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }
}
