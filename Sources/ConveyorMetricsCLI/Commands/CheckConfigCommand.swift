import ArgumentParser
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Foundation

/// `conveyor-metrics check-config FILE`: validates a configuration file.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a conveyor-metrics YAML configuration file; exits non-zero naming the file, key and reason."
    )

    @Argument(help: "The YAML file to check.")
    var file: String

    func run() throws {
        do {
            let config = try ConfigFile.load(path: file)
            let targets = config.remoteWrite.map { $0.resolvedName }
            print(
                "\(file): OK (metrics on \(config.listen)\(config.metricsPath)\(Self.security(config)); remote_write: "
                    + (targets.isEmpty ? "none" : targets.joined(separator: ", ")) + ")")
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

extension CheckConfigCommand {
    /// `, TLS (client auth …), basic auth (N users)` when a web configuration file is set.
    static func security(_ config: ConfigFile) -> String {
        guard config.webConfigFile != nil else { return "" }
        var parts: [String] = []
        if let tls = config.web.tls { parts.append("TLS (client auth \(tls.clientAuth.rawValue))") }
        let users = config.web.basicAuthUsers.count
        if users > 0 { parts.append("basic auth (\(users) user\(users == 1 ? "" : "s"))") }
        return parts.isEmpty ? ", web config without TLS or basic auth" : ", " + parts.joined(separator: ", ")
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}
