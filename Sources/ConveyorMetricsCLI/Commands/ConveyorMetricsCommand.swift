import ArgumentParser
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// The root of `conveyor-metrics`: its name, version and subcommands. The executable's
/// `@main` type adopts this configuration.
package enum ConveyorMetricsCommand {
    package static let configuration = CommandConfiguration(
        commandName: "conveyor-metrics",
        abstract: "Metrics for the Conveyor router: a demo router, a remote-write receiver, a config checker.",
        version: ConveyorMetricsVersion.current,
        subcommands: [DemoCommand.self, ReceiveCommand.self, CheckConfigCommand.self])
}
