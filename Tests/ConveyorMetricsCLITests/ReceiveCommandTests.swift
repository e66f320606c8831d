import ArgumentParser
import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// `conveyor-metrics receive`: what it prints for each request.
@Suite("receive command")
struct ReceiveCommandTests {
    @Test func printsSummariesAndJSON() throws {
        let decoded = DecodedWriteRequest(
            timeSeries: [
                RemoteTimeSeries(
                    labels: [Label(name: "__name__", value: "up"), Label(name: "job", value: "x")],
                    samples: [RemoteSample(value: 1.5, timestampMilliseconds: 7), .staleMarker(at: 8)])
            ], metadata: [RemoteMetadata(familyName: "up", type: .gauge, help: "Up", unit: "")])
        let request = ReceivedWriteRequest(
            headers: [("User-Agent", "conveyor-metrics/test")], bodyBytes: 42, decoded: .success(decoded), status: 204,
            receivedAtMilliseconds: 99)
        #expect(
            ReceivedRequestFormatter.summary(request)
                == "POST /api/v1/write → 204: 1 series, 2 samples (1 stale markers), 1 metadata, 42 bytes [conveyor-metrics/test]"
        )
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(ReceivedRequestFormatter.json(request).utf8)) as? [String: Any])
        let first = try #require((json["series"] as? [[String: Any]])?.first)
        #expect(first["labels"] as? [String: String] == ["__name__": "up", "job": "x"])
        let samples = try #require(first["samples"] as? [[Any]])
        #expect(samples.map { $0[1] as? String } == ["1.5", "stale"])
        #expect(json["status"] as? Int == 204)
    }

    @Test(arguments: ["nan", "-1", "0", "inf", "1e300"])
    func aDurationThatIsNotAPositiveNumberOfSecondsIsAValidationError(duration: String) {
        #expect(throws: (any Error).self) { try ReceiveCommand.parse(["--duration", duration]) }
    }

    @Test func aPositiveDurationIsAccepted() throws {
        let command = try ReceiveCommand.parse(["--duration", "1.5", "--listen", "127.0.0.1:0"])
        #expect(command.duration == 1.5)
    }
}
