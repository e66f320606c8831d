import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// What a test asks of a receiver after a push: which samples arrived for a series, the
/// newest value, and waiting until something arrived.
///
/// They read ``requests``, so they need a receiver made with `keepRequests: true` (the
/// default). `labels` is a subset: every series named `metric` whose labels include these
/// pairs matches, so name every label that tells your series apart (external labels need
/// not be named).
extension RemoteWriteReceiver {
    /// The samples of accepted requests for series named `metric` whose labels contain
    /// `labels`, in arrival order (stale markers included; see `RemoteSample.isStaleMarker`).
    /// Native histograms are not samples: a native histogram series, and its stale marker
    /// (a histogram), show only in `RemoteTimeSeries.histogramCount`.
    ///
    /// ```swift
    /// let values = receiver.samples(of: "jobs_total", labels: ["queue": "emails"]).map(\.value)
    /// ```
    public func samples(of metric: String, labels: [String: String] = [:]) -> [RemoteSample] {
        acceptedSeries.filter { series in
            series.metricName == metric
                && labels.allSatisfy { name, value in series.labels.contains { $0.name == name && $0.value == value } }
        }.flatMap(\.samples)
    }

    /// The newest value that arrived for the matching series (stale markers skipped), or nil.
    /// When several series match, the newest sample among them wins.
    public func latestValue(of metric: String, labels: [String: String] = [:]) -> Double? {
        samples(of: metric, labels: labels).filter { !$0.isStaleMarker }
            .max { $0.timestampMilliseconds < $1.timestampMilliseconds }?.value
    }

    /// Waits until `condition` holds, checking every 20 ms; returns false when `timeout`
    /// passes first.
    ///
    /// ```swift
    /// let arrived = try await receiver.waitUntil(timeout: .seconds(5)) { $0.requests.count >= 2 }
    /// #expect(arrived)
    /// ```
    public func waitUntil(
        timeout: Duration = .seconds(10), _ condition: @Sendable (RemoteWriteReceiver) -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
