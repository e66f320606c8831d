import ConveyorMetrics
import Foundation

/// The metric set as the original spec's tables define it (a copy of the spec lives in
/// Tests/ConveyorMetricsTests/Fixtures), read apart from the library so a metric renamed in
/// code but not in the spec fails the tests.
package enum MetricSetSpec {
    /// One row of the spec's tables.
    package struct Row: Hashable, Sendable {
        package let name: String
        package let type: MetricType
        package let labelNames: [String]
        package let help: String

        /// The row a `ConveyorMetric` of the library should match.
        package init(_ metric: ConveyorMetric) {
            self.init(name: metric.name, type: metric.type, labelNames: metric.labelNames, help: metric.help)
        }

        init(name: String, type: MetricType, labelNames: [String], help: String) {
            self.name = name
            self.type = type
            self.labelNames = labelNames
            self.help = help
        }
    }

    /// Every row of the spec's metric tables: name, type, labels, HELP.
    package static func metrics() throws -> [Row] {
        let text = try String(
            contentsOf: PackagePaths.file("Tests/ConveyorMetricsTests/Fixtures/conveyor-metrics-spec.md"),
            encoding: .utf8)
        var rows: [Row] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `conveyor_router_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            let labels =
                cells[2] == "-"
                ? []
                : cells[2].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            rows.append(
                Row(
                    name: cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")),
                    type: MetricType(rawValue: cells[1].lowercased()) ?? .gauge, labelNames: labels, help: cells[3]))
        }
        return rows
    }

    /// The spec's metric names (empty only when the fixture is unreadable, which fails the
    /// tests that use it: they expect twelve).
    package static var names: [String] { ((try? metrics()) ?? []).map(\.name) }
}
