import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// `conveyor-metrics receive` on remote write 2.0: the protocol of each request and what
/// the answer reported as written, in the summary line and in --json.
@Suite("receive command: protocols")
struct ReceivedRequestFormatterTests {
    private static let labels = [Label(name: "__name__", value: "jobs_total"), Label(name: "queue", value: "a")]

    private func request(
        _ version: DecodedWriteRequest.ProtocolVersion?, _ decoded: Result<DecodedWriteRequest, WriteRequestError>,
        status: Int, written: ReceivedWriteRequest.WrittenCounts?
    ) -> ReceivedWriteRequest {
        ReceivedWriteRequest(
            headers: [("User-Agent", "sender/2")], bodyBytes: 64, protocolVersion: version, decoded: decoded,
            status: status, written: written, receivedAtMilliseconds: 5)
    }

    private func json(_ request: ReceivedWriteRequest) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(ReceivedRequestFormatter.json(request).utf8)) as? [String: Any])
    }

    @Test func anAcceptedV2RequestShowsItsProtocolCountsAndWhatWasWritten() throws {
        var decoded = DecodedWriteRequest(
            protocolVersion: .v2,
            timeSeries: [
                RemoteTimeSeries(
                    labels: Self.labels,
                    samples: [RemoteSample(value: 2, timestampMilliseconds: 7, startTimestampMilliseconds: 1)])
            ], metadata: [])
        decoded.histogramCount = 3
        decoded.exemplarCount = 1
        let accepted = request(
            .v2, .success(decoded), status: 204, written: .init(samples: 1, histograms: 3, exemplars: 1))
        #expect(
            ReceivedRequestFormatter.summary(accepted)
                == "POST /api/v1/write (v2) → 204: 1 series, 1 samples (0 stale markers), 3 histograms, 1 exemplars,"
                + " 0 metadata, 64 bytes; written: 1 samples, 3 histograms, 1 exemplars [sender/2]")
        let object = try json(accepted)
        #expect(object["protocol"] as? String == "v2" && object["decoded_as"] as? String == "v2")
        #expect(object["histograms"] as? Int == 3 && object["exemplars"] as? Int == 1)
        #expect(object["written"] as? [String: Int] == ["samples": 1, "histograms": 3, "exemplars": 1])
    }

    @Test func aRefusedV2RequestShowsNothingWritten() throws {
        let refused = request(
            .v2, .failure(WriteRequestError("series 0: labels_refs has an odd count (3)")), status: 400,
            written: .init(samples: 0, histograms: 0, exemplars: 0))
        let line = ReceivedRequestFormatter.summary(refused)
        #expect(line.hasPrefix("POST /api/v1/write (v2) → 400: series 0: labels_refs has an odd count (3)"))
        #expect(line.hasSuffix("; written: 0 samples, 0 histograms, 0 exemplars [sender/2]"), "\(line)")
        #expect(try json(refused)["written"] as? [String: Int] == ["samples": 0, "histograms": 0, "exemplars": 0])
    }

    @Test func anUnknownProtocolAndAV2BodyDecodedAsV1AreNamed() throws {
        let unknown = request(
            nil, .failure(WriteRequestError("unsupported media type: …", status: 415)), status: 415, written: nil)
        #expect(ReceivedRequestFormatter.summary(unknown).hasPrefix("POST /api/v1/write (unknown protocol) → 415: "))
        #expect(try json(unknown)["protocol"] is NSNull)
        let empty = DecodedWriteRequest(protocolVersion: .v1, timeSeries: [], metadata: [])
        let oldReceiver = request(.v2, .success(empty), status: 204, written: nil)
        #expect(
            ReceivedRequestFormatter.summary(oldReceiver)
                == "POST /api/v1/write (v2 decoded as v1) → 204: 0 series, 0 samples (0 stale markers), 0 metadata,"
                + " 64 bytes [sender/2]")
        let object = try json(oldReceiver)
        #expect(object["protocol"] as? String == "v2" && object["decoded_as"] as? String == "v1")
    }

    /// What a real receiver records for a 2.0 POST is what the summary prints.
    @Test func aV2PostToAReceiverIsPrintedWithItsProtocol() async throws {
        let receiver = RemoteWriteReceiver()
        try await receiver.start()
        let body = Snappy.compress(
            WriteRequestV2Packer(series: [
                .init(labels: Self.labels, samples: [RemoteSample(value: 1, timestampMilliseconds: 10)])
            ]).pack())
        let head =
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Encoding: snappy\r\n"
            + "Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request\r\n"
            + "X-Prometheus-Remote-Write-Version: 2.0.0\r\nUser-Agent: sender/2\r\nContent-Length: \(body.count)\r\n\r\n"
        let raw = try await RawHTTPClient(port: try #require(receiver.boundPort)).exchange(Array(head.utf8) + body)
        await receiver.shutdown()
        #expect(RawHTTPClient.parse(raw).first?.status == 204)
        let recorded = try #require(receiver.requests.first)
        let line = ReceivedRequestFormatter.summary(recorded)
        #expect(line.hasPrefix("POST /api/v1/write (v2) → 204: 1 series, 1 samples"), "\(line)")
        #expect(line.contains("; written: 1 samples, 0 histograms, 0 exemplars"), "\(line)")
    }
}
