import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

#if canImport(Glibc)
    /// What a series costs on the heap: a field more can move a counter from a 112-byte heap
    /// block into a 128-byte one, 1.6 MB more per 100,000 series (it happened once).
    @Suite("Series footprint")
    struct SeriesFootprintTests {
        @Test func countersAndGaugesFitTheirHeapBlocks() {
            let registry = MetricsRegistry()
            // malloc may hand out a slightly larger free block than asked for: the smallest of
            // many is the size the object needs.
            let counters = registry.counterFamily(name: "c_total", help: "c", labelNames: ["id"])
            let gauges = registry.gaugeFamily(name: "g", help: "g", labelNames: ["id"])
            let ids = (0..<200).map { "series-\($0)" }
            let counterBlock = ids.map { heapBlockSize(of: counters.series($0)) }
            let gaugeBlock = ids.map { heapBlockSize(of: gauges.series($0)) }
            #expect((counterBlock.min() ?? .max) <= 104, "a 112-byte block: \(counterBlock.min() ?? 0)")
            #expect((gaugeBlock.min() ?? .max) <= 88, "a 96-byte block: \(gaugeBlock.min() ?? 0)")
            let counter = counters.series("a")
            counter.increment(by: 1, exemplar: Exemplar(["trace_id": "abc"]))
            #expect(counter.exemplars?.latest?.labels == [Label(name: "trace_id", value: "abc")])
        }
    }
#endif
