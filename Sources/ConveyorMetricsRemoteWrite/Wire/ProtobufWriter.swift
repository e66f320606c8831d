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
