/// Why a recorded value or a registration was dropped.
///
/// Each reason is a value of the `reason` label of
/// `conveyor_metrics_rejected_values_total`.
public enum RejectionReason: String, Sendable, CaseIterable {
    /// A NaN was recorded.
    case notANumber = "nan"
    /// ±Infinity was recorded where only finite values make sense (counters, histograms).
    case infinite = "infinite"
    /// A counter was asked to go down.
    case negativeIncrement = "negative_increment"
    /// A value outside the metric's documented range (e.g. utilization outside 0…1).
    case outOfRange = "out_of_range"
    /// The family already holds its series limit; the new series was not created.
    case cardinalityLimit = "cardinality_limit"
    /// A label value longer than the registry's `maxLabelValueBytes`.
    case labelValueTooLong = "label_value_too_long"
    /// The number of label values does not match the family's label names.
    case labelCountMismatch = "label_count_mismatch"
    /// A family was registered again with another type, label names, help or buckets.
    case conflictingRegistration = "conflicting_registration"
    /// A metric or label name that Prometheus cannot accept.
    case invalidName = "invalid_name"
    /// An exemplar with an invalid or repeated label name, or labels longer than
    /// ``Exemplar/maxLabelCodePoints``; the value it came with is still recorded.
    case invalidExemplar = "invalid_exemplar"
}
