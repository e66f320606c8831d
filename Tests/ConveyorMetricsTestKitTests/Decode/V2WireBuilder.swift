@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// A remote write 2.0 request written field by field here in the tests (no encoder under
/// test involved): every string interned in `symbols` (`""` first), series with labels as
/// given (so rules can be broken), or with raw refs (so refs can be wrong).
struct V2WireBuilder {
    private(set) var symbols: [String] = [""]
    private var series: [[UInt8]] = []

    struct Metadata {
        /// `Metadata.MetricType`: 1 counter, 2 gauge, 3 histogram.
        var type: UInt64
        var help: String
        var unit: String = ""
    }

    mutating func ref(_ text: String) -> UInt64 {
        if let index = symbols.firstIndex(of: text) { return UInt64(index) }
        symbols.append(text)
        return UInt64(symbols.count - 1)
    }

    /// A series of labels in the order given, `histograms` integer native histograms,
    /// exemplars with labels, metadata; refs packed in one field or one varint field each.
    mutating func addSeries(
        _ labels: [(String, String)], samples: [RemoteSample] = [], histograms: Int = 0,
        exemplars: [[(String, String)]] = [], metadata: Metadata? = nil, packed: Bool = true
    ) {
        let refs = labels.flatMap { [ref($0.0), ref($0.1)] }
        let exemplarRefs = exemplars.map { $0.flatMap { [ref($0.0), ref($0.1)] } }
        let metadataRefs = metadata.map { (type: $0.type, help: ref($0.help), unit: ref($0.unit)) }
        addSeries(
            refs: refs, samples: samples, histograms: histograms, exemplarRefs: exemplarRefs,
            metadataRefs: metadataRefs,
            packed: packed)
    }

    /// A series with refs as given, right or wrong.
    mutating func addSeries(
        refs: [UInt64], samples: [RemoteSample] = [], histograms: Int = 0, exemplarRefs: [[UInt64]] = [],
        metadataRefs: (type: UInt64, help: UInt64, unit: UInt64)? = nil, packed: Bool = true
    ) {
        var wire = WireBytes()
        Self.refs(refs, field: 1, packed: packed, into: &wire)
        for sample in samples {
            var message = WireBytes()
            message.field(1, fixed64: sample.value.bitPattern)
            message.field(2, varint: UInt64(bitPattern: sample.timestampMilliseconds))
            if sample.startTimestampMilliseconds != 0 {
                message.field(3, varint: UInt64(bitPattern: sample.startTimestampMilliseconds))
            }
            wire.field(2, bytes: message.bytes)
        }
        for index in 0..<histograms {
            var histogram = WireBytes()
            histogram.field(1, varint: 5)  // count_int
            histogram.field(3, fixed64: Double(2.5).bitPattern)  // sum
            histogram.field(4, varint: Self.zigzag(3))  // schema
            var span = WireBytes()
            span.field(1, varint: Self.zigzag(-2))
            span.field(2, varint: 3)
            histogram.field(11, bytes: span.bytes)  // positive_spans
            var deltas = WireBytes()
            for delta: Int64 in [2, -1, 1] { deltas.varint(Self.zigzag(delta)) }
            histogram.field(12, bytes: deltas.bytes)  // positive_deltas, packed
            histogram.field(15, varint: UInt64(1_000 + index))  // timestamp
            wire.field(3, bytes: histogram.bytes)
        }
        for refs in exemplarRefs {
            var exemplar = WireBytes()
            Self.refs(refs, field: 1, packed: packed, into: &exemplar)
            exemplar.field(2, fixed64: Double(1).bitPattern)
            exemplar.field(3, varint: 1_000)
            wire.field(4, bytes: exemplar.bytes)
        }
        if let metadataRefs {
            var metadata = WireBytes()
            metadata.field(1, varint: metadataRefs.type)
            metadata.field(3, varint: metadataRefs.help)
            metadata.field(4, varint: metadataRefs.unit)
            wire.field(5, bytes: metadata.bytes)
        }
        series.append(wire.bytes)
    }

    /// Symbols (or `replacing` them), then the series.
    func bytes(replacingSymbols replacement: [String]? = nil) -> [UInt8] {
        var request = WireBytes()
        for symbol in replacement ?? symbols { request.field(4, bytes: Array(symbol.utf8)) }
        for entry in series { request.field(5, bytes: entry) }
        return request.bytes
    }

    static func refs(_ refs: [UInt64], field: UInt64, packed: Bool, into wire: inout WireBytes) {
        if packed {
            var payload = WireBytes()
            for ref in refs { payload.varint(ref) }
            if !refs.isEmpty { wire.field(field, bytes: payload.bytes) }
        } else {
            for ref in refs { wire.field(field, varint: ref) }
        }
    }

    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
}
