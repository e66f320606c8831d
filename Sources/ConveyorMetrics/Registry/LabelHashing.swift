/// A fast, non-cryptographic hash of label values for the series lookup table: 8 bytes per
/// step over the UTF-8 bytes, then a final avalanche (murmur3's fmix64). Series keys are
/// chosen by the program, not by an attacker, and the table tolerates collisions anyway.
extension LabelValuesKey {
    @inline(__always)
    var lookupHash: UInt64 {
        switch self {
        case .none: return 0x9E37_79B9_7F4A_7C15
        case .one(let value): return LabelHashing.finish(LabelHashing.hash(value, seed: 1))
        case .two(let first, let second):
            return LabelHashing.finish(LabelHashing.hash(second, seed: LabelHashing.hash(first, seed: 2)))
        case .many(let values), .pairs(let values):
            var state: UInt64 = 3
            for value in values { state = LabelHashing.hash(value, seed: state) }
            return LabelHashing.finish(state)
        }
    }
}

enum LabelHashing {
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inline(__always)
    static func hash(_ string: String, seed: UInt64) -> UInt64 {
        if let hashed = string.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0), seed: seed) }) {
            return hashed
        }
        var copy = string
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var state = seed ^ (UInt64(bytes.count) &* multiplier)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            state = (state ^ word) &* multiplier
            state ^= state >> 29
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            state = (state ^ tail) &* multiplier
            state ^= state >> 29
        }
        return state
    }

    @inline(__always)
    static func finish(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}
