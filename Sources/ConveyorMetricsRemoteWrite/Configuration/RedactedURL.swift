import ConveyorMetrics

/// A URL split as RFC 3986 does (`scheme://[userinfo@]host[:port]path[?query][#fragment]`,
/// the authority ending at the first `/`, `?` or `#`), so that it can be named in logs,
/// errors, labels and directory names without its secrets: the user-info is never shown,
/// and every query parameter's value is replaced by `<redacted>` (`?api_key=…`).
struct RedactedURL: CustomStringConvertible {
    let scheme: String
    /// `user:password` of the authority, or nil; never printed.
    let userInfo: String?
    let hostAndPort: String
    let path: String
    let query: String?
    /// After `#`; never sent, never printed.
    let fragment: String?

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
        if let at = authority.lastIndex(of: "@") {
            userInfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        } else {
            userInfo = nil
        }
        hostAndPort = String(authority)
        var remainder = rest[authorityEnd...]
        if let hash = remainder.firstIndex(of: "#") {
            fragment = String(remainder[remainder.index(after: hash)...])
            remainder = remainder[..<hash]
        } else {
            fragment = nil
        }
        if let question = remainder.firstIndex(of: "?") {
            path = String(remainder[..<question])
            query = String(remainder[remainder.index(after: question)...])
        } else {
            path = String(remainder)
            query = nil
        }
    }

    /// Whether an `@` stands after the authority: user-info with an unescaped `/`, `?` or
    /// `#` (which RFC 3986 does not allow there) would otherwise put part of a password in
    /// the host or path.
    var hasMisplacedUserInfo: Bool {
        path.contains("@") || (query?.contains("@") ?? false) || (fragment?.contains("@") ?? false)
    }

    /// The query with every value replaced: `a=<redacted>&b=<redacted>`.
    var redactedQuery: String? {
        query.map { query in
            query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
                guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                return String(pair[..<equals]) + "=<redacted>"
            }.joined(separator: "&")
        }
    }

    /// The URL without user-info and with query values redacted (the only form that appears
    /// in logs and errors).
    var description: String {
        "\(scheme)://\(hostAndPort)\(path)" + (redactedQuery.map { "?" + $0 } ?? "")
    }

    /// The host (an IPv6 literal keeps its brackets) and the text after its `:`, nil when the
    /// authority names no port.
    var hostAndPortParts: (host: String, port: Substring?) {
        if hostAndPort.hasPrefix("["), let close = hostAndPort.firstIndex(of: "]") {
            let rest = hostAndPort[hostAndPort.index(after: close)...]
            return (String(hostAndPort[...close]), rest.hasPrefix(":") ? rest.dropFirst() : nil)
        }
        guard let colon = hostAndPort.lastIndex(of: ":") else { return (hostAndPort, nil) }
        return (String(hostAndPort[..<colon]), hostAndPort[hostAndPort.index(after: colon)...])
    }

    /// Host, port and path: the default `remote_name` (no user-info, no query).
    var hostAndPath: String { hostAndPort + (path == "/" ? "" : path) }
}
