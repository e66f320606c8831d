import ArgumentParser
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Foundation
import Logging
import ServiceLifecycle

/// How `receive` prints a request.
enum ReceivedRequestFormatter {
    /// One line per request. Everything the peer chose (User-Agent, label and metric names
    /// in an error) is escaped for the terminal.
    static func summary(_ request: ReceivedWriteRequest) -> String {
        let agent = TerminalText.escaped(request.header("User-Agent") ?? "no User-Agent")
        switch request.decoded {
        case .success(let decoded):
            let stale = decoded.timeSeries.flatMap(\.samples).filter(\.isStaleMarker).count
            return
                "POST /api/v1/write → \(request.status): \(decoded.timeSeries.count) series, \(decoded.sampleCount) samples"
                + " (\(stale) stale markers), \(decoded.metadata.count) metadata, \(request.bodyBytes) bytes [\(agent)]"
        case .failure(let error):
            return
                "POST /api/v1/write → \(request.status): \(TerminalText.escaped(error.description, maxCharacters: 400))"
                + " (\(request.bodyBytes) bytes) [\(agent)]"
        }
    }

    static func json(_ request: ReceivedWriteRequest) -> String {
        var object: [String: Any] = [
            "status": request.status, "bytes": request.bodyBytes, "received_at_ms": request.receivedAtMilliseconds,
            "user_agent": request.header("User-Agent") ?? "",
        ]
        switch request.decoded {
        case .success(let decoded):
            object["series"] = decoded.timeSeries.map { series -> [String: Any] in
                [
                    "labels": Dictionary(
                        series.labels.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }),
                    "samples": series.samples.map { [$0.timestampMilliseconds, value($0)] as [Any] },
                ]
            }
            object["metadata"] = decoded.metadata.map {
                ["family": $0.familyName, "type": $0.type.rawValue, "help": $0.help, "unit": $0.unit]
            }
        case .failure(let error):
            object["error"] = error.description
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Values as Prometheus' API writes them: strings, with "stale" for stale markers.
    private static func value(_ sample: RemoteSample) -> String {
        if sample.isStaleMarker { return "stale" }
        var bytes: [UInt8] = []
        FloatFormatting.appendValue(sample.value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
