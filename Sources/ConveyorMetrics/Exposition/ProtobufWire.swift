/// The protobuf wire primitives the protobuf exposition writes: varints (zigzag for the
/// `sint` fields), 64-bit doubles, and length-delimited strings and messages.
///
/// client_model's `metrics.proto` is proto2, so a scalar is written whenever it is set (zero
/// included) and repeated scalars are not packed; callers write fields in field-number order
/// and varints minimally, which is what protobuf-c and client_golang write too.
enum ProtobufWire {
    /// The wire types used here.
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    @inline(__always)
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    @inline(__always)
    static func appendTag(_ field: UInt64, _ type: WireType, to out: inout [UInt8]) {
        appendVarint(field << 3 | type.rawValue, to: &out)
    }

    /// A `uint64`, `uint32` or enum field.
    @inline(__always)
    static func appendUnsigned(_ field: UInt64, _ value: UInt64, to out: inout [UInt8]) {
        appendTag(field, .varint, to: &out)
        appendVarint(value, to: &out)
    }

    /// An `int64` or `int32` field (a negative value takes ten bytes, as protobuf writes it).
    @inline(__always)
    static func appendSigned(_ field: UInt64, _ value: Int64, to out: inout [UInt8]) {
        appendUnsigned(field, UInt64(bitPattern: value), to: &out)
    }

    /// A `sint64` or `sint32` field (zigzag).
    @inline(__always)
    static func appendZigzag(_ field: UInt64, _ value: Int64, to out: inout [UInt8]) {
        appendUnsigned(field, UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &out)
    }

    /// A `double` field, its bits as they are (NaN payloads included).
    @inline(__always)
    static func appendDouble(_ field: UInt64, _ value: Double, to out: inout [UInt8]) {
        appendTag(field, .fixed64, to: &out)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }

    /// A `string`, `bytes` or message field whose content is `bytes`.
    @inline(__always)
    static func appendLengthDelimited(_ field: UInt64, _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        appendTag(field, .lengthDelimited, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    @inline(__always)
    static func appendLengthDelimited(_ field: UInt64, _ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendLengthDelimited(field, $0, to: &out) }
    }

    @inline(__always)
    static func appendString(_ field: UInt64, _ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendLengthDelimited(field, UnsafeRawBufferPointer($0), to: &out) }
    }
}
