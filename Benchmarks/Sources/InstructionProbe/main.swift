// Instruction counts that hold on a noisy machine: `make bench` runs this under
// `valgrind --tool=callgrind` twice per operation, with two iteration counts, and divides the
// difference in instructions by the difference in iterations, so set-up cancels out.
//
//   InstructionProbe <operation> <iterations>
//
// Operations mirror the time benchmarks (same fixtures), ours and the peer's where one exists.
import BenchmarkFixtures
import ConveyorMetrics
@_spi(Benchmarks) import ConveyorMetricsRemoteWrite
import Prometheus

#if canImport(Glibc)
    import Glibc
#endif

@inline(never)
func keep<T>(_ value: T) { withExtendedLifetime(value) {} }

/// Renders `iterations` times into one reused buffer (after one render that sizes it).
func render(_ iterations: Int, _ emit: (inout [UInt8]) -> Void) {
    var buffer: [UInt8] = []
    emit(&buffer)
    for _ in 0..<iterations {
        buffer.removeAll(keepingCapacity: true)
        emit(&buffer)
    }
    keep(buffer.count)
}

/// `iterations` observations of routing latencies (1,024 log-normal values around 12 ms,
/// cycled) into one series of a `conveyor_router_routing_latency_ms`-like family: classic,
/// native (the default options) or both.
func observe(_ iterations: Int, native: NativeHistogramOptions?, exemplar: Exemplar? = nil) {
    let family = MetricsRegistry().histogramFamily(
        name: "latency_ms", help: "Latency", labelNames: ["pipeline_id"], buckets: latencyBuckets, native: native)
    let series = family.series("user-analytics")
    var state: UInt64 = 42
    let values = (0..<1024).map { _ -> Double in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return 12 * exp(2 * (Double(state >> 11) * 0x1p-53 - 0.5))
    }
    for value in values { series.observe(value) }
    if let exemplar {
        for index in 0..<iterations { series.observe(values[index & 1023], exemplar: exemplar) }
    } else {
        for index in 0..<iterations { series.observe(values[index & 1023]) }
    }
    keep(series.value.count)
}

/// The exemplar the `…-exemplar` operations record: a trace id, its timestamp given.
let traceExemplar = Exemplar(["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"], timestampMilliseconds: 1_520_879_607_789)

let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]), iterations >= 0 else {
    print("usage: InstructionProbe <operation> <iterations>")
    exit(2)
}
switch arguments[1] {
case "record-ours":
    let metrics = ConveyorRouterMetrics(registry: MetricsRegistry())
    for id in sourceIDs { metrics.recordRecordsReceived(sourceID: id, count: 1) }
    for index in 0..<iterations { metrics.recordRecordsReceived(sourceID: sourceIDs[index % 100], count: 1) }
case "record-peer":
    let registry = PrometheusCollectorRegistry()
    let name = "conveyor_router_records_received_total"
    for id in sourceIDs { _ = registry.makeCounter(name: name, labels: [("source_id", id)]) }
    for index in 0..<iterations {
        registry.makeCounter(name: name, labels: [("source_id", sourceIDs[index % 100])]).increment()
    }
case "render-ours":
    let registry = bigRegistry()
    render(iterations) { registry.emit(into: &$0) }
case "render-peer":
    let registry = bigPeerRegistry()
    render(iterations) { registry.emit(into: &$0) }
case "encode-snappy-v1", "encode-snappy-v2":
    // One flush's request: snapshot → samples → protobuf → snappy (the snapshot taken once).
    let snapshot = bigRegistry().snapshot()
    let support = RemoteWriteBenchmarkSupport(version: arguments[1].hasSuffix("v2") ? 2 : 1)
    support.encode(snapshot)
    _ = support.compressLastRequest()
    for _ in 0..<iterations {
        support.encode(snapshot)
        keep(support.compressLastRequest())
    }
case "snappy-v1", "snappy-v2":
    let support = RemoteWriteBenchmarkSupport(version: arguments[1].hasSuffix("v2") ? 2 : 1)
    support.encode(bigRegistry().snapshot())
    for _ in 0..<iterations { keep(support.compressLastRequest()) }
case "observe-classic":
    observe(iterations, native: nil)
case "observe-native":
    observe(iterations, native: NativeHistogramOptions())
case "observe-both":
    observe(iterations, native: NativeHistogramOptions(keepClassicBuckets: true))
case "observe-classic-exemplar":
    // Every observation with an exemplar (a trace id and its timestamp given).
    observe(iterations, native: nil, exemplar: traceExemplar)
case "record-exemplar":
    let metrics = ConveyorRouterMetrics(registry: MetricsRegistry())
    for id in sourceIDs { metrics.recordRecordsReceived(sourceID: id, count: 1) }
    for index in 0..<iterations {
        metrics.recordRecordsReceived(sourceID: sourceIDs[index % 100], count: 1, exemplar: traceExemplar)
    }
case "flush", "flush-snapshot":
    // A whole flush of the registry as a target makes it: samples read straight from the
    // registry (its series unchanged), request bytes, snappy; "flush-snapshot" through a
    // snapshot, as every flush did before.
    let registry = bigRegistry()
    let support = RemoteWriteBenchmarkSupport(version: 1)
    let viaSnapshot = arguments[1] == "flush-snapshot"
    support.encode(registry.snapshot())
    for _ in 0..<iterations {
        if viaSnapshot { support.encode(registry.snapshot()) } else { support.encode(reading: registry) }
        keep(support.compressLastRequest())
    }
    if !viaSnapshot && support.registryReads != iterations {
        print("flush read the registry straight \(support.registryReads) of \(iterations) times")
        exit(1)
    }
default:
    print("unknown operation \(arguments[1])")
    exit(2)
}
