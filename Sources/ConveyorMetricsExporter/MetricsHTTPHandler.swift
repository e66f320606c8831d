import ConveyorMetrics
import ConveyorMetricsServerSupport
import NIOCore
import NIOHTTP1

/// Answers one connection's requests: GET/HEAD on the metrics path, `/`, `/-/healthy`;
/// 404 for other paths and 405 for other methods. Keep-alive and pipelining are handled
/// by NIO's server pipeline in front of it.
///
/// Backpressure: a request is answered only while the socket accepts writes. While it does
/// not (a client that pipelines requests and never reads), the one request received is held
/// and no more bytes are read, so at most one response waits beyond what the socket took.
/// When a response has reached the socket, ``ResponseWritten`` goes to the connection guard.
///
/// Basic auth (when configured) comes first, for every path: a request whose credentials
/// need bcrypt waits for the check (run off the event loop by ``BasicAuthenticator``) and
/// no further bytes are read meanwhile, exactly as while the socket is not writable.
final class MetricsHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let renderer: ScrapeRenderer
    private let metricsPath: String
    private let authenticator: BasicAuthenticator?
    /// Added to every response (the web configuration's `http_server_config.headers`).
    private let extraHeaders: [(String, String)]
    private var request: HTTPRequestHead?
    /// Complete requests that wait until the socket is writable again (NIO's pipelining
    /// handler passes one at a time, so this holds one; more closes the connection).
    private var waiting: [HTTPRequestHead] = []
    private static let maxWaiting = 16
    /// A read the channel asked for while requests were held back.
    private var readHeld = false
    /// A request's credentials are being checked; nothing else is answered meanwhile.
    private var authorizing = false
    private var removed = false

    init(
        renderer: ScrapeRenderer, metricsPath: String, authenticator: BasicAuthenticator? = nil,
        extraHeaders: [(String, String)] = []
    ) {
        self.renderer = renderer
        self.metricsPath = metricsPath
        self.authenticator = authenticator
        self.extraHeaders = extraHeaders
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // bodies are not used; the guard handler bounds their size
        case .end:
            guard let head = request else { return }
            request = nil
            if context.channel.isWritable && waiting.isEmpty && !authorizing {
                authorize(head, context: context)
            } else if waiting.count < Self.maxWaiting {
                waiting.append(head)
                // The guard closes the connection when this waits past its request deadline.
                context.triggerUserOutboundEvent(AnswerWaiting(), promise: nil)
            } else {
                context.close(promise: nil)
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if !waiting.isEmpty || !context.channel.isWritable || authorizing {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { answerWaiting(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Answers held requests while the socket takes writes and no check is running, then
    /// reads again if a read was held back.
    private func answerWaiting(context: ChannelHandlerContext) {
        while context.channel.isWritable && !waiting.isEmpty && !authorizing {
            authorize(waiting.removeFirst(), context: context)
        }
        if readHeld && waiting.isEmpty && context.channel.isWritable && !authorizing {
            readHeld = false
            context.read()
        }
    }

    /// Answers `head` if its credentials pass (or no basic auth is configured), 401 or 503
    /// if not. A check that needs bcrypt completes later on this event loop.
    private func authorize(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let authenticator else { return respond(to: head, context: context) }
        switch authenticator.check(head.headers, on: context.eventLoop) {
        case .decided(let outcome):
            answer(head, outcome: outcome, context: context)
        case .pending(let future):
            authorizing = true
            future.assumeIsolated().whenSuccess { outcome in
                self.authorizing = false
                guard !self.removed, context.channel.isActive else { return }
                self.answer(head, outcome: outcome, context: context)
                self.answerWaiting(context: context)
            }
        }
    }

    private func answer(_ head: HTTPRequestHead, outcome: BasicAuthenticator.Outcome, context: ChannelHandlerContext) {
        switch outcome {
        case .allowed:
            respond(to: head, context: context)
        case .denied(.overloaded):
            send(
                .serviceUnavailable, body: "too many authentication checks in progress\n",
                extra: [("Retry-After", "1")],
                head: head, context: context)
        case .denied:
            send(
                .unauthorized, body: "unauthorized\n",
                extra: [("WWW-Authenticate", "Basic realm=\"conveyor-metrics\", charset=\"UTF-8\"")], head: head,
                context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let isHead = head.method == .HEAD
        guard head.method == .GET || isHead else {
            let known = path == metricsPath || path == "/" || path == "/-/healthy"
            if known {
                return send(
                    .methodNotAllowed, body: "method not allowed\n", extra: [("Allow", "GET, HEAD")],
                    head: head, context: context)
            }
            return send(.notFound, body: "not found\n", head: head, context: context)
        }
        switch path {
        case metricsPath:
            let format = ExpositionFormat.negotiate(accept: head.headers.first(name: "accept"))
            let body = renderer.render(format: format)
            send(.ok, body: body, contentType: format.contentType, head: head, context: context)
        case "/":
            let page = """
                <html><head><title>conveyor-metrics</title></head><body>\
                <h1>conveyor-metrics</h1><p><a href="\(metricsPath)">Metrics</a></p></body></html>\n
                """
            send(.ok, body: page, contentType: "text/html; charset=utf-8", head: head, context: context)
        case "/-/healthy":
            send(.ok, body: "OK\n", head: head, context: context)
        default:
            send(.notFound, body: "not found\n", head: head, context: context)
        }
    }

    private func send(
        _ status: HTTPResponseStatus, body: String, contentType: String = "text/plain; charset=utf-8",
        extra: [(String, String)] = [], head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        send(status, body: buffer, contentType: contentType, extra: extra, head: head, context: context)
    }

    private func send(
        _ status: HTTPResponseStatus, body: ByteBuffer, contentType: String, extra: [(String, String)] = [],
        head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        let keepAlive = head.isKeepAlive
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(body.readableBytes)")])
        headers.add(contentsOf: extra)
        headers.add(contentsOf: extraHeaders)
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        let channel = context.channel
        done.futureResult.whenComplete { result in
            if !keepAlive {
                channel.close(promise: nil)
            } else if case .success = result {
                // The response reached the socket: the next request gets a fresh budget.
                channel.triggerUserOutboundEvent(ResponseWritten(), promise: nil)
            }
        }
    }
}
