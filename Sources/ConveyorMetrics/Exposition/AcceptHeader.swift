/// An HTTP `Accept` header's media ranges, as exposition negotiation reads them.
struct AcceptHeader {
    /// One media range: lowercased `type/subtype`, its parameters (names lowercased, values
    /// unquoted) and its quality (1 unless `q` says otherwise; an unreadable `q` counts as 1).
    struct Range: Equatable {
        var mediaType: String
        var parameters: [String: String]
        var quality: Double

        /// Delimited `io.prometheus.client.MetricFamily` protobuf messages.
        var isDelimitedMetricFamily: Bool {
            mediaType == "application/vnd.google.protobuf"
                && parameters["proto"] == "io.prometheus.client.MetricFamily"
                && parameters["encoding"]?.lowercased() == "delimited"
        }

        /// A range one of the text formats satisfies.
        var acceptsText: Bool {
            ["text/plain", "text/*", "application/openmetrics-text", "*/*"].contains(mediaType)
        }
    }

    static func parse(_ header: String) -> [Range] {
        header.split(separator: ",").compactMap { element in
            let parts = element.split(separator: ";").map { $0.trimmingSpaces() }
            guard let mediaType = parts.first?.lowercased(), !mediaType.isEmpty else { return nil }
            var parameters: [String: String] = [:]
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
                guard pair.count == 2 else { continue }
                let name = pair[0].lowercased()
                var value = pair[1]
                if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if name == "q" {
                    quality = Double(value).map { $0.isNaN ? 1 : min(max($0, 0), 1) } ?? 1
                } else {
                    parameters[name] = value
                }
            }
            return Range(mediaType: mediaType, parameters: parameters, quality: quality)
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
