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

    @Option(name: .long, help: "Connections open at once; more are closed on arrival.")
    var maxConnections: Int = RemoteWriteReceiver.Limits().maxConnections

    @Option(name: .long, help: "One request's compressed body, in bytes (larger: 413).")
    var maxBodyBytes: Int = RemoteWriteReceiver.Limits().maxBodyBytes

    @Option(name: .long, help: "Series in one request (more: 413).")
    var maxSeries: Int = WriteRequestLimits().maxSeries

    @Option(name: .long, help: "Labels in one request, of series and exemplars (more: 413).")
    var maxLabels: Int = WriteRequestLimits().maxLabels

    @Option(name: .long, help: "Samples in one request (more: 413).")
    var maxSamples: Int = WriteRequestLimits().maxSamples

    @Option(name: .long, help: "Bytes one request may decode into (more: 413).")
    var maxDecodedBytes: Int = WriteRequestLimits().maxDecodedBytes

    func validate() throws {
        if let duration, !(duration > 0 && duration < 1e9) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        let limits = [
            ("--max-connections", maxConnections), ("--max-body-bytes", maxBodyBytes), ("--max-series", maxSeries),
            ("--max-labels", maxLabels), ("--max-samples", maxSamples), ("--max-decoded-bytes", maxDecodedBytes),
        ]
        for (option, value) in limits where value < 1 {
            throw ValidationError("\(option) must be at least 1")
        }
    }

    /// The receiver's limits from the options.
    var limits: RemoteWriteReceiver.Limits {
        var limits = RemoteWriteReceiver.Limits()
        limits.maxConnections = maxConnections
        limits.maxBodyBytes = maxBodyBytes
        limits.request.maxSeries = maxSeries
        limits.request.maxLabels = maxLabels
        limits.request.maxSamples = maxSamples
        limits.request.maxDecodedBytes = maxDecodedBytes
        return limits
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
            host: address.host, port: address.port, keepRequests: false, limits: limits,
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
            "received \(totals.acceptedRequests) requests (\(totals.samples) samples), rejected \(totals.rejectedRequests),"
                + " refused \(receiver.refusedConnections) connections over --max-connections"
        )
    }
}
