/// Prometheus' rules for metric and label names, and repairs for names from elsewhere.
package enum NameValidation {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    package static func isValidMetricName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            let ok = isLetterOrUnderscore(byte) || byte == UInt8(ascii: ":") || (!first && isDigit(byte))
            if !ok { return false }
            first = false
        }
        return !first
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`.
    package static func isValidLabelName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            let ok = isLetterOrUnderscore(byte) || (!first && isDigit(byte))
            if !ok { return false }
            first = false
        }
        return !first && !name.hasPrefix("__")
    }

    /// Replaces every byte a metric name may not hold with `_` (`http.requests` → `http_requests`).
    package static func sanitizedMetricName(_ name: String) -> String {
        sanitize(name, allowColon: true)
    }

    /// Replaces every byte a label name may not hold with `_`, and avoids the reserved `__` prefix.
    package static func sanitizedLabelName(_ name: String) -> String {
        var result = sanitize(name, allowColon: false)
        while result.hasPrefix("__") { result.removeFirst() }
        return result
    }

    private static func sanitize(_ name: String, allowColon: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count + 1)
        for byte in name.utf8 {
            let ok = isLetterOrUnderscore(byte) || isDigit(byte) || (allowColon && byte == UInt8(ascii: ":"))
            bytes.append(ok ? byte : UInt8(ascii: "_"))
        }
        if bytes.isEmpty || isDigit(bytes[0]) { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isLetterOrUnderscore(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
