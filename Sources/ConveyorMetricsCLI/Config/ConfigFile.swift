import Foundation
import Yams

/// The `--config` file of the `conveyor-metrics` command.
///
/// ```yaml
/// exporter:
///   listen: 0.0.0.0:9090
///   path: /metrics
/// ```
package struct ConfigFile: Sendable, Equatable {
    /// Where `/metrics` is served.
    package var listen = ListenAddress(host: "0.0.0.0", port: 9090)
    /// The metrics path; must start with `/`.
    package var metricsPath = "/metrics"

    package init() {}

    /// Reads and validates `path`.
    package static func load(path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Parses YAML text; `file` names it in errors.
    package static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigFile {
        let reader = YAMLReader(file: file)
        var config = ConfigFile()
        guard let root = try reader.parse(text) else { return config }
        let top = try reader.mapping(root, at: "", allowed: ["exporter"])
        if let exporter = top["exporter"] {
            let fields = try reader.mapping(exporter, at: "exporter", allowed: ["listen", "path"])
            if let listen = fields["listen"] {
                let text = try reader.string(listen, at: "exporter.listen")
                do {
                    config.listen = try ListenAddress(parsing: text)
                } catch {
                    throw ConfigError(file: file, key: "exporter.listen", reason: error.description)
                }
            }
            if let path = fields["path"] {
                let text = try reader.string(path, at: "exporter.path")
                guard text.hasPrefix("/"), !text.contains(" ") else {
                    throw ConfigError(
                        file: file, key: "exporter.path", reason: "must start with / and contain no spaces")
                }
                config.metricsPath = text
            }
        }
        return config
    }
}
