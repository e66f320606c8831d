import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Receiver")
struct ReceiverTests {
    private func post(_ body: [UInt8], to receiver: RemoteWriteReceiver, headers: [(String, String)]? = nil)
        async throws
        -> RawHTTPClient.Response
    {
        let headerLines =
            (headers ?? [
                ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
                ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ]).map { "\($0.0): \($0.1)\r\n" }.joined()
        let head =
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(headerLines)Content-Length: \(body.count)\r\n\r\n"
        let raw = try await RawHTTPClient(port: receiver.boundPort ?? 0).exchange(Array(head.utf8) + body)
        return try #require(RawHTTPClient.parse(raw).first)
    }

    private func body(_ series: [RemoteTimeSeries]) -> [UInt8] {
        Snappy.compress(WriteRequestEncoder().encode(series))
    }

    private func series(_ timestamps: [Int64], labels: [(String, String)] = [("__name__", "up")]) -> RemoteTimeSeries {
        RemoteTimeSeries(
            labels: labels.map { Label(name: $0.0, value: $0.1) },
            samples: timestamps.map { RemoteSample(value: 1, timestampMilliseconds: $0) })
    }

    @Test func refusesWhatBreaksTheRulesWithAReason() async throws {
        let receiver = RemoteWriteReceiver()
        try await receiver.start()
        defer { Task { await receiver.shutdown() } }
        let garbage = try await post(Array("not snappy at all".utf8), to: receiver)
        #expect(garbage.status == 400)
        #expect(garbage.text.contains("snappy"))
        let wrongType = try await post(
            body([series([1])]), to: receiver, headers: [("Content-Type", "application/json")])
        #expect(wrongType.status == 415)
        #expect(wrongType.text.contains("application/json"))
        let wrongHeader = try await post(
            body([series([1])]), to: receiver,
            headers: [("Content-Type", "application/x-protobuf"), ("X-Prometheus-Remote-Write-Version", "0.1.0")])
        #expect(wrongHeader.status == 400)
        #expect(wrongHeader.text.contains("content-encoding"))
        let unsorted = try await post(
            body([series([1], labels: [("__name__", "up"), ("b", "1"), ("a", "1")])]), to: receiver)
        #expect(unsorted.status == 400)
        #expect(unsorted.text.contains("not sorted"))
        #expect(try await post(body([series([10, 20])]), to: receiver).status == 204)
        #expect(try await post(body([series([20])]), to: receiver).status == 204, "a duplicate timestamp is allowed")
        let older = try await post(body([series([15])]), to: receiver)
        #expect(older.status == 400)
        #expect(older.text.contains("out of order"))
        let totals = receiver.checker.totals
        #expect(totals.acceptedRequests == 2 && totals.rejectedRequests == 5 && totals.duplicates == 1)
        let wrongPath = try await RawHTTPClient(port: receiver.boundPort ?? 0).get("/metrics")
        #expect(wrongPath.status == 404)
        await receiver.shutdown()
    }

    @Test func assertionHelpersFindSamplesLatestValuesAndWait() async throws {
        let receiver = RemoteWriteReceiver()
        try await receiver.start()
        func sample(_ value: Double, _ timestamp: Int64) -> RemoteSample {
            RemoteSample(value: value, timestampMilliseconds: timestamp)
        }
        let jobA = [Label(name: "__name__", value: "up"), Label(name: "job", value: "a")]
        let jobB = [Label(name: "__name__", value: "up"), Label(name: "job", value: "b")]
        #expect(try await receiver.waitUntil(timeout: .milliseconds(100)) { !$0.requests.isEmpty } == false)
        let first = try await post(
            body([
                RemoteTimeSeries(labels: jobA, samples: [sample(1, 10)]),
                RemoteTimeSeries(labels: jobB, samples: [sample(7, 10)]),
            ]), to: receiver)
        #expect(first.status == 204)
        let second = try await post(
            body([RemoteTimeSeries(labels: jobA, samples: [sample(2, 20), .staleMarker(at: 30)])]), to: receiver)
        #expect(second.status == 204)
        #expect(try await receiver.waitUntil(timeout: .seconds(5)) { $0.requests.count == 2 })
        let a = receiver.samples(of: "up", labels: ["job": "a"])
        #expect(a.map(\.timestampMilliseconds) == [10, 20, 30])
        #expect(a.last?.isStaleMarker == true)
        #expect(receiver.latestValue(of: "up", labels: ["job": "a"]) == 2, "the stale marker is skipped")
        #expect(receiver.latestValue(of: "up", labels: ["job": "b"]) == 7)
        #expect(receiver.samples(of: "up").count == 4, "no label filter: every series named up")
        #expect(receiver.samples(of: "down").isEmpty)
        #expect(receiver.latestValue(of: "up", labels: ["job": "c"]) == nil)
        await receiver.shutdown()
    }
}

@Suite("Request checker memory")
struct RequestCheckerMemoryTests {
    private static let headers = [
        ("Content-Encoding", RemoteWriteProtocol.contentEncoding),
        ("Content-Type", RemoteWriteProtocol.contentType),
        ("X-Prometheus-Remote-Write-Version", RemoteWriteProtocol.version),
    ]

    private static func body(series: Range<Int>, timestamp: Int64) -> [UInt8] {
        let timeSeries = series.map {
            RemoteTimeSeries(
                labels: [Label(name: "__name__", value: "m"), Label(name: "id", value: "s\($0)")],
                samples: [RemoteSample(value: 1, timestampMilliseconds: timestamp)])
        }
        return Snappy.compress(WriteRequestEncoder().encode(timeSeries))
    }

    @Test func everNewSeriesAreForgottenLeastRecentlySeenFirst() {
        let checker = RemoteWriteRequestChecker(maxTrackedSeries: 1_000)
        // 100 requests of 100 new series each: 10,000 series ever seen.
        for batch in 0..<100 {
            let result = checker.check(
                headers: Self.headers, body: Self.body(series: (batch * 100)..<(batch * 100 + 100), timestamp: 1_000))
            if case .failure(let error) = result { Issue.record("refused: \(error)") }
        }
        #expect(checker.trackedSeries <= 1_000)
        #expect(checker.totals.forgottenSeries >= 9_000)
        // The most recent series are still checked: an older sample of one is refused.
        let late = checker.check(headers: Self.headers, body: Self.body(series: 9_999..<10_000, timestamp: 999))
        guard case .failure(let error) = late else {
            Issue.record("an out-of-order sample was accepted")
            return
        }
        #expect("\(error)".contains("out of order"))
    }
}
