import ConveyorMetrics

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
