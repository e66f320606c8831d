import ConveyorMetrics
import Dispatch
import Logging
import Synchronization

/// The sender thread: takes requests from the batch source oldest first, delivers each with
/// retries and backoff, and acknowledges it; during shutdown, stops at the drain deadline.
extension RemoteWriteTarget {
    /// `dropped`: refused for good, or expired under `sample_age_limit` while retrying.
    enum Delivery { case delivered, dropped, abandoned }

    func senderLoop(transport: CurlTransport) {
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
    func abandon(holding held: Int) {
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
    func oldestAllowedTimestamp() -> Int64? {
        configuration.queue.sampleAgeLimit.map { WallClock.unixMilliseconds() - $0.milliseconds }
    }

    /// Sends one request, retrying as the policy says; during shutdown gives up at the deadline.
    func deliver(_ body: [UInt8], samples: Int, newestTimestamp: Int64? = nil, transport: CurlTransport)
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
            for failure in transport.takeCredentialFailures() {
                metrics.credentialReadFailures.increment()
                logger.warning("\(failure)")
            }
            metrics.requestDuration.observe(Double(MonotonicClock.nanoseconds() - started) / 1e9)
            switch outcome {
            case .response(let status, _, _): metrics.request(code: String(status))
            case .failure: metrics.request(code: "error")
            }
            switch policy.decide(outcome) {
            case .delivered:
                metrics.samplesSent.increment(by: UInt64(samples))
                metrics.bytesSent.increment(by: UInt64(body.count))
                metrics.lastSuccess.set(Double(WallClock.unixMilliseconds()) / 1000)
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
    func sleep(_ duration: Duration) -> Bool {
        let wakeAt = MonotonicClock.nanoseconds().saturatingAdding(duration.nanoseconds)
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

    static func describe(_ outcome: TransportOutcome) -> String {
        switch outcome {
        case .failure(let message): return message
        case .response(let status, _, let body):
            return body.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(body)"
        }
    }
}
