import ConveyorMetrics
import ConveyorMetricsRemoteWrite
import ConveyorMetricsServerSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A remote-write receiver: accepts POSTs on `/api/v1/write`, decodes and checks them,
/// answers 204, or 400 with the reason (413 for a request over its ``Limits``, 415 for a
/// protocol it does not speak). It speaks remote write 1.0 and 2.0 by default; see
/// ``ProtocolSupport`` for the receivers it can play.
/// `conveyor-metrics receive`, the demo's embedded endpoint and the push-path tests (with
/// scripted faults) all use it.
///
/// Built to face the network: connections, bodies, heads, decoded size and time are bounded
/// by ``Limits``, and requests are decoded on NIO's thread pool, never on an event loop.
public final class RemoteWriteReceiver: Sendable {
    /// The spec checker every `.accept`ed request goes through.
    public let checker: RemoteWriteRequestChecker
    /// What peers may make it hold.
    public let limits: Limits
    /// The protocols it speaks.
    public var protocols: ProtocolSupport { checker.protocols }
    private let host: String
    private let port: Int
    private let keepRequests: Bool
    private let script: @Sendable (Int) -> ReceiverAction
    private let onRequest: @Sendable (ReceivedWriteRequest) -> Void
    private let channel = Mutex<(any Channel)?>(nil)
    private let stored = Mutex<[ReceivedWriteRequest]>([])
    private let requestCount = Atomic<Int>(0)
    private let connections = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let bufferedBodyBytes = Atomic<Int>(0)
    /// Decodes so far, and how many of them ran on an event loop (none should).
    package let decodes = Atomic<Int>(0)
    package let decodesOnEventLoop = Atomic<Int>(0)

    /// A receiver (not listening until ``start()``).
    ///
    /// - Parameters:
    ///   - host: the address to listen on; loopback by default.
    ///   - port: the port; 0 picks a free one (read it from ``boundPort`` or ``url``).
    ///   - keepRequests: store every decoded request for ``requests`` (tests); turn it off for
    ///     long runs and for anything facing the network, where it would grow without bound.
    ///   - limits: what peers may make it hold (connections, bytes, decoded size, time).
    ///   - protocols: the remote-write protocols it speaks: 1.0 and 2.0 (Prometheus 3), 1.0
    ///     only and unaware of 2.0 (Prometheus 2.42), or 1.0 refusing 2.0 with 415.
    ///   - script: the action for the request with the given 0-based index (metadata
    ///     requests count too; a connection closed by `.closeConnection` is not recorded).
    ///   - onRequest: called with every recorded request, on NIO's thread pool (never on an
    ///     event loop), where printing or formatting may block.
    public init(
        host: String = "127.0.0.1", port: Int = 0, keepRequests: Bool = true, limits: Limits = Limits(),
        protocols: ProtocolSupport = .v1AndV2,
        script: @escaping @Sendable (Int) -> ReceiverAction = { _ in .accept },
        onRequest: @escaping @Sendable (ReceivedWriteRequest) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.keepRequests = keepRequests
        self.limits = limits
        self.checker = RemoteWriteRequestChecker(limits: limits.request, protocols: protocols)
        self.script = script
        self.onRequest = onRequest
    }

    /// The port it listens on once started (useful with `port: 0`).
    public var boundPort: Int? { channel.withLock { $0?.localAddress?.port } }
    /// The URL to configure a remote-write target with.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort ?? port)/api/v1/write" }
    /// Every request so far, with what it was answered (with `keepRequests`).
    public var requests: [ReceivedWriteRequest] { stored.withLock { $0 } }
    /// Connections open now.
    public var openConnections: Int { connections.load(ordering: .relaxed) }
    /// Connections closed on arrival because ``Limits/maxConnections`` were open.
    public var refusedConnections: Int { refused.load(ordering: .relaxed) }
    /// Body bytes held now, over all connections.
    package var heldBodyBytes: Int { bufferedBodyBytes.load(ordering: .relaxed) }

    /// Every sample of every accepted request, in arrival order.
    public var acceptedSeries: [RemoteTimeSeries] { requests.compactMap(\.accepted).flatMap(\.timeSeries) }

    /// Binds and starts accepting connections.
    public func start() async throws {
        let guardLimits = {
            var guardLimits = ConnectionGuardHandler.Limits(
                maxRequestBytes: Int(
                    Int64(limits.maxHeaderBytes).saturatingAdding(Int64(limits.maxBodyBytes)).saturatingAdding(64 << 10)
                ),
                requestDeadline: limits.bodyReadTimeout, idleTimeout: limits.idleTimeout)
            guardLimits.overBudgetStatus = "413 Payload Too Large"
            guardLimits.maxHeaderBytes = limits.maxHeaderBytes
            guardLimits.headerDeadline = limits.headerReadTimeout
            return guardLimits
        }()
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                let open = connections.wrappingAdd(1, ordering: .relaxed).newValue
                channel.closeFuture.whenComplete { [self] _ in connections.wrappingSubtract(1, ordering: .relaxed) }
                guard open <= limits.maxConnections else {
                    refused.wrappingAdd(1, ordering: .relaxed)
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ConnectionGuardHandler(limits: guardLimits))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(ReceiverHandler(receiver: self))
                }
            }
            .bind(host: host, port: port).get()
        channel.withLock { $0 = bound }
    }

    /// Closes the listening socket.
    public func shutdown() async {
        let current = channel.withLock { current -> (any Channel)? in
            defer { current = nil }
            return current
        }
        try? await current?.close()
    }

    func nextAction() -> ReceiverAction {
        script(requestCount.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    func record(_ request: ReceivedWriteRequest) {
        if keepRequests { stored.withLock { $0.append(request) } }
        onRequest(request)
    }

    /// Takes `bytes` from the shared body budget; false (and nothing taken) when it would pass it.
    func reserveBody(_ bytes: Int) -> Bool {
        let total = bufferedBodyBytes.wrappingAdd(bytes, ordering: .relaxed).newValue
        if total > limits.maxBufferedBodyBytes {
            bufferedBodyBytes.wrappingSubtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseBody(_ bytes: Int) {
        bufferedBodyBytes.wrappingSubtract(bytes, ordering: .relaxed)
    }

    /// Runs `decode` on NIO's thread pool and delivers its result on `eventLoop`.
    func decodeOffLoop<Result: Sendable>(on eventLoop: any EventLoop, _ decode: @escaping @Sendable () -> Result)
        -> EventLoopFuture<Result>
    {
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { [self] in
            decodes.wrappingAdd(1, ordering: .relaxed)
            if MultiThreadedEventLoopGroup.currentEventLoop != nil {
                decodesOnEventLoop.wrappingAdd(1, ordering: .relaxed)
            }
            return decode()
        }
    }
}
