/// A sample that links a counter increment or a histogram observation to where it came from,
/// typically a trace: `{trace_id="4bf92f3577b34da6"} 0.42 1520879607.789` in OpenMetrics.
///
/// Give one to `CounterSeries.increment(by:exemplar:)` or
/// ``HistogramSeries/observe(_:exemplar:)``; the series keeps the latest one per counter and
/// per histogram bucket. Its labels must be valid label names, each name once, and their
/// names and values together at most ``maxLabelCodePoints`` Unicode code points
/// (OpenMetrics' limit); an exemplar that breaks these rules is dropped and counted as
/// ``RejectionReason/invalidExemplar``, and the observation itself is still recorded.
///
/// ```swift
/// latency.series("user-analytics").observe(
///     12.5, exemplar: Exemplar(labels: [Label(name: "trace_id", value: traceID)]))
/// ```
public struct Exemplar: Sendable, Hashable {
    /// The longest label set OpenMetrics allows: names and values, in Unicode code points.
    public static let maxLabelCodePoints = 128

    /// The exemplar's labels, in the order given (usually `trace_id`, `span_id`).
    public var labels: [Label]
    /// The value it stands for. When recording, the series sets it to the increment or the
    /// observed value.
    public var value: Double
    /// When it happened, in milliseconds since the Unix epoch; nil means "when recorded": the
    /// series stamps it then.
    public var timestampMilliseconds: Int64?

    /// Creates an exemplar. `value` is replaced by the recorded amount when the exemplar is
    /// passed to a series; `timestampMilliseconds` nil is stamped at recording.
    public init(labels: [Label], value: Double = 0, timestampMilliseconds: Int64? = nil) {
        self.labels = labels
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// Creates an exemplar from label pairs, in order: `Exemplar(["trace_id": id])` keeps
    /// a dictionary literal's order.
    public init(_ labels: KeyValuePairs<String, String>, value: Double = 0, timestampMilliseconds: Int64? = nil) {
        self.init(
            labels: labels.map { Label(name: $0.key, value: $0.value) }, value: value,
            timestampMilliseconds: timestampMilliseconds)
    }

    /// Why the exemplar cannot be recorded (an invalid or repeated label name, labels over
    /// ``maxLabelCodePoints``); nil when it is valid.
    public var problem: String? {
        var codePoints = 0
        for (index, label) in labels.enumerated() {
            guard NameValidation.isValidLabelName(label.name) else { return "invalid label name \(label.name)" }
            for earlier in labels[..<index] where earlier.name == label.name {
                return "repeated label name \(label.name)"
            }
            codePoints &+= label.name.unicodeScalars.count &+ label.value.unicodeScalars.count
        }
        guard codePoints <= Self.maxLabelCodePoints else {
            return "labels have \(codePoints) code points, more than \(Self.maxLabelCodePoints)"
        }
        return nil
    }
}
