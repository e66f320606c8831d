import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the PEM files of ``MetricsExporter/TLSSettings`` with POSIX calls, so that an error
/// names the file and the system's reason ("No such file or directory", "Permission denied").
/// Blocking: called off the event loops (``MetricsExporter/start()`` runs it on NIO's
/// thread pool). Errors never quote the file's contents.
enum PEMFile {
    /// No certificate chain or key is anywhere near this size.
    static let maxBytes = 1 << 20

    /// The whole file, at most ``maxBytes``.
    static func contents(_ path: String, setting: String) throws(MetricsExporter.ConfigurationError) -> [UInt8] {
        guard !path.isEmpty else {
            throw MetricsExporter.ConfigurationError(setting: setting, reason: "no file given")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MetricsExporter.ConfigurationError(
                setting: setting, path: path, reason: "cannot open: \(Self.systemReason(errno))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw MetricsExporter.ConfigurationError(
                    setting: setting, path: path, reason: "cannot read: \(Self.systemReason(errno))")
            }
            if count == 0 { break }
            guard bytes.count <= maxBytes - count else {
                throw MetricsExporter.ConfigurationError(
                    setting: setting, path: path, reason: "larger than \(maxBytes >> 20) MiB: not a PEM file")
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// The certificates in `path`, in file order; at least one.
    static func certificates(_ path: String, setting: String) throws(MetricsExporter.ConfigurationError)
        -> [NIOSSLCertificate]
    {
        let bytes = try contents(path, setting: setting)
        let certificates = (try? NIOSSLCertificate.fromPEMBytes(bytes)) ?? []
        guard !certificates.isEmpty else {
            throw MetricsExporter.ConfigurationError(
                setting: setting, path: path, reason: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// The private key in `path`; never echoes the file's bytes.
    static func privateKey(_ path: String, setting: String) throws(MetricsExporter.ConfigurationError)
        -> NIOSSLPrivateKey
    {
        let bytes = try contents(path, setting: setting)
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw MetricsExporter.ConfigurationError(
                setting: setting, path: path,
                reason: "not an unencrypted PEM private key (RSA, EC or PKCS#8; encrypted keys are not supported)")
        }
    }

    private static func systemReason(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
