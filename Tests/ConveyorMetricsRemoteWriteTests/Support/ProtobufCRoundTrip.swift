import CRemoteWriteProto

/// A request as protobuf-c decodes it, and whether protobuf-c packs that back into the very
/// same bytes (the writers' oracle).
enum ProtobufCRoundTrip {
    /// Calls `body` with protobuf-c's decoding of the 1.0 request `bytes` and whether it
    /// re-packs identically; nil when protobuf-c refuses the bytes.
    static func v1<R>(_ bytes: [UInt8], _ body: (Prometheus__WriteRequest, _ identical: Bool) -> R) -> R? {
        let unpacked = bytes.withUnsafeBufferPointer {
            prometheus__write_request__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let request = unpacked else { return nil }
        defer { prometheus__write_request__free_unpacked(request, nil) }
        var repacked = [UInt8](repeating: 0, count: prometheus__write_request__get_packed_size(request))
        _ = repacked.withUnsafeMutableBufferPointer { prometheus__write_request__pack(request, $0.baseAddress) }
        return body(request.pointee, repacked == bytes)
    }

    /// The same for a 2.0 request.
    static func v2<R>(_ bytes: [UInt8], _ body: (Io__Prometheus__Write__V2__Request, _ identical: Bool) -> R) -> R? {
        let unpacked = bytes.withUnsafeBufferPointer {
            io__prometheus__write__v2__request__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let request = unpacked else { return nil }
        defer { io__prometheus__write__v2__request__free_unpacked(request, nil) }
        var repacked = [UInt8](repeating: 0, count: io__prometheus__write__v2__request__get_packed_size(request))
        _ = repacked.withUnsafeMutableBufferPointer {
            io__prometheus__write__v2__request__pack(request, $0.baseAddress)
        }
        return body(request.pointee, repacked == bytes)
    }
}
