/// What every series of a histogram family is recorded with: the classic bounds and, when
/// the family records a native histogram, its validated settings.
package struct HistogramConfiguration: Sendable, Equatable {
    /// The classic finite upper bounds recorded; empty for a native-only family (only `+Inf`).
    package let upperBounds: [Double]
    /// Nil for a classic-only family.
    package let native: NativeHistogramSettings?

    /// A classic-only family with `buckets`.
    package init(_ buckets: HistogramBuckets) {
        upperBounds = buckets.upperBounds
        native = nil
    }

    /// A family with a native histogram, and `buckets` too if `native` keeps classic buckets.
    package init(_ buckets: HistogramBuckets, native: NativeHistogramSettings?) {
        upperBounds = (native?.keepClassicBuckets ?? true) ? buckets.upperBounds : []
        self.native = native
    }
}
