import ConveyorMetrics

/// Remote write 1.0's `Exemplar` (`TimeSeries` field 3): labels, value, timestamp.
///
/// Written as protobuf-c packs it (the tests hold it to that): proto3 defaults are left out
/// (an empty label value, a value of ±0.0, a timestamp of 0).
enum ExemplarEncoding {
    /// The bytes of `exemplars` as repeated `TimeSeries.exemplars` fields (tags and lengths
    /// included).
    static func fieldsSize(_ exemplars: [RecordedExemplar]) -> Int {
        exemplars.reduce(0) { total, exemplar in
            let body = size(exemplar)
            return total + 1 + ProtobufWriter.varintSize(UInt64(body)) + body
        }
    }

    /// Writes `exemplars` as repeated `TimeSeries.exemplars` fields at `start`; returns the
    /// position after them.
    static func putFields(_ exemplars: [RecordedExemplar], at start: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
    {
        var cursor = start
        for exemplar in exemplars {
            cursor = ProtobufWriter.put(0x1A, cursor)  // TimeSeries.exemplars
            cursor = ProtobufWriter.putVarint(UInt64(size(exemplar)), cursor)
            cursor = put(exemplar, at: cursor)
        }
        return cursor
    }

    /// The bytes of one `Exemplar` message body.
    static func size(_ exemplar: RecordedExemplar) -> Int {
        var size = 0
        for label in exemplar.labels {
            let body = labelSize(label)
            size += 1 + ProtobufWriter.varintSize(UInt64(body)) + body
        }
        if exemplar.value != 0 { size += 9 }
        if exemplar.timestampMilliseconds != 0 {
            size += 1 + ProtobufWriter.varintSize(UInt64(bitPattern: exemplar.timestampMilliseconds))
        }
        return size
    }

    private static func labelSize(_ label: Label) -> Int {
        let name = label.name.utf8.count
        let value = label.value.utf8.count
        return (name > 0 ? 1 + ProtobufWriter.varintSize(UInt64(name)) + name : 0)
            + (value > 0 ? 1 + ProtobufWriter.varintSize(UInt64(value)) + value : 0)
    }

    private static func put(_ exemplar: RecordedExemplar, at start: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
    {
        var cursor = start
        for label in exemplar.labels {
            cursor = ProtobufWriter.put(0x0A, cursor)  // Exemplar.labels
            cursor = ProtobufWriter.putVarint(UInt64(labelSize(label)), cursor)
            cursor = putString(0x0A, label.name, at: cursor)  // Label.name
            cursor = putString(0x12, label.value, at: cursor)  // Label.value
        }
        if exemplar.value != 0 {
            cursor = ProtobufWriter.put(0x11, cursor)  // Exemplar.value (fixed64)
            let value = RemoteSample.normalized(exemplar.value)
            cursor.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
            cursor += 8
        }
        if exemplar.timestampMilliseconds != 0 {
            cursor = ProtobufWriter.put(0x18, cursor)  // Exemplar.timestamp (varint)
            cursor = ProtobufWriter.putVarint(UInt64(bitPattern: exemplar.timestampMilliseconds), cursor)
        }
        return cursor
    }

    private static func putString(_ tag: UInt8, _ string: String, at start: UnsafeMutableRawPointer)
        -> UnsafeMutableRawPointer
    {
        let count = string.utf8.count
        guard count > 0 else { return start }
        var cursor = ProtobufWriter.put(tag, start)
        cursor = ProtobufWriter.putVarint(UInt64(count), cursor)
        var string = string
        return string.withUTF8 { ProtobufWriter.put(UnsafeRawBufferPointer($0), cursor) }
    }
}
