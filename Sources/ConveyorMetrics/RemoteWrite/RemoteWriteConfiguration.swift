/// What the remote writer pushes, where and how. Mirrors Prometheus' `remote_write` block.
///
/// ```swift
/// var target = RemoteWriteTargetConfiguration(url: "https://metrics.example/api/v1/write")
/// target.headers = ["X-Scope-OrgID": "tenant-a"]
/// let configuration = RemoteWriteConfiguration(
///     targets: [target], externalLabels: ["cluster": "edge-eu-1", "instance": "router-7"])
/// ```
public struct RemoteWriteConfiguration: Sendable {
    /// Where to push; each target has its own queue and sender thread.
    public var targets: [RemoteWriteTargetConfiguration]
    /// Labels added to every series (a series' own label of the same name wins).
    public var externalLabels: [String: String]
    /// Whether family metadata (type, help, unit) is sent, in sample-free requests
    /// (Prometheus' `metadata_config.send`).
    public var sendMetadata = true
    /// How often metadata is sent.
    public var metadataInterval: Duration = .seconds(60)
    /// On shutdown, how long the final snapshot and stale markers may take to deliver.
    public var shutdownTimeout: Duration = .seconds(10)

    /// A configuration; 1-minute metadata and a 10-second shutdown deadline unless changed.
    public init(targets: [RemoteWriteTargetConfiguration], externalLabels: [String: String] = [:]) {
        self.targets = targets
        self.externalLabels = externalLabels
    }

    /// Checks every target and the external labels; the error names the setting.
    public func validate() throws(RemoteWriteConfigurationError) {
        for (name, _) in externalLabels where !NameValidation.isValidLabelName(name) {
            throw RemoteWriteConfigurationError(key: "external_labels.\(name)", reason: "invalid label name")
        }
        var names = Set<String>()
        for (index, target) in targets.enumerated() {
            try target.validate(index: index)
            guard names.insert(target.resolvedName).inserted else {
                throw RemoteWriteConfigurationError(
                    key: "remote_write[\(index)].name", reason: "name '\(target.resolvedName)' is used twice")
            }
        }
    }
}

/// One remote-write endpoint.
public struct RemoteWriteTargetConfiguration: Sendable {
    /// The endpoint, e.g. `http://127.0.0.1:9090/api/v1/write`.
    public var url: String
    /// The `remote_name` label of this target's self-metrics; defaults to the URL's host:port.
    public var name: String?
    /// How often a snapshot is taken and queued.
    public var pushInterval: Duration = .seconds(15)
    /// The timeout of one HTTP request.
    public var remoteTimeout: Duration = .seconds(30)
    /// Extra headers (e.g. `X-Scope-OrgID`); may not replace the protocol's own headers.
    public var headers: [String: String] = [:]
    /// HTTP basic authentication.
    public var basicAuth: BasicAuth?
    /// An `Authorization` header (`Bearer <token>` by default).
    public var authorization: Authorization?
    /// TLS settings for `https` URLs.
    public var tls: TLSSettings?
    /// An explicit proxy; without it no proxy is used, whatever the environment says.
    public var proxyURL: String?
    /// Queueing, batching and retry.
    public var queue = QueueSettings()

    /// A target with Prometheus' defaults: 15 s push interval, 30 s timeout.
    public init(url: String) {
        self.url = url
    }

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

    /// Queueing, batching and retry, with Prometheus' names and defaults.
    public struct QueueSettings: Sendable {
        /// The most samples waiting to be sent; when full the oldest are dropped and counted.
        public var capacity = 10_000
        /// The most samples in one request.
        public var maxSamplesPerSend = 2_000
        /// The first retry waits this long; each further retry doubles it.
        public var minBackoff: Duration = .milliseconds(30)
        /// Retries never wait longer than this (unless the server's `Retry-After` says so).
        public var maxBackoff: Duration = .seconds(5)
        /// Whether 429 Too Many Requests is retried (otherwise the batch is dropped).
        public var retryOnHTTP429 = true
        /// A directory for a disk-backed queue (each target uses a subdirectory named after
        /// it): what is queued survives restarts and outages of any length up to
        /// `maxDiskBytes`. Without it the queue lives in memory (`capacity` samples).
        public var storagePath: String?
        /// The most bytes the disk queue may use; beyond it the oldest samples are dropped
        /// (counted with `reason="disk_full"`). 1 GiB by default.
        public var maxDiskBytes: Int64 = 1 << 30
        /// When the disk queue reaches stable storage (see ``FsyncPolicy``).
        public var fsync: FsyncPolicy = .interval(.seconds(1))
        /// Samples older than this are dropped (counted with `reason="too_old"`) instead of
        /// being sent to a receiver that would reject them. Off by default.
        public var sampleAgeLimit: Duration?

        /// Prometheus' defaults (with 429 retried).
        public init() {}
    }

    /// When the disk queue calls fsync. A crash of the process alone loses nothing under
    /// either policy (written data is in the kernel's page cache); the policies differ on
    /// power loss or a kernel crash.
    public enum FsyncPolicy: Sendable, Equatable {
        /// After every record and every acknowledgement: power loss loses at most the record
        /// being written. Costs one fsync per snapshot and per delivered request.
        case everyWrite
        /// At most once per interval: power loss may lose the records of the last interval
        /// and resend requests acknowledged in it (duplicates, which receivers ignore).
        case interval(Duration)
    }

    /// The name used in self-metrics and logs.
    public var resolvedName: String { name ?? RedactedURL(url).hostAndPort }

    /// The directory of this target's disk queue, if it has one.
    var storageDirectory: String? {
        guard let path = queue.storagePath else { return nil }
        let safe = String(
            decoding: resolvedName.utf8.map { byte -> UInt8 in
                let allowed =
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".")
                return allowed ? byte : UInt8(ascii: "_")
            }, as: UTF8.self)
        return (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/" + (safe.hasPrefix(".") ? "_" + safe : safe)
    }

    /// The protocol's headers, which `headers` may not set.
    static let reservedHeaders: Set<String> = [
        "content-encoding", "content-type", "x-prometheus-remote-write-version", "user-agent", "content-length",
        "host", "transfer-encoding", "expect",
    ]

    func validate(index: Int) throws(RemoteWriteConfigurationError) {
        let prefix = "remote_write[\(index)]"
        let parsed = RedactedURL(url)
        guard parsed.scheme == "http" || parsed.scheme == "https", !parsed.hostAndPort.isEmpty else {
            throw RemoteWriteConfigurationError(key: "\(prefix).url", reason: "expected an http:// or https:// URL")
        }
        for (header, _) in headers {
            let lower = header.lowercased()
            if Self.reservedHeaders.contains(lower) {
                throw RemoteWriteConfigurationError(
                    key: "\(prefix).headers.\(header)", reason: "this header is set by the remote-write protocol")
            }
            if lower == "authorization" && (basicAuth != nil || authorization != nil) {
                throw RemoteWriteConfigurationError(
                    key: "\(prefix).headers.\(header)", reason: "conflicts with basic_auth/authorization")
            }
            if header.isEmpty || header.utf8.contains(where: { $0 <= 32 || $0 == UInt8(ascii: ":") || $0 >= 127 }) {
                throw RemoteWriteConfigurationError(key: "\(prefix).headers.\(header)", reason: "invalid header name")
            }
        }
        for (header, value) in headers where value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).headers.\(header)", reason: "value contains a line break")
        }
        if basicAuth != nil && authorization != nil {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).authorization", reason: "basic_auth and authorization are mutually exclusive")
        }
        if let basicAuth, (basicAuth.password == nil) == (basicAuth.passwordFile == nil) {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).basic_auth", reason: "exactly one of password and password_file is required")
        }
        if let authorization, (authorization.credentials == nil) == (authorization.credentialsFile == nil) {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).authorization", reason: "exactly one of credentials and credentials_file is required")
        }
        if let proxyURL,
            !(proxyURL.hasPrefix("http://") || proxyURL.hasPrefix("https://") || proxyURL.hasPrefix("socks5://"))
        {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).proxy_url", reason: "expected an http://, https:// or socks5:// URL")
        }
        if tls?.certFile != nil && tls?.keyFile == nil || tls?.certFile == nil && tls?.keyFile != nil {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).tls_config", reason: "cert_file and key_file go together")
        }
        guard pushInterval > .zero else {
            throw RemoteWriteConfigurationError(key: "\(prefix).push_interval", reason: "must be positive")
        }
        guard remoteTimeout > .zero else {
            throw RemoteWriteConfigurationError(key: "\(prefix).remote_timeout", reason: "must be positive")
        }
        guard queue.capacity > 0, queue.maxSamplesPerSend > 0 else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config", reason: "capacity and max_samples_per_send must be positive")
        }
        if queue.storagePath?.isEmpty == true {
            throw RemoteWriteConfigurationError(key: "\(prefix).queue_config.storage_path", reason: "must not be empty")
        }
        guard queue.maxDiskBytes >= 1 << 20 else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config.max_disk_bytes", reason: "must be at least 1 MiB")
        }
        if case .interval(let interval) = queue.fsync, interval <= .zero {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config.fsync_interval", reason: "must be positive")
        }
        if let limit = queue.sampleAgeLimit, limit <= .zero {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config.sample_age_limit", reason: "must be positive")
        }
        guard queue.minBackoff > .zero, queue.maxBackoff >= queue.minBackoff else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config.max_backoff", reason: "must be at least min_backoff (and both positive)")
        }
    }
}

/// A configuration problem, naming the key.
public struct RemoteWriteConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The key in Prometheus' vocabulary, e.g. `remote_write[0].headers.User-Agent`.
    public let key: String
    /// What is wrong.
    public let reason: String

    public var description: String { "\(key): \(reason)" }
}

/// A password or token: its description never shows the value.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, ExpressibleByStringLiteral {
    package let value: String

    /// Wraps a secret value.
    public init(_ value: String) { self.value = value }
    /// Wraps a literal (for tests and examples).
    public init(stringLiteral value: String) { self.value = value }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
}

/// A URL split just enough to name it in logs without its credentials.
struct RedactedURL: CustomStringConvertible {
    let scheme: String
    let hostAndPort: String
    let pathAndQuery: String

    init(_ url: String) {
        let schemeEnd: Range<String.Index>? = url.firstRange(of: "://")
        var rest = Substring(url)
        if let schemeEnd {
            scheme = String(url[..<schemeEnd.lowerBound]).lowercased()
            rest = url[schemeEnd.upperBound...]
        } else {
            scheme = ""
        }
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        hostAndPort = String(authority)
        pathAndQuery = String(rest[authorityEnd...])
    }

    /// The URL without user info (the only form that appears in logs and errors).
    var description: String { "\(scheme)://\(hostAndPort)\(pathAndQuery)" }
}

extension RemoteWriteTargetConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The target without secrets: the URL's user info is removed, credentials are not shown.
    public var description: String {
        var parts = ["url: \(RedactedURL(url))", "name: \(resolvedName)", "push_interval: \(pushInterval)"]
        if !headers.isEmpty { parts.append("headers: \(headers.keys.sorted())") }
        if let basicAuth { parts.append("basic_auth: \(basicAuth.username):<secret>") }
        if let authorization { parts.append("authorization: \(authorization.type) <secret>") }
        if let proxyURL { parts.append("proxy_url: \(RedactedURL(proxyURL))") }
        return "RemoteWriteTargetConfiguration(" + parts.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }
}
