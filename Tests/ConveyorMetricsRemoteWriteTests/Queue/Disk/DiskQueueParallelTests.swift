import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// `nextBatch(parallel:)`: which records may go side by side in streams.
@Suite("Disk queue, parallel batches")
struct DiskQueueParallelTests {
    static func body() -> [UInt8] {
        let series = RemoteSeries(labels: [Label(name: "__name__", value: "m")])
        let writer = WriteRequestWriter()
        writer.write([SampleChunk(series: [series], values: [1], timestamp: 1)])
        return Snappy.compress(writer.bytes)
    }

    static func take(_ queue: DiskQueue) throws -> DiskQueue.Batch? {
        var skipped = DiskQueue.Skipped()
        return try queue.nextBatch(maxSamples: 1_000, notBefore: nil, parallel: true, skipped: &skipped)
    }

    @Test func recordsOfOneListGoTogetherKeyedByPositionAndARestartFallsBackToOneSnapshot() throws {
        let directory = TemporaryDirectory()
        do {
            let queue = try DiskQueue(settings: .init(directory: directory.path, maxBytes: 1 << 30, sync: .everyWrite))
            // Two snapshots of list 1 (positions 0 and 100), then one of list 2.
            for (timestamp, list) in [(Int64(10), UInt64(1)), (20, 1), (30, 2)] {
                for position in [0, 100] {
                    _ = try queue.append(
                        compressedRequest: Self.body(), samples: 100, timestamp: timestamp, list: list,
                        position: position)
                }
            }
            let first = try #require(try Self.take(queue))
            #expect(first.requests.count == 4)
            #expect(first.streamKeys == [0, 100, 0, 100])
            #expect(first.requestTimestamps == [10, 10, 20, 20])
            try queue.acknowledge(first)
            let second = try #require(try Self.take(queue))
            #expect(second.streamKeys == [0, 100] && second.requestTimestamps == [30, 30])
            // Not acknowledged: after a restart the records' lists are unknown.
        }
        let reopened = try DiskQueue(settings: .init(directory: directory.path, maxBytes: 1 << 30, sync: .everyWrite))
        _ = try reopened.append(compressedRequest: Self.body(), samples: 100, timestamp: 40, list: 1, position: 0)
        let replayed = try #require(try Self.take(reopened))
        #expect(replayed.requestTimestamps == [30, 30], "one snapshot at a time")
        #expect(replayed.streamKeys == [0, 1], "a stream each")
        try reopened.acknowledge(replayed)
        let fresh = try #require(try Self.take(reopened))
        #expect(fresh.requestTimestamps == [40])
    }
}

/// Disk waves as the sender takes them: 1.0 records of a stream joined up to a request.
@Suite("Disk batches")
struct DiskBatchesTests {
    @Test func oneShardJoinsConsecutiveRecordsIntoFullRequestsAndManyShardsAStreamPerPosition() throws {
        let directory = TemporaryDirectory()
        let queue = try DiskQueue(settings: .init(directory: directory.path, maxBytes: 1 << 30, sync: .everyWrite))
        // Three snapshots of one list, four records of 25 samples each (requests of 100).
        for timestamp in [Int64(10), 20, 30] {
            for position in stride(from: 0, to: 100, by: 25) {
                _ = try queue.append(
                    compressedRequest: DiskQueueParallelTests.body(), samples: 25, timestamp: timestamp, list: 1,
                    position: position)
            }
        }
        let source = DiskBatches(disk: queue)
        let one = try #require(try source.nextWave(shards: 1, maxSamples: 100, notBefore: nil) { _, _ in })
        #expect(one.streams.count == 1)
        #expect(one.streams.first?.map(\.samples) == [100])
        guard case .stored(let records) = one.streams.first?.first?.content else {
            Issue.record("stored records")
            return
        }
        #expect(records.count == 4)
        try source.complete(one)
        let many = try #require(try source.nextWave(shards: 8, maxSamples: 100, notBefore: nil) { _, _ in })
        #expect(many.streams.count == 4, "a stream per position")
        #expect(many.streams.allSatisfy { $0.map(\.samples) == [50] }, "two snapshots' records joined")
        #expect(many.streams.allSatisfy { $0.first?.oldestTimestamp == 20 && $0.first?.newestTimestamp == 30 })
    }

    @Test func morePositionsThanShardsShareStreamsAndFillRequests() throws {
        let directory = TemporaryDirectory()
        let queue = try DiskQueue(settings: .init(directory: directory.path, maxBytes: 1 << 30, sync: .everyWrite))
        // One snapshot of eight positions of 25 samples; two shards.
        for position in stride(from: 0, to: 200, by: 25) {
            _ = try queue.append(
                compressedRequest: DiskQueueParallelTests.body(), samples: 25, timestamp: 10, list: 1,
                position: position)
        }
        let wave = try #require(
            try DiskBatches(disk: queue).nextWave(shards: 2, maxSamples: 100, notBefore: nil) { _, _ in })
        #expect(wave.streams.count == 2)
        #expect(wave.streams.allSatisfy { $0.map(\.samples) == [100] }, "four positions a stream, one full request")
    }
}

/// A previous run's records may have been delivered in part (a wave ends before it is
/// acknowledged); sent again, a receiver refuses one it holds newer samples of. Joined to an
/// undelivered record, that refusal would lose it: a previous run's records go one a request.
@Suite("Disk batches after a restart")
struct DiskBatchesAfterRestartTests {
    @Test func aPreviousRunsRecordsAreNeverJoined() throws {
        let directory = TemporaryDirectory()
        do {
            let queue = try DiskQueue(settings: .init(directory: directory.path, maxBytes: 1 << 30, sync: .everyWrite))
            for timestamp in [Int64(10), 20] {
                for position in [0, 25] {
                    _ = try queue.append(
                        compressedRequest: DiskQueueParallelTests.body(), samples: 25, timestamp: timestamp, list: 1,
                        position: position)
                }
            }
            // This run joins them: one shard, one request of all four.
            let wave = try #require(
                try DiskBatches(disk: queue).nextWave(shards: 1, maxSamples: 100, notBefore: nil) { _, _ in })
            #expect(wave.streams.first?.map(\.samples) == [100])
            // A crash before the wave is acknowledged.
        }
        let reopened = try DiskQueue(settings: .init(directory: directory.path, maxBytes: 1 << 30, sync: .everyWrite))
        let source = DiskBatches(disk: reopened)
        let one = try #require(try source.nextWave(shards: 1, maxSamples: 100, notBefore: nil) { _, _ in })
        #expect(one.streams.count == 1)
        #expect(one.streams.first?.map(\.samples) == [25, 25, 25, 25], "one record a request")
        #expect(one.streams.first?.allSatisfy { !$0.joinable } == true)
        let many = try #require(try source.nextWave(shards: 4, maxSamples: 100, notBefore: nil) { _, _ in })
        #expect(many.streams.flatMap { $0 }.allSatisfy { $0.samples == 25 }, "one record a request")
    }
}
