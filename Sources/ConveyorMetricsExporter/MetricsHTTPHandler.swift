import ConveyorMetrics
import NIOCore
import NIOHTTP1

/// Answers one connection's requests: GET/HEAD on the metrics path, `/`, `/-/healthy`;
/// 404 for other paths and 405 for other methods. Keep-alive and pipelining are handled
/// by NIO's server pipeline in front of it.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let renderer: ScrapeRenderer
    private let metricsPath: String
    private var request: HTTPRequestHead?

    init(renderer: ScrapeRenderer, metricsPath: String) {
        self.renderer = renderer
        self.metricsPath = metricsPath
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
            respond(to: head, context: context)
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
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
