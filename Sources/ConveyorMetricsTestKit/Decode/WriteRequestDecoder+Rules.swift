import ConveyorMetrics
import ConveyorMetricsRemoteWrite

extension WriteRequestDecoder {
    /// The rules for every series, of both protocols: labels sorted by name (byte order), no
    /// repeated or empty names, no empty values, `__name__` present and valid, valid label
    /// names, samples in timestamp order; for remote write 1.0 also at least one sample
    /// (unless the request carries metadata; 2.0's decoding already requires a sample or a
    /// histogram). Returns the first violation.
    public static func violation(in request: DecodedWriteRequest) -> String? {
        for (index, series) in request.timeSeries.enumerated() {
            // Named only when something is wrong, and cut short: the name is the peer's text.
            var where_: String {
                let name = series.metricName.isEmpty ? "no __name__" : String(series.metricName.prefix(120))
                return "series \(index) (\(name))"
            }
            guard series.labels.contains(where: { $0.name == "__name__" }) else {
                return "\(where_): no __name__ label"
            }
            for (position, label) in series.labels.enumerated() {
                if label.name.isEmpty { return "\(where_): empty label name" }
                if label.value.isEmpty { return "\(where_): label \(label.name.prefix(120)) has an empty value" }
                if label.name == "__name__" {
                    if !NameValidation.isValidMetricName(label.value) {
                        return "\(where_): invalid metric name"
                    }
                } else if !NameValidation.isValidLabelName(label.name) {
                    return "\(where_): invalid label name \(label.name.prefix(120))"
                }
                if position > 0 {
                    let previous = series.labels[position - 1].name
                    if previous == label.name { return "\(where_): repeated label name \(label.name.prefix(120))" }
                    if !previous.utf8.lexicographicallyPrecedes(label.name.utf8) {
                        return
                            "\(where_): labels not sorted by name (\(previous.prefix(120)) before \(label.name.prefix(120)))"
                    }
                }
            }
            if request.protocolVersion == .v1 && series.samples.isEmpty && series.histogramCount == 0
                && request.metadata.isEmpty
            {
                return "\(where_): no samples"
            }
            for (position, sample) in series.samples.enumerated().dropFirst()
            where sample.timestampMilliseconds < series.samples[position - 1].timestampMilliseconds {
                return "\(where_): samples not in timestamp order"
            }
        }
        return nil
    }
}
