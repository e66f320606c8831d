import ConveyorMetrics

/// One request the sender POSTs: the snappy-compressed request, its format and what it carries.
struct OutgoingRequest {
    /// Where its samples come from; memory keeps the chunks, so the request can be encoded
    /// again in another format.
    enum Origin { case memory([SampleChunk]), disk, metadata }

    var body: [UInt8]
    var format: RequestFormat
    let samples: Int
    let oldestTimestamp: Int64
    let newestTimestamp: Int64
    let origin: Origin
}

/// Where the sender takes its waves from: queued samples in memory or records on disk.
/// Used by the sender thread only.
protocol BatchSource: AnyObject {
    /// The next wave, oldest samples first, for `shards` requests in flight of at most
    /// `maxSamples` samples each; nil when nothing is queued. Samples dropped on the way
    /// (older than `notBefore`, or failing their checksum) are reported to `dropped`.
    func nextWave(
        shards: Int, maxSamples: Int, notBefore: Int64?, dropped: (_ reason: String, _ samples: Int) -> Void
    ) throws(DiskQueueError) -> SendWave?
    /// Releases a wave whose every request the receiver accepted or refused for good.
    func complete(_ wave: SendWave) throws(DiskQueueError)
}

/// Queued snapshot chunks, encoded and compressed when a request starts. One shard takes
/// up to a request's worth; more take whole chunks of one series list, a position range of
/// them a stream.
final class MemoryBatches: BatchSource {
    let queue: RemoteWriteQueue
    /// Requests a stream of a wave holds, about: enough that the wait for a wave's slowest
    /// stream costs little; few enough that a wave holds little memory.
    static let requestsPerStream = 4

    /// The samples a wave of `shards` streams takes, about (saturating: a library caller may
    /// set any `max_samples_per_send`).
    static func waveSamples(shards: Int, maxSamples: Int) -> Int {
        let (perStream, overflow) = maxSamples.multipliedReportingOverflow(by: requestsPerStream)
        let (total, overflowAgain) = perStream.multipliedReportingOverflow(by: max(1, shards))
        return overflow || overflowAgain ? Int.max : total
    }

    init(queue: RemoteWriteQueue) {
        self.queue = queue
    }

    func nextWave(shards: Int, maxSamples: Int, notBefore: Int64?, dropped: (String, Int) -> Void) -> SendWave? {
        while true {
            let batch =
                shards > 1
                ? queue.takeChunks(maxSamples: Self.waveSamples(shards: shards, maxSamples: maxSamples))
                : queue.take(upTo: maxSamples)
            guard !batch.isEmpty else { return nil }
            var kept = batch
            if let notBefore {
                kept = batch.filter { $0.timestamp >= notBefore }
                let old = batch.reduce(0) { $0 + ($1.timestamp < notBefore ? $1.count : 0) }
                if old > 0 { dropped("too_old", old) }
            }
            guard !kept.isEmpty else { continue }
            return SendWave(
                streams: SendWave.partition(kept, shards: shards, maxSamples: maxSamples), origin: .memory)
        }
    }

    func complete(_ wave: SendWave) {}
}

/// Records on disk, sent as stored: never decoded or compressed again. Records hold a
/// quarter of `max_samples_per_send` each; consecutive remote write 1.0 records of a stream
/// go as one request of up to `max_samples_per_send` (their snappy blocks concatenated).
/// One shard takes consecutive records; more take records of one series list, each
/// position in one stream (positions share the shards' streams in turn), or, for records a
/// previous run wrote, one snapshot's records.
final class DiskBatches: BatchSource {
    let disk: DiskQueue
    /// A record is this fraction of a request, so a snapshot's records make this many times
    /// more streams for a backlog (a request joins as many records as fit).
    static let recordsPerRequest = 4

    init(disk: DiskQueue) { self.disk = disk }

    /// The samples a record holds at most, for requests of `maxSamplesPerSend`.
    static func recordSamples(maxSamplesPerSend: Int) -> Int {
        max(1, maxSamplesPerSend / recordsPerRequest)
    }

    func nextWave(shards: Int, maxSamples: Int, notBefore: Int64?, dropped: (String, Int) -> Void)
        throws(DiskQueueError) -> SendWave?
    {
        while true {
            var skipped = DiskQueue.Skipped()
            // What was dropped on the way is counted even when reading the batch then fails.
            defer {
                if skipped.tooOld > 0 { dropped("too_old", skipped.tooOld) }
                if skipped.lost > 0 { dropped("corrupt", skipped.lost) }
                if skipped.evicted > 0 { dropped("disk_full", skipped.evicted) }
            }
            let batch = try disk.nextBatch(
                maxSamples: shards > 1 ? MemoryBatches.waveSamples(shards: shards, maxSamples: maxSamples) : maxSamples,
                notBefore: notBefore, parallel: shards > 1, skipped: &skipped)
            guard let batch else { return nil }
            if batch.corruptSamples > 0 { dropped("corrupt", batch.corruptSamples) }
            guard !batch.requests.isEmpty else {
                try disk.acknowledge(batch)
                continue
            }
            var streams: [[PendingRequest]] = []
            var streamOfKey: [Int: Int] = [:]
            for index in batch.requests.indices {
                // One shard: a single stream, in order. More positions than shards share
                // streams in turn, so a stream's requests still fill up in steady state.
                let key = shards > 1 ? batch.streamKeys[index] : 0
                let stream: Int
                if let known = streamOfKey[key] {
                    stream = known
                } else {
                    stream = streamOfKey.count % shards
                    streamOfKey[key] = stream
                    if stream == streams.count { streams.append([]) }
                }
                Self.add(
                    batch.requests[index], samples: batch.requestSamples[index],
                    timestamp: batch.requestTimestamps[index], joinable: batch.requestJoinable[index],
                    to: &streams[stream], maxSamples: maxSamples)
            }
            return SendWave(streams: streams, origin: .disk(batch))
        }
    }

    /// Adds a record to the end of `stream`: into its last request when both are joinable
    /// 1.0 records and the request stays within `maxSamples`, else as a request of its own.
    /// A request is marked joinable once, when its first record is (its format read then).
    static func add(
        _ record: ArraySlice<UInt8>, samples: Int, timestamp: Int64, joinable: Bool,
        to stream: inout [PendingRequest], maxSamples: Int
    ) {
        let joins = joinable && RequestFormat.detect(compressed: record) == .v1
        if joins, let last = stream.last, last.joinable, case .stored(let records) = last.content,
            last.samples + samples <= maxSamples
        {
            var joined = PendingRequest(
                content: .stored(records + [record]), samples: last.samples + samples,
                oldestTimestamp: last.oldestTimestamp, newestTimestamp: timestamp)
            joined.joinable = true
            stream[stream.count - 1] = joined
            return
        }
        var request = PendingRequest(
            content: .stored([record]), samples: samples, oldestTimestamp: timestamp, newestTimestamp: timestamp)
        request.joinable = joins
        stream.append(request)
    }

    func complete(_ wave: SendWave) throws(DiskQueueError) {
        if case .disk(let batch) = wave.origin { try disk.acknowledge(batch) }
    }
}
