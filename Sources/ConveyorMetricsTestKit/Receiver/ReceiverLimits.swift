import NIOCore

extension RemoteWriteReceiver {
    /// What peers may make a receiver hold: connections, bytes, decoded objects and time.
    /// Whatever a peer sends, a receiver holds at most `maxBufferedBodyBytes` of bodies, plus
    /// for each request being decoded (at most one per thread of NIO's thread pool) its
    /// uncompressed bytes and `request.maxDecodedBytes`.
    public struct Limits: Sendable {
        /// Connections open at once; more are closed as soon as they are accepted (counted in
        /// ``RemoteWriteReceiver/refusedConnections``).
        public var maxConnections = 64
        /// One request's compressed body; a larger one is answered 413 (and not kept).
        public var maxBodyBytes = 32 << 20
        /// Bodies held at once over all connections; a request that would pass it is answered
        /// 503 with `Retry-After` (a sender retries it).
        public var maxBufferedBodyBytes = 128 << 20
        /// A request's head (request line and headers); larger is answered 431 and closed.
        public var maxHeaderBytes = 64 << 10
        /// From a request's first byte until its head has arrived (408 and close after).
        public var headerReadTimeout: TimeAmount = .seconds(10)
        /// From a request's first byte until its body has arrived (408 and close after).
        public var bodyReadTimeout: TimeAmount = .seconds(60)
        /// A keep-alive connection with no request is closed after this.
        public var idleTimeout: TimeAmount = .seconds(120)
        /// What one request may decode into (413 with the limit it broke).
        public var request = WriteRequestLimits()

        /// The defaults: 64 connections, 32 MiB a body, 128 MiB of bodies at once, 64 KiB
        /// heads, 10 s to send a head, 60 s for the whole request, 120 s idle, and
        /// ``WriteRequestLimits``' defaults.
        public init() {}
    }
}
