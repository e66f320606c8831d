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
    var shouldAbort: @Sendable () -> Bool = { false }
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

    func header(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {  // a new response (e.g. after 100 Continue)
            reset()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let value = RetryPolicy.trimmedHTTPValue(line[line.index(after: colon)...])
        switch line[..<colon].lowercased() {
        case "retry-after": retryAfter = value
        case RemoteWriteProtocol.samplesWrittenHeader.lowercased(): samplesWritten = Self.count(value)
        case RemoteWriteProtocol.histogramsWrittenHeader.lowercased(): histogramsWritten = Self.count(value) ?? 0
        case RemoteWriteProtocol.exemplarsWrittenHeader.lowercased(): exemplarsWritten = Self.count(value) ?? 0
        default: break
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
