// Scenarios of the performance issue. Names end in "| ours" or "| peer" so that
// Benchmarks/summarize.py can print one table: scenario, ours, peer, ratio.
import Benchmark
import BenchmarkFixtures
import ConveyorMetrics
@_spi(Benchmarks) import ConveyorMetricsRemoteWrite
import Dispatch
import Prometheus
import Synchronization

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 3,
        scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 10_000)

    recordingBenchmarks()
    renderingBenchmarks()
    diskQueueBenchmarks()
    creationBenchmarks()
    contentionBenchmarks()
}

func recordingBenchmarks() {
    Benchmark("recordRecordsReceived, 100 sourceIDs, 1 thread | ours") { benchmark in
        let metrics = ConveyorRouterMetrics(registry: MetricsRegistry())
        for id in sourceIDs { metrics.recordRecordsReceived(sourceID: id, count: 1) }
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            metrics.recordRecordsReceived(sourceID: sourceIDs[index], count: 1)
            index = index == 99 ? 0 : index &+ 1
        }
        benchmark.stopMeasurement()  // teardown of the fixtures is not measured
    }
    Benchmark("recordRecordsReceived, 100 sourceIDs, 1 thread | peer") { benchmark in
        let registry = PrometheusCollectorRegistry()
        let name = "conveyor_router_records_received_total"
        for id in sourceIDs { _ = registry.makeCounter(name: name, labels: [("source_id", id)]) }
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            registry.makeCounter(name: name, labels: [("source_id", sourceIDs[index])]).increment()
            index = index == 99 ? 0 : index &+ 1
        }
        benchmark.stopMeasurement()
    }
    // Per-op latency with two threads recording at once: each thread does the scaled count.
    Benchmark(
        "recordRecordsReceived, 100 sourceIDs, 2 threads | ours",
        configuration: .init(scalingFactor: .mega, maxDuration: .seconds(3), maxIterations: 30)
    ) { benchmark in
        let metrics = ConveyorRouterMetrics(registry: MetricsRegistry())
        for id in sourceIDs { metrics.recordRecordsReceived(sourceID: id, count: 1) }
        let count = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            var index = thread * 50
            for _ in 0..<count {
                metrics.recordRecordsReceived(sourceID: sourceIDs[index], count: 1)
                index = index == 99 ? 0 : index &+ 1
            }
        }
        benchmark.stopMeasurement()
    }
    Benchmark(
        "recordRecordsReceived, 100 sourceIDs, 2 threads | peer",
        configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 300)
    ) { benchmark in
        let registry = PrometheusCollectorRegistry()
        let name = "conveyor_router_records_received_total"
        for id in sourceIDs { _ = registry.makeCounter(name: name, labels: [("source_id", id)]) }
        let count = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            var index = thread * 50
            for _ in 0..<count {
                registry.makeCounter(name: name, labels: [("source_id", sourceIDs[index])]).increment()
                index = index == 99 ? 0 : index &+ 1
            }
        }
        benchmark.stopMeasurement()
    }
    Benchmark("recordRoutingLatency, 10 pipelines | ours") { benchmark in
        let metrics = ConveyorRouterMetrics(registry: MetricsRegistry())
        for id in pipelineIDs { metrics.recordRoutingLatency(pipelineID: id, latencyMs: 1) }
        var index = 0
        var latency = 0.25
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            metrics.recordRoutingLatency(pipelineID: pipelineIDs[index], latencyMs: latency)
            index = index == 9 ? 0 : index &+ 1
            latency = latency > 9000 ? 0.25 : latency * 1.7
        }
        benchmark.stopMeasurement()
    }
    Benchmark("recordRoutingLatency, 10 pipelines | peer") { benchmark in
        let registry = PrometheusCollectorRegistry()
        let name = "conveyor_router_routing_latency_ms"
        for id in pipelineIDs {
            _ = registry.makeValueHistogram(name: name, labels: [("pipeline_id", id)], buckets: latencyBuckets)
        }
        var index = 0
        var latency = 0.25
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            registry.makeValueHistogram(
                name: name, labels: [("pipeline_id", pipelineIDs[index])], buckets: latencyBuckets
            )
            .record(latency)
            index = index == 9 ? 0 : index &+ 1
            latency = latency > 9000 ? 0.25 : latency * 1.7
        }
        benchmark.stopMeasurement()
    }
    // The "peer" of a resolved handle is a bare relaxed atomic add.
    Benchmark("resolved counter handle vs bare atomic add | ours") { benchmark in
        let counter = MetricsRegistry().counterFamily(name: "c_total", help: "c", labelNames: ["k"]).series("v")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { counter.increment(by: 1 as UInt64) }
        benchmark.stopMeasurement()
    }
    Benchmark("resolved counter handle vs bare atomic add | peer") { benchmark in
        let atomic = AtomicBox()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { atomic.value.wrappingAdd(1, ordering: .relaxed) }
        benchmark.stopMeasurement()
        blackHole(atomic.value.load(ordering: .relaxed))
    }
}

final class AtomicBox: Sendable {
    let value = Atomic<UInt64>(0)
}
