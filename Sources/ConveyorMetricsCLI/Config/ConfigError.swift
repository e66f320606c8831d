import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// A configuration problem, naming the file, the line and column, the key and the reason,
/// never the text of the line (it may hold a password).
package struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The file read.
    package let file: String
    /// The dotted key path, e.g. `exporter.listen` or `remote_write[0].url`; empty for the whole file.
    package let key: String
    /// What is wrong.
    package let reason: String
    /// Where in the file (1-based), when known.
    package var line: Int?
    package var column: Int?

    package init(file: String, key: String, reason: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.key = key
        self.reason = reason
        self.line = line
        self.column = column
    }

    package var description: String {
        let place = line.map { line in "\(file):\(line):\(column ?? 1)" } ?? file
        return key.isEmpty ? "\(place): \(reason)" : "\(place): \(key): \(reason)"
    }

    /// This error with the position of `key` (or of the nearest enclosing key) when it has none.
    func located(in marks: YAMLReader.Marks) -> ConfigError {
        guard line == nil, let mark = marks.position(of: key) else { return self }
        var located = self
        located.line = mark.line
        located.column = mark.column
        return located
    }
}
