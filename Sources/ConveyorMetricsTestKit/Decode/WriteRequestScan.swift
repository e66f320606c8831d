/// Walks a remote-write 1.0 body's protobuf wire format without allocating, counts what it
/// would decode into, and stops at the first limit it breaks.
///
/// The walk follows what protobuf-c's `unpack` does for our schema (Proto/): every message
/// is one struct; it first scans its fields into scratch slabs (16 on the stack, then slabs
/// of 32, 64, … entries of at most 32 bytes), then allocates one array per repeated field,
/// one array for unknown fields plus a copy of each, and a NUL-terminated copy of each
/// string occurrence. ``WriteRequestSize/decodedBytes`` adds those up as an upper bound; the
/// fuzz target checks it against protobuf-c's real allocations.
///
/// Stricter than protobuf-c where the difference does not matter for a real sender: a
/// known field with the wrong wire type, field number 0, a tag beyond 32 bits, and the
/// group wire types are refused here (protobuf-c refuses most of them too, after allocating).
package struct WriteRequestScan {
    /// Bytes counted per allocation on top of its size (malloc's own bookkeeping).
    package static let allocationOverhead = 16
    /// The largest struct protobuf-c allocates for a message of this schema, rounded up.
    static let messageBytes = 128
    /// `sizeof(ScannedMember)` is at most 32 (protobuf-c asserts it).
    static let scannedMemberBytes = 32
    /// `sizeof(ProtobufCMessageUnknownField)`, rounded up.
    static let unknownFieldBytes = 32

    private let limits: WriteRequestLimits
    private var size = WriteRequestSize()

    private init(limits: WriteRequestLimits) { self.limits = limits }

    /// Measures `bytes` (uncompressed protobuf) against `limits`.
    ///
    /// - Throws: ``WriteRequestError`` that is too large (413) at the first limit broken, or
    ///   malformed (400) when the bytes are not a well-formed WriteRequest.
    package static func measure(_ bytes: [UInt8], limits: WriteRequestLimits) throws(WriteRequestError)
        -> WriteRequestSize
    {
        var scan = WriteRequestScan(limits: limits)
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WriteRequestError) in try scan.walk(.request, raw, from: 0, to: raw.count) }
        }
        try result.get()
        return scan.size
    }

    private mutating func walk(_ message: WireMessage, _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int)
        throws(WriteRequestError)
    {
        try charge(Self.messageBytes)
        var fields = 0
        var unknown = 0
        var repeated = (0, 0, 0)
        var position = start
        while position < end {
            let fieldStart = position
            let key = try Self.varint(bytes, &position, end, maxBytes: 5)
            guard key >> 3 != 0, key >> 3 <= UInt64(UInt32.max) else {
                throw Self.malformed("field number 0 or beyond 32 bits", at: fieldStart)
            }
            let payloadStart = position
            var length = 0
            switch key & 7 {
            case 0: _ = try Self.varint(bytes, &position, end, maxBytes: 10)
            case 1, 5:
                let width = key & 7 == 1 ? 8 : 4
                guard end - position >= width else { throw Self.malformed("truncated fixed field", at: fieldStart) }
                position += width
            case 2:
                let declared = try Self.varint(bytes, &position, end, maxBytes: 5)
                guard declared <= UInt64(Int32.max), Int(declared) <= end - position else {
                    throw Self.malformed("length beyond the message", at: fieldStart)
                }
                length = Int(declared)
                position += length
            default: throw Self.malformed("unsupported wire type \(key & 7)", at: fieldStart)
            }
            fields += 1
            guard let kind = message.field(key >> 3) else {
                // protobuf-c keeps an unknown field: a copy of its payload (with the length prefix).
                unknown += 1
                try charge(position - payloadStart)
                continue
            }
            guard kind.wireType == key & 7 else {
                throw Self.malformed("field \(key >> 3) of \(message) has wire type \(key & 7)", at: fieldStart)
            }
            switch kind {
            case .message(let child, let slot):
                switch slot {
                case 0: repeated.0 += 1
                case 1: repeated.1 += 1
                default: repeated.2 += 1
                }
                try count(child)
                try walk(child, bytes, from: position - length, to: position)
            case .string: try charge(length + 1)
            case .fixed64, .varint: break
            }
        }
        // Scratch slabs beyond the 16 members on protobuf-c's stack.
        var capacity = 16
        var slab = 0
        while fields > capacity {
            slab += 1
            try charge(Self.scannedMemberBytes << (slab + 4))
            capacity += 1 << (slab + 4)
        }
        for elements in [repeated.0, repeated.1, repeated.2] where elements > 0 {
            try charge(8 * elements)  // an array of pointers per repeated message field
        }
        if unknown > 0 { try charge(Self.unknownFieldBytes * unknown) }
    }

    private mutating func count(_ message: WireMessage) throws(WriteRequestError) {
        switch message {
        case .series:
            size.series += 1
            if size.series > limits.maxSeries { throw Self.tooLarge("series", limits.maxSeries, "max_series") }
        case .label:
            size.labels += 1
            if size.labels > limits.maxLabels { throw Self.tooLarge("labels", limits.maxLabels, "max_labels") }
        case .sample:
            size.samples += 1
            if size.samples > limits.maxSamples { throw Self.tooLarge("samples", limits.maxSamples, "max_samples") }
        case .exemplar:
            size.exemplars += 1
            if size.exemplars > limits.maxExemplars {
                throw Self.tooLarge("exemplars", limits.maxExemplars, "max_exemplars")
            }
        case .metadata:
            size.metadata += 1
            if size.metadata > limits.maxMetadata {
                throw Self.tooLarge("metadata entries", limits.maxMetadata, "max_metadata")
            }
        case .request: break
        }
    }

    private mutating func charge(_ bytes: Int) throws(WriteRequestError) {
        let (sum, overflow) = size.decodedBytes.addingReportingOverflow(bytes &+ Self.allocationOverhead)
        size.decodedBytes = overflow ? .max : sum
        if size.decodedBytes > limits.maxDecodedBytes {
            throw Self.tooLarge("bytes once decoded", limits.maxDecodedBytes, "max_decoded_bytes")
        }
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int, _ end: Int, maxBytes: Int)
        throws(WriteRequestError) -> UInt64
    {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end && position - start < maxBytes {
            let byte = bytes[position]
            position += 1
            if shift < 64 { value |= UInt64(byte & 0x7F) << shift }
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
        throw malformed("unterminated varint", at: start)
    }

    private static func malformed(_ reason: String, at offset: Int) -> WriteRequestError {
        WriteRequestError("body is not a protobuf prometheus.WriteRequest: \(reason) at byte \(offset)")
    }

    private static func tooLarge(_ what: String, _ limit: Int, _ key: String) -> WriteRequestError {
        WriteRequestError("request too large: more than \(limit) \(what) (limit \(key))", isTooLarge: true)
    }
}

/// The messages of remote write 1.0 (Proto/prometheus_remote_write.proto) and their fields.
enum WireMessage: CustomStringConvertible {
    case request, series, label, sample, exemplar, metadata

    enum Field {
        /// A repeated message field; `slot` tells the repeated fields of one message apart.
        case message(WireMessage, slot: Int)
        case string, fixed64, varint

        var wireType: UInt64 {
            switch self {
            case .message, .string: 2
            case .fixed64: 1
            case .varint: 0
            }
        }
    }

    func field(_ number: UInt64) -> Field? {
        switch (self, number) {
        case (.request, 1): .message(.series, slot: 0)
        case (.request, 3): .message(.metadata, slot: 1)
        case (.series, 1): .message(.label, slot: 0)
        case (.series, 2): .message(.sample, slot: 1)
        case (.series, 3): .message(.exemplar, slot: 2)
        case (.label, 1), (.label, 2): .string
        case (.sample, 1): .fixed64
        case (.sample, 2): .varint
        case (.exemplar, 1): .message(.label, slot: 0)
        case (.exemplar, 2): .fixed64
        case (.exemplar, 3): .varint
        case (.metadata, 1): .varint
        case (.metadata, 2), (.metadata, 4), (.metadata, 5): .string
        default: nil
        }
    }

    var description: String {
        switch self {
        case .request: "WriteRequest"
        case .series: "TimeSeries"
        case .label: "Label"
        case .sample: "Sample"
        case .exemplar: "Exemplar"
        case .metadata: "MetricMetadata"
        }
    }
}
