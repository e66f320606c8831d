import NIOCore
import NIOSSL

/// The exporter's TLS, built once by ``MetricsExporter/start()`` from
/// ``MetricsExporter/TLSSettings``: the files are read and checked, and every accepted
/// connection gets a `NIOSSLServerHandler` on the shared context.
package struct ServerTLS: Sendable {
    let context: NIOSSLContext
    /// RequestClientCert and RequireAnyClientCert ask for a certificate but do not verify it.
    let acceptsUnverifiedClientCertificates: Bool

    /// Reads the certificate chain, key and client CAs and builds the context. Blocking
    /// (file reads): call it off the event loops. Every error names the setting and the file.
    package static func load(_ settings: MetricsExporter.TLSSettings) throws(MetricsExporter.ConfigurationError)
        -> ServerTLS
    {
        try checkConsistency(settings)
        let chain = try PEMFile.certificates(settings.certificateFile, setting: "tls.certificateFile")
        let key = try PEMFile.privateKey(settings.privateKeyFile, setting: "tls.privateKeyFile")
        var clientCAs: [NIOSSLCertificate]?
        if let file = settings.clientCAFile {
            clientCAs = try PEMFile.certificates(file, setting: "tls.clientCAFile")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = settings.minimumVersion.nio
        configuration.maximumTLSVersion = settings.maximumVersion.nio
        switch settings.clientAuth {
        case .noClientCert:
            configuration.certificateVerification = .none
        case .requestClientCert, .verifyClientCertIfGiven:
            configuration.certificateVerification = .optionalVerification
        case .requireAnyClientCert, .requireAndVerifyClientCert:
            configuration.certificateVerification = .noHostnameVerification
        }
        if let clientCAs {
            configuration.trustRoots = .certificates(clientCAs)
            configuration.sendCANameList = true
        } else if settings.clientAuth != .noClientCert {
            // Unverified modes never consult trust roots; an empty set keeps the system's out.
            configuration.trustRoots = .certificates([])
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw MetricsExporter.ConfigurationError(
                setting: "tls.privateKeyFile", path: settings.privateKeyFile,
                reason: "cannot be used with the certificate in \(settings.certificateFile) (\(error))")
        }
        return ServerTLS(
            context: context,
            acceptsUnverifiedClientCertificates: settings.clientAuth == .requestClientCert
                || settings.clientAuth == .requireAnyClientCert)
    }

    /// The rules of exporter-toolkit's web configuration, plus: a mode that verifies client
    /// certificates needs the CAs to verify them with (the system's roots are never used).
    private static func checkConsistency(_ settings: MetricsExporter.TLSSettings)
        throws(MetricsExporter.ConfigurationError)
    {
        if settings.clientAuth.verifiesCertificates && settings.clientCAFile == nil {
            throw MetricsExporter.ConfigurationError(
                setting: "tls.clientCAFile", reason: "required by client auth \(settings.clientAuth.rawValue)")
        }
        if settings.clientCAFile != nil && settings.clientAuth == .noClientCert {
            throw MetricsExporter.ConfigurationError(
                setting: "tls.clientAuth",
                reason: "a client CA file is set but client auth is NoClientCert; choose a client auth type")
        }
        if settings.minimumVersion > settings.maximumVersion {
            throw MetricsExporter.ConfigurationError(
                setting: "tls.minimumVersion",
                reason:
                    "\(settings.minimumVersion.rawValue) is newer than the maximum version \(settings.maximumVersion.rawValue)"
            )
        }
    }

    /// The TLS handler for one accepted connection.
    func makeHandler() -> NIOSSLServerHandler {
        guard acceptsUnverifiedClientCertificates else { return NIOSSLServerHandler(context: context) }
        // Asked for, not verified (Go's RequestClientCert / RequireAnyClientCert): whether one
        // must be presented at all is BoringSSL's verify mode, set from the configuration above.
        return NIOSSLServerHandler(context: context) { _, promise in promise.succeed(.certificateVerified) }
    }
}

extension MetricsExporter.TLSSettings.TLSVersion {
    var nio: TLSVersion {
        switch self {
        case .tls10: .tlsv1
        case .tls11: .tlsv11
        case .tls12: .tlsv12
        case .tls13: .tlsv13
        }
    }
}
