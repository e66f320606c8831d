import Foundation

@testable import ConveyorMetrics

/// Slow, obviously correct counterparts of the native-histogram code, for property tests.
enum NativeHistogramReference {
    /// Bucket `key`'s upper bound under `schema` as `(fraction, exponent)`: fraction · 2^exponent
    /// with the fraction in [0.5, 1), so it can be compared exactly even where it is not a
    /// representable double (subnormal range, beyond the largest double).
    static func upperBound(_ key: Int, schema: Int) -> (fraction: Double, exponent: Int) {
        if schema <= 0 { return (0.5, key * (1 << -schema) + 1) }
        let perPower = 1 << schema
        let power = Int((Double(key) / Double(perPower)).rounded(.down))
        let index = key - power * perPower
        return (NativeHistogramSchema.bounds[NativeHistogramSchema.boundsOffset(schema) + index], power + 1)
    }

    /// Whether `magnitude` ≤ fraction · 2^exponent, exactly (`frexp` and comparisons only).
    static func isAtMost(_ magnitude: Double, _ bound: (fraction: Double, exponent: Int)) -> Bool {
        let (fraction, exponent) = frexp(magnitude)
        return exponent < bound.exponent || (exponent == bound.exponent && fraction <= bound.fraction)
    }

    /// The smallest `key` whose upper bound is ≥ `magnitude`: a guess from `log2`, then
    /// corrected by exact comparisons. ±Infinity: one past the largest finite value's.
    static func key(_ magnitude: Double, schema: Int) -> Int {
        if magnitude.isInfinite { return key(.greatestFiniteMagnitude, schema: schema) + 1 }
        var key = Int((log2(magnitude) * pow(2, Double(schema))).rounded(.up))
        while !isAtMost(magnitude, upperBound(key, schema: schema)) { key += 1 }
        while isAtMost(magnitude, upperBound(key - 1, schema: schema)) { key -= 1 }
        return key
    }

    /// The native histogram as a plain, single-threaded model: dictionaries of buckets, the
    /// resolution halved (or the histogram reset) exactly when client_golang's rules say.
    struct Model {
        let settings: NativeHistogramSettings
        let upperBounds: [Double]
        var schema: Int
        var positive: [Int: UInt64] = [:]
        var negative: [Int: UInt64] = [:]
        var zero: UInt64 = 0
        var nan: UInt64 = 0
        var sum: Double = 0
        var classic: [UInt64]
        var lastReset: Int64
        var resetDue: Int64?
        /// How many times the resolution was halved and the histogram reset (tests check both happened).
        var halvings = 0
        var resets = 0

        init(settings: NativeHistogramSettings, upperBounds: [Double], now: Int64) {
            self.settings = settings
            self.upperBounds = settings.keepClassicBuckets ? upperBounds : []
            schema = settings.schema
            classic = Array(repeating: 0, count: settings.keepClassicBuckets ? upperBounds.count + 1 : 0)
            lastReset = now
        }

        /// Records `value`; true when it made a new bucket.
        private mutating func record(_ value: Double) -> Bool {
            var created = false
            if value.isNaN {
                nan += 1
            } else if value.magnitude <= settings.zeroThreshold {
                zero += 1
            } else {
                let key = NativeHistogramReference.key(value.magnitude, schema: schema)
                if value > 0 {
                    created = positive[key] == nil
                    positive[key, default: 0] += 1
                } else {
                    created = negative[key] == nil
                    negative[key, default: 0] += 1
                }
            }
            sum += value
            if !classic.isEmpty {
                let index =
                    value.isNaN ? upperBounds.count : upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
                classic[index] += 1
            }
            return created
        }

        mutating func observe(_ value: Double, now: Int64) {
            let limit = settings.maxBucketCount
            guard record(value), limit > 0, positive.count + negative.count > limit else { return }
            let minReset = settings.minResetNanoseconds
            if minReset > 0 && (resetDue.map { now >= $0 } ?? (now - lastReset >= minReset)) {
                reset(now: now)
                _ = record(value)
                return
            }
            if minReset > 0 && resetDue == nil { resetDue = lastReset + minReset }
            while schema > NativeHistogramSchema.minimum && positive.count + negative.count > limit {
                schema -= 1
                halvings += 1
                positive = Self.halve(positive)
                negative = Self.halve(negative)
            }
        }

        private static func halve(_ buckets: [Int: UInt64]) -> [Int: UInt64] {
            var halved: [Int: UInt64] = [:]
            for (key, count) in buckets {
                // Bucket j at the lower resolution is buckets 2j−1 and 2j: j = ⌈key / 2⌉.
                halved[Int((Double(key) / 2).rounded(.up)), default: 0] += count
            }
            return halved
        }

        private mutating func reset(now: Int64) {
            schema = settings.schema
            positive = [:]
            negative = [:]
            zero = 0
            nan = 0
            sum = 0
            classic = classic.map { _ in 0 }
            lastReset = now
            resetDue = nil
            resets += 1
        }

        /// What a snapshot shows; then the reset that is due, as the storage performs it.
        mutating func snapshot(now: Int64) -> HistogramValue {
            let count = positive.values.reduce(0, +) + negative.values.reduce(0, +) + zero + nan
            let native = NativeHistogramValue(
                schema: Int32(schema), zeroThreshold: settings.zeroThreshold, zeroCount: zero, count: count,
                sum: sum,
                positiveBuckets: positive.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                negativeBuckets: negative.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            var cumulative: [UInt64] = []
            var running: UInt64 = 0
            for bucket in classic {
                running += bucket
                cumulative.append(running)
            }
            let value = HistogramValue(
                upperBounds: upperBounds, cumulativeCounts: classic.isEmpty ? [count] : cumulative, sum: sum,
                native: native)
            if let due = resetDue, now >= due { reset(now: now) }
            return value
        }
    }
}

extension HistogramValue {
    /// Equal, with NaN sums equal to each other.
    func sameAs(_ other: HistogramValue) -> Bool {
        func sameSum(_ left: Double, _ right: Double) -> Bool { left == right || (left.isNaN && right.isNaN) }
        guard upperBounds == other.upperBounds, cumulativeCounts == other.cumulativeCounts, sameSum(sum, other.sum)
        else { return false }
        guard let native, let theirs = other.native else { return native == nil && other.native == nil }
        return native.schema == theirs.schema && native.zeroThreshold == theirs.zeroThreshold
            && native.zeroCount == theirs.zeroCount && native.count == theirs.count && sameSum(native.sum, theirs.sum)
            && native.positiveSpans == theirs.positiveSpans && native.positiveDeltas == theirs.positiveDeltas
            && native.negativeSpans == theirs.negativeSpans && native.negativeDeltas == theirs.negativeDeltas
    }
}
