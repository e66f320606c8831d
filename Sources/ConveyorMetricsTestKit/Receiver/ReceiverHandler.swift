import ConveyorMetrics
import ConveyorMetricsRemoteWrite
import ConveyorMetricsServerSupport
import NIOCore
import NIOHTTP1

/// One connection of a ``RemoteWriteReceiver``. NIO's server pipeline in front of it passes
/// one request at a time (it holds pipelined ones until the answer is written); the
/// ``ConnectionGuardHandler`` in front of that bounds head size, request bytes and time.
///
/// A body is kept only within ``RemoteWriteReceiver/Limits/maxBodyBytes`` and the receiver's
/// shared body budget; it is decoded on NIO's thread pool, and its share of the budget is
/// returned when the answer is written (or the connection closed while not decoding). While
/// the socket does not take writes (a client that does not read its answers), reads stop.
final class ReceiverHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: RemoteWriteReceiver
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Bytes of the shared budget this connection holds.
    private var reserved = 0
    private var refusal: Refusal?
    /// A request is being decoded or delayed: its bytes stay reserved until it is answered.
    private var busy = false
    private var readHeld = false

    /// What a request is answered, worked out off the event loop.
    private struct Answer: Sendable {
        let status: Int
        let text: String
        let headers: [(String, String)]
    }

    private enum Refusal {
        case tooLarge, overBudget, notWrite
    }

    private static func path(_ head: HTTPRequestHead) -> String {
        head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    }

    init(receiver: RemoteWriteReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            context.triggerUserOutboundEvent(HeadReceived(), promise: nil)
            head = requestHead
            body = []
            refusal = nil
            let declared = requestHead.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            if declared > receiver.limits.maxBodyBytes { refusal = .tooLarge }
            // A request answered 404 or 405 keeps none of its body.
            if Self.path(requestHead) != "/api/v1/write" || requestHead.method != .POST { refusal = .notWrite }
        case .body(var buffer):
            guard refusal == nil else { return }
            let count = buffer.readableBytes
            if body.count + count > receiver.limits.maxBodyBytes {
                refuse(.tooLarge)
            } else if !receiver.reserveBody(count) {
                refuse(.overBudget)
            } else if let bytes = buffer.readBytes(length: count) {
                reserved += count
                body.append(contentsOf: bytes)
            }
        case .end:
            context.triggerUserOutboundEvent(RequestReceived(), promise: nil)
            guard let requestHead = head else { return }
            head = nil
            handle(requestHead, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            if !readHeld { context.triggerUserOutboundEvent(AnswerWaiting(), promise: nil) }
            readHeld = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !busy { release() }
        context.fireChannelInactive()
    }

    private func refuse(_ reason: Refusal) {
        refusal = reason
        body = []
        release()
    }

    private func release() {
        receiver.releaseBody(reserved)
        reserved = 0
    }

    private func handle(_ requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        guard Self.path(requestHead) == "/api/v1/write" else {
            return respond(404, "not found: POST remote-write requests to /api/v1/write\n", requestHead, context)
        }
        guard requestHead.method == .POST else {
            return respond(405, "method not allowed: use POST\n", requestHead, context)
        }
        switch refusal {
        case .tooLarge:
            return respond(413, "body larger than \(receiver.limits.maxBodyBytes) bytes\n", requestHead, context)
        case .overBudget:
            return respond(
                503, "receiver busy: too many bodies held at once, retry later\n", requestHead, context,
                extra: [("Retry-After", "1")])
        case .notWrite, nil: break
        }
        let requestBody = body
        body = []
        busy = true
        perform(receiver.nextAction(), requestHead, body: requestBody, context: context)
    }

    private func perform(
        _ action: ReceiverAction, _ requestHead: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext
    ) {
        let headers = requestHead.headers.map { ($0.name, $0.value) }
        let announced = try? RemoteWriteContentType.protocolVersion(of: requestHead.headers.first(name: "content-type"))
            .get()
        let protocols = receiver.protocols
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        switch action {
        case .accept:
            let receiver = receiver
            // Checked, recorded and handed to `onRequest` on the thread pool; only the answer
            // is written on the event loop.
            receiver.decodeOffLoop(on: context.eventLoop) { () -> Answer in
                let result = receiver.checker.check(headers: headers, body: body)
                let status: Int
                let text: String
                switch result {
                case .success:
                    status = 204
                    text = ""
                case .failure(let error):
                    status = error.status
                    text = error.description + "\n"
                }
                let written = protocols.written(announced: announced, status: status, decoded: try? result.get())
                receiver.record(
                    ReceivedWriteRequest(
                        headers: headers, bodyBytes: body.count, protocolVersion: announced, decoded: result,
                        status: status, written: written, receivedAtMilliseconds: WallClock.unixMilliseconds()))
                return Answer(status: status, text: text, headers: written?.headers ?? [])
            }.whenComplete { outcome in
                let (handler, context) = bound.value
                guard case .success(let answer) = outcome else {
                    return handler.finish(503, "receiver stopping\n", requestHead, context)
                }
                handler.finish(answer.status, answer.text, requestHead, context, extra: answer.headers)
            }
        case .respond(let status, let extra, let text):
            let receiver = receiver
            let limits = receiver.limits.request
            let version = protocols.decodingVersion(announced: announced)
            receiver.decodeOffLoop(on: context.eventLoop) { () -> Answer in
                let result = Result { () throws(WriteRequestError) in
                    try WriteRequestDecoder.decode(body: body, limits: limits, protocolVersion: version)
                }
                // A scripted answer to a 2.0 request reports counts as the receiver would, unless
                // the script sets them itself.
                let scripted = Set(extra.map { $0.0.lowercased() })
                let written = protocols.written(announced: announced, status: status, decoded: try? result.get())
                    .flatMap { counts in
                        counts.headers.contains { scripted.contains($0.0.lowercased()) } ? nil : counts
                    }
                receiver.record(
                    ReceivedWriteRequest(
                        headers: headers, bodyBytes: body.count, protocolVersion: announced, decoded: result,
                        status: status, written: written, receivedAtMilliseconds: WallClock.unixMilliseconds()))
                return Answer(status: status, text: text, headers: (written?.headers ?? []) + extra)
            }.whenComplete { outcome in
                let (handler, context) = bound.value
                guard case .success(let answer) = outcome else {
                    return handler.finish(503, "receiver stopping\n", requestHead, context)
                }
                handler.finish(answer.status, answer.text, requestHead, context, extra: answer.headers)
            }
        case .delay(let duration, let next):
            context.eventLoop.scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
                bound.value.0.perform(next, requestHead, body: body, context: bound.value.1)
            }
        case .closeConnection:
            busy = false
            release()
            context.close(promise: nil)
        }
    }

    /// Answers the request that was being handled and returns its bytes to the budget.
    private func finish(
        _ status: Int, _ text: String, _ requestHead: HTTPRequestHead, _ context: ChannelHandlerContext,
        extra: [(String, String)] = []
    ) {
        busy = false
        release()
        respond(status, text, requestHead, context, extra: extra)
    }

    private func respond(
        _ status: Int, _ text: String, _ requestHead: HTTPRequestHead, _ context: ChannelHandlerContext,
        extra: [(String, String)] = []
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders([("Content-Length", "\(text.utf8.count)"), ("Content-Type", "text/plain")])
        let close = !requestHead.isKeepAlive
        if close { headers.add(name: "Connection", value: "close") }
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
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { result in
            if close {
                channel.close(promise: nil)
            } else if case .success = result {
                channel.triggerUserOutboundEvent(ResponseWritten(), promise: nil)
            }
        }
    }
}
