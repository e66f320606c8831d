import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// A configuration problem, naming the file, the key and the reason.
package struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The file read.
    package let file: String
    /// The dotted key path, e.g. `exporter.listen` or `remote_write[0].url`; empty for the whole file.
    package let key: String
    /// What is wrong.
    package let reason: String

    package init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    package var description: String {
        key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)"
    }
}
