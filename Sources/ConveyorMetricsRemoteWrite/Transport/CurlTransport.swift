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

/// POSTs remote-write bodies, several at once, through one libcurl multi handle: every
/// transfer runs on the target's sender thread (no thread per shard), and connections are
/// kept alive and reused across transfers.
///
/// Blocking: used only from its target's dedicated sender thread. The protocol headers are
/// fixed here and cannot be replaced by configured ones; environment proxies are ignored
/// unless `proxy_url` names one; secrets go to libcurl only, never into errors or logs.
final class CurlTransport: RemoteWriteTransport {
    private let multi: UnsafeMutableRawPointer
    /// Transfers ready for a request, and those under way by easy handle.
    private var idle: [CurlTransfer] = []
    private var running: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    /// The settings every new easy handle gets.
    private var url = ""
    private var configuration: RemoteWriteTargetConfiguration
    /// The fixed headers; the Authorization header is added to them when the list is built.
    private var baseHeaders: [String] = []
    private var authorizationType = ""
    private var staticCredentials: String?
    private var credentialsFile: CredentialSource?
    private var passwordFile: CredentialSource?
    private var password: String?
    /// Bumped when a credential changes, so each transfer installs it before its next request.
    private var generation = 0
    /// Credential files that could not be read again since the last call to
    /// ``takeCredentialFailures()`` (the sender logs and counts them).
    private var credentialFailures: [String] = []
    private var connectTo: UnsafeMutablePointer<curl_slist>?

    private static let globalInit: Bool = curl_global_init(3) == CURLE_OK  // CURL_GLOBAL_ALL

    /// Why a transport could not be set up (names the setting; never a secret's value).
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// A transfer past the shutdown deadline needs no abort from here: the sender stops
    /// polling at the deadline and releases the transport, which removes its transfers.
    init(configuration: RemoteWriteTargetConfiguration) throws(SetupError) {
        self.configuration = configuration
        guard Self.globalInit, let multi = curl_multi_init() else {
            throw SetupError(description: "libcurl could not be initialised")
        }
        self.multi = multi
        // Every stored property is set, so if configure throws, deinit releases the handle.
        try configure(configuration)
        // One transfer made now, so a setting libcurl refuses shows at start-up.
        guard let first = makeTransfer() else { throw SetupError(description: "libcurl could not be initialised") }
        idle.append(first)
    }

    deinit {
        for transfer in running.values { curl_multi_remove_handle(multi, transfer.handle) }
        running = [:]
        idle = []
        curl_multi_cleanup(multi)
        curl_slist_free_all(connectTo)
    }

    /// Reads the settings (and credential files) once; ``apply(to:)`` puts them on a handle.
    private func configure(_ configuration: RemoteWriteTargetConfiguration) throws(SetupError) {
        url = configuration.url
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
        }
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
        if let basicAuth = configuration.basicAuth {
            password = basicAuth.password?.value
            if basicAuth.password == nil {
                let source = try CredentialSource(
                    path: basicAuth.passwordFile ?? "", setting: "basic_auth.password_file")
                passwordFile = source
                password = source.value
            }
        }
    }

    /// A new easy handle with the target's settings, or nil when libcurl has none to give.
    private func makeTransfer() -> CurlTransfer? {
        guard let transfer = CurlTransfer() else { return nil }
        let handle = transfer.handle
        if let connectTo { cm_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, connectTo) }
        cm_curl_setopt_string(handle, CURLOPT_URL, url)
        cm_curl_setopt_long(handle, CURLOPT_POST, 1)
        cm_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        cm_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        cm_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        cm_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.remoteTimeout.milliseconds))
        // Small buffers: answers are short (only 1 KB of a body is kept) and the request goes
        // from our own buffer; with a transfer per shard, libcurl's 16 KB and 64 KB defaults
        // add up to megabytes.
        cm_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 4_096)
        cm_curl_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, 16_384)
        // An explicit proxy, or none at all: "" turns off http_proxy/HTTPS_PROXY from the environment.
        cm_curl_setopt_string(handle, CURLOPT_PROXY, configuration.proxyURL ?? "")
        if let basicAuth = configuration.basicAuth {
            cm_curl_setopt_long(handle, CURLOPT_HTTPAUTH, 1)  // CURLAUTH_BASIC
            cm_curl_setopt_string(handle, CURLOPT_USERNAME, basicAuth.username)
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
        return transfer
    }

    /// Puts the current format's headers, Authorization and password on `transfer`.
    private func install(_ format: RequestFormat, on transfer: CurlTransfer) {
        guard transfer.installedGeneration != generation || transfer.installedFormat != format else { return }
        var headers = baseHeaders
        headers.append("Content-Type: \(format.contentType)")
        headers.append("X-Prometheus-Remote-Write-Version: \(format.version)")
        if let credentials = credentialsFile?.value ?? staticCredentials {
            headers.append("Authorization: \(authorizationType) \(credentials)")
        }
        transfer.install(headers: headers)
        if let password { cm_curl_setopt_string(transfer.handle, CURLOPT_PASSWORD, password) }
        transfer.installedGeneration = generation
        transfer.installedFormat = format
    }

    /// Reads credential files again when they changed (Prometheus reads them per request).
    private func refreshCredentials() {
        if refresh(credentialsFile) == .rotated { generation += 1 }
        if refresh(passwordFile) == .rotated, let source = passwordFile {
            password = source.value
            generation += 1
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

    /// Starts sending `body`; ``poll(timeout:)`` returns its outcome with `id`.
    func start(id: Int, body: [UInt8], format: RequestFormat, timeout: Duration) {
        refreshCredentials()
        guard let transfer = idle.popLast() ?? makeTransfer() else {
            finished.append((id, .failure("libcurl could not make another transfer")))
            return
        }
        install(format, on: transfer)
        transfer.prepare(id: id, body: body, timeout: timeout)
        let code = curl_multi_add_handle(multi, transfer.handle)
        guard code == CURLM_OK else {
            _ = transfer.finish(CURLE_FAILED_INIT)
            idle.append(transfer)
            finished.append((id, .failure("libcurl refused the transfer (multi error \(code.rawValue))")))
            return
        }
        running[transfer.handle] = transfer
    }

    /// Outcomes known before a poll (transfers that could not start).
    private var finished: [(id: Int, outcome: TransportOutcome)] = []

    /// Drives the transfers for at most `timeout` and returns those that finished.
    func poll(timeout: Duration) -> [(id: Int, outcome: TransportOutcome)] {
        var done = finished
        finished = []
        var stillRunning: Int32 = 0
        curl_multi_perform(multi, &stillRunning)
        collect(into: &done)
        if done.isEmpty && !running.isEmpty {
            let milliseconds = Int32(clamping: max(0, timeout.milliseconds))
            curl_multi_poll(multi, nil, 0, milliseconds, nil)
            curl_multi_perform(multi, &stillRunning)
            collect(into: &done)
        }
        return done
    }

    /// The finished transfers' outcomes; their handles go back to the idle ones.
    private func collect(into done: inout [(id: Int, outcome: TransportOutcome)]) {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let transfer = running.removeValue(forKey: handle)
            else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            done.append((transfer.id, transfer.finish(code)))
            idle.append(transfer)
        }
    }
}
