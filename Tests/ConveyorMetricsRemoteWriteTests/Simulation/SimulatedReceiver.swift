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

    let clock: SimulatedClock
    var answer: Answer = .accept
    /// Samples in requests answered 2xx (what the sender may count as sent).
    private(set) var acceptedSamples = 0
    /// Every sample stored, in arrival order.
    private(set) var stored: [Stored] = []
    private(set) var requests = 0
    /// Requests whose body did not decode (a defect: the sender sends only valid requests).
    private(set) var undecodable: [String] = []
    /// Every value stored, and the newest timestamp, by series.
    private(set) var values: [String: [Int64: UInt64]] = [:]
    private(set) var newest: [String: Int64] = [:]
    /// The samples that made a request refused: out of order, or a second value.
    private(set) var refused: [(key: String, timestamp: Int64, reason: String)] = []

    init(clock: SimulatedClock) { self.clock = clock }

    func post(_ body: [UInt8], timeout: Duration) -> TransportOutcome {
        requests += 1
        let decoded: DecodedWriteRequest
        do {
            decoded = try WriteRequestDecoder.decode(body: body)
        } catch {
            undecodable.append("\(error)")
            return .response(status: 400, retryAfter: nil, body: "undecodable")
        }
        let stores: Bool
        switch answer {
        case .accept, .storedThenReset: stores = true
        case .slow(let milliseconds): stores = milliseconds < timeout.milliseconds
        case .status, .timeout: stores = false
        }
        if stores, let problem = orderProblem(decoded) {
            refused.append(problem)
            return .response(status: 400, retryAfter: nil, body: problem.reason)
        }
        switch answer {
        case .accept:
            store(decoded)
            return .response(status: 204, retryAfter: nil, body: "")
        case .status(let code, let retryAfter):
            return .response(status: code, retryAfter: retryAfter.map(String.init), body: "")
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
            return .response(status: 200, retryAfter: nil, body: "")
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
        if case .storedThenReset = answer { return }
        acceptedSamples += request.sampleCount
    }

    func takeCredentialFailures() -> [String] { [] }

    /// A series' identity: its labels sorted by name.
    static func key(_ labels: [Label]) -> String {
        labels.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }
}
