import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// Decodes remote-write bodies (snappy block + protobuf-c) and checks the spec's rules.
public enum WriteRequestDecoder {
    /// Decompresses and decodes `body`; refuses invalid snappy, oversized bodies and bytes
    /// that are not a WriteRequest.
    public static func decode(body: [UInt8], maxDecompressedBytes: Int = 64 << 20) throws(WriteRequestError)
        -> DecodedWriteRequest
    {
        let protobuf: [UInt8]
        do {
            protobuf = try Snappy.decompress(body, limit: maxDecompressedBytes)
        } catch {
            throw WriteRequestError(error.description)
        }
        return try decodeProtobuf(protobuf)
    }

    /// Decodes uncompressed protobuf bytes.
    public static func decodeProtobuf(_ bytes: [UInt8]) throws(WriteRequestError) -> DecodedWriteRequest {
        let unpacked = bytes.withUnsafeBufferPointer { buffer in
            prometheus__write_request__unpack(nil, buffer.count, buffer.baseAddress)
        }
        guard let request = unpacked else {
            throw WriteRequestError("body is not a protobuf prometheus.WriteRequest")
        }
        defer { prometheus__write_request__free_unpacked(request, nil) }
        var timeSeries: [RemoteTimeSeries] = []
        timeSeries.reserveCapacity(request.pointee.n_timeseries)
        for seriesIndex in 0..<request.pointee.n_timeseries {
            guard let entry = request.pointee.timeseries[seriesIndex]?.pointee else { continue }
            var labels: [Label] = []
            labels.reserveCapacity(entry.n_labels)
            for labelIndex in 0..<entry.n_labels {
                guard let label = entry.labels[labelIndex]?.pointee else { continue }
                guard let name = string(label.name), let value = string(label.value) else {
                    throw WriteRequestError("series \(seriesIndex): a label is not valid UTF-8")
                }
                labels.append(Label(name: name, value: value))
            }
            var samples: [RemoteSample] = []
            samples.reserveCapacity(entry.n_samples)
            for sampleIndex in 0..<entry.n_samples {
                guard let sample = entry.samples[sampleIndex]?.pointee else { continue }
                samples.append(RemoteSample(value: sample.value, timestampMilliseconds: sample.timestamp))
            }
            timeSeries.append(RemoteTimeSeries(labels: labels, samples: samples))
        }
        var metadata: [RemoteMetadata] = []
        for index in 0..<request.pointee.n_metadata {
            guard let entry = request.pointee.metadata[index]?.pointee else { continue }
            metadata.append(
                RemoteMetadata(
                    familyName: string(entry.metric_family_name) ?? "", type: metricType(entry.type),
                    help: string(entry.help) ?? "", unit: string(entry.unit) ?? ""))
        }
        return DecodedWriteRequest(timeSeries: timeSeries, metadata: metadata)
    }

    /// The remote-write 1.0 rules for every series: labels sorted by name, no repeated or
    /// empty names, no empty values, `__name__` present and valid, valid label names, at
    /// least one sample. Returns the first violation.
    public static func violation(in request: DecodedWriteRequest) -> String? {
        for (index, series) in request.timeSeries.enumerated() {
            let where_ = "series \(index) (\(series.metricName.isEmpty ? "no __name__" : series.metricName))"
            guard series.labels.contains(where: { $0.name == "__name__" }) else {
                return "\(where_): no __name__ label"
            }
            for (position, label) in series.labels.enumerated() {
                if label.name.isEmpty { return "\(where_): empty label name" }
                if label.value.isEmpty { return "\(where_): label \(label.name) has an empty value" }
                if label.name == "__name__" {
                    if !NameValidation.isValidMetricName(label.value) {
                        return "\(where_): invalid metric name"
                    }
                } else if !NameValidation.isValidLabelName(label.name) {
                    return "\(where_): invalid label name \(label.name)"
                }
                if position > 0 {
                    let previous = series.labels[position - 1].name
                    if previous == label.name { return "\(where_): repeated label name \(label.name)" }
                    if !previous.utf8.lexicographicallyPrecedes(label.name.utf8) {
                        return "\(where_): labels not sorted by name (\(previous) before \(label.name))"
                    }
                }
            }
            if series.samples.isEmpty && request.metadata.isEmpty { return "\(where_): no samples" }
            for (position, sample) in series.samples.enumerated().dropFirst()
            where sample.timestampMilliseconds < series.samples[position - 1].timestampMilliseconds {
                return "\(where_): samples not in timestamp order"
            }
        }
        return nil
    }

    private static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return "" }
        return String(validatingCString: pointer)
    }

    private static func metricType(_ type: Prometheus__MetricMetadata__MetricType) -> MetricType {
        switch type {
        case PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER: .counter
        case PROMETHEUS__METRIC_METADATA__METRIC_TYPE__HISTOGRAM: .histogram
        default: .gauge
        }
    }
}
