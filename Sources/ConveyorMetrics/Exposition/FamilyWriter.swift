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

    /// Appends the lines of one series.
    @inline(__always)
    mutating func append(_ labels: UnsafeRawBufferPointer, _ value: SeriesValue, into out: inout [UInt8]) {
        if !started { start(into: &out) }
        switch value {
        case .counter(let scalar), .gauge(let scalar):
            encoder.appendSample(names.sample, labels, value: scalar, into: &out)
        case .histogram(let value):
            histogram.append(value, labels: labels, into: &out)
        }
    }

    private mutating func start(into out: inout [UInt8]) {
        started = true
        names = encoder.header(
            name: descriptor.name, help: descriptor.help, unit: descriptor.unit, type: descriptor.type, into: &out)
        histogram = ExpositionEncoder.HistogramLines(names: names)
    }
}
