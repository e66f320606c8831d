/// SplitMix64: a tiny seeded generator whose sequence is the same on every platform and
/// Swift version (demo runs, backoff jitter, simulations replay exactly).
package struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state; advanced by a fixed odd constant per value.
    package private(set) var state: UInt64

    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `0..<1` with 53 random bits.
    package mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
