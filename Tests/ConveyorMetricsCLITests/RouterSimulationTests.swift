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
}
