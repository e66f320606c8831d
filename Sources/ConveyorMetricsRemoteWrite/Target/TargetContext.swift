import ConveyorMetrics
import Logging
import Synchronization

/// What a target's parts share across its threads: configuration, clock, self-metrics,
/// logging, the memory queue, the disk queue once open, and the shutdown state.
final class TargetContext: Sendable {
    let configuration: RemoteWriteTargetConfiguration
    let name: String
    let metrics: RemoteWriteMetrics
    let logger: Logger
    let policy: RetryPolicy
    let clock: any PushClock
    let memory: RemoteWriteQueue
    let status = RemoteWriteTargetStatus.Counters()
    let shutdown = ShutdownControl()
    private let diskSlot = Mutex<DiskQueue?>(nil)
    private let metadata = Mutex<[RemoteMetadata]?>(nil)
    /// Samples (and oldest timestamp) the sender holds from memory: its wave's, until each
    /// request is settled.
    let heldMemory = Atomic<Int>(0)
    let heldOldest = Atomic<Int64>(0)
    /// Samples of the disk wave in flight already settled (delivered, refused, dropped):
    /// still on disk until the whole wave is acknowledged, but no longer pending.
    let settledOnDisk = Atomic<Int>(0)
    /// Samples taken from snapshots so far (the sender's incoming rate, for resharding).
    let producedSamples = Atomic<Int>(0)
    /// False while the sender retries a failed request (drops are then expected).
    let receiverHealthy = Atomic<Bool>(true)
    /// Whether new disk records are written as remote write 2.0 (the sender switches it).
    let recordFormat = Atomic<Bool>(false)
    /// Whether native histograms are sent as such: `send_native_histograms`, until the
    /// receiver refuses them (the sender switches it off; the sampler reads it).
    let nativeHistograms: Atomic<Bool>
    private let jitter: Mutex<SplitMix64>
    private let lastLog = Mutex<(message: String, at: Int64)>(("", Int64.min))

    init(
        configuration: RemoteWriteTargetConfiguration, metrics: RemoteWriteMetrics, logger: Logger,
        clock: any PushClock, seed: UInt64
    ) {
        self.configuration = configuration
        self.name = configuration.resolvedName
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.policy = RetryPolicy(
            minBackoff: configuration.queue.minBackoff, maxBackoff: configuration.queue.maxBackoff,
            retryOnHTTP429: configuration.queue.retryOnHTTP429)
        self.memory = RemoteWriteQueue(
            capacity: configuration.queue.capacity, maxBytes: configuration.queue.maxMemoryBytes)
        self.jitter = Mutex(SplitMix64(seed: seed))
        self.nativeHistograms = Atomic(configuration.sendNativeHistograms)
    }

    /// The disk queue, once opened.
    var disk: DiskQueue? { diskSlot.withLock { $0 } }

    func attach(disk: DiskQueue) { diskSlot.withLock { $0 = disk } }

    /// Replaces the metadata waiting to be sent.
    func setMetadata(_ families: [RemoteMetadata]) {
        metadata.withLock { $0 = families }
        wakeSender()
    }

    func takeMetadata() -> [RemoteMetadata]? {
        metadata.withLock { current in
            defer { current = nil }
            return current
        }
    }

    /// Counts what is left in memory (and `held` samples taken from it) as dropped at shutdown.
    func dropLeftInMemory(held: Int = 0) {
        let left = held + memory.removeAll()
        guard left > 0 else { return }
        metrics.dropped(left, reason: "shutdown")
        logger.warning("shutdown deadline passed; samples not delivered", metadata: ["dropped": "\(left)"])
    }

    /// Wakes the sender thread (new samples, metadata, shutdown).
    func wakeSender() { memory.wake() }

    /// A number in 0.5...1 for backoff jitter (SplitMix64, seeded per target).
    func random() -> Double {
        0.5 + jitter.withLock { $0.unit() } / 2
    }

    /// Samples queued or held by the sender, on disk and in memory.
    var pendingSamples: Int {
        memory.count + heldMemory.load(ordering: .relaxed)
            + max(0, (disk?.pendingSamples ?? 0) - settledOnDisk.load(ordering: .relaxed))
    }

    /// Publishes the pending figures.
    func updatePending() {
        var oldest = heldOldest.load(ordering: .relaxed)
        if let disk {
            metrics.diskBytes?.set(Double(disk.diskBytes))
            if let onDisk = disk.oldestPendingTimestamp { oldest = oldest == 0 ? onDisk : min(oldest, onDisk) }
        }
        if oldest == 0 { oldest = memory.oldestTimestamp ?? 0 }
        metrics.pending.set(Double(pendingSamples))
        metrics.oldestPending.set(Double(oldest) / 1000)
    }

    /// Logs a warning at most every 30 s, or at once when it differs from the last one.
    func logLimited(_ message: String, _ metadata: Logger.Metadata, level: Logger.Level = .warning) {
        let key = message + (metadata["error"].map { "\($0)" } ?? "")
        let now = clock.monotonicNanoseconds()
        let shouldLog = lastLog.withLock { last -> Bool in
            guard last.message != key || now - last.at >= 30_000_000_000 else { return false }
            last = (key, now)
            return true
        }
        if shouldLog { logger.log(level: level, "\(message)", metadata: metadata) }
    }
}
