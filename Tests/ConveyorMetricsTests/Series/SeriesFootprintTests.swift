import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

#if canImport(Glibc)
    import Glibc

    @_silgen_name("malloc_usable_size")
    private func mallocUsableSize(_ pointer: UnsafeMutableRawPointer?) -> Int

    /// What a series costs on the heap: a field more can move a counter from a 112-byte heap
    /// block into a 128-byte one, 1.6 MB more per 100,000 series (it happened once).
    @Suite("Series footprint")
    struct SeriesFootprintTests {
        @Test func countersAndGaugesFitTheirHeapBlocks() {
            let registry = MetricsRegistry()
            let counter = registry.counterFamily(name: "c_total", help: "c", labelNames: ["id"]).series("a")
            let gauge = registry.gaugeFamily(name: "g", help: "g", labelNames: ["id"]).series("a")
            counter.increment(by: 1, exemplar: Exemplar(["trace_id": "abc"]))
            #expect(mallocUsableSize(Unmanaged.passUnretained(counter).toOpaque()) <= 104, "a 112-byte block")
            #expect(mallocUsableSize(Unmanaged.passUnretained(gauge).toOpaque()) <= 88, "a 96-byte block")
            #expect(counter.exemplars?.latest?.labels == [Label(name: "trace_id", value: "abc")])
        }
    }
#endif
