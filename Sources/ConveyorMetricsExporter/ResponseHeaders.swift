/// Checks ``MetricsExporter/Configuration/responseHeaders``: names are HTTP tokens and not
/// ones the exporter sets itself, values hold no control characters (no header injection).
enum ResponseHeaders {
    /// Set by the exporter or by HTTP framing; a configured value would contradict them.
    static let reserved: Set<String> = [
        "content-type", "content-length", "content-encoding", "transfer-encoding", "connection", "www-authenticate",
        "allow", "retry-after",
    ]

    static func validate(_ headers: [String: String]) throws(MetricsExporter.ConfigurationError) {
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let setting = "responseHeaders[\"\(name)\"]"
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenCharacter) else {
                throw MetricsExporter.ConfigurationError(setting: setting, reason: "not a valid header name")
            }
            guard !reserved.contains(name.lowercased()) else {
                throw MetricsExporter.ConfigurationError(setting: setting, reason: "set by the exporter itself")
            }
            guard value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw MetricsExporter.ConfigurationError(
                    setting: setting, reason: "the value contains a control character")
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
