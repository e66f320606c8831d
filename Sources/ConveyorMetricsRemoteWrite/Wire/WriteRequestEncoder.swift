import CRemoteWriteProto
import ConveyorMetrics

/// Builds `prometheus.WriteRequest` messages with protobuf-c and packs them.
///
/// The C structures are laid out in arenas owned by the encoder and reused from one
/// request to the next, so a steady flush allocates only when a request outgrows the last.
/// Not thread-safe: each sender owns one.
package final class WriteRequestEncoder {
    private var strings = Arena<CChar>()
    private var labels = Arena<Prometheus__Label>()
    private var labelPointers = Arena<UnsafeMutablePointer<Prometheus__Label>?>()
    private var samples = Arena<Prometheus__Sample>()
    private var samplePointers = Arena<UnsafeMutablePointer<Prometheus__Sample>?>()
    private var series = Arena<Prometheus__TimeSeries>()
    private var seriesPointers = Arena<UnsafeMutablePointer<Prometheus__TimeSeries>?>()
    private var metadata = Arena<Prometheus__MetricMetadata>()
    private var metadataPointers = Arena<UnsafeMutablePointer<Prometheus__MetricMetadata>?>()
    private var packed: [UInt8] = []

    package init() {}

    deinit {
        strings.release()
        labels.release()
        labelPointers.release()
        samples.release()
        samplePointers.release()
        series.release()
        seriesPointers.release()
        metadata.release()
        metadataPointers.release()
    }

    /// The protobuf bytes of a request holding `timeSeries` and `metadata`.
    package func encode(_ timeSeries: [RemoteTimeSeries], metadata families: [RemoteMetadata] = []) -> [UInt8] {
        let labelCount = timeSeries.reduce(0) { $0 + $1.labels.count }
        let sampleCount = timeSeries.reduce(0) { $0 + $1.samples.count }
        var stringBytes = 0
        for item in timeSeries {
            for label in item.labels { stringBytes += label.name.utf8.count + label.value.utf8.count + 2 }
        }
        for family in families {
            stringBytes += family.familyName.utf8.count + family.help.utf8.count + family.unit.utf8.count + 3
        }
        strings.reset(capacity: stringBytes)
        labels.reset(capacity: labelCount)
        labelPointers.reset(capacity: labelCount)
        samples.reset(capacity: sampleCount)
        samplePointers.reset(capacity: sampleCount)
        series.reset(capacity: timeSeries.count)
        seriesPointers.reset(capacity: timeSeries.count)
        metadata.reset(capacity: families.count)
        metadataPointers.reset(capacity: families.count)

        for item in timeSeries {
            let firstLabel = labelPointers.count
            for label in item.labels {
                let pointer = labels.append { prometheus__label__init($0) }
                pointer.pointee.name = strings.appendCString(label.name)
                pointer.pointee.value = strings.appendCString(label.value)
                _ = labelPointers.append { $0.initialize(to: pointer) }
            }
            let firstSample = samplePointers.count
            for sample in item.samples {
                let pointer = samples.append { prometheus__sample__init($0) }
                pointer.pointee.value = sample.value
                pointer.pointee.timestamp = sample.timestampMilliseconds
                _ = samplePointers.append { $0.initialize(to: pointer) }
            }
            let entry = series.append { prometheus__time_series__init($0) }
            entry.pointee.n_labels = item.labels.count
            entry.pointee.labels = labelPointers.base.map { $0 + firstLabel }
            entry.pointee.n_samples = item.samples.count
            entry.pointee.samples = samplePointers.base.map { $0 + firstSample }
            _ = seriesPointers.append { $0.initialize(to: entry) }
        }
        for family in families {
            let entry = metadata.append { prometheus__metric_metadata__init($0) }
            entry.pointee.type = Self.metadataType(family.type)
            entry.pointee.metric_family_name = strings.appendCString(family.familyName)
            entry.pointee.help = strings.appendCString(family.help)
            entry.pointee.unit = strings.appendCString(family.unit)
            _ = metadataPointers.append { $0.initialize(to: entry) }
        }

        var request = Prometheus__WriteRequest()
        prometheus__write_request__init(&request)
        request.n_timeseries = timeSeries.count
        request.timeseries = timeSeries.isEmpty ? nil : seriesPointers.base
        request.n_metadata = families.count
        request.metadata = families.isEmpty ? nil : metadataPointers.base
        let size = prometheus__write_request__get_packed_size(&request)
        if packed.count != size { packed = [UInt8](repeating: 0, count: size) }
        let written = packed.withUnsafeMutableBufferPointer { buffer in
            prometheus__write_request__pack(&request, buffer.baseAddress)
        }
        return written == size ? packed : Array(packed.prefix(written))
    }

    private static func metadataType(_ type: MetricType) -> Prometheus__MetricMetadata__MetricType {
        switch type {
        case .counter: PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER
        case .gauge: PROMETHEUS__METRIC_METADATA__METRIC_TYPE__GAUGE
        case .histogram: PROMETHEUS__METRIC_METADATA__METRIC_TYPE__HISTOGRAM
        }
    }
}
