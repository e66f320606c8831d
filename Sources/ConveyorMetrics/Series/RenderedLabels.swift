/// Rendered label text in owned, exact-size memory (see ``OwnedBytes``).
enum RenderedLabels {
    static func allocate(_ labels: [Label]) -> UnsafeRawBufferPointer {
        OwnedBytes.copy(render(labels))
    }

    /// The same as a start and a 32-bit length (a series stores them in 12 bytes, not 16).
    /// Rendered labels longer than 4 GiB cannot exist (label values are limited far below),
    /// but are cut rather than trapped on.
    static func allocateCompact(_ labels: [Label]) -> (UnsafeRawPointer?, UInt32) {
        var rendered = render(labels)
        if rendered.count > Int(UInt32.max) { rendered.removeLast(rendered.count - Int(UInt32.max)) }
        let bytes = OwnedBytes.copy(rendered)
        return (bytes.baseAddress, UInt32(truncatingIfNeeded: bytes.count))
    }

    /// `name="escaped value",…` for the text formats.
    static func render(_ labels: [Label]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for (index, label) in labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: label.name.utf8)
            out.append(contentsOf: "=\"".utf8)
            TextEscaping.appendLabelValue(label.value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        return out
    }

    static func free(_ buffer: UnsafeRawBufferPointer) { OwnedBytes.free(buffer) }
}
