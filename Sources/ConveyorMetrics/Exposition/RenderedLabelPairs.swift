/// Turns a series' rendered label text (`name="escaped value",…`, see ``RenderedLabels``)
/// back into `io.prometheus.client.LabelPair` messages, without allocating: the protobuf
/// exposition reads the same per-series bytes as the text formats.
///
/// The text was rendered by ``TextEscaping/appendLabelValue(_:to:)``, which escapes only
/// `\`, `"` and newline, so unescaping gives back the value's exact bytes.
enum RenderedLabelPairs {
    /// Appends one `label` field (Metric field 1) per label in `rendered`.
    static func append(_ rendered: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var position = 0
        let end = rendered.count
        while position < end {
            // name, up to `=`
            let nameStart = position
            while position < end && rendered[position] != UInt8(ascii: "=") { position += 1 }
            let name = UnsafeRawBufferPointer(rebasing: rendered[nameStart..<position])
            position += 2  // `="`
            // value, up to the closing unescaped quote
            let valueStart = min(position, end)
            var valueLength = 0
            var scan = valueStart
            while scan < end && rendered[scan] != UInt8(ascii: "\"") {
                scan += rendered[scan] == UInt8(ascii: "\\") ? 2 : 1
                valueLength += 1
            }
            let valueEnd = min(scan, end)
            position = valueEnd + 2  // `",`

            let nameField = 1 + ProtobufWire.varintSize(UInt64(name.count)) + name.count
            let valueField = 1 + ProtobufWire.varintSize(UInt64(valueLength)) + valueLength
            ProtobufWire.appendTag(1, .lengthDelimited, to: &out)
            ProtobufWire.appendVarint(UInt64(nameField + valueField), to: &out)
            ProtobufWire.appendLengthDelimited(1, name, to: &out)
            ProtobufWire.appendTag(2, .lengthDelimited, to: &out)
            ProtobufWire.appendVarint(UInt64(valueLength), to: &out)
            var index = valueStart
            while index < valueEnd {
                var byte = rendered[index]
                if byte == UInt8(ascii: "\\") && index + 1 < valueEnd {
                    index += 1
                    byte = rendered[index] == UInt8(ascii: "n") ? UInt8(ascii: "\n") : rendered[index]
                }
                out.append(byte)
                index += 1
            }
        }
    }
}
