extension MetricsExporter {
    /// A setting that ``MetricsExporter/start()`` cannot use: a TLS file that cannot be read
    /// or parsed, a basic-auth entry that is not a bcrypt hash, an invalid response header.
    ///
    /// It names the setting and, for files, the path and what is wrong with the file. It
    /// never holds a password, a password hash or a private key.
    public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
        /// The setting, e.g. `tls.certificateFile` or `basicAuthUsers["prometheus"]`.
        public let setting: String
        /// The file the setting names, when it is about a file.
        public let path: String?
        /// What is wrong.
        public let reason: String

        package init(setting: String, path: String? = nil, reason: String) {
            self.setting = setting
            self.path = path
            self.reason = reason
        }

        /// `setting (path): reason`.
        public var description: String {
            if let path { return "\(setting) (\(path)): \(reason)" }
            return "\(setting): \(reason)"
        }
    }
}
