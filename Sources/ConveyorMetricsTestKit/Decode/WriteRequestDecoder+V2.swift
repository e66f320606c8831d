import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

extension WriteRequestDecoder {
    /// Copies protobuf-c's structs of a remote write 2.0 request into Swift values: label
    /// refs resolved from the symbol table, inline metadata gathered per metric name.
    /// Refuses what cannot be resolved or breaks the spec's shape rules for a series.
    static func convert(_ request: Io__Prometheus__Write__V2__Request, maxLabelBytes: Int) throws(WriteRequestError)
        -> DecodedWriteRequest
    {
        var labelBytes = LabelBytes(limit: maxLabelBytes)
        var symbols: [String] = []
        symbols.reserveCapacity(request.n_symbols)
        for index in 0..<request.n_symbols {
            guard let symbol = string(request.symbols[index]) else {
                throw WriteRequestError("symbol \(index) is not valid UTF-8")
            }
            symbols.append(symbol)
        }
        if request.n_timeseries > 0 || !symbols.isEmpty, symbols.first != "" {
            throw WriteRequestError(
                symbols.isEmpty ? "the symbol table is empty: symbols[0] must be \"\"" : "symbols[0] must be \"\"")
        }
        var decoded = DecodedWriteRequest(protocolVersion: .v2, timeSeries: [], metadata: [])
        decoded.timeSeries.reserveCapacity(request.n_timeseries)
        var families: Set<String> = []
        for seriesIndex in 0..<request.n_timeseries {
            guard let entry = request.timeseries[seriesIndex]?.pointee else { continue }
            let place = "series \(seriesIndex)"
            let labels = try resolve(
                entry.labels_refs, count: entry.n_labels_refs, symbols, place: place, &labelBytes)
            if entry.n_samples > 0 && entry.n_histograms > 0 {
                throw WriteRequestError("\(place): has both samples and histograms (send them as two series)")
            }
            if entry.n_samples == 0 && entry.n_histograms == 0 {
                throw WriteRequestError("\(place): has no samples or histograms")
            }
            var samples: [RemoteSample] = []
            samples.reserveCapacity(entry.n_samples)
            for index in 0..<entry.n_samples {
                guard let sample = entry.samples[index]?.pointee else { continue }
                samples.append(
                    RemoteSample(
                        value: sample.value, timestampMilliseconds: sample.timestamp,
                        startTimestampMilliseconds: sample.start_timestamp))
            }
            for index in 0..<entry.n_exemplars {
                guard let exemplar = entry.exemplars[index]?.pointee else { continue }
                _ = try resolve(
                    exemplar.labels_refs, count: exemplar.n_labels_refs, symbols, place: "\(place) exemplar \(index)",
                    &labelBytes)
            }
            let series = RemoteTimeSeries(labels: labels, samples: samples, histogramCount: entry.n_histograms)
            if let metadata = entry.metadata?.pointee,
                let family = try familyMetadata(metadata, of: series.metricName, symbols, place: place),
                families.insert(family.familyName).inserted
            {
                decoded.metadata.append(family)
            }
            decoded.histogramCount += entry.n_histograms
            decoded.exemplarCount += entry.n_exemplars
            decoded.timeSeries.append(series)
        }
        return decoded
    }

    /// The label bytes resolved so far against their limit.
    struct LabelBytes {
        let limit: Int
        var total = 0

        mutating func add(_ name: String, _ value: String) throws(WriteRequestError) {
            total = total.addingReportingOverflow(name.utf8.count + value.utf8.count).partialValue
            guard total >= 0, total <= limit else {
                throw WriteRequestError(
                    "request too large: its labels resolve to more than \(limit) bytes (limit max_label_bytes)",
                    isTooLarge: true)
            }
        }
    }

    /// Name/value pairs of refs into `symbols`.
    private static func resolve(
        _ refs: UnsafeMutablePointer<UInt32>?, count: Int, _ symbols: [String], place: String,
        _ labelBytes: inout LabelBytes
    ) throws(WriteRequestError) -> [Label] {
        guard count % 2 == 0 else { throw WriteRequestError("\(place): labels_refs has an odd count (\(count))") }
        guard let refs else { return [] }
        var labels: [Label] = []
        labels.reserveCapacity(count / 2)
        for pair in stride(from: 0, to: count, by: 2) {
            let name = try symbol(refs[pair], symbols, place: place)
            let value = try symbol(refs[pair + 1], symbols, place: place)
            try labelBytes.add(name, value)
            labels.append(Label(name: name, value: value))
        }
        return labels
    }

    private static func symbol(_ ref: UInt32, _ symbols: [String], place: String, field: String = "labels_refs")
        throws(WriteRequestError) -> String
    {
        guard Int(ref) < symbols.count else {
            throw WriteRequestError(
                "\(place): \(field) \(ref) is not in the symbol table (\(symbols.count) symbols)")
        }
        return symbols[Int(ref)]
    }

    /// A series' metadata as its family's, nil when it says nothing (no type, help or unit)
    /// or the series has no name.
    private static func familyMetadata(
        _ metadata: Io__Prometheus__Write__V2__Metadata, of name: String, _ symbols: [String], place: String
    ) throws(WriteRequestError) -> RemoteMetadata? {
        let help = try symbol(metadata.help_ref, symbols, place: place, field: "metadata help_ref")
        let unit = try symbol(metadata.unit_ref, symbols, place: place, field: "metadata unit_ref")
        let unspecified = IO__PROMETHEUS__WRITE__V2__METADATA__METRIC_TYPE__METRIC_TYPE_UNSPECIFIED
        guard !name.isEmpty, metadata.type != unspecified || !help.isEmpty || !unit.isEmpty else { return nil }
        return RemoteMetadata(familyName: name, type: metricType(metadata.type), help: help, unit: unit)
    }

    private static func metricType(_ type: Io__Prometheus__Write__V2__Metadata__MetricType) -> MetricType {
        switch type {
        case IO__PROMETHEUS__WRITE__V2__METADATA__METRIC_TYPE__METRIC_TYPE_COUNTER: .counter
        case IO__PROMETHEUS__WRITE__V2__METADATA__METRIC_TYPE__METRIC_TYPE_HISTOGRAM: .histogram
        default: .gauge
        }
    }
}
