extension MetricsRegistry {
    /// Appends the exposition of every family to `buffer` (reuse the buffer between calls).
    ///
    /// Renders straight from the series (no intermediate snapshot).
    ///
    /// ```swift
    /// var buffer: [UInt8] = []
    /// registry.emit(into: &buffer)
    /// ```
    public func emit(into buffer: inout [UInt8], format: ExpositionFormat = .prometheusText) {
        let encoder = ExpositionEncoder(format: format)
        for family in sortedFamilies() { family.render(encoder, into: &buffer) }
        encoder.finish(into: &buffer)
    }
}

extension MetricFamily {
    /// This family's exposition, read directly from its series.
    package func render(_ encoder: ExpositionEncoder, into out: inout [UInt8]) {
        let series = sortedSeries()
        guard !series.isEmpty else { return }
        let names = encoder.header(
            name: descriptor.name, help: descriptor.help, unit: descriptor.unit, type: descriptor.type, into: &out)
        var histogram = ExpositionEncoder.HistogramLines(names: names)
        series.withUnsafeBufferPointer { buffer in
            for item in buffer {
                switch item.snapshotValue() {
                case .counter(let value), .gauge(let value):
                    encoder.appendSample(names.sample, item.renderedLabels, value: value, into: &out)
                case .histogram(let value):
                    histogram.append(value, labels: item.renderedLabels, into: &out)
                }
            }
        }
    }
}
