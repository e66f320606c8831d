// The registries and label values every benchmark executable measures, in one place.
import ConveyorMetrics
import Prometheus

public let sourceIDs = (0..<100).map { "kafka-source-\($0)" }
public let pipelineIDs = (0..<10).map { "pipeline-\($0)" }
public let latencyBuckets = ConveyorRouterMetrics.defaultLatencyBucketsMs

/// 100 counter families × 100 label values + 10 histogram families × 100 label values.
public func bigRegistry() -> MetricsRegistry {
    let registry = MetricsRegistry()
    for family in 0..<100 {
        let counter = registry.counterFamily(
            name: "counter_\(family)_total", help: "Counter \(family)", labelNames: ["id"])
        for value in 0..<100 { counter.series("value-\(value)").increment(by: UInt64(value)) }
    }
    for family in 0..<10 {
        let histogram = registry.histogramFamily(
            name: "histogram_\(family)_ms", help: "Histogram \(family)", labelNames: ["id"], buckets: latencyBuckets)
        for value in 0..<100 { histogram.series("value-\(value)").observe(Double(value)) }
    }
    return registry
}

public func bigPeerRegistry() -> PrometheusCollectorRegistry {
    let registry = PrometheusCollectorRegistry()
    for family in 0..<100 {
        for value in 0..<100 {
            registry.makeCounter(
                name: "counter_\(family)_total", labels: [("id", "value-\(value)")], help: "Counter \(family)"
            )
            .increment(by: Int64(value))
        }
    }
    for family in 0..<10 {
        for value in 0..<100 {
            registry.makeValueHistogram(
                name: "histogram_\(family)_ms", labels: [("id", "value-\(value)")], buckets: latencyBuckets,
                help: "Histogram \(family)"
            ).record(Double(value))
        }
    }
    return registry
}

/// The demo router's registry: the Conveyor metric set as `conveyor-metrics demo` records it
/// on its first tick (3 sources, 2 pipelines, 4 stages, 3 sinks; about 75 samples).
public func demoRegistry() -> MetricsRegistry {
    let registry = MetricsRegistry()
    let metrics = ConveyorRouterMetrics(registry: registry)
    for source in ["file-source-1", "http-source-1", "kafka-source-1"] {
        metrics.recordRecordsReceived(sourceID: source, count: 73)
        metrics.recordBackpressureEvents(sourceID: source)
    }
    for (pipeline, stages) in [
        ("billing", ["parse-stage", "aggregate-stage"]),
        ("user-analytics", ["parse-stage", "filter-stage", "enrich-stage"]),
    ] {
        for stage in stages { metrics.recordRecordsRouted(pipelineID: pipeline, stageID: stage, count: 120) }
        metrics.recordRoutingLatency(pipelineID: pipeline, latencyMs: 3.7)
    }
    for stage in ["parse-stage", "filter-stage", "enrich-stage", "aggregate-stage"] {
        metrics.recordBufferUtilization(stageID: stage, utilization: 0.7016)
        metrics.recordRetryEvents(stageID: stage)
    }
    for sink in ["clickhouse-sink", "kafka-sink", "s3-sink"] {
        metrics.recordRecordsDelivered(sinkID: sink, count: 111)
    }
    return registry
}
