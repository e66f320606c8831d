import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Records through the Conveyor metric set and a family of its own, renders the text
// exposition, and exits non-zero when something expected is missing.
let registry = MetricsRegistry()
let router = ConveyorRouterMetrics(registry: registry)
router.recordRecordsReceived(sourceID: "kafka-source-1", count: 100)
router.recordRoutingLatency(pipelineID: "user-analytics", latencyMs: 15.5)
registry.counterFamily(name: "core_only_total", help: "Recorded by a core-only consumer").series().increment()
registry.registerProcessMetrics()

let text = registry.exposition()
let expected = [
    "conveyor_router_records_received_total{source_id=\"kafka-source-1\"} 100\n",
    "conveyor_router_routing_latency_ms_count{pipeline_id=\"user-analytics\"} 1\n",
    "core_only_total 1\n",
]
let missing = expected.filter { !text.contains($0) }
if missing.isEmpty {
    print("core-only consumer: \(registry.snapshot().seriesCount) series rendered without NIO or C libraries")
} else {
    print("core-only consumer: missing from the exposition: \(missing)")
    exit(1)
}
