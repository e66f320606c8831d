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
