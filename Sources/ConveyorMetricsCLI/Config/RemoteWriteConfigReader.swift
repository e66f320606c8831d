import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Yams

/// Reads `external_labels` and `remote_write` in Prometheus' own vocabulary.
struct RemoteWriteConfigReader {
    let reader: YAMLReader

    func externalLabels(_ node: Node) throws(ConfigError) -> [String: String] {
        try reader.stringMap(node, at: "external_labels")
    }

    func targets(_ node: Node) throws(ConfigError) -> [RemoteWriteTargetConfiguration] {
        var targets: [RemoteWriteTargetConfiguration] = []
        for (index, entry) in try reader.sequence(node, at: "remote_write").enumerated() {
            targets.append(try target(entry, key: "remote_write[\(index)]"))
        }
        return targets
    }

    private func target(_ node: Node, key: String) throws(ConfigError) -> RemoteWriteTargetConfiguration {
        let fields = try reader.mapping(
            node, at: key,
            allowed: [
                "url", "name", "push_interval", "remote_timeout", "headers", "basic_auth", "authorization",
                "tls_config", "proxy_url", "queue_config", "protobuf_message", "protobuf_message_probe_interval",
                "send_native_histograms", "send_exemplars",
            ])
        guard let urlNode = fields["url"] else {
            throw ConfigError(file: reader.file, key: "\(key).url", reason: "required")
        }
        var target = RemoteWriteTargetConfiguration(url: try reader.string(urlNode, at: "\(key).url"))
        if let node = fields["name"] { target.name = try reader.string(node, at: "\(key).name") }
        if let node = fields["push_interval"] {
            target.pushInterval = try reader.duration(node, at: "\(key).push_interval")
        }
        if let node = fields["remote_timeout"] {
            target.remoteTimeout = try reader.duration(node, at: "\(key).remote_timeout")
        }
        if let node = fields["headers"] { target.headers = try reader.stringMap(node, at: "\(key).headers") }
        if let node = fields["protobuf_message"] {
            let text = try reader.string(node, at: "\(key).protobuf_message")
            guard let message = RemoteWriteTargetConfiguration.ProtobufMessage(rawValue: text) else {
                let known = RemoteWriteTargetConfiguration.ProtobufMessage.allCases.map(\.rawValue)
                throw ConfigError(
                    file: reader.file, key: "\(key).protobuf_message",
                    reason: "expected one of \(known.joined(separator: ", "))")
            }
            target.protobufMessage = message
        }
        if let node = fields["protobuf_message_probe_interval"] {
            target.protocolProbeInterval = try reader.duration(node, at: "\(key).protobuf_message_probe_interval")
        }
        if let node = fields["send_native_histograms"] {
            target.sendNativeHistograms = try reader.bool(node, at: "\(key).send_native_histograms")
        }
        if let node = fields["send_exemplars"] {
            target.sendExemplars = try reader.bool(node, at: "\(key).send_exemplars")
        }
        if let node = fields["proxy_url"] { target.proxyURL = try reader.string(node, at: "\(key).proxy_url") }
        if let node = fields["basic_auth"] {
            let auth = try reader.mapping(
                node, at: "\(key).basic_auth", allowed: ["username", "password", "password_file"])
            target.basicAuth = .init(
                username: try auth["username"].map { (n) throws(ConfigError) in
                    try reader.string(n, at: "\(key).basic_auth.username")
                } ?? "",
                password: try auth["password"].map { (n) throws(ConfigError) in
                    Secret(try reader.string(n, at: "\(key).basic_auth.password"))
                },
                passwordFile: try auth["password_file"].map { (n) throws(ConfigError) in
                    try reader.string(n, at: "\(key).basic_auth.password_file")
                })
        }
        if let node = fields["authorization"] {
            let auth = try reader.mapping(
                node, at: "\(key).authorization", allowed: ["type", "credentials", "credentials_file"])
            target.authorization = .init(
                type: try auth["type"].map { (n) throws(ConfigError) in
                    try reader.string(n, at: "\(key).authorization.type")
                } ?? "Bearer",
                credentials: try auth["credentials"].map { (n) throws(ConfigError) in
                    Secret(try reader.string(n, at: "\(key).authorization.credentials"))
                },
                credentialsFile: try auth["credentials_file"].map { (n) throws(ConfigError) in
                    try reader.string(n, at: "\(key).authorization.credentials_file")
                })
        }
        if let node = fields["tls_config"] {
            let prefix = "\(key).tls_config"
            let tls = try reader.mapping(
                node, at: prefix, allowed: ["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"])
            var settings = RemoteWriteTargetConfiguration.TLSSettings()
            if let n = tls["ca_file"] { settings.caFile = try reader.string(n, at: "\(prefix).ca_file") }
            if let n = tls["cert_file"] { settings.certFile = try reader.string(n, at: "\(prefix).cert_file") }
            if let n = tls["key_file"] { settings.keyFile = try reader.string(n, at: "\(prefix).key_file") }
            if let n = tls["server_name"] { settings.serverName = try reader.string(n, at: "\(prefix).server_name") }
            if let n = tls["insecure_skip_verify"] {
                settings.insecureSkipVerify = try reader.bool(n, at: "\(prefix).insecure_skip_verify")
            }
            target.tls = settings
        }
        if let node = fields["queue_config"] {
            let prefix = "\(key).queue_config"
            let queue = try reader.mapping(
                node, at: prefix,
                allowed: [
                    "capacity", "max_memory_bytes", "max_samples_per_send", "min_backoff", "max_backoff",
                    "retry_on_http_429", "min_shards", "max_shards", "batch_send_deadline",
                    "storage_path", "max_disk_bytes", "fsync", "fsync_interval", "sample_age_limit",
                ])
            if let n = queue["capacity"] {
                target.queue.capacity = try reader.integer(n, at: "\(prefix).capacity", range: 1...100_000_000)
            }
            if let n = queue["max_memory_bytes"] {
                target.queue.maxMemoryBytes = try reader.integer(
                    n, at: "\(prefix).max_memory_bytes", range: 4096...(64 << 30))
            }
            if let n = queue["max_samples_per_send"] {
                target.queue.maxSamplesPerSend = try reader.integer(
                    n, at: "\(prefix).max_samples_per_send", range: 1...1_000_000)
            }
            if let n = queue["min_shards"] {
                target.queue.minShards = try reader.integer(n, at: "\(prefix).min_shards", range: 1...1_000)
            }
            if let n = queue["max_shards"] {
                target.queue.maxShards = try reader.integer(n, at: "\(prefix).max_shards", range: 1...1_000)
            }
            if let n = queue["batch_send_deadline"] {
                target.queue.batchSendDeadline = try reader.duration(n, at: "\(prefix).batch_send_deadline")
            }
            if let n = queue["min_backoff"] {
                target.queue.minBackoff = try reader.duration(n, at: "\(prefix).min_backoff")
            }
            if let n = queue["max_backoff"] {
                target.queue.maxBackoff = try reader.duration(n, at: "\(prefix).max_backoff")
            }
            if let n = queue["retry_on_http_429"] {
                target.queue.retryOnHTTP429 = try reader.bool(n, at: "\(prefix).retry_on_http_429")
            }
            if let n = queue["storage_path"] {
                target.queue.storagePath = try reader.string(n, at: "\(prefix).storage_path")
            }
            if let n = queue["max_disk_bytes"] {
                target.queue.maxDiskBytes = try reader.byteSize(n, at: "\(prefix).max_disk_bytes")
            }
            var interval: Duration = .seconds(1)
            if let n = queue["fsync_interval"] { interval = try reader.duration(n, at: "\(prefix).fsync_interval") }
            switch try queue["fsync"].map({ (n) throws(ConfigError) in try reader.string(n, at: "\(prefix).fsync") }) {
            case nil, "interval": target.queue.fsync = .interval(interval)
            case "every_write": target.queue.fsync = .everyWrite
            case let other?:
                throw ConfigError(
                    file: reader.file, key: "\(prefix).fsync",
                    reason: "expected every_write or interval, got '\(other)'")
            }
            if let n = queue["sample_age_limit"] {
                target.queue.sampleAgeLimit = try reader.duration(n, at: "\(prefix).sample_age_limit")
            }
        }
        return target
    }
}
