import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

extension WriteRequestDecoder {
    /// Copies protobuf-c's structs of a remote write 1.0 request into Swift values.
    static func convert(_ request: Prometheus__WriteRequest) -> Result<DecodedWriteRequest, WriteRequestError> {
        var timeSeries: [RemoteTimeSeries] = []
        timeSeries.reserveCapacity(request.n_timeseries)
        var exemplars = 0
        var histograms = 0
        for seriesIndex in 0..<request.n_timeseries {
            guard let entry = request.timeseries[seriesIndex]?.pointee else { continue }
            var labels: [Label] = []
            labels.reserveCapacity(entry.n_labels)
            for labelIndex in 0..<entry.n_labels {
                guard let label = entry.labels[labelIndex]?.pointee else { continue }
                guard let name = string(label.name), let value = string(label.value) else {
                    return .failure(WriteRequestError("series \(seriesIndex): a label is not valid UTF-8"))
                }
                labels.append(Label(name: name, value: value))
            }
            var samples: [RemoteSample] = []
            samples.reserveCapacity(entry.n_samples)
            for sampleIndex in 0..<entry.n_samples {
                guard let sample = entry.samples[sampleIndex]?.pointee else { continue }
                samples.append(RemoteSample(value: sample.value, timestampMilliseconds: sample.timestamp))
            }
            exemplars += entry.n_exemplars
            if entry.n_samples > 0 && entry.n_histograms > 0 {
                return .failure(
                    WriteRequestError(
                        "series \(seriesIndex): has both samples and histograms (send them as two series)"))
            }
            histograms += entry.n_histograms
            timeSeries.append(RemoteTimeSeries(labels: labels, samples: samples, histogramCount: entry.n_histograms))
        }
        var metadata: [RemoteMetadata] = []
        for index in 0..<request.n_metadata {
            guard let entry = request.metadata[index]?.pointee else { continue }
            metadata.append(
                RemoteMetadata(
                    familyName: string(entry.metric_family_name) ?? "", type: metricType(entry.type),
                    help: string(entry.help) ?? "", unit: string(entry.unit) ?? ""))
        }
        return .success(
            DecodedWriteRequest(
                protocolVersion: .v1, timeSeries: timeSeries, metadata: metadata, histogramCount: histograms,
                exemplarCount: exemplars))
    }

    private static func metricType(_ type: Prometheus__MetricMetadata__MetricType) -> MetricType {
        switch type {
        case PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER: .counter
        case PROMETHEUS__METRIC_METADATA__METRIC_TYPE__HISTOGRAM: .histogram
        default: .gauge
        }
    }
}
