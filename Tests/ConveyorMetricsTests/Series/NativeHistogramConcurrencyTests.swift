import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics

@Suite("Native histogram concurrency")
struct NativeHistogramConcurrencyTests {
    @Test func concurrentObserversLoseNothingAcrossResolutionReductions() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let threads = 4
        let perThread = HeavyTestWork.iterations(60_000)
        // A small limit: the resolution is halved from 8 several times while threads observe,
        // and the tables grow; a reader takes snapshots all along.
        let settings = NativeHistogramSettings(
            schema: 8, zeroThreshold: 1e-9, maxBucketCount: 24, minResetNanoseconds: 0, keepClassicBuckets: true)
        let storage = NativeHistogramStorage(settings: settings, upperBounds: [0.01, 1, 100])
        let done = Atomic<Int>(0)
        let readerFailure = Mutex<String?>(nil)
        let snapshotsTaken = Atomic<Int>(0)
        await HeavyTestWork.run {
            Self.onThreads(threads + 1) { worker in
                if worker == threads {
                    // Besides the swaps the limit causes, swap banks (and now and then halve the
                    // resolution) all along, reading in between.
                    var previous: UInt64 = 0
                    var round = 0
                    while done.load(ordering: .acquiring) < threads {
                        round += 1
                        storage.rebuildNow(halving: round % 50 == 0)
                        let native = storage.value().native
                        let count = native?.count ?? 0
                        if count < previous {
                            readerFailure.withLock { $0 = "count went from \(previous) to \(count)" }
                        }
                        previous = count
                        snapshotsTaken.wrappingAdd(1, ordering: .relaxed)
                    }
                    return
                }
                // Start once the reader is swapping banks.
                while snapshotsTaken.load(ordering: .relaxed) == 0 { sched_yield() }
                var random = SplitMix64(seed: seed &+ UInt64(worker))
                for index in 0..<perThread {
                    let magnitude = exp(random.unit() * 40 - 20)
                    storage.observe(index % 7 == 0 ? -magnitude : index % 101 == 0 ? 0 : magnitude)
                }
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
        let value = storage.value()
        let total = UInt64(threads * perThread)
        guard let native = value.native else {
            Issue.record("no native part")
            return
        }
        let positive = NativeHistogramValue.decode(spans: native.positiveSpans, deltas: native.positiveDeltas)
        let negative = NativeHistogramValue.decode(spans: native.negativeSpans, deltas: native.negativeDeltas)
        #expect(!positive.isEmpty && !negative.isEmpty)
        let inBuckets =
            positive.reduce(UInt64(0)) { $0 + UInt64($1.count) } + negative.reduce(0) { $0 + UInt64($1.count) }
        #expect(native.count == total, "seed \(seed)")
        #expect(inBuckets + native.zeroCount == total, "seed \(seed)")
        #expect(native.zeroCount > 0, "seed \(seed)")
        #expect(value.cumulativeCounts.last == total, "seed \(seed)")
        #expect(native.schema < 8, "seed \(seed): the resolution was never reduced")
        let populated = (positive + negative).filter { $0.count > 0 }.count
        #expect(populated <= 24, "seed \(seed): \(populated) buckets populated at rest")
        #expect(readerFailure.withLock { $0 } == nil, "seed \(seed)")
        // The reader swapped and read while observers ran (fewer rounds under a sanitizer,
        // where the observers' shorter loops end sooner).
        #expect(snapshotsTaken.load(ordering: .relaxed) > (HeavyTestWork.sanitized ? 2 : 10), "seed \(seed)")
    }

    /// Runs `body(0..<count)` on `count` threads of their own at once and waits for all.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for worker in 0..<count {
            group.enter()
            Thread {
                body(worker)
                group.leave()
            }.start()
        }
        group.wait()
    }
}
