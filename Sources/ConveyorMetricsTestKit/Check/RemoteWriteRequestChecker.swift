import ConveyorMetrics
import ConveyorMetricsRemoteWrite
import Synchronization

/// The receiver's checks: the protocol its `Content-Type` announces (415 for one it does not
/// accept, see ``RemoteWriteReceiver/ProtocolSupport``), the protocol headers, the body
/// (snappy + protobuf of remote write 1.0 or 2.0), the label rules, and per-series timestamp
/// order across requests (out-of-order is refused, as Prometheus refuses it; an equal
/// timestamp is a duplicate and allowed). A series is the same series whichever protocol
/// carried it.
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
    /// The protocols it accepts.
    public let protocols: RemoteWriteReceiver.ProtocolSupport

    private struct Tracked {
        var newest: [SeriesDigest: (timestamp: Int64, seen: UInt64)] = [:]
        var tick: UInt64 = 0
    }

    /// What the checker has seen.
    public struct Counters: Sendable, Equatable {
        /// Requests that passed every check.
        public var acceptedRequests = 0
        /// Requests refused (400, 413 or 415).
        public var rejectedRequests = 0
        /// Samples in accepted requests.
        public var samples = 0
        /// Samples whose timestamp equalled the series' previous one.
        public var duplicates = 0
        /// Series whose newest timestamp was forgotten to stay within `maxTrackedSeries`.
        public var forgottenSeries = 0
    }

    /// A checker with no history that remembers at most `maxTrackedSeries` series (at least
    /// 10), decodes requests within `limits` and accepts `protocols`.
    public init(
        maxTrackedSeries: Int = 100_000, limits: WriteRequestLimits = WriteRequestLimits(),
        protocols: RemoteWriteReceiver.ProtocolSupport = .v1AndV2
    ) {
        self.maxTrackedSeries = max(10, maxTrackedSeries)
        self.limits = limits
        self.protocols = protocols
    }

    /// Series whose newest timestamp is remembered now.
    public var trackedSeries: Int { tracked.withLock { $0.newest.count } }

    /// What the checker has seen so far.
    public var totals: Counters { counters.withLock { $0 } }

    /// Checks one request; returns the decoded request or why it is refused (its
    /// ``WriteRequestError/status`` is the answer: 413 over a limit, 415 for a protocol it
    /// does not accept, 400 otherwise).
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
        let version: DecodedWriteRequest.ProtocolVersion
        switch acceptedVersion(headers: headers) {
        case .success(let accepted): version = accepted
        case .failure(let error): return .failure(error)
        }
        let request: DecodedWriteRequest
        do {
            request = try WriteRequestDecoder.decode(body: body, limits: limits, protocolVersion: version)
        } catch {
            return .failure(error)
        }
        if let violation = WriteRequestDecoder.violation(in: request) {
            return .failure(WriteRequestError(violation))
        }
        let limit = maxTrackedSeries
        return tracked.withLock { tracked in
            var updates: [SeriesDigest: Int64] = [:]
            var duplicates = 0
            for series in request.timeSeries where !series.samples.isEmpty {
                let key = SeriesDigest(series.labels)
                var previous = updates[key] ?? tracked.newest[key]?.timestamp ?? Int64.min
                for sample in series.samples {
                    if sample.timestampMilliseconds < previous {
                        return .failure(WriteRequestError("out of order sample for \(series.metricName.prefix(120))"))
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

    /// The protocol a request is decoded as, after its headers were checked: `Content-Type`
    /// (415 when not accepted), `Content-Encoding` and the version header (400).
    private func acceptedVersion(headers: [(String, String)])
        -> Result<DecodedWriteRequest.ProtocolVersion, WriteRequestError>
    {
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        let announced = RemoteWriteContentType.protocolVersion(of: header("content-type"))
        switch (protocols, announced) {
        case (.v1Only, .success(.v1)), (.refusingV2, .success(.v1)), (.v1AndV2, .success):
            break
        case (.v1Only, _):
            // A 1.x receiver reads neither Content-Type nor the version header.
            return checkEncoding(header("content-encoding")).map { _ in .v1 }
        case (.refusingV2, .success(.v2)):
            return .failure(
                RemoteWriteContentType.unsupported(
                    "remote write 2.0 (proto=\(RemoteWriteProtocol.v2Message)) is not accepted here:"
                        + " send \(RemoteWriteProtocol.contentType) (remote write 1.0)"))
        case (_, .failure(let error)):
            return .failure(error)
        }
        guard case .success(let version) = announced else { return announced }
        if case .failure(let error) = checkEncoding(header("content-encoding")) { return .failure(error) }
        let found = header("x-prometheus-remote-write-version")
        guard found == version.versionHeader else {
            return .failure(
                WriteRequestError(
                    "header x-prometheus-remote-write-version must be '\(version.versionHeader)' for \(version),"
                        + " got '\(found ?? "")'"))
        }
        return .success(version)
    }

    private func checkEncoding(_ value: String?) -> Result<Void, WriteRequestError> {
        guard value?.lowercased() == RemoteWriteProtocol.contentEncoding else {
            return .failure(
                WriteRequestError(
                    "header content-encoding must be '\(RemoteWriteProtocol.contentEncoding)', got '\(value ?? "")'"))
        }
        return .success(())
    }
}
