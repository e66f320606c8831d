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
