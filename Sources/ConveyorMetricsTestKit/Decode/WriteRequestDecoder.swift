import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// Decodes remote-write bodies (snappy block + protobuf-c) within ``WriteRequestLimits``,
/// and checks the spec's rules.
public enum WriteRequestDecoder {
    /// Decompresses and decodes `body` as `protocolVersion`'s message; refuses invalid
    /// snappy, bytes that are not that message (400) and requests over `limits` (413,
    /// measured before decoding).
    ///
    /// A remote write 2.0 body is also refused (400) when its refs do not fit its symbol table:
    /// `symbols[0]` not empty, a ref beyond the table, an odd number of `labels_refs`, a series
    /// with both or neither samples and histograms. The remaining rules are
    /// ``violation(in:)``'s.
    public static func decode(
        body: [UInt8], limits: WriteRequestLimits = WriteRequestLimits(),
        protocolVersion: DecodedWriteRequest.ProtocolVersion = .v1
    ) throws(WriteRequestError) -> DecodedWriteRequest {
        let protobuf: [UInt8]
        do {
            protobuf = try Snappy.decompress(body, limit: limits.maxDecompressedBytes)
        } catch .tooLarge(let length, let limit) {
            throw WriteRequestError(
                "request too large: \(length) bytes uncompressed, more than \(limit) (limit max_decompressed_bytes)",
                isTooLarge: true)
        } catch {
            throw WriteRequestError(error.description)
        }
        return try decodeProtobuf(protobuf, limits: limits, protocolVersion: protocolVersion)
    }

    /// Decodes uncompressed protobuf bytes within `limits`.
    public static func decodeProtobuf(
        _ bytes: [UInt8], limits: WriteRequestLimits = WriteRequestLimits(),
        protocolVersion: DecodedWriteRequest.ProtocolVersion = .v1
    ) throws(WriteRequestError) -> DecodedWriteRequest {
        _ = try WriteRequestScan.measure(bytes, limits: limits, protocolVersion: protocolVersion)
        let budget = DecodeAllocationBudget(limit: limits.maxDecodedBytes)
        guard let result = unpack(bytes, protocolVersion, budget: budget, maxLabelBytes: limits.maxLabelBytes) else {
            if budget.refused {
                throw WriteRequestError(
                    "request too large: decoding needs more than \(limits.maxDecodedBytes) bytes"
                        + " (limit max_decoded_bytes)", isTooLarge: true)
            }
            throw WriteRequestError("body is not a protobuf \(protocolVersion.messageName)")
        }
        return try result.get()
    }

    /// Decodes without the scan, counting protobuf-c's allocations (the fuzz target compares
    /// them with the scan's estimate). The request is nil when protobuf-c refuses the bytes
    /// or they do not convert.
    package static func unpackCounted(_ bytes: [UInt8], protocolVersion: DecodedWriteRequest.ProtocolVersion = .v1)
        -> (request: DecodedWriteRequest?, allocated: Int)
    {
        let budget = DecodeAllocationBudget(limit: .max)
        let request = try? unpack(bytes, protocolVersion, budget: budget, maxLabelBytes: .max)?.get()
        return (request, budget.allocated)
    }

    /// Nil when protobuf-c refuses the bytes (or the budget refused an allocation).
    private static func unpack(
        _ bytes: [UInt8], _ protocolVersion: DecodedWriteRequest.ProtocolVersion, budget: DecodeAllocationBudget,
        maxLabelBytes: Int
    ) -> Result<DecodedWriteRequest, WriteRequestError>? {
        budget.withAllocator { allocator in
            bytes.withUnsafeBufferPointer { buffer in
                switch protocolVersion {
                case .v1:
                    guard let request = prometheus__write_request__unpack(allocator, buffer.count, buffer.baseAddress)
                    else { return nil }
                    defer { prometheus__write_request__free_unpacked(request, allocator) }
                    return convert(request.pointee)
                case .v2:
                    guard
                        let request = io__prometheus__write__v2__request__unpack(
                            allocator, buffer.count, buffer.baseAddress)
                    else { return nil }
                    defer { io__prometheus__write__v2__request__free_unpacked(request, allocator) }
                    return Result { () throws(WriteRequestError) in
                        try convert(request.pointee, maxLabelBytes: maxLabelBytes)
                    }
                }
            }
        }
    }

    /// A NUL-terminated string protobuf-c decoded; nil when it is not valid UTF-8.
    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return "" }
        return String(validatingCString: pointer)
    }
}
