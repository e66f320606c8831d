/// A histogram's state: cumulative bucket counts, sum and count, and the native histogram
/// when the family records one.
///
/// A native-only family has no finite bounds: its classic part is the `+Inf` bucket alone,
/// holding the count, so the text formats show `_bucket{le="+Inf"}`, `_sum` and `_count`.
public struct HistogramValue: Sendable, Equatable {
    /// Finite upper bounds, increasing; the implied last bound is `+Inf`.
    public let upperBounds: [Double]
    /// Cumulative counts, one per bound plus the `+Inf` bucket last.
    public let cumulativeCounts: [UInt64]
    /// The sum of all observations.
    public let sum: Double
    /// The number of observations (equal to the `+Inf` bucket).
    public var count: UInt64 { cumulativeCounts.last ?? 0 }
    /// The native (exponential-bucket) histogram, for a family that records one; else nil.
    public let native: NativeHistogramValue?

    /// Creates a histogram value; `cumulativeCounts` has `upperBounds.count + 1` entries.
    public init(
        upperBounds: [Double], cumulativeCounts: [UInt64], sum: Double, native: NativeHistogramValue? = nil
    ) {
        self.upperBounds = upperBounds
        self.cumulativeCounts = cumulativeCounts
        self.sum = sum
        self.native = native
    }
}
