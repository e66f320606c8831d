import ConveyorMetrics

/// One request the sender POSTs: the snappy-compressed `WriteRequest` and what it carries.
struct OutgoingRequest {
    enum Origin { case memory, disk(DiskQueue.Batch), metadata }

    let body: [UInt8]
    let samples: Int
    let oldestTimestamp: Int64
    let newestTimestamp: Int64
    let origin: Origin
}

/// Where the sender takes its requests from: queued samples in memory or records on disk.
/// Used by the sender thread only.
protocol BatchSource: AnyObject {
    /// The next request, oldest samples first; nil when nothing is queued. Samples dropped on
    /// the way (older than `notBefore`, or failing their checksum) are reported to `dropped`.
    func next(maxSamples: Int, notBefore: Int64?, dropped: (_ reason: String, _ samples: Int) -> Void)
        throws(DiskQueueError) -> OutgoingRequest?
    /// Releases a request the receiver accepted or refused for good.
    func complete(_ request: OutgoingRequest) throws(DiskQueueError)
}

/// Queued snapshot chunks, encoded and compressed when taken.
final class MemoryBatches: BatchSource {
    let queue: RemoteWriteQueue
    private let writer = WriteRequestWriter()
    private var compressed: [UInt8] = []

    init(queue: RemoteWriteQueue) { self.queue = queue }

    func next(maxSamples: Int, notBefore: Int64?, dropped: (String, Int) -> Void) -> OutgoingRequest? {
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
            writer.write(kept)
            Snappy.compress(writer.body, into: &compressed)
            return OutgoingRequest(
                body: compressed, samples: kept.reduce(0) { $0 + $1.count }, oldestTimestamp: first.timestamp,
                newestTimestamp: last.timestamp, origin: .memory)
        }
    }

    func complete(_ request: OutgoingRequest) {}
}

/// Records on disk, one request per record (records are written at most `max_samples_per_send`
/// samples each), sent as stored: no decompressing or recompressing.
final class DiskBatches: BatchSource {
    let disk: DiskQueue

    init(disk: DiskQueue) { self.disk = disk }

    func next(maxSamples: Int, notBefore: Int64?, dropped: (String, Int) -> Void) throws(DiskQueueError)
        -> OutgoingRequest?
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
            return OutgoingRequest(
                body: Array(body), samples: batch.samples, oldestTimestamp: batch.oldestTimestamp,
                newestTimestamp: batch.newestTimestamp, origin: .disk(batch))
        }
    }

    func complete(_ request: OutgoingRequest) throws(DiskQueueError) {
        if case .disk(let batch) = request.origin { try disk.acknowledge(batch) }
    }
}
