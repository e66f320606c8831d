import Foundation
import Testing

/// Real peers the suite runs (promtool, prometheus, victoria-metrics). Locally a missing
/// binary skips its test loudly; with `CI=true` a missing binary fails the test.
package enum ExternalTool {
    package static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The absolute path of `name` on PATH (or /usr/bin), or nil.
    package static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The tool's path; records an issue (CI) or prints a skip notice (locally) when absent.
    package static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if let path = find(name) { return path }
        if isCI {
            Issue.record("\(name) is not installed; `make test` installs it (CI=true)", sourceLocation: sourceLocation)
        } else {
            print("⚠️  SKIPPED: \(name) is not installed; run `make test` to install it")
        }
        return nil
    }

    package struct Result: Sendable {
        package let status: Int32
        package let output: String
    }

    /// Runs `executable` with `arguments` on a thread of its own (a process and its pipes block;
    /// the Swift pool has two threads here), feeding `input` on stdin; returns status and
    /// stdout+stderr.
    package static func run(_ executable: String, _ arguments: [String], input: Data? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Swift.Result { try runBlocking(executable, arguments, input: input) })
            }.start()
        }
    }

    /// ``run(_:_:input:)`` on the calling thread: only for threads of the test's own, never
    /// the Swift pool.
    package static func runBlocking(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { try stdin.fileHandleForWriting.write(contentsOf: input) }
        try stdin.fileHandleForWriting.close()
        let data = PipeReading.readToEnd(output.fileHandleForReading)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

/// Paths inside the package checkout.
package enum PackagePaths {
    /// The package root, found from this source file's location.
    package static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    package static func file(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// The built `conveyor-metrics` executable next to the test bundle.
    package static var executable: URL {
        if let override = ProcessInfo.processInfo.environment["CONVEYOR_METRICS_BIN"] {
            return URL(fileURLWithPath: override)
        }
        let bundleDirectory = Bundle.main.bundleURL
        let sibling = bundleDirectory.appendingPathComponent("conveyor-metrics")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return root.appendingPathComponent(".build/debug/conveyor-metrics")
    }
}
