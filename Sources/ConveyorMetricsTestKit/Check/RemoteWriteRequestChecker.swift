import ConveyorMetrics
import ConveyorMetricsRemoteWrite
import Synchronization

/// The receiver's checks: the protocol headers, the body (snappy + protobuf), the label
/// rules, and per-series timestamp order across requests (out-of-order is refused, as
/// Prometheus refuses it; an equal timestamp is a duplicate and allowed).
///
/// The order check remembers the newest timestamp of at most `maxTrackedSeries` series;
/// beyond that the least recently seen tenth is forgotten (counted in
/// ``Counters/forgottenSeries``), so a peer sending ever-new series cannot grow it without
/// bound. A forgotten series' next sample is not order-checked.
public final class RemoteWriteRequestChecker: Sendable {
    private let tracked = Mutex(Tracked())
    private let counters = Mutex(Counters())
    /// The most series whose newest timestamp is remembered.
    public let maxTrackedSeries: Int
    /// What one request may decode into.
    public let limits: WriteRequestLimits

    private struct Tracked {
        var newest: [String: (timestamp: Int64, seen: UInt64)] = [:]
        var tick: UInt64 = 0
    }

    /// What the checker has seen.
    public struct Counters: Sendable, Equatable {
        /// Requests that passed every check.
        public var acceptedRequests = 0
        /// Requests refused (400 or 413).
        public var rejectedRequests = 0
        /// Samples in accepted requests.
        public var samples = 0
        /// Samples whose timestamp equalled the series' previous one.
        public var duplicates = 0
        /// Series whose newest timestamp was forgotten to stay within `maxTrackedSeries`.
        public var forgottenSeries = 0
    }

    /// A checker with no history that remembers at most `maxTrackedSeries` series (at least
    /// 10) and decodes requests within `limits`.
    public init(maxTrackedSeries: Int = 100_000, limits: WriteRequestLimits = WriteRequestLimits()) {
        self.maxTrackedSeries = max(10, maxTrackedSeries)
        self.limits = limits
    }

    /// Series whose newest timestamp is remembered now.
    public var trackedSeries: Int { tracked.withLock { $0.newest.count } }

    /// What the checker has seen so far.
    public var totals: Counters { counters.withLock { $0 } }

    /// Checks one request; returns the decoded request or why it is refused (its
    /// ``WriteRequestError/status`` is the answer: 413 over a limit, 400 otherwise).
    public func check(headers: [(String, String)], body: [UInt8]) -> Result<DecodedWriteRequest, WriteRequestError> {
        let result = evaluate(headers: headers, body: body)
        counters.withLock { counters in
            switch result {
            case .success(let request):
                counters.acceptedRequests += 1
                counters.samples += request.sampleCount
            case .failure: counters.rejectedRequests += 1
            }
        }
        return result
    }

    private func evaluate(headers: [(String, String)], body: [UInt8]) -> Result<DecodedWriteRequest, WriteRequestError>
    {
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        let expected = [
            ("content-encoding", RemoteWriteProtocol.contentEncoding),
            ("content-type", RemoteWriteProtocol.contentType),
            ("x-prometheus-remote-write-version", RemoteWriteProtocol.version),
        ]
        for (name, value) in expected where header(name)?.lowercased() != value {
            return .failure(WriteRequestError("header \(name) must be '\(value)', got '\(header(name) ?? "")'"))
        }
        let request: DecodedWriteRequest
        do {
            request = try WriteRequestDecoder.decode(body: body, limits: limits)
        } catch {
            return .failure(error)
        }
        if let violation = WriteRequestDecoder.violation(in: request) {
            return .failure(WriteRequestError(violation))
        }
        let limit = maxTrackedSeries
        return tracked.withLock { tracked in
            var updates: [String: Int64] = [:]
            var duplicates = 0
            for series in request.timeSeries {
                let key = series.labels.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{0}")
                var previous = updates[key] ?? tracked.newest[key]?.timestamp ?? Int64.min
                for sample in series.samples {
                    if sample.timestampMilliseconds < previous {
                        return .failure(WriteRequestError("out of order sample for \(series.metricName)"))
                    }
                    if sample.timestampMilliseconds == previous { duplicates += 1 }
                    previous = sample.timestampMilliseconds
                }
                updates[key] = previous
            }
            tracked.tick &+= 1
            for (key, timestamp) in updates { tracked.newest[key] = (timestamp, tracked.tick) }
            var forgotten = 0
            if tracked.newest.count > limit {
                // Forget the least recently seen tenth at once: amortized O(log n) a series.
                let excess = tracked.newest.count - limit + limit / 10
                let oldest = tracked.newest.sorted { $0.value.seen < $1.value.seen }.prefix(excess)
                for (key, _) in oldest { tracked.newest[key] = nil }
                forgotten = oldest.count
            }
            if duplicates > 0 || forgotten > 0 {
                counters.withLock {
                    $0.duplicates += duplicates
                    $0.forgottenSeries += forgotten
                }
            }
            return .success(request)
        }
    }
}
