import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics

@Suite("Conveyor metric set")
struct ConveyorRouterMetricsTests {
    @Test func everyRecordFunctionLandsInItsFamily() {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        metrics.recordRecordsReceived(sourceID: "kafka-source-1", count: 100)
        metrics.recordRecordsRouted(pipelineID: "user-analytics", stageID: "filter-stage", count: 95)
        metrics.recordRecordsDelivered(sinkID: "s3", count: 90)
        metrics.recordRoutingLatency(pipelineID: "user-analytics", latencyMs: 15.5)
        metrics.recordBufferUtilization(stageID: "filter-stage", utilization: 0.45)
        metrics.recordActiveServices(serviceType: "source", count: 3)
        metrics.recordRaftState(isLeader: true, term: 42)
        metrics.recordBackpressureEvents(sourceID: "kafka-source-1")
        metrics.recordRetryEvents(stageID: "filter-stage")
        metrics.recordCheckpointSaved(serviceID: "svc-1")
        metrics.recordGroupRebalance(groupID: "g1")
        let snapshot = registry.snapshot()
        func value(_ name: String, _ labels: [String: String] = [:]) -> SeriesValue? {
            snapshot.family(named: name)?.series(labels)?.value
        }
        #expect(value("conveyor_router_records_received_total", ["source_id": "kafka-source-1"]) == .counter(100))
        #expect(
            value(
                "conveyor_router_records_routed_total", ["pipeline_id": "user-analytics", "stage_id": "filter-stage"])
                == .counter(95))
        #expect(value("conveyor_router_records_delivered_total", ["sink_id": "s3"]) == .counter(90))
        guard
            case .histogram(let latency) = value(
                "conveyor_router_routing_latency_ms", ["pipeline_id": "user-analytics"])
        else {
            Issue.record("latency histogram missing")
            return
        }
        #expect(latency.upperBounds == ConveyorRouterMetrics.defaultLatencyBucketsMs)
        #expect(latency.sum == 15.5)
        #expect(latency.cumulativeCounts[4] == 0 && latency.cumulativeCounts[5] == 1, "15.5 ms lands in le=25")
        #expect(value("conveyor_router_buffer_utilization", ["stage_id": "filter-stage"]) == .gauge(0.45))
        #expect(value("conveyor_router_active_services", ["service_type": "source"]) == .gauge(3))
        #expect(value("conveyor_router_raft_is_leader") == .gauge(1))
        #expect(value("conveyor_router_raft_term") == .gauge(42))
        #expect(value("conveyor_router_backpressure_events_total", ["source_id": "kafka-source-1"]) == .counter(1))
        #expect(value("conveyor_router_retry_events_total", ["stage_id": "filter-stage"]) == .counter(1))
        #expect(value("conveyor_router_checkpoints_saved_total", ["service_id": "svc-1"]) == .counter(1))
        #expect(value("conveyor_router_group_rebalances_total", ["group_id": "g1"]) == .counter(1))
        metrics.recordRaftState(isLeader: false, term: 43)
        #expect(registry.snapshot().family(named: "conveyor_router_raft_is_leader")?.series.first?.value == .gauge(0))
    }

    @Test func outOfRangeValuesAreRejectedAndCounted() {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        metrics.recordBufferUtilization(stageID: "s", utilization: 0.5)
        for bad in [-0.1, 1.01, .nan, .infinity] { metrics.recordBufferUtilization(stageID: "s", utilization: bad) }
        for bad in [-1, Double.nan, -Double.infinity] { metrics.recordRoutingLatency(pipelineID: "p", latencyMs: bad) }
        metrics.recordActiveServices(serviceType: "t", count: -1)
        #expect(
            registry.snapshot().family(named: "conveyor_router_buffer_utilization")?.series.first?.value == .gauge(0.5))
        #expect(registry.rejectedCount(.outOfRange) == 6)
        #expect(registry.rejectedCount(.notANumber) == 2)
        #expect(registry.snapshot().family(named: "conveyor_router_routing_latency_ms")?.series.isEmpty == true)
    }

    @Test func customLatencyBucketsAndIdempotentRegistration() {
        let registry = MetricsRegistry()
        let first = ConveyorRouterMetrics(registry: registry, latencyBucketsMs: [1, 10])
        let second = ConveyorRouterMetrics(registry: registry, latencyBucketsMs: [1, 10])
        first.recordRecordsReceived(sourceID: "a", count: 1)
        second.recordRecordsReceived(sourceID: "a", count: 1)
        second.recordRoutingLatency(pipelineID: "p", latencyMs: 5)
        let snapshot = registry.snapshot()
        #expect(snapshot.family(named: "conveyor_router_records_received_total")?.series.first?.value == .counter(2))
        guard case .histogram(let h) = snapshot.family(named: "conveyor_router_routing_latency_ms")?.series.first?.value
        else { return #expect(Bool(false)) }
        #expect(h.upperBounds == [1, 10])
        #expect(registry.rejectedCount(.conflictingRegistration) == 0)
    }

    @Test func freeFunctionsRecordIntoTheDefaultRegistry() {
        let source = "free-function-test-\(UUID().uuidString)"
        recordRecordsReceived(sourceID: source, count: 7)
        recordBackpressureEvents(sourceID: source)
        let snapshot = MetricsRegistry.default.snapshot()
        #expect(
            snapshot.family(named: "conveyor_router_records_received_total")?.series(["source_id": source])?.value
                == .counter(7))
        #expect(
            snapshot.family(named: "conveyor_router_backpressure_events_total")?.series(["source_id": source])?.value
                == .counter(1))
    }

    /// The spec's tables (kept in Fixtures/) against `ConveyorMetric.all`: names, types, labels, HELP.
    @Test func metricSetMatchesTheSpecTables() throws {
        let rows = try MetricSetSpec.metrics()
        #expect(rows.count == 12)
        #expect(Set(rows) == Set(ConveyorMetric.all.map(MetricSetSpec.Row.init)))
        let registry = MetricsRegistry()
        _ = ConveyorRouterMetrics(registry: registry)
        for row in rows {
            let family = registry.snapshot().family(named: row.name)
            #expect(family?.type == row.type, "\(row.name)")
            #expect(family?.help == row.help, "\(row.name)")
        }
    }
}
