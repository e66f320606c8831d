import Benchmark
import BenchmarkFixtures
import ConveyorMetrics
@_spi(Benchmarks) import ConveyorMetricsRemoteWrite
import Dispatch
import Foundation
import Synchronization

/// One registry (the 100×100 + 10×100 one plus the router's families) shared by both rows.
let contentionRegistry = bigRegistry()
let contentionMetrics: ConveyorRouterMetrics = {
    let metrics = ConveyorRouterMetrics(registry: contentionRegistry)
    for id in sourceIDs { metrics.recordRecordsReceived(sourceID: id, count: 1) }
    return metrics
}()

/// A thread that scrapes (renders) and flushes (remote-write encode + snappy) the registry
/// without pause, from setup to teardown of the loaded row.
final class BackgroundLoad: Sendable {
    static let shared = BackgroundLoad()
    private let running = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    let rounds = Atomic<Int>(0)

    func start() {
        running.store(true, ordering: .relaxed)
        Thread.detach { [self] in
            let support = RemoteWriteBenchmarkSupport()
            var buffer: [UInt8] = []
            while running.load(ordering: .relaxed) {
                buffer.removeAll(keepingCapacity: true)
                contentionRegistry.emit(into: &buffer)
                support.encode(contentionRegistry.snapshot())
                _ = support.compressLastRequest()
                rounds.wrappingAdd(1, ordering: .relaxed)
            }
            stopped.signal()
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        stopped.wait()
    }
}

/// Recording latency per 1,000 records (p99 compared) idle ("peer" row) and while another
/// thread scrapes and flushes the same registry continuously ("ours" row).
func contentionBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock], scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 50_000)
    Benchmark("record p99 while scrape + flush run | peer", configuration: configuration, closure: recordRound)
    Benchmark(
        "record p99 while scrape + flush run | ours", configuration: configuration, closure: recordRound,
        setup: {
            _ = contentionMetrics
            BackgroundLoad.shared.start()
        },
        teardown: {
            BackgroundLoad.shared.stop()
            print(
                "background scrape+flush rounds during the loaded row: \(BackgroundLoad.shared.rounds.load(ordering: .relaxed))"
            )
        })
}

extension Thread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread { body() }
        thread.start()
    }
}

/// One measured round of recording into the shared registry, round robin over the sources.
func recordRound(_ benchmark: Benchmark) {
    var index = 0
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        contentionMetrics.recordRecordsReceived(sourceID: sourceIDs[index], count: 1)
        index = index == 99 ? 0 : index &+ 1
    }
    benchmark.stopMeasurement()
}
