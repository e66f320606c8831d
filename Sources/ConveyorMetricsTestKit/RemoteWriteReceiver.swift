import ConveyorMetrics
import ConveyorMetricsRemoteWrite
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A remote-write receiver: accepts POSTs on `/api/v1/write`, decodes and checks them,
/// answers 204, or 400 with the reason. `conveyor-metrics receive`, the demo's embedded
/// endpoint and the push-path tests (with scripted faults) all use it.
public final class RemoteWriteReceiver: Sendable {
    /// The spec checker every `.accept`ed request goes through.
    public let checker = RemoteWriteRequestChecker()
    private let host: String
    private let port: Int
    private let keepRequests: Bool
    private let script: @Sendable (Int) -> ReceiverAction
    private let onRequest: @Sendable (ReceivedWriteRequest) -> Void
    private let channel = Mutex<(any Channel)?>(nil)
    private let stored = Mutex<[ReceivedWriteRequest]>([])
    private let requestCount = Atomic<Int>(0)
    static let maxBodyBytes = 32 << 20

    /// A receiver (not listening until ``start()``).
    ///
    /// - Parameters:
    ///   - host: the address to listen on; loopback by default.
    ///   - port: the port; 0 picks a free one (read it from ``boundPort`` or ``url``).
    ///   - keepRequests: store every request for ``requests`` (tests); off for long runs.
    ///   - script: the action for the request with the given 0-based index (metadata
    ///     requests count too; a connection closed by `.closeConnection` is not recorded).
    ///   - onRequest: called with every recorded request, on an event loop: keep it short.
    public init(
        host: String = "127.0.0.1", port: Int = 0, keepRequests: Bool = true,
        script: @escaping @Sendable (Int) -> ReceiverAction = { _ in .accept },
        onRequest: @escaping @Sendable (ReceivedWriteRequest) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.keepRequests = keepRequests
        self.script = script
        self.onRequest = onRequest
    }

    /// The port it listens on once started (useful with `port: 0`).
    public var boundPort: Int? { channel.withLock { $0?.localAddress?.port } }
    /// The URL to configure a remote-write target with.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(boundPort ?? port)/api/v1/write" }
    /// Every request so far, with what it was answered (with `keepRequests`).
    public var requests: [ReceivedWriteRequest] { stored.withLock { $0 } }

    /// Every sample of every accepted request, in arrival order.
    public var acceptedSeries: [RemoteTimeSeries] { requests.compactMap(\.accepted).flatMap(\.timeSeries) }

    /// Binds and starts accepting connections.
    public func start() async throws {
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(receiver: self))
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

    fileprivate func nextAction() -> ReceiverAction {
        script(requestCount.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    fileprivate func record(_ request: ReceivedWriteRequest) {
        if keepRequests { stored.withLock { $0.append(request) } }
        onRequest(request)
    }
}

/// One connection of the receiver.
private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: RemoteWriteReceiver
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(receiver: RemoteWriteReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.removeAll(keepingCapacity: true)
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > RemoteWriteReceiver.maxBodyBytes {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            handle(requestHead, context: context)
        }
    }

    private func handle(_ requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = requestHead.uri.split(separator: "?").first.map(String.init) ?? requestHead.uri
        guard path == "/api/v1/write" else {
            return respond(404, "not found: POST remote-write requests to /api/v1/write\n", requestHead, context)
        }
        guard requestHead.method == .POST else {
            return respond(405, "method not allowed: use POST\n", requestHead, context)
        }
        guard !tooLarge else { return respond(413, "body larger than 32 MiB\n", requestHead, context) }
        perform(receiver.nextAction(), requestHead, body: body, context: context)
    }

    private func perform(
        _ action: ReceiverAction, _ requestHead: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext
    ) {
        let headers = requestHead.headers.map { ($0.name, $0.value) }
        switch action {
        case .accept:
            let result = receiver.checker.check(headers: headers, body: body)
            let status: Int
            switch result {
            case .success: status = 204
            case .failure: status = 400
            }
            receiver.record(
                ReceivedWriteRequest(
                    headers: headers, bodyBytes: body.count, decoded: result, status: status,
                    receivedAtMilliseconds: WallClock.unixMilliseconds()))
            switch result {
            case .success: respond(204, "", requestHead, context)
            case .failure(let error): respond(400, error.description + "\n", requestHead, context)
            }
        case .respond(let status, let extra, let text):
            receiver.record(
                ReceivedWriteRequest(
                    headers: headers, bodyBytes: body.count,
                    decoded: Result { () throws(WriteRequestError) in try WriteRequestDecoder.decode(body: body) },
                    status: status, receivedAtMilliseconds: WallClock.unixMilliseconds()))
            respond(status, text, requestHead, context, extra: extra)
        case .delay(let duration, let next):
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
                bound.value.0.perform(next, requestHead, body: body, context: bound.value.1)
            }
        case .closeConnection:
            context.close(promise: nil)
        }
    }

    private func respond(
        _ status: Int, _ text: String, _ requestHead: HTTPRequestHead, _ context: ChannelHandlerContext,
        extra: [(String, String)] = []
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders([("Content-Length", "\(text.utf8.count)"), ("Content-Type", "text/plain")])
        if !requestHead.isKeepAlive { headers.add(name: "Connection", value: "close") }
        headers.add(contentsOf: extra)
        context.write(
            wrapOutboundOut(
                .head(
                    HTTPResponseHead(version: requestHead.version, status: .init(statusCode: status), headers: headers))
            ),
            promise: nil)
        if !text.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }
        let channel = context.channel
        let close = !requestHead.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if close { channel.close(promise: nil) }
        }
    }
}
