import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics

/// Churn pushed to a real Prometheus 2.42 (Debian's package, installed by `make test`; with
/// CI=true a missing binary fails): every interval series are added, removed, destroyed and
/// re-created, label values empty and not, and `max_samples_per_send` splits every flush into
/// several requests. Every request must be answered 2xx, and PromQL must return what the
/// test's ledger says: the values of live series, no sample for removed ones (stale markers)
/// and no gap in series that were destroyed and re-created between two flushes.
@Suite("Prometheus churn", .serialized)
struct PrometheusChurnTests {
    static let interval = Duration.milliseconds(250)
    static let intervals = 30
    static let maxSamplesPerSend = 7

    @Test func churnedSeriesReadBackFromPrometheusAsTheLedgerSays() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary)
        defer { server.stop() }
        let registry = MetricsRegistry()
        let snapshots = SnapshotCounter()
        registry.addCollector { snapshots.tick() }
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:\(server.port)/api/v1/write")
        target.name = "churn"
        target.pushInterval = Self.interval
        target.remoteTimeout = .seconds(5)
        target.queue.maxSamplesPerSend = Self.maxSamplesPerSend
        var configuration = RemoteWriteConfiguration(targets: [target])
        configuration.shutdownTimeout = .seconds(3)
        let writer = try RemoteWriter(configuration: configuration, registry: registry)
        let prometheus = PrometheusAPI(server: server)

        // The writer runs until cancelled (its graceful shutdown ends every series with a
        // stale marker, so everything is queried while it still pushes); it is stopped on
        // every path, including a thrown error or the test's cancellation.
        let pushing = Task { try await writer.run() }
        let outcome: Result<Void, any Error>
        do {
            let ledger = try await Self.churn(registry, between: snapshots)
            try await Self.settle(writer, snapshots)
            Self.expectEveryRequestAccepted(registry, writer, when: "while pushing")
            try await Self.verify(ledger, in: prometheus)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        pushing.cancel()
        let stopped: Result<Void, any Error> = await pushing.result
        try outcome.get()
        try stopped.get()

        // Shutdown's final snapshot and stale markers were answered 2xx too, and ended every series.
        Self.expectEveryRequestAccepted(registry, writer, when: "after shutdown")
        let afterShutdown = try await prometheus.query(
            #"{__name__=~"churn_.+"}"#, at: Date().timeIntervalSince1970)
        #expect(afterShutdown.isEmpty, "stale markers end every series at shutdown: \(afterShutdown.keys.sorted())")
    }

    // MARK: Churn

    /// Drives `intervals` intervals of churn on `registry` and returns what Prometheus should hold.
    private static func churn(_ registry: MetricsRegistry, between snapshots: SnapshotCounter) async throws -> Ledger {
        var ledger = Ledger()
        // swift-metrics counters (through the registry's factory, no global bootstrap): workers
        // 0..<5 are destroyed and re-created with the same labels every interval and continue
        // their count; worker 3 alternates between `zone=""` and no `zone` dimension, which
        // remote write sends as the same series.
        func workerDimensions(_ worker: Int, interval: Int) -> [(String, String)] {
            if worker == 3 { return interval % 2 == 0 ? [("worker", "w3"), ("zone", "")] : [("worker", "w3")] }
            return [("worker", "w\(worker)"), ("zone", worker % 3 == 0 ? "" : "z\(worker % 3)")]
        }
        let workerCount = 20
        let recreatedWorkers = 0..<5
        var workers = (0..<workerCount).map {
            registry.makeCounter(label: "churn.requests", dimensions: workerDimensions($0, interval: 0))
        }
        // A swift-metrics meter with an empty label value, destroyed and re-created every interval.
        let inflightSelector = Ledger.selector("churn_inflight", [("pool", "")])
        var inflight = registry.makeMeter(label: "churn.inflight", dimensions: [("pool", "")])
        // The registry's own families: series come and go with `remove`.
        let jobs = registry.counterFamily(name: "churn_jobs_total", help: "Jobs run", labelNames: ["queue", "tenant"])
        let depth = registry.gaugeFamily(name: "churn_queue_depth", help: "Queue depth", labelNames: ["stage"])
        let stages = ["", "parse", "route", "emit"]
        func stageIsLive(_ stage: String, interval: Int) -> Bool {
            switch stage {
            case "route": (0..<10).contains(interval) || (20..<25).contains(interval)
            case "emit": interval >= 15
            default: true
            }
        }

        var seen = snapshots.count
        for tick in 0..<intervals {
            // One step between two of the writer's snapshots, half an interval after one: a
            // step never straddles a snapshot, so a series destroyed and re-created in it is
            // never legitimately missing from one (which would be a real gap).
            seen = try await snapshots.next(after: seen)
            try await Task.sleep(for: interval / 2)
            let now = Date().timeIntervalSince1970
            if tick == 0 { ledger.firstChurn = now }
            ledger.lastChurn = now

            for worker in 0..<workerCount {
                let dimensions = workerDimensions(worker, interval: tick)
                let selector = Ledger.selector("churn_requests_total", dimensions)
                let step = Double(worker + 1)
                if tick > 0 && recreatedWorkers.contains(worker) {
                    // The same labels (as Prometheus sees them), a new registry series that
                    // continues the count: no reset, no gap expected.
                    registry.destroyCounter(workers[worker])
                    workers[worker] = registry.makeCounter(label: "churn.requests", dimensions: dimensions)
                    workers[worker].increment(by: Int64(ledger.live[selector, default: 0] + step))
                    ledger.recreated.insert(selector)
                } else {
                    workers[worker].increment(by: Int64(step))
                }
                ledger.set(selector, ledger.live[selector, default: 0] + step, at: now)
            }

            if tick > 0 {
                registry.destroyMeter(inflight)
                inflight = registry.makeMeter(label: "churn.inflight", dimensions: [("pool", "")])
                ledger.recreated.insert(inflightSelector)
            }
            inflight.set(Double(tick) + 0.25)
            ledger.set(inflightSelector, Double(tick) + 0.25, at: now)

            // Eight job series, each live for six intervals and gone for six, phases shifted;
            // a re-added series starts from zero. Queue 7 has an empty queue label, even
            // queues an empty tenant.
            for slot in 0..<8 {
                let queue = slot == 7 ? "" : "q\(slot)"
                let tenant = slot % 2 == 0 ? "" : "t\(slot)"
                let selector = Ledger.selector("churn_jobs_total", [("queue", queue), ("tenant", tenant)])
                if (tick + slot) / 6 % 2 == 0 {
                    jobs.series(queue, tenant).increment(by: UInt64(slot + 1))
                    ledger.set(selector, ledger.live[selector, default: 0] + Double(slot + 1), at: now)
                } else if ledger.live[selector] != nil {
                    #expect(jobs.remove([queue, tenant]), "\(selector) was in the registry")
                    ledger.remove(selector, at: now)
                }
            }

            for (index, stage) in stages.enumerated() {
                let selector = Ledger.selector("churn_queue_depth", [("stage", stage)])
                if stageIsLive(stage, interval: tick) {
                    let value = Double(tick * 10 + index) + 0.5
                    depth.series(stage).set(value)
                    ledger.set(selector, value, at: now)
                } else if ledger.live[selector] != nil {
                    #expect(depth.remove([stage]), "\(selector) was in the registry")
                    ledger.remove(selector, at: now)
                }
            }
        }
        return ledger
    }

    /// Waits until two snapshots taken after the last churn step have been delivered.
    private static func settle(_ writer: RemoteWriter, _ snapshots: SnapshotCounter) async throws {
        let first = try await snapshots.next(after: snapshots.count)
        _ = try await snapshots.next(after: first)
        for _ in 0..<100 where (writer.statuses.first?.pendingSamples ?? 0) > 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Assertions

    /// The writer's self-metrics (in the pushed registry): every request answered 2xx,
    /// nothing failed, retried or dropped.
    private static func expectEveryRequestAccepted(_ registry: MetricsRegistry, _ writer: RemoteWriter, when: String) {
        let snapshot = registry.snapshot()
        let lastError = writer.statuses.first?.lastError ?? "none"
        let requests = snapshot.family(named: "conveyor_metrics_remote_write_requests_total")?.series ?? []
        #expect(!requests.isEmpty, "\(when): the writer counts its requests")
        var accepted = 0.0
        var refused: [String: Double] = [:]
        for series in requests {
            let code = series.labels.first { $0.name == "code" }?.value ?? "?"
            let count = series.value.scalar ?? 0
            if code.count == 3 && code.hasPrefix("2") {
                accepted += count
            } else if count > 0 {
                refused[code] = count
            }
        }
        #expect(accepted > 0, "\(when): requests were answered 2xx")
        #expect(
            refused.isEmpty,
            "\(when): requests answered other than 2xx, by code: \(refused) (\(accepted) 2xx); last error: \(lastError)"
        )
        for name in [
            "conveyor_metrics_remote_write_samples_failed_total", "conveyor_metrics_remote_write_samples_retried_total",
        ] {
            let series = snapshot.family(named: name)?.series ?? []
            #expect(series.count == 1, "\(when): \(name) has the target's series")
            for item in series {
                #expect(item.value.scalar == 0, "\(when): \(name) = \(item.value); last error: \(lastError)")
            }
        }
        let dropped = snapshot.family(named: "conveyor_metrics_remote_write_samples_dropped_total")?.series ?? []
        #expect(!dropped.isEmpty, "\(when): drop reasons are registered")
        for item in dropped {
            #expect(item.value.scalar == 0, "\(when): samples dropped \(item.labels): \(item.value)")
        }
    }

    /// PromQL against the ledger, queried while the writer still pushes.
    private static func verify(_ ledger: Ledger, in prometheus: PrometheusAPI) async throws {
        let step = interval.seconds

        // (1) Right now: exactly the live series, each with the ledger's value.
        let now = Date().timeIntervalSince1970
        let stored = try await prometheus.query(#"{__name__=~"churn_.+"}"#, at: now)
        #expect(!ledger.live.isEmpty)
        for (selector, value) in ledger.live.sorted(by: { $0.key < $1.key }) {
            #expect(
                stored[selector] == value,
                "\(selector): Prometheus has \(stored[selector].map { "\($0)" } ?? "no sample")")
        }
        let unexpected = Set(stored.keys).subtracting(ledger.live.keys)
        #expect(unexpected.isEmpty, "series Prometheus returns that are not live: \(unexpected.sorted())")
        #expect(!ledger.gone.isEmpty, "the churn leaves some series removed")
        for selector in ledger.gone.sorted() {
            #expect(stored[selector] == nil, "\(selector) was removed, still returns \(stored[selector] ?? .nan)")
        }

        // (2) Series removed after being pushed for a while: a sample just before the removal,
        // and a gap (a stale marker) after it, before it came back. Where in the window the gap
        // starts depends on when the next flush ran, which a loaded machine delays: any point
        // of the window without a value counts.
        let removals = ledger.removals.filter {
            $0.removedAt - $0.liveSince >= 3 * step && min($0.returnedAt ?? now, now) - $0.removedAt >= 4 * step
        }
        #expect(removals.count >= 5, "removals to check: \(removals.count) of \(ledger.removals.count)")
        for removal in removals {
            let before = try await prometheus.query(removal.series, at: removal.removedAt - 0.2 * step)
            #expect(before[removal.series] != nil, "\(removal.series) had a sample before its removal")
            let resolution = 0.05
            let start = removal.removedAt + resolution
            let end = min(removal.returnedAt ?? now, now) - resolution
            let points = try await prometheus.queryRange(removal.series, start: start, end: end, step: resolution)
            let window = Int(((end - start) / resolution).rounded(.down)) + 1
            #expect(
                points.count < window,
                "\(removal.series) removed at \(removal.removedAt): a value at every point until \(end)")
        }

        // (3) Destroyed and re-created between flushes: a value at every step, no gap.
        #expect(ledger.recreated.count == 6)
        let start = ((ledger.firstChurn + 2 * step) * 1000).rounded() / 1000
        let end = (ledger.lastChurn * 1000).rounded() / 1000
        let resolution = 0.1
        let expectedPoints = Int(((end - start) / resolution).rounded(.down)) + 1
        for selector in ledger.recreated.sorted() {
            let points = try await prometheus.queryRange(selector, start: start, end: end, step: resolution)
            let missing = (0..<expectedPoints).map { start + Double($0) * resolution }.filter { time in
                !points.contains { abs($0 - time) < resolution / 10 }
            }
            #expect(
                points.count == expectedPoints && missing.isEmpty,
                "\(selector): \(points.count) of \(expectedPoints) steps have a value; gaps at \(missing.prefix(5))")
        }
    }
}

/// Counts the registry's snapshots (a collector runs right before each): the writer takes one
/// per push interval.
private final class SnapshotCounter: Sendable {
    private let taken = Atomic<Int>(0)

    var count: Int { taken.load(ordering: .acquiring) }

    func tick() { taken.add(1, ordering: .releasing) }

    /// Waits (up to 5 s) until a snapshot after the `seen`th was taken; returns the count.
    func next(after seen: Int) async throws -> Int {
        for _ in 0..<2500 {
            let current = count
            if current > seen { return current }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestFailure("the writer took no snapshot for 5 s")
    }
}

/// What Prometheus should hold, by series as Prometheus sees it (empty label values dropped).
private struct Ledger {
    struct Removal {
        let series: String
        let liveSince: Double
        let removedAt: Double
        var returnedAt: Double?
    }

    /// Live series and the value each should have.
    var live: [String: Double] = [:]
    /// Series that were pushed and are removed now.
    var gone: Set<String> = []
    /// Every removal, in wall-clock seconds.
    var removals: [Removal] = []
    /// Series destroyed and re-created (same labels) every interval.
    var recreated: Set<String> = []
    var liveSince: [String: Double] = [:]
    var firstChurn = 0.0
    var lastChurn = 0.0

    mutating func set(_ series: String, _ value: Double, at now: Double) {
        if live[series] == nil {
            liveSince[series] = now
            gone.remove(series)
            if let index = removals.lastIndex(where: { $0.series == series }) { removals[index].returnedAt = now }
        }
        live[series] = value
    }

    mutating func remove(_ series: String, at now: Double) {
        live[series] = nil
        gone.insert(series)
        removals.append(Removal(series: series, liveSince: liveSince[series] ?? now, removedAt: now))
    }

    /// `name{a="1",b="2"}`: labels sorted, empty values dropped (as remote write sends them).
    /// Also a PromQL selector for that series (the test's label values need no escaping).
    static func selector(_ name: String, _ labels: [(String, String)]) -> String {
        let kept = labels.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        return name + "{" + kept.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }
}

/// Prometheus' HTTP query API; results keyed by `Ledger.selector` of the returned labels.
private struct PrometheusAPI {
    let server: ExternalServer

    /// An instant query at `time` (Unix seconds): series → value.
    func query(_ promql: String, at time: Double) async throws -> [String: Double] {
        let data = try await result(
            "/api/v1/query?query=\(promql.queryEncoded)&time=\(String(format: "%.3f", time))")
        var values: [String: Double] = [:]
        for item in data {
            let sample = item["value"] as? [Any] ?? []
            guard sample.count == 2, let text = sample[1] as? String, let value = Double(text) else {
                throw TestFailure("unexpected sample \(item)")
            }
            values[try Self.series(item)] = value
        }
        return values
    }

    /// The times (Unix seconds) at which the series `selector` names exactly has a value.
    func queryRange(_ selector: String, start: Double, end: Double, step: Double) async throws -> [Double] {
        let data = try await result(
            "/api/v1/query_range?query=\(selector.queryEncoded)&start=\(String(format: "%.3f", start))"
                + "&end=\(String(format: "%.3f", end))&step=\(step)")
        var times: [Double] = []
        for item in data {
            guard try Self.series(item) == selector else { continue }
            for point in item["values"] as? [[Any]] ?? [] {
                guard let time = (point.first as? NSNumber)?.doubleValue else {
                    throw TestFailure("unexpected point \(point)")
                }
                times.append(time)
            }
        }
        return times
    }

    private func result(_ pathAndQuery: String) async throws -> [[String: Any]] {
        let response = try await server.get(pathAndQuery)
        guard response.status == 200,
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else {
            throw TestFailure("\(pathAndQuery): HTTP \(response.status): \(response.text.prefix(500))")
        }
        return result
    }

    private static func series(_ item: [String: Any]) throws -> String {
        guard var labels = item["metric"] as? [String: String], let name = labels.removeValue(forKey: "__name__")
        else { throw TestFailure("no metric name in \(item)") }
        return Ledger.selector(name, labels.map { ($0.key, $0.value) })
    }
}
