import ConveyorMetrics
import Logging

/// The sender's decisions as a state machine, free of threads and sleeping: what to POST
/// next, how long to wait, when to stop. The sender thread runs it against libcurl and real
/// time; the simulation runs it step by step against a scripted receiver and a fake clock.
///
/// Samples leave in waves (``SendWave``), oldest first (disk records before memory): up to
/// `shards` requests of a wave are in flight at once, each retried as ``RetryPolicy`` says
/// until it is delivered, refused for good, too old, or the shutdown deadline passes. No
/// series is in two streams of a wave, and a wave ends before the next starts, so every
/// series keeps its timestamp order. Between waves ``ShardController`` picks the shards.
final class SenderMachine {
    enum Step: Equatable {
        /// Start POSTing `body`; its answer goes to ``handle(_:id:)`` with `id`.
        case post(id: Int, body: [UInt8], format: RequestFormat, timeout: Duration)
        /// Nothing to start until `until` (monotonic ns), an answer, new work or shutdown;
        /// nil: no deadline.
        case wait(until: Int64?)
        case finished
    }

    /// The request a stream is sending: posted and unanswered, or waiting to be retried.
    struct Active {
        let id: Int
        var request: OutgoingRequest
        var attempt = 0
        var retryAt: Int64 = 0
        var postedAt: Int64 = 0
        var posted = false
    }

    struct Stream {
        var pending: ArraySlice<PendingRequest>
        var active: Active?
    }

    let target: TargetContext
    var sources: [any BatchSource]
    var wave: SendWave?
    var streams: [Stream] = []
    var waveSource: (any BatchSource)?
    /// Where the next stream to start is looked for (streams start in turn).
    var nextStream = 0
    var nextID = 0
    var controller: ShardController
    let metadataEncoder = WriteRequestEncoder()
    let encoder = RequestEncoder()
    var compressed: [UInt8] = []
    var negotiation: ProtocolNegotiation
    /// An explicit 2.0 target's receiver answered without the written counts (warned once).
    private var warnedUnconfirmed = false
    private(set) var isFinished = false
    /// Disk reads that failed in a row; the record is given up after `maxReadFailures`.
    private var readFailures = 0
    static let maxReadFailures = 5

    init(target: TargetContext, memory: RemoteWriteQueue) {
        self.target = target
        self.sources = [MemoryBatches(queue: memory)]
        let queue = target.configuration.queue
        controller = ShardController(
            minShards: queue.minShards, maxShards: queue.maxShards, maxSamplesPerSend: queue.maxSamplesPerSend)
        negotiation = ProtocolNegotiation(
            setting: target.configuration.protobufMessage, probeInterval: target.configuration.protocolProbeInterval)
        target.metrics.protocolInUse(negotiation.current)
        target.metrics.shards.set(Double(controller.shards))
        target.metrics.shardsDesired.set(Double(controller.desired))
    }

    /// Reads `disk` before memory from now on.
    func attach(disk: DiskQueue) {
        sources.insert(DiskBatches(disk: disk), at: 0)
    }

    /// The format requests are sent in now.
    var format: RequestFormat { negotiation.current }

    /// Requests posted and not answered yet.
    var inFlight: Int { streams.reduce(0) { $0 + ($1.active?.posted == true ? 1 : 0) } }

    /// Requests being sent or waiting to be retried (at most the shards).
    var activeCount: Int { streams.reduce(0) { $0 + ($1.active == nil ? 0 : 1) } }

    /// What to do now (and the pending figures published).
    func step() -> Step {
        defer { target.updatePending() }
        let clock = target.clock
        while true {
            guard !isFinished else { return .finished }
            // Read before looking at the queues: once the final samples are queued, an empty
            // queue means everything was taken.
            let finalQueued = target.shutdown.finalQueued.load(ordering: .acquiring)
            let deadline = target.shutdown.deadline.load(ordering: .acquiring)
            let now = clock.monotonicNanoseconds()
            if now >= deadline {
                abandon()
                return .finished
            }
            if wave != nil {
                if let step = advanceWave(now: now, deadline: deadline) { return step }
                continue
            }
            // Remote write 2.0 carries metadata on every series: only 1.0 sends it on its own.
            // (Checked first, so that metadata queued while on 2.0 waits for a fall back.)
            if negotiation.current == .v1, let families = target.takeMetadata(), !families.isEmpty {
                begin(
                    SendWave(
                        streams: [
                            [
                                PendingRequest(
                                    content: .metadata(families), samples: 0, oldestTimestamp: 0, newestTimestamp: 0)
                            ]
                        ], origin: .metadata), from: nil)
                continue
            }
            if !finalQueued, let until = batchDeadline(now: now) { return .wait(until: min(until, deadline)) }
            let taken: (SendWave, any BatchSource)?
            do {
                taken = try takeNext()
                readFailures = 0
            } catch {
                target.metrics.diskErrors?.increment()
                readFailures += 1
                if readFailures >= Self.maxReadFailures, let disk = target.disk {
                    // A record that cannot be read must not hold back everything behind it.
                    readFailures = 0
                    let samples = disk.skipOldest()
                    target.metrics.dropped(samples, reason: "disk_error")
                    target.logger.error(
                        "disk queue record unreadable \(Self.maxReadFailures) times; dropped",
                        metadata: ["error": "\(error.description)", "samples": "\(samples)"])
                    continue
                }
                target.logLimited("disk queue read failed", ["error": "\(error.description)"])
                return .wait(until: min(now.saturatingAdding(1_000_000_000), deadline))
            }
            guard let (next, source) = taken else {
                if finalQueued {
                    isFinished = true
                    return .finished
                }
                return .wait(until: deadline == Int64.max ? nil : deadline)
            }
            begin(next, from: source)
        }
    }

    /// Takes the answer to the request posted with `id`.
    func handle(_ outcome: TransportOutcome, id: Int) {
        guard let index = streams.firstIndex(where: { $0.active?.id == id && $0.active?.posted == true }),
            let active = streams[index].active
        else { return }
        let request = active.request
        streams[index].active?.posted = false
        let now = target.clock.monotonicNanoseconds()
        target.metrics.requestDuration.observe(Double(max(0, now - active.postedAt)) / 1e9)
        switch outcome {
        case .response(let status, _, _, let written):
            target.metrics.request(code: String(status))
            if let written {
                target.metrics.reportedWritten(written)
                if (400..<500).contains(status), written.samples > 0 {
                    target.logLimited(
                        "receiver refused the request but wrote part of it",
                        [
                            "status": "\(status)", "samples_written": "\(written.samples)",
                            "histograms_written": "\(written.histograms)", "exemplars_written": "\(written.exemplars)",
                        ])
                }
            }
        case .failure: target.metrics.request(code: "error")
        }
        if case .response(500, _, let body, _) = outcome, body.contains(Self.nativeHistogramsDisabled),
            refuseNativeHistograms(index)
        {
            return
        }
        if request.format == .v2, let refusal = ProtocolNegotiation.refusal(of: outcome) {
            if negotiation.fallBack(now: now) {
                target.metrics.protocolFallbacks.increment()
                switchedFormat(to: .v1)
                target.logger.warning(
                    "the receiver does not take remote write 2.0; sending 1.0 (the same samples again)",
                    metadata: [
                        "answer": "\(refusal)", "retry_2_0_in": "\(target.configuration.protocolProbeInterval)",
                    ])
                resendAsV1(index)
                return
            }
            if negotiation.current == .v1 {
                // Sent in parallel before the fall back: it goes again as 1.0 too.
                resendAsV1(index)
                return
            }
            if case .response(let status, _, _, _) = outcome, (200..<300).contains(status), !warnedUnconfirmed {
                warnedUnconfirmed = true
                target.logger.warning(
                    "the receiver did not confirm what it wrote; a 1.x receiver stores nothing from 2.0",
                    metadata: ["status": "\(status)", "hint": "protobuf_message: auto falls back to 1.0"])
            }
        }
        switch target.policy.decide(outcome, now: target.clock.wallMilliseconds()) {
        case .delivered:
            target.metrics.samplesSent.increment(by: UInt64(request.samples))
            target.metrics.bytesSent.increment(by: UInt64(request.body.count))
            target.metrics.lastSuccess.set(Double(target.clock.wallMilliseconds()) / 1000)
            target.status.recordSuccess()
            target.receiverHealthy.store(true, ordering: .relaxed)
            controller.delivered(samples: request.samples, nanoseconds: now - active.postedAt)
            if active.attempt > 0 {
                target.logger.info("remote write recovered", metadata: ["attempts": "\(active.attempt + 1)"])
            }
            release(index)
        case .drop:
            target.metrics.samplesFailed.increment(by: UInt64(request.samples))
            let message = Self.describe(outcome)
            target.status.recordFailure(message)
            target.logLimited(
                "remote write refused; batch dropped", ["error": "\(message)", "samples": "\(request.samples)"])
            release(index)
        case .retry(let after):
            target.metrics.samplesRetried.increment(by: UInt64(request.samples))
            target.receiverHealthy.store(false, ordering: .relaxed)
            let message = Self.describe(outcome)
            target.status.recordFailure(message)
            let wait = after ?? target.policy.backoff(attempt: active.attempt, random: target.random())
            target.logLimited("remote write failed; retrying", ["error": "\(message)", "retry_in": "\(wait)"])
            streams[index].active?.attempt += 1
            streams[index].active?.retryAt = now.saturatingAdding(wait.nanoseconds)
        }
    }

    /// Done with the request of stream `index` (delivered, refused, too old).
    func release(_ index: Int) {
        guard let request = streams[index].active?.request else { return }
        streams[index].active = nil
        if case .disk = request.origin { target.settledOnDisk.add(request.samples, ordering: .relaxed) }
        if case .memory = request.origin {
            target.heldMemory.subtract(request.samples, ordering: .relaxed)
            do throws(DiskQueueError) {
                try target.disk?.noteDelivered(newestTimestamp: request.newestTimestamp)
            } catch {
                target.metrics.diskErrors?.increment()
                target.logLimited("disk queue acknowledgement failed", ["error": "\(error.description)"])
            }
        }
        target.updatePending()
    }

    /// Replaces the request of stream `index` and sends it again at once.
    func replace(_ index: Int, with request: OutgoingRequest) {
        streams[index].active?.request = request
        streams[index].active?.attempt = 0
        streams[index].active?.retryAt = 0
    }

    /// The shutdown deadline passed: what memory holds (and the wave holds) is counted as
    /// dropped; what is on disk stays for the next start.
    private func abandon() {
        isFinished = true
        let held = target.heldMemory.load(ordering: .relaxed)
        if case .disk(let batch) = wave?.origin, let disk = target.disk {
            // Delivered requests of the wave stay on disk (a restart sends them again) but
            // are settled; if the disk limit took the segment meanwhile, the rest is dropped.
            let evicted = disk.abandon(batch)
            if evicted > 0 {
                target.metrics.dropped(
                    max(0, evicted - target.settledOnDisk.load(ordering: .relaxed)), reason: "disk_full")
                target.settledOnDisk.store(0, ordering: .relaxed)
            }
        }
        wave = nil
        streams = []
        target.heldMemory.store(0, ordering: .relaxed)
        target.dropLeftInMemory(held: held)
        if let disk = target.disk, disk.pendingSamples > 0 {
            target.logger.warning(
                "shutdown deadline passed; samples stay on disk for the next start",
                metadata: ["samples": "\(disk.pendingSamples)"])
        }
    }

    /// With `sample_age_limit`, the oldest timestamp (ms) still worth sending.
    func oldestAllowedTimestamp() -> Int64? {
        target.configuration.queue.sampleAgeLimit.map { target.clock.wallMilliseconds() - $0.milliseconds }
    }

    func switchedFormat(to format: RequestFormat) {
        target.recordFormat.store(format == .v2, ordering: .relaxed)
        target.metrics.protocolInUse(format)
    }

    static func describe(_ outcome: TransportOutcome) -> String {
        switch outcome {
        case .failure(let message): return message
        case .response(let status, _, let body, _):
            return body.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(body)"
        }
    }
}
