extension MetricsRegistry {
    /// Appends the exposition of every family to `buffer` (reuse the buffer between calls).
    ///
    /// ```swift
    /// var buffer: [UInt8] = []
    /// registry.emit(into: &buffer)
    /// ```
    public func emit(into buffer: inout [UInt8], format: ExpositionFormat = .prometheusText) {
        ExpositionEncoder(format: format).encode(snapshot(), into: &buffer)
    }
}
