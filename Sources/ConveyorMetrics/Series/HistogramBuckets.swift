import Synchronization

/// The upper bounds one histogram family shares, validated and sorted.
package struct HistogramBuckets: Sendable, Equatable {
    /// Finite, strictly increasing upper bounds; `+Inf` is implied after the last.
    package let upperBounds: [Double]

    /// Sorts `bounds` and drops duplicates and non-finite values; when nothing is left, uses
    /// `fallback` the same way, and a single bound of 1 when that is empty too.
    package init(_ bounds: [Double], fallback: [Double] = []) {
        let cleaned = Self.clean(bounds)
        let cleanedFallback = Self.clean(fallback)
        upperBounds = !cleaned.isEmpty ? cleaned : !cleanedFallback.isEmpty ? cleanedFallback : [1]
    }

    /// The index of the first bound ≥ `value` (`le` semantics), `upperBounds.count` (the
    /// `+Inf` bucket) when there is none; NaN gives 0.
    @inline(__always)
    package static func index(of value: Double, in upperBounds: [Double]) -> Int {
        var low = 0
        var high = upperBounds.count
        while low < high {
            let mid = (low &+ high) >> 1
            if upperBounds[mid] < value { low = mid &+ 1 } else { high = mid }
        }
        return low
    }

    private static func clean(_ bounds: [Double]) -> [Double] {
        Set(bounds.filter { $0.isFinite }).sorted()
    }
}
