import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI

@Suite("Demo")
struct DemoTests {
    @Test func demoServesEveryMetricAndStopsAfterItsDuration() async throws {
        let port = Atomic<Int>(0)
        let registry = MetricsRegistry()
        let runner = DemoRunner(
            listen: ListenAddress(host: "127.0.0.1", port: 0), duration: .seconds(3), statusInterval: .seconds(1),
            handleSignals: false)
        async let run: Void = runner.run(registry: registry, onListening: { port.store($0, ordering: .relaxed) })
        while port.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let response = try await RawHTTPClient(port: port.load(ordering: .relaxed)).get("/metrics")
        #expect(response.status == 200)
        #expect(MetricSetSpec.names.count == 12, "the spec fixture lists twelve metrics")
        for name in MetricSetSpec.names {
            #expect(response.text.contains("# TYPE \(name) "), "\(name) served")
        }
        #expect(response.text.contains("# TYPE process_cpu_seconds_total counter\n"), "process metrics on by default")
        if let findings = try await Promtool.findings(response.text) { #expect(findings == []) }
        try await run
        await #expect(throws: (any Error).self) {
            try await RawHTTPClient(port: port.load(ordering: .relaxed)).get("/metrics")
        }
    }
}

extension DemoTests {
    /// `demo --config` with `exporter.web_config_file`: the config file's web settings reach
    /// the demo's exporter (basic auth here; TLS is the same path, tested with Prometheus).
    @Test func demoUsesTheWebConfigOfItsConfigFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("demo-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "basic_auth_users:\n  prometheus: $2y$04$8ajJ3lvlcgFioFu0feEY4epWBZDypnzXt1WO3IlwkOo5TcAYR9EGK\n".write(
            to: directory.appendingPathComponent("web.yml"), atomically: true, encoding: .utf8)
        let main = directory.appendingPathComponent("conveyor.yml").path
        try "exporter:\n  listen: 127.0.0.1:0\n  web_config_file: web.yml\n".write(
            toFile: main, atomically: true, encoding: .utf8)
        let file = try ConfigFile.load(path: main)
        var runner = DemoRunner(
            listen: file.listen, duration: .seconds(2), statusInterval: .seconds(1), handleSignals: false)
        runner.web = file.web
        runner.processMetrics = false
        let port = Atomic<Int>(0)
        async let run: Void = runner.run(
            registry: MetricsRegistry(), onListening: { port.store($0, ordering: .relaxed) })
        while port.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let client = RawHTTPClient(port: port.load(ordering: .relaxed))
        let refused = try await client.get("/metrics")
        // base64("prometheus:correct horse")
        let allowed = try await client.get(
            "/metrics", headers: [("Authorization", "Basic cHJvbWV0aGV1czpjb3JyZWN0IGhvcnNl")])
        try await run
        #expect(refused.status == 401)
        #expect(allowed.status == 200)
        #expect(allowed.text.contains("# TYPE conveyor_router_records_received_total counter"))
    }
}

/// The real executable: flags, exit codes, signals.
@Suite("Executable", .serialized)
struct ExecutableTests {
    private var executable: String { PackagePaths.executable.path }

    @Test func checkConfigAcceptsTheExampleAndRejectsABadFile() async throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("conveyor-metrics not built at \(executable)")
            return
        }
        let good = try await ExternalTool.run(
            executable, ["check-config", PackagePaths.file("config/conveyor-metrics.yml").path])
        #expect(good.status == 0, "\(good.output)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yml")
        try "exporter:\n  listen: nowhere\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let bad = try await ExternalTool.run(executable, ["check-config", file.path])
        #expect(bad.status != 0)
        #expect(
            bad.output.contains("\(file.path):2:3: exporter.listen: invalid listen address 'nowhere'"), "\(bad.output)")
    }

    @Test func demoExitsZeroOnSIGTERMAndAfterDuration() async throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("conveyor-metrics not built at \(executable)")
            return
        }
        // A freed port can be taken by another test's connection before the demo binds it: retry.
        var process = Process()
        var port = 0
        var output = Pipe()
        var standardOutput = Pipe()
        var served = false
        for _ in 0..<3 where !served {
            port = try ExternalServer.freePort()
            process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["demo", "--listen", "127.0.0.1:\(port)", "--status-interval", "1"]
            output = Pipe()
            standardOutput = Pipe()
            process.standardOutput = standardOutput
            process.standardError = output
            try process.run()
            for _ in 0..<100 where !served && process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
                served = (try? await RawHTTPClient(port: port).get("/-/healthy").status) == 200
            }
            if !served && process.isRunning { process.terminate() }
        }
        defer { if process.isRunning { process.terminate() } }
        #expect(served)
        // The status line reaches a pipe while the demo runs (stdout is not a terminal here).
        // Read with blocking reads on a thread of its own until the demo closes its stdout: no
        // readabilityHandler (its dispatch source crashed libdispatch once at the child's exit)
        // and no waitUntilExit (a run loop on the Swift pool).
        let printed = Mutex("")
        let readerDone = Mutex(false)
        let stdoutHandle = standardOutput.fileHandleForReading
        Thread {
            while let chunk = PipeReading.readSome(stdoutHandle), !chunk.isEmpty {
                printed.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
            }
            readerDone.withLock { $0 = true }
        }.start()
        for _ in 0..<100 where !printed.withLock({ $0.contains(" families, ") }) && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(process.isRunning && printed.withLock { $0.contains(" families, ") }, "a status line before exit")
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<300 where process.isRunning || !readerDone.withLock({ $0 }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning && readerDone.withLock { $0 }, "the demo exited and closed its stdout")
        #expect(process.terminationStatus == 0)
        let text =
            printed.withLock { $0 }
            + String(decoding: PipeReading.readToEnd(output.fileHandleForReading), as: UTF8.self)
        #expect(text.contains(" families, ") && text.contains("| push embedded: ok "), "status line printed: \(text)")
        #expect(text.contains("| receiver: "), "the embedded receiver is shown")

        var timed = try await ExternalTool.run(
            executable, ["demo", "--listen", "127.0.0.1:\(try ExternalServer.freePort())", "--duration", "1"])
        if timed.status != 0 && timed.output.contains("in use") {  // the freed port was taken meanwhile
            timed = try await ExternalTool.run(
                executable, ["demo", "--listen", "127.0.0.1:\(try ExternalServer.freePort())", "--duration", "1"])
        }
        #expect(timed.status == 0, "\(timed.output)")
        let invalid = try await ExternalTool.run(executable, ["demo", "--listen", "nowhere"])
        #expect(invalid.status != 0)
        #expect(invalid.output.contains("invalid listen address"))
    }
}
