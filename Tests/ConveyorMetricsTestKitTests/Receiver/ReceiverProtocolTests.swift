import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// The receivers a sender can meet, over HTTP: Prometheus 3 (1.0 and 2.0), a 1.x receiver
/// unaware of 2.0, one refusing 2.0; and the `*-Written` headers of 2.0 answers.
@Suite("Receiver protocols")
struct ReceiverProtocolTests {
    private static let written = [
        "X-Prometheus-Remote-Write-Samples-Written", "X-Prometheus-Remote-Write-Histograms-Written",
        "X-Prometheus-Remote-Write-Exemplars-Written",
    ]

    private func post(_ body: [UInt8], _ headers: [(String, String)], to receiver: RemoteWriteReceiver) async throws
        -> RawHTTPClient.Response
    {
        let lines = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        let head =
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(lines)Content-Length: \(body.count)\r\n\r\n"
        let raw = try await RawHTTPClient(port: try #require(receiver.boundPort)).exchange(Array(head.utf8) + body)
        return try #require(RawHTTPClient.parse(raw).first)
    }

    private func writtenHeaders(_ response: RawHTTPClient.Response) -> [Int?] {
        Self.written.map { response.header($0).flatMap { Int($0) } }
    }

    private func withReceiver(
        _ protocols: RemoteWriteReceiver.ProtocolSupport = .v1AndV2,
        script: @escaping @Sendable (Int) -> ReceiverAction = { _ in .accept },
        _ body: (RemoteWriteReceiver) async throws -> Void
    ) async throws {
        let receiver = RemoteWriteReceiver(protocols: protocols, script: script)
        try await receiver.start()
        do {
            try await body(receiver)
        } catch {
            await receiver.shutdown()
            throw error
        }
        await receiver.shutdown()
    }

    /// 2 samples, 1 histogram (another series), 1 exemplar.
    private static let v2Body: [UInt8] = {
        let labels = RequestCheckerProtocolTests.labels
        return Snappy.compress(
            WriteRequestV2Packer(series: [
                .init(
                    labels: labels,
                    samples: [RemoteSample(value: 1, timestampMilliseconds: 10), .staleMarker(at: 20)],
                    exemplars: [
                        .init(labels: [Label(name: "trace_id", value: "t")], value: 1, timestampMilliseconds: 10)
                    ]),
                .init(
                    labels: [Label(name: "__name__", value: "latency_seconds")],
                    histograms: [
                        .init(
                            count: 1, sum: 1, schema: 0, positiveSpans: [(offset: 0, length: 1)], positiveDeltas: [1],
                            timestampMilliseconds: 10)
                    ]),
            ]).pack())
    }()

    @Test func aV1AndV2ReceiverReportsWhatItWroteOnEveryV2Answer() async throws {
        try await withReceiver { receiver in
            let accepted = try await post(Self.v2Body, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(accepted.status == 204)
            #expect(writtenHeaders(accepted) == [2, 1, 1])
            // Refused by a rule: labels not sorted.
            let unsorted = Snappy.compress(
                WriteRequestV2Packer(series: [
                    .init(
                        labels: [
                            Label(name: "__name__", value: "up"), Label(name: "b", value: "1"),
                            Label(name: "a", value: "1"),
                        ],
                        samples: [RemoteSample(value: 1, timestampMilliseconds: 30)])
                ]).pack())
            let refused = try await post(unsorted, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(refused.status == 400 && refused.text.contains("not sorted"))
            #expect(writtenHeaders(refused) == [0, 0, 0])
            // Over a limit, before decoding.
            let expansion = Snappy.compress(V2Expansion.emptySamples.request())
            let tooLarge = try await post(expansion, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(tooLarge.status == 413 && tooLarge.text.contains("max_samples"))
            #expect(writtenHeaders(tooLarge) == [0, 0, 0])
            // Remote write 1.0: no *-Written headers, as Prometheus 2.x answers.
            let v1 = try await post(
                RequestCheckerProtocolTests.v1Body([40]), RequestCheckerProtocolTests.v1Headers, to: receiver)
            #expect(v1.status == 204 && writtenHeaders(v1) == [nil, nil, nil])
            // Another message: 415, no *-Written headers.
            var other = RequestCheckerProtocolTests.v2Headers
            other[1].1 = "application/x-protobuf;proto=io.prometheus.write.v3.Request"
            let unsupported = try await post(Self.v2Body, other, to: receiver)
            #expect(unsupported.status == 415 && unsupported.text.contains("v3"))
            #expect(writtenHeaders(unsupported) == [nil, nil, nil])

            let requests = receiver.requests
            #expect(requests.map(\.status) == [204, 400, 413, 204, 415])
            #expect(requests.map(\.protocolVersion) == [.v2, .v2, .v2, .v1, nil])
            #expect(
                requests.map(\.written) == [
                    .init(samples: 2, histograms: 1, exemplars: 1), .init(samples: 0, histograms: 0, exemplars: 0),
                    .init(samples: 0, histograms: 0, exemplars: 0), nil, nil,
                ])
            #expect(receiver.samples(of: "up").map(\.timestampMilliseconds) == [10, 20, 40])
        }
    }

    /// Prometheus 2.42 / VictoriaMetrics 1.79: a 2.0 body is an empty 1.0 request; 204, no
    /// *-Written headers, nothing stored.
    @Test func aV1OnlyReceiverAccepts2_0BodiesAndStoresNothing() async throws {
        try await withReceiver(.v1Only) { receiver in
            let response = try await post(Self.v2Body, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(response.status == 204)
            #expect(writtenHeaders(response) == [nil, nil, nil])
            let v1 = try await post(
                RequestCheckerProtocolTests.v1Body([10]), RequestCheckerProtocolTests.v1Headers, to: receiver)
            #expect(v1.status == 204)
            let first = try #require(receiver.requests.first)
            #expect(first.protocolVersion == .v2 && first.accepted?.protocolVersion == .v1)
            #expect(first.accepted?.timeSeries.isEmpty == true && first.written == nil)
            #expect(receiver.acceptedSeries.count == 1, "only the 1.0 request's series")
            #expect(receiver.protocols == .v1Only)
        }
    }

    @Test func aReceiverRefusingV2Answers415() async throws {
        try await withReceiver(.refusingV2) { receiver in
            let response = try await post(Self.v2Body, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(response.status == 415 && response.text.contains("not accepted"))
            #expect(writtenHeaders(response) == [nil, nil, nil])
            let v1 = try await post(
                RequestCheckerProtocolTests.v1Body([10]), RequestCheckerProtocolTests.v1Headers, to: receiver)
            #expect(v1.status == 204)
            #expect(receiver.requests.map(\.status) == [415, 204])
        }
    }

    /// A scripted answer to a 2.0 request reports counts as the receiver would (all on 2xx,
    /// 0 otherwise), unless the script sets them.
    @Test func scriptedAnswersToV2CarryTheWrittenHeaders() async throws {
        let script: @Sendable (Int) -> ReceiverAction = { index in
            switch index {
            case 0: .respond(status: 500)
            case 1: .respond(status: 200)
            default:
                .respond(status: 204, headers: [("X-Prometheus-Remote-Write-Samples-Written", "1")])
            }
        }
        try await withReceiver(script: script) { receiver in
            let failed = try await post(Self.v2Body, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(failed.status == 500 && writtenHeaders(failed) == [0, 0, 0])
            let ok = try await post(Self.v2Body, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(ok.status == 200 && writtenHeaders(ok) == [2, 1, 1])
            let partial = try await post(Self.v2Body, RequestCheckerProtocolTests.v2Headers, to: receiver)
            #expect(partial.status == 204 && writtenHeaders(partial) == [1, nil, nil])
            #expect(receiver.requests.map(\.written?.samples) == [0, 2, nil])
        }
    }
}
