import ConveyorMetrics

extension RemoteWriteTargetConfiguration {
    /// Queueing, batching and retry, with Prometheus' names and defaults.
    public struct QueueSettings: Sendable {
        /// The most memory, in bytes, that samples waiting to be sent may hold (8 bytes a
        /// sample, plus 8 a series for each change in the set of series); when full the oldest
        /// are dropped, counted and logged. Our own key: Prometheus bounds its queue in samples.
        /// The default, 128 MiB, holds more than 10 minutes of a 13,400-series registry pushed
        /// every second. With a disk queue this bounds only what waits in memory while the
        /// disk refuses writes.
        public var maxMemoryBytes = QueueSettings.defaultMaxMemoryBytes
        /// An optional bound in samples on top of ``maxMemoryBytes`` (Prometheus' `capacity`).
        public var capacity: Int?
        /// 128 MiB.
        public static let defaultMaxMemoryBytes = 128 << 20
        /// The most samples in one request.
        public var maxSamplesPerSend = 2_000
        /// The fewest requests in flight at once (Prometheus' `min_shards`). Each series is
        /// always sent by one shard at a time, so its samples arrive in timestamp order.
        public var minShards = 1
        /// The most requests in flight at once (Prometheus' `max_shards`; Prometheus 3's
        /// default). The target moves between `minShards` and `maxShards` by itself, from its
        /// backlog, the rate samples come in and the measured time a request takes: one
        /// shard is plenty on a LAN; when a snapshot's requests one after another would take
        /// more than a fifth of the push interval (a slow receiver, a long round trip), they
        /// go side by side, at most one shard per full request; after an outage it sends in
        /// parallel until the backlog is gone.
        public var maxShards = 50
        /// How long samples may wait for a request to fill up to ``maxSamplesPerSend``
        /// (Prometheus' `batch_send_deadline`). Zero, the default, sends each snapshot at
        /// once: a snapshot is already a batch. A longer deadline makes fewer, larger requests
        /// for a small registry pushed often over a slow link (samples then arrive up to that
        /// much later). A backlog always goes out in full requests.
        public var batchSendDeadline: Duration = .zero
        /// The first retry waits this long; each further retry doubles it.
        public var minBackoff: Duration = .milliseconds(30)
        /// Retries never wait longer than this (unless the server's `Retry-After` says so).
        public var maxBackoff: Duration = .seconds(5)
        /// Whether 429 Too Many Requests is retried (otherwise the batch is dropped).
        public var retryOnHTTP429 = true
        /// A directory for a disk-backed queue (each target uses a subdirectory named after
        /// it): what is queued survives restarts and outages of any length up to
        /// `maxDiskBytes`. Without it the queue lives in memory (``maxMemoryBytes``).
        public var storagePath: String?
        /// The most bytes the disk queue may use; beyond it the oldest samples are dropped
        /// (counted with `reason="disk_full"`). 1 GiB by default.
        public var maxDiskBytes: Int64 = 1 << 30
        /// When the disk queue reaches stable storage (see ``FsyncPolicy``).
        public var fsync: FsyncPolicy = .interval(.seconds(1))
        /// Samples older than this are dropped (counted with `reason="too_old"`) instead of
        /// being sent to a receiver that would reject them. Off by default.
        public var sampleAgeLimit: Duration?

        /// Prometheus' defaults (with 429 retried).
        public init() {}
    }

    /// When the disk queue calls fsync. A crash of the process alone loses nothing under
    /// either policy (written data is in the kernel's page cache); the policies differ on
    /// power loss or a kernel crash.
    public enum FsyncPolicy: Sendable, Equatable {
        /// After every record and every acknowledgement: power loss loses at most the record
        /// being written. Costs one fsync per snapshot and per delivered request.
        case everyWrite
        /// At most once per interval: power loss may lose the records of the last interval
        /// and resend requests acknowledged in it (duplicates, which receivers ignore).
        case interval(Duration)
    }
}
