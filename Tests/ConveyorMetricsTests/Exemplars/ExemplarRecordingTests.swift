import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics

/// The latest exemplar wins per counter and per classic bucket; a native-only histogram
/// keeps the latest few; readers never see a torn exemplar while threads record.
@Suite("Exemplar recording")
struct ExemplarRecordingTests {
    static func trace(_ id: String, at timestamp: Int64? = nil) -> Exemplar {
        Exemplar(labels: [Label(name: "trace_id", value: id)], timestampMilliseconds: timestamp)
    }

    @Test func aCounterKeepsItsLatestExemplarWithTheIncrementAsValue() throws {
        let counter = MetricsRegistry().counterFamily(name: "jobs_total", help: "Jobs").series()
        counter.increment()
        #expect(counter.exemplars == nil, "no store before the first exemplar")
        let before = WallClock.unixMilliseconds()
        counter.increment(by: 3, exemplar: Self.trace("a"))
        counter.increment(by: 2.5, exemplar: Self.trace("b", at: 1_000))
        counter.increment(by: 7, exemplar: nil)  // nil and no provider: the latest stays
        let latest = try #require(counter.exemplars?.slot(0))
        #expect(latest.labels == [Label(name: "trace_id", value: "b")])
        #expect(latest.value == 2.5 && latest.timestampMilliseconds == 1_000)
        #expect(counter.value == 13.5)
        counter.increment(by: 1, exemplar: Self.trace("c"))
        let stamped = try #require(counter.exemplars?.slot(0))
        #expect(
            stamped.timestampMilliseconds >= before && stamped.timestampMilliseconds <= WallClock.unixMilliseconds())
        #expect(stamped.value == 1)
    }

    @Test func aClassicHistogramKeepsTheLatestPerBucket() {
        let series = MetricsRegistry().histogramFamily(name: "wait_seconds", help: "Wait", buckets: [1, 10]).series()
        series.observe(0.5, exemplar: Self.trace("a"))
        series.observe(0.7, exemplar: Self.trace("b"))
        series.observe(5, exemplar: Self.trace("c"))
        series.observe(50, exemplar: Self.trace("d"))
        series.observe(.nan, exemplar: Self.trace("nan"))  // rejected value: no exemplar
        series.observe(0.1)
        let exemplars = series.exemplars
        #expect(exemplars?.perSlot.map { $0?.labels.first?.value } == ["b", "c", "d"])
        #expect(exemplars?.perSlot.map { $0?.value } == [0.7, 5, 50])
        #expect(series.value.count == 5)
    }

    @Test func aBothHistogramUsesItsClassicBucketsAndANativeOnlyOneTheLatestFew() {
        let registry = MetricsRegistry()
        let both = registry.histogramFamily(
            name: "both_seconds", help: "", buckets: [1], native: NativeHistogramOptions(keepClassicBuckets: true)
        ).series()
        both.observe(0.5, exemplar: Self.trace("low"))
        both.observe(3, exemplar: Self.trace("high"))
        #expect(both.exemplars?.perSlot.map { $0?.labels.first?.value } == ["low", "high"])
        let nativeOnly = registry.histogramFamily(
            name: "native_seconds", help: "", buckets: [1], native: NativeHistogramOptions()
        ).series()
        for index in 0..<10 { nativeOnly.observe(Double(index), exemplar: Self.trace("t\(index)")) }
        let kept = nativeOnly.exemplars
        #expect(kept?.perSlot.isEmpty == true)
        #expect(kept?.all.map { $0.labels.first?.value } == ["t6", "t7", "t8", "t9"], "the latest 4, oldest first")
        #expect(nativeOnly.value.native?.count == 10)
    }

    /// Threads record exemplars whose label, value and timestamp agree (`t<n>`, n, n) into one
    /// counter and one histogram while a reader reads: every exemplar read is whole, each
    /// histogram exemplar sits in the bucket of its value, and the last one recorded wins.
    @Test func concurrentRecordingNeverTearsAnExemplar() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let perThread = HeavyTestWork.iterations(20_000)
        await HeavyTestWork.run {
            let registry = MetricsRegistry()
            let counter = registry.counterFamily(name: "c_total", help: "").series()
            let histogram = registry.histogramFamily(name: "h", help: "", buckets: [10, 100, 1000]).series()
            let done = Atomic<Int>(0)
            let threads = 3
            for thread in 0..<threads {
                Thread {
                    var random = SplitMix64(seed: seed &+ UInt64(thread))
                    for _ in 0..<perThread {
                        let n = Int64(random.next() % 2_000)
                        let exemplar = Exemplar(
                            labels: [Label(name: "trace_id", value: "t\(n)"), Label(name: "span_id", value: "s\(n)")],
                            timestampMilliseconds: n + 1)
                        counter.increment(by: UInt64(n), exemplar: exemplar)
                        histogram.observe(Double(n), exemplar: exemplar)
                    }
                    done.add(1, ordering: .releasing)
                }.start()
            }
            var reads = 0
            var torn: [String] = []
            while done.load(ordering: .acquiring) < threads || reads == 0 {
                var read: [(RecordedExemplar, Int?)] = []
                if let latest = counter.exemplars?.slot(0) { read.append((latest, nil)) }
                for (slot, exemplar) in (histogram.exemplars?.perSlot ?? []).enumerated() {
                    if let exemplar { read.append((exemplar, slot)) }
                }
                for (exemplar, slot) in read where !Self.isWhole(exemplar, slot: slot) {
                    torn.append("\(exemplar) in slot \(slot.map(String.init) ?? "-")")
                }
                reads += 1
            }
            #expect(torn.isEmpty, "seed \(seed): \(torn.prefix(3))")
            #expect(reads > 0)
            let perSlot = histogram.exemplars?.perSlot ?? []
            #expect(perSlot.count == 4 && perSlot.prefix(3).allSatisfy { $0 != nil }, "seed \(seed)")
            #expect(counter.value == histogram.value.sum, "seed \(seed)")
        }
    }

    /// Label, value and timestamp agree (`t<n>`, `s<n>`, n, n + 1), and a histogram's
    /// exemplar is in the bucket of its value.
    static func isWhole(_ exemplar: RecordedExemplar, slot: Int?) -> Bool {
        let n = Int64(exemplar.value)
        let whole =
            exemplar.labels == [Label(name: "trace_id", value: "t\(n)"), Label(name: "span_id", value: "s\(n)")]
            && exemplar.timestampMilliseconds == n + 1
        return whole && (slot.map { HistogramBuckets.index(of: exemplar.value, in: [10, 100, 1000]) == $0 } ?? true)
    }

    @Test func theRecordFunctionsTakeAnExemplar() throws {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        metrics.recordRecordsReceived(sourceID: "kafka-1", count: 100, exemplar: Self.trace("r"))
        metrics.recordRoutingLatency(pipelineID: "p", latencyMs: 12.5, exemplar: Self.trace("l"))
        metrics.recordRetryEvents(stageID: "s", exemplar: Self.trace("x"))
        metrics.recordRoutingLatency(pipelineID: "p", latencyMs: -1, exemplar: Self.trace("neg"))  // rejected
        let snapshot = registry.snapshot()
        let received = try #require(
            snapshot.families.first { $0.name == "conveyor_router_records_received_total" }?.series.first)
        #expect(received.exemplars?.slot(0)?.value == 100)
        let latency = try #require(
            snapshot.families.first { $0.name == "conveyor_router_routing_latency_ms" }?.series.first)
        let kept = try #require(latency.exemplars)
        #expect(kept.all.map(\.value) == [12.5] && kept.slot(5)?.labels.first?.value == "l")  // le="25"
        #expect(registry.rejectedCount(.outOfRange) == 1)
    }
}
