import ConveyorMetrics
import Synchronization

extension DiskQueue {
    /// Samples `nextBatch` dropped on the way, by reason.
    struct Skipped {
        /// Older than `notBefore`.
        var tooOld = 0
        /// In a segment file that vanished (deleted by hand).
        var lost = 0
        /// In a segment the disk limit removed while they were being read.
        var evicted = 0
    }

    /// The next records to send, from the oldest pending one, up to `maxSamples` samples (at
    /// least one record) within one segment; what is dropped on the way is added to
    /// `skipped`. With `parallel`, only records that may go side by side in streams
    /// (``Batch/streamKeys``): of the first record's series list when it is known, else of
    /// its snapshot (one timestamp: disjoint series). Nil when nothing is pending.
    func nextBatch(
        maxSamples: Int, notBefore: Int64?, parallel: Bool = false, skipped: inout Skipped
    ) throws(DiskQueueError) -> Batch? {
        while true {
            let pick = state.withLock { state -> (UInt64, [DiskRecord.Info])? in
                guard let index = state.segments.firstIndex(where: { $0.next < $0.records.count }) else { return nil }
                var segment = state.segments[index]
                if let notBefore {
                    while segment.next < segment.records.count && segment.records[segment.next].timestamp < notBefore {
                        let samples = Int(segment.records[segment.next].samples)
                        skipped.tooOld += samples
                        state.pendingSamples -= samples
                        segment.next += 1
                    }
                    state.segments[index] = segment
                    if segment.next == segment.records.count { return (segment.sequence, []) }
                }
                var picked: [DiskRecord.Info] = []
                var samples = 0
                for record in segment.records[segment.next...] {
                    if !picked.isEmpty && samples + Int(record.samples) > maxSamples { break }
                    if parallel, let first = picked.first,
                        first.list == 0 ? record.timestamp != first.timestamp : record.list != first.list
                    {
                        break
                    }
                    picked.append(record)
                    samples += Int(record.samples)
                }
                state.segments[index].inFlight = picked.count
                return (segment.sequence, picked)
            }
            guard let (sequence, records) = pick else { return nil }
            guard let first = records.first, let last = records.last else {
                removeAcknowledgedSegments()
                continue
            }
            let read: [UInt8]?
            do throws(DiskQueueError) {
                read = try self.read(sequence, from: first.offset, to: last.end)
            } catch {
                // Not taken after all. If the disk limit removed the segment meanwhile, its
                // records are settled here (dropped); otherwise they are read again later.
                let evicted = untake(sequence, records)
                guard evicted > 0 else { throw error }
                skipped.evicted += evicted
                continue
            }
            guard let bytes = read else {
                let evicted = untake(sequence, records)
                if evicted > 0 {
                    skipped.evicted += evicted
                } else {
                    skipped.lost += forget(segment: sequence)
                }
                continue
            }
            var requests: [ArraySlice<UInt8>] = []
            var requestSamples: [Int] = []
            var streamKeys: [Int] = []
            var requestTimestamps: [Int64] = []
            var requestJoinable: [Bool] = []
            var samples = 0
            var corrupt = 0
            var offset = 0
            for record in records {
                let end = offset + Int(record.length)
                if end <= bytes.count, let request = DiskRecord.compressedRequest(bytes[offset..<end]) {
                    requests.append(request)
                    requestSamples.append(Int(record.samples))
                    streamKeys.append(record.list == 0 ? streamKeys.count : Int(record.position))
                    requestTimestamps.append(record.timestamp)
                    requestJoinable.append(record.list != 0)
                    samples += Int(record.samples)
                } else {
                    corrupt += Int(record.samples)
                }
                offset = end
            }
            return Batch(
                segment: sequence, records: records.count, end: last.end, requests: requests,
                requestSamples: requestSamples, requestTimestamps: requestTimestamps, requestJoinable: requestJoinable,
                streamKeys: streamKeys,
                samples: samples,
                corruptSamples: corrupt, oldestTimestamp: first.timestamp, newestTimestamp: last.timestamp)
        }
    }

    /// Marks `batch` delivered (or refused for good): advances and stores the acknowledged
    /// position and deletes segments that are now fully acknowledged. The in-memory position
    /// advances even when storing it fails (the error is thrown after): a restart then
    /// resends, which receivers ignore.
    func acknowledge(_ batch: Batch, newestDelivered: Int64? = nil) throws(DiskQueueError) {
        let position = state.withLock { state -> AckPosition in
            if let index = state.segments.firstIndex(where: { $0.sequence == batch.segment }) {
                let segment = state.segments[index]
                let end = min(segment.next + batch.records, segment.records.count)
                for record in segment.records[segment.next..<end] { state.pendingSamples -= Int(record.samples) }
                state.segments[index].next = end
                state.segments[index].inFlight = 0
            } else {
                // Its segment went for the disk limit while the batch was in flight.
                state.pendingSamples -= batch.samples + batch.corruptSamples
                state.orphanedSamples -= batch.samples + batch.corruptSamples
            }
            state.acknowledged.segment = batch.segment
            state.acknowledged.offset = batch.end
            state.acknowledged.newestTimestamp = max(
                state.acknowledged.newestTimestamp, newestDelivered ?? batch.newestTimestamp)
            return state.acknowledged
        }
        // The position (and newest timestamp) first: deleting the delivered segments before it
        // is stored would lose, at a crash in between, the timestamps a restart must stay above.
        try store(position)
        removeAcknowledgedSegments()
    }

    /// Gives up a batch in flight at the shutdown deadline: it stays on disk for the next start,
    /// unless its segment went for the disk limit meanwhile; then its samples are returned
    /// (to be counted as dropped) and no longer pending.
    func abandon(_ batch: Batch) -> Int {
        state.withLock { state -> Int in
            if let index = state.segments.firstIndex(where: { $0.sequence == batch.segment }) {
                state.segments[index].inFlight = 0
                return 0
            }
            let samples = batch.samples + batch.corruptSamples
            state.pendingSamples -= samples
            state.orphanedSamples -= samples
            return samples
        }
    }

    /// Records that samples newer than anything on disk were delivered from memory (a
    /// degraded target), so a restart does not stamp new samples below them.
    func noteDelivered(newestTimestamp: Int64) throws(DiskQueueError) {
        let position = state.withLock { state -> AckPosition? in
            guard newestTimestamp > state.acknowledged.newestTimestamp else { return nil }
            state.acknowledged.newestTimestamp = newestTimestamp
            return state.acknowledged
        }
        if let position { try store(position) }
    }

    /// Writes `position` into the slot written least recently (a torn write damages only it).
    private func store(_ position: AckPosition) throws(DiskQueueError) {
        let slot = state.withLock { state -> Int in
            defer { state.ackSlot = 1 - state.ackSlot }
            return state.ackSlot
        }
        try ackFile.withLock { (file: inout (any DiskFile)?) throws(DiskQueueError) in
            guard let file else { return }
            try file.overwrite(position.bytes, at: Int64(slot * AckPosition.size))
            if settings.sync == .everyWrite { try file.sync() }
        }
        if settings.sync != .everyWrite { state.withLock { $0.writtenSinceSync = true } }
    }

    private func read(_ sequence: UInt64, from start: Int64, to end: Int64) throws(DiskQueueError) -> [UInt8]? {
        let path = SegmentFile.path(settings.directory, sequence)
        return try readFile.withLock { (file: inout (any DiskFile)?) throws(DiskQueueError) -> [UInt8]? in
            if file?.path != path {
                file = nil
                do throws(DiskQueueError) {
                    file = try fileSystem.open(path, mode: .read)
                } catch {
                    // Deleted for the disk limit meanwhile (its records were counted as dropped).
                    if !fileSystem.exists(path) { return nil }
                    throw error
                }
            }
            return try file?.read(count: Int(end - start), at: start)
        }
    }

    /// Gives up the oldest pending record (one that cannot be read, again and again): returns
    /// its samples, to be counted as dropped. The next acknowledgement stores the position.
    func skipOldest() -> Int {
        state.withLock { state -> Int in
            guard let index = state.segments.firstIndex(where: { $0.next < $0.records.count }) else { return 0 }
            let samples = Int(state.segments[index].records[state.segments[index].next].samples)
            state.segments[index].next += 1
            state.segments[index].inFlight = 0
            state.pendingSamples -= samples
            return samples
        }
    }

    /// Clears the in-flight mark of records that were picked but not read. When their
    /// segment went for the disk limit meanwhile (its records kept pending as orphans),
    /// settles them and returns their samples, to be counted as dropped.
    private func untake(_ sequence: UInt64, _ records: [DiskRecord.Info]) -> Int {
        state.withLock { state -> Int in
            if let index = state.segments.firstIndex(where: { $0.sequence == sequence }) {
                state.segments[index].inFlight = 0
                return 0
            }
            let samples = records.reduce(0) { $0 + Int($1.samples) }
            state.pendingSamples -= samples
            state.orphanedSamples -= samples
            return samples
        }
    }

    /// Drops a segment whose file is gone; returns the samples it still held.
    private func forget(segment sequence: UInt64) -> Int {
        state.withLock { state -> Int in
            guard let index = state.segments.firstIndex(where: { $0.sequence == sequence }) else { return 0 }
            let segment = state.segments.remove(at: index)
            state.diskBytes -= segment.bytes
            let samples = segment.records.dropFirst(segment.next).reduce(0) { $0 + Int($1.samples) }
            state.pendingSamples -= samples
            return samples
        }
    }

    func removeAcknowledgedSegments() {
        let directory = settings.directory
        let removed = state.withLock { Self.removeAcknowledged(&$0, directory) }
        removeFiles(removed)
    }
}
