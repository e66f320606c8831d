import CCurl
import CCurlShim
import ConveyorMetrics

/// One libcurl easy handle with what a transfer on it needs: the response collector its
/// callbacks fill, the error buffer, the installed header list and the body being sent.
/// Reused from request to request; owned by ``CurlTransport`` on its sender thread.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    let response = ResponseCollector()
    /// libcurl writes error details here during a transfer; owned for the handle's lifetime.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// Which header lines and password are installed (``CurlTransport``'s generation).
    var installedGeneration = -1
    var installedFormat: RequestFormat?
    /// The request being sent: libcurl reads it during the transfer, so it is kept here.
    private var body: [UInt8] = []
    /// The request id the transfer carries now.
    var id = 0

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        cm_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        let collector = Unmanaged.passUnretained(response).toOpaque()
        cm_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            Unmanaged<ResponseCollector>.fromOpaque(userdata).takeUnretainedValue()
                .appendBody(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        cm_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, collector)
        cm_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            Unmanaged<ResponseCollector>.fromOpaque(userdata).takeUnretainedValue()
                .header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        cm_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, collector)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Installs `headers` as the request's header list.
    func install(headers: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        cm_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        curl_slist_free_all(headerList)
        headerList = list
    }

    /// Sets up the next request: `body`, sent within `timeout`.
    func prepare(id: Int, body: [UInt8], timeout: Duration) {
        self.id = id
        self.body = body
        response.reset()
        errorBuffer[0] = 0
        cm_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeout.milliseconds)))
        cm_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(self.body.count))
        // The array's storage stays put while `self.body` holds it unchanged. An empty body
        // still gets a pointer: with none, libcurl would read the body from stdin.
        let pointer = self.body.withUnsafeBytes { UnsafeMutableRawPointer(mutating: $0.baseAddress) }
        cm_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, pointer ?? UnsafeMutableRawPointer(errorBuffer))
    }

    /// The outcome of the finished transfer, given libcurl's result code; releases the body.
    func finish(_ code: CURLcode) -> TransportOutcome {
        cm_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, nil)
        body = []
        guard code == CURLE_OK else {
            let detail = String(validatingCString: errorBuffer) ?? ""
            let summary =
                curl_easy_strerror(code).flatMap { String(validatingCString: $0) } ?? "curl error \(code.rawValue)"
            return .failure(detail.isEmpty ? summary : "\(summary): \(detail)")
        }
        var status = 0
        cm_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .response(
            status: status, retryAfter: response.retryAfter, body: response.bodyText, written: response.written)
    }
}
