import Logging
import Synchronization

/// Records every log line (message and metadata) for assertions.
package final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    package init() {}

    package var all: [String] { lines.withLock { $0 } }

    package func logger(label: String = "test") -> Logger {
        Logger(label: label) { label in CapturingLogHandler(label: label, capture: self) }
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
}

package struct CapturingLogHandler: LogHandler {
    package let label: String
    package let capture: LogCapture
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append(
            "\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
    }
}
