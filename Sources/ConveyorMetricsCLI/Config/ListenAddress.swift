import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// A `HOST:PORT` listen address (`0.0.0.0:9090`, `[::1]:9090`, `:9090`).
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package let host: String
    package let port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`; the error says what is wrong with it.
    package init(parsing text: String) throws(ListenAddressError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ListenAddressError(text: text, reason: "expected HOST:PORT")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ListenAddressError(text: text, reason: "port must be a number from 0 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        if host.contains(":") && !text.hasPrefix("[") {
            throw ListenAddressError(text: text, reason: "write IPv6 hosts in brackets, e.g. [::1]:9090")
        }
        self.host = host
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a listen address was refused.
package struct ListenAddressError: Error, CustomStringConvertible {
    let text: String
    let reason: String
    package var description: String { "invalid listen address '\(text)': \(reason)" }
}
