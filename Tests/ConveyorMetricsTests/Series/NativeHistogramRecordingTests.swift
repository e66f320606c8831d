import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics

@Suite("Native histogram recording")
struct NativeHistogramRecordingTests {
    /// A clock tests move by hand.
    final class ManualClock: Sendable {
        let now = Atomic<Int64>(1_000)
        func read() -> Int64 { now.load(ordering: .relaxed) }
        func advance(_ nanoseconds: Int64) { now.wrappingAdd(nanoseconds, ordering: .relaxed) }
    }

    @Test func randomSequencesEqualTheReferenceModel() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let runs = HeavyTestWork.iterations(300)
        await HeavyTestWork.run {
            var random = SplitMix64(seed: seed)
            var totals = (snapshots: 0, halvings: 0, resets: 0, nonEmpty: 0)
            for run in 0..<runs {
                let runSeed = random.next()
                let outcome = Self.compare(seed: runSeed)
                if let failure = outcome.failure {
                    Issue.record("seed \(seed), run \(run) (run seed \(runSeed)): \(failure)")
                    return
                }
                totals.snapshots += outcome.snapshots
                totals.halvings += outcome.halvings
                totals.resets += outcome.resets
                totals.nonEmpty += outcome.nonEmptySnapshots
            }
            // The runs did exercise what they are for.
            #expect(totals.snapshots > runs * 3, "seed \(seed)")
            #expect(totals.halvings > runs / 4, "seed \(seed)")
            #expect(totals.resets > 0, "seed \(seed)")
            #expect(totals.nonEmpty > runs, "seed \(seed)")
        }
    }

    /// One random configuration and observation sequence, storage against model.
    static func compare(seed: UInt64) -> (
        failure: String?, snapshots: Int, halvings: Int, resets: Int, nonEmptySnapshots: Int
    ) {
        var random = SplitMix64(seed: seed)
        let clock = ManualClock()
        let maxBuckets = [0, 1, 2, 3, 5, 10, 40, 160][Int(random.next() % 8)]
        let reset: Int64 = random.next() % 3 == 0 ? 1_000 : 0
        let settings = NativeHistogramSettings(
            schema: Int(random.next() % 13) - 4, zeroThreshold: [0, 0x1p-128, 1e-3, 0.5][Int(random.next() % 4)],
            maxBucketCount: maxBuckets, minResetNanoseconds: reset, keepClassicBuckets: random.next() % 2 == 0)
        let bounds: [Double] = [0.001, 0.1, 1, 10, 1000]
        let storage = NativeHistogramStorage(settings: settings, upperBounds: bounds, clock: { clock.read() })
        var model = NativeHistogramReference.Model(settings: settings, upperBounds: bounds, now: clock.read())
        let scale = exp(random.unit() * 20 - 10)
        var snapshots = 0
        var nonEmpty = 0
        for step in 0..<Int(random.next() % 400 + 1) {
            let value = randomObservation(&random, scale: scale)
            storage.observe(value)
            model.observe(value, now: clock.read())
            if random.next() % 5 == 0 { clock.advance(Int64(random.next() % 400)) }
            if random.next() % 40 == 0 || step % 97 == 96 {
                let actual = storage.value()
                let expected = model.snapshot(now: clock.read())
                snapshots += 1
                if actual.count > 0 { nonEmpty += 1 }
                if !actual.sameAs(expected) {
                    return ("step \(step), settings \(settings): \(actual) ≠ \(expected)", snapshots, 0, 0, 0)
                }
            }
        }
        let actual = storage.value()
        let expected = model.snapshot(now: clock.read())
        if !actual.sameAs(expected) { return ("end, settings \(settings): \(actual) ≠ \(expected)", 0, 0, 0, 0) }
        return (nil, snapshots + 1, model.halvings, model.resets, nonEmpty + (actual.count > 0 ? 1 : 0))
    }

    /// Mostly positive values around `scale` and spread over decades, some negative, zero,
    /// tiny, subnormal, huge, ±Infinity and NaN.
    static func randomObservation(_ random: inout SplitMix64, scale: Double) -> Double {
        switch random.next() % 100 {
        case 0: return .nan
        case 1: return .infinity
        case 2: return -.infinity
        case 3: return 0
        case 4: return 1e-300
        case 5: return .leastNonzeroMagnitude
        case 6: return 1e300
        case 7..<20: return -scale * exp(random.unit() * 6 - 3)
        case 20..<25: return scalbn(1.0, Int32(random.next() % 200) - 100)
        default: return scale * exp(random.unit() * 10 - 5)
        }
    }

    @Test func nanAndInfinityAreRecordedAsPrometheusDoes() {
        let settings = NativeHistogramSettings(
            schema: 0, zeroThreshold: 0x1p-128, maxBucketCount: 0, minResetNanoseconds: 0, keepClassicBuckets: true)
        let storage = NativeHistogramStorage(settings: settings, upperBounds: [1, 10])
        storage.observe(.infinity)
        storage.observe(-.infinity)
        storage.observe(.nan)
        storage.observe(4)
        let value = storage.value()
        let native = value.native
        #expect(native?.count == 4)
        #expect(native?.sum.isNaN == true)
        // +Inf is one bucket past the largest double's (bucket 1024 at schema 0): 1025.
        let positive = NativeHistogramValue.decode(
            spans: native?.positiveSpans ?? [], deltas: native?.positiveDeltas ?? [])
        let negative = NativeHistogramValue.decode(
            spans: native?.negativeSpans ?? [], deltas: native?.negativeDeltas ?? [])
        #expect(!positive.isEmpty && !negative.isEmpty)
        #expect(positive.filter { $0.count > 0 }.map(\.key) == [2, 1025])
        #expect(negative.filter { $0.count > 0 }.map(\.key) == [1025])
        // Classic: −Inf in the first bucket, 4 in the second, +Inf and NaN in +Inf.
        #expect(value.cumulativeCounts == [1, 2, 4])
    }

    @Test func spansJoinGapsOfUpToTwoBucketsAndDecodeBack() {
        let buckets: [(key: Int, count: UInt64)] = [(-3, 2), (-2, 5), (0, 1), (3, 4), (7, 7), (8, 1)]
        let (spans, deltas) = NativeHistogramValue.encode(buckets)
        #expect(
            spans == [
                .init(offset: -3, length: 7),  // -3…3, the gaps at -1, 1 and 2 joined
                .init(offset: 3, length: 2),  // 7, 8 after a gap of three
            ])
        #expect(deltas == [2, 3, -5, 1, -1, 0, 4, 3, -6])
        let decoded = NativeHistogramValue.decode(spans: spans, deltas: deltas).filter { $0.count != 0 }
        #expect(!decoded.isEmpty)
        #expect(decoded.map(\.key) == buckets.map(\.key))
        #expect(decoded.map(\.count) == buckets.map { Int64($0.count) })
        #expect(NativeHistogramValue.encode([]).0.isEmpty)
    }

    @Test func anEmptyHistogramWithZeroThresholdZeroHasOneEmptySpan() {
        let settings = NativeHistogramSettings(
            schema: 3, zeroThreshold: 0, maxBucketCount: 160, minResetNanoseconds: 0, keepClassicBuckets: false)
        let value = NativeHistogramStorage(settings: settings, upperBounds: []).value()
        #expect(value.native?.positiveSpans == [.init(offset: 0, length: 0)])
        #expect(value.native?.count == 0)
        #expect(value.upperBounds.isEmpty)
        #expect(value.cumulativeCounts == [0])
    }

    @Test func manyObservationsGrowTheTablesAndNothingIsLost() {
        // No limit: tables grow from 16 slots to hold 2,000 buckets of schema 8.
        let settings = NativeHistogramSettings(
            schema: 8, zeroThreshold: 0, maxBucketCount: 0, minResetNanoseconds: 0, keepClassicBuckets: false)
        let storage = NativeHistogramStorage(settings: settings, upperBounds: [])
        for index in 0..<2_000 {
            storage.observe(pow(2, Double(index) / 256 + 0.001))
            storage.observe(-pow(2, Double(index) / 256 + 0.001))
        }
        let native = storage.value().native
        #expect(native?.count == 4_000)
        #expect(native?.schema == 8)
        #expect(native?.positiveSpans == [.init(offset: 1, length: 2_000)])
        #expect(native?.negativeSpans == [.init(offset: 1, length: 2_000)])
    }
}
