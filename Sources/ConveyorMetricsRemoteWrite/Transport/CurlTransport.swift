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

/// POSTs remote-write bodies with one reused libcurl easy handle (keep-alive).
///
/// Blocking: used only from its target's dedicated sender thread. The protocol headers are
/// fixed here and cannot be replaced by configured ones; environment proxies are ignored
/// unless `proxy_url` names one; secrets go to libcurl only, never into errors or logs.
final class CurlTransport: RemoteWriteTransport {
    private let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// The fixed headers; the Authorization header is added to them when the list is built.
    private var baseHeaders: [String] = []
    /// The format whose headers are installed.
    private var installedFormat = RequestFormat.v1
    private var authorizationType = ""
    private var staticCredentials: String?
    private var credentialsFile: CredentialSource?
    private var passwordFile: CredentialSource?
    /// Credential files that could not be read again since the last call to
    /// ``takeCredentialFailures()`` (the sender logs and counts them).
    private var credentialFailures: [String] = []
    private var connectTo: UnsafeMutablePointer<curl_slist>?
    private let response = ResponseCollector()
    /// libcurl writes error details here during perform; owned for the handle's lifetime.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    private static let globalInit: Bool = curl_global_init(3) == CURLE_OK  // CURL_GLOBAL_ALL

    /// Why a transport could not be set up (names the setting; never a secret's value).
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// - Parameter shouldAbort: polled during a transfer (about every second); returning
    ///   true ends the request at once (used when the shutdown deadline has passed).
    init(configuration: RemoteWriteTargetConfiguration, shouldAbort: @escaping @Sendable () -> Bool = { false })
        throws(SetupError)
    {
        response.shouldAbort = shouldAbort
        guard Self.globalInit, let handle = curl_easy_init() else {
            throw SetupError(description: "libcurl could not be initialised")
        }
        self.handle = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        // Every stored property is set, so if configure throws, deinit releases the handle.
        try configure(configuration)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        curl_slist_free_all(connectTo)
        errorBuffer.deallocate()
    }

    private func configure(_ configuration: RemoteWriteTargetConfiguration) throws(SetupError) {
        var url = configuration.url
        if let serverName = configuration.tls?.serverName, !serverName.isEmpty {
            // Verify and send SNI for server_name while connecting to the URL's host.
            let parsed = RedactedURL(url)
            let (host, portText) = parsed.hostAndPortParts
            let port = portText.flatMap { Int($0) } ?? (parsed.scheme == "https" ? 443 : 80)
            // The user-info stays: libcurl takes credentials from it.
            let userInfo = parsed.userInfo.map { $0 + "@" } ?? ""
            let query = parsed.query.map { "?" + $0 } ?? ""
            url = "\(parsed.scheme)://\(userInfo)\(serverName):\(port)\(parsed.path)\(query)"
            connectTo = curl_slist_append(nil, "\(serverName):\(port):\(host):\(port)")
            cm_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, connectTo)
        }
        cm_curl_setopt_string(handle, CURLOPT_URL, url)
        cm_curl_setopt_long(handle, CURLOPT_POST, 1)
        cm_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        cm_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        cm_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        cm_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.remoteTimeout.milliseconds))
        cm_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        // An explicit proxy, or none at all: "" turns off http_proxy/HTTPS_PROXY from the environment.
        cm_curl_setopt_string(handle, CURLOPT_PROXY, configuration.proxyURL ?? "")

        var headers = [
            "Content-Encoding: \(RemoteWriteProtocol.contentEncoding)",
            "User-Agent: \(ConveyorMetricsVersion.userAgent)",
            "Expect:",  // no 100-continue round trip
        ]
        for (name, value) in configuration.headers.sorted(by: { $0.key < $1.key }) {
            headers.append("\(name): \(value)")
        }
        baseHeaders = headers
        if let authorization = configuration.authorization {
            authorizationType = authorization.type
            if let credentials = authorization.credentials {
                staticCredentials = credentials.value
            } else {
                credentialsFile = try CredentialSource(
                    path: authorization.credentialsFile ?? "", setting: "authorization.credentials_file")
            }
        }
        installHeaders()

        if let basicAuth = configuration.basicAuth {
            var password = basicAuth.password?.value ?? ""
            if basicAuth.password == nil {
                let source = try CredentialSource(
                    path: basicAuth.passwordFile ?? "", setting: "basic_auth.password_file")
                passwordFile = source
                password = source.value
            }
            cm_curl_setopt_long(handle, CURLOPT_HTTPAUTH, 1)  // CURLAUTH_BASIC
            cm_curl_setopt_string(handle, CURLOPT_USERNAME, basicAuth.username)
            cm_curl_setopt_string(handle, CURLOPT_PASSWORD, password)
        }
        if let tls = configuration.tls {
            if let caFile = tls.caFile { cm_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
            if let certFile = tls.certFile { cm_curl_setopt_string(handle, CURLOPT_SSLCERT, certFile) }
            if let keyFile = tls.keyFile { cm_curl_setopt_string(handle, CURLOPT_SSLKEY, keyFile) }
            if tls.insecureSkipVerify {
                cm_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
                cm_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
            }
        }
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
        cm_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        cm_curl_setopt_xferinfo(handle) { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            return Unmanaged<ResponseCollector>.fromOpaque(userdata).takeUnretainedValue().shouldAbort() ? 1 : 0
        }
        cm_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, collector)
    }

    /// The header list libcurl sends: the fixed headers, the format's and the current Authorization.
    private func installHeaders() {
        var headers = baseHeaders
        headers.append("Content-Type: \(installedFormat.contentType)")
        headers.append("X-Prometheus-Remote-Write-Version: \(installedFormat.version)")
        if let credentials = credentialsFile?.value ?? staticCredentials {
            headers.append("Authorization: \(authorizationType) \(credentials)")
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        cm_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        curl_slist_free_all(headerList)
        headerList = list
    }

    /// Reads credential files again when they changed (Prometheus reads them per request).
    private func refreshCredentials() {
        if refresh(credentialsFile) == .rotated { installHeaders() }
        if refresh(passwordFile) == .rotated, let source = passwordFile {
            cm_curl_setopt_string(handle, CURLOPT_PASSWORD, source.value)
        }
    }

    /// Refreshes one source, noting a failure for ``takeCredentialFailures()``.
    private func refresh(_ source: CredentialSource?) -> CredentialSource.Refresh {
        guard let result = source?.refresh() else { return .unchanged }
        if case .failed(let reason) = result { credentialFailures.append(reason) }
        return result
    }

    /// The credential files that could not be read since the last call (each reported once
    /// until it can be read again).
    func takeCredentialFailures() -> [String] {
        defer { credentialFailures = [] }
        return credentialFailures
    }

    /// Sends `body`; blocks until the response or `timeout`.
    func post(_ body: [UInt8], format: RequestFormat, timeout: Duration) -> TransportOutcome {
        refreshCredentials()
        if format != installedFormat {
            installedFormat = format
            installHeaders()
        }
        response.reset()
        errorBuffer[0] = 0
        cm_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeout.milliseconds)))
        let code = body.withUnsafeBytes { bytes -> CURLcode in
            cm_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
            cm_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            defer { cm_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, nil) }
            return curl_easy_perform(handle)
        }
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
