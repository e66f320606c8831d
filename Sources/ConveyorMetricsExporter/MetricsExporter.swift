import ConveyorMetrics
import ConveyorMetricsServerSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Serves a registry on `/metrics` over HTTP/1.1 (SwiftNIO).
///
/// Prometheus text 0.0.4 by default, OpenMetrics 1.0.0 or protobuf (client_model's
/// delimited `MetricFamily` messages, which carry native histograms) when `Accept` asks for
/// them, gzip when `Accept-Encoding` allows it. Also answers `/` (a link page) and `/-/healthy`.
///
/// ```swift
/// let exporter = MetricsExporter(port: 9090)
/// try await exporter.start()
/// // Metrics available at http://localhost:9090/metrics
/// ```
///
/// As a ServiceLifecycle `Service`, `run()` starts it (if needed), serves until graceful
/// shutdown, then closes the listener.
public final class MetricsExporter: Service, Sendable {
    /// Where and how the exporter listens.
    public struct Configuration: Sendable {
        /// The address to bind; `0.0.0.0` for every IPv4 interface, `::` for IPv6.
        public var host: String = "0.0.0.0"
        /// The TCP port; 0 picks a free one (see ``MetricsExporter/boundPort``).
        public var port: Int = 9090
        /// The path that serves metrics.
        public var path: String = "/metrics"
        /// A request (headers and body) larger than this is answered 431 and closed.
        public var maxRequestBytes: Int = 64 * 1024
        /// A request must arrive in full within this time of its first byte (408 otherwise).
        public var requestDeadline: TimeAmount = .seconds(10)
        /// An idle keep-alive connection is closed after this time.
        public var idleTimeout: TimeAmount = .seconds(60)
        /// Connections beyond this many at once are closed as soon as they are accepted, so
        /// file descriptors and memory stay bounded whatever clients do.
        public var maxConnections: Int = 512
        /// HTTPS instead of HTTP when set; the files are read by ``MetricsExporter/start()``.
        public var tls: TLSSettings?
        /// Basic auth: user name → bcrypt hash of the password (`$2y$`, `$2b$` or `$2a$`, as
        /// `htpasswd -nBC 10 USER` prints). When not empty, every request, on every path,
        /// must carry the credentials of one of these users, or gets `401`. Empty (the
        /// default): no authentication.
        public var basicAuthUsers: [String: String] = [:]
        /// Headers added to every response, e.g. `Strict-Transport-Security` (the web
        /// configuration file's `http_server_config.headers`).
        public var responseHeaders: [String: String] = [:]

        /// Defaults: `0.0.0.0:9090/metrics`.
        public init(host: String = "0.0.0.0", port: Int = 9090, path: String = "/metrics") {
            self.host = host
            self.port = port
            self.path = path
        }
    }

    /// The exporter's settings.
    public let configuration: Configuration
    private let renderer: ScrapeRenderer
    /// Basic auth, when ``Configuration/basicAuthUsers`` is not empty (its failure counter is
    /// registered with the exporter's registry).
    let authenticator: BasicAuthenticator?
    private let group: any EventLoopGroup
    private let logger: Logger
    private let channel = Mutex<(any Channel)?>(nil)
    private let connections = Atomic<Int>.Shared(0)

    /// An exporter of `registry` (`MetricsRegistry.default` unless given) on `host:port`.
    public convenience init(
        port: Int = 9090, host: String = "0.0.0.0", path: String = "/metrics",
        registry: MetricsRegistry = .default, logger: Logger = Logger(label: "conveyor-metrics.exporter")
    ) {
        self.init(
            configuration: Configuration(host: host, port: port, path: path), registry: registry, logger: logger)
    }

    /// An exporter with full configuration; `eventLoopGroup` defaults to NIO's shared group.
    public init(
        configuration: Configuration, registry: MetricsRegistry = .default,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "conveyor-metrics.exporter")
    ) {
        self.configuration = configuration
        self.renderer = ScrapeRenderer(registry: registry)
        self.authenticator =
            configuration.basicAuthUsers.isEmpty
            ? nil : BasicAuthenticator(users: configuration.basicAuthUsers, registry: registry)
        self.group = eventLoopGroup
        self.logger = logger
    }

    /// The port actually bound (useful with port 0), or nil before `start()`.
    public var boundPort: Int? { channel.withLock { $0?.localAddress?.port } }

    /// Connections open right now.
    public var openConnections: Int { connections.value.load(ordering: .relaxed) }

    /// How many scrapes of the metrics path were answered.
    public var scrapeCount: UInt64 { renderer.scrapeCount }

    /// Binds and starts serving; returns once the socket listens. Calling it again is a no-op.
    ///
    /// With ``Configuration/tls`` set, the certificate, key and client CA files are read
    /// first (on NIO's thread pool); a file that cannot be read or used, or a basic-auth
    /// entry that is not a bcrypt hash, throws a ``ConfigurationError`` and nothing listens.
    public func start() async throws {
        if channel.withLock({ $0 != nil }) { return }
        let configuration = configuration
        let renderer = renderer
        let connections = connections
        let tls = try await Self.loadTLS(configuration)
        let authenticator = authenticator
        let extraHeaders = configuration.responseHeaders.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                let active = connections.value.wrappingAdd(1, ordering: .relaxed).newValue
                channel.closeFuture.whenComplete { _ in connections.value.wrappingSubtract(1, ordering: .relaxed) }
                guard active <= configuration.maxConnections else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(tls.makeHandler()) }
                    try sync.addHandler(
                        ConnectionGuardHandler(
                            limits: .init(
                                maxRequestBytes: configuration.maxRequestBytes,
                                requestDeadline: configuration.requestDeadline,
                                idleTimeout: configuration.idleTimeout)))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(HTTPResponseCompressor())
                    try sync.addHandler(
                        MetricsHTTPHandler(
                            renderer: renderer, metricsPath: configuration.path, authenticator: authenticator,
                            extraHeaders: extraHeaders))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let alreadyRunning = channel.withLock { current -> Bool in
            if current != nil { return true }
            current = bound
            return false
        }
        if alreadyRunning {
            try? await bound.close()
            return
        }
        logger.info(
            "serving metrics",
            metadata: [
                "address": "\(configuration.host):\(bound.localAddress?.port ?? configuration.port)",
                "path": "\(configuration.path)",
                "tls": "\(configuration.tls.map { "client auth \($0.clientAuth.rawValue)" } ?? "off")",
                "basic_auth_users": "\(configuration.basicAuthUsers.count)",
            ])
    }

    /// Checks the settings that ``start()`` would refuse and reads the TLS files, without
    /// binding. Blocking (file reads): call it off the event loops and the Swift pool.
    package static func validate(_ configuration: Configuration) throws(ConfigurationError) -> ServerTLS? {
        try BasicAuthenticator.validate(configuration.basicAuthUsers)
        try ResponseHeaders.validate(configuration.responseHeaders)
        return try configuration.tls.map { (settings) throws(ConfigurationError) in try ServerTLS.load(settings) }
    }

    /// ``validate(_:)`` on NIO's thread pool.
    private static func loadTLS(_ configuration: Configuration) async throws -> ServerTLS? {
        try await NIOThreadPool.singleton.runIfActive { try validate(configuration) }
    }

    /// Stops listening and closes the listener. Open connections finish their response.
    public func shutdown() async {
        let current = channel.withLock { current -> (any Channel)? in
            defer { current = nil }
            return current
        }
        try? await current?.close()
    }

    /// Starts (unless started), serves until graceful shutdown or cancellation, then stops.
    public func run() async throws {
        try await start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                let closed = channel.withLock { $0?.closeFuture }
                try? await closed?.get()
            } onCancel: {
                Task { await self.shutdown() }
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
    }
}
