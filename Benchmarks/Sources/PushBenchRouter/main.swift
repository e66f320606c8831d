// A router process for `make bench-push` (Benchmarks/bench_push.py): 13,400 series under a
// fixed update load, pushed by a RemoteWriter or served for a scraper. Public API only.
//
//   PushBenchRouter                               update load only (the idle baseline)
//   PushBenchRouter --push <url> [--disk <dir>]   RemoteWriter, one target, push interval 1 s,
//                                                 default queue settings (memory queue, or a
//                                                 disk queue in <dir> with --disk)
//   PushBenchRouter --serve <port>                MetricsExporter on 127.0.0.1:<port>
//   --rate <n>                                    update rounds per second (default 4)
//   --max-samples-per-send <n>                    the target's max_samples_per_send (default
//                                                 2000, Prometheus'): fewer, larger requests
//   --min-shards <n>                              the target's min_shards (default 1): requests
//                                                 of one snapshot in flight side by side
//
// Series: 100 counter families `bench_counter_NN_total` × 100 values of label `key`
// (10,000 samples), and 10 classic histogram families `bench_latency_N_seconds` × 20 values
// of `key`, 14 finite buckets + `+Inf`, `_sum`, `_count` (10 × 20 × 17 = 3,400 samples):
// 13,400 samples per snapshot. One update round increments every counter series once and
// observes one value into every histogram series; the same load in every mode.
//
// Runs until SIGTERM or SIGINT, then shuts down gracefully (the writer sends its final
// snapshot and stale markers) and prints the writer's status to stderr.
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

let counterFamilies = 100
let counterValues = 100
let histogramFamilies = 10
let histogramValues = 20
/// 14 finite bounds: Prometheus' DefBuckets plus 0.075, 0.75 and 7.5.
let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

struct Options {
    var pushURL: String?
    var diskDirectory: String?
    var servePort: Int?
    var roundsPerSecond = 4
    var maxSamplesPerSend: Int?
    var minShards: Int?

    init(_ arguments: [String]) {
        var rest = arguments[...]
        func value(_ flag: String) -> String {
            guard let next = rest.popFirst() else { fail("\(flag) needs a value") }
            return next
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--push": pushURL = value(flag)
            case "--disk": diskDirectory = value(flag)
            case "--serve":
                guard let port = Int(value(flag)) else { fail("--serve needs a port") }
                servePort = port
            case "--rate":
                guard let rate = Int(value(flag)), rate > 0 else { fail("--rate needs a positive integer") }
                roundsPerSecond = rate
            case "--max-samples-per-send":
                guard let count = Int(value(flag)), count > 0 else { fail("\(flag) needs a positive integer") }
                maxSamplesPerSend = count
            case "--min-shards":
                guard let count = Int(value(flag)), count > 0 else { fail("\(flag) needs a positive integer") }
                minShards = count
            default: fail("unknown argument \(flag)")
            }
        }
        if diskDirectory != nil && pushURL == nil { fail("--disk needs --push") }
        if pushURL != nil && servePort != nil { fail("--push and --serve are separate modes") }
    }
}

func fail(_ message: String) -> Never {
    say(message)
    exit(2)
}

/// One line on stderr (the script keeps it in the router's log).
func say(_ message: String) {
    var line = "PushBenchRouter: " + message + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Every series of the benchmark registry, resolved once.
struct BenchSeries: Sendable {
    let counters: [CounterSeries]
    let histograms: [HistogramSeries]

    init(registry: MetricsRegistry) {
        var counters: [CounterSeries] = []
        for family in 0..<counterFamilies {
            let name = "bench_counter_" + twoDigits(family) + "_total"
            let counterFamily = registry.counterFamily(name: name, help: "Benchmark counter", labelNames: ["key"])
            for value in 0..<counterValues { counters.append(counterFamily.series("k" + twoDigits(value))) }
        }
        var histograms: [HistogramSeries] = []
        for family in 0..<histogramFamilies {
            let histogramFamily = registry.histogramFamily(
                name: "bench_latency_\(family)_seconds", help: "Benchmark histogram", labelNames: ["key"],
                buckets: buckets)
            for value in 0..<histogramValues { histograms.append(histogramFamily.series("k" + twoDigits(value))) }
        }
        self.counters = counters
        self.histograms = histograms
    }
}

func twoDigits(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }

/// The fixed update load on a thread of its own (not the Swift concurrency pool): rounds at
/// absolute deadlines on the monotonic clock, so the load does not depend on the mode.
final class UpdateLoad: Service, Sendable {
    private let series: BenchSeries
    private let roundsPerSecond: Int
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(series: BenchSeries, roundsPerSecond: Int) {
        self.series = series
        self.roundsPerSecond = roundsPerSecond
    }

    func run() async throws {
        let started = startThread { [self] in loop() }
        guard started else { fail("cannot start the update thread") }
        try? await gracefulShutdown()
        stopping.store(true, ordering: .releasing)
        while !stopped.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(5)) }
    }

    private func loop() {
        let period = 1_000_000_000 / roundsPerSecond
        // Observed values walk through every bucket and +Inf.
        let values = buckets.map { $0 * 0.9 } + [12.5]
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        var round = 0
        while !stopping.load(ordering: .acquiring) {
            for counter in series.counters { counter.increment() }
            for (index, histogram) in series.histograms.enumerated() {
                histogram.observe(values[(round &+ index) % values.count])
            }
            round &+= 1
            deadline.tv_nsec += period
            while deadline.tv_nsec >= 1_000_000_000 {
                deadline.tv_nsec -= 1_000_000_000
                deadline.tv_sec += 1
            }
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
        }
        stopped.store(true, ordering: .releasing)
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `body` on a new detached OS thread.
func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread, nil,
        { argument in
            guard let argument else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().run()
            return nil
        }, box)
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        return false
    }
    pthread_detach(thread)
    return true
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
var logger = Logger(label: "push-bench-router")
logger.logLevel = .info
let registry = MetricsRegistry()
let series = BenchSeries(registry: registry)
let load = UpdateLoad(series: series, roundsPerSecond: options.roundsPerSecond)
var services: [any Service] = [load]
var writer: RemoteWriter?
var mode = "idle"

if let url = options.pushURL {
    var target = RemoteWriteTargetConfiguration(url: url)
    target.pushInterval = .seconds(1)
    if let directory = options.diskDirectory { target.queue.storagePath = directory }
    if let count = options.maxSamplesPerSend { target.queue.maxSamplesPerSend = count }
    if let count = options.minShards { target.queue.minShards = count }
    do {
        let pushing = try RemoteWriter(configuration: RemoteWriteConfiguration(targets: [target]), registry: registry)
        writer = pushing
        services.append(pushing)
    } catch {
        fail("remote write configuration: \(error)")
    }
    mode = options.diskDirectory == nil ? "push (memory queue) to \(url)" : "push (disk queue) to \(url)"
} else if let port = options.servePort {
    let exporter = MetricsExporter(
        configuration: MetricsExporter.Configuration(host: "127.0.0.1", port: port), registry: registry)
    try await exporter.start()
    services.append(exporter)
    mode = "serve on 127.0.0.1:\(port)"
}

let samples = series.counters.count + series.histograms.count * (buckets.count + 3)
say(
    "\(series.counters.count + series.histograms.count) series, \(samples) samples, "
        + "\(options.roundsPerSecond) update rounds/s, \(mode), pid \(getpid())")

let group = ServiceGroup(
    configuration: ServiceGroupConfiguration(
        services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
try await group.run()

if let writer {
    for status in writer.statuses {
        say(
            "target \(status.name): \(status.succeededRequests) requests succeeded, "
                + "\(status.failedRequests) failed, \(status.pendingSamples) samples pending, "
                + "last error: \(status.lastError ?? "none")")
    }
}
say("stopped")
