/// A native histogram's state, laid out as Prometheus' remote write and client_model's
/// `metrics.proto` carry it: buckets as spans of consecutive indices plus count deltas.
///
/// Under schema `s`, bucket `i` holds the observations whose absolute value is in
/// `(2^((i−1)·2^−s), 2^(i·2^−s)]`; those with an absolute value up to `zeroThreshold` are in
/// the zero bucket. A span's `offset` is its first index for the first span, and the gap
/// after the previous span for the others; `deltas` hold the first bucket's count, then each
/// bucket's count minus the previous one's, across spans. Gaps of one or two empty buckets
/// are included in a span as buckets of count 0 (a delta of minus the previous count), as
/// client_golang encodes them; longer gaps start a new span. A histogram with no buckets and
/// a zero threshold of 0 has one empty positive span (offset 0, length 0), as client_golang
/// writes it, so that a scraper does not take it for a classic histogram.
public struct NativeHistogramValue: Sendable, Equatable {
    /// A run of consecutive bucket indices.
    public struct BucketSpan: Sendable, Equatable {
        /// The first index (first span) or the number of indices skipped since the previous span.
        public let offset: Int32
        /// How many consecutive buckets the span covers.
        public let length: UInt32

        /// A span of `length` buckets after a gap (or from index) `offset`.
        public init(offset: Int32, length: UInt32) {
            self.offset = offset
            self.length = length
        }
    }

    /// The resolution, −4…8: each bucket's upper bound is `2^(2^−schema)` times its lower bound.
    public let schema: Int32
    /// The zero bucket holds observations with an absolute value up to this.
    public let zeroThreshold: Double
    /// Observations in the zero bucket.
    public let zeroCount: UInt64
    /// All observations: the positive and negative buckets, the zero bucket, and NaN
    /// observations (which have no bucket).
    public let count: UInt64
    /// The sum of all observations (NaN once a NaN was observed).
    public let sum: Double
    /// The positive buckets' spans.
    public let positiveSpans: [BucketSpan]
    /// The positive buckets' counts as deltas.
    public let positiveDeltas: [Int64]
    /// The negative buckets' spans (by absolute value).
    public let negativeSpans: [BucketSpan]
    /// The negative buckets' counts as deltas.
    public let negativeDeltas: [Int64]

    /// Creates a value from its encoded parts.
    public init(
        schema: Int32, zeroThreshold: Double, zeroCount: UInt64, count: UInt64, sum: Double,
        positiveSpans: [BucketSpan], positiveDeltas: [Int64], negativeSpans: [BucketSpan], negativeDeltas: [Int64]
    ) {
        self.schema = schema
        self.zeroThreshold = zeroThreshold
        self.zeroCount = zeroCount
        self.count = count
        self.sum = sum
        self.positiveSpans = positiveSpans
        self.positiveDeltas = positiveDeltas
        self.negativeSpans = negativeSpans
        self.negativeDeltas = negativeDeltas
    }

    /// Creates a value from populated buckets sorted by index (counts > 0).
    package init(
        schema: Int32, zeroThreshold: Double, zeroCount: UInt64, count: UInt64, sum: Double,
        positiveBuckets: [(key: Int, count: UInt64)], negativeBuckets: [(key: Int, count: UInt64)]
    ) {
        var (positiveSpans, positiveDeltas) = Self.encode(positiveBuckets)
        let (negativeSpans, negativeDeltas) = Self.encode(negativeBuckets)
        if zeroThreshold == 0 && zeroCount == 0 && positiveSpans.isEmpty && negativeSpans.isEmpty {
            positiveSpans = [BucketSpan(offset: 0, length: 0)]
            positiveDeltas = []
        }
        self.init(
            schema: schema, zeroThreshold: zeroThreshold, zeroCount: zeroCount, count: count, sum: sum,
            positiveSpans: positiveSpans, positiveDeltas: positiveDeltas, negativeSpans: negativeSpans,
            negativeDeltas: negativeDeltas)
    }

    /// Spans and deltas for buckets sorted by index.
    package static func encode(_ buckets: [(key: Int, count: UInt64)]) -> ([BucketSpan], [Int64]) {
        var spans: [BucketSpan] = []
        var deltas: [Int64] = []
        var next = 0
        var previous: Int64 = 0
        var spanStart = 0
        var spanOffset = 0
        func closeSpan() {
            spans.append(
                BucketSpan(
                    offset: Int32(truncatingIfNeeded: spanOffset),
                    length: UInt32(truncatingIfNeeded: deltas.count &- spanStart)))
        }
        func append(_ count: Int64) {
            deltas.append(count &- previous)
            previous = count
        }
        for (index, bucket) in buckets.enumerated() {
            let gap = bucket.key &- next
            if index == 0 || gap > 2 {
                if index > 0 { closeSpan() }
                spanStart = deltas.count
                spanOffset = gap
            } else {
                for _ in 0..<max(0, gap) { append(0) }
            }
            append(Int64(truncatingIfNeeded: bucket.count))
            next = bucket.key &+ 1
        }
        if !buckets.isEmpty { closeSpan() }
        return (spans, deltas)
    }

    /// The buckets `spans` and `deltas` describe, by index, empty ones included.
    package static func decode(spans: [BucketSpan], deltas: [Int64]) -> [(key: Int, count: Int64)] {
        var buckets: [(key: Int, count: Int64)] = []
        var key = 0
        var count: Int64 = 0
        var position = 0
        for span in spans {
            key &+= Int(span.offset)
            for _ in 0..<Int(span.length) where position < deltas.count {
                count &+= deltas[position]
                position &+= 1
                buckets.append((key, count))
                key &+= 1
            }
        }
        return buckets
    }
}
