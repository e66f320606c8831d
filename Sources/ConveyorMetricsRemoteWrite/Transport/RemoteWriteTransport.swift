import ConveyorMetrics

/// Delivers one request body to a target: libcurl in production (``CurlTransport``), a
/// scripted receiver in the simulation. Called by one thread at a time, and may block.
protocol RemoteWriteTransport: AnyObject {
    /// POSTs `body` (a snappy-compressed request in `format`) and waits at most `timeout`.
    func post(_ body: [UInt8], format: RequestFormat, timeout: Duration) -> TransportOutcome
    /// Credential files that could not be read again since the last call (to log and count).
    func takeCredentialFailures() -> [String]
}
