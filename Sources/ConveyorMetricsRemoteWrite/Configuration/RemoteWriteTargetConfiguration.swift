import ConveyorMetrics

/// One remote-write endpoint.
public struct RemoteWriteTargetConfiguration: Sendable {
    /// The endpoint, e.g. `http://127.0.0.1:9090/api/v1/write`.
    public var url: String
    /// The `remote_name` label of this target's self-metrics; defaults to the URL's host:port.
    public var name: String?
    /// How often a snapshot is taken and queued.
    public var pushInterval: Duration = .seconds(15)
    /// The timeout of one HTTP request.
    public var remoteTimeout: Duration = .seconds(30)
    /// Extra headers (e.g. `X-Scope-OrgID`); may not replace the protocol's own headers.
    public var headers: [String: String] = [:]
    /// HTTP basic authentication.
    public var basicAuth: BasicAuth?
    /// An `Authorization` header (`Bearer <token>` by default).
    public var authorization: Authorization?
    /// TLS settings for `https` URLs.
    public var tls: TLSSettings?
    /// An explicit proxy; without it no proxy is used, whatever the environment says.
    public var proxyURL: String?
    /// Queueing, batching and retry.
    public var queue = QueueSettings()
    /// The protocol: remote write 1.0 (the default, as Prometheus'), 2.0, or ``ProtobufMessage/auto``.
    public var protobufMessage: ProtobufMessage = .v1
    /// With ``ProtobufMessage/auto``, how long a target that fell back to 1.0 stays there
    /// before it tries 2.0 again (1 hour by default).
    public var protocolProbeInterval: Duration = .seconds(3600)
    /// Whether native histograms go out as such (Prometheus' `send_native_histograms`, off by
    /// default): histogram families recorded natively are sent as native histograms (with
    /// their classic buckets too when the family keeps them). Off, or once the receiver
    /// refused them (Prometheus without `--enable-feature=native-histograms` answers 500), a
    /// native family is sent as its classic buckets, `_sum` and `_count`.
    public var sendNativeHistograms = false
    /// Whether exemplars go out (Prometheus' `send_exemplars`, off by default): each new
    /// exemplar of a counter or histogram bucket is sent once, with the sample it belongs to,
    /// in remote write 1.0's `TimeSeries.exemplars`. Remote write 2.0 requests carry none.
    /// Prometheus stores them only with `--enable-feature=exemplar-storage`.
    public var sendExemplars = false

    /// A target with Prometheus' defaults: 15 s push interval, 30 s timeout.
    public init(url: String) {
        self.url = url
    }

    /// The name used in self-metrics and logs.
    public var resolvedName: String { name ?? RedactedURL(url).hostAndPath }

    /// The directory of this target's disk queue, if it has one.
    var storageDirectory: String? {
        guard let path = queue.storagePath else { return nil }
        let safe = String(
            decoding: resolvedName.utf8.map { byte -> UInt8 in
                let allowed =
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".")
                return allowed ? byte : UInt8(ascii: "_")
            }, as: UTF8.self)
        return (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/" + (safe.hasPrefix(".") ? "_" + safe : safe)
    }

}
