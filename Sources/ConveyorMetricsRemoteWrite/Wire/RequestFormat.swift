/// The protobuf message a request body holds: remote write 1.0's `prometheus.WriteRequest`
/// or 2.0's `io.prometheus.write.v2.Request`.
enum RequestFormat: Sendable, Equatable {
    case v1, v2

    /// `Content-Type`.
    var contentType: String { self == .v1 ? RemoteWriteProtocol.contentType : RemoteWriteProtocol.v2ContentType }
    /// `X-Prometheus-Remote-Write-Version`.
    var version: String { self == .v1 ? RemoteWriteProtocol.version : RemoteWriteProtocol.v2Version }
    /// The `protobuf_message` name (logs, the self-metric's label).
    var messageName: String { self == .v1 ? RemoteWriteProtocol.v1Message : RemoteWriteProtocol.v2Message }

    /// The format of a snappy-compressed body, from its first uncompressed byte (the tag of
    /// its first field: 1 or 3 in 1.0, 4 or 5 in 2.0), read without decompressing: a snappy
    /// block is its length as a varint, then elements, the first of which is a literal.
    /// Nil when the body is empty or not recognisable.
    static func detect(compressed body: some RandomAccessCollection<UInt8>) -> RequestFormat? {
        var index = body.startIndex
        var lengthBytes = 0
        while index != body.endIndex, lengthBytes < 5 {  // the uncompressed length (varint)
            let byte = body[index]
            index = body.index(after: index)
            lengthBytes += 1
            if byte & 0x80 == 0 { break }
        }
        guard index != body.endIndex else { return nil }
        let tag = body[index]
        guard tag & 0x03 == 0 else { return nil }  // a literal
        let extra = Int(tag >> 2) >= 60 ? Int(tag >> 2) - 59 : 0  // 1–4 length bytes follow
        guard body.distance(from: index, to: body.endIndex) > 1 + extra else { return nil }
        let first = body[body.index(index, offsetBy: 1 + extra)]
        switch first >> 3 {
        case 1, 3: return .v1
        case 4, 5: return .v2
        default: return nil
        }
    }
}

/// What a remote write 2.0 receiver says it wrote (`X-Prometheus-Remote-Write-*-Written`).
struct WrittenCounts: Sendable, Equatable {
    var samples: Int
    var histograms: Int
    var exemplars: Int
}
