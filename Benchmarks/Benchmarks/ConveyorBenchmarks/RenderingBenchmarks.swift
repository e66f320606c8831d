import Benchmark
import BenchmarkFixtures
import ConveyorMetrics
@_spi(Benchmarks) import ConveyorMetricsRemoteWrite
import Foundation
import Prometheus

func renderingBenchmarks() {
    let configuration = Benchmark.Configuration(scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 200)
    Benchmark("render 100×100 counters + 10×100 histograms | ours", configuration: configuration) { benchmark in
        let registry = bigRegistry()
        measureRender(benchmark) { registry.emit(into: &$0) }
    }
    Benchmark("render 100×100 counters + 10×100 histograms | peer", configuration: configuration) { benchmark in
        let registry = bigPeerRegistry()
        measureRender(benchmark) { registry.emit(into: &$0) }
    }
    // The "peer" of encoding is snappy alone on the encoded bytes (target: encode + snappy ≤ 2× that).
    // One sampler across iterations, as a target's flush loop keeps one for its lifetime.
    Benchmark("remote-write encode + snappy of that registry | ours", configuration: configuration) { benchmark in
        measureEncode(benchmark, encodeFixture)
    }
    Benchmark("remote-write encode + snappy of that registry | peer", configuration: configuration) { benchmark in
        let encodedBytes = encodeFixture.support.encode(encodeFixture.snapshot)
        var size = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { size = encodeFixture.support.compressLastRequest() }
        benchmark.stopMeasurement()
        print("remote-write request of that registry: \(encodedBytes) bytes protobuf, \(size) bytes snappy")
    }
    // Remote write 2.0 against 1.0 on the same registry (target: ≤ 1.0's time), and against
    // snappy alone on its own bytes (target: ≤ 2×).
    Benchmark("remote-write 2.0 encode + snappy vs 1.0 | ours", configuration: configuration) { benchmark in
        measureEncode(benchmark, encodeFixtureV2)
    }
    Benchmark("remote-write 2.0 encode + snappy vs 1.0 | peer", configuration: configuration) { benchmark in
        measureEncode(benchmark, encodeFixture)
    }
    Benchmark("remote-write 2.0 encode + snappy vs snappy alone | ours", configuration: configuration) { benchmark in
        measureEncode(benchmark, encodeFixtureV2)
    }
    Benchmark("remote-write 2.0 encode + snappy vs snappy alone | peer", configuration: configuration) { benchmark in
        let v2Bytes = encodeFixtureV2.support.encode(encodeFixtureV2.snapshot)
        var size = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { size = encodeFixtureV2.support.compressLastRequest() }
        benchmark.stopMeasurement()
        let v1Bytes = encodeFixture.support.encode(encodeFixture.snapshot)
        let v1Compressed = encodeFixture.support.compressLastRequest()
        let samples = encodeFixture.samples
        // summarize.py reads these lines (compressed bytes, 2.0 against 1.0) from .bench-sizes.txt.
        let demo = demoRegistry().snapshot()
        let demoV1 = RemoteWriteBenchmarkSupport(version: 1)
        let demoV2 = RemoteWriteBenchmarkSupport(version: 2)
        let demoV1Bytes = demoV1.encode(demo)
        let demoV2Bytes = demoV2.encode(demo)
        let lines = [
            "remote-write bytes per sample, benchmark registry: 1.0 \(v1Bytes) protobuf \(v1Compressed) snappy, "
                + "2.0 \(v2Bytes) protobuf \(size) snappy, \(samples) samples",
            "remote-write bytes per sample, demo registry: 1.0 \(demoV1Bytes) protobuf "
                + "\(demoV1.compressLastRequest()) snappy, 2.0 \(demoV2Bytes) protobuf \(demoV2.compressLastRequest()) snappy",
        ]
        try? (lines.joined(separator: "\n") + "\n").write(toFile: ".bench-sizes.txt", atomically: true, encoding: .utf8)
    }
}

func measureEncode(_ benchmark: Benchmark, _ fixture: EncodeFixture) {
    var size = 0
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        fixture.support.encode(fixture.snapshot)
        size = fixture.support.compressLastRequest()
    }
    benchmark.stopMeasurement()
    blackHole(size)
}

/// The registry's snapshot and a warmed-up encoder (label bytes cached, as after a target's first flush).
struct EncodeFixture {
    let snapshot: MetricsSnapshot
    let support: RemoteWriteBenchmarkSupport
    var samples: Int { 100 * 100 + 10 * 100 * (latencyBuckets.count + 3) }

    init(version: Int = 1) {
        snapshot = bigRegistry().snapshot()
        support = RemoteWriteBenchmarkSupport(version: version)
        support.encode(snapshot)
        _ = support.compressLastRequest()
    }
}

// Benchmarks run one at a time on one thread.
nonisolated(unsafe) let encodeFixture = EncodeFixture()
nonisolated(unsafe) let encodeFixtureV2 = EncodeFixture(version: 2)

/// Renders into one reused buffer per iteration (after one unmeasured render sizes it).
func measureRender(_ benchmark: Benchmark, _ emit: (inout [UInt8]) -> Void) {
    var buffer: [UInt8] = []
    emit(&buffer)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        buffer.removeAll(keepingCapacity: true)
        emit(&buffer)
    }
    benchmark.stopMeasurement()
    blackHole(buffer.count)
}

func creationBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .mallocBytesCount],
        scalingFactor: .one,
        maxDuration: .seconds(10), maxIterations: 5)
    Benchmark("create 100k series of one family | ours", configuration: configuration) { benchmark in
        let labels = (0..<100_000).map { "router-series-\($0)" }
        let registry = MetricsRegistry(
            configuration: {
                var configuration = MetricsRegistry.Configuration()
                configuration.seriesLimitPerFamily = 200_000
                return configuration
            }())
        let family = registry.counterFamily(name: "many_total", help: "Many", labelNames: ["id"])
        benchmark.startMeasurement()
        for label in labels { family.series(label).increment() }
        benchmark.stopMeasurement()
        blackHole(registry)
    }
    // The peer at 10k series only: its creation is O(N²) (the issue measured 5 minutes for 100k).
    Benchmark("create 10k series of one family | ours", configuration: configuration) { benchmark in
        let labels = (0..<10_000).map { "router-series-\($0)" }
        let family = MetricsRegistry().counterFamily(name: "many_total", help: "Many", labelNames: ["id"])
        benchmark.startMeasurement()
        for label in labels { family.series(label).increment() }
        benchmark.stopMeasurement()
        blackHole(family)
    }
    Benchmark("create 10k series of one family | peer", configuration: configuration) { benchmark in
        let labels = (0..<10_000).map { "router-series-\($0)" }
        let registry = PrometheusCollectorRegistry()
        benchmark.startMeasurement()
        for label in labels { registry.makeCounter(name: "many_total", labels: [("id", label)]).increment() }
        benchmark.stopMeasurement()
        blackHole(registry)
    }
}

/// Appends of a demo-sized snapshot's record (router metrics, ~100 samples) to a disk queue;
/// "peer" is the same with fsync after every write.
func diskQueueBenchmarks() {
    let configuration = Benchmark.Configuration(scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 2000)
    for everyWrite in [false, true] {
        Benchmark(
            "disk queue append of a ~100-sample snapshot | \(everyWrite ? "peer" : "ours")",
            configuration: configuration
        ) { benchmark in
            let directory = "/tmp/conveyor-bench-disk-\(everyWrite)-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let registry = MetricsRegistry()
            demoLikeRegistry(registry)
            let support = try DiskQueueBenchmarkSupport(
                directory: directory, registry: registry, fsyncEveryWrite: everyWrite)
            try support.appendSnapshot()  // encoded once; the row measures the disk append
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { try support.appendLastAgain() }
            benchmark.stopMeasurement()
            print(
                "disk queue (\(everyWrite ? "every_write" : "interval")): \(support.bytesPerSample) bytes per sample on disk"
            )
        }
    }
}

/// About what the demo's router records: 4 sources, 3 pipelines, 2 sinks.
func demoLikeRegistry(_ registry: MetricsRegistry) {
    let metrics = ConveyorRouterMetrics(registry: registry)
    for source in 0..<4 {
        metrics.recordRecordsReceived(sourceID: "source-\(source)", count: 10)
        metrics.recordBackpressureEvents(sourceID: "source-\(source)")
    }
    for pipeline in 0..<3 {
        metrics.recordRoutingLatency(pipelineID: "pipeline-\(pipeline)", latencyMs: 3.5)
        for stage in 0..<2 {
            metrics.recordRecordsRouted(pipelineID: "pipeline-\(pipeline)", stageID: "stage-\(stage)", count: 10)
            metrics.recordBufferUtilization(stageID: "stage-\(pipeline)-\(stage)", utilization: 0.4)
        }
    }
    for sink in 0..<2 { metrics.recordRecordsDelivered(sinkID: "sink-\(sink)", count: 10) }
    metrics.recordActiveServices(serviceType: "source", count: 4)
    metrics.recordRaftState(isLeader: true, term: 3)
}
