import ConveyorMetrics
import ConveyorMetricsExporter
import Foundation
import Yams

/// Prometheus' web configuration file (exporter-toolkit's `--web.config.file`), named by
/// `exporter.web_config_file`: TLS (`tls_server_config`), basic auth (`basic_auth_users`,
/// bcrypt hashes) and response headers (`http_server_config.headers`) for the exporter.
///
/// Keys of that format that conveyor-metrics does not implement are errors that say so,
/// never silently ignored. Relative file names are resolved against the web configuration
/// file's directory, as exporter-toolkit does. Errors name file, line, column and key,
/// never a password hash.
package struct WebConfig: Sendable, Equatable {
    package var tls: MetricsExporter.TLSSettings?
    package var basicAuthUsers: [String: String] = [:]
    package var responseHeaders: [String: String] = [:]

    package init() {}

    /// The exporter's configuration with these settings applied.
    package func apply(to configuration: inout MetricsExporter.Configuration) {
        configuration.tls = tls
        configuration.basicAuthUsers = basicAuthUsers
        configuration.responseHeaders = responseHeaders
    }

    /// Reads `path`, parses it and checks that the files it names can be used.
    package static func load(path: String) throws(ConfigError) -> WebConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path, checkFiles: true)
    }

    /// Parses YAML text; `file` names it in errors and is the base of relative file names.
    /// With `checkFiles`, the certificate, key and CA files are read and checked too.
    package static func parse(_ text: String, file: String, checkFiles: Bool = false) throws(ConfigError) -> WebConfig {
        let reader = YAMLReader(file: file)
        do {
            let config = try WebConfigReader(reader: reader).read(text)
            if checkFiles { try config.checkFiles(file: file) }
            return config
        } catch {
            throw error.located(in: reader.marks)
        }
    }

    /// What the exporter's `start()` would refuse, as a ``ConfigError`` on the key that set it.
    private func checkFiles(file: String) throws(ConfigError) {
        var configuration = MetricsExporter.Configuration()
        apply(to: &configuration)
        do {
            _ = try MetricsExporter.validate(configuration)
        } catch {
            let reason = error.path.map { "\($0): \(error.reason)" } ?? error.reason
            throw ConfigError(file: file, key: Self.key(forSetting: error.setting), reason: reason)
        }
    }

    /// The web configuration key of an exporter setting named in a `ConfigurationError`.
    static func key(forSetting setting: String) -> String {
        let keys = [
            "tls.certificateFile": "tls_server_config.cert_file", "tls.privateKeyFile": "tls_server_config.key_file",
            "tls.clientCAFile": "tls_server_config.client_ca_file",
            "tls.clientAuth": "tls_server_config.client_auth_type",
            "tls.minimumVersion": "tls_server_config.min_version",
        ]
        if let key = keys[setting] { return key }
        for (prefix, section) in [
            ("basicAuthUsers[\"", "basic_auth_users"), ("responseHeaders[\"", "http_server_config.headers"),
        ]
        where setting.hasPrefix(prefix) && setting.hasSuffix("\"]") {
            return "\(section).\(setting.dropFirst(prefix.count).dropLast(2))"
        }
        return ""
    }
}

/// `dir/name` for a relative `name`, where `dir` is the directory of `file` (as Prometheus
/// resolves file names in a configuration file); absolute names are kept.
func resolvePath(_ name: String, relativeTo file: String) -> String {
    guard !name.hasPrefix("/"), !name.isEmpty else { return name }
    guard let slash = file.lastIndex(of: "/") else { return name }
    return String(file[...slash]) + name
}
