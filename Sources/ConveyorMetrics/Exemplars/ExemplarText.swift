/// An exemplar in OpenMetrics text: ` # {trace_id="4bf9"} 0.42 1520879607.789` after a
/// counter's `_total` value or a histogram bucket's count.
enum ExemplarText {
    /// Appends `exemplar` to the line that `out` ends with (its newline moves after it).
    static func appendToLine(_ exemplar: RecordedExemplar, into out: inout [UInt8]) {
        if out.last == UInt8(ascii: "\n") { out.removeLast() }
        append(exemplar, into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// ` # {labels} value timestamp`, the timestamp in seconds with milliseconds.
    static func append(_ exemplar: RecordedExemplar, into out: inout [UInt8]) {
        out.append(contentsOf: " # {".utf8)
        for (index, label) in exemplar.labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: label.name.utf8)
            out.append(contentsOf: "=\"".utf8)
            TextEscaping.appendLabelValue(label.value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: "} ".utf8)
        FloatFormatting.appendValue(exemplar.value, to: &out)
        out.append(UInt8(ascii: " "))
        appendSeconds(milliseconds: exemplar.timestampMilliseconds, to: &out)
    }

    /// `1520879607.789` for 1520879607789 ms (`-1.5` for −1500).
    static func appendSeconds(milliseconds: Int64, to out: inout [UInt8]) {
        let magnitude = milliseconds.magnitude
        if milliseconds < 0 { out.append(UInt8(ascii: "-")) }
        FloatFormatting.appendUnsigned(magnitude / 1000, to: &out)
        let fraction = magnitude % 1000
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        out.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }
}
