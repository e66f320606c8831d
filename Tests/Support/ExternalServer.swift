import Foundation
import Testing

/// A real server binary (prometheus, victoria-metrics) on a free loopback port with its
/// data in a temp directory; always stopped and cleaned up by `stop()`.
package final class ExternalServer: @unchecked Sendable {
    package let port: Int
    package let directory: URL
    private let process: Process
    private let log: URL

    /// Starts `binary` with `arguments(port, directory)`; waits until `readyPath` answers 200.
    /// A free port can be taken by another test's outgoing connection before the server binds
    /// it, so a server that exits during start-up is tried again on a new port (3 attempts).
    package init(
        binary: String, readyPath: String, arguments: (Int, URL) -> [String], timeout: Duration = .seconds(60)
    ) async throws {
        var lastOutput = ""
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "conveyor-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let port = try Self.freePort()
            let log = directory.appendingPathComponent("server.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments(port, directory)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline && process.isRunning {
                if (try? await RawHTTPClient(port: port).get(readyPath).status) == 200 {
                    self.port = port
                    self.directory = directory
                    self.process = process
                    self.log = log
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            lastOutput = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: directory)
        }
        throw TestFailure("\(binary) did not become ready in 3 attempts:\n\(lastOutput.suffix(2000))")
    }

    /// Prometheus scraping `127.0.0.1:targetPort` every second (job `job`), with `features`.
    package static func prometheusScraping(
        binary: String, targetPort: Int, job: String, features: [String]
    ) async throws -> ExternalServer {
        try await ExternalServer(binary: binary, readyPath: "/-/ready") { port, directory in
            let config = directory.appendingPathComponent("prometheus.yml")
            try? """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: \(job)
                static_configs:
                  - targets: ['127.0.0.1:\(targetPort)']

            """.write(to: config, atomically: true, encoding: .utf8)
            return [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
            ] + features.map { "--enable-feature=\($0)" }
        }
    }

    /// Prometheus as a remote-write receiver (no scraping) in a temp directory.
    package static func prometheusReceiver(binary: String, features: [String] = []) async throws -> ExternalServer {
        try await ExternalServer(binary: binary, readyPath: "/-/ready") { port, directory in
            let config = directory.appendingPathComponent("prometheus.yml")
            try? "global:\n  scrape_interval: 1h\n".write(to: config, atomically: true, encoding: .utf8)
            return [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)", "--web.enable-remote-write-receiver",
            ] + features.map { "--enable-feature=\($0)" }
        }
    }

    package func get(_ pathAndQuery: String) async throws -> RawHTTPClient.Response {
        try await RawHTTPClient(port: port).get(pathAndQuery)
    }

    /// Ends the process with `signal` (SIGKILL: no shutdown code runs) and waits for it.
    package func kill(_ signal: Int32) {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    /// Ends the server. The wait for its exit (Prometheus flushes its TSDB first: up to a few
    /// seconds) and the clean-up happen on a thread of their own: called from an async test,
    /// a blocking wait would hold one of the two threads of the Swift concurrency pool and
    /// starve every test that awaits meanwhile.
    package func stop() {
        let (process, directory) = (process, directory)
        if process.isRunning { process.terminate() }
        Thread {
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }.start()
    }

    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension String {
    /// Percent-encodes a query parameter value.
    package var queryEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}
