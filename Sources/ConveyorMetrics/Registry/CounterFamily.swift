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
