import ConveyorMetrics

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

    /// The same as ``description``: no secrets.
    public var debugDescription: String { description }
}
