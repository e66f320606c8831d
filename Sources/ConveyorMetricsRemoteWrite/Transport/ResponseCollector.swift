import CCurl
import CCurlShim
import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects one response: the first 1 KB of the body, `Retry-After`, and remote write 2.0's
/// `X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written`.
final class ResponseCollector {
    private(set) var body: [UInt8] = []
    private(set) var retryAfter: String?
    private var samplesWritten: Int?
    private var histogramsWritten = 0
    private var exemplarsWritten = 0

    func reset() {
        body.removeAll(keepingCapacity: true)
        retryAfter = nil
        samplesWritten = nil
        histogramsWritten = 0
        exemplarsWritten = 0
    }

    /// What the receiver says it wrote; nil without the samples header.
    var written: WrittenCounts? {
        samplesWritten.map { WrittenCounts(samples: $0, histograms: histogramsWritten, exemplars: exemplarsWritten) }
    }

    func appendBody(_ bytes: UnsafeRawBufferPointer) {
        let room = 1024 - body.count
        if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
    }

    /// Takes one header line as libcurl gives it (name, colon, value, line end). Only the four
    /// headers above are read; every other line is passed over by its name's length and
    /// bytes, with no string made (this runs for every header of every answer).
    func header(_ bytes: UnsafeRawBufferPointer) {
        if bytes.starts(with: "HTTP/".utf8) {  // a new response (e.g. after 100 Continue)
            reset()
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
            let field = Self.Field(name: UnsafeRawBufferPointer(rebasing: bytes[..<colon]))
        else { return }
        let value = RetryPolicy.trimmedHTTPValue(UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)...]))
        switch field {
        case .retryAfter: retryAfter = value
        case .samplesWritten: samplesWritten = Self.count(value)
        case .histogramsWritten: histogramsWritten = Self.count(value) ?? 0
        case .exemplarsWritten: exemplarsWritten = Self.count(value) ?? 0
        }
    }

    /// The response headers read, by their lowercase names.
    enum Field: CaseIterable {
        case retryAfter, samplesWritten, histogramsWritten, exemplarsWritten

        var lowercaseName: String {
            switch self {
            case .retryAfter: "retry-after"
            case .samplesWritten: RemoteWriteProtocol.samplesWrittenHeader.lowercased()
            case .histogramsWritten: RemoteWriteProtocol.histogramsWrittenHeader.lowercased()
            case .exemplarsWritten: RemoteWriteProtocol.exemplarsWrittenHeader.lowercased()
            }
        }

        private static let names: [(field: Field, name: [UInt8])] = allCases.map { ($0, Array($0.lowercaseName.utf8)) }

        /// The field named `name` (ASCII case ignored), or nil for any other header.
        init?(name: UnsafeRawBufferPointer) {
            for (field, lowercase) in Self.names where lowercase.count == name.count {
                guard zip(lowercase, name).allSatisfy({ $0 == (65...90 ~= $1 ? $1 | 0x20 : $1) }) else { continue }
                self = field
                return
            }
            return nil
        }
    }

    /// A count header's value: a non-negative whole number (anything else counts as 0, so a
    /// header that is present still says "a 2.0 receiver answered").
    private static func count(_ value: String) -> Int? {
        guard let number = Int(value), number >= 0 else { return 0 }
        return number
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
