import ConveyorMetricsTestSupport
import NIOCore
import NIOPosix
import NIOSSL

/// An HTTPS client for tests: one request per connection (`Connection: close`), raw bytes
/// back. Trusts only `caFile`; presents `certificate` (cert and key files) when given.
struct TLSTestClient {
    let port: Int
    let caFile: String
    var certificate: (certificate: String, key: String)?
    var maximumVersion: TLSVersion?

    /// The parsed response; throws when the handshake or the connection fails.
    func get(_ path: String, headers: [(String, String)] = []) async throws -> RawHTTPClient.Response {
        var request = "GET \(path) HTTP/1.1\r\nHost: localhost:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        let raw = try await exchange(Array((request + "\r\n").utf8))
        guard let response = RawHTTPClient.parse(raw).first else {
            throw TestFailure("no HTTP response in \(raw.count) bytes")
        }
        return response
    }

    /// Sends `bytes` over TLS and returns what arrives until the server closes.
    func exchange(_ bytes: [UInt8]) async throws -> [UInt8] {
        let settings = self
        // Reading the PEM files blocks: NIO's thread pool, not the Swift pool.
        let context = try await NIOThreadPool.singleton.runIfActive { try settings.makeContext() }
        let group = MultiThreadedEventLoopGroup.singleton
        let received = group.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try sync.addHandler(Collector(promise: received))
                }
            }
            .connectTimeout(.seconds(5))
            .connect(host: "127.0.0.1", port: port).get()
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        return try await received.futureResult.get()
    }

    private func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        if let certificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate.certificate).map {
                .certificate($0)
            }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: certificate.key, format: .pem))
        }
        if let maximumVersion { configuration.maximumTLSVersion = maximumVersion }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Collects the decrypted bytes; succeeds at close, fails on a TLS or connection error.
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<[UInt8]>
        var bytes: [UInt8] = []
        var done = false

        init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A close after a complete response may surface as an unclean shutdown; keep the bytes.
            if case NIOSSLError.uncleanShutdown = error, !bytes.isEmpty { return }
            if !done { promise.fail(error) }
            done = true
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            if bytes.isEmpty {
                promise.fail(TestFailure("the connection closed without an answer"))
            } else {
                promise.succeed(bytes)
            }
        }
    }
}
