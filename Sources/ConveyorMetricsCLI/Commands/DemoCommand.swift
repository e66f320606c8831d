import ArgumentParser
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// `conveyor-metrics demo`: a simulated router that serves its metrics.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a simulated Conveyor router that records every metric and serves /metrics.")

    @Option(name: .long, help: "Address to serve metrics on, HOST:PORT (default 0.0.0.0:9090, or the config's).")
    var listen: String?

    @Option(name: .long, help: "YAML configuration file (see config/conveyor-metrics.yml).")
    var config: String?

    @Option(name: .long, help: "Stop gracefully after this many seconds (default: run until SIGINT/SIGTERM).")
    var duration: Double?

    @Option(name: .long, help: "Seconds between status lines.")
    var statusInterval: Double = 5

    @Option(
        name: .long,
        help:
            "Push to this remote-write URL (replaces the config's targets). Default: an embedded receiver on loopback.")
    var remoteWriteURL: String?

    @Option(name: .long, help: "Seconds between pushes (default 15 with a URL, 5 to the embedded receiver).")
    var pushInterval: Double?

    func validate() throws {
        if let duration, !(duration > 0 && duration < 1e9) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if !(statusInterval > 0 && statusInterval < 1e9) {
            throw ValidationError("--status-interval must be a positive number of seconds")
        }
        if let pushInterval, !(pushInterval > 0 && pushInterval < 1e9) {
            throw ValidationError("--push-interval must be a positive number of seconds")
        }
    }

    func run() async throws {
        var file = ConfigFile()
        if let config {
            do {
                file = try await BlockingWork.run { () throws(ConfigError) in try ConfigFile.load(path: config) }
            } catch {
                throw ValidationError(error.description)
            }
        }
        var address = file.listen
        if let listen {
            do {
                address = try ListenAddress(parsing: listen)
            } catch {
                throw ValidationError("--listen: \(error.description)")
            }
        }
        var runner = DemoRunner(
            listen: address, metricsPath: file.metricsPath, duration: duration.map(Self.duration),
            statusInterval: Self.duration(statusInterval))
        runner.web = file.web
        if let options = file.nativeHistograms[ConveyorMetric.routingLatency.name] {
            runner.routingLatencyNative = options
        }
        var push = file.remoteWriteConfiguration
        if let remoteWriteURL {
            // One target only, so a receiver never gets the same snapshot from two queues.
            var target = RemoteWriteTargetConfiguration(url: remoteWriteURL)
            if let pushInterval { target.pushInterval = Self.duration(pushInterval) }
            push.targets = [target]
        } else if let pushInterval {
            for index in push.targets.indices { push.targets[index].pushInterval = Self.duration(pushInterval) }
            runner.embeddedPushInterval = Self.duration(pushInterval)
        }
        do {
            try push.validate()
        } catch {
            throw ValidationError(remoteWriteURL != nil ? "--remote-write-url: \(error.reason)" : error.description)
        }
        runner.push = push
        try await runner.run()
    }

    private static func duration(_ seconds: Double) -> Duration {
        .milliseconds(Int64(seconds * 1000))
    }
}
