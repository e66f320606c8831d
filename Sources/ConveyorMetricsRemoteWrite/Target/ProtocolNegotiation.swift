import ConveyorMetrics

/// Which format a target sends, and when it changes: fixed for 1.0 and 2.0; with `auto`,
/// 2.0 until the receiver shows it does not take it, then 1.0 until the probe interval has
/// passed, then 2.0 again. Used by the sender machine only.
struct ProtocolNegotiation {
    let setting: RemoteWriteTargetConfiguration.ProtobufMessage
    /// Nanoseconds on 1.0 before `auto` tries 2.0 again.
    let probeInterval: Int64
    private(set) var current: RequestFormat
    /// When `auto` fell back (monotonic ns).
    private var fellBackAt: Int64?

    init(setting: RemoteWriteTargetConfiguration.ProtobufMessage, probeInterval: Duration) {
        self.setting = setting
        self.probeInterval = max(1, probeInterval.nanoseconds)
        current = setting == .v1 ? .v1 : .v2
    }

    /// The format for a request taken now; true in `probing` when `auto` goes back to 2.0.
    mutating func format(now: Int64) -> (format: RequestFormat, probing: Bool) {
        if setting == .auto, current == .v1, let fellBackAt, now - fellBackAt >= probeInterval {
            current = .v2
            self.fellBackAt = nil
            return (.v2, true)
        }
        return (current, false)
    }

    /// Why the answer to a 2.0 request says the receiver does not take 2.0 (and `auto` falls
    /// back), or nil: a 415, or a 2xx without `X-Prometheus-Remote-Write-Samples-Written` —
    /// a 1.x receiver decodes a 2.0 body as an empty 1.0 request, answers 204 and stores nothing.
    static func refusal(of outcome: TransportOutcome) -> String? {
        guard case .response(let status, _, _, let written) = outcome else { return nil }
        if status == 415 { return "HTTP 415" }
        if (200..<300).contains(status) && written == nil {
            return "HTTP \(status) without \(RemoteWriteProtocol.samplesWrittenHeader) (a 1.x receiver)"
        }
        return nil
    }

    /// Falls back to 1.0 (`auto` only); returns whether it did.
    mutating func fallBack(now: Int64) -> Bool {
        guard setting == .auto, current == .v2 else { return false }
        current = .v1
        fellBackAt = now
        return true
    }
}
