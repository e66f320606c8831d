/// Writing into an array's new capacity through a raw pointer: the renderers' lines and values.
extension Array where Element == UInt8 {
    /// Appends what `write` writes through a raw pointer into at most `bound` bytes of new
    /// capacity (`write` returns the end of what it wrote, which must be within `bound`).
    @inline(__always)
    mutating func appendRaw(upTo bound: Int, _ write: (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer) {
        append(addingCapacity: bound) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                guard let base = buffer.baseAddress else { return }
                let start = UnsafeMutableRawPointer(base + initialized)
                let end = write(start)
                initialized += Swift.min(end - start, buffer.count - initialized)
            }
        }
    }
}
