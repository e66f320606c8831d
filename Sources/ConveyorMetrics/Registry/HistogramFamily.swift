/// A histogram family: finds the series for a set of label values.
///
/// ```swift
/// let latency = registry.histogramFamily(
///     name: "routing_latency_ms", help: "Latency", labelNames: ["pipeline_id"], buckets: [1, 5, 10])
/// latency.series("user-analytics").observe(15.5)
/// ```
public struct HistogramFamily: Sendable {
    package let storage: MetricFamily<HistogramSeries>

    /// The series of a family without labels.
    public func series() -> HistogramSeries { storage.series(.none) }
    /// The series for one label value.
    public func series(_ value: String) -> HistogramSeries { storage.series(.one(value)) }
    /// The series for two label values.
    public func series(_ first: String, _ second: String) -> HistogramSeries { storage.series(.two(first, second)) }
    /// The series for any number of label values.
    public func series(_ values: [String]) -> HistogramSeries { storage.series(LabelValuesKey(values: values)) }
    /// Removes the series for these label values; the push path sends it a stale marker.
    @discardableResult
    public func remove(_ values: [String]) -> Bool { storage.remove(LabelValuesKey(values: values)) }
    /// The family's finite upper bounds.
    public var upperBounds: [Double] { storage.configuration.upperBounds }
}
