/// Writes one family's exposition as its series are read: the header lines before the first
/// series (a family without series writes nothing), then one line per counter or gauge,
/// several per histogram.
///
/// The sample names are kept in the writer, so a series costs no copy or retain of them.
struct FamilyWriter {
    private let encoder: ExpositionEncoder
    private let descriptor: FamilyDescriptor
    private var started = false
    private var names = ExpositionEncoder.FamilyNames(sample: [], bucket: [], sum: [], count: [])
    private var histogram = ExpositionEncoder.HistogramLines(
        names: ExpositionEncoder.FamilyNames(sample: [], bucket: [], sum: [], count: []))

    init(encoder: ExpositionEncoder, descriptor: FamilyDescriptor) {
        self.encoder = encoder
        self.descriptor = descriptor
    }

    /// Appends the lines of one series; OpenMetrics adds the exemplars of `exemplars` to the
    /// counter's line and the histogram's bucket lines (Prometheus text has none).
    @inline(__always)
    mutating func append(
        _ labels: UnsafeRawBufferPointer, _ value: SeriesValue, exemplars store: ExemplarStore? = nil,
        into out: inout [UInt8]
    ) {
        if !started { start(into: &out) }
        let exemplars = encoder.format == .openMetrics ? store?.read() : nil
        switch value {
        case .counter(let scalar), .gauge(let scalar):
            encoder.appendSample(names.sample, labels, value: scalar, into: &out)
            if let exemplar = exemplars?.slot(0) { ExemplarText.appendToLine(exemplar, into: &out) }
        case .histogram(let value):
            histogram.append(value, labels: labels, exemplars: exemplars, into: &out)
        }
    }

    private mutating func start(into out: inout [UInt8]) {
        started = true
        names = encoder.header(
            name: descriptor.name, help: descriptor.help, unit: descriptor.unit, type: descriptor.type, into: &out)
        histogram = ExpositionEncoder.HistogramLines(names: names)
    }
}
