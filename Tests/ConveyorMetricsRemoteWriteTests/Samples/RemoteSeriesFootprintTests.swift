import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

#if canImport(Glibc)
    /// A pushed series is kept once per target for as long as it exists: a field more can
    /// move it from an 80-byte heap block into a 96-byte one.
    @Suite("Remote series footprint")
    struct RemoteSeriesFootprintTests {
        @Test func aRemoteSeriesFitsAnEightyByteBlock() {
            let symbols = SymbolTable()
            // malloc may hand out a slightly larger free block than asked for: the smallest of
            // many is the size the object needs.
            let series = (0..<200).map { index in
                RemoteSeries(
                    labels: [Label(name: "__name__", value: "lat_ms"), Label(name: "id", value: "s\(index)")],
                    type: .histogram, help: "h", nativeHistogram: index % 2 == 0, symbols: symbols)
            }
            let blocks = series.map { heapBlockSize(of: $0) }
            #expect((blocks.min() ?? .max) <= 72, "an 80-byte block: \(blocks.min() ?? 0)")
            #expect(series.filter(\.isNativeHistogram).count == 100)
        }
    }
#endif
