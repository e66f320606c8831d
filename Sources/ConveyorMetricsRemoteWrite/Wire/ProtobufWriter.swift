import ConveyorMetrics

/// The few protobuf wire primitives the sample writer needs.
enum ProtobufWriter {
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
    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    @inline(__always)
    static func appendFixed64(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes `byte` at `cursor`; returns the position after it.
    @inline(__always)
    static func put(_ byte: UInt8, _ cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        cursor.storeBytes(of: byte, as: UInt8.self)
        return cursor + 1
    }

    /// Writes `value` as a varint at `start`; returns the position after it.
    @inline(__always)
    static func putVarint(_ value: UInt64, _ start: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var cursor = start
        var rest = value
        while rest >= 0x80 {
            cursor = put(UInt8(truncatingIfNeeded: rest) | 0x80, cursor)
            rest >>= 7
        }
        return put(UInt8(rest), cursor)
    }

    /// Writes `bytes` at `cursor`; returns the position after them.
    @inline(__always)
    static func put(_ bytes: UnsafeRawBufferPointer, _ cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return cursor }
        cursor.copyMemory(from: base, byteCount: bytes.count)
        return cursor + bytes.count
    }
}

/// A varint encoded once and written many times: its bytes (up to 8, little endian, in one
/// word) and length. Values that need 9 or 10 bytes are written the slow way.
struct PackedVarint {
    let value: UInt64
    let bits: UInt64
    let length: Int

    init(_ value: UInt64) {
        self.value = value
        length = ProtobufWriter.varintSize(value)
        var bits: UInt64 = 0
        if length <= 8 {
            var rest = value
            for index in 0..<length {
                let byte = UInt64(rest & 0x7F) | (index < length - 1 ? 0x80 : 0)
                bits |= byte << (8 * UInt64(index))
                rest >>= 7
            }
        }
        self.bits = bits
    }

    /// Writes it at `cursor` (which must have 8 bytes of room); returns the position after it.
    @inline(__always)
    func put(_ cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        guard length <= 8 else { return ProtobufWriter.putVarint(value, cursor) }
        cursor.storeBytes(of: bits.littleEndian, toByteOffset: 0, as: UInt64.self)
        return cursor + length
    }
}

/// A request's bytes in a raw buffer kept and reused between requests (grown by half again
/// when a request needs more).
final class RequestBuffer {
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0
    /// Length of the last request.
    var count = 0

    deinit { buffer?.deallocate() }

    /// The last request written (valid until the next `reserve`).
    var body: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: buffer, count: count) }

    /// Room for at least `total` bytes; returns where they start.
    func reserve(_ total: Int) -> UnsafeMutableRawPointer {
        if total > capacity || buffer == nil {
            buffer?.deallocate()
            capacity = max(total, capacity + capacity / 2, 4096)
            buffer = .allocate(byteCount: capacity, alignment: 8)
        }
        // Allocated just above with at least `total` bytes, so never nil here.
        return buffer.unsafelyUnwrapped
    }
}
