import ConveyorMetrics

/// The acknowledged position: everything before `offset` in segment `segment` (and every
/// earlier segment) was delivered; `newestTimestamp` is the newest sample timestamp (ms) the
/// target has delivered, so a restart never stamps samples below it even when the wall clock
/// stepped back. Stored as 28 bytes (segment, offset, newest timestamp, CRC-32C of the 24),
/// always overwritten in place: acknowledging needs no new disk space. A 20-byte file (no
/// timestamp) from an earlier version is read too.
struct AckPosition: Equatable, Comparable {
    var segment: UInt64
    var offset: Int64
    var newestTimestamp: Int64 = 0

    static let size = 28

    static let fileName = "acknowledged"

    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        DiskRecord.appendLittleEndian(segment, to: &bytes)
        DiskRecord.appendLittleEndian(UInt64(bitPattern: offset), to: &bytes)
        DiskRecord.appendLittleEndian(UInt64(bitPattern: newestTimestamp), to: &bytes)
        DiskRecord.appendLittleEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Parses the file's bytes; nil when they are short or the checksum does not match.
    init?(bytes: [UInt8]) {
        let parsed = bytes.withUnsafeBytes { raw -> (UInt64, UInt64, UInt64)? in
            for length in [24, 16] where raw.count >= length + 4 {
                let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
                guard checksum == DiskRecord.readUInt32(raw, at: length) else { continue }
                let newest = length == 24 ? DiskRecord.readUInt64(raw, at: 16) : 0
                return (DiskRecord.readUInt64(raw, at: 0), DiskRecord.readUInt64(raw, at: 8), newest)
            }
            return nil
        }
        guard let parsed else { return nil }
        segment = parsed.0
        offset = Int64(bitPattern: parsed.1)
        newestTimestamp = Int64(bitPattern: parsed.2)
    }

    init(segment: UInt64, offset: Int64, newestTimestamp: Int64 = 0) {
        self.segment = segment
        self.offset = offset
        self.newestTimestamp = newestTimestamp
    }

    static func < (lhs: AckPosition, rhs: AckPosition) -> Bool {
        (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
    }
}
