import ConveyorMetrics

/// Delivers request bodies to a target, several at once: libcurl's multi interface in
/// production (``CurlTransport``), a scripted receiver in the simulation. Used by one thread,
/// the target's sender thread.
protocol RemoteWriteTransport: AnyObject {
    /// Starts POSTing `body` (a snappy-compressed request in `format`), answered within
    /// `timeout`; its outcome comes from ``poll(timeout:)`` with `id`.
    func start(id: Int, body: [UInt8], format: RequestFormat, timeout: Duration)
    /// Waits at most `timeout` for started requests; returns those that finished (any order,
    /// none when none did in time).
    func poll(timeout: Duration) -> [(id: Int, outcome: TransportOutcome)]
    /// Credential files that could not be read again since the last call (to log and count).
    func takeCredentialFailures() -> [String]
}
