import ConveyorMetrics
import Yams

/// Reads `native_histograms`: per histogram family of the metric set, whether it also
/// records a native histogram, with client_golang's parameters.
///
/// ```yaml
/// native_histograms:
///   conveyor_router_routing_latency_ms:
///     bucket_factor: 1.1        # schema 3: buckets 9% wide
///     max_bucket_count: 160
///     min_reset_duration: 0s
///     zero_threshold: 2.938735877055719e-39
///     keep_classic_buckets: true
///   # or `conveyor_router_routing_latency_ms: false` for classic buckets only
/// ```
struct NativeHistogramConfigReader {
    let reader: YAMLReader

    /// The histogram families of the metric set that may record natively.
    static let families = [ConveyorMetric.routingLatency.name]

    /// The families named, each with its options (nil: classic only).
    func read(_ node: Node) throws(ConfigError) -> [String: NativeHistogramOptions?] {
        let fields = try reader.mapping(node, at: "native_histograms", allowed: Set(Self.families))
        var result: [String: NativeHistogramOptions?] = [:]
        for (name, value) in fields {
            let key = "native_histograms.\(name)"
            if case .scalar = value {
                result[name] = try reader.bool(value, at: key) ? NativeHistogramOptions(keepClassicBuckets: true) : nil
                continue
            }
            let settings = try reader.mapping(
                value, at: key,
                allowed: [
                    "bucket_factor", "zero_threshold", "max_bucket_count", "min_reset_duration",
                    "keep_classic_buckets",
                ])
            var options = NativeHistogramOptions(keepClassicBuckets: true)
            if let node = settings["bucket_factor"] {
                options.bucketFactor = try reader.number(
                    node, at: "\(key).bucket_factor", range: 1.000_000_000_001...65536)
            }
            if let node = settings["zero_threshold"] {
                options.zeroThreshold = try reader.number(node, at: "\(key).zero_threshold", range: 0...1e300)
            }
            if let node = settings["max_bucket_count"] {
                options.maxBucketCount = try reader.integer(node, at: "\(key).max_bucket_count", range: 0...100_000)
            }
            if let node = settings["min_reset_duration"] {
                options.minResetDuration = try reader.duration(node, at: "\(key).min_reset_duration")
            }
            if let node = settings["keep_classic_buckets"] {
                options.keepClassicBuckets = try reader.bool(node, at: "\(key).keep_classic_buckets")
            }
            result[name] = options
        }
        return result
    }
}
