import ConveyorMetrics

/// The acknowledged position: everything before `offset` in segment `segment` (and every
/// earlier segment) was delivered; `newestTimestamp` is the newest sample timestamp (ms) the
/// target has delivered, so a restart never stamps samples below it even when the wall clock
/// stepped back. A slot is 28 bytes (segment, offset, newest timestamp, CRC-32C of the 24);
/// the file holds two slots written in turn, always in place: acknowledging needs no new
/// disk space, and a write torn by a crash damages one slot while the other still holds the
/// previous position. A 20-byte file (one slot, no timestamp) from an earlier version is
/// read too.
struct AckPosition: Equatable, Comparable {
    var segment: UInt64
    var offset: Int64
    var newestTimestamp: Int64 = 0

    /// One slot.
    static let size = 28
    /// The whole file: two slots.
    static let fileSize = 2 * size

    static let fileName = "acknowledged"

    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        DiskRecord.appendLittleEndian(segment, to: &bytes)
        DiskRecord.appendLittleEndian(UInt64(bitPattern: offset), to: &bytes)
        DiskRecord.appendLittleEndian(UInt64(bitPattern: newestTimestamp), to: &bytes)
        DiskRecord.appendLittleEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Parses the file's bytes: the furthest position among the slots that pass their
    /// checksum; nil when none does.
    init?(bytes: [UInt8]) {
        var best: AckPosition?
        for start in [0, Self.size] where bytes.count > start {
            guard let slot = Self.slot(Array(bytes[start...])) else { continue }
            if let current = best, slot < current { continue }
            best = slot
        }
        guard let best else { return nil }
        self = best
    }

    private static func slot(_ bytes: [UInt8]) -> AckPosition? {
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
        return AckPosition(
            segment: parsed.0, offset: Int64(bitPattern: parsed.1), newestTimestamp: Int64(bitPattern: parsed.2))
    }

    init(segment: UInt64, offset: Int64, newestTimestamp: Int64 = 0) {
        self.segment = segment
        self.offset = offset
        self.newestTimestamp = newestTimestamp
    }

    static func < (lhs: AckPosition, rhs: AckPosition) -> Bool {
        (lhs.segment, lhs.offset, lhs.newestTimestamp) < (rhs.segment, rhs.offset, rhs.newestTimestamp)
    }
}
