import ArgumentParser
import ConveyorMetricsCLI

@main
struct ConveyorMetricsMain: AsyncParsableCommand {
    static let configuration = ConveyorMetricsCommand.configuration
}
