import ConveyorMetrics
import Synchronization

/// The disk-backed part of a target's queue: append-only segment files of compressed
/// requests (see ``DiskRecord``) and an acknowledged-position file (``AckPosition``).
///
/// Two threads use it, never the Swift concurrency pool: the target's persister appends,
/// the target's sender takes one batch at a time and acknowledges it after the receiver
/// answered. Segments are deleted once every record in them is acknowledged, or — oldest
/// first — when the directory would exceed `maxBytes`. The index of pending records lives in
/// memory (24 bytes per record); the record bytes are read back only to be sent.
///
/// A failed write never leaves a record half-indexed: the segment is cut back to its last
/// whole record and closed, and the next append starts a new segment. Acknowledging
/// overwrites a fixed-size file in place, so it needs no new space on a full disk.
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
            // At most a quarter of the limit, so closed segments can be removed to keep within it.
            self.segmentBytes = segmentBytes ?? max(64, min(max(maxBytes / 16, 64 << 10), 16 << 20, maxBytes / 4))
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
        /// The acknowledged-position file could not be opened or written (full or read-only
        /// disk): acknowledgements are kept in memory only, so a restart resends them.
        var acknowledgementUnwritable: String?
        /// The newest sample timestamp (ms) this queue ever held or delivered.
        var newestTimestamp: Int64 = 0
        /// Pending samples in the oldest segments removed to get within `maxBytes` (a crash
        /// between dropping them and deleting their files, or a lower limit than before).
        var droppedForLimit = 0
    }

    /// Records taken for one request. `requests` holds the compressed request of each record
    /// that passed its checksum again; `samples` counts those, `corruptSamples` the others.
    struct Batch {
        let segment: UInt64
        let records: Int
        let end: Int64
        let requests: [ArraySlice<UInt8>]
        /// The samples of each of `requests`.
        let requestSamples: [Int]
        /// The timestamp of each of `requests` (its snapshot's).
        let requestTimestamps: [Int64]
        /// Whether each of `requests` may be joined with others into one request: only
        /// records this process wrote. A previous run's may have been delivered already; sent
        /// again one by one, a receiver that refuses one (it holds newer samples of those
        /// series) refuses only what it already has.
        let requestJoinable: [Bool]
        /// For each of `requests`, the stream it goes in: requests with the same key hold the
        /// same series (in timestamp order), those with different keys disjoint ones.
        let streamKeys: [Int]
        let samples: Int
        let corruptSamples: Int
        let oldestTimestamp: Int64
        let newestTimestamp: Int64
    }

    struct Segment {
        let sequence: UInt64
        var records: [DiskRecord.Info] = []
        /// The first record not yet acknowledged.
        var next = 0
        /// Records from `next` on that the sender holds in a batch.
        var inFlight = 0
        var bytes: Int64
        /// No more appends (every segment but the one being written).
        var sealed: Bool
    }

    struct State {
        var segments: [Segment] = []
        var pendingSamples = 0
        /// Of `pendingSamples`: those of a batch in flight whose segment went for the disk
        /// limit; the sender still counts them as sent or failed.
        var orphanedSamples = 0
        var diskBytes: Int64 = 0
        var writtenSinceSync = false
        /// Segments created or removed since the directory was last synced (`interval`).
        var directoryChanged = false
        var acknowledged = AckPosition(segment: 0, offset: 0)
        /// The acknowledged-position slot written next (0 or 1).
        var ackSlot = 0
        var nextSequence: UInt64 = 1
    }

    let settings: Settings
    let recovery: Recovery
    let fileSystem: any DiskFileSystem
    let state: Mutex<State>
    /// The segment being appended to (persister thread); nil: the next append starts one.
    let writeFile = Mutex<(any DiskFile)?>(nil)
    /// The segment being read (sender thread).
    let readFile = Mutex<(any DiskFile)?>(nil)
    /// Nil when the file could not be opened or sized (see `Recovery.acknowledgementUnwritable`).
    let ackFile: Mutex<(any DiskFile)?>
    private let lockFile: any DiskFile

    /// Opens (or creates) the queue in `settings.directory`: takes its lock, reads the
    /// acknowledged position, scans every segment and truncates torn or corrupt tails. Reads
    /// only, apart from cutting tails, removing delivered segments and syncing what it found:
    /// it succeeds on a full disk.
    init(settings: Settings, fileSystem: any DiskFileSystem = PosixFileSystem()) throws(DiskQueueError) {
        self.settings = settings
        self.fileSystem = fileSystem
        let directory = settings.directory
        try fileSystem.prepareDirectory(directory)
        lockFile = try fileSystem.open(directory + "/lock", mode: .createReadWrite)
        guard lockFile.tryLock() else { throw .configuration(directory, "in use by another process (lock held)") }
        var recovery = Recovery()
        var state = State()
        let ack = try Self.openAcknowledgements(directory, fileSystem, &recovery, &state.acknowledged, &state.ackSlot)
        let acknowledged = state.acknowledged
        var lastSequence = acknowledged.segment
        var newest = acknowledged.newestTimestamp
        for sequence in try SegmentFile.sequences(in: directory, fileSystem) {
            lastSequence = max(lastSequence, sequence)
            let path = SegmentFile.path(directory, sequence)
            if sequence < acknowledged.segment {
                fileSystem.remove(path)
                continue
            }
            let file = try fileSystem.open(path, mode: .readWrite)
            let scan = DiskRecord.scan(try file.readAll())
            if scan.badMagic || scan.validLength < scan.fileLength {
                recovery.truncatedBytes += scan.fileLength - scan.validLength
                recovery.damagedFiles.append(path)
                try file.truncate(to: scan.validLength)
            }
            // What a crashed process wrote but never synced is still in the page cache: what
            // start-up counts as pending must be on stable storage before it is counted.
            try file.sync()
            newest = max(newest, scan.records.last?.timestamp ?? 0)
            var segment = Segment(sequence: sequence, records: scan.records, bytes: scan.validLength, sealed: true)
            if sequence == acknowledged.segment {
                segment.next = scan.records.firstIndex { $0.offset >= acknowledged.offset } ?? scan.records.count
            }
            guard segment.next < segment.records.count else {
                fileSystem.remove(path)
                continue
            }
            for record in segment.records[segment.next...] {
                recovery.records += 1
                recovery.samples += Int(record.samples)
            }
            state.diskBytes += segment.bytes
            state.segments.append(segment)
        }
        state.nextSequence = lastSequence &+ 1
        while state.diskBytes > settings.maxBytes, let first = state.segments.first {
            state.segments.removeFirst()
            state.diskBytes -= first.bytes
            let samples = first.records.dropFirst(first.next).reduce(0) { $0 + Int($1.samples) }
            recovery.samples -= samples
            recovery.records -= first.records.count - first.next
            recovery.droppedForLimit += samples
            fileSystem.remove(SegmentFile.path(directory, first.sequence))
        }
        state.pendingSamples = recovery.samples
        state.acknowledged.newestTimestamp = newest
        recovery.newestTimestamp = newest
        try? fileSystem.syncDirectory(directory)
        self.recovery = recovery
        self.state = Mutex(state)
        self.ackFile = Mutex(ack)
    }

    /// The newest timestamp a queue in `directory` holds or delivered, read without opening the
    /// queue (it may be read-only): a target that cannot use its disk still never stamps
    /// samples below what it sent before. Nil when a file that may hold it cannot be read.
    static func newestTimestamp(in directory: String, _ fileSystem: any DiskFileSystem) -> Int64? {
        var newest: Int64 = 0
        let ackPath = directory + "/" + AckPosition.fileName
        if fileSystem.exists(ackPath) {
            guard let file = try? fileSystem.open(ackPath, mode: .read), let bytes = try? file.readAll() else {
                return nil
            }
            newest = AckPosition(bytes: bytes)?.newestTimestamp ?? 0
        }
        guard let sequences = try? SegmentFile.sequences(in: directory, fileSystem) else {
            return fileSystem.exists(directory) ? nil : newest
        }
        for sequence in sequences {
            guard let file = try? fileSystem.open(SegmentFile.path(directory, sequence), mode: .read),
                let bytes = try? file.readAll()
            else { return nil }
            newest = max(newest, DiskRecord.scan(bytes).records.last?.timestamp ?? 0)
        }
        return newest
    }

    /// Opens the acknowledged-position file and reads it; makes it full-size, so later
    /// acknowledgements overwrite it in place. Nil (noted in `recovery`) when it cannot be
    /// created or written: acknowledgements then live in memory only.
    private static func openAcknowledgements(
        _ directory: String, _ fileSystem: any DiskFileSystem, _ recovery: inout Recovery,
        _ position: inout AckPosition, _ slot: inout Int
    ) throws(DiskQueueError) -> (any DiskFile)? {
        let path = directory + "/" + AckPosition.fileName
        let file: any DiskFile
        do throws(DiskQueueError) {
            file = try fileSystem.open(path, mode: .createReadWrite)
        } catch  where error.kind == .configuration || fileSystem.exists(path) {
            // An existing position that cannot be read now (EIO) is not given up: start-up
            // tries again, and without the disk the target runs from memory.
            throw error
        } catch {
            recovery.acknowledgementUnwritable = error.description
            return nil
        }
        let bytes = try file.readAll()
        if !bytes.isEmpty {
            if let stored = AckPosition(bytes: bytes) {
                position = stored
                // Write the other slot first: a torn write then keeps this position.
                slot = AckPosition(bytes: Array(bytes.prefix(AckPosition.size))) == stored ? 1 : 0
            } else {
                recovery.acknowledgementLost = true
            }
        }
        guard bytes.count < AckPosition.fileSize else { return file }
        do throws(DiskQueueError) {
            try file.overwrite(position.bytes + position.bytes, at: 0)
            try file.sync()
            return file
        } catch {
            recovery.acknowledgementUnwritable = error.description
            return nil
        }
    }

    /// Syncs and releases the directory's lock (after the persister and sender have stopped),
    /// so another writer may open it; figures stay readable.
    func close() {
        try? syncIfChanged()
        writeFile.withLock { $0 = nil }
        readFile.withLock { $0 = nil }
        lockFile.unlock()
    }

    // MARK: - Figures

    /// Samples on disk not yet acknowledged (including a batch in flight).
    var pendingSamples: Int { state.withLock { $0.pendingSamples } }
    /// Pending samples of a batch in flight whose segment is already deleted (not on disk).
    var orphanedSamples: Int { state.withLock { $0.orphanedSamples } }
    /// Bytes of all segment files.
    var diskBytes: Int64 { state.withLock { $0.diskBytes } }
    /// The timestamp (ms) of the oldest pending record, nil when none is pending.
    var oldestPendingTimestamp: Int64? {
        state.withLock { state in
            state.segments.first { $0.next < $0.records.count }.map { $0.records[$0.next].timestamp }
        }
    }

    /// Drops leading closed segments whose every record is acknowledged; returns their paths.
    static func removeAcknowledged(_ state: inout State, _ directory: String) -> [String] {
        var removed: [String] = []
        while let first = state.segments.first, first.sealed, first.next == first.records.count {
            state.segments.removeFirst()
            state.diskBytes -= first.bytes
            removed.append(SegmentFile.path(directory, first.sequence))
        }
        return removed
    }

    func removeFiles(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        for path in paths { fileSystem.remove(path) }
        if settings.sync == .everyWrite {
            try? fileSystem.syncDirectory(settings.directory)
        } else {
            state.withLock { $0.directoryChanged = true }
        }
    }
}
