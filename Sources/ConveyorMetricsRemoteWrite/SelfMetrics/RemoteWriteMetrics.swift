import ConveyorMetrics

/// The push path's self-metrics for one target (label `remote_name`), recorded in the same
/// registry the writer pushes, so they are scraped and pushed like any other metric.
final class RemoteWriteMetrics: Sendable {
    let samplesSent: CounterSeries
    let samplesFailed: CounterSeries
    let samplesRetried: CounterSeries
    let bytesSent: CounterSeries
    let credentialReadFailures: CounterSeries
    let pending: GaugeSeries
    let lastSuccess: GaugeSeries
    let requestDuration: HistogramSeries
    let oldestPending: GaugeSeries
    let clockStepBacks: CounterSeries
    /// Disk-queue figures; registered only for targets with a disk queue.
    let diskBytes: GaugeSeries?
    let diskTruncatedBytes: CounterSeries?
    let diskErrors: CounterSeries?
    let diskDegraded: GaugeSeries?
    let protocolFallbacks: CounterSeries
    let nativeHistogramsRefused: CounterSeries
    /// Requests the target keeps in flight now, and what its backlog and latency call for.
    let shards: GaugeSeries
    let shardsDesired: GaugeSeries
    private let dropped: CounterFamily
    private let requests: CounterFamily
    private let protocolInUse: GaugeFamily
    private let written: CounterFamily
    private let name: String

    init(registry: MetricsRegistry, remoteName: String, disk: Bool = false) {
        name = remoteName
        func counter(_ suffix: String, _ help: String) -> CounterSeries {
            registry.counterFamily(
                name: "conveyor_metrics_remote_write_\(suffix)", help: help, labelNames: ["remote_name"]
            ).series(remoteName)
        }
        func gauge(_ suffix: String, _ help: String) -> GaugeSeries {
            registry.gaugeFamily(
                name: "conveyor_metrics_remote_write_\(suffix)", help: help, labelNames: ["remote_name"]
            ).series(remoteName)
        }
        samplesSent = counter("samples_sent_total", "Samples delivered to the remote-write endpoint")
        samplesFailed = counter(
            "samples_failed_total", "Samples the endpoint refused with a non-retryable status; not sent again")
        samplesRetried = counter("samples_retried_total", "Samples sent again after a retryable failure")
        bytesSent = counter("bytes_sent_total", "Compressed request bytes delivered")
        credentialReadFailures = counter(
            "credential_read_failures_total",
            "Times a changed credential file could not be read again; the last value read stays in use")
        pending = gauge("samples_pending", "Samples queued or in flight")
        lastSuccess = gauge("last_success_timestamp_seconds", "Unix time of the last delivered request")
        shards = gauge("shards", "Requests the target keeps in flight at most now (between min_shards and max_shards)")
        shardsDesired = gauge(
            "shards_desired", "Shards the backlog, the incoming rate and the measured request time call for")
        requestDuration = registry.histogramFamily(
            name: "conveyor_metrics_remote_write_request_duration_seconds", help: "Duration of remote-write requests",
            labelNames: ["remote_name"], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
        ).series(remoteName)
        dropped = registry.counterFamily(
            name: "conveyor_metrics_remote_write_samples_dropped_total",
            help: "Samples dropped before delivery, by reason", labelNames: ["remote_name", "reason"])
        requests = registry.counterFamily(
            name: "conveyor_metrics_remote_write_requests_total",
            help: "Remote-write requests by HTTP status code (error: no response)",
            labelNames: ["remote_name", "code"])
        oldestPending = gauge(
            "oldest_pending_timestamp_seconds",
            "Timestamp of the oldest sample not yet delivered (0 when none is pending)")
        clockStepBacks = counter(
            "clock_step_backs_total",
            "Snapshots taken while the wall clock was behind the last timestamp sent; stamped just above it")
        for reason in ["queue_full", "shutdown", "too_old", "duplicate_series"] {
            _ = dropped.series(remoteName, reason)
        }
        protocolInUse = registry.gaugeFamily(
            name: "conveyor_metrics_remote_write_protocol",
            help: "1 for the protobuf message (remote-write protocol) the target sends now, 0 for the other",
            labelNames: ["remote_name", "protobuf_message"])
        protocolFallbacks = counter(
            "protocol_fallbacks_total",
            "Times the target fell back from remote write 2.0 to 1.0 (a 415, or a 1.x receiver's answer)")
        nativeHistogramsRefused = counter(
            "native_histograms_refused_total",
            "Times the receiver refused native histograms (a 500 from Prometheus without the feature); classic buckets since"
        )
        written = registry.counterFamily(
            name: "conveyor_metrics_remote_write_reported_written_total",
            help: "What the receiver said it wrote (remote write 2.0's X-Prometheus-Remote-Write-*-Written), by kind",
            labelNames: ["remote_name", "kind"])
        for kind in ["samples", "histograms", "exemplars"] { _ = written.series(remoteName, kind) }
        // The disk queue's figures (and drop reasons, so they read 0 from the start).
        guard disk else {
            diskBytes = nil
            diskTruncatedBytes = nil
            diskErrors = nil
            diskDegraded = nil
            return
        }
        diskErrors = counter(
            "disk_errors_total", "Disk-queue calls that failed (writes, fsync, acknowledgements, opening)")
        diskDegraded = gauge(
            "disk_degraded",
            "1 while the disk queue refuses writes and samples wait in memory instead (max_memory_bytes)")
        diskBytes = gauge("disk_bytes", "Bytes of the disk queue's segment files")
        diskTruncatedBytes = counter(
            "disk_truncated_bytes_total", "Bytes of torn or corrupt disk-queue data cut off at start-up")
        for reason in ["disk_full", "corrupt", "disk_error"] { _ = dropped.series(remoteName, reason) }
    }

    func dropped(_ count: Int, reason: String) {
        guard count > 0 else { return }
        dropped.series(name, reason).increment(by: UInt64(count))
    }

    /// Every drop reason the push path counts.
    static let dropReasons = [
        "queue_full", "shutdown", "too_old", "duplicate_series", "disk_full", "corrupt", "disk_error",
    ]

    /// Samples dropped for `reason` so far.
    func droppedCount(_ reason: String) -> Double {
        dropped.series(name, reason).value
    }

    func request(code: String) {
        requests.series(name, code).increment()
    }

    /// Shows `format` as the protocol in use.
    func protocolInUse(_ format: RequestFormat) {
        protocolInUse.series(name, RequestFormat.v1.messageName).set(format == .v1 ? 1 : 0)
        protocolInUse.series(name, RequestFormat.v2.messageName).set(format == .v2 ? 1 : 0)
    }

    /// Adds what a 2.0 receiver said it wrote.
    func reportedWritten(_ counts: WrittenCounts) {
        written.series(name, "samples").increment(by: UInt64(counts.samples))
        written.series(name, "histograms").increment(by: UInt64(counts.histograms))
        written.series(name, "exemplars").increment(by: UInt64(counts.exemplars))
    }
}
