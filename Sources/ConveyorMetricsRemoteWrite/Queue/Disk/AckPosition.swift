import ConveyorMetrics

/// The acknowledged position: everything before `offset` in segment `segment` (and every
/// earlier segment) was delivered. Stored as 20 bytes (segment, offset, CRC-32C of the 16).
struct AckPosition: Equatable, Comparable {
    var segment: UInt64
    var offset: Int64

    static let fileName = "acknowledged"

    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        DiskRecord.appendLittleEndian(segment, to: &bytes)
        DiskRecord.appendLittleEndian(UInt64(bitPattern: offset), to: &bytes)
        DiskRecord.appendLittleEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Parses the file's bytes; nil when they are short or the checksum does not match.
    init?(bytes: [UInt8]) {
        guard bytes.count >= 20 else { return nil }
        let parsed = bytes.withUnsafeBytes { raw -> (UInt64, UInt64, Bool) in
            let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<16]))
            return (
                DiskRecord.readUInt64(raw, at: 0), DiskRecord.readUInt64(raw, at: 8),
                checksum == DiskRecord.readUInt32(raw, at: 16)
            )
        }
        guard parsed.2 else { return nil }
        segment = parsed.0
        offset = Int64(bitPattern: parsed.1)
    }

    init(segment: UInt64, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }

    static func < (lhs: AckPosition, rhs: AckPosition) -> Bool {
        (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
    }
}
