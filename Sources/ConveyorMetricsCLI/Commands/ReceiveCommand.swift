import ArgumentParser
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Foundation
import Logging
import ServiceLifecycle

/// `conveyor-metrics receive`: a remote-write receiver that shows what arrives.
struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Accept remote-write POSTs on /api/v1/write, check them against the spec and print what arrives.")

    @Option(name: .long, help: "Address to listen on, HOST:PORT.")
    var listen: String = "127.0.0.1:9201"

    @Flag(name: .long, help: "Print one JSON object per request (with every series and sample).")
    var json = false

    @Option(name: .long, help: "Stop after this many seconds (default: until SIGINT/SIGTERM).")
    var duration: Double?

    func validate() throws {
        if let duration, !(duration > 0 && duration < 1e9) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
    }

    func run() async throws {
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: listen)
        } catch {
            throw ValidationError("--listen: \(error.description)")
        }
        let json = json
        let receiver = RemoteWriteReceiver(
            host: address.host, port: address.port, keepRequests: false,
            onRequest: { request in
                writeLine(json ? ReceivedRequestFormatter.json(request) : ReceivedRequestFormatter.summary(request))
            })
        try await receiver.start()
        writeLine(
            "receiving remote write on http://\(ListenAddress(host: address.host, port: receiver.boundPort ?? address.port))/api/v1/write"
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ReceiverService(receiver: receiver))
        ]
        if let duration {
            services.append(
                .init(
                    service: Deadline(after: .milliseconds(Int64(duration * 1000))),
                    successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "conveyor-metrics.receive")))
        try await group.run()
        await receiver.shutdown()
        let totals = receiver.checker.totals
        writeLine(
            "received \(totals.acceptedRequests) requests (\(totals.samples) samples), rejected \(totals.rejectedRequests)"
        )
    }
}

/// Keeps the receiver open until graceful shutdown.
struct ReceiverService: Service {
    let receiver: RemoteWriteReceiver

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(100_000_000)) }
    }
}

/// How `receive` prints a request.
enum ReceivedRequestFormatter {
    static func summary(_ request: ReceivedWriteRequest) -> String {
        let agent = request.header("User-Agent") ?? "no User-Agent"
        switch request.decoded {
        case .success(let decoded):
            let stale = decoded.timeSeries.flatMap(\.samples).filter(\.isStaleMarker).count
            return
                "POST /api/v1/write → \(request.status): \(decoded.timeSeries.count) series, \(decoded.sampleCount) samples"
                + " (\(stale) stale markers), \(decoded.metadata.count) metadata, \(request.bodyBytes) bytes [\(agent)]"
        case .failure(let error):
            return
                "POST /api/v1/write → \(request.status): \(error.description) (\(request.bodyBytes) bytes) [\(agent)]"
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
