/// A counter family: finds the series for a set of label values.
///
/// Values are given in the order of the `labelNames` the family was registered with.
/// The fixed-arity overloads allocate nothing for a series that already exists.
///
/// ```swift
/// let received = registry.counterFamily(
///     name: "records_received_total", help: "Records received", labelNames: ["source_id"])
/// received.series("kafka-source-1").increment(by: 100)
/// ```
public struct CounterFamily: Sendable {
    package let storage: MetricFamily<CounterSeries>

    /// The series of a family without labels.
    public func series() -> CounterSeries { storage.series(.none) }
    /// The series for one label value.
    public func series(_ value: String) -> CounterSeries { storage.series(.one(value)) }
    /// The series for two label values.
    public func series(_ first: String, _ second: String) -> CounterSeries { storage.series(.two(first, second)) }
    /// The series for any number of label values.
    public func series(_ values: [String]) -> CounterSeries { storage.series(LabelValuesKey(values: values)) }
    /// Removes the series for these label values; the push path sends it a stale marker.
    @discardableResult
    public func remove(_ values: [String]) -> Bool { storage.remove(LabelValuesKey(values: values)) }
}

/// A gauge family: finds the series for a set of label values.
///
/// ```swift
/// let utilization = registry.gaugeFamily(name: "buffer_utilization", help: "Fill", labelNames: ["stage_id"])
/// utilization.series("filter-stage").set(0.45)
/// ```
public struct GaugeFamily: Sendable {
    package let storage: MetricFamily<GaugeSeries>

    /// The series of a family without labels.
    public func series() -> GaugeSeries { storage.series(.none) }
    /// The series for one label value.
    public func series(_ value: String) -> GaugeSeries { storage.series(.one(value)) }
    /// The series for two label values.
    public func series(_ first: String, _ second: String) -> GaugeSeries { storage.series(.two(first, second)) }
    /// The series for any number of label values.
    public func series(_ values: [String]) -> GaugeSeries { storage.series(LabelValuesKey(values: values)) }
    /// Removes the series for these label values; the push path sends it a stale marker.
    @discardableResult
    public func remove(_ values: [String]) -> Bool { storage.remove(LabelValuesKey(values: values)) }
}

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
