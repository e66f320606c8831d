import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI

/// The demo's simulated router.
@Suite("Router simulation")
struct RouterSimulationTests {
    @Test func firstTickRecordsEveryMetricOfTheSet() {
        let registry = MetricsRegistry()
        var state = SimulationState(seed: 1)
        state.step(ConveyorRouterMetrics(registry: registry), everything: true)
        let snapshot = registry.snapshot()
        #expect(MetricSetSpec.names.count == 12, "the spec fixture lists twelve metrics")
        for name in MetricSetSpec.names {
            #expect(snapshot.family(named: name)?.series.isEmpty == false, "\(name) has a series after one tick")
        }
        #expect(RejectionReason.allCases.allSatisfy { registry.rejectedCount($0) == 0 })
    }

    /// The demo's latency, as the demo records it (classic and native, with trace ids):
    /// OpenMetrics carries an exemplar on its buckets, the spec's text format none, and
    /// native histograms stay out of both.
    @Test func latencyExemplarsAndNativeHistogramsAsTheDemoRecordsThem() {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(
            registry: registry, routingLatencyNative: NativeHistogramOptions(keepClassicBuckets: true))
        var state = SimulationState(seed: 1)
        for _ in 0..<10 { state.step(metrics, everything: false) }
        let openMetrics = registry.exposition(format: .openMetrics).split(separator: "\n")
        let withExemplars = openMetrics.filter {
            $0.hasPrefix("conveyor_router_routing_latency_ms_bucket{") && $0.contains(" # {trace_id=\"")
        }
        #expect(!withExemplars.isEmpty, "buckets carry trace ids")
        #expect(withExemplars.allSatisfy { $0.split(separator: "\"")[5].count == 32 }, "32-digit trace ids")
        let text = registry.exposition(format: .prometheusText)
        #expect(text.contains("conveyor_router_routing_latency_ms_bucket{") && !text.contains(" # {"))
        guard
            case .histogram(let latency) = registry.snapshot().family(named: "conveyor_router_routing_latency_ms")?
                .series.first?.value
        else {
            Issue.record("no latency histogram")
            return
        }
        #expect((latency.native?.count ?? 0) > 0 && latency.native?.count == latency.count)
    }
}
