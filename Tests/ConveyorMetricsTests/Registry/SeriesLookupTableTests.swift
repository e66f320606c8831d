import ConveyorMetricsTestSupport
import Synchronization
import Testing

@testable import ConveyorMetrics

@Suite("Series lookup table")
struct SeriesLookupTableTests {
    private func family(limit: Int = 1_000_000) -> MetricFamily<CounterSeries> {
        MetricFamily<CounterSeries>(
            descriptor: FamilyDescriptor(name: "t_total", help: "t", unit: "", type: .counter, labelNames: ["id"]),
            configuration: (), seriesLimit: limit, maxLabelValueBytes: 4096, rejections: nil)
    }

    @Test func growsThroughManyInsertsAndFindsEverySeries() {
        let family = family()
        for id in 0..<20_000 { family.withSeries(.one("series-\(id)")) { $0.increment(by: UInt64(id)) } }
        #expect(family.seriesCount == 20_000)
        for id in stride(from: 0, to: 20_000, by: 97) {
            #expect(family.withSeries(.one("series-\(id)")) { $0.integerValue } == UInt64(id))
        }
        #expect(family.snapshot().series.count == 20_000)
    }

    @Test func removalLeavesATombstoneThatLookupsSkip() {
        let family = family()
        for id in 0..<100 { family.withSeries(.one("\(id)")) { $0.increment() } }
        #expect(family.remove(.one("50")))
        #expect(!family.remove(.one("50")))
        #expect(family.seriesCount == 99)
        for id in 51..<100 {
            #expect(family.withSeries(.one("\(id)")) { $0.integerValue } == 1, "probe continues past the tombstone")
        }
        #expect(family.withSeries(.one("50")) { $0.integerValue } == 0, "a removed series starts again from zero")
        #expect(family.seriesCount == 100)
    }

    @Test func concurrentCreationYieldsOneSeriesPerKeyWhileReadersProbe() async {
        let family = family()
        let threads = 8
        let keys = 2_000
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    // Every task walks all keys from a different start: creates race with lookups and growth.
                    for step in 0..<keys {
                        let id = (step + thread * 250) % keys
                        family.withSeries(.one("k\(id)")) { $0.increment() }
                    }
                }
            }
        }
        #expect(family.seriesCount == keys)
        let total = family.snapshot().series.compactMap(\.value.scalar).reduce(0, +)
        #expect(total == Double(threads * keys), "no increment went to a duplicate or lost series")
    }

    @Test func twoValueAndManyValueKeysHashAndCompareByAllValues() {
        #expect(LabelValuesKey.two("a", "b").lookupHash != LabelValuesKey.two("b", "a").lookupHash)
        #expect(LabelValuesKey.two("ab", "").lookupHash != LabelValuesKey.two("a", "b").lookupHash)
        #expect(LabelValuesKey.one("x").lookupHash == LabelValuesKey.one("x").lookupHash)
        let long = String(repeating: "é", count: 300)
        #expect(LabelValuesKey.one(long).lookupHash == LabelValuesKey.one(String(long)).lookupHash)
        #expect(LabelValuesKey.many(["a", "b", "c"]) != LabelValuesKey.many(["a", "b", "d"]))
    }
}
