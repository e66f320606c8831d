/// Turns on Prometheus native (sparse, exponential-bucket) histograms for a histogram family.
///
/// The parameters are client_golang's: `bucketFactor` picks the resolution (schema −4…8),
/// `zeroThreshold` the width of the zero bucket, `maxBucketCount` when the resolution is
/// halved automatically, `minResetDuration` when the histogram is reset instead.
///
/// ```swift
/// let latency = registry.histogramFamily(
///     name: "request_seconds", help: "Request latency", buckets: [0.1, 0.5, 1],
///     native: NativeHistogramOptions(bucketFactor: 1.1, keepClassicBuckets: true))
/// latency.series().observe(0.042)
/// ```
///
/// Invalid values never crash: each is replaced by its default (or by 0 for a negative
/// count or duration), and counted and logged under ``RejectionReason/outOfRange``.
public struct NativeHistogramOptions: Sendable, Equatable {
    /// Each bucket's upper bound is at most this factor times its lower bound; must be > 1.
    ///
    /// The schema is the largest whose factor `2^(2^-schema)` does not exceed it, within −4…8
    /// (1.1 gives schema 3, factor 1.0905; 2 gives schema 0; anything ≥ 65,536 gives −4).
    /// NaN or ≤ 1 is invalid: the default 1.1 is used.
    public var bucketFactor: Double
    /// Observations with an absolute value up to this go to the zero bucket; finite, ≥ 0.
    /// The default is client_golang's, 2^-128. Invalid: the default is used.
    public var zeroThreshold: Double
    /// The most populated buckets (positive and negative together) before the resolution is
    /// halved (or the histogram reset, see `minResetDuration`); 0 for no limit. Default 160.
    /// Negative is invalid: 0 is used.
    public var maxBucketCount: Int
    /// When the bucket limit is exceeded and at least this long has passed since the last
    /// reset (or since the series was created), the histogram is reset (a counter reset)
    /// instead of losing resolution; after a resolution reduction a reset is due this long
    /// after the last one. Zero (the default) never resets. Negative is invalid: 0 is used.
    public var minResetDuration: Duration
    /// Whether the family's classic buckets are recorded too (Prometheus' "both"). Without
    /// them the text formats show only `_bucket{le="+Inf"}`, `_sum` and `_count`.
    public var keepClassicBuckets: Bool

    /// client_golang's default zero threshold, 2^-128.
    public static let defaultZeroThreshold: Double = 0x1p-128
    /// The bucket factor used when the given one is invalid.
    public static let defaultBucketFactor: Double = 1.1

    /// Native-histogram options; the defaults give schema 3 with at most 160 buckets.
    public init(
        bucketFactor: Double = NativeHistogramOptions.defaultBucketFactor,
        zeroThreshold: Double = NativeHistogramOptions.defaultZeroThreshold,
        maxBucketCount: Int = 160,
        minResetDuration: Duration = .zero,
        keepClassicBuckets: Bool = false
    ) {
        self.bucketFactor = bucketFactor
        self.zeroThreshold = zeroThreshold
        self.maxBucketCount = maxBucketCount
        self.minResetDuration = minResetDuration
        self.keepClassicBuckets = keepClassicBuckets
    }
}

/// Validated native-histogram options, as a family's series use them.
package struct NativeHistogramSettings: Sendable, Equatable {
    /// The schema the histogram starts with (and returns to on a reset), −4…8.
    package let schema: Int
    package let zeroThreshold: Double
    /// 0: no limit.
    package let maxBucketCount: Int
    /// 0: never reset.
    package let minResetNanoseconds: Int64
    package let keepClassicBuckets: Bool

    package init(
        schema: Int, zeroThreshold: Double, maxBucketCount: Int, minResetNanoseconds: Int64,
        keepClassicBuckets: Bool
    ) {
        self.schema = schema
        self.zeroThreshold = zeroThreshold
        self.maxBucketCount = maxBucketCount
        self.minResetNanoseconds = minResetNanoseconds
        self.keepClassicBuckets = keepClassicBuckets
    }

    /// Validates `options`: every invalid value is replaced as ``NativeHistogramOptions``
    /// documents, and described in `problems`.
    package static func validate(_ options: NativeHistogramOptions) -> (
        settings: NativeHistogramSettings, problems: [String]
    ) {
        var problems: [String] = []
        var factor = options.bucketFactor
        if factor.isNaN || factor <= 1 {
            problems.append("native histogram bucket factor \(factor) is not > 1; using 1.1")
            factor = NativeHistogramOptions.defaultBucketFactor
        }
        var threshold = options.zeroThreshold
        if !threshold.isFinite || threshold < 0 {
            problems.append("native histogram zero threshold \(threshold) is not finite and ≥ 0; using 2^-128")
            threshold = NativeHistogramOptions.defaultZeroThreshold
        }
        var maxBuckets = options.maxBucketCount
        if maxBuckets < 0 {
            problems.append("native histogram max bucket count \(maxBuckets) is negative; using 0 (no limit)")
            maxBuckets = 0
        }
        var resetNanoseconds = options.minResetDuration.nanoseconds
        if resetNanoseconds < 0 {
            problems.append("native histogram min reset duration \(options.minResetDuration) is negative; using 0")
            resetNanoseconds = 0
        }
        let settings = NativeHistogramSettings(
            schema: NativeHistogramSchema.pick(bucketFactor: factor), zeroThreshold: threshold,
            maxBucketCount: maxBuckets, minResetNanoseconds: resetNanoseconds,
            keepClassicBuckets: options.keepClassicBuckets)
        return (settings, problems)
    }
}
