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
    private var sources: [any BatchSource]
    private var wave: SendWave?
    private(set) var streams: [Stream] = []
    private var waveSource: (any BatchSource)?
    /// Where the next stream to start is looked for (streams start in turn).
    private var nextStream = 0
    private var nextID = 0
    private(set) var controller: ShardController
    let metadataEncoder = WriteRequestEncoder()
    let encoder = RequestEncoder()
    private var compressed: [UInt8] = []
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
        controller = ShardController(minShards: queue.minShards, maxShards: queue.maxShards)
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
    private var activeCount: Int { streams.reduce(0) { $0 + ($1.active == nil ? 0 : 1) } }

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

    /// With `batch_send_deadline`, when less than a request waits in memory (and nothing on
    /// disk), the time (monotonic ns) until which the sender waits for more.
    private func batchDeadline(now: Int64) -> Int64? {
        let deadline = target.configuration.queue.batchSendDeadline
        guard deadline > .zero, target.disk.map({ $0.pendingSamples == 0 }) ?? true else { return nil }
        let memory = target.memory
        guard memory.count < target.configuration.queue.maxSamplesPerSend, let oldest = memory.oldestTimestamp
        else { return nil }
        let remaining = deadline.milliseconds - (target.clock.wallMilliseconds() - oldest)
        guard remaining > 0 else { return nil }
        return now.saturatingAdding(remaining.multipliedReportingOverflow(by: 1_000_000).partialValue)
    }

    private func takeNext() throws(DiskQueueError) -> (SendWave, any BatchSource)? {
        let notBefore = oldestAllowedTimestamp()
        let (_, probing) = negotiation.format(now: target.clock.monotonicNanoseconds())
        if probing {
            switchedFormat(to: .v2)
            target.logger.info(
                "trying remote write 2.0 again", metadata: ["protobuf_message": "\(RemoteWriteProtocol.v2Message)"])
        }
        for source in sources {
            let wave = try source.nextWave(
                shards: controller.shards, maxSamples: target.configuration.queue.maxSamplesPerSend,
                notBefore: notBefore
            ) { reason, samples in
                target.metrics.dropped(samples, reason: reason)
                target.logLimited("samples dropped before sending", ["reason": "\(reason)", "samples": "\(samples)"])
            }
            if let wave { return (wave, source) }
        }
        return nil
    }

    private func begin(_ next: SendWave, from source: (any BatchSource)?) {
        wave = next
        waveSource = source
        streams = next.streams.map { Stream(pending: $0[...], active: nil) }
        nextStream = 0
        if case .memory = next.origin {
            target.heldMemory.store(next.samples, ordering: .relaxed)
            target.heldOldest.store(next.oldestTimestamp, ordering: .relaxed)
        }
    }

    /// The next step within the wave, or nil when it ended (or a request was settled
    /// without posting) and the caller should look again.
    private func advanceWave(now: Int64, deadline: Int64) -> Step? {
        var earliest: Int64?
        // Requests whose retry time has come go again first.
        for index in streams.indices {
            guard let active = streams[index].active, !active.posted else { continue }
            if now < active.retryAt {
                earliest = min(earliest ?? active.retryAt, active.retryAt)
                continue
            }
            if active.attempt > 0, active.request.samples > 0, let oldestAllowed = oldestAllowedTimestamp(),
                active.request.newestTimestamp < oldestAllowed
            {
                target.metrics.dropped(active.request.samples, reason: "too_old")
                target.logLimited(
                    "samples passed sample_age_limit while retrying; dropped",
                    ["samples": "\(active.request.samples)"])
                release(index)
                return nil
            }
            return post(index, now: now, deadline: deadline)
        }
        // Then new requests, while shards are free.
        if activeCount < controller.shards {
            for offset in 0..<streams.count {
                let index = (nextStream + offset) % streams.count
                guard streams[index].active == nil, let pending = streams[index].pending.first else { continue }
                streams[index].pending.removeFirst()
                nextStream = (index + 1) % streams.count
                guard let request = prepare(pending) else { return nil }
                nextID &+= 1
                streams[index].active = Active(id: nextID, request: request)
                return post(index, now: now, deadline: deadline)
            }
        }
        if activeCount == 0 {
            finishWave()
            return nil
        }
        let until = min(earliest ?? deadline, deadline)
        return .wait(until: until == Int64.max ? nil : until)
    }

    private func post(_ index: Int, now: Int64, deadline: Int64) -> Step? {
        guard var active = streams[index].active else { return nil }
        active.posted = true
        active.postedAt = now
        streams[index].active = active
        var timeout = target.configuration.remoteTimeout
        if deadline != Int64.max { timeout = min(timeout, .nanoseconds(deadline - now)) }
        return .post(id: active.id, body: active.request.body, format: active.request.format, timeout: timeout)
    }

    /// The request for `pending` in the format in use; nil when it cannot be made (a stored
    /// request that does not turn into 1.0: dropped and counted).
    private func prepare(_ pending: PendingRequest) -> OutgoingRequest? {
        let format = negotiation.current
        switch pending.content {
        case .memory(let chunks):
            return OutgoingRequest(
                body: encoder.encode(chunks, as: format), format: format, samples: pending.samples,
                oldestTimestamp: pending.oldestTimestamp, newestTimestamp: pending.newestTimestamp,
                origin: .memory(chunks))
        case .stored(let records):
            // Several records only ever 1.0 ones, whose blocks concatenate.
            guard let body = records.count == 1 ? records.first.map(Array.init) : Snappy.concatenate(records) else {
                target.metrics.dropped(pending.samples, reason: "corrupt")
                target.settledOnDisk.add(pending.samples, ordering: .relaxed)
                target.logLimited("stored records could not be joined into one request; dropped", [:])
                return nil
            }
            var request = OutgoingRequest(
                body: body, format: RequestFormat.detect(compressed: body) ?? .v1, samples: pending.samples,
                oldestTimestamp: pending.oldestTimestamp, newestTimestamp: pending.newestTimestamp, origin: .disk)
            if request.format == .v2 && format == .v1 {
                // Stored while the target spoke 2.0; it has fallen back since.
                do throws(RequestEncoder.TranscodeError) {
                    request.body = try RequestEncoder.v1(fromV2: request.body)
                    request.format = .v1
                } catch {
                    target.metrics.dropped(pending.samples, reason: "corrupt")
                    target.settledOnDisk.add(pending.samples, ordering: .relaxed)
                    target.logLimited("a stored request could not be turned into 1.0; dropped", ["error": "\(error)"])
                    return nil
                }
            }
            return request
        case .metadata(let families):
            Snappy.compress(metadataEncoder.encode([], metadata: families), into: &compressed)
            return OutgoingRequest(
                body: compressed, format: .v1, samples: 0, oldestTimestamp: 0, newestTimestamp: 0, origin: .metadata)
        }
    }

    /// Every stream of the wave is done: a disk wave is acknowledged, and the shards for the
    /// next are chosen.
    private func finishWave() {
        guard let done = wave else { return }
        wave = nil
        streams = []
        do throws(DiskQueueError) {
            try waveSource?.complete(done)
        } catch {
            target.metrics.diskErrors?.increment()
            target.logLimited("disk queue acknowledgement failed", ["error": "\(error.description)"])
        }
        waveSource = nil
        target.settledOnDisk.store(0, ordering: .relaxed)
        target.heldMemory.store(0, ordering: .relaxed)
        target.heldOldest.store(0, ordering: .relaxed)
        let before = controller.shards
        let shards = controller.update(
            produced: target.producedSamples.load(ordering: .relaxed), pending: target.pendingSamples,
            pushIntervalSeconds: Double(target.configuration.pushInterval.nanoseconds) / 1e9,
            now: target.clock.monotonicNanoseconds())
        target.metrics.shardsDesired.set(Double(controller.desired))
        if shards != before {
            target.metrics.shards.set(Double(shards))
            target.logger.debug("resharded", metadata: ["from": "\(before)", "to": "\(shards)"])
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
    private func oldestAllowedTimestamp() -> Int64? {
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
