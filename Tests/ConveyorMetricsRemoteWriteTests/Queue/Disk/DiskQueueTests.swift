import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// A record payload whose request decodes to `samples` samples stamped `timestamp`.
private func request(samples: Int, timestamp: Int64, value: Double = 1) -> [UInt8] {
    let series = RemoteSeries(labels: [Label(name: "__name__", value: "m"), Label(name: "k", value: "v")])
    let chunk = SampleChunk(
        series: Array(repeating: series, count: samples), values: Array(repeating: value, count: samples),
        timestamp: timestamp)
    let writer = WriteRequestWriter()
    writer.write([chunk])
    return Snappy.compress(writer.bytes)
}

extension DiskQueue {
    /// `nextBatch` for tests whose segment files never vanish.
    func nextBatch(maxSamples: Int, notBefore: Int64?, tooOld: inout Int) throws -> Batch? {
        var skipped = Skipped()
        defer {
            tooOld += skipped.tooOld
            #expect(skipped.lost == 0 && skipped.evicted == 0)
        }
        return try nextBatch(maxSamples: maxSamples, notBefore: notBefore, skipped: &skipped)
    }

    /// Appends a request of `samples` samples stamped `timestamp`; returns the samples dropped.
    func appendRequest(samples: Int, timestamp: Int64) throws -> Int {
        try append(
            compressedRequest: request(samples: samples, timestamp: timestamp), samples: samples, timestamp: timestamp
        ).dropped
    }
}

private func open(_ directory: borrowing TemporaryDirectory, maxBytes: Int64 = 1 << 30, segmentBytes: Int64? = nil)
    throws -> DiskQueue
{
    try DiskQueue(
        settings: .init(directory: directory.path, maxBytes: maxBytes, sync: .everyWrite, segmentBytes: segmentBytes))
}

/// Takes every pending batch, acknowledging each; returns the timestamps of the records.
private func drain(_ queue: DiskQueue, maxSamples: Int = 1, notBefore: Int64? = nil, tooOld: inout Int) throws
    -> [Int64]
{
    var timestamps: [Int64] = []
    while let batch = try queue.nextBatch(maxSamples: maxSamples, notBefore: notBefore, tooOld: &tooOld) {
        for request in batch.requests {
            let decoded = try WriteRequestDecoder.decode(body: Array(request))
            timestamps.append(contentsOf: Set(decoded.timeSeries.flatMap(\.samples).map(\.timestampMilliseconds)))
        }
        try queue.acknowledge(batch)
    }
    return timestamps
}

private func drain(_ queue: DiskQueue, maxSamples: Int = 1) throws -> [Int64] {
    var tooOld = 0
    return try drain(queue, maxSamples: maxSamples, tooOld: &tooOld)
}

@Suite("Disk queue")
struct DiskQueueTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(long)
        let split = long.withUnsafeBytes { raw in
            CRC32C.checksum(
                UnsafeRawBufferPointer(rebasing: raw[13...]), continuing: CRC32C.checksum(Array(long[..<13])))
        }
        #expect(whole == split, "slice-by-8 and byte-wise paths agree")
    }

    @Test func recordsComeBackInOrderAndAcknowledgedOnesAreGoneAfterRestart() throws {
        let directory = TemporaryDirectory()
        do {
            let queue = try open(directory)
            for timestamp in Int64(1)...5 {
                #expect(
                    try queue.appendRequest(samples: 2, timestamp: timestamp)
                        == 0)
            }
            #expect(queue.pendingSamples == 10)
            #expect(queue.oldestPendingTimestamp == 1)
            var tooOld = 0
            let first = try #require(try queue.nextBatch(maxSamples: 4, notBefore: nil, tooOld: &tooOld))
            #expect(first.records == 2 && first.samples == 4 && first.oldestTimestamp == 1)
            try queue.acknowledge(first)
            #expect(queue.pendingSamples == 6)
        }
        let reopened = try open(directory)
        #expect(reopened.recovery.records == 3)
        #expect(reopened.recovery.samples == 6)
        #expect(try drain(reopened) == [3, 4, 5])
        #expect(reopened.pendingSamples == 0)
        #expect(reopened.oldestPendingTimestamp == nil)
    }

    @Test func unacknowledgedRecordsSurviveAcrossSeveralRestarts() throws {
        let directory = TemporaryDirectory()
        for round in Int64(0)..<3 {
            let queue = try open(directory)
            #expect(queue.recovery.records == Int(round) * 2)
            for timestamp in (round * 2 + 1)...(round * 2 + 2) {
                _ = try queue.appendRequest(samples: 1, timestamp: timestamp)
            }
        }
        #expect(try drain(open(directory)) == [1, 2, 3, 4, 5, 6])
        #expect(directory.segments().isEmpty, "fully acknowledged segments are deleted: \(directory.segments())")
    }

    @Test func aTornTailIsCutOffAndTheValidPrefixReplayed() throws {
        let directory = TemporaryDirectory()
        do {
            let queue = try open(directory)
            for timestamp in Int64(1)...3 {
                _ = try queue.appendRequest(samples: 3, timestamp: timestamp)
            }
        }
        let segment = try #require(directory.segments().last)
        let full = try #require(FileManager.default.contents(atPath: segment))
        try full.dropLast(5).write(to: URL(fileURLWithPath: segment))  // power loss mid-record
        let queue = try open(directory)
        #expect(queue.recovery.records == 2)
        #expect(queue.recovery.truncatedBytes > 0)
        #expect(queue.recovery.damagedFiles == [segment])
        let recordSize = (full.count - DiskRecord.magic.count) / 3
        #expect(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int == full.count - recordSize)
        _ = try queue.appendRequest(samples: 3, timestamp: 9)
        #expect(try drain(queue) == [1, 2, 9], "appends after recovery follow the recovered records")
    }

    @Test func aFlippedByteEndsTheValidPrefixAtItsRecord() throws {
        let directory = TemporaryDirectory()
        do {
            let queue = try open(directory)
            for timestamp in Int64(1)...4 {
                _ = try queue.appendRequest(samples: 1, timestamp: timestamp)
            }
        }
        let segment = try #require(directory.segments().last)
        var bytes = try #require(FileManager.default.contents(atPath: segment))
        let recordSize = (bytes.count - DiskRecord.magic.count) / 4
        bytes[DiskRecord.magic.count + 2 * recordSize + 20] ^= 0x40  // inside the third record's payload
        try bytes.write(to: URL(fileURLWithPath: segment))
        let queue = try open(directory)
        #expect(queue.recovery.truncatedBytes == Int64(2 * recordSize))
        #expect(try drain(queue) == [1, 2], "nothing from the corrupt record on is sent")
    }

    @Test func aFileThatIsNotASegmentIsEmptiedNotSent() throws {
        let directory = TemporaryDirectory()
        do { _ = try open(directory) }
        let bogus = SegmentFile.path(directory.path, 0)
        try Data("garbage that is not a segment".utf8).write(to: URL(fileURLWithPath: bogus))
        let queue = try open(directory)
        #expect(queue.recovery.damagedFiles == [bogus])
        #expect(queue.recovery.records == 0)
        #expect(try drain(queue) == [])
    }

    @Test func theDiskLimitDropsTheOldestSegmentsAndCountsExactly() throws {
        let directory = TemporaryDirectory()
        let record = request(samples: 10, timestamp: 1)
        let recordBytes = Int64(DiskRecord.headerSize + DiskRecord.payloadPrefixSize + record.count)
        // Segments of 4 records; room for about 3 segments.
        let segmentBytes = Int64(DiskRecord.magic.count) + 4 * recordBytes
        let queue = try open(directory, maxBytes: 3 * segmentBytes, segmentBytes: segmentBytes)
        var dropped = 0
        let produced = 40
        for timestamp in Int64(1)...Int64(produced) {
            dropped += try queue.appendRequest(samples: 10, timestamp: timestamp)
            #expect(queue.diskBytes <= 3 * segmentBytes)
        }
        let delivered = try drain(queue, maxSamples: 1000)
        #expect(dropped > 0)
        #expect(delivered.count * 10 + dropped == produced * 10, "sent + dropped = produced")
        #expect(
            delivered == Array(Int64(produced - delivered.count + 1)...Int64(produced)), "the newest survive, in order")
    }

    @Test func aRecordInFlightIsNotCountedAsDroppedWhenItsSegmentGoes() throws {
        let directory = TemporaryDirectory()
        let record = request(samples: 5, timestamp: 1)
        let recordBytes = Int64(DiskRecord.headerSize + DiskRecord.payloadPrefixSize + record.count)
        let segmentBytes = Int64(DiskRecord.magic.count) + 2 * recordBytes
        let queue = try open(directory, maxBytes: 2 * segmentBytes, segmentBytes: segmentBytes)
        _ = try queue.append(compressedRequest: record, samples: 5, timestamp: 1)
        var tooOld = 0
        let inFlight = try #require(try queue.nextBatch(maxSamples: 5, notBefore: nil, tooOld: &tooOld))
        var dropped = 0
        for timestamp in Int64(2)...6 {
            dropped += try queue.appendRequest(samples: 5, timestamp: timestamp)
        }
        try queue.acknowledge(inFlight)  // delivered: 5 samples sent
        let rest = try drain(queue, maxSamples: 100)
        #expect(5 + rest.count * 5 + dropped == 30, "in flight + later sent + dropped = produced")
    }

    @Test func recordsOlderThanTheAgeLimitAreDroppedAndCounted() throws {
        let directory = TemporaryDirectory()
        let queue = try open(directory)
        for timestamp in Int64(1)...6 {
            _ = try queue.appendRequest(samples: 2, timestamp: timestamp * 1000)
        }
        var tooOld = 0
        let sent = try drain(queue, maxSamples: 100, notBefore: 4000, tooOld: &tooOld)
        #expect(sent == [4000, 5000, 6000])
        #expect(tooOld == 6)
        #expect(queue.pendingSamples == 0)
    }

    @Test func anUnusableDirectoryIsAClearError() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let file = directory.path + "/plain-file"
        try Data().write(to: URL(fileURLWithPath: file))
        do {
            _ = try DiskQueue(settings: .init(directory: file + "/queue", maxBytes: 1 << 20, sync: .everyWrite))
            Issue.record("opened a queue below a regular file")
        } catch {
            #expect(error.description.contains(file))
            #expect(error.description.contains("Not a directory"), "\(error)")
        }
    }

    @Test func theQueueDirectoryIsCreatedPrivate() throws {
        let directory = TemporaryDirectory()
        let queue = try open(directory)
        queue.close()
        let mode = try #require(
            try FileManager.default.attributesOfItem(atPath: directory.path)[.posixPermissions] as? Int)
        #expect(mode == 0o700, "mode \(String(mode, radix: 8))")
    }

    @Test func aDirectoryOthersControlIsAStartUpErrorNamingIt() throws {
        let base = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: base.path, withIntermediateDirectories: true)
        let real = base.path + "/real"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: false)
        let cases: [(String, () throws -> Void, String)] = [
            (
                base.path + "/link",
                { try FileManager.default.createSymbolicLink(atPath: base.path + "/link", withDestinationPath: real) },
                "symbolic link"
            ),
            (
                base.path + "/loose",
                {
                    try FileManager.default.createDirectory(
                        atPath: base.path + "/loose", withIntermediateDirectories: false)
                    chmod(base.path + "/loose", 0o777)
                }, "writable by group or others (mode 0777)"
            ),
            (
                base.path + "/group",
                {
                    try FileManager.default.createDirectory(
                        atPath: base.path + "/group", withIntermediateDirectories: false)
                    chmod(base.path + "/group", 0o770)
                }, "writable by group or others (mode 0770)"
            ),
            (
                base.path + "/foreign",
                {
                    try FileManager.default.createDirectory(
                        atPath: base.path + "/foreign", withIntermediateDirectories: false)
                    if geteuid() == 0 { chown(base.path + "/foreign", 65_534, 65_534) }
                }, geteuid() == 0 ? "owned by uid 65534" : ""
            ),
        ]
        #expect(cases.count == 4)
        for (path, make, reason) in cases where !reason.isEmpty {
            try make()
            do {
                _ = try DiskQueue(settings: .init(directory: path, maxBytes: 1 << 20, sync: .everyWrite))
                Issue.record("opened a queue in \(path)")
            } catch {
                #expect(error.description.contains(path) && error.description.contains(reason), "\(error)")
            }
        }
    }

    @Test func plantedSymbolicLinksAreNeverFollowed() throws {
        let base = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: base.path, withIntermediateDirectories: true)
        let victim = base.path + "/victim"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        for name in [AckPosition.fileName, "lock", "00000000000000000001.seg"] {
            let queueDirectory = base.path + "/queue-" + name
            try FileManager.default.createDirectory(atPath: queueDirectory, withIntermediateDirectories: false)
            chmod(queueDirectory, 0o700)
            try FileManager.default.createSymbolicLink(atPath: queueDirectory + "/" + name, withDestinationPath: victim)
            do {
                let queue = try DiskQueue(
                    settings: .init(directory: queueDirectory, maxBytes: 1 << 20, sync: .everyWrite))
                _ = try queue.appendRequest(samples: 1, timestamp: 1)
                queue.close()
                Issue.record("a queue opened over a planted link named \(name)")
            } catch {
                #expect("\(error)".contains(queueDirectory), "\(name): \(error)")
            }
            #expect(FileManager.default.contents(atPath: victim) == Data("precious".utf8), "\(name): victim untouched")
        }
    }

    @Test func aRecordOverTheLimitIsAClearErrorNotATrap() throws {
        let directory = TemporaryDirectory()
        let queue = try open(directory)
        defer { queue.close() }
        let tooLarge = [UInt8](repeating: 0, count: DiskRecord.maxPayload - DiskRecord.payloadPrefixSize + 1)
        #expect(throws: DiskQueueError.self) {
            _ = try queue.append(compressedRequest: tooLarge, samples: 1, timestamp: 1)
        }
        do {
            _ = try queue.append(compressedRequest: tooLarge, samples: 1, timestamp: 1)
        } catch {
            #expect(error.description.contains("exceeds the limit of 256 MiB"), "\(error)")
        }
        #expect(try queue.appendRequest(samples: 2, timestamp: 2) == 0, "the queue goes on")
    }

    @Test func anUnreadableAcknowledgementResendsRatherThanLoses() throws {
        let directory = TemporaryDirectory()
        do {
            let queue = try open(directory)
            for timestamp in Int64(1)...3 {
                _ = try queue.appendRequest(samples: 1, timestamp: timestamp)
            }
            var tooOld = 0
            try queue.acknowledge(try #require(try queue.nextBatch(maxSamples: 1, notBefore: nil, tooOld: &tooOld)))
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory.path + "/" + AckPosition.fileName))
        let queue = try open(directory)
        #expect(queue.recovery.acknowledgementLost)
        #expect(try drain(queue) == [1, 2, 3])
    }
}
