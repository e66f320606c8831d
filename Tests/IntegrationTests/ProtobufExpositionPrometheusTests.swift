import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// A real Prometheus 2.42 with `--enable-feature=native-histograms` scrapes a
/// `MetricsExporter` over protobuf (the only format that carries native histograms; with
/// CI=true a missing binary fails). A native histogram of 100,000 log-normal observations
/// must come back with its exact count and sum, and `histogram_quantile` within the
/// schema's error bound of the observed values' true quantiles; classic families (a
/// counter, a classic histogram) still arrive as before.
///
/// The error bound: Prometheus 2.42 finds the bucket where the cumulative count reaches
/// q·count, and interpolates linearly inside it. The true quantile (the ⌈q·n⌉-th smallest
/// observation) is in that same bucket `(l, u]`, with `u = l·b` and `b = 2^(2^−schema)`.
/// Two values in one bucket differ by at most `u − l`, i.e. relative to the true value
/// (≥ l) by at most `b − 1`: 9.05 % for schema 3. (An estimate at the bucket's midpoint
/// would be within `(b − 1)/(b + 1)`, 4.33 % for schema 3, of any value in the bucket;
/// linear interpolation can land anywhere in it, so that tighter bound is only reported.)
@Suite("Protobuf exposition with Prometheus", .serialized)
struct ProtobufExpositionPrometheusTests {
    static let observations = 100_000
    static let seed: UInt64 = 0x5EED_0F_10C_A1
    static let schema: Int32 = 3

    /// Log-normal: exp(μ + σ·z), z standard normal (Box–Muller), μ = ln 0.05, σ = 0.8.
    static func logNormal(count: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let u1 = 1 - random.unit()  // (0, 1]
            let u2 = random.unit()
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return exp(log(0.05) + 0.8 * z)
        }
    }

    @Test func prometheusScrapesNativeHistogramsOverProtobuf() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let started = ContinuousClock.now
        let registry = MetricsRegistry()
        let latency = registry.histogramFamily(
            name: "latency_seconds", help: "Log-normal latency", buckets: [1],
            native: NativeHistogramOptions(bucketFactor: 1.1, maxBucketCount: 0))
        let both = registry.histogramFamily(
            name: "both_seconds", help: "Classic and native", buckets: [0.01, 0.1, 1],
            native: NativeHistogramOptions(bucketFactor: 1.1, maxBucketCount: 0, keepClassicBuckets: true))
        let values = Self.logNormal(count: Self.observations, seed: Self.seed)
        let observedSum = values.reduce(0, +)
        // Empty until Prometheus scraped them once: `rate` over a minute then sees exactly the
        // observations (recorded below, after that scrape).
        _ = latency.series()
        _ = both.series()
        registry.counterFamily(name: "jobs_total", help: "Jobs", labelNames: ["queue"]).series("mail").increment(
            by: 42 as UInt64)
        let wait = registry.histogramFamily(name: "wait_seconds", help: "Wait", buckets: [0.1, 1, 10])
        for value in [0.05, 0.5, 0.5, 5, 50] { wait.series().observe(value) }
        let exporter = MetricsExporter(
            configuration: MetricsExporter.Configuration(host: "127.0.0.1", port: 0), registry: registry)
        try await exporter.start()
        var server: ExternalServer?
        do {
            let exporterPort = try #require(exporter.boundPort)
            let prometheus = try await ExternalServer.prometheusScraping(
                binary: binary, targetPort: exporterPort, job: "proto", features: ["native-histograms"])
            server = prometheus

            // Polls until the first scrape is in (a native histogram only arrives over protobuf),
            // then records the observations and polls until a scrape has them.
            let empty = try await Self.poll(prometheus, "histogram_count(latency_seconds)", deadline: .seconds(30))
            #expect(empty == 0)
            await HeavyTestWork.run {
                for value in values {
                    latency.series().observe(value)
                    both.series().observe(value)
                }
            }
            guard let native = latency.series().value.native else {
                Issue.record("latency_seconds records no native histogram")
                return
            }
            #expect(native.schema == Self.schema && native.count == UInt64(Self.observations))
            #expect(!native.positiveDeltas.isEmpty && native.negativeDeltas.isEmpty)
            var count = 0.0
            let end = ContinuousClock.now + .seconds(30)
            while count != Double(Self.observations) && ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(250))
                count = try await Self.poll(prometheus, "histogram_count(latency_seconds)", deadline: .seconds(5))
            }
            #expect(count == Double(Self.observations), "histogram_count is exact")
            let sum = try await Self.value(prometheus, "histogram_sum(latency_seconds)")
            #expect(sum == native.sum, "histogram_sum is the recorded sum, bit for bit")
            #expect(abs(sum - observedSum) <= 1e-9 * observedSum, "and the observed sum within float rounding")
            #expect(try await Self.value(prometheus, "histogram_count(both_seconds)") == Double(Self.observations))

            let growth = pow(2, pow(2, -Double(Self.schema)))
            let bound = growth - 1
            let midpointBound = (growth - 1) / (growth + 1)
            let sorted = values.sorted()
            var report: [String] = []
            for q in [0.5, 0.9, 0.99] {
                let truth = sorted[Int((q * Double(sorted.count)).rounded(.up)) - 1]
                let estimate = try await Self.value(prometheus, "histogram_quantile(\(q), rate(latency_seconds[1m]))")
                let error = abs(estimate - truth) / truth
                #expect(error <= bound, "q \(q): estimate \(estimate), true \(truth), error \(error) > \(bound)")
                report.append(
                    "q\(q): \(estimate) vs \(truth), error \(String(format: "%.3f", error * 100)) %"
                        + (error <= midpointBound ? "" : " (above the midpoint bound)"))
            }

            // Classic families still arrive: a counter, and a classic histogram's series.
            #expect(try await Self.value(prometheus, "jobs_total{queue=\"mail\"}") == 42)
            // Prometheus 2.x spells `le` of protobuf buckets in OpenMetrics style ("1.0"; the
            // text format gives "1"), and adds the `+Inf` bucket the message leaves out.
            let buckets = try await Self.labelled(prometheus, "wait_seconds_bucket", by: "le")
            #expect(buckets == ["0.1": 1, "1.0": 3, "10.0": 4, "+Inf": 5])
            #expect(try await Self.value(prometheus, "wait_seconds_count") == 5)
            #expect(abs(try await Self.value(prometheus, "wait_seconds_sum") - 56.05) < 1e-9)
            print(
                "ℹ️  native histogram over protobuf, schema \(Self.schema), \(native.positiveDeltas.count) buckets: "
                    + report.joined(separator: "; ")
                    + String(format: "; bound %.2f %% (midpoint %.2f %%)", bound * 100, midpointBound * 100)
                    + "; took \(ContinuousClock.now - started)")
        } catch {
            server?.stop()
            await exporter.shutdown()
            throw error
        }
        server?.stop()
        await exporter.shutdown()
    }

    /// An instant query's single value, retried until it has one or `deadline` passes.
    static func poll(_ prometheus: ExternalServer, _ promql: String, deadline: Duration) async throws -> Double {
        let end = ContinuousClock.now + deadline
        while true {
            if let value = try await values(prometheus, promql).first { return value }
            guard ContinuousClock.now < end else { throw TestFailure("\(promql): no value after \(deadline)") }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// An instant query that must have exactly one value.
    static func value(_ prometheus: ExternalServer, _ promql: String) async throws -> Double {
        let found = try await values(prometheus, promql)
        guard found.count == 1 else { throw TestFailure("\(promql): \(found.count) values, expected one") }
        return found[0]
    }

    /// An instant query's values by the value of `label`.
    static func labelled(_ prometheus: ExternalServer, _ promql: String, by label: String) async throws -> [String:
        Double]
    {
        var values: [String: Double] = [:]
        for (labels, value) in try await results(prometheus, promql) { values[labels[label] ?? "-"] = value }
        return values
    }

    static func values(_ prometheus: ExternalServer, _ promql: String) async throws -> [Double] {
        try await results(prometheus, promql).map(\.1)
    }

    static func results(_ prometheus: ExternalServer, _ promql: String) async throws -> [([String: String], Double)] {
        let response = try await prometheus.get("/api/v1/query?query=\(promql.queryEncoded)")
        guard response.status == 200,
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { throw TestFailure("query \(promql): HTTP \(response.status): \(response.text.prefix(300))") }
        return result.compactMap { item in
            guard let sample = item["value"] as? [Any], sample.count == 2,
                let value = Double(sample[1] as? String ?? "")
            else { return nil }
            return (item["metric"] as? [String: String] ?? [:], value)
        }
    }
}
