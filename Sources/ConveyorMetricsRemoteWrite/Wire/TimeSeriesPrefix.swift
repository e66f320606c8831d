import ConveyorMetrics

/// The protobuf bytes of a `TimeSeries`' `labels` fields (what stays the same from one
/// sample to the next): their sizes, and one field written.
enum TimeSeriesPrefix {
    /// The length of `TimeSeries.labels` (field 1, repeated `Label { name = 1; value = 2 }`)
    /// for `labels`.
    static func labelFieldsSize(_ labels: [Label]) -> Int {
        labels.reduce(0) { $0 + fieldSize(name: $1.name.utf8.count, value: $1.value.utf8.count) }
    }

    /// One `Label` field's length: tag, length, and the message.
    @inline(__always)
    static func fieldSize(name: Int, value: Int) -> Int {
        let message = messageSize(name: name, value: value)
        return 1 + ProtobufWriter.varintSize(UInt64(message)) + message
    }

    @inline(__always)
    private static func messageSize(name: Int, value: Int) -> Int {
        1 + ProtobufWriter.varintSize(UInt64(name)) + name + 1 + ProtobufWriter.varintSize(UInt64(value)) + value
    }

    /// Writes one `TimeSeries.labels` field at `start`; returns the position after it.
    @inline(__always)
    static func putLabelField(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        var cursor = ProtobufWriter.put(0x0A, start)
        cursor = ProtobufWriter.putVarint(UInt64(messageSize(name: name.count, value: value.count)), cursor)
        cursor = ProtobufWriter.put(0x0A, cursor)
        cursor = ProtobufWriter.putVarint(UInt64(name.count), cursor)
        cursor = ProtobufWriter.put(name, cursor)
        cursor = ProtobufWriter.put(0x12, cursor)
        cursor = ProtobufWriter.putVarint(UInt64(value.count), cursor)
        return ProtobufWriter.put(value, cursor)
    }
}
