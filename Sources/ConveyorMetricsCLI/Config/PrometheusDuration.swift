import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Yams

/// Prometheus' duration syntax: one or more `<number><unit>` from the largest unit to the
/// smallest, each unit at most once (`1h30m`, `500ms`); units y, w, d, h, m, s, ms.
package enum PrometheusDuration {
    private static let units: [(name: String, milliseconds: Int64)] = [
        ("y", 31_536_000_000), ("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("ms", 1),
        ("m", 60_000), ("s", 1000),
    ]
    /// Largest first; "ms" is listed before "m" above only so that it matches first.
    private static let order = ["y", "w", "d", "h", "m", "s", "ms"]

    package static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        var totalMs: Int64 = 0
        var previousRank = -1
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0 >= "0" && $0 <= "9" }
            guard !digits.isEmpty, digits.count <= 12, let number = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.name) }),
                let rank = order.firstIndex(of: unit.name), rank > previousRank
            else { return nil }
            previousRank = rank
            rest = rest.dropFirst(unit.name.count)
            let (product, overflow) = number.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow, totalMs <= Int64.max - product else { return nil }
            totalMs += product
        }
        return .milliseconds(totalMs)
    }
}
