import ConveyorMetrics
import ConveyorMetricsTestKit

@testable import ConveyorMetricsRemoteWrite

/// The remote end of the simulation: answers each request as the current step says, and
/// keeps what it stored so the invariants can be checked against the ledger. Like
/// Prometheus' TSDB, it refuses a whole request with 400 when a sample is older than the
/// series' newest or gives a stored timestamp another value (an identical resend is fine).
final class SimulatedReceiver: RemoteWriteTransport, @unchecked Sendable {  // one thread: the simulation
    /// How the receiver answers the next request.
    enum Answer: Equatable, CustomStringConvertible {
        case accept
        /// A status that stores nothing (400, 413, 429, 500, 503...); 429 and 503 may carry
        /// `Retry-After` in seconds.
        case status(Int, retryAfter: Int?)
        /// No answer within the timeout: nothing stored.
        case timeout
        /// Stored, but the connection broke before the answer (the sender will resend).
        case storedThenReset
        /// Stored and answered after `milliseconds`.
        case slow(milliseconds: Int64)

        var description: String {
            switch self {
            case .accept: "accept"
            case .status(let code, let retryAfter): "status(\(code)\(retryAfter.map { ", retry-after \($0)s" } ?? ""))"
            case .timeout: "timeout"
            case .storedThenReset: "storedThenReset"
            case .slow(let milliseconds): "slow(\(milliseconds) ms)"
            }
        }
    }

    /// One stored sample and whether its request was answered 2xx.
    struct Stored {
        let key: String
        let sample: RemoteSample
    }

    /// Which protocols it speaks: 1.0 and 2.0 (as Prometheus 3), 1.0 only (as Prometheus
    /// 2.42 and VictoriaMetrics 1.79: a 2.0 body decodes as an empty 1.0 request, answered
    /// without written counts and stored nowhere), or 1.0 with 415 for 2.0.
    enum Protocols: Equatable, CustomStringConvertible {
        case v1AndV2, v1Only, refusingV2

        var description: String {
            switch self {
            case .v1AndV2: "1.0 and 2.0"
            case .v1Only: "1.0 only"
            case .refusingV2: "415 for 2.0"
            }
        }
    }

    let clock: SimulatedClock
    var answer: Answer = .accept
    var protocols: Protocols = .v1AndV2
    /// What a 2.0 receiver says it wrote when it answers a 4xx (a partial write).
    var writtenOnRefusal = 0
    /// Answers a request with native histograms 500 and stores nothing of it, as Prometheus
    /// does without `--enable-feature=native-histograms`.
    var refusesNativeHistograms = false
    /// Native histograms stored.
    private(set) var storedHistograms = 0
    /// Samples in requests answered 2xx (what the sender may count as sent).
    private(set) var acceptedSamples = 0
    /// Every sample stored, in arrival order.
    private(set) var stored: [Stored] = []
    private(set) var requests = 0
    /// Requests that carried metadata (1.0's sample-free metadata requests).
    private(set) var metadataRequests = 0
    /// Requests whose body did not decode (a defect: the sender sends only valid requests).
    private(set) var undecodable: [String] = []
    /// Every value stored, and the newest timestamp, by series.
    private(set) var values: [String: [Int64: UInt64]] = [:]
    private(set) var newest: [String: Int64] = [:]
    /// 2.0 requests stored, answered 2xx by a 1.x receiver (storing nothing), and refused with 415.
    private(set) var v2Stored = 0
    private(set) var v2Ignored = 0
    private(set) var v2Refused = 0
    /// The samples that made a request refused: out of order, or a second value.
    private(set) var refused: [(key: String, timestamp: Int64, reason: String)] = []

    init(clock: SimulatedClock) { self.clock = clock }

    func post(_ body: [UInt8], format: RequestFormat, timeout: Duration) -> TransportOutcome {
        requests += 1
        if let stored = RequestFormat.detect(compressed: body), stored != format {
            undecodable.append("a \(stored) body sent as \(format)")
            return .response(status: 400, retryAfter: nil, body: "undecodable")
        }
        if format == .v2 && protocols == .refusingV2 {
            v2Refused += 1
            return .response(status: 415, retryAfter: nil, body: "unsupported content type")
        }
        if format == .v2 {
            if protocols == .v1Only { v2Ignored += 1 } else if answer == .accept { v2Stored += 1 }
        }
        let decoded: DecodedWriteRequest
        do {
            // A 1.x receiver decodes everything as 1.0: a 2.0 body is then an empty request.
            let v1Body = format == .v2 && protocols == .v1AndV2 ? try RequestEncoder.v1(fromV2: body) : body
            decoded = try WriteRequestDecoder.decode(body: v1Body)
        } catch {
            undecodable.append("\(error)")
            return .response(status: 400, retryAfter: nil, body: "undecodable")
        }
        if !decoded.metadata.isEmpty { metadataRequests += 1 }
        if refusesNativeHistograms && decoded.histogramCount > 0 {
            return .response(status: 500, retryAfter: nil, body: "native histograms are disabled")
        }
        // Only a 2.0 receiver answering a 2.0 request says what it wrote.
        let confirms = format == .v2 && protocols == .v1AndV2
        func written(_ samples: Int) -> WrittenCounts? {
            confirms ? WrittenCounts(samples: samples, histograms: 0, exemplars: 0) : nil
        }
        let stores: Bool
        switch answer {
        case .accept, .storedThenReset: stores = true
        case .slow(let milliseconds): stores = milliseconds < timeout.milliseconds
        case .status, .timeout: stores = false
        }
        if stores, let problem = orderProblem(decoded) {
            refused.append(problem)
            return .response(status: 400, retryAfter: nil, body: problem.reason, written: written(0))
        }
        switch answer {
        case .accept:
            store(decoded)
            return .response(status: 204, retryAfter: nil, body: "", written: written(decoded.sampleCount))
        case .status(let code, let retryAfter):
            return .response(
                status: code, retryAfter: retryAfter.map(String.init), body: "",
                written: written((400..<500).contains(code) ? writtenOnRefusal : 0))
        case .timeout:
            clock.advance(milliseconds: max(1, timeout.milliseconds))
            return .failure("timeout")
        case .storedThenReset:
            store(decoded)
            return .failure("connection reset")
        case .slow(let milliseconds):
            clock.advance(milliseconds: min(milliseconds, max(1, timeout.milliseconds)))
            guard milliseconds < timeout.milliseconds else { return .failure("timeout") }
            store(decoded)
            return .response(status: 200, retryAfter: nil, body: "", written: written(decoded.sampleCount))
        }
    }

    /// The first sample the TSDB would refuse, if any.
    private func orderProblem(_ request: DecodedWriteRequest) -> (key: String, timestamp: Int64, reason: String)? {
        var pending: [String: Int64] = [:]
        for series in request.timeSeries {
            let key = Self.key(series.labels)
            for sample in series.samples {
                let timestamp = sample.timestampMilliseconds
                if let earlier = values[key]?[timestamp] {
                    if earlier != sample.value.bitPattern { return (key, timestamp, "duplicate sample for timestamp") }
                    continue
                }
                if let latest = max(newest[key] ?? Int64.min, pending[key] ?? Int64.min) as Int64?,
                    timestamp <= latest
                {
                    return (key, timestamp, "out of order sample")
                }
                pending[key] = timestamp
            }
        }
        return nil
    }

    private func store(_ request: DecodedWriteRequest) {
        for series in request.timeSeries {
            let key = Self.key(series.labels)
            for sample in series.samples {
                let timestamp = sample.timestampMilliseconds
                if values[key]?[timestamp] != nil { continue }  // an identical resend
                values[key, default: [:]][timestamp] = sample.value.bitPattern
                newest[key] = max(newest[key] ?? Int64.min, timestamp)
                stored.append(Stored(key: key, sample: sample))
            }
        }
        storedHistograms += request.histogramCount
        if case .storedThenReset = answer { return }
        acceptedSamples += request.sampleCount + request.histogramCount
    }

    func takeCredentialFailures() -> [String] { [] }

    /// Requests started through the transport interface and not polled yet.
    private var started: [(id: Int, body: [UInt8], format: RequestFormat, timeout: Duration)] = []

    func start(id: Int, body: [UInt8], format: RequestFormat, timeout: Duration) {
        started.append((id, body, format, timeout))
    }

    /// Answers every started request, in the order they were started.
    func poll(timeout: Duration) -> [(id: Int, outcome: TransportOutcome)] {
        defer { started = [] }
        return started.map { ($0.id, post($0.body, format: $0.format, timeout: $0.timeout)) }
    }

    /// A series' identity: its labels sorted by name.
    static func key(_ labels: [Label]) -> String {
        labels.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }
}
