import ConveyorMetrics
import Synchronization

extension DiskQueue {
    /// What an append did: samples dropped to stay within `maxBytes` (the oldest pending
    /// records, whole segments at a time; or this record if it alone is too large).
    struct AppendResult {
        var dropped = 0
    }

    /// Appends one record. Throws when it could not be written (or, under `everyWrite`,
    /// synced); then nothing of it is indexed, the segment is cut back to its last whole
    /// record and closed.
    func append(
        compressedRequest: [UInt8], samples: Int, timestamp: Int64, list: UInt64 = 0, position: Int = 0
    ) throws(DiskQueueError) -> AppendResult {
        guard compressedRequest.count <= DiskRecord.maxPayload - DiskRecord.payloadPrefixSize else {
            throw DiskQueueError(
                path: settings.directory,
                reason:
                    "a record of \(compressedRequest.count) bytes exceeds the limit of \(DiskRecord.maxPayload >> 20) MiB"
            )
        }
        let record = DiskRecord.encode(compressedRequest: compressedRequest, samples: samples, timestamp: timestamp)
        guard Int64(record.count) + Int64(DiskRecord.magic.count) <= settings.maxBytes else {
            return AppendResult(dropped: samples)
        }
        var removed: [String] = []
        // Segments dropped from the index are deleted even when this append fails: on a full
        // disk they are the space the next append needs.
        defer { removeFiles(removed) }
        let result = try writeFile.withLock { (file: inout (any DiskFile)?) throws(DiskQueueError) -> AppendResult in
            let open = try openSegment(&file, for: record.count, removed: &removed)
            do throws(DiskQueueError) {
                try open.file.append(record)
                // Under `everyWrite` a record counts only once on stable storage.
                if settings.sync == .everyWrite { try open.file.sync() }
            } catch {
                // Cut the partial (or unsynced) record off — truncating needs no space — and
                // close the segment, so the next append starts clean whatever truncation did.
                try? open.file.truncate(to: open.offset)
                file = nil
                state.withLock { state in
                    guard let last = state.segments.indices.last else { return }
                    if state.segments[last].records.isEmpty {
                        // Just created for this record: it goes, so its header never pushes the
                        // queue past max_disk_bytes.
                        let empty = state.segments.removeLast()
                        state.diskBytes -= empty.bytes
                        removed.append(SegmentFile.path(settings.directory, empty.sequence))
                    } else {
                        state.segments[last].sealed = true
                    }
                    removed += Self.removeAcknowledged(&state, settings.directory)
                }
                throw error
            }
            var result = AppendResult()
            result.dropped = state.withLock { state -> Int in
                let info = DiskRecord.Info(
                    offset: open.offset, length: Int32(record.count), samples: Int32(clamping: samples),
                    timestamp: timestamp, list: list, position: Int32(clamping: position))
                let last = state.segments.count - 1
                state.segments[last].records.append(info)
                state.segments[last].bytes += Int64(record.count)
                state.diskBytes += Int64(record.count)
                state.pendingSamples += samples
                state.writtenSinceSync = settings.sync != .everyWrite
                return Self.enforceLimit(&state, maxBytes: settings.maxBytes, settings.directory, removed: &removed)
            }
            return result
        }
        return result
    }

    /// The segment to append `recordBytes` to and the record's offset: the open one, or a
    /// new one when there is none or it is full (the full one is synced and closed first).
    private func openSegment(_ file: inout (any DiskFile)?, for recordBytes: Int, removed: inout [String])
        throws(DiskQueueError) -> (file: any DiskFile, offset: Int64)
    {
        let current = state.withLock { $0.segments.last.flatMap { $0.sealed ? nil : $0 } }
        if let open = file, let current {
            guard current.bytes + Int64(recordBytes) > settings.segmentBytes && !current.records.isEmpty else {
                return (open, current.bytes)
            }
            try open.sync()  // a closed segment is always on stable storage
        }
        file = nil
        let sequence = state.withLock { state -> UInt64 in
            if let last = state.segments.indices.last { state.segments[last].sealed = true }
            removed += Self.removeAcknowledged(&state, settings.directory)
            defer { state.nextSequence &+= 1 }
            return state.nextSequence
        }
        let created = try SegmentFile.create(settings.directory, sequence: sequence, fileSystem)
        if settings.sync == .everyWrite {
            // Records in a segment whose directory entry may vanish at power loss are not durable.
            do throws(DiskQueueError) {
                try created.sync()
                try fileSystem.syncDirectory(settings.directory)
            } catch {
                fileSystem.remove(SegmentFile.path(settings.directory, sequence))
                throw error
            }
        }
        let offset = Int64(DiskRecord.magic.count)
        state.withLock { state in
            state.segments.append(Segment(sequence: sequence, bytes: offset, sealed: false))
            state.diskBytes += offset
            state.directoryChanged = settings.sync != .everyWrite
        }
        file = created
        return (created, offset)
    }

    /// fsyncs the open segment and the acknowledged position if anything changed since the
    /// last call (the `interval` policy; the persister calls it on its schedule and at exit).
    func syncIfChanged() throws(DiskQueueError) {
        let (changed, directory) = state.withLock { state in
            defer {
                state.writtenSinceSync = false
                state.directoryChanged = false
            }
            return (state.writtenSinceSync, state.directoryChanged)
        }
        guard changed || directory else { return }
        do throws(DiskQueueError) {
            // Files, then the directory: a removal of delivered segments must not reach the disk
            // before the acknowledged position (and newest timestamp) that covers them.
            try writeFile.withLock { (file: inout (any DiskFile)?) throws(DiskQueueError) in try file?.sync() }
            try ackFile.withLock { (file: inout (any DiskFile)?) throws(DiskQueueError) in try file?.sync() }
            if directory { try fileSystem.syncDirectory(settings.directory) }
        } catch {
            // Try again next time.
            state.withLock { state in
                state.writtenSinceSync = state.writtenSinceSync || changed
                state.directoryChanged = state.directoryChanged || directory
            }
            throw error
        }
    }

    /// Removes the oldest closed segments while the total exceeds `maxBytes`; returns the
    /// samples they still held.
    static func enforceLimit(
        _ state: inout State, maxBytes: Int64, _ directory: String, removed: inout [String]
    ) -> Int {
        var dropped = 0
        while state.diskBytes > maxBytes, let first = state.segments.first, first.sealed {
            state.segments.removeFirst()
            state.diskBytes -= first.bytes
            // Records in flight stay pending, the sender's to count (sent or failed) when it
            // acknowledges them; only the rest is dropped.
            for record in first.records.dropFirst(first.next + first.inFlight) {
                state.pendingSamples -= Int(record.samples)
                dropped += Int(record.samples)
            }
            for record in first.records.dropFirst(first.next).prefix(first.inFlight) {
                state.orphanedSamples += Int(record.samples)
            }
            removed.append(SegmentFile.path(directory, first.sequence))
        }
        return dropped
    }
}
