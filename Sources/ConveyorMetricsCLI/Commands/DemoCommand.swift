import ArgumentParser
import ConveyorMetrics

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

    func validate() throws {
        if let duration, !(duration > 0 && duration < 1e9) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if !(statusInterval > 0 && statusInterval < 1e9) {
            throw ValidationError("--status-interval must be a positive number of seconds")
        }
    }

    func run() async throws {
        var file = ConfigFile()
        if let config {
            do {
                file = try ConfigFile.load(path: config)
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
        let runner = DemoRunner(
            listen: address, metricsPath: file.metricsPath, duration: duration.map { .milliseconds(Int64($0 * 1000)) },
            statusInterval: .milliseconds(Int64(statusInterval * 1000)))
        try await runner.run()
    }
}
