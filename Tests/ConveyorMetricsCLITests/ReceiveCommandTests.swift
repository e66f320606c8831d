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
            headers: [("User-Agent", "conveyor-metrics/test")], bodyBytes: 42, protocolVersion: .v1,
            decoded: .success(decoded), status: 204, written: nil, receivedAtMilliseconds: 99)
        #expect(
            ReceivedRequestFormatter.summary(request)
                == "POST /api/v1/write (v1) → 204: 1 series, 2 samples (1 stale markers), 1 metadata, 42 bytes [conveyor-metrics/test]"
        )
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(ReceivedRequestFormatter.json(request).utf8)) as? [String: Any])
        let first = try #require((json["series"] as? [[String: Any]])?.first)
        #expect(first["labels"] as? [String: String] == ["__name__": "up", "job": "x"])
        let samples = try #require(first["samples"] as? [[Any]])
        #expect(samples.map { $0[1] as? String } == ["1.5", "stale"])
        #expect(json["status"] as? Int == 204)
        #expect(json["protocol"] as? String == "v1" && json["decoded_as"] as? String == "v1")
        #expect(json["written"] == nil, "a 1.0 answer reports nothing written")
    }

    /// A peer chooses the User-Agent and the label names an error quotes: none of its
    /// control sequences reach the terminal, and its text is cut short.
    @Test func peerTextIsEscapedForTheTerminal() {
        let hostile = "evil\u{1B}[2J\u{1B}]0;title\u{07}\r\n\u{9B}31m\u{202E}txt.exe\u{200B}\\"
        let request = ReceivedWriteRequest(
            headers: [("User-Agent", hostile + String(repeating: "a", count: 1000))], bodyBytes: 1,
            protocolVersion: .v1,
            decoded: .failure(WriteRequestError("series 0 (up): invalid label name \(hostile)")), status: 400,
            written: nil, receivedAtMilliseconds: 1)
        let line = ReceivedRequestFormatter.summary(request)
        let unsafe = line.unicodeScalars.filter {
            $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (0x200B...0x200F).contains($0.value)
                || (0x202A...0x202E).contains($0.value)
        }
        #expect(unsafe.isEmpty, "\(line.debugDescription)")
        #expect(line.contains("evil\\u{1b}[2J"))
        #expect(line.contains("\\u{202e}txt.exe"))
        #expect(line.contains("…") && line.count < 800)
        #expect(TerminalText.escaped("plain ünïcödé text") == "plain ünïcödé text")
    }

    @Test func limitsComeFromTheOptions() throws {
        let command = try ReceiveCommand.parse([
            "--max-connections", "3", "--max-body-bytes", "1000", "--max-series", "4", "--max-labels", "5",
            "--max-samples", "6", "--max-decoded-bytes", "7000",
        ])
        let limits = command.limits
        #expect(limits.maxConnections == 3 && limits.maxBodyBytes == 1000)
        #expect(limits.request.maxSeries == 4 && limits.request.maxLabels == 5 && limits.request.maxSamples == 6)
        #expect(limits.request.maxDecodedBytes == 7000)
        #expect(throws: (any Error).self) { try ReceiveCommand.parse(["--max-connections", "0"]) }
        #expect(throws: (any Error).self) { try ReceiveCommand.parse(["--max-samples", "-5"]) }
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
