extension MetricsRegistry {
    /// Appends the exposition of every family to `buffer` (reuse the buffer between calls).
    ///
    /// Renders straight from the series (no intermediate snapshot): this is the one read
    /// path of every format, for `/metrics` and for tests alike. ``ExpositionFormat/protobuf``
    /// writes binary messages; the text formats write UTF-8.
    ///
    /// ```swift
    /// var buffer: [UInt8] = []
    /// registry.emit(into: &buffer)
    /// ```
    public func emit(into buffer: inout [UInt8], format: ExpositionFormat = .prometheusText) {
        runCollectors()
        if format == .protobuf {
            var writer = ProtobufFamilyWriter()
            for family in sortedFamilies() {
                writer.begin(family.descriptor)
                family.forEachSeriesWithCreated { labels, value, created, exemplars in
                    writer.append(labels, value, createdMilliseconds: created, exemplars: exemplars?.read())
                }
                writer.end(into: &buffer)
            }
            return
        }
        let encoder = ExpositionEncoder(format: format)
        for family in sortedFamilies() {
            var writer = FamilyWriter(encoder: encoder, descriptor: family.descriptor)
            family.forEachSeries { labels, value, exemplars in
                writer.append(labels, value, exemplars: exemplars, into: &buffer)
            }
        }
        encoder.finish(into: &buffer)
    }

    /// The exposition of every family as text (tests, small registries, the CLI). For the
    /// text formats only: ``ExpositionFormat/protobuf`` is binary, use
    /// ``emit(into:format:)``.
    public func exposition(format: ExpositionFormat = .prometheusText) -> String {
        var buffer: [UInt8] = []
        emit(into: &buffer, format: format)
        return String(decoding: buffer, as: UTF8.self)
    }
}
