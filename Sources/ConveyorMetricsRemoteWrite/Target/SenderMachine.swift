import ConveyorMetrics
import Logging

/// The sender's decisions as a state machine, free of threads and sleeping: what to POST
/// next, how long to wait, when to stop. The sender thread runs it against libcurl and real
/// time; the simulation runs it step by step against a scripted receiver and a fake clock.
///
/// Requests leave one at a time, oldest samples first (disk records before memory), each
/// retried as ``RetryPolicy`` says until it is delivered, refused for good, too old, or the
/// shutdown deadline passes.
final class SenderMachine {
    enum Step: Equatable {
        case post(body: [UInt8], format: RequestFormat, timeout: Duration)
        /// Nothing to do until `until` (monotonic ns), new work or shutdown; nil: no deadline.
        case wait(until: Int64?)
        case finished
    }

    let target: TargetContext
    private var sources: [any BatchSource]
    private var current: OutgoingRequest?
    private var attempt = 0
    private var retryAt: Int64 = 0
    private var postedAt: Int64 = 0
    private let metadataEncoder = WriteRequestEncoder()
    private let encoder = RequestEncoder()
    private var compressed: [UInt8] = []
    private(set) var negotiation: ProtocolNegotiation
    /// An explicit 2.0 target's receiver answered without the written counts (warned once).
    private var warnedUnconfirmed = false
    private(set) var isFinished = false
    /// Disk reads that failed in a row; the record is given up after `maxReadFailures`.
    private var readFailures = 0
    static let maxReadFailures = 5

    init(target: TargetContext, memory: RemoteWriteQueue) {
        self.target = target
        self.sources = [MemoryBatches(queue: memory, encoder: encoder)]
        negotiation = ProtocolNegotiation(
            setting: target.configuration.protobufMessage, probeInterval: target.configuration.protocolProbeInterval)
        target.metrics.protocolInUse(negotiation.current)
    }

    /// Reads `disk` before memory from now on.
    func attach(disk: DiskQueue) {
        sources.insert(DiskBatches(disk: disk), at: 0)
    }

    /// The format requests are sent in now.
    var format: RequestFormat { negotiation.current }

    /// Samples of a memory request the sender holds (they are in no queue meanwhile).
    var heldMemorySamples: Int {
        if case .memory = current?.origin { return current?.samples ?? 0 }
        return 0
    }

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
            if let request = current {
                if now < retryAt { return .wait(until: min(retryAt, deadline)) }
                if attempt > 0, request.samples > 0, let oldestAllowed = oldestAllowedTimestamp(),
                    request.newestTimestamp < oldestAllowed
                {
                    target.metrics.dropped(request.samples, reason: "too_old")
                    target.logLimited(
                        "samples passed sample_age_limit while retrying; dropped",
                        [
                            "samples": "\(request.samples)"
                        ])
                    release(request)
                    continue
                }
                var timeout = target.configuration.remoteTimeout
                if deadline != Int64.max { timeout = min(timeout, .nanoseconds(deadline - now)) }
                postedAt = now
                return .post(body: request.body, format: request.format, timeout: timeout)
            }
            // Remote write 2.0 carries metadata on every series: only 1.0 sends it on its own.
            // (Checked first, so that metadata queued while on 2.0 waits for a fall back.)
            if negotiation.current == .v1, let families = target.takeMetadata(), !families.isEmpty {
                Snappy.compress(metadataEncoder.encode([], metadata: families), into: &compressed)
                current = OutgoingRequest(
                    body: compressed, format: .v1, samples: 0, oldestTimestamp: 0, newestTimestamp: 0,
                    origin: .metadata)
                attempt = 0
                continue
            }
            do {
                current = try takeNext()
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
                retryAt = now.saturatingAdding(1_000_000_000)
                return .wait(until: min(retryAt, deadline))
            }
            attempt = 0
            if let request = current, case .memory = request.origin {
                target.heldMemory.store(request.samples, ordering: .relaxed)
                target.heldOldest.store(request.oldestTimestamp, ordering: .relaxed)
            }
            if current == nil {
                if finalQueued {
                    isFinished = true
                    return .finished
                }
                return .wait(until: deadline == Int64.max ? nil : deadline)
            }
        }
    }

    private func takeNext() throws(DiskQueueError) -> OutgoingRequest? {
        let notBefore = oldestAllowedTimestamp()
        let (format, probing) = negotiation.format(now: target.clock.monotonicNanoseconds())
        if probing {
            switchedFormat(to: .v2)
            target.logger.info(
                "trying remote write 2.0 again", metadata: ["protobuf_message": "\(RemoteWriteProtocol.v2Message)"])
        }
        for source in sources {
            let request = try source.next(
                maxSamples: target.configuration.queue.maxSamplesPerSend, notBefore: notBefore, format: format
            ) { reason, samples in
                target.metrics.dropped(samples, reason: reason)
                target.logLimited("samples dropped before sending", ["reason": "\(reason)", "samples": "\(samples)"])
            }
            if let request { return request }
        }
        return nil
    }

    /// Takes the answer to the request of the last `.post` step.
    func handle(_ outcome: TransportOutcome) {
        guard let request = current else { return }
        let now = target.clock.monotonicNanoseconds()
        target.metrics.requestDuration.observe(Double(max(0, now - postedAt)) / 1e9)
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
            refuseNativeHistograms(request)
        {
            return
        }
        if request.format == .v2, let refusal = ProtocolNegotiation.refusal(of: outcome) {
            if negotiation.fallBack(now: now) {
                fallBack(request, because: refusal)
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
            if attempt > 0 {
                target.logger.info("remote write recovered", metadata: ["attempts": "\(attempt + 1)"])
            }
            release(request)
        case .drop:
            target.metrics.samplesFailed.increment(by: UInt64(request.samples))
            let message = Self.describe(outcome)
            target.status.recordFailure(message)
            target.logLimited(
                "remote write refused; batch dropped", ["error": "\(message)", "samples": "\(request.samples)"])
            release(request)
        case .retry(let after):
            target.metrics.samplesRetried.increment(by: UInt64(request.samples))
            target.receiverHealthy.store(false, ordering: .relaxed)
            let message = Self.describe(outcome)
            target.status.recordFailure(message)
            let wait = after ?? target.policy.backoff(attempt: attempt, random: target.random())
            target.logLimited("remote write failed; retrying", ["error": "\(message)", "retry_in": "\(wait)"])
            attempt += 1
            retryAt = now.saturatingAdding(wait.nanoseconds)
        }
    }

    /// Done with `request` (delivered, refused, too old): acknowledges it on disk.
    private func release(_ request: OutgoingRequest) {
        current = nil
        attempt = 0
        retryAt = 0
        do throws(DiskQueueError) {
            switch request.origin {
            case .disk:
                for source in sources { try source.complete(request) }
            case .memory:
                try target.disk?.noteDelivered(newestTimestamp: request.newestTimestamp)
            case .metadata:
                break
            }
        } catch {
            target.metrics.diskErrors?.increment()
            target.logLimited("disk queue acknowledgement failed", ["error": "\(error.description)"])
        }
        target.heldMemory.store(0, ordering: .relaxed)
        target.heldOldest.store(0, ordering: .relaxed)
        target.updatePending()
    }

    /// The shutdown deadline passed: what memory holds (and the request held) is counted as
    /// dropped; what is on disk stays for the next start.
    private func abandon() {
        isFinished = true
        let held = heldMemorySamples
        if case .disk(let batch) = current?.origin, let disk = target.disk {
            target.metrics.dropped(disk.abandon(batch), reason: "disk_full")
        }
        current = nil
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

    /// The receiver does not take 2.0: the same samples go again, as 1.0, at once (nothing
    /// counted as sent or failed), and requests are 1.0 from now on.
    private func fallBack(_ request: OutgoingRequest, because reason: String) {
        target.metrics.protocolFallbacks.increment()
        switchedFormat(to: .v1)
        target.logger.warning(
            "the receiver does not take remote write 2.0; sending 1.0 (the same samples again)",
            metadata: [
                "answer": "\(reason)", "retry_2_0_in": "\(target.configuration.protocolProbeInterval)",
            ])
        var again = request
        again.format = .v1
        switch request.origin {
        case .memory(let chunks):
            again.body = encoder.encode(chunks, as: .v1)
        case .disk:
            do throws(RequestEncoder.TranscodeError) {
                again.body = try RequestEncoder.v1(fromV2: request.body)
            } catch {
                target.metrics.dropped(request.samples, reason: "corrupt")
                target.logLimited("a stored request could not be turned into 1.0; dropped", ["error": "\(error)"])
                release(request)
                return
            }
        case .metadata:
            break
        }
        current = again
        attempt = 0
        retryAt = 0
    }

    /// What Prometheus answers (500) to native histograms when they are not enabled; it
    /// stores nothing of that request.
    static let nativeHistogramsDisabled = "native histograms are disabled"

    /// The receiver refused the native histograms of `request`: they are dropped (counted),
    /// the rest goes again at once, and snapshots from now on carry classic buckets instead.
    /// False when the request held no histograms (the 500 is then an ordinary failure).
    private func refuseNativeHistograms(_ request: OutgoingRequest) -> Bool {
        var again = request
        let dropped: Int
        switch request.origin {
        case .memory(let chunks):
            let stripped = HistogramStripping.withoutHistograms(chunks)
            dropped = stripped.dropped
            guard dropped > 0 else { return false }
            again = OutgoingRequest(
                body: stripped.chunks.isEmpty ? [] : encoder.encode(stripped.chunks, as: request.format),
                format: request.format, samples: request.samples - dropped, oldestTimestamp: request.oldestTimestamp,
                newestTimestamp: request.newestTimestamp, origin: .memory(stripped.chunks))
        case .disk:
            do throws(RequestEncoder.TranscodeError) {
                let stripped = try HistogramStripping.withoutHistograms(body: request.body, format: request.format)
                dropped = stripped.dropped
                guard dropped > 0 else { return false }
                again = OutgoingRequest(
                    body: stripped.body, format: request.format, samples: request.samples - dropped,
                    oldestTimestamp: request.oldestTimestamp, newestTimestamp: request.newestTimestamp,
                    origin: request.origin)
            } catch {
                return false
            }
        case .metadata:
            return false
        }
        if target.nativeHistograms.exchange(false, ordering: .relaxed) {
            target.metrics.nativeHistogramsRefused.increment()
            target.logger.warning(
                "the receiver refused native histograms; sending classic buckets from now on",
                metadata: [
                    "answer": "HTTP 500: \(Self.nativeHistogramsDisabled)",
                    "hint": "enable native histograms on the receiver, or set send_native_histograms: false",
                ])
        }
        target.metrics.dropped(dropped, reason: "native_histograms_refused")
        if again.samples <= 0 {
            release(request)
            return true
        }
        current = again
        attempt = 0
        retryAt = 0
        return true
    }

    private func switchedFormat(to format: RequestFormat) {
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
