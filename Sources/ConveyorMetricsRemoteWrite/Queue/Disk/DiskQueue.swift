import ConveyorMetrics
import Dispatch
import Synchronization

/// The disk-backed part of a target's queue: append-only segment files of compressed
/// requests (see ``DiskRecord``) and an acknowledged-position file.
///
/// Two threads use it, never the Swift concurrency pool: the target's persister appends,
/// the target's sender takes one batch at a time and acknowledges it after the receiver
/// answered. Segments are deleted once every record in them is acknowledged, or — oldest
/// first — when the directory would exceed `maxBytes`. The index of pending records lives in
/// memory (24 bytes per record); the record bytes are read back only to be sent.
final class DiskQueue: Sendable {
    struct Settings: Sendable {
        var directory: String
        var maxBytes: Int64
        var sync: RemoteWriteTargetConfiguration.FsyncPolicy
        /// A segment is closed and a new one started beyond this size.
        var segmentBytes: Int64

        init(
            directory: String, maxBytes: Int64, sync: RemoteWriteTargetConfiguration.FsyncPolicy,
            segmentBytes: Int64? = nil
        ) {
            self.directory = directory
            self.maxBytes = maxBytes
            self.sync = sync
            self.segmentBytes = segmentBytes ?? min(max(maxBytes / 16, 64 << 10), 16 << 20)
        }
    }

    /// What start-up found.
    struct Recovery: Equatable {
        var records = 0
        var samples = 0
        /// Bytes cut from torn or corrupt segment tails (and files that were not segments).
        var truncatedBytes: Int64 = 0
        var damagedFiles: [String] = []
        /// The acknowledged-position file was unreadable: everything on disk is sent again.
        var acknowledgementLost = false
    }

    /// Records taken for one request. `requests` holds the compressed request of each record
    /// that passed its checksum again; `samples` counts those, `corruptSamples` the others.
    struct Batch {
        let segment: UInt64
        let records: Int
        let end: Int64
        let requests: [ArraySlice<UInt8>]
        let samples: Int
        let corruptSamples: Int
        let oldestTimestamp: Int64
        let newestTimestamp: Int64
    }

    private struct Segment {
        let sequence: UInt64
        var records: [DiskRecord.Info] = []
        /// The first record not yet acknowledged.
        var next = 0
        /// Records from `next` on that the sender holds in a batch.
        var inFlight = 0
        var bytes: Int64
        var sealed: Bool
    }

    private struct State {
        var segments: [Segment] = []
        var pendingSamples = 0
        var diskBytes: Int64 = 0
        var writtenSinceSync = false
    }

    let settings: Settings
    let recovery: Recovery
    private let state: Mutex<State>
    /// The segment being appended to (persister thread).
    private let writeFile: Mutex<PosixFile>
    /// The segment being read (sender thread).
    private let readFile = Mutex<PosixFile?>(nil)
    private let ackFile: Mutex<PosixFile>
    private let lockFile: PosixFile
    private let appended = DispatchSemaphore(value: 0)

    /// Opens (or creates) the queue in `settings.directory`: takes its lock, reads the
    /// acknowledged position, scans every segment and truncates torn or corrupt tails, then
    /// starts a new segment for appends.
    init(settings: Settings) throws(DiskQueueError) {
        self.settings = settings
        let directory = settings.directory
        try QueueDirectory.prepare(directory)
        lockFile = try PosixFile(path: directory + "/lock", mode: .createReadWrite)
        guard lockFile.tryLock() else {
            throw DiskQueueError(path: directory, reason: "in use by another process (lock held)")
        }
        var recovery = Recovery()
        let ackPath = directory + "/" + AckPosition.fileName
        let ack = try PosixFile(path: ackPath, mode: .createReadWrite)
        let ackBytes = try ack.readAll()
        var acknowledged = AckPosition(segment: 0, offset: 0)
        if !ackBytes.isEmpty {
            if let position = AckPosition(bytes: ackBytes) {
                acknowledged = position
            } else {
                recovery.acknowledgementLost = true
            }
        }
        var state = State()
        var lastSequence = acknowledged.segment
        for sequence in try SegmentFile.sequences(in: directory) {
            lastSequence = max(lastSequence, sequence)
            let path = SegmentFile.path(directory, sequence)
            if sequence < acknowledged.segment {
                QueueDirectory.remove(path)
                continue
            }
            let file = try PosixFile(path: path, mode: .readWrite)
            let scan = DiskRecord.scan(try file.readAll())
            if scan.badMagic || scan.validLength < scan.fileLength {
                recovery.truncatedBytes += scan.fileLength - scan.validLength
                recovery.damagedFiles.append(path)
                try file.truncate(to: scan.validLength)
                try file.sync()
            }
            var segment = Segment(sequence: sequence, records: scan.records, bytes: scan.validLength, sealed: true)
            if sequence == acknowledged.segment {
                segment.next = scan.records.firstIndex { $0.offset >= acknowledged.offset } ?? scan.records.count
            }
            guard segment.next < segment.records.count else {
                QueueDirectory.remove(path)
                continue
            }
            for record in segment.records[segment.next...] {
                recovery.records += 1
                recovery.samples += Int(record.samples)
            }
            state.diskBytes += segment.bytes
            state.segments.append(segment)
        }
        let first = try SegmentFile.create(directory, sequence: lastSequence + 1)
        state.segments.append(Segment(sequence: lastSequence + 1, bytes: Int64(DiskRecord.magic.count), sealed: false))
        state.diskBytes += Int64(DiskRecord.magic.count)
        state.pendingSamples = recovery.samples
        QueueDirectory.sync(directory)
        self.recovery = recovery
        self.state = Mutex(state)
        self.writeFile = Mutex(first)
        self.ackFile = Mutex(ack)
    }

    // MARK: - Appending (persister thread)

    /// Appends one record; returns the samples dropped to stay within `maxBytes` (the oldest
    /// pending records, whole segments at a time; or this record if it alone is too large).
    func append(compressedRequest: [UInt8], samples: Int, timestamp: Int64) throws(DiskQueueError)
        -> Int
    {
        guard compressedRequest.count <= DiskRecord.maxPayload - DiskRecord.payloadPrefixSize else {
            throw DiskQueueError(
                path: settings.directory,
                reason:
                    "a record of \(compressedRequest.count) bytes exceeds the limit of \(DiskRecord.maxPayload >> 20) MiB"
            )
        }
        let record = DiskRecord.encode(compressedRequest: compressedRequest, samples: samples, timestamp: timestamp)
        guard Int64(record.count) + Int64(DiskRecord.magic.count) <= settings.maxBytes else { return samples }
        let directory = settings.directory
        let everyWrite = settings.sync == .everyWrite
        let segmentBytes = settings.segmentBytes
        var removed: [String] = []
        let dropped = try writeFile.withLock { (file: inout PosixFile) throws(DiskQueueError) -> Int in
            let current = state.withLock { $0.segments[$0.segments.count - 1] }
            var sequence = current.sequence
            var offset = current.bytes
            if offset + Int64(record.count) > segmentBytes && !current.records.isEmpty {
                try file.sync()  // a closed segment is always on stable storage
                sequence += 1
                file = try SegmentFile.create(directory, sequence: sequence)
                offset = Int64(DiskRecord.magic.count)
                state.withLock { state in
                    state.segments[state.segments.count - 1].sealed = true
                    state.segments.append(Segment(sequence: sequence, bytes: offset, sealed: false))
                    state.diskBytes += offset
                    removed += Self.removeAcknowledged(&state, directory)
                }
                if everyWrite { QueueDirectory.sync(directory) }
            }
            try file.append(record)
            if everyWrite { try file.sync() }
            return state.withLock { state -> Int in
                let info = DiskRecord.Info(
                    offset: offset, length: Int32(record.count), samples: Int32(clamping: samples),
                    timestamp: timestamp)
                let last = state.segments.count - 1
                state.segments[last].records.append(info)
                state.segments[last].bytes += Int64(record.count)
                state.diskBytes += Int64(record.count)
                state.pendingSamples += samples
                state.writtenSinceSync = !everyWrite
                return Self.enforceLimit(&state, maxBytes: settings.maxBytes, directory, removed: &removed)
            }
        }
        for path in removed { QueueDirectory.remove(path) }
        if !removed.isEmpty && everyWrite { QueueDirectory.sync(directory) }
        appended.signal()
        return dropped
    }

    /// fsyncs the open segment and the acknowledged position if anything changed since the
    /// last call (the `interval` policy; the persister calls it on its schedule and at exit).
    func syncIfChanged() throws(DiskQueueError) {
        let changed = state.withLock { state in
            defer { state.writtenSinceSync = false }
            return state.writtenSinceSync
        }
        guard changed else { return }
        try writeFile.withLock { (file: inout PosixFile) throws(DiskQueueError) in try file.sync() }
        try ackFile.withLock { (file: inout PosixFile) throws(DiskQueueError) in try file.sync() }
    }

    // MARK: - Sending (sender thread)

    /// The next records to send, from the oldest pending one, up to `maxSamples` samples (at
    /// least one record) within one segment. Records older than `notBefore` (ms) are dropped
    /// on the way and their samples added to `tooOld`. Nil when nothing is pending.
    func nextBatch(maxSamples: Int, notBefore: Int64?, tooOld: inout Int) throws(DiskQueueError) -> Batch? {
        while true {
            let pick = state.withLock { state -> (UInt64, [DiskRecord.Info])? in
                guard let index = state.segments.firstIndex(where: { $0.next < $0.records.count }) else { return nil }
                var segment = state.segments[index]
                if let notBefore {
                    while segment.next < segment.records.count && segment.records[segment.next].timestamp < notBefore {
                        let samples = Int(segment.records[segment.next].samples)
                        tooOld += samples
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
            guard let bytes = try read(sequence, from: first.offset, to: last.end) else { continue }
            var requests: [ArraySlice<UInt8>] = []
            var samples = 0
            var corrupt = 0
            for record in records {
                let start = Int(record.offset - first.offset)
                let slice = bytes[start..<(start + Int(record.length))]
                if let request = DiskRecord.compressedRequest(slice) {
                    requests.append(request)
                    samples += Int(record.samples)
                } else {
                    corrupt += Int(record.samples)
                }
            }
            return Batch(
                segment: sequence, records: records.count, end: last.end, requests: requests, samples: samples,
                corruptSamples: corrupt, oldestTimestamp: first.timestamp, newestTimestamp: last.timestamp)
        }
    }

    /// Marks `batch` delivered (or refused for good): advances and stores the acknowledged
    /// position and deletes segments that are now fully acknowledged.
    func acknowledge(_ batch: Batch) throws(DiskQueueError) {
        state.withLock { state in
            guard let index = state.segments.firstIndex(where: { $0.sequence == batch.segment }) else { return }
            let segment = state.segments[index]
            let end = min(segment.next + batch.records, segment.records.count)
            for record in segment.records[segment.next..<end] { state.pendingSamples -= Int(record.samples) }
            state.segments[index].next = end
            state.segments[index].inFlight = 0
        }
        let position = AckPosition(segment: batch.segment, offset: batch.end)
        try ackFile.withLock { (file: inout PosixFile) throws(DiskQueueError) in
            try file.overwrite(position.bytes, at: 0)
            if settings.sync == .everyWrite { try file.sync() }
        }
        if settings.sync != .everyWrite { state.withLock { $0.writtenSinceSync = true } }
        removeAcknowledgedSegments()
    }

    /// Syncs and releases the directory's lock (after the persister and sender have stopped),
    /// so another writer may open it; figures stay readable.
    func close() {
        try? syncIfChanged()
        lockFile.unlock()
    }

    /// Blocks the calling thread until a record is appended or `timeout` passes.
    func waitForRecords(timeout: Duration) {
        _ = appended.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds)))
    }

    /// Wakes a sender waiting in `waitForRecords`.
    func wake() { appended.signal() }

    // MARK: - Figures

    /// Samples on disk not yet acknowledged (including a batch in flight).
    var pendingSamples: Int { state.withLock { $0.pendingSamples } }
    /// Bytes of all segment files.
    var diskBytes: Int64 { state.withLock { $0.diskBytes } }
    /// The timestamp (ms) of the oldest pending record, nil when none is pending.
    var oldestPendingTimestamp: Int64? {
        state.withLock { state in
            state.segments.first { $0.next < $0.records.count }.map { $0.records[$0.next].timestamp }
        }
    }

    // MARK: - Internals

    private func read(_ sequence: UInt64, from start: Int64, to end: Int64) throws(DiskQueueError) -> [UInt8]? {
        let path = SegmentFile.path(settings.directory, sequence)
        return try readFile.withLock { (file: inout PosixFile?) throws(DiskQueueError) -> [UInt8]? in
            if file?.path != path {
                file = nil
                do throws(DiskQueueError) {
                    file = try PosixFile(path: path, mode: .read)
                } catch {
                    // Deleted for the disk limit meanwhile (its records were counted as dropped).
                    if !QueueDirectory.exists(path) { return nil }
                    throw error
                }
            }
            guard let bytes = try file?.read(count: Int(end - start), at: start) else { return nil }
            return bytes
        }
    }

    private func removeAcknowledgedSegments() {
        let directory = settings.directory
        let removed = state.withLock { Self.removeAcknowledged(&$0, directory) }
        for path in removed { QueueDirectory.remove(path) }
        if !removed.isEmpty && settings.sync == .everyWrite { QueueDirectory.sync(directory) }
    }

    /// Drops leading closed segments whose every record is acknowledged; returns their paths.
    private static func removeAcknowledged(_ state: inout State, _ directory: String) -> [String] {
        var removed: [String] = []
        while let first = state.segments.first, first.sealed, first.next == first.records.count {
            state.segments.removeFirst()
            state.diskBytes -= first.bytes
            removed.append(SegmentFile.path(directory, first.sequence))
        }
        return removed
    }

    /// Removes the oldest closed segments while the total exceeds `maxBytes`; returns the
    /// samples they still held.
    private static func enforceLimit(
        _ state: inout State, maxBytes: Int64, _ directory: String, removed: inout [String]
    ) -> Int {
        var dropped = 0
        while state.diskBytes > maxBytes, let first = state.segments.first, first.sealed {
            state.segments.removeFirst()
            state.diskBytes -= first.bytes
            // Records in flight stay the sender's to count (sent or failed); only the rest is dropped.
            for (index, record) in first.records.enumerated().dropFirst(first.next) {
                state.pendingSamples -= Int(record.samples)
                if index >= first.next + first.inFlight { dropped += Int(record.samples) }
            }
            removed.append(SegmentFile.path(directory, first.sequence))
        }
        return dropped
    }
}
