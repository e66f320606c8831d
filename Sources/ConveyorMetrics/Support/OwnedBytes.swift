/// Bytes in an exact-size allocation (no array header) that their owner frees in `deinit`.
package enum OwnedBytes {
    package static func copy(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        storage.copyBytes(from: bytes)
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<bytes.count])
    }

    package static func free(_ buffer: UnsafeRawBufferPointer) {
        UnsafeMutableRawPointer(mutating: buffer.baseAddress)?.deallocate()
    }
}
