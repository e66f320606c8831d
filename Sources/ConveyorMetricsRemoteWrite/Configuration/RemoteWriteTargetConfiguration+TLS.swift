import ConveyorMetrics

extension RemoteWriteTargetConfiguration {
    /// TLS client settings.
    public struct TLSSettings: Sendable {
        /// CA certificates to verify the server with (PEM).
        public var caFile: String?
        /// A client certificate (PEM).
        public var certFile: String?
        /// The client certificate's key (PEM).
        public var keyFile: String?
        /// The name to verify the server certificate against (and send as SNI).
        public var serverName: String?
        /// Skips certificate verification. Only for tests.
        public var insecureSkipVerify = false

        /// Default TLS: the system's CAs, full verification.
        public init() {}
    }
}
