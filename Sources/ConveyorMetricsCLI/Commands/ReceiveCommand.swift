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
