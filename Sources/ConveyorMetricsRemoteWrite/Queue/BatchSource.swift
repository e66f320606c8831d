import ConveyorMetrics

/// One request the sender POSTs: the snappy-compressed request, its format and what it carries.
struct OutgoingRequest {
    /// Where its samples come from; memory keeps the chunks, so the request can be encoded
    /// again in another format.
    enum Origin { case memory([SampleChunk]), disk(DiskQueue.Batch), metadata }

    var body: [UInt8]
    var format: RequestFormat
    let samples: Int
    let oldestTimestamp: Int64
    let newestTimestamp: Int64
    let origin: Origin
}

/// Where the sender takes its requests from: queued samples in memory or records on disk.
/// Used by the sender thread only.
protocol BatchSource: AnyObject {
    /// The next request, oldest samples first, in `format` (a disk record stored as 1.0 stays
    /// 1.0, which every receiver takes); nil when nothing is queued. Samples dropped on the
    /// way (older than `notBefore`, or failing their checksum) are reported to `dropped`.
    func next(
        maxSamples: Int, notBefore: Int64?, format: RequestFormat, dropped: (_ reason: String, _ samples: Int) -> Void
    ) throws(DiskQueueError) -> OutgoingRequest?
    /// Releases a request the receiver accepted or refused for good.
    func complete(_ request: OutgoingRequest) throws(DiskQueueError)
}

/// Queued snapshot chunks, encoded and compressed when taken.
final class MemoryBatches: BatchSource {
    let queue: RemoteWriteQueue
    private let encoder: RequestEncoder

    init(queue: RemoteWriteQueue, encoder: RequestEncoder) {
        self.queue = queue
        self.encoder = encoder
    }

    func next(maxSamples: Int, notBefore: Int64?, format: RequestFormat, dropped: (String, Int) -> Void)
        -> OutgoingRequest?
    {
        while true {
            let batch = queue.take(upTo: maxSamples)
            guard !batch.isEmpty else { return nil }
            var kept = batch
            if let notBefore {
                kept = batch.filter { $0.timestamp >= notBefore }
                let old = batch.reduce(0) { $0 + ($1.timestamp < notBefore ? $1.count : 0) }
                if old > 0 { dropped("too_old", old) }
            }
            guard let first = kept.first, let last = kept.last else { continue }
            return OutgoingRequest(
                body: encoder.encode(kept, as: format), format: format, samples: kept.reduce(0) { $0 + $1.count },
                oldestTimestamp: first.timestamp, newestTimestamp: last.timestamp, origin: .memory(kept))
        }
    }

    func complete(_ request: OutgoingRequest) {}
}

/// Records on disk, one request per record (records are written at most `max_samples_per_send`
/// samples each), sent as stored: no decompressing or recompressing.
final class DiskBatches: BatchSource {
    let disk: DiskQueue

    init(disk: DiskQueue) { self.disk = disk }

    func next(maxSamples: Int, notBefore: Int64?, format: RequestFormat, dropped: (String, Int) -> Void)
        throws(DiskQueueError) -> OutgoingRequest?
    {
        while true {
            var skipped = DiskQueue.Skipped()
            // One record a request: the persister already sized records to a request. What was
            // dropped on the way is counted even when reading the batch then fails.
            defer {
                if skipped.tooOld > 0 { dropped("too_old", skipped.tooOld) }
                if skipped.lost > 0 { dropped("corrupt", skipped.lost) }
                if skipped.evicted > 0 { dropped("disk_full", skipped.evicted) }
            }
            let batch = try disk.nextBatch(maxSamples: 1, notBefore: notBefore, skipped: &skipped)
            guard let batch else { return nil }
            if batch.corruptSamples > 0 { dropped("corrupt", batch.corruptSamples) }
            guard let body = batch.requests.first else {
                try disk.acknowledge(batch)
                continue
            }
            var request = OutgoingRequest(
                body: Array(body), format: RequestFormat.detect(compressed: body) ?? .v1, samples: batch.samples,
                oldestTimestamp: batch.oldestTimestamp, newestTimestamp: batch.newestTimestamp, origin: .disk(batch))
            if request.format == .v2 && format == .v1 {
                // Stored while the target spoke 2.0; it has fallen back since.
                do throws(RequestEncoder.TranscodeError) {
                    request.body = try RequestEncoder.v1(fromV2: request.body)
                    request.format = .v1
                } catch {
                    dropped("corrupt", batch.samples)
                    try disk.acknowledge(batch)
                    continue
                }
            }
            return request
        }
    }

    func complete(_ request: OutgoingRequest) throws(DiskQueueError) {
        if case .disk(let batch) = request.origin { try disk.acknowledge(batch) }
    }
}
