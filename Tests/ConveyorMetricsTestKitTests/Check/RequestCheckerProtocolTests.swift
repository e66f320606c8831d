import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// The checker's content negotiation and the protocols it accepts.
@Suite("Request checker protocols")
struct RequestCheckerProtocolTests {
    static let v1Headers = [
        ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ]
    static let v2Headers = [
        ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        ("X-Prometheus-Remote-Write-Version", "2.0.0"),
    ]
    static let labels = [Label(name: "__name__", value: "up"), Label(name: "job", value: "a")]

    static func v1Body(_ timestamps: [Int64]) -> [UInt8] {
        Snappy.compress(
            WriteRequestEncoder().encode([
                RemoteTimeSeries(
                    labels: labels, samples: timestamps.map { RemoteSample(value: 1, timestampMilliseconds: $0) })
            ]))
    }

    static func v2Body(_ timestamps: [Int64]) -> [UInt8] {
        Snappy.compress(
            WriteRequestV2Packer(series: [
                .init(labels: labels, samples: timestamps.map { RemoteSample(value: 1, timestampMilliseconds: $0) })
            ]).pack())
    }

    private func reason(_ result: Result<DecodedWriteRequest, WriteRequestError>) -> (Int, String)? {
        guard case .failure(let error) = result else { return nil }
        return (error.status, error.description)
    }

    @Test func v2NeedsItsVersionHeaderAndV1Its() throws {
        let checker = RemoteWriteRequestChecker()
        let accepted = try checker.check(headers: Self.v2Headers, body: Self.v2Body([10])).get()
        #expect(accepted.protocolVersion == .v2 && accepted.sampleCount == 1)
        var v2WithV1Version = Self.v2Headers
        v2WithV1Version[2].1 = "0.1.0"
        let refused = try #require(reason(checker.check(headers: v2WithV1Version, body: Self.v2Body([20]))))
        #expect(refused.0 == 400 && refused.1.contains("must be '2.0.0' for remote write 2.0, got '0.1.0'"))
        var v1WithV2Version = Self.v1Headers
        v1WithV2Version[2].1 = "2.0.0"
        let v1Refused = try #require(reason(checker.check(headers: v1WithV2Version, body: Self.v1Body([20]))))
        #expect(v1Refused.0 == 400 && v1Refused.1.contains("must be '0.1.0'"))
        let unknown = try #require(
            reason(
                checker.check(
                    headers: [("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf;proto=x.Y")],
                    body: Self.v2Body([20]))))
        #expect(unknown.0 == 415 && unknown.1.contains("proto='x.Y'"))
        #expect(checker.totals.acceptedRequests == 1 && checker.totals.rejectedRequests == 3)
    }

    /// A series is one series whichever protocol carried it: order is checked across both.
    @Test func seriesOrderIsSharedBetweenV1AndV2() throws {
        let checker = RemoteWriteRequestChecker()
        #expect(throws: Never.self) { try checker.check(headers: Self.v1Headers, body: Self.v1Body([100])).get() }
        let older = try #require(reason(checker.check(headers: Self.v2Headers, body: Self.v2Body([50]))))
        #expect(older.0 == 400 && older.1.contains("out of order sample for up"))
        #expect(throws: Never.self) { try checker.check(headers: Self.v2Headers, body: Self.v2Body([100, 200])).get() }
        let olderV1 = try #require(reason(checker.check(headers: Self.v1Headers, body: Self.v1Body([150]))))
        #expect(olderV1.1.contains("out of order"))
        #expect(checker.trackedSeries == 1 && checker.totals.duplicates == 1)
    }

    @Test func aReceiverRefusingV2Answers415ToV2Only() throws {
        let checker = RemoteWriteRequestChecker(protocols: .refusingV2)
        let refused = try #require(reason(checker.check(headers: Self.v2Headers, body: Self.v2Body([10]))))
        #expect(refused.0 == 415 && refused.1.contains("remote write 2.0"))
        #expect(try checker.check(headers: Self.v1Headers, body: Self.v1Body([10])).get().sampleCount == 1)
    }

    /// A 1.x receiver decodes everything as 1.0: a 2.0 body is an empty request, accepted.
    @Test func aV1OnlyReceiverDecodesEveryBodyAsV1() throws {
        let checker = RemoteWriteRequestChecker(protocols: .v1Only)
        let v2 = try checker.check(headers: Self.v2Headers, body: Self.v2Body([10])).get()
        #expect(v2.protocolVersion == .v1 && v2.timeSeries.isEmpty && v2.sampleCount == 0)
        // A 1.0 body announced as 2.0 is read as what it is.
        let mislabelled = try checker.check(headers: Self.v2Headers, body: Self.v1Body([10])).get()
        #expect(mislabelled.timeSeries.first?.labels == Self.labels)
        // A request announcing 1.0 is still checked as 1.0.
        var wrongVersion = Self.v1Headers
        wrongVersion[2].1 = "9"
        #expect(reason(checker.check(headers: wrongVersion, body: Self.v1Body([20])))?.0 == 400)
        #expect(
            reason(checker.check(headers: [("Content-Type", "application/json")], body: []))?.1.contains(
                "content-encoding") == true)
    }
}
