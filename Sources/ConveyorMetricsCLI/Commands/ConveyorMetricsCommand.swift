import ArgumentParser

/// The root of `conveyor-metrics`: its name, version and subcommands. The executable's
/// `@main` type adopts this configuration.
package enum ConveyorMetricsCommand {
    package static let configuration = CommandConfiguration(
        commandName: "conveyor-metrics",
        abstract: "Metrics for the Conveyor router: a demo router, a config checker.",
        version: ConveyorMetricsVersion.current,
        subcommands: [DemoCommand.self, CheckConfigCommand.self])
}

/// The version reported by `--version` and in the remote-write User-Agent.
package enum ConveyorMetricsVersion {
    package static let current = "0.1.0"
}
