import ConveyorMetrics

/// What one request will carry, before it is encoded (memory) or read as stored (disk).
struct PendingRequest {
    enum Content {
        /// Queued snapshot slices, encoded in the format in use when the request starts.
        case memory([SampleChunk])
        /// Compressed requests as the disk queue stored them, sent as one (remote write 1.0
        /// records concatenate: see ``Snappy/concatenate(_:)``).
        case stored([ArraySlice<UInt8>])
        /// Remote write 1.0's sample-free metadata request.
        case metadata([RemoteMetadata])
    }

    let content: Content
    let samples: Int
    let oldestTimestamp: Int64
    let newestTimestamp: Int64
    /// Stored 1.0 records this process wrote, which later such records may join.
    var joinable = false

    init(chunks: [SampleChunk]) {
        content = .memory(chunks)
        samples = chunks.reduce(0) { $0 + $1.count }
        oldestTimestamp = chunks.first?.timestamp ?? 0
        newestTimestamp = chunks.last?.timestamp ?? 0
    }

    init(content: Content, samples: Int, oldestTimestamp: Int64, newestTimestamp: Int64) {
        self.content = content
        self.samples = samples
        self.oldestTimestamp = oldestTimestamp
        self.newestTimestamp = newestTimestamp
    }
}

/// Requests taken together from one queue and sent by the target's shards: a set of
/// streams, each sent one request after another, with no series in two streams. Streams go
/// in parallel, so every series keeps its timestamp order; the next wave starts once every
/// stream of this one is delivered (or dropped), which is when a disk wave is acknowledged.
struct SendWave {
    enum Origin {
        case memory
        case disk(DiskQueue.Batch)
        case metadata
    }

    var streams: [[PendingRequest]]
    let origin: Origin

    var samples: Int { streams.reduce(0) { $0 + $1.reduce(0) { $0 + $1.samples } } }
    var oldestTimestamp: Int64 { streams.lazy.compactMap { $0.first?.oldestTimestamp }.min() ?? 0 }

    /// Chunks of one series list (a position names the same series in each, see
    /// ``RemoteWriteQueue/takeChunks(maxSamples:)``) split into `shards` streams by position
    /// range; each stream holds its range of every chunk, in order, as requests of at most
    /// `maxSamples` samples.
    static func partition(_ chunks: [SampleChunk], shards: Int, maxSamples: Int) -> [[PendingRequest]] {
        guard let first = chunks.first else { return [] }
        let seriesCount = first.series.count
        let maxSamples = max(1, maxSamples)
        guard shards > 1, seriesCount > 1 else {
            return [split(chunks, maxSamples: maxSamples)]
        }
        let count = min(shards, seriesCount)
        var streams: [[PendingRequest]] = []
        for range in 0..<count {
            // Ranges as even as whole positions allow: `count` of them, none empty.
            let low = range * seriesCount / count
            let high = (range + 1) * seriesCount / count
            var parts: [SampleChunk] = []
            for chunk in chunks {
                let start = max(chunk.start, low)
                let end = min(chunk.end, high)
                guard start < end else { continue }
                var part = chunk
                part.start = start
                part.end = end
                parts.append(part)
            }
            if !parts.isEmpty { streams.append(split(parts, maxSamples: maxSamples)) }
        }
        return streams
    }

    /// Consecutive requests of at most `maxSamples` samples each, in order.
    static func split(_ chunks: [SampleChunk], maxSamples: Int) -> [PendingRequest] {
        var requests: [PendingRequest] = []
        var current: [SampleChunk] = []
        var count = 0
        for chunk in chunks {
            var start = chunk.start
            while start < chunk.end {
                let take = min(maxSamples - count, chunk.end - start)
                var part = chunk
                part.start = start
                part.end = start + take
                current.append(part)
                count += take
                start += take
                if count == maxSamples {
                    requests.append(PendingRequest(chunks: current))
                    current = []
                    count = 0
                }
            }
        }
        if !current.isEmpty { requests.append(PendingRequest(chunks: current)) }
        return requests
    }
}
