import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// Decodes remote-write bodies (snappy block + protobuf-c) within ``WriteRequestLimits``,
/// and checks the spec's rules.
public enum WriteRequestDecoder {
    /// Decompresses and decodes `body`; refuses invalid snappy, bytes that are not a
    /// WriteRequest (400) and requests over `limits` (413, measured before decoding).
    public static func decode(body: [UInt8], limits: WriteRequestLimits = WriteRequestLimits())
        throws(WriteRequestError) -> DecodedWriteRequest
    {
        let protobuf: [UInt8]
        do {
            protobuf = try Snappy.decompress(body, limit: limits.maxDecompressedBytes)
        } catch .tooLarge(let length, let limit) {
            throw WriteRequestError(
                "request too large: \(length) bytes uncompressed, more than \(limit) (limit max_decompressed_bytes)",
                isTooLarge: true)
        } catch {
            throw WriteRequestError(error.description)
        }
        return try decodeProtobuf(protobuf, limits: limits)
    }

    /// Decodes uncompressed protobuf bytes within `limits`.
    public static func decodeProtobuf(_ bytes: [UInt8], limits: WriteRequestLimits = WriteRequestLimits())
        throws(WriteRequestError) -> DecodedWriteRequest
    {
        _ = try WriteRequestScan.measure(bytes, limits: limits)
        let budget = DecodeAllocationBudget(limit: limits.maxDecodedBytes)
        guard let result = unpack(bytes, budget: budget) else {
            if budget.refused {
                throw WriteRequestError(
                    "request too large: decoding needs more than \(limits.maxDecodedBytes) bytes"
                        + " (limit max_decoded_bytes)", isTooLarge: true)
            }
            throw WriteRequestError("body is not a protobuf prometheus.WriteRequest")
        }
        return try result.get()
    }

    /// Decodes without the scan, counting protobuf-c's allocations (the fuzz target compares
    /// them with the scan's estimate). Nil when protobuf-c refuses the bytes.
    package static func unpackCounted(_ bytes: [UInt8]) -> (request: DecodedWriteRequest?, allocated: Int) {
        let budget = DecodeAllocationBudget(limit: .max)
        let request = try? unpack(bytes, budget: budget)?.get()
        return (request, budget.allocated)
    }

    /// Nil when protobuf-c refuses the bytes (or the budget refused an allocation).
    private static func unpack(_ bytes: [UInt8], budget: DecodeAllocationBudget)
        -> Result<DecodedWriteRequest, WriteRequestError>?
    {
        budget.withAllocator { allocator in
            let unpacked = bytes.withUnsafeBufferPointer { buffer in
                prometheus__write_request__unpack(allocator, buffer.count, buffer.baseAddress)
            }
            guard let request = unpacked else { return nil }
            defer { prometheus__write_request__free_unpacked(request, allocator) }
            return convert(request.pointee)
        }
    }

    /// Copies protobuf-c's structs into Swift values.
    private static func convert(_ request: Prometheus__WriteRequest) -> Result<DecodedWriteRequest, WriteRequestError> {
        var timeSeries: [RemoteTimeSeries] = []
        timeSeries.reserveCapacity(request.n_timeseries)
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
            timeSeries.append(RemoteTimeSeries(labels: labels, samples: samples))
        }
        var metadata: [RemoteMetadata] = []
        for index in 0..<request.n_metadata {
            guard let entry = request.metadata[index]?.pointee else { continue }
            metadata.append(
                RemoteMetadata(
                    familyName: string(entry.metric_family_name) ?? "", type: metricType(entry.type),
                    help: string(entry.help) ?? "", unit: string(entry.unit) ?? ""))
        }
        return .success(DecodedWriteRequest(timeSeries: timeSeries, metadata: metadata))
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
