import ConveyorMetrics

extension RemoteWriteTargetConfiguration {
    /// The protocol's headers, which `headers` may not set.
    static let reservedHeaders: Set<String> = [
        "content-encoding", "content-type", "x-prometheus-remote-write-version", "user-agent", "content-length",
        "host", "transfer-encoding", "expect",
    ]

    /// The most shards a target may have (each shard holds one transfer and its buffers).
    static let shardLimit = 1_000

    func validate(index: Int) throws(RemoteWriteConfigurationError) {
        let prefix = "remote_write[\(index)]"
        let parsed = RedactedURL(url)
        guard parsed.scheme == "http" || parsed.scheme == "https", !parsed.hostAndPort.isEmpty else {
            throw RemoteWriteConfigurationError(key: "\(prefix).url", reason: "expected an http:// or https:// URL")
        }
        guard !parsed.hasMisplacedUserInfo else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).url",
                reason: "'@' after the host: percent-encode '/', '?', '#' and '@' in the URL's user info (RFC 3986)")
        }
        if let portText = parsed.hostAndPortParts.port, !portText.isEmpty,
            Int(portText).map({ (1...65535).contains($0) }) != true
        {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).url", reason: "the port is not a number from 1 to 65535")
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
        guard protocolProbeInterval > .zero else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).protobuf_message_probe_interval", reason: "must be positive")
        }
        guard queue.capacity ?? 1 > 0, queue.maxSamplesPerSend > 0, queue.maxMemoryBytes >= 4096 else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config",
                reason: "capacity and max_samples_per_send must be positive, max_memory_bytes at least 4096")
        }
        guard queue.minShards >= 1, queue.minShards <= queue.maxShards, queue.maxShards <= Self.shardLimit else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config.max_shards",
                reason: "min_shards must be at least 1 and at most max_shards, max_shards at most \(Self.shardLimit)")
        }
        guard queue.batchSendDeadline >= .zero else {
            throw RemoteWriteConfigurationError(
                key: "\(prefix).queue_config.batch_send_deadline", reason: "must not be negative")
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
