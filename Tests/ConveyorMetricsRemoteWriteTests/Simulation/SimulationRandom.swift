import ConveyorMetrics

/// A seeded random number generator for simulations (SplitMix64): the same seed gives the
/// same sequence on every platform and Swift version.
///
/// `int(in:)` and `chance(_:)` use their own arithmetic, not the standard library's
/// algorithms, so a failing seed replays exactly after a toolchain update.
struct SimulationRandom: RandomNumberGenerator {
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 { generator.next() }

    /// True with probability `p`. Draws nothing when `p` is 0 or less, or 1 or more.
    mutating func chance(_ p: Double) -> Bool {
        if p <= 0 { return false }
        if p >= 1 { return true }
        return generator.unit() < p
    }

    /// A uniform integer in `range` (Lemire's method with rejection, so without bias).
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(truncatingIfNeeded: range.upperBound) &- UInt64(truncatingIfNeeded: range.lowerBound)
        guard span < UInt64.max else { return Int(truncatingIfNeeded: next()) }
        let bound = span + 1
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return Int(truncatingIfNeeded: UInt64(truncatingIfNeeded: range.lowerBound) &+ product.high)
    }

    /// A uniformly chosen element; nil when `items` is empty.
    mutating func pick<T>(_ items: [T]) -> T? {
        guard !items.isEmpty else { return nil }
        return items[int(in: 0...(items.count - 1))]
    }
}
