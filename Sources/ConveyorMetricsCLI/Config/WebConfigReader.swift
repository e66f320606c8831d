import ConveyorMetrics
import ConveyorMetricsExporter
import Foundation
import Yams

/// Reads a web configuration document into ``WebConfig``, strictly: unknown keys are errors,
/// and keys of exporter-toolkit's format that conveyor-metrics does not implement are errors
/// that say "not supported".
struct WebConfigReader {
    let reader: YAMLReader

    /// exporter-toolkit's keys that conveyor-metrics does not implement, and why.
    static let unsupported: [String: [String: String]] = [
        "": ["rate_limit": "rate limiting is not implemented"],
        "tls_server_config": [
            "cert": "give the certificate as cert_file", "key": "give the key as key_file",
            "client_ca": "give the client CAs as client_ca_file",
            "cipher_suites": "the TLS library's default cipher suites are used",
            "curve_preferences": "the TLS library's default curves are used",
            "prefer_server_cipher_suites": "the TLS library's default order is used",
            "client_allowed_sans": "client certificates are not matched against SANs",
        ],
        "http_server_config": ["http2": "the exporter serves HTTP/1.1 only (http2: false is accepted)"],
    ]

    /// The headers exporter-toolkit allows, with the values it allows (nil: any).
    static let allowedHeaders: [String: [String]?] = [
        "Strict-Transport-Security": nil, "X-Content-Type-Options": ["nosniff"],
        "X-Frame-Options": ["deny", "sameorigin"], "X-XSS-Protection": nil, "Content-Security-Policy": nil,
    ]

    func read(_ text: String) throws(ConfigError) -> WebConfig {
        var config = WebConfig()
        guard let root = try reader.parse(text), root.null == nil else { return config }
        let top = try fields(root, at: "", supported: ["tls_server_config", "basic_auth_users", "http_server_config"])
        if let node = top["tls_server_config"] { config.tls = try tls(node) }
        if let node = top["basic_auth_users"] { config.basicAuthUsers = try users(node) }
        if let node = top["http_server_config"] { config.responseHeaders = try http(node) }
        return config
    }

    /// The mapping at `key` (nil for an empty value), refusing unknown and unsupported keys.
    private func fields(_ node: Node, at key: String, supported: Set<String>) throws(ConfigError) -> [String: Node] {
        if node.null != nil { return [:] }
        let unsupported = Self.unsupported[key] ?? [:]
        let fields = try reader.mapping(node, at: key, allowed: supported.union(unsupported.keys))
        for name in fields.keys.sorted() {
            guard let why = unsupported[name] else { continue }
            let path = key.isEmpty ? name : "\(key).\(name)"
            if path == "http_server_config.http2", let value = fields[name],
                try reader.bool(value, at: path) == false
            {
                continue
            }
            throw ConfigError(file: reader.file, key: path, reason: "not supported by conveyor-metrics (\(why))")
        }
        return fields
    }

    private func tls(_ node: Node) throws(ConfigError) -> MetricsExporter.TLSSettings? {
        let key = "tls_server_config"
        let tls = try fields(
            node, at: key,
            supported: ["cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version", "max_version"])
        if tls.isEmpty { return nil }
        func file(_ name: String) throws(ConfigError) -> String? {
            guard let node = tls[name] else { return nil }
            let value = try reader.string(node, at: "\(key).\(name)")
            guard !value.isEmpty else { throw ConfigError(file: reader.file, key: "\(key).\(name)", reason: "empty") }
            return resolvePath(value, relativeTo: reader.file)
        }
        guard let certificate = try file("cert_file") else {
            throw ConfigError(file: reader.file, key: "\(key).cert_file", reason: "required when TLS is configured")
        }
        guard let privateKey = try file("key_file") else {
            throw ConfigError(file: reader.file, key: "\(key).key_file", reason: "required when TLS is configured")
        }
        var settings = MetricsExporter.TLSSettings(certificateFile: certificate, privateKeyFile: privateKey)
        settings.clientCAFile = try file("client_ca_file")
        if let node = tls["client_auth_type"] {
            settings.clientAuth = try choice(
                node, at: "\(key).client_auth_type", aliases: ["RequireClientCert": .requireAnyClientCert])
        }
        if let node = tls["min_version"] { settings.minimumVersion = try choice(node, at: "\(key).min_version") }
        if let node = tls["max_version"] { settings.maximumVersion = try choice(node, at: "\(key).max_version") }
        return settings
    }

    /// One of `Value`'s raw values (or an alias), or an error that lists them.
    private func choice<Value: RawRepresentable & CaseIterable>(
        _ node: Node, at key: String, aliases: [String: Value] = [:]
    ) throws(ConfigError) -> Value where Value.RawValue == String {
        let text = try reader.string(node, at: key)
        if let value = Value(rawValue: text) ?? aliases[text] { return value }
        let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
        throw ConfigError(file: reader.file, key: key, reason: "expected one of \(allowed), got '\(text)'")
    }

    /// User → bcrypt hash. A bad hash is named by its user, never quoted.
    private func users(_ node: Node) throws(ConfigError) -> [String: String] {
        let key = "basic_auth_users"
        if node.null != nil { return [:] }
        reader.marks.note(key, node)
        guard let mapping = node.mapping else {
            throw ConfigError(file: reader.file, key: key, reason: "expected a mapping")
        }
        var users: [String: String] = [:]
        for (userNode, hashNode) in mapping {
            guard let user = userNode.scalar?.string, !user.isEmpty else {
                throw ConfigError(file: reader.file, key: key, reason: "user names must be non-empty strings")
            }
            let path = "\(key).\(user)"
            reader.marks.note(path, userNode)
            guard users[user] == nil else { throw ConfigError(file: reader.file, key: path, reason: "given twice") }
            guard let hash = hashNode.scalar?.string, Bcrypt.cost(of: hash) != nil else {
                throw ConfigError(
                    file: reader.file, key: path,
                    reason: "expected a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters; htpasswd -nBC 10 \(user))")
            }
            users[user] = hash
        }
        return users
    }

    private func http(_ node: Node) throws(ConfigError) -> [String: String] {
        let key = "http_server_config"
        let http = try fields(node, at: key, supported: ["headers"])
        guard let node = http["headers"] else { return [:] }
        let headers = try reader.stringMap(node, at: "\(key).headers")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let path = "\(key).headers.\(name)"
            guard let allowed = Self.allowedHeaders[name] else {
                let names = Self.allowedHeaders.keys.sorted().joined(separator: ", ")
                throw ConfigError(file: reader.file, key: path, reason: "this header cannot be set (allowed: \(names))")
            }
            if let allowed, !allowed.contains(value) {
                throw ConfigError(
                    file: reader.file, key: path,
                    reason: "expected one of \(allowed.joined(separator: ", ")), got '\(value)'")
            }
        }
        return headers.filter { !$0.value.isEmpty }
    }
}
