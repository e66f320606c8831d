extension MetricsRegistry {
    /// Appends the exposition of every family to `buffer` (reuse the buffer between calls).
    ///
    /// Renders straight from the series (no intermediate snapshot): this is the one read
    /// path of the text formats, for `/metrics` and for tests alike.
    ///
    /// ```swift
    /// var buffer: [UInt8] = []
    /// registry.emit(into: &buffer)
    /// ```
    public func emit(into buffer: inout [UInt8], format: ExpositionFormat = .prometheusText) {
        runCollectors()
        let encoder = ExpositionEncoder(format: format)
        for family in sortedFamilies() {
            var writer = FamilyWriter(encoder: encoder, descriptor: family.descriptor)
            family.forEachSeries { labels, value in writer.append(labels, value, into: &buffer) }
        }
        encoder.finish(into: &buffer)
    }

    /// The exposition of every family as text (tests, small registries, the CLI).
    public func exposition(format: ExpositionFormat = .prometheusText) -> String {
        var buffer: [UInt8] = []
        emit(into: &buffer, format: format)
        return String(decoding: buffer, as: UTF8.self)
    }
}
