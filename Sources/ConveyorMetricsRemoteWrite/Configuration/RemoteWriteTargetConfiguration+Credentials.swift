import ConveyorMetrics

extension RemoteWriteTargetConfiguration {
    /// HTTP basic authentication; the password is given inline or read from a file.
    public struct BasicAuth: Sendable {
        /// The user name.
        public var username: String
        /// The password (never logged).
        public var password: Secret?
        /// A file whose content (trailing newline removed) is the password.
        public var passwordFile: String?

        /// Basic auth with an inline password or a password file.
        public init(username: String, password: Secret? = nil, passwordFile: String? = nil) {
            self.username = username
            self.password = password
            self.passwordFile = passwordFile
        }
    }

    /// An `Authorization: <type> <credentials>` header.
    public struct Authorization: Sendable {
        /// The scheme, `Bearer` by default.
        public var type: String = "Bearer"
        /// The credentials (never logged).
        public var credentials: Secret?
        /// A file whose content is the credentials.
        public var credentialsFile: String?

        /// An authorization header with inline credentials or a credentials file.
        public init(type: String = "Bearer", credentials: Secret? = nil, credentialsFile: String? = nil) {
            self.type = type
            self.credentials = credentials
            self.credentialsFile = credentialsFile
        }
    }
}
