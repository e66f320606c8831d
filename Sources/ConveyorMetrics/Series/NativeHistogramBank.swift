import Synchronization

/// One of the two banks of counts of a native histogram (see ``NativeHistogramStorage``):
/// schema, zero bucket, NaN count, sum, the classic buckets (when the family keeps them) and
/// a bucket table per sign.
///
/// Observers update only the hot bank, with atomics. The schema and the tables change only
/// while the bank is cold and no observer is inside it; observers read them after the
/// acquiring add that chose the bank, which follows the releasing flip that published them.
package final class NativeHistogramBank: Sendable {
    package let schema: Atomic<Int>
    /// The address of the schema's ``NativeHistogramSchema/KeyLayout`` (immortal), changed
    /// with `schema`.
    private let keyLayout: Atomic<UInt>
    /// Observers that chose this bank and are done with it (recorded, or gave up on a full table).
    package let finished = Atomic<UInt64>(0)
    package let zeroCount = Atomic<UInt64>(0)
    package let nanCount = Atomic<UInt64>(0)
    package let sumBits = Atomic<UInt64>(0.0.bitPattern)
    /// The tables' addresses (0: none yet).
    private let positiveAddress = Atomic<UInt>(0)
    private let negativeAddress = Atomic<UInt>(0)
    /// Per classic bucket counts, `+Inf` last; none for a native-only family.
    nonisolated(unsafe) private let classicCounts: UnsafeMutablePointer<Atomic<UInt64>>
    package let classicCount: Int

    /// What recording an observation did.
    package enum Outcome: Equatable {
        /// Counted (in a bucket that existed, the zero bucket, or as NaN).
        case counted
        /// Counted in a new bucket; its table has `used` of `capacity` slots claimed.
        case created(negative: Bool, used: Int, capacity: Int)
        /// The table for this sign is full or absent: nothing was recorded.
        case full(negative: Bool)
    }

    package init(schema: Int, classicCount: Int) {
        self.schema = Atomic(schema)
        keyLayout = Atomic(UInt(bitPattern: NativeHistogramSchema.layout(schema)))
        self.classicCount = classicCount
        classicCounts = .allocate(capacity: max(classicCount, 1))
        for index in 0..<max(classicCount, 1) { (classicCounts + index).initialize(to: Atomic(0)) }
    }

    deinit {
        positive?.deallocate()
        negative?.deallocate()
        classicCounts.deinitialize(count: max(classicCount, 1))
        classicCounts.deallocate()
    }

    @inline(__always)
    package var positive: NativeHistogramBucketTable? { Self.table(at: positiveAddress.load(ordering: .relaxed)) }
    @inline(__always)
    package var negative: NativeHistogramBucketTable? { Self.table(at: negativeAddress.load(ordering: .relaxed)) }

    @inline(__always)
    private static func table(at address: UInt) -> NativeHistogramBucketTable? {
        UnsafeMutablePointer<Atomic<UInt64>>(bitPattern: address).map(NativeHistogramBucketTable.init(base:))
    }

    /// Populated buckets of both signs.
    package var bucketCount: Int { (positive?.used ?? 0) &+ (negative?.used ?? 0) }

    /// Records `value` (NaN included) unless its bucket has no room; the classic bucket
    /// `classicIndex` is counted when the family keeps classic buckets.
    @inline(__always)
    package func record(
        _ value: Double, classicIndex: Int, zeroThreshold: Double
    ) -> Outcome {
        var outcome = Outcome.counted
        let magnitude = value.magnitude
        if value.isNaN {
            nanCount.wrappingAdd(1, ordering: .relaxed)
        } else if magnitude <= zeroThreshold {
            zeroCount.wrappingAdd(1, ordering: .relaxed)
        } else {
            let negative = value < 0
            // Never 0: set to an immortal layout in init and on every schema change.
            let layout = UnsafePointer<NativeHistogramSchema.KeyLayout>(bitPattern: keyLayout.load(ordering: .relaxed))
                .unsafelyUnwrapped
            let key = NativeHistogramSchema.key(forMagnitude: magnitude, layout: layout.pointee)
            guard let table = negative ? self.negative : positive else { return .full(negative: negative) }
            switch table.add(1, to: key) {
            case .counted: break
            case .created(let used, let capacity):
                outcome = .created(negative: negative, used: used, capacity: capacity)
            case .full: return .full(negative: negative)
            }
        }
        sumBits.addDouble(value)
        if classicIndex < classicCount { classicCounts[classicIndex].wrappingAdd(1, ordering: .relaxed) }
        return outcome
    }

    /// ``record(_:classicIndex:zeroThreshold:bounds:)`` for an observer, then marks it
    /// finished. One word back (no enum with payload through memory): 0 counted, 1 counted in
    /// a new bucket that crowds its table (more than half full, or the buckets past `limit`),
    /// 2 / 3 the positive / negative table was full. Not inlined: a classic-only histogram's
    /// `observe` stays small.
    @inline(never)
    package func recordAndFinish(
        _ value: Double, _ classicIndex: Int, _ zeroThreshold: Double, _ limit: Int
    ) -> Int {
        let outcome = record(value, classicIndex: classicIndex, zeroThreshold: zeroThreshold)
        finished.wrappingAdd(1, ordering: .releasing)
        switch outcome {
        case .counted: return 0
        case .created(_, let used, let capacity):
            return used &* 2 > capacity || (limit > 0 && bucketCount > limit) ? 1 : 0
        case .full(let negative): return negative ? 3 : 2
        }
    }

    /// Gives the (cold, cleared) bank `schema` and empty tables of these capacities (0: none).
    package func prepare(schema: Int, positiveCapacity: Int, negativeCapacity: Int) {
        self.schema.store(schema, ordering: .relaxed)
        keyLayout.store(UInt(bitPattern: NativeHistogramSchema.layout(schema)), ordering: .relaxed)
        if positiveCapacity > 0 {
            positiveAddress.store(Self.address(.allocate(capacity: positiveCapacity)), ordering: .relaxed)
        }
        if negativeCapacity > 0 {
            negativeAddress.store(Self.address(.allocate(capacity: negativeCapacity)), ordering: .relaxed)
        }
    }

    private static func address(_ table: NativeHistogramBucketTable) -> UInt { UInt(bitPattern: table.base) }

    /// A bucket that found no room in the table it was merged into.
    package struct Leftover {
        package let negative: Bool
        package let key: Int
        package let count: UInt64
    }

    /// Adds everything `drained` (which no observer uses any more) holds into this bank, its
    /// buckets at this bank's schema (`drained`'s halved as needed); returns the buckets that
    /// did not fit.
    package func absorb(_ drained: NativeHistogramBank) -> [Leftover] {
        finished.wrappingAdd(drained.finished.load(ordering: .relaxed), ordering: .relaxed)
        zeroCount.wrappingAdd(drained.zeroCount.load(ordering: .relaxed), ordering: .relaxed)
        nanCount.wrappingAdd(drained.nanCount.load(ordering: .relaxed), ordering: .relaxed)
        sumBits.addDouble(drained.sumBits.loadDouble())
        for index in 0..<classicCount {
            classicCounts[index].wrappingAdd(drained.classicCounts[index].load(ordering: .relaxed), ordering: .relaxed)
        }
        let halvings = drained.schema.load(ordering: .relaxed) &- schema.load(ordering: .relaxed)
        var leftovers: [Leftover] = []
        for negative in [false, true] {
            (negative ? drained.negative : drained.positive)?.forEach { key, count in
                guard count > 0 else { return }
                let merged = NativeHistogramSchema.halved(key, times: halvings)
                if !add(count, to: merged, negative: negative) {
                    leftovers.append(Leftover(negative: negative, key: merged, count: count))
                }
            }
        }
        return leftovers
    }

    /// Adds `count` to a bucket at this bank's schema; false when its table has no room.
    package func add(_ count: UInt64, to key: Int, negative: Bool) -> Bool {
        guard let table = negative ? self.negative : positive else { return false }
        return table.add(count, to: key) != .full
    }

    /// Zeroes every count and frees the tables: the bank is cold and no observer is inside.
    package func clear() {
        finished.store(0, ordering: .relaxed)
        zeroCount.store(0, ordering: .relaxed)
        nanCount.store(0, ordering: .relaxed)
        sumBits.storeDouble(0)
        for index in 0..<classicCount { classicCounts[index].store(0, ordering: .relaxed) }
        positive?.deallocate()
        negative?.deallocate()
        positiveAddress.store(0, ordering: .relaxed)
        negativeAddress.store(0, ordering: .relaxed)
    }

    /// How many distinct buckets each sign would hold after halving the resolution `times`.
    package func bucketCounts(afterHalving times: Int) -> (positive: Int, negative: Int) {
        func distinct(_ table: NativeHistogramBucketTable?) -> Int {
            var keys = Set<Int>()
            table?.forEach { key, _ in keys.insert(NativeHistogramSchema.halved(key, times: times)) }
            return keys.count
        }
        return (distinct(positive), distinct(negative))
    }

    /// The populated buckets of one sign, sorted by index.
    package func buckets(negative: Bool) -> [(key: Int, count: UInt64)] {
        var buckets: [(key: Int, count: UInt64)] = []
        (negative ? self.negative : positive)?.forEach { key, count in
            if count > 0 { buckets.append((key, count)) }
        }
        return buckets.sorted { $0.key < $1.key }
    }

    /// The classic buckets' counts made cumulative (`+Inf` last).
    package func cumulativeClassicCounts() -> [UInt64] {
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(classicCount)
        var running: UInt64 = 0
        for index in 0..<classicCount {
            running &+= classicCounts[index].load(ordering: .relaxed)
            cumulative.append(running)
        }
        return cumulative
    }
}
