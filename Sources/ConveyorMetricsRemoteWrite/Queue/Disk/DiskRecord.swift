import ConveyorMetrics

/// The on-disk layout of the push queue.
///
/// A segment file starts with the 8-byte magic `CMRWSEG1`, then holds records back to back:
///
/// | bytes | field |
/// |---|---|
/// | 4 | payload length N (little endian) |
/// | 4 | CRC-32C of the payload |
/// | N | payload: samples (u32), timestamp in ms (i64), a snappy-compressed `WriteRequest` |
///
/// Every sample of a record has the record's timestamp (one record per snapshot slice).
/// A record whose length runs past the end of the file, or whose checksum does not match,
/// ends the valid part of its segment (a torn write at power loss).
enum DiskRecord {
    static let magic: [UInt8] = Array("CMRWSEG1".utf8)
    static let headerSize = 8
    static let payloadPrefixSize = 12
    /// Larger payloads are taken as corruption (a request is at most a few MB).
    static let maxPayload = 256 << 20

    /// The bytes of one record.
    static func encode(compressedRequest: [UInt8], samples: Int, timestamp: Int64) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(payloadPrefixSize + compressedRequest.count)
        appendLittleEndian(UInt32(clamping: samples), to: &payload)
        appendLittleEndian(UInt64(bitPattern: timestamp), to: &payload)
        payload.append(contentsOf: compressedRequest)
        var record: [UInt8] = []
        record.reserveCapacity(headerSize + payload.count)
        appendLittleEndian(UInt32(payload.count), to: &record)
        appendLittleEndian(CRC32C.checksum(payload), to: &record)
        record.append(contentsOf: payload)
        return record
    }

    /// Where a record sits and what it holds (kept in memory for every pending record).
    struct Info: Equatable {
        /// Offset of the record's header in its segment.
        var offset: Int64
        /// Header plus payload.
        var length: Int32
        var samples: Int32
        var timestamp: Int64
        /// Which series list the record's samples come from, and the start of its cell on
        /// the grid the list is cut on: records of one list at one position hold the same
        /// series. Known only for records this process wrote (not stored in the file); 0
        /// when unknown.
        var list: UInt64 = 0
        var position: Int32 = 0
        var end: Int64 { offset + Int64(length) }
    }

    /// The result of reading a segment from its start.
    struct Scan {
        var records: [Info] = []
        /// Where the valid part ends; bytes after it are a torn or corrupt tail.
        var validLength: Int64 = 0
        var fileLength: Int64 = 0
        var badMagic = false
    }

    /// Reads the records of a segment's bytes, stopping at the first that is incomplete or
    /// fails its checksum.
    static func scan(_ bytes: [UInt8]) -> Scan {
        var scan = Scan(fileLength: Int64(bytes.count))
        guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else {
            scan.badMagic = true
            return scan
        }
        var offset = magic.count
        scan.validLength = Int64(offset)
        bytes.withUnsafeBytes { raw in
            while raw.count - offset >= headerSize {
                let length = Int(readUInt32(raw, at: offset))
                let crc = readUInt32(raw, at: offset + 4)
                guard length >= payloadPrefixSize, length <= maxPayload, raw.count - offset - headerSize >= length
                else { return }
                let payload = UnsafeRawBufferPointer(
                    rebasing: raw[(offset + headerSize)..<(offset + headerSize + length)])
                guard CRC32C.checksum(payload) == crc else { return }
                scan.records.append(
                    Info(
                        offset: Int64(offset), length: Int32(headerSize + length),
                        samples: Int32(clamping: readUInt32(payload, at: 0)),
                        timestamp: Int64(bitPattern: readUInt64(payload, at: 4))))
                offset += headerSize + length
                scan.validLength = Int64(offset)
            }
        }
        return scan
    }

    /// The compressed request of one record read back from disk, or nil when its checksum
    /// no longer matches.
    static func compressedRequest(_ record: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard record.count >= headerSize + payloadPrefixSize else { return nil }
        return record.withUnsafeBytes { raw -> ArraySlice<UInt8>? in
            let length = Int(readUInt32(raw, at: 0))
            guard length + headerSize == raw.count else { return nil }
            let payload = UnsafeRawBufferPointer(rebasing: raw[headerSize...])
            guard CRC32C.checksum(payload) == readUInt32(raw, at: 4) else { return nil }
            return record.dropFirst(headerSize + payloadPrefixSize)
        }
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func readUInt32(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    static func readUInt64(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
