import ConveyorMetrics

/// The sender thread's side of a target's queue: the next request to POST and, once the
/// receiver has answered, its release. A memory-backed target encodes queued snapshot
/// chunks here; a disk-backed target reads back the records its persister wrote.
final class OutgoingBatches {
    enum Source {
        case memory(RemoteWriteQueue)
        case disk(DiskQueue)
    }

    /// One request: the snappy-compressed `WriteRequest` and what it carries.
    struct Request {
        let body: [UInt8]
        let samples: Int
        let oldestTimestamp: Int64
        let newestTimestamp: Int64
        fileprivate let diskBatch: DiskQueue.Batch?
    }

    let source: Source
    private let maxSamples: Int
    private let writer = WriteRequestWriter()
    private var compressed: [UInt8] = []

    init(source: Source, maxSamples: Int) {
        self.source = source
        self.maxSamples = maxSamples
    }

    /// The next request, oldest samples first; nil when nothing is queued. Samples dropped
    /// on the way (older than `notBefore`, or failing their checksum on disk) are reported
    /// to `dropped` with the reason.
    func next(notBefore: Int64?, dropped: (_ reason: String, _ samples: Int) -> Void) throws(DiskQueueError)
        -> Request?
    {
        switch source {
        case .memory(let queue):
            while true {
                let batch = queue.take(upTo: maxSamples)
                guard !batch.isEmpty else { return nil }
                var kept = batch
                if let notBefore {
                    kept = batch.filter { $0.timestamp >= notBefore }
                    let old = batch.reduce(0) { $0 + ($1.timestamp < notBefore ? $1.count : 0) }
                    if old > 0 { dropped("too_old", old) }
                }
                guard let first = kept.first else { continue }
                writer.write(kept)
                Snappy.compress(writer.body, into: &compressed)
                return Request(
                    body: compressed, samples: kept.reduce(0) { $0 + $1.count }, oldestTimestamp: first.timestamp,
                    newestTimestamp: kept.last?.timestamp ?? first.timestamp, diskBatch: nil)
            }
        case .disk(let disk):
            while true {
                var tooOld = 0
                let batch = try disk.nextBatch(maxSamples: maxSamples, notBefore: notBefore, tooOld: &tooOld)
                if tooOld > 0 { dropped("too_old", tooOld) }
                guard let batch else { return nil }
                if batch.corruptSamples > 0 { dropped("corrupt", batch.corruptSamples) }
                guard let body = merge(batch.requests) else {
                    dropped("corrupt", batch.samples)
                    try disk.acknowledge(batch)
                    continue
                }
                return Request(
                    body: body, samples: batch.samples, oldestTimestamp: batch.oldestTimestamp,
                    newestTimestamp: batch.newestTimestamp, diskBatch: batch)
            }
        }
    }

    /// Releases a request the receiver accepted or refused for good (on disk: acknowledges it).
    func complete(_ request: Request) throws(DiskQueueError) {
        if case .disk(let disk) = source, let batch = request.diskBatch {
            try disk.acknowledge(batch)
        }
    }

    /// Blocks the sender until new work may be there or `timeout` passes.
    func waitForWork(timeout: Duration) {
        switch source {
        case .memory(let queue): queue.waitForWork(timeout: timeout)
        case .disk(let disk): disk.waitForRecords(timeout: timeout)
        }
    }

    /// One request body from the records' compressed requests: a record alone is sent as
    /// it is; several are decompressed, concatenated (repeated `timeseries` fields of
    /// consecutive `WriteRequest` messages merge into one message) and compressed again.
    /// Nil when a record does not decompress (nothing is sent then, never garbage).
    private func merge(_ requests: [ArraySlice<UInt8>]) -> [UInt8]? {
        guard requests.count > 1 else { return requests.first.map { Array($0) } }
        var joined: [UInt8] = []
        for request in requests {
            guard let plain = try? Snappy.decompress(Array(request), limit: 64 << 20) else { return nil }
            joined.append(contentsOf: plain)
        }
        Snappy.compress(joined, into: &compressed)
        return compressed
    }
}
