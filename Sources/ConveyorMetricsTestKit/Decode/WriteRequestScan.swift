import ConveyorMetricsRemoteWrite

/// Walks a remote-write body's protobuf wire format (a 1.0 `prometheus.WriteRequest` or a
/// 2.0 `io.prometheus.write.v2.Request`) without allocating, counts what it would decode
/// into, and stops at the first limit it breaks.
///
/// The walk follows what protobuf-c 1.4's `unpack` does for our schema (Proto/): every
/// message is one struct (its descriptor's `sizeof_message`); it first scans its fields into
/// scratch slabs (16 on the stack, then slabs of 32, 64, … entries of at most 32 bytes), then
/// allocates one array per repeated field, one array for unknown fields plus a copy of each,
/// and a NUL-terminated copy of each string occurrence. A repeated scalar counts one element
/// per unpacked field and, packed, one per varint (4 bytes each for `uint32`, 8 for `sint64`)
/// or 8 bytes (`double`). A singular message field given twice (`TimeSeries.metadata`) is
/// unpacked twice; protobuf-c merges the first into the second, which allocates only to
/// concatenate repeated fields (`Metadata` has none), and frees the first.
/// ``WriteRequestSize/decodedBytes`` adds those up as an upper bound; the tests and the fuzz
/// target check it against protobuf-c's real allocations.
///
/// Stricter than protobuf-c where the difference does not matter for a real sender: a
/// known field with the wrong wire type, field number 0, a tag beyond 32 bits, a packed
/// varint over 10 bytes or unterminated, and the group wire types are refused here
/// (protobuf-c refuses most of them too, after allocating).
package struct WriteRequestScan {
    /// Bytes counted per allocation on top of its size (malloc's own bookkeeping).
    package static let allocationOverhead = 16
    /// `sizeof(ScannedMember)` is at most 32 (protobuf-c asserts it).
    static let scannedMemberBytes = 32
    /// `sizeof(ProtobufCMessageUnknownField)`, rounded up.
    static let unknownFieldBytes = 32
    /// An array element that points to a struct or a string.
    static let pointerBytes = 8

    private let limits: WriteRequestLimits
    private let messageName: String
    private var size = WriteRequestSize()

    private init(limits: WriteRequestLimits, messageName: String) {
        self.limits = limits
        self.messageName = messageName
    }

    /// Measures `bytes` (uncompressed protobuf of `protocolVersion`'s message) against `limits`.
    ///
    /// - Throws: ``WriteRequestError`` that is too large (413) at the first limit broken, or
    ///   malformed (400) when the bytes are not a well-formed message.
    package static func measure(
        _ bytes: [UInt8], limits: WriteRequestLimits, protocolVersion: DecodedWriteRequest.ProtocolVersion = .v1
    ) throws(WriteRequestError) -> WriteRequestSize {
        var scan = WriteRequestScan(limits: limits, messageName: protocolVersion.messageName)
        let root: WireMessage = protocolVersion == .v1 ? .request : .v2Request
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WriteRequestError) in try scan.walk(root, raw, from: 0, to: raw.count) }
        }
        try result.get()
        return scan.size
    }

    private mutating func walk(_ message: WireMessage, _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int)
        throws(WriteRequestError)
    {
        try charge(message.structBytes)
        var fields = 0
        var unknown = 0
        var arrays = RepeatedFieldArrays()
        var labelRefs = 0
        var position = start
        while position < end {
            let fieldStart = position
            let key = try varint(bytes, &position, end, maxBytes: 5)
            guard key >> 3 != 0, key >> 3 <= UInt64(UInt32.max) else {
                throw malformed("field number 0 or beyond 32 bits", at: fieldStart)
            }
            let wireType = key & 7
            let payloadStart = position
            var length = 0
            switch wireType {
            case 0: _ = try varint(bytes, &position, end, maxBytes: 10)
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard end - position >= width else { throw malformed("truncated fixed field", at: fieldStart) }
                position += width
            case 2:
                let declared = try varint(bytes, &position, end, maxBytes: 5)
                guard declared <= UInt64(Int32.max), Int(declared) <= end - position else {
                    throw malformed("length beyond the message", at: fieldStart)
                }
                length = Int(declared)
                position += length
            default: throw malformed("unsupported wire type \(wireType)", at: fieldStart)
            }
            fields += 1
            guard let kind = message.field(key >> 3) else {
                // protobuf-c keeps an unknown field: a copy of its payload (with the length prefix).
                unknown += 1
                try charge(position - payloadStart)
                continue
            }
            guard kind.accepts(wireType: wireType) else {
                throw malformed("field \(key >> 3) of \(message) has wire type \(wireType)", at: fieldStart)
            }
            let payload = (position - length)..<position
            switch kind {
            case .messages(let child, let slot):
                arrays.add(1, slot: slot, elementBytes: Self.pointerBytes)
                try count(child)
                try walk(child, bytes, from: payload.lowerBound, to: payload.upperBound)
            case .message(let child):
                try count(child)
                try walk(child, bytes, from: payload.lowerBound, to: payload.upperBound)
            case .strings(let slot):
                arrays.add(1, slot: slot, elementBytes: Self.pointerBytes)
                try countSymbol()
                try charge(length + 1)
            case .string: try charge(length + 1)
            case .labelRefs(let slot):
                let elements = wireType == 2 ? try packedVarints(bytes, payload, at: fieldStart) : 1
                arrays.add(elements, slot: slot, elementBytes: 4)
                try countLabelRefs(elements, in: &labelRefs)
            case .varints(let slot, let elementBytes):
                let elements = wireType == 2 ? try packedVarints(bytes, payload, at: fieldStart) : 1
                arrays.add(elements, slot: slot, elementBytes: elementBytes)
            case .fixed64s(let slot):
                guard wireType != 2 || length % 8 == 0 else {
                    throw malformed("packed doubles of \(length) bytes", at: fieldStart)
                }
                arrays.add(wireType == 2 ? length / 8 : 1, slot: slot, elementBytes: 8)
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
        for slot in 0..<WireMessage.maxRepeatedFields where arrays.bytes(slot) > 0 {
            try charge(arrays.bytes(slot))
        }
        if unknown > 0 { try charge(Self.unknownFieldBytes * unknown) }
    }

    private mutating func count(_ message: WireMessage) throws(WriteRequestError) {
        switch message {
        case .series, .v2Series:
            size.series += 1
            if size.series > limits.maxSeries { throw Self.tooLarge("series", limits.maxSeries, "max_series") }
        case .label:
            size.labels += 1
            if size.labels > limits.maxLabels { throw Self.tooLarge("labels", limits.maxLabels, "max_labels") }
        case .sample, .v2Sample:
            size.samples += 1
            try checkSamples()
        case .histogram, .v2Histogram:
            size.histograms += 1
            try checkSamples()
        case .exemplar, .v2Exemplar:
            size.exemplars += 1
            if size.exemplars > limits.maxExemplars {
                throw Self.tooLarge("exemplars", limits.maxExemplars, "max_exemplars")
            }
        case .metadata, .v2Metadata:
            size.metadata += 1
            if size.metadata > limits.maxMetadata {
                throw Self.tooLarge("metadata entries", limits.maxMetadata, "max_metadata")
            }
        case .request, .v2Request, .bucketSpan, .v2BucketSpan: break
        }
    }

    /// Samples and native histograms share `max_samples`.
    private func checkSamples() throws(WriteRequestError) {
        if size.samples + size.histograms > limits.maxSamples {
            throw Self.tooLarge("samples and histograms", limits.maxSamples, "max_samples")
        }
    }

    private mutating func countSymbol() throws(WriteRequestError) {
        size.symbols += 1
        if size.symbols > limits.maxSymbols { throw Self.tooLarge("symbols", limits.maxSymbols, "max_symbols") }
    }

    /// A label is a name/value pair of refs: the first ref of each pair counts one.
    private mutating func countLabelRefs(_ elements: Int, in refs: inout Int) throws(WriteRequestError) {
        let before = (refs + 1) / 2
        refs += elements
        size.labels += (refs + 1) / 2 - before
        if size.labels > limits.maxLabels { throw Self.tooLarge("labels", limits.maxLabels, "max_labels") }
    }

    private mutating func charge(_ bytes: Int) throws(WriteRequestError) {
        let (sum, overflow) = size.decodedBytes.addingReportingOverflow(bytes &+ Self.allocationOverhead)
        size.decodedBytes = overflow ? .max : sum
        if size.decodedBytes > limits.maxDecodedBytes {
            throw Self.tooLarge("bytes once decoded", limits.maxDecodedBytes, "max_decoded_bytes")
        }
    }

    /// The varints of a packed field (protobuf-c counts its bytes below 0x80, and refuses a
    /// varint over 10 bytes only after allocating).
    private func packedVarints(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>, at fieldStart: Int)
        throws(WriteRequestError) -> Int
    {
        var elements = 0
        var run = 0
        for index in payload {
            if bytes[index] & 0x80 == 0 {
                elements += 1
                run = 0
            } else {
                run += 1
                if run >= 10 { throw malformed("packed varint over 10 bytes", at: fieldStart) }
            }
        }
        guard run == 0 else { throw malformed("unterminated packed varint", at: fieldStart) }
        return elements
    }

    private func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int, _ end: Int, maxBytes: Int)
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

    private func malformed(_ reason: String, at offset: Int) -> WriteRequestError {
        WriteRequestError("body is not a protobuf \(messageName): \(reason) at byte \(offset)")
    }

    private static func tooLarge(_ what: String, _ limit: Int, _ key: String) -> WriteRequestError {
        WriteRequestError("request too large: more than \(limit) \(what) (limit \(key))", isTooLarge: true)
    }
}

/// Elements per repeated field of one message, by slot, and the bytes of each field's array.
private struct RepeatedFieldArrays {
    private var counts = (0, 0, 0, 0, 0, 0, 0)
    private var elementBytes = (0, 0, 0, 0, 0, 0, 0)

    mutating func add(_ elements: Int, slot: Int, elementBytes size: Int) {
        switch slot {
        case 0: (counts.0, elementBytes.0) = (counts.0 + elements, size)
        case 1: (counts.1, elementBytes.1) = (counts.1 + elements, size)
        case 2: (counts.2, elementBytes.2) = (counts.2 + elements, size)
        case 3: (counts.3, elementBytes.3) = (counts.3 + elements, size)
        case 4: (counts.4, elementBytes.4) = (counts.4 + elements, size)
        case 5: (counts.5, elementBytes.5) = (counts.5 + elements, size)
        default: (counts.6, elementBytes.6) = (counts.6 + elements, size)
        }
    }

    /// The array protobuf-c allocates for the slot: none when it has no element.
    func bytes(_ slot: Int) -> Int {
        switch slot {
        case 0: counts.0 * elementBytes.0
        case 1: counts.1 * elementBytes.1
        case 2: counts.2 * elementBytes.2
        case 3: counts.3 * elementBytes.3
        case 4: counts.4 * elementBytes.4
        case 5: counts.5 * elementBytes.5
        default: counts.6 * elementBytes.6
        }
    }
}
