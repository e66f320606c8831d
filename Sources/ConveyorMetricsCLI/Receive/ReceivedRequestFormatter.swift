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
    /// One line per request: the protocol its `Content-Type` announced, the status, what it
    /// held (or why it was refused) and, for remote write 2.0, what the answer reported as
    /// written. Everything the peer chose (User-Agent, label and metric names in an error) is
    /// escaped for the terminal.
    static func summary(_ request: ReceivedWriteRequest) -> String {
        let agent = TerminalText.escaped(request.header("User-Agent") ?? "no User-Agent")
        let head = "POST /api/v1/write (\(protocolName(request))) → \(request.status)"
        let written = request.written.map {
            "; written: \($0.samples) samples, \($0.histograms) histograms, \($0.exemplars) exemplars"
        }
        switch request.decoded {
        case .success(let decoded):
            let stale = decoded.timeSeries.flatMap(\.samples).filter(\.isStaleMarker).count
            let native =
                decoded.protocolVersion == .v2
                ? " \(decoded.histogramCount) histograms, \(decoded.exemplarCount) exemplars," : ""
            return
                "\(head): \(decoded.timeSeries.count) series, \(decoded.sampleCount) samples (\(stale) stale markers),"
                + "\(native) \(decoded.metadata.count) metadata, \(request.bodyBytes) bytes\(written ?? "") [\(agent)]"
        case .failure(let error):
            return
                "\(head): \(TerminalText.escaped(error.description, maxCharacters: 400))"
                + " (\(request.bodyBytes) bytes)\(written ?? "") [\(agent)]"
        }
    }

    static func json(_ request: ReceivedWriteRequest) -> String {
        var object: [String: Any] = [
            "status": request.status, "bytes": request.bodyBytes, "received_at_ms": request.receivedAtMilliseconds,
            "user_agent": request.header("User-Agent") ?? "",
            "protocol": request.protocolVersion?.rawValue ?? NSNull(),
        ]
        if let written = request.written {
            object["written"] = [
                "samples": written.samples, "histograms": written.histograms, "exemplars": written.exemplars,
            ]
        }
        switch request.decoded {
        case .success(let decoded):
            object["decoded_as"] = decoded.protocolVersion.rawValue
            object["histograms"] = decoded.histogramCount
            object["exemplars"] = decoded.exemplarCount
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

    /// "v1", "v2", "v2 decoded as v1" (a 1.0-only receiver), or "unknown protocol".
    private static func protocolName(_ request: ReceivedWriteRequest) -> String {
        guard let announced = request.protocolVersion else { return "unknown protocol" }
        if case .success(let decoded) = request.decoded, decoded.protocolVersion != announced {
            return "\(announced.rawValue) decoded as \(decoded.protocolVersion.rawValue)"
        }
        return announced.rawValue
    }

    /// Values as Prometheus' API writes them: strings, with "stale" for stale markers.
    private static func value(_ sample: RemoteSample) -> String {
        if sample.isStaleMarker { return "stale" }
        var bytes: [UInt8] = []
        FloatFormatting.appendValue(sample.value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
