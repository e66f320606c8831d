import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Foundation
import Yams

/// The `--config` file of the `conveyor-metrics` command.
///
/// ```yaml
/// exporter: { listen: 0.0.0.0:9090, path: /metrics }
/// external_labels: { cluster: edge-eu-1, instance: router-7 }
/// remote_write:
///   - url: https://metrics.example/api/v1/write
///     push_interval: 15s
/// ```
package struct ConfigFile: Sendable {
    /// Where `/metrics` is served.
    package var listen = ListenAddress(host: "0.0.0.0", port: 9090)
    /// The metrics path; must start with `/`.
    package var metricsPath = "/metrics"
    /// Labels added to every pushed series.
    package var externalLabels: [String: String] = [:]
    /// Where to push (empty: nowhere).
    package var remoteWrite: [RemoteWriteTargetConfiguration] = []
    /// `exporter.web_config_file`, resolved against the config file's directory.
    package var webConfigFile: String?
    /// The web configuration file's settings (TLS, basic auth, headers); read by ``load(path:)``.
    package var web = WebConfig()
    /// `native_histograms`: the histogram families named, each with its native options (nil:
    /// classic buckets only); families not named keep the command's default.
    package var nativeHistograms: [String: NativeHistogramOptions?] = [:]

    /// The exporter's configuration this file describes.
    package var exporterConfiguration: MetricsExporter.Configuration {
        var configuration = MetricsExporter.Configuration(host: listen.host, port: listen.port, path: metricsPath)
        web.apply(to: &configuration)
        return configuration
    }

    /// The push configuration this file describes.
    package var remoteWriteConfiguration: RemoteWriteConfiguration {
        RemoteWriteConfiguration(targets: remoteWrite, externalLabels: externalLabels)
    }

    package init() {}

    /// Reads and validates `path`, and the web configuration file it names (with the
    /// certificate, key and CA files that one names).
    package static func load(path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path, readWebConfig: true)
    }

    /// Parses YAML text; `file` names it in errors and is the base of relative file names.
    /// The web configuration file is read only with `readWebConfig` (``load(path:)``).
    package static func parse(_ text: String, file: String, readWebConfig: Bool = false) throws(ConfigError)
        -> ConfigFile
    {
        let reader = YAMLReader(file: file)
        do {
            return try parse(text, reader: reader, readWebConfig: readWebConfig)
        } catch {
            throw error.located(in: reader.marks)
        }
    }

    private static func parse(_ text: String, reader: YAMLReader, readWebConfig: Bool) throws(ConfigError)
        -> ConfigFile
    {
        let file = reader.file
        var config = ConfigFile()
        guard let root = try reader.parse(text) else { return config }
        let top = try reader.mapping(
            root, at: "", allowed: ["exporter", "external_labels", "remote_write", "native_histograms"])
        if let exporter = top["exporter"] {
            let fields = try reader.mapping(exporter, at: "exporter", allowed: ["listen", "path", "web_config_file"])
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
            if let node = fields["web_config_file"] {
                let name = try reader.string(node, at: "exporter.web_config_file")
                guard !name.isEmpty else {
                    throw ConfigError(file: file, key: "exporter.web_config_file", reason: "empty")
                }
                let path = resolvePath(name, relativeTo: file)
                config.webConfigFile = path
                if readWebConfig { config.web = try Self.readWebConfig(path, from: file) }
            }
        }
        let remote = RemoteWriteConfigReader(reader: reader)
        if let labels = top["external_labels"] { config.externalLabels = try remote.externalLabels(labels) }
        if let targets = top["remote_write"] { config.remoteWrite = try remote.targets(targets) }
        if let native = top["native_histograms"] {
            config.nativeHistograms = try NativeHistogramConfigReader(reader: reader).read(native)
        }
        do {
            try config.remoteWriteConfiguration.validate()
        } catch {
            throw ConfigError(file: file, key: error.key, reason: error.reason)
        }
        return config
    }

    /// The web configuration at `path`; a file that cannot be read is an error on the key
    /// that names it, anything wrong inside is an error in that file.
    private static func readWebConfig(_ path: String, from file: String) throws(ConfigError) -> WebConfig {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigError(file: file, key: "exporter.web_config_file", reason: "\(path) \(reason)")
        }
        return try WebConfig.load(path: path)
    }
}
