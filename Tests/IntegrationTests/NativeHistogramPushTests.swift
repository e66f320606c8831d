import ConveyorMetricsTestSupport
import Foundation
import Logging
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// Native histograms pushed to real Prometheus 2.42 (remote write 1.0 with histograms).
/// With `--enable-feature=native-histograms` Prometheus' own functions read them back: count
/// and sum exact, quantiles within the schema's bucket width of the true quantiles. Without
/// the feature Prometheus answers 500 to the first request: every float sample still
/// arrives, and the histograms go as classic buckets from then on. With CI=true a missing
/// binary fails.
@Suite("Native histograms pushed to Prometheus 2.42", .serialized)
struct NativeHistogramPushTests {
    /// 100,000 log-normal observations (median e^3 ≈ 20 ms), the same on every run.
    static let observations: [Double] = {
        var random = SplitMix64(seed: 2026)
        return (0..<100_000).map { _ in
            let u1 = max(Double(random.next() >> 11) / Double(1 << 53), 1e-300)
            let u2 = Double(random.next() >> 11) / Double(1 << 53)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return exp(3 + 0.8 * z)
        }
    }()

    /// Pushes a counter and an empty histogram at once, then the histogram with the
    /// observations (so that `rate` over a minute sees exactly them), every second for a
    /// little over two seconds, then shuts down (stale markers); returns the registry, a time
    /// (s) at which the histogram's latest sample is live, and one after the shutdown.
    private func push(to url: String) async throws -> (registry: MetricsRegistry, at: Double, stopped: Double) {
        let registry = MetricsRegistry()
        let latency = registry.histogramFamily(
            name: "pushed_latency_ms", help: "Latency", buckets: [], native: NativeHistogramOptions()
        ).series()
        registry.counterFamily(name: "pushed_jobs_total", help: "Jobs").series().increment(by: 7 as UInt64)
        var target = RemoteWriteTargetConfiguration(url: url)
        target.name = "native"
        target.pushInterval = .seconds(1)
        target.sendNativeHistograms = true
        let writer = try RemoteWriter(
            configuration: RemoteWriteConfiguration(targets: [target], externalLabels: ["instance": "native"]),
            registry: registry, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await writer.run() }
        // The first snapshot (an empty histogram) delivered, then the observations, then a
        // snapshot taken after them delivered: waited for, not timed (a loaded machine is slow).
        func delivered(after seconds: Double) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let last =
                    registry.snapshot().family(named: "conveyor_metrics_remote_write_last_success_timestamp_seconds")?
                    .series.first?.value.scalar ?? 0
                if last > seconds { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("nothing delivered after \(seconds)")
        }
        try await delivered(after: 0)
        await HeavyTestWork.run { for value in Self.observations { latency.observe(value) } }
        let observed = Double(WallClock.unixMilliseconds()) / 1000
        try await delivered(after: observed + 1)  // a snapshot taken after the observations
        let live = Double(WallClock.unixMilliseconds()) / 1000
        task.cancel()
        try await task.value
        return (registry, live, Double(WallClock.unixMilliseconds()) / 1000)
    }

    private func query(_ server: ExternalServer, _ expression: String, at time: Double) async throws -> Double? {
        let response = try await server.get("/api/v1/query?query=\(expression.queryEncoded)&time=\(time)")
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        guard let value = result.first?["value"] as? [Any], let text = value.last as? String else { return nil }
        return Double(text)
    }

    @Test func prometheusWithNativeHistogramsReadsCountSumAndQuantiles() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary, features: ["native-histograms"])
        defer { server.stop() }
        let (registry, live, stopped) = try await push(to: "http://127.0.0.1:\(server.port)/api/v1/write")
        let native = try #require(
            registry.snapshot().family(named: "pushed_latency_ms")?.series.first.flatMap {
                if case .histogram(let value) = $0.value { return value.native }
                return nil
            })
        let refused = registry.snapshot().family(named: "conveyor_metrics_remote_write_native_histograms_refused_total")
        #expect(refused?.series.first?.value.scalar == 0)
        #expect(try await query(server, "histogram_count(pushed_latency_ms)", at: live) == 100_000)
        let sum = try #require(try await query(server, "histogram_sum(pushed_latency_ms)", at: live))
        let trueSum = Self.observations.reduce(0, +)
        #expect(abs(sum - trueSum) <= trueSum * 1e-9, "sum \(sum) vs \(trueSum)")
        #expect(try await query(server, "pushed_jobs_total", at: live) == 7)
        // A quantile lands in the bucket of the true quantile: within its width.
        let growth = pow(2, pow(2, -Double(native.schema)))
        let sorted = Self.observations.sorted()
        var errors: [String] = []
        for q in [0.5, 0.9, 0.99] {
            let estimate = try #require(
                try await query(server, "histogram_quantile(\(q), rate(pushed_latency_ms[1m]))", at: live))
            let truth = sorted[Int(q * Double(sorted.count)) - 1]
            let relative = abs(estimate - truth) / truth
            errors.append("q\(q): \(estimate) vs \(truth) (\(relative))")
            #expect(relative <= growth - 1, "schema \(native.schema): \(errors.last ?? "")")
        }
        #expect(errors.count == 3)
        // The shutdown's stale markers are accepted and end the series (that the histogram's
        // is a histogram, not a float, the sampler's tests and the VictoriaMetrics test show).
        #expect(try await query(server, "histogram_count(pushed_latency_ms)", at: stopped + 1) == nil, "stale")
        #expect(try await query(server, "pushed_jobs_total", at: stopped + 1) == nil, "stale")
        let failed = registry.snapshot().family(named: "conveyor_metrics_remote_write_samples_failed_total")
        #expect(failed?.series.first?.value.scalar == 0, "the stale markers were accepted")
        print("native histogram quantiles, schema \(native.schema) (bound \(growth - 1)): \(errors)")
    }

    /// VictoriaMetrics 1.79 predates native histograms: it answers 204, stores the floats and
    /// drops the histograms without a word (so the target cannot tell, and keeps sending them).
    /// The histogram's stale marker at shutdown is a histogram too, so nothing of it is kept
    /// (a float one left a series of NaN under the histogram's name).
    @Test func victoriaMetrics179DropsNativeHistogramsSilently() async throws {
        guard let binary = ExternalTool.require("victoria-metrics") else { return }
        let server = try await ExternalServer(binary: binary, readyPath: "/health") { port, directory in
            ["-storageDataPath=\(directory.path)", "-httpListenAddr=127.0.0.1:\(port)", "-loggerLevel=ERROR"]
        }
        defer { server.stop() }
        let (registry, _, _) = try await push(to: "http://127.0.0.1:\(server.port)/api/v1/write")
        let snapshot = registry.snapshot()
        let refused = snapshot.family(named: "conveyor_metrics_remote_write_native_histograms_refused_total")
        #expect(refused?.series.first?.value.scalar == 0, "no refusal to see")
        let failed = snapshot.family(named: "conveyor_metrics_remote_write_samples_failed_total")?.series.first
        #expect(failed?.value.scalar == 0)
        _ = try await server.get("/internal/force_flush")
        let jobs = try await server.get("/api/v1/export?\("match[]".queryEncoded)=\("pushed_jobs_total".queryEncoded)")
        #expect(jobs.text.contains("\"values\":[7"), "the floats arrived: \(jobs.text.prefix(300))")
        let latency = try await server.get(
            "/api/v1/export?\("match[]".queryEncoded)=\("{__name__=~\"pushed_latency_ms.*\"}".queryEncoded)")
        #expect(
            latency.status == 200 && latency.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
            "nothing of the histogram: \(latency.text.prefix(300))")
    }

    @Test func prometheusWithoutTheFeatureGetsEveryFloatAndClassicBuckets() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary)
        defer { server.stop() }
        let (registry, live, _) = try await push(to: "http://127.0.0.1:\(server.port)/api/v1/write")
        let snapshot = registry.snapshot()
        let refused = snapshot.family(named: "conveyor_metrics_remote_write_native_histograms_refused_total")
        #expect(refused?.series.first?.value.scalar == 1, "refused once, at the first request")
        let failed = snapshot.family(named: "conveyor_metrics_remote_write_samples_failed_total")?.series.first
        #expect(failed?.value.scalar == 0, "nothing else refused or retried away")
        #expect(try await query(server, "pushed_jobs_total", at: live) == 7, "the floats arrived")
        #expect(try await query(server, "pushed_latency_ms_count", at: live) == 100_000, "as classic buckets since")
        // The counter of the very first (refused) request arrived too: two snapshots or more.
        let samples = try await query(server, "count_over_time(pushed_jobs_total[1m])", at: live)
        #expect((samples ?? 0) >= 2, "\(samples ?? -1) samples of the counter")
    }
}
