import CSnappy
import ConveyorMetrics

/// Snappy **block** format (never the framed format), as remote write requires.
package enum Snappy {
    /// Compresses `input` into `output` (replacing its contents; capacity is reused).
    package static func compress(_ input: [UInt8], into output: inout [UInt8]) {
        input.withUnsafeBytes { compress($0, into: &output) }
    }

    /// Compresses the bytes at `input` into `output` (replacing its contents; capacity is reused).
    package static func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let maxLength = snappy_max_compressed_length(input.count)
        if output.count < maxLength { output = [UInt8](repeating: 0, count: maxLength) }
        var length = maxLength
        let status = output.withUnsafeMutableBytes { destination in
            snappy_compress(
                input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                destination.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
        }
        // Compression cannot fail with a buffer of snappy_max_compressed_length bytes.
        output.removeLast(output.count - (status == SNAPPY_OK ? length : 0))
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
