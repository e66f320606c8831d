import Foundation
import Testing

/// `promtool check metrics` on real exposition text.
package enum Promtool {
    /// The one lint finding the spec's names cause on purpose (`_ms` is an abbreviated unit).
    package static let expectedFinding =
        "conveyor_router_routing_latency_ms metric names should not contain abbreviated units"

    /// Checks `text`; returns the findings other than the expected one, or nil when promtool is absent.
    package static func findings(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> [String]?
    {
        guard let promtool = ExternalTool.require("promtool", sourceLocation: sourceLocation) else { return nil }
        let result = try await ExternalTool.run(promtool, ["check", "metrics"], input: Data(text.utf8))
        let findings = result.output.split(separator: "\n").map(String.init)
            .filter { !$0.isEmpty && $0 != expectedFinding }
        if result.status != 0 && result.status != 3 {
            return ["promtool exit \(result.status)"] + findings
        }
        return findings
    }
}
