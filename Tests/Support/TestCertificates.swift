import Foundation

/// A throwaway PKI made by the real `openssl` in a temp directory (P-256 keys, valid two
/// days): a CA, a server certificate for 127.0.0.1 and localhost, a client certificate from
/// the same CA, and a client certificate from another CA that the server does not trust.
/// `remove()` deletes the directory.
package struct TestCertificates: Sendable {
    package let directory: URL

    package var caFile: String { path("ca.pem") }
    package var serverCertificateFile: String { path("server.pem") }
    package var serverKeyFile: String { path("server-key.pem") }
    package var clientCertificateFile: String { path("client.pem") }
    package var clientKeyFile: String { path("client-key.pem") }
    package var strangerCertificateFile: String { path("stranger.pem") }
    package var strangerKeyFile: String { path("stranger-key.pem") }

    package func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Makes the files with `openssl` at `binary`. Blocking (runs processes): call it off the
    /// Swift concurrency pool (``make(openssl:)``).
    package init(openssl binary: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            try makeCA(binary, name: "ca", subject: "/CN=conveyor-test-ca")
            try makeCA(binary, name: "stranger-ca", subject: "/CN=conveyor-stranger-ca")
            try makeLeaf(
                binary, name: "server", ca: "ca", subject: "/CN=localhost",
                extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
            try makeLeaf(
                binary, name: "client", ca: "ca", subject: "/CN=prometheus",
                extensions: "extendedKeyUsage=clientAuth\n")
            try makeLeaf(
                binary, name: "stranger", ca: "stranger-ca", subject: "/CN=stranger",
                extensions: "extendedKeyUsage=clientAuth\n")
        } catch {
            remove()
            throw error
        }
    }

    /// ``init(openssl:)`` on a thread of its own.
    package static func make(openssl: String) async throws -> TestCertificates {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try TestCertificates(openssl: openssl) })
            }.start()
        }
    }

    package func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func makeCA(_ binary: String, name: String, subject: String) throws {
        try run(
            binary,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", path("\(name)-key.pem"), "-out", path("\(name).pem"), "-days", "2", "-subj", subject,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
    }

    private func makeLeaf(_ binary: String, name: String, ca: String, subject: String, extensions: String) throws {
        let extensionsFile = path("\(name).ext")
        try (extensions + "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n").write(
            toFile: extensionsFile, atomically: true, encoding: .utf8)
        try run(
            binary,
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", path("\(name)-key.pem"), "-out", path("\(name).csr"), "-subj", subject,
            ])
        try run(
            binary,
            [
                "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca)-key.pem"),
                "-CAcreateserial", "-out", path("\(name).pem"), "-days", "2", "-extfile", extensionsFile,
            ])
    }

    private func run(_ binary: String, _ arguments: [String]) throws {
        let result = try ExternalTool.runBlocking(binary, arguments)
        guard result.status == 0 else {
            throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.output)")
        }
    }
}
