import ConveyorMetrics
import Dispatch
import Logging
import Synchronization

/// One remote-write endpoint: its producer, queues, sender thread and (with a disk queue)
/// persister thread.
///
/// Creating a target does no I/O. ``start(snapshot:)`` starts the sender thread, which opens
/// the disk queue (recovery) and the transport (credential files) off the Swift concurrency
/// pool and reports failures that must stop start-up. A memory target's flush loop samples
/// snapshots into the memory queue; a disk target's persister thread takes each snapshot
/// itself and writes it to disk, so a snapshot counts as taken only once it is stored.
final class RemoteWriteTarget: Sendable {
    let context: TargetContext
    let producer: Mutex<SnapshotProducer>
    let fileSystem: any DiskFileSystem
    let makeTransport: @Sendable (RemoteWriteTargetConfiguration) throws -> any RemoteWriteTransport
    /// Persister: flushes asked for since it last looked, and whether the final one was.
    let flushRequests = Atomic<Int>(0)
    let finalRequested = Atomic<Bool>(false)
    let persisterSignal = DispatchSemaphore(value: 0)
    let runningThreads = Atomic<Int>(0)
    let finished = Mutex(FinishState())

    /// Who waits for the target's threads to stop.
    struct FinishState {
        var done = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits whose time ran out before they were registered.
        var expired: Set<Int> = []
    }
    /// How long `finish` waits past the drain deadline for a thread stuck in a system call.
    static let finishGrace: Duration = .seconds(5)

    var configuration: RemoteWriteTargetConfiguration { context.configuration }
    var name: String { context.name }
    var metrics: RemoteWriteMetrics { context.metrics }
    var status: RemoteWriteTargetStatus.Counters { context.status }
    var hasPersister: Bool { configuration.storageDirectory != nil }

    /// Why a target could not be set up; names the setting.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    init(
        configuration: RemoteWriteTargetConfiguration, externalLabels: [String: String], registry: MetricsRegistry,
        logger: Logger, clock: any PushClock = SystemPushClock(), fileSystem: any DiskFileSystem = PosixFileSystem(),
        makeTransport: (@Sendable (RemoteWriteTargetConfiguration) throws -> any RemoteWriteTransport)? = nil
    ) {
        var logger = logger
        logger[metadataKey: "remote_name"] = "\(configuration.resolvedName)"
        logger[metadataKey: "url"] = "\(RedactedURL(configuration.url))"
        let metrics = RemoteWriteMetrics(
            registry: registry, remoteName: configuration.resolvedName, disk: configuration.storageDirectory != nil)
        context = TargetContext(
            configuration: configuration, metrics: metrics, logger: logger, clock: clock,
            seed: UInt64(bitPattern: clock.monotonicNanoseconds()))
        context.recordFormat.store(configuration.protobufMessage != .v1, ordering: .relaxed)
        let shared = context  // (the closures below may not capture self in init)
        producer = Mutex(
            SnapshotProducer(
                sampler: SnapshotSampler(
                    externalLabels: externalLabels,
                    sendsNativeHistograms: { shared.nativeHistograms.load(ordering: .relaxed) },
                    sendsExemplars: configuration.sendExemplars),
                memory: context.memory,
                maxSamplesPerRecord: DiskBatches.recordSamples(
                    maxSamplesPerSend: configuration.queue.maxSamplesPerSend),
                recordsAsV2: { shared.recordFormat.load(ordering: .relaxed) }))
        self.fileSystem = fileSystem
        self.makeTransport = makeTransport ?? { try CurlTransport(configuration: $0) }
        context.updatePending()
    }

    // MARK: - Flushing (Swift concurrency: no I/O here)

    /// Takes a snapshot: a memory target samples `snapshot()` now; a disk target asks its
    /// persister thread to take and store one.
    func flush(_ snapshot: () -> FlushInput) {
        if hasPersister {
            flushRequests.add(1, ordering: .relaxed)
            persisterSignal.signal()
            return
        }
        produce(snapshot(), final: false)
    }

    @discardableResult
    func produce(_ snapshot: MetricsSnapshot, final: Bool) -> SnapshotProducer.Outcome {
        produce(.snapshot(snapshot), final: final)
    }

    @discardableResult
    func produce(_ input: FlushInput, final: Bool) -> SnapshotProducer.Outcome {
        let wall = context.clock.wallMilliseconds()
        let outcome = producer.withLock { $0.produce(input, at: wall, final: final) }
        context.producedSamples.add(outcome.produced, ordering: .relaxed)
        report(outcome)
        context.wakeSender()
        context.updatePending()
        return outcome
    }

    /// Replaces the metadata waiting to be sent.
    func setMetadata(_ families: [RemoteMetadata]) { context.setMetadata(families) }

    /// A final snapshot and stale markers for every pushed series, delivered until `deadline`
    /// (monotonic nanoseconds); then the sender stops and what is left in memory is counted
    /// as dropped (what is on disk stays for the next start).
    func finish(with snapshot: @escaping @Sendable () -> FlushInput, deadline: Int64) async {
        context.shutdown.deadline.store(deadline, ordering: .releasing)
        if hasPersister {
            finalRequested.store(true, ordering: .releasing)
            persisterSignal.signal()
        } else {
            produce(snapshot(), final: true)
            context.shutdown.finalQueued.store(true, ordering: .releasing)
        }
        context.wakeSender()
        let remaining = Duration.nanoseconds(max(0, deadline - context.clock.monotonicNanoseconds()))
        if !(await waitUntilFinished(timeout: remaining + Self.finishGrace)) {
            context.logger.error(
                "a remote-write thread is still blocked (a hung disk?); shutdown goes on without it")
        }
        sweepAfterShutdown()
    }

    /// What is left in memory once the threads stopped — a final snapshot queued after the
    /// sender gave up at the deadline — is counted as dropped, never silently lost.
    func sweepAfterShutdown() {
        context.dropLeftInMemory()
        context.updatePending()
    }

    /// Waits until every thread of the target stopped, or `timeout`; false on timeout.
    func waitUntilFinished(timeout: Duration) async -> Bool {
        final class Outcome: Sendable { let timedOut = Atomic<Bool>(false) }
        let outcome = Outcome()
        let id = finished.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        let timer = Task.detached { [self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            let waiter = finished.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                if !state.done { state.expired.insert(id) }
                return nil
            }
            guard let waiter else { return }
            outcome.timedOut.store(true, ordering: .relaxed)
            waiter.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let registered = finished.withLock { state -> Bool in
                if state.done { return false }
                if state.expired.remove(id) != nil {
                    outcome.timedOut.store(true, ordering: .relaxed)
                    return false
                }
                state.waiters[id] = continuation
                return true
            }
            if !registered { continuation.resume() }
        }
        timer.cancel()
        return !outcome.timedOut.load(ordering: .relaxed)
    }

    /// Logs and counts what producing a snapshot did.
    func report(_ outcome: SnapshotProducer.Outcome) {
        let queue = configuration.queue
        for (reason, samples) in outcome.dropped {
            metrics.dropped(samples, reason: reason)
            switch reason {
            case "queue_full":
                // Expected while the receiver is down; with a healthy one the bound is too small.
                let healthy = context.receiverHealthy.load(ordering: .relaxed)
                context.logLimited(
                    healthy
                        ? "memory queue full while the receiver answers: raise max_memory_bytes"
                        : "memory queue full: dropped the oldest samples",
                    [
                        "dropped": "\(samples)", "snapshot_samples": "\(outcome.produced)",
                        "max_memory_bytes": "\(queue.maxMemoryBytes)",
                        "capacity": "\(queue.capacity.map(String.init) ?? "none")",
                    ], level: healthy ? .error : .warning)
            case "disk_full":
                context.logLimited("disk queue full: dropped the oldest samples", ["dropped": "\(samples)"])
            default:
                context.logLimited(
                    "two registry series have the same labels once empty label values are dropped; sending the first",
                    ["dropped": "\(samples)"])
            }
        }
        if outcome.produced * 8 > queue.maxMemoryBytes || outcome.produced > queue.capacity ?? Int.max {
            context.logLimited(
                "one snapshot is larger than the memory queue's bound",
                ["samples": "\(outcome.produced)", "max_memory_bytes": "\(queue.maxMemoryBytes)"], level: .error)
        }
        if let error = outcome.degradedBy {
            metrics.diskErrors?.increment()
            metrics.diskDegraded?.set(1)
            context.logger.error(
                "disk queue refuses writes; samples wait in memory (max_memory_bytes) until it takes them again",
                metadata: ["error": "\(error)"])
        }
        if outcome.recovered {
            metrics.diskDegraded?.set(0)
            context.logger.info("disk queue takes writes again")
        }
        if let behind = outcome.clockBehind {
            metrics.clockStepBacks.increment()
            context.logLimited(
                "wall clock is behind the last timestamp sent (stepped back?); stamping samples just above it",
                ["behind_ms": "\(behind)"])
        }
    }
}
