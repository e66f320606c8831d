import CSnappy
import ConveyorMetrics

/// Snappy **block** format (never the framed format), as remote write requires.
package enum Snappy {
    /// Compresses `input` into `output` (replacing its contents; capacity is reused).
    package static func compress(_ input: [UInt8], into output: inout [UInt8]) {
        input.withUnsafeBytes { compress($0, into: &output) }
    }

    /// Compresses the bytes at `input` into `output` (replacing its contents; capacity is reused).
    ///
    /// Snappy needs room for its worst case, about 1.17× the input: that room is a scratch
    /// allocation that is never zeroed, and only the compressed bytes are copied into `output`
    /// (sizing `output` itself to the worst case zeroed it on every request).
    package static func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let maxLength = snappy_max_compressed_length(input.count)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(maxLength, 1), alignment: 1)
        defer { scratch.deallocate() }
        var length = maxLength
        let status = snappy_compress(
            input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
            scratch.assumingMemoryBound(to: CChar.self), &length)
        output.removeAll(keepingCapacity: true)
        // Compression cannot fail with a buffer of snappy_max_compressed_length bytes.
        guard status == SNAPPY_OK else { return }
        output.append(contentsOf: UnsafeRawBufferPointer(start: scratch, count: length))
    }

    /// One snappy block holding the concatenation of what `blocks` hold, without
    /// decompressing: a block is its uncompressed length (a varint), then elements whose
    /// copies reach back only into the block's own output, so the elements of several
    /// blocks, in order, under the sum of their lengths, decode to their concatenation. Nil
    /// when a block's length is unreadable or the sum exceeds what a block may hold.
    package static func concatenate(_ blocks: [ArraySlice<UInt8>]) -> [UInt8]? {
        var total: UInt64 = 0
        var elements: [ArraySlice<UInt8>] = []
        elements.reserveCapacity(blocks.count)
        for block in blocks {
            guard let (length, headerSize) = uncompressedLength(block) else { return nil }
            total += length
            elements.append(block.dropFirst(headerSize))
        }
        guard total <= UInt64(UInt32.max) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(5 + elements.reduce(0) { $0 + $1.count })
        var value = total
        while value >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        output.append(UInt8(value))
        for part in elements { output.append(contentsOf: part) }
        return output
    }

    /// A block's uncompressed length and the bytes its varint takes; nil when unreadable.
    private static func uncompressedLength(_ block: ArraySlice<UInt8>) -> (UInt64, Int)? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var index = block.startIndex
        while index < block.endIndex, shift < 35 {
            let byte = block[index]
            value |= UInt64(byte & 0x7F) << shift
            index += 1
            if byte & 0x80 == 0 { return (value, index - block.startIndex) }
            shift += 7
        }
        return nil
    }

    /// Compresses `input`.
    package static func compress(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        compress(input, into: &output)
        return output
    }

    /// Why a body could not be decompressed.
    package enum DecompressionError: Error, Equatable, CustomStringConvertible {
        case notSnappy
        case tooLarge(Int, limit: Int)

        package var description: String {
            switch self {
            case .notSnappy: "body is not snappy block-compressed data"
            case .tooLarge(let size, let limit): "decompressed size \(size) bytes exceeds the limit of \(limit)"
            }
        }
    }

    /// Decompresses a snappy block, refusing invalid input and outputs over `limit` bytes
    /// (the length is read from the header before any allocation).
    package static func decompress(_ input: [UInt8], limit: Int) throws(DecompressionError) -> [UInt8] {
        var length = 0
        let lengthStatus = input.withUnsafeBytes { source in
            snappy_uncompressed_length(source.baseAddress?.assumingMemoryBound(to: CChar.self), source.count, &length)
        }
        guard lengthStatus == SNAPPY_OK, !input.isEmpty else { throw .notSnappy }
        guard length <= limit else { throw .tooLarge(length, limit: limit) }
        let valid = input.withUnsafeBytes { source in
            snappy_validate_compressed_buffer(source.baseAddress?.assumingMemoryBound(to: CChar.self), source.count)
        }
        guard valid == SNAPPY_OK else { throw .notSnappy }
        var output = [UInt8](repeating: 0, count: max(length, 1))
        var outputLength = length
        let status = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                snappy_uncompress(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self), source.count,
                    destination.baseAddress?.assumingMemoryBound(to: CChar.self), &outputLength)
            }
        }
        guard status == SNAPPY_OK else { throw .notSnappy }
        output.removeLast(output.count - outputLength)
        return output
    }
}
