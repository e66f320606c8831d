import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsRemoteWrite

/// Remote write 2.0 against 1.0 for the demo router's registry (75 samples a snapshot).
/// 2.0 carries help, type and start timestamps on every series, which 1.0 sends separately
/// (help) or not at all; on a registry this small that eats most of what the symbols save,
/// so this only holds 2.0 to about the same size (within 10%: the start timestamps' bytes
/// change from run to run; `make bench` shows the ratio; the benchmark registry's is about 0.6×).
@Suite("Demo request size")
struct DemoRequestSizeTests {
    @Test func v2IsAboutTheSizeOfV1Compressed() {
        let registry = MetricsRegistry()
        let simulation = RouterSimulation(metrics: ConveyorRouterMetrics(registry: registry))
        simulation.recordFirstTick()
        let sampler = SnapshotSampler(externalLabels: ["instance": "router-7", "cluster": "edge-eu-1"])
        let chunks = sampler.chunks(from: registry.snapshot(), at: WallClock.unixMilliseconds())
        #expect(chunks.reduce(0) { $0 + $1.count } >= 70, "the demo's metric set, self-metrics included")
        let encoder = RequestEncoder()
        let v1 = encoder.encode(chunks, as: .v1).count
        let v2 = encoder.encode(chunks, as: .v2).count
        #expect(Double(v2) <= 1.1 * Double(v1), "2.0 \(v2) bytes vs 1.0 \(v1) bytes")
    }
}
