import ConveyorMetrics

/// A wave from start to end: taking it from a queue, starting its streams' requests while
/// shards are free, encoding each as it starts, and, once every stream is done,
/// acknowledging it and choosing the shards for the next.
extension SenderMachine {
    /// With `batch_send_deadline`, when less than a request waits in memory (and nothing on
    /// disk), the time (monotonic ns) until which the sender waits for more.
    func batchDeadline(now: Int64) -> Int64? {
        let deadline = target.configuration.queue.batchSendDeadline
        guard deadline > .zero, target.disk.map({ $0.pendingSamples == 0 }) ?? true else { return nil }
        let memory = target.memory
        guard memory.count < target.configuration.queue.maxSamplesPerSend, let oldest = memory.oldestTimestamp
        else { return nil }
        // (At most the deadline: timestamps held above a clock that stepped back would
        // otherwise stretch the wait.)
        let remaining = min(
            deadline.milliseconds, deadline.milliseconds - (target.clock.wallMilliseconds() - oldest))
        guard remaining > 0 else { return nil }
        return now.saturatingAdding(remaining.multipliedReportingOverflow(by: 1_000_000).partialValue)
    }

    func takeNext() throws(DiskQueueError) -> (SendWave, any BatchSource)? {
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

    func begin(_ next: SendWave, from source: (any BatchSource)?) {
        wave = next
        waveSource = source
        streams = next.streams.map { Stream(pending: $0[...], active: nil) }
        nextStream = 0
        switch next.origin {
        case .memory:
            target.heldMemory.store(next.samples, ordering: .relaxed)
            target.heldOldest.store(next.oldestTimestamp, ordering: .relaxed)
        case .disk(let batch):
            // Counted as dropped when read; on disk until the wave is acknowledged.
            target.settledOnDisk.add(batch.corruptSamples, ordering: .relaxed)
        case .metadata:
            break
        }
    }

    /// The next step within the wave, or nil when it ended (or a request was settled
    /// without posting) and the caller should look again.
    func advanceWave(now: Int64, deadline: Int64) -> Step? {
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

    func post(_ index: Int, now: Int64, deadline: Int64) -> Step? {
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
    func prepare(_ pending: PendingRequest) -> OutgoingRequest? {
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
    func finishWave() {
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
}
