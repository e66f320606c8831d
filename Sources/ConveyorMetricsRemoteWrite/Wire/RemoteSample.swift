import ConveyorMetrics

/// One sample: a value and its timestamp in milliseconds since the epoch.
public struct RemoteSample: Sendable, Equatable {
    /// The value; a stale marker is a NaN with ``staleNaNBits``.
    public var value: Double
    /// Milliseconds since the Unix epoch.
    public var timestampMilliseconds: Int64
    /// When the series started counting (remote write 2.0's `start_timestamp`, for counters
    /// and histograms), ms since the epoch; 0 when unknown or not sent (remote write 1.0).
    public var startTimestampMilliseconds: Int64

    /// A sample.
    public init(value: Double, timestampMilliseconds: Int64, startTimestampMilliseconds: Int64 = 0) {
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
        self.startTimestampMilliseconds = startTimestampMilliseconds
    }

    /// The stale marker: a NaN with exactly these bits says "this series ended".
    public static let staleNaNBits: UInt64 = 0x7ff0_0000_0000_0002
    /// The NaN every other NaN is sent as, so it is never taken for a stale marker.
    public static let normalNaNBits: UInt64 = 0x7ff8_0000_0000_0001

    /// `value`, with any NaN made the normal NaN (a stale marker is only ever made on purpose).
    @inline(__always)
    static func normalized(_ value: Double) -> Double {
        value.isNaN ? Double(bitPattern: normalNaNBits) : value
    }

    /// Whether this sample is the stale marker (series ended).
    public var isStaleMarker: Bool { value.bitPattern == Self.staleNaNBits }

    /// The stale marker at `timestamp`.
    public static func staleMarker(at timestamp: Int64) -> RemoteSample {
        RemoteSample(value: Double(bitPattern: staleNaNBits), timestampMilliseconds: timestamp)
    }
}

extension NativeHistogramValue {
    /// A native histogram series' stale marker: no buckets and no observations, its sum a NaN
    /// with ``RemoteSample/staleNaNBits``.
    static let staleMarker = NativeHistogramValue(
        schema: 0, zeroThreshold: 0, zeroCount: 0, count: 0, sum: Double(bitPattern: RemoteSample.staleNaNBits),
        positiveSpans: [], positiveDeltas: [], negativeSpans: [], negativeDeltas: [])

    /// Whether this is a stale marker: no observations (a recorded histogram without any has
    /// a sum of 0) and a sum with ``RemoteSample/staleNaNBits``.
    var isStaleMarker: Bool { count == 0 && sum.bitPattern == RemoteSample.staleNaNBits }

    /// This value with its sum as ``RemoteSample/normalized(_:)`` makes float values: any NaN
    /// the normal NaN (itself when the sum is a number).
    var normalized: NativeHistogramValue {
        guard sum.isNaN else { return self }
        return NativeHistogramValue(
            schema: schema, zeroThreshold: zeroThreshold, zeroCount: zeroCount, count: count,
            sum: RemoteSample.normalized(sum), positiveSpans: positiveSpans, positiveDeltas: positiveDeltas,
            negativeSpans: negativeSpans, negativeDeltas: negativeDeltas)
    }
}
