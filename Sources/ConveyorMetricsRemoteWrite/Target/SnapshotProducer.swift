import ConveyorMetrics

/// Turns snapshots into queued samples for one target: the sampler, then the disk queue
/// when the target has one that takes writes, otherwise the memory queue.
///
/// A snapshot counts as taken once it is durable (written to the disk queue) or enqueued
/// (memory). When the disk refuses a write, the target degrades to its memory queue: the
/// rest of that snapshot and the following ones go to memory, and the disk is tried again
/// once the memory queue has drained, so samples still leave in timestamp order (the sender
/// reads the disk before memory). Used by one thread at a time: the flush loop for a memory
/// target, the persister thread for a disk target.
final class SnapshotProducer {
    let sampler: SnapshotSampler
    let memory: RemoteWriteQueue
    private(set) var disk: DiskQueue?
    /// Why the disk is not in use (nil when it is, or when the target has none).
    private(set) var degraded: String?
    private let maxSamplesPerRecord: Int
    private let encoder = RequestEncoder()
    /// Whether records are written as remote write 2.0 (the sender switches it).
    private let recordsAsV2: @Sendable () -> Bool

    /// What one snapshot did.
    struct Outcome {
        /// Samples taken (stale markers included; duplicates too, which are also in `dropped`).
        var produced = 0
        var dropped: [(reason: String, samples: Int)] = []
        /// The disk refused a write now (the error), or took one again after refusing.
        var degradedBy: String?
        var recovered = false
        /// The wall clock was behind the previous timestamp by this many ms.
        var clockBehind: Int64?
        /// The samples taken (the simulation's ledger reads them).
        var chunks: [SampleChunk] = []
    }

    init(
        sampler: SnapshotSampler, memory: RemoteWriteQueue, maxSamplesPerRecord: Int,
        recordsAsV2: @escaping @Sendable () -> Bool = { false }
    ) {
        self.sampler = sampler
        self.memory = memory
        self.maxSamplesPerRecord = max(1, maxSamplesPerRecord)
        self.recordsAsV2 = recordsAsV2
    }

    /// Uses `disk` from now on, or records why there is none; `newestTimestamp` is the newest
    /// a previous run used, read from the unusable disk if possible (nil: unknown).
    func attach(disk: DiskQueue?, unavailable reason: String? = nil, newestTimestamp: Int64? = 0) {
        self.disk = disk
        degraded = disk == nil ? reason : nil
        floorUnknown = newestTimestamp == nil && disk == nil
        sampler.raiseFloor(to: max(newestTimestamp ?? 0, disk?.recovery.newestTimestamp ?? 0))
    }

    /// The disk could not be read at start-up, so timestamps are not held above the previous
    /// run's: after a restart with the clock behind, the receiver may refuse the first samples.
    private(set) var floorUnknown = false

    /// Takes a snapshot (and, when `final`, stale markers for every series pushed so far),
    /// stamped at `wallMilliseconds`.
    func produce(_ snapshot: MetricsSnapshot, at wallMilliseconds: Int64, final: Bool = false) -> Outcome {
        produce(.snapshot(snapshot), at: wallMilliseconds, final: final)
    }

    func produce(_ input: FlushInput, at wallMilliseconds: Int64, final: Bool = false) -> Outcome {
        var outcome = Outcome()
        let duplicatesBefore = sampler.duplicateSamples
        let stepBacksBefore = sampler.clockStepBacks
        var chunks: [SampleChunk]
        switch input {
        case .snapshot(let snapshot): chunks = sampler.chunks(from: snapshot, at: wallMilliseconds)
        case .registry(let registry): chunks = sampler.chunks(reading: registry, at: wallMilliseconds)
        }
        if final { chunks.append(sampler.staleMarkersForAll(at: wallMilliseconds)) }
        if sampler.clockStepBacks != stepBacksBefore { outcome.clockBehind = sampler.lastStepBack }
        let duplicates = sampler.duplicateSamples - duplicatesBefore
        outcome.produced = chunks.reduce(duplicates) { $0 + $1.count }
        outcome.chunks = chunks
        if duplicates > 0 { outcome.dropped.append(("duplicate_series", duplicates)) }
        var rest = chunks[...]
        if let disk, degraded == nil || memory.count == 0 {
            rest = write(chunks, to: disk, &outcome)
        }
        let overflow = memory.append(Array(rest))
        if overflow > 0 { outcome.dropped.append(("queue_full", overflow)) }
        return outcome
    }

    /// The series list records were last written from (held, so no other list can take its
    /// address), and its number.
    private var lastList: [RemoteSeries] = []
    private var lastListNumber: UInt64 = 0

    /// The number of `series` as a list: a new one whenever the list differs from the last.
    private func listNumber(_ series: [RemoteSeries]) -> UInt64 {
        let same = series.withUnsafeBufferPointer { new in
            lastList.withUnsafeBufferPointer { new.baseAddress == $0.baseAddress && new.count == $0.count }
        }
        if !same || lastListNumber == 0 {
            lastList = series
            lastListNumber &+= 1
        }
        return lastListNumber
    }

    /// Writes chunks to disk, one record per slice of at most `maxSamplesPerRecord`; returns
    /// what could not be written (from the slice that failed on).
    private func write(_ chunks: [SampleChunk], to disk: DiskQueue, _ outcome: inout Outcome) -> ArraySlice<SampleChunk>
    {
        var wrote = false
        let format: RequestFormat = recordsAsV2() ? .v2 : .v1
        for (index, chunk) in chunks.enumerated() {
            let list = listNumber(chunk.series)
            var start = chunk.start
            while start < chunk.end {
                // Slices on one grid of the list's positions, so records of one list at one
                // position hold the same series (the sender sends them in one stream).
                var slice = chunk
                slice.start = start
                slice.end = min(chunk.end, (start / maxSamplesPerRecord + 1) * maxSamplesPerRecord)
                let compressed = encoder.encode([slice], as: format)
                do throws(DiskQueueError) {
                    let result = try disk.append(
                        compressedRequest: compressed, samples: slice.count, timestamp: slice.timestamp, list: list,
                        position: start / maxSamplesPerRecord * maxSamplesPerRecord)
                    if result.dropped > 0 { outcome.dropped.append(("disk_full", result.dropped)) }
                    wrote = true
                } catch {
                    if degraded == nil { outcome.degradedBy = error.description }
                    degraded = error.description
                    var remaining = Array(chunks[index...])
                    remaining[0].start = start
                    return remaining[...]
                }
                start = slice.end
            }
        }
        // Back on disk only once a write succeeded (an empty snapshot proves nothing).
        if wrote, degraded != nil {
            outcome.recovered = true
            degraded = nil
        }
        return []
    }
}
