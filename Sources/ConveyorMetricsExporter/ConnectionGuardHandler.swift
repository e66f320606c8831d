import ConveyorMetrics
import NIOCore

/// Keeps a client from holding a scrape connection forever: a request must arrive in full
/// (at most `maxRequestBytes`) and be answered within `requestDeadline` of its first byte,
/// and an idle keep-alive connection is closed after `idleTimeout`. Sits in front of the
/// HTTP decoder and counts raw bytes. The count and the deadline start again only when a
/// response has reached the socket (``ResponseWritten``), not when one is queued: a client
/// that pipelines requests and never reads its answers runs into the deadline, and its
/// unanswered requests into the byte budget.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let maxRequestBytes: Int
    private let requestDeadline: TimeAmount
    private let idleTimeout: TimeAmount
    private var bytesSinceResponse = 0
    private var deadline: Scheduled<Void>?
    private var idle: Scheduled<Void>?
    private var closing = false

    init(maxRequestBytes: Int, requestDeadline: TimeAmount, idleTimeout: TimeAmount) {
        self.maxRequestBytes = maxRequestBytes
        self.requestDeadline = requestDeadline
        self.idleTimeout = idleTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdle(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armIdle(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        if bytesSinceResponse == 0 && buffer.readableBytes > 0 { armDeadline(context: context) }
        bytesSinceResponse += buffer.readableBytes
        if bytesSinceResponse > maxRequestBytes {
            reject(context: context, status: "431 Request Header Fields Too Large")
            return
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        switch event {
        case is ResponseWritten:
            bytesSinceResponse = 0
            deadline?.cancel()
            deadline = nil
            armIdle(context: context)
        case is AnswerWaiting:
            // Reads have stopped, so no new byte would start the deadline: start it here.
            if deadline == nil { armDeadline(context: context) }
        default:
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed()
    }

    /// From the first byte of a request (or from an answer the client does not read) until a
    /// response reaches the socket: past `requestDeadline`, 408 and close.
    private func armDeadline(context: ChannelHandlerContext) {
        idle?.cancel()
        idle = nil
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: requestDeadline) {
            bound.value.0.reject(context: bound.value.1, status: "408 Request Timeout")
        }
    }

    private func armIdle(context: ChannelHandlerContext) {
        idle?.cancel()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        idle = context.eventLoop.scheduleTask(in: idleTimeout) {
            guard bound.value.bytesSinceResponse == 0 else { return }
            channel.close(promise: nil)
        }
    }

    /// Answers with a bare status line (below the HTTP encoder) and closes at once: a client
    /// that does not read gets no grace, and what it has not read is dropped.
    private func reject(context: ChannelHandlerContext, status: String) {
        guard !closing else { return }
        closing = true
        cancelTimers()
        var buffer = context.channel.allocator.buffer(capacity: 96)
        buffer.writeString("HTTP/1.1 \(status)\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        context.close(promise: nil)
    }

    private func cancelTimers() {
        deadline?.cancel()
        deadline = nil
        idle?.cancel()
        idle = nil
    }
}
