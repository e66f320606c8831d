import Dispatch
import Logging
import Synchronization

/// One remote-write endpoint: its queue, its sampler and its sender thread.
///
/// The flush loop (Swift concurrency) only converts snapshots and appends to the queue;
/// every blocking call (libcurl, backoff waits) happens on the target's own thread, one
/// request at a time, oldest samples first, so each series arrives in timestamp order.
/// With a disk queue, the in-memory queue is only a hand-off: a persister thread writes
/// each snapshot to disk and the sender reads from there.
final class RemoteWriteTarget: Sendable {
    let configuration: RemoteWriteTargetConfiguration
    let name: String
    let metrics: RemoteWriteMetrics
    private let queue: RemoteWriteQueue
    private let disk: DiskQueue?
    private let runningThreads = Atomic<Int>(0)
    private let persisterDone = Atomic<Bool>(false)
    private let policy: RetryPolicy
    private let logger: Logger
    private let sampler: Mutex<SnapshotSampler>
    private let metadata = Mutex<[RemoteMetadata]?>(nil)
    /// Samples (memory queue) and oldest timestamp of the request the sender holds.
    private let inFlight = Atomic<Int>(0)
    private let inFlightOldest = Atomic<Int64>(0)
    private let stopping: Atomic<Bool>.Shared
    private let drainDeadline: Atomic<Int64>.Shared
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let transport: Mutex<CurlTransportBox?>
    let status = RemoteWriteTargetStatus.Counters()

    /// Why a target could not be set up; names the setting.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    init(
        configuration: RemoteWriteTargetConfiguration, externalLabels: [String: String], registry: MetricsRegistry,
        logger: Logger
    ) throws(SetupError) {
        self.configuration = configuration
        self.name = configuration.resolvedName
        self.queue = RemoteWriteQueue(capacity: configuration.queue.capacity)
        if let directory = configuration.storageDirectory {
            do {
                let settings = configuration.queue
                self.disk = try DiskQueue(
                    settings: .init(
                        directory: directory, maxBytes: settings.maxDiskBytes,
                        sync: settings.fsync))
            } catch {
                throw SetupError(description: "queue_config.storage_path: \(error.description)")
            }
        } else {
            self.disk = nil
        }
        self.metrics = RemoteWriteMetrics(registry: registry, remoteName: name, disk: disk != nil)
        self.policy = RetryPolicy(
            minBackoff: configuration.queue.minBackoff, maxBackoff: configuration.queue.maxBackoff,
            retryOnHTTP429: configuration.queue.retryOnHTTP429)
        var logger = logger
        logger[metadataKey: "remote_name"] = "\(configuration.resolvedName)"
        logger[metadataKey: "url"] = "\(RedactedURL(configuration.url))"
        self.logger = logger
        for (setting, path) in [
            ("basic_auth.password_file", configuration.basicAuth?.passwordFile),
            ("authorization.credentials_file", configuration.authorization?.credentialsFile),
        ] {
            guard let path, CredentialFile.isWorldReadable(path) else { continue }
            logger.warning(
                "credentials file is readable by every user of this machine; chmod o-r it",
                metadata: ["setting": "\(setting)", "path": "\(path)"])
        }
        if let disk {
            let recovery = disk.recovery
            metrics.diskTruncatedBytes?.increment(by: UInt64(recovery.truncatedBytes))
            if recovery.truncatedBytes > 0 {
                logger.warning(
                    "disk queue: cut off a torn or corrupt tail (power loss?)",
                    metadata: [
                        "bytes": "\(recovery.truncatedBytes)",
                        "files": "\(recovery.damagedFiles.joined(separator: ","))",
                    ])
            }
            if recovery.acknowledgementLost {
                logger.warning("disk queue: acknowledged position unreadable; resending everything on disk")
            }
            if recovery.records > 0 {
                logger.info(
                    "disk queue: replaying samples from before the restart",
                    metadata: ["samples": "\(recovery.samples)", "records": "\(recovery.records)"])
            }
        }
        self.sampler = Mutex(SnapshotSampler(externalLabels: externalLabels))
        let stopping = Atomic<Bool>.Shared(false)
        let deadline = Atomic<Int64>.Shared(Int64.max)
        self.stopping = stopping
        self.drainDeadline = deadline
        do {
            self.transport = Mutex(
                CurlTransportBox(
                    try CurlTransport(configuration: configuration) {
                        stopping.value.load(ordering: .acquiring)
                            && MonotonicClock.nanoseconds() >= deadline.value.load(ordering: .relaxed)
                    }))
        } catch {
            throw SetupError(description: error.description)
        }
        updatePending()
    }

    /// Starts the sender thread (once).
    func start() -> Bool {
        guard
            let box = transport.withLock({ current -> CurlTransportBox? in
                defer { current = nil }
                return current
            })
        else { return true }
        runningThreads.store(disk == nil ? 1 : 2, ordering: .relaxed)
        if let disk {
            let started = DedicatedThread.start { [self] in
                let persister = DiskPersister(
                    handoff: queue, disk: disk, maxSamplesPerRecord: configuration.queue.maxSamplesPerSend)
                persister.run(isStopping: { stopping.value.load(ordering: .acquiring) }) { reason, samples, error in
                    metrics.dropped(samples, reason: reason)
                    if let error { logLimited("disk queue failed", ["error": "\(error)", "samples": "\(samples)"]) }
                    if reason == "disk_full" {
                        logLimited("disk queue full: dropped the oldest samples", ["dropped": "\(samples)"])
                    }
                }
                persisterDone.store(true, ordering: .releasing)
                disk.wake()
                threadFinished()
            }
            guard started else { return false }
        }
        return DedicatedThread.start { [self] in
            senderLoop(transport: box.transport)
            threadFinished()
        }
    }

    /// Queues the samples of `snapshot` (and stale markers for series that vanished).
    func flush(_ snapshot: MetricsSnapshot) {
        let chunks = sampler.withLock { $0.chunks(from: snapshot) }
        enqueue(chunks)
    }

    /// Replaces the metadata waiting to be sent.
    func setMetadata(_ families: [RemoteMetadata]) {
        metadata.withLock { $0 = families }
        queue.wake()
    }

    /// A final snapshot and stale markers for every pushed series, delivered until `deadline`
    /// (monotonic nanoseconds); then the sender stops and what is left is counted as dropped.
    func finish(with snapshot: MetricsSnapshot, deadline: Int64) async {
        let chunks = sampler.withLock { sampler in
            sampler.chunks(from: snapshot) + [sampler.staleMarkersForAll(at: snapshot.timestampMilliseconds)]
        }
        enqueue(chunks)
        drainDeadline.value.store(deadline, ordering: .relaxed)
        stopping.value.store(true, ordering: .releasing)
        stopSignal.signal()
        queue.wake()
        await withCheckedContinuation { continuation in
            let resumeNow = finished.withLock { state -> Bool in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func enqueue(_ chunks: [SampleChunk]) {
        let dropped = queue.append(chunks)
        if dropped > 0 {
            metrics.dropped(dropped, reason: "queue_full")
            logLimited("queue full: dropped the oldest samples", ["dropped": "\(dropped)"])
        }
        updatePending()
    }

    private func updatePending() {
        var pending = queue.count + inFlight.load(ordering: .relaxed)
        var oldest = inFlightOldest.load(ordering: .relaxed)
        if let disk {
            pending += disk.pendingSamples
            metrics.diskBytes?.set(Double(disk.diskBytes))
            if oldest == 0 { oldest = disk.oldestPendingTimestamp ?? 0 }
        }
        if oldest == 0 { oldest = queue.oldestTimestamp ?? 0 }
        metrics.pending.set(Double(pending))
        metrics.oldestPending.set(Double(oldest) / 1000)
    }

    private func threadFinished() {
        guard runningThreads.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        updatePending()
        disk?.close()
        let waiters = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Sender thread

    /// `dropped`: refused for good, or expired under `sample_age_limit` while retrying.
    private enum Delivery { case delivered, dropped, abandoned }

    private func senderLoop(transport: CurlTransport) {
        let encoder = WriteRequestEncoder()  // metadata requests
        let batches = OutgoingBatches(
            source: disk.map { .disk($0) } ?? .memory(queue), maxSamples: configuration.queue.maxSamplesPerSend)
        var compressed: [UInt8] = []
        while true {
            if let families = metadata.withLock({ current -> [RemoteMetadata]? in
                defer { current = nil }
                return current
            }), !families.isEmpty {
                Snappy.compress(encoder.encode([], metadata: families), into: &compressed)
                if deliver(compressed, samples: 0, transport: transport) == .abandoned {
                    abandon(holding: 0)
                    break
                }
            }
            let request: OutgoingBatches.Request?
            do {
                request = try batches.next(notBefore: oldestAllowedTimestamp()) { reason, samples in
                    metrics.dropped(samples, reason: reason)
                    logLimited("samples dropped before sending", ["reason": "\(reason)", "samples": "\(samples)"])
                }
            } catch {
                logLimited("disk queue read failed", ["error": "\(error.description)"])
                if !sleep(.seconds(1)) { break }
                continue
            }
            guard let request else {
                // With a disk queue, stop only once the persister has stored the last snapshot.
                if stopping.value.load(ordering: .acquiring)
                    && (disk == nil || persisterDone.load(ordering: .acquiring))
                {
                    break  // nil after the persister's last append: nothing is pending
                }
                batches.waitForWork(timeout: .seconds(1))
                continue
            }
            if disk == nil { inFlight.store(request.samples, ordering: .relaxed) }
            inFlightOldest.store(request.oldestTimestamp, ordering: .relaxed)
            let result = deliver(
                request.body, samples: request.samples, newestTimestamp: request.newestTimestamp, transport: transport)
            inFlight.store(0, ordering: .relaxed)
            inFlightOldest.store(0, ordering: .relaxed)
            if result == .abandoned {
                abandon(holding: request.samples)
                break
            }
            do {
                try batches.complete(request)
            } catch {
                logLimited("disk queue acknowledgement failed", ["error": "\(error.description)"])
            }
            updatePending()
        }
        updatePending()
    }

    /// The shutdown deadline passed with `held` samples in the sender's hands: in memory,
    /// they and the rest of the queue are counted as dropped; on disk they stay for the next start.
    private func abandon(holding held: Int) {
        if let disk {
            logger.warning(
                "shutdown deadline passed; samples stay on disk for the next start",
                metadata: ["samples": "\(disk.pendingSamples)"])
        } else {
            let left = held + queue.removeAll()
            metrics.dropped(left, reason: "shutdown")
            logger.warning("shutdown deadline passed; samples not delivered", metadata: ["dropped": "\(left)"])
        }
    }

    /// With `sample_age_limit`, the oldest timestamp (ms) still worth sending.
    private func oldestAllowedTimestamp() -> Int64? {
        configuration.queue.sampleAgeLimit.map { MonotonicClock.unixMilliseconds() - $0.milliseconds }
    }

    /// Sends one request, retrying as the policy says; during shutdown gives up at the deadline.
    private func deliver(_ body: [UInt8], samples: Int, newestTimestamp: Int64? = nil, transport: CurlTransport)
        -> Delivery
    {
        var attempt = 0
        while true {
            if attempt > 0, let newestTimestamp, let oldestAllowed = oldestAllowedTimestamp(),
                newestTimestamp < oldestAllowed
            {
                metrics.dropped(samples, reason: "too_old")
                logLimited("samples passed sample_age_limit while retrying; dropped", ["samples": "\(samples)"])
                return .dropped
            }
            var timeout = configuration.remoteTimeout
            if stopping.value.load(ordering: .acquiring) {
                let remaining = drainDeadline.value.load(ordering: .relaxed) - MonotonicClock.nanoseconds()
                guard remaining > 0 else { return .abandoned }
                timeout = min(timeout, .nanoseconds(remaining))
            }
            let started = MonotonicClock.nanoseconds()
            let outcome = transport.post(body, timeout: timeout)
            metrics.requestDuration.observe(Double(MonotonicClock.nanoseconds() - started) / 1e9)
            switch outcome {
            case .response(let status, _, _): metrics.request(code: String(status))
            case .failure: metrics.request(code: "error")
            }
            switch policy.decide(outcome) {
            case .delivered:
                metrics.samplesSent.increment(by: UInt64(samples))
                metrics.bytesSent.increment(by: UInt64(body.count))
                metrics.lastSuccess.set(Double(MonotonicClock.unixMilliseconds()) / 1000)
                status.recordSuccess()
                if attempt > 0 { logger.info("remote write recovered", metadata: ["attempts": "\(attempt + 1)"]) }
                return .delivered
            case .drop:
                metrics.samplesFailed.increment(by: UInt64(samples))
                let message = Self.describe(outcome)
                status.recordFailure(message)
                logLimited("remote write refused; batch dropped", ["error": "\(message)", "samples": "\(samples)"])
                return .dropped
            case .retry(let after):
                metrics.samplesRetried.increment(by: UInt64(samples))
                let message = Self.describe(outcome)
                status.recordFailure(message)
                let wait = after ?? policy.backoff(attempt: attempt)
                logLimited("remote write failed; retrying", ["error": "\(message)", "retry_in": "\(wait)"])
                attempt += 1
                if !sleep(wait) { return .abandoned }
            }
        }
    }

    /// Waits `duration` on this thread; returns false when shutdown's deadline ends it first.
    private func sleep(_ duration: Duration) -> Bool {
        let wakeAt = MonotonicClock.nanoseconds() + duration.nanoseconds
        while true {
            let now = MonotonicClock.nanoseconds()
            if stopping.value.load(ordering: .acquiring) && now >= drainDeadline.value.load(ordering: .relaxed) {
                return false
            }
            if now >= wakeAt { return true }
            var until = wakeAt
            if stopping.value.load(ordering: .acquiring) {
                until = min(until, drainDeadline.value.load(ordering: .relaxed))
            }
            _ = stopSignal.wait(timeout: .now() + .nanoseconds(Int(max(0, until - now))))
        }
    }

    private static func describe(_ outcome: TransportOutcome) -> String {
        switch outcome {
        case .failure(let message): return message
        case .response(let status, _, let body):
            return body.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(body)"
        }
    }

    private let lastLog = Mutex<(message: String, at: Int64)>(("", Int64.min))

    /// Logs a message at most every 30 s, or at once when it differs from the last one.
    private func logLimited(_ message: String, _ metadata: Logger.Metadata) {
        let key = message + (metadata["error"].map { "\($0)" } ?? "")
        let now = MonotonicClock.nanoseconds()
        let shouldLog = lastLog.withLock { last -> Bool in
            guard last.message != key || now - last.at >= 30_000_000_000 else { return false }
            last = (key, now)
            return true
        }
        if shouldLog { logger.warning("\(message)", metadata: metadata) }
    }
}

/// Moves a libcurl transport (not Sendable) from the target's init to its sender thread.
final class CurlTransportBox: @unchecked Sendable {
    let transport: CurlTransport
    init(_ transport: CurlTransport) { self.transport = transport }
}
