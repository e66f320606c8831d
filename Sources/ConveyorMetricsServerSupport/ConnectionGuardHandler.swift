import NIOCore

/// Keeps a client from holding a connection forever or making it buffer without bound. Sits
/// in front of the HTTP decoder and counts raw bytes:
/// - a request (headers and body, and whatever the client pipelines behind it) may bring at
///   most `limits.maxRequestBytes` before a response reaches the socket, and its head at most
///   `limits.maxHeaderBytes`;
/// - from its first byte, the head must be parsed within `limits.headerDeadline` (when set)
///   and the request answered within `limits.requestDeadline`, or read in full within it when
///   the handler behind sends ``RequestReceived``;
/// - an idle keep-alive connection is closed after `limits.idleTimeout`.
///
/// The count and the deadline start again only when a response has reached the socket
/// (``ResponseWritten``), not when one is queued: a client that pipelines requests and never
/// reads its answers runs into the deadline, and its unanswered requests into the byte budget.
package final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer
    package typealias OutboundIn = IOData
    package typealias OutboundOut = IOData

    /// What one connection may do.
    package struct Limits: Sendable {
        /// Bytes between two responses.
        package var maxRequestBytes: Int
        /// The status line that refuses a request over `maxRequestBytes`.
        package var overBudgetStatus = "431 Request Header Fields Too Large"
        /// Bytes before a request's head is parsed (nil: only `maxRequestBytes`).
        package var maxHeaderBytes: Int?
        /// From a request's first byte until its head is parsed (nil: no separate deadline).
        package var headerDeadline: TimeAmount?
        /// From a request's first byte until it is answered (or read, see ``RequestReceived``).
        package var requestDeadline: TimeAmount
        /// An idle keep-alive connection is closed after this.
        package var idleTimeout: TimeAmount

        package init(maxRequestBytes: Int, requestDeadline: TimeAmount, idleTimeout: TimeAmount) {
            self.maxRequestBytes = maxRequestBytes
            self.requestDeadline = requestDeadline
            self.idleTimeout = idleTimeout
        }
    }

    private let limits: Limits
    private var bytesSinceResponse = 0
    /// Heads parsed, requests read in full, and responses written (only handlers that send
    /// ``HeadReceived`` and ``RequestReceived`` move the first two). NIO's pipelining handler
    /// passes a pipelined request on before the previous response has reached the socket, so
    /// a response written while a later head was already parsed does not start a new request.
    private var heads: UInt64 = 0
    private var reads: UInt64 = 0
    private var answers: UInt64 = 0
    /// A request whose head was parsed has not been answered yet.
    private var headReceived: Bool { heads > answers }
    private var deadline: Scheduled<Void>?
    private var headerTimer: Scheduled<Void>?
    private var idle: Scheduled<Void>?
    private var closing = false

    package init(limits: Limits) { self.limits = limits }

    package func channelActive(context: ChannelHandlerContext) {
        armIdle(context: context)
        context.fireChannelActive()
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armIdle(context: context) }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        if bytesSinceResponse == 0 && buffer.readableBytes > 0 && !headReceived { startRequest(context: context) }
        bytesSinceResponse += buffer.readableBytes
        // A head and the start of its body may share a read: refuse once the bytes before this
        // read were already over the head limit and still no head was parsed.
        if !headReceived, let maxHeaderBytes = limits.maxHeaderBytes,
            bytesSinceResponse - buffer.readableBytes > maxHeaderBytes
        {
            return reject(context: context, status: "431 Request Header Fields Too Large")
        }
        if bytesSinceResponse > limits.maxRequestBytes {
            return reject(context: context, status: limits.overBudgetStatus)
        }
        context.fireChannelRead(data)
    }

    package func triggerUserOutboundEvent(
        context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?
    ) {
        switch event {
        case is ResponseWritten:
            answers &+= 1
            bytesSinceResponse = 0
            cancel(&headerTimer)
            if heads > answers {
                // The next request's head is already here: it is in progress, not idle.
                if reads < heads { armDeadline(context: context) } else { cancel(&deadline) }
            } else {
                cancel(&deadline)
                armIdle(context: context)
            }
        case is AnswerWaiting:
            // Reads have stopped, so no new byte would start the deadline: start it here.
            if deadline == nil { armDeadline(context: context) }
        case is HeadReceived:
            // A pipelined request whose bytes were read earlier starts without a new byte.
            heads &+= 1
            cancel(&headerTimer)
            cancel(&idle)
        case is RequestReceived:
            reads &+= 1
            cancel(&headerTimer)
            cancel(&deadline)
        default:
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed()
    }

    private func startRequest(context: ChannelHandlerContext) {
        armDeadline(context: context)
        if let headerDeadline = limits.headerDeadline {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            headerTimer = context.eventLoop.scheduleTask(in: headerDeadline) {
                bound.value.0.reject(context: bound.value.1, status: "408 Request Timeout")
            }
        }
    }

    /// Past `requestDeadline`: 408 and close.
    private func armDeadline(context: ChannelHandlerContext) {
        cancel(&idle)
        cancel(&deadline)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: limits.requestDeadline) {
            bound.value.0.reject(context: bound.value.1, status: "408 Request Timeout")
        }
    }

    private func armIdle(context: ChannelHandlerContext) {
        cancel(&idle)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        idle = context.eventLoop.scheduleTask(in: limits.idleTimeout) {
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

    private func cancel(_ timer: inout Scheduled<Void>?) {
        timer?.cancel()
        timer = nil
    }

    private func cancelTimers() {
        cancel(&deadline)
        cancel(&headerTimer)
        cancel(&idle)
    }
}
