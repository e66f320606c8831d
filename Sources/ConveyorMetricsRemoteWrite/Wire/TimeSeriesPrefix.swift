import ConveyorMetrics

/// The protobuf bytes of a `TimeSeries` that stay the same from one sample to the next:
/// its `labels` fields, and everything before the sample value. Built once per series.
enum TimeSeriesPrefix {
    /// `TimeSeries.labels` (field 1, repeated `Label { name = 1; value = 2 }`).
    static func labelFields(_ labels: [Label]) -> [UInt8] {
        var bytes: [UInt8] = []
        for label in labels {
            let name = label.name.utf8.count
            let value = label.value.utf8.count
            let message =
                1 + ProtobufWriter.varintSize(UInt64(name)) + name + 1 + ProtobufWriter.varintSize(UInt64(value))
                + value
            bytes.append(0x0A)
            ProtobufWriter.appendVarint(UInt64(message), to: &bytes)
            bytes.append(0x0A)
            ProtobufWriter.appendVarint(UInt64(name), to: &bytes)
            bytes.append(contentsOf: label.name.utf8)
            bytes.append(0x12)
            ProtobufWriter.appendVarint(UInt64(value), to: &bytes)
            bytes.append(contentsOf: label.value.utf8)
        }
        return bytes
    }

    /// The `WriteRequest.timeseries` tag and length, the label fields, and the `Sample` tag
    /// and length, for a series whose one sample encodes in `sampleSize` bytes.
    static func commonPrefix(labelFields: [UInt8], sampleSize: Int) -> [UInt8] {
        var prefix: [UInt8] = [0x0A]
        ProtobufWriter.appendVarint(UInt64(labelFields.count + 2 + sampleSize), to: &prefix)
        prefix.append(contentsOf: labelFields)
        prefix.append(0x12)
        prefix.append(UInt8(truncatingIfNeeded: sampleSize))
        return prefix
    }
}
