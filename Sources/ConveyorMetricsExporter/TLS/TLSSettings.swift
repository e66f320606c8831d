extension MetricsExporter {
    /// HTTPS for the exporter: the server's certificate and key, and whether clients must
    /// present certificates of their own (mutual TLS).
    ///
    /// The names follow `tls_server_config` of Prometheus' web configuration file
    /// (exporter-toolkit's `--web.config.file`). The files are PEM and are read by
    /// ``MetricsExporter/start()``, which throws a ``MetricsExporter/ConfigurationError``
    /// naming the file when one cannot be read or used.
    ///
    /// ```swift
    /// var configuration = MetricsExporter.Configuration(host: "0.0.0.0", port: 9090)
    /// var tls = MetricsExporter.TLSSettings(certificateFile: "/etc/conveyor/server.pem",
    ///                                       privateKeyFile: "/etc/conveyor/server-key.pem")
    /// tls.clientCAFile = "/etc/conveyor/clients-ca.pem"
    /// tls.clientAuth = .requireAndVerifyClientCert
    /// configuration.tls = tls
    /// ```
    public struct TLSSettings: Sendable, Equatable {
        /// The server's certificate, followed by any intermediate certificates (PEM).
        public var certificateFile: String
        /// The private key of the certificate (PEM, unencrypted).
        public var privateKeyFile: String
        /// The certificate authorities that client certificates are checked against (PEM).
        /// Required by ``ClientAuth/verifyClientCertIfGiven`` and
        /// ``ClientAuth/requireAndVerifyClientCert``; not allowed with ``ClientAuth/noClientCert``.
        public var clientCAFile: String?
        /// Whether clients are asked for a certificate, and what is checked.
        public var clientAuth: ClientAuth = .noClientCert
        /// The oldest TLS version accepted (default TLS 1.2).
        public var minimumVersion: TLSVersion = .tls12
        /// The newest TLS version accepted (default TLS 1.3).
        public var maximumVersion: TLSVersion = .tls13

        /// TLS with the certificate chain in `certificateFile` and its key in `privateKeyFile`;
        /// no client certificates, TLS 1.2 and 1.3.
        public init(certificateFile: String, privateKeyFile: String) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }

        /// Client certificate policy, named as in Go's `tls.ClientAuthType` (the web
        /// configuration file's `client_auth_type`).
        public enum ClientAuth: String, Sendable, CaseIterable {
            /// No client certificate is asked for (the default).
            case noClientCert = "NoClientCert"
            /// A certificate is asked for but not required, and not verified.
            case requestClientCert = "RequestClientCert"
            /// A certificate is required but not verified.
            case requireAnyClientCert = "RequireAnyClientCert"
            /// A certificate is not required; one that is presented must verify against ``TLSSettings/clientCAFile``.
            case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
            /// A certificate that verifies against ``TLSSettings/clientCAFile`` is required: mutual TLS.
            case requireAndVerifyClientCert = "RequireAndVerifyClientCert"

            /// Whether a presented certificate is checked against the client CA.
            var verifiesCertificates: Bool {
                self == .verifyClientCertIfGiven || self == .requireAndVerifyClientCert
            }
        }

        /// A TLS protocol version, named as in the web configuration file (`TLS12`).
        public enum TLSVersion: String, Sendable, CaseIterable, Comparable {
            /// TLS 1.0.
            case tls10 = "TLS10"
            /// TLS 1.1.
            case tls11 = "TLS11"
            /// TLS 1.2.
            case tls12 = "TLS12"
            /// TLS 1.3.
            case tls13 = "TLS13"

            private var order: Int {
                switch self {
                case .tls10: 0
                case .tls11: 1
                case .tls12: 2
                case .tls13: 3
                }
            }

            /// Older versions sort first.
            public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.order < rhs.order }
        }
    }
}
