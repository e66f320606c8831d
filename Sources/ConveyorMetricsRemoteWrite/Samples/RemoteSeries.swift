import ConveyorMetrics

/// One series as the push path knows it: its full remote-write label set as symbols (from
/// which remote write 1.0's `Label` fields are written, once per series list, and 2.0's
/// refs found) and the family's metadata, built once and shared by every queued sample.
final class RemoteSeries: Sendable {
    /// The labels, read back from their symbols (stale-marker order, tests): not kept as
    /// strings, which took a fifth of a pushed series' memory.
    var labels: [Label] {
        let count = labelSlots.count / 2
        return (0..<count).map { index in
            Label(name: Self.string(symbols[2 * index]), value: Self.string(symbols[2 * index + 1]))
        }
    }
    /// The length of `TimeSeries.labels` (field 1, repeated) as protobuf bytes: the bytes
    /// themselves are written from the symbols (``putLabelFields(at:)``), once per series
    /// list into the writer's ``PrefixLayout``, not kept per series.
    let labelFieldCount: Int

    /// The timestamp varint length the writer's common sample assumes (every millisecond
    /// timestamp from 2004 to 2527).
    static let commonTimestampSize = 6
    /// The common Sample's length: value (1 + 8) and timestamp (1 + 6).
    static let commonSampleSize = 9 + 1 + commonTimestampSize

    /// The symbols of the labels (name, value, name, value… in label order), then help and
    /// unit; nil for the empty string.
    let symbols: [Symbol?]
    /// The slots of `symbols`' labels (``noSymbol`` for the empty string), compact and in
    /// memory owned by this object: what the 2.0 writer reads per sample.
    nonisolated(unsafe) let labelSlots: UnsafeBufferPointer<UInt32>  // immutable after init
    /// Remote write 2.0's `Metadata`: the type's wire number (0: no metadata sent), and the
    /// slots of help and unit.
    let metadataType: UInt8
    /// Whether the series' samples are native histograms: its stale marker is one too.
    /// (Beside `metadataType`, in the padding before `helpSlot`: the object keeps its size.)
    let isNativeHistogram: Bool
    let helpSlot: UInt32
    let unitSlot: UInt32
    /// The slot of the empty string, which every request has at index 0.
    static let noSymbol = UInt32.max
    /// When the series started counting (ms since the epoch); 0 for gauges and when unknown.
    let startTimestamp: Int64

    /// The labels as one string, for a stable order (stale markers).
    var sortKey: String { labels.map { $0.name + "\u{0}" + $0.value }.joined(separator: "\u{1}") }

    deinit {
        UnsafeMutableBufferPointer(mutating: labelSlots).deallocate()
    }

    /// A series whose strings come from `symbols` (a private table when nil), with the
    /// family's type, help and unit.
    init(
        labels: [Label], type: MetricType? = nil, help: String = "", unit: String = "", startTimestamp: Int64 = 0,
        nativeHistogram: Bool = false, symbols: SymbolTable? = nil
    ) {
        labelFieldCount = TimeSeriesPrefix.labelFieldsSize(labels)
        let table = symbols ?? SymbolTable()
        let labelSymbols = labels.flatMap { [table.symbol($0.name), table.symbol($0.value)] }
        let slots = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(labelSymbols.count, 1))
        for (index, symbol) in labelSymbols.enumerated() { slots[index] = Self.slot(symbol) }
        labelSlots = UnsafeBufferPointer(rebasing: slots[0..<labelSymbols.count])
        let helpSymbol = type == nil ? nil : table.symbol(help)
        let unitSymbol = type == nil ? nil : table.symbol(unit)
        helpSlot = Self.slot(helpSymbol)
        unitSlot = Self.slot(unitSymbol)
        metadataType = type.map(Self.wireType) ?? 0
        self.symbols = labelSymbols + [helpSymbol, unitSymbol]
        self.startTimestamp = startTimestamp
        isNativeHistogram = nativeHistogram
    }

    /// Writes `TimeSeries.labels` (``labelFieldCount`` bytes) at `start`; returns the
    /// position after them.
    func putLabelFields(at start: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var cursor = start
        for index in stride(from: 0, to: labelSlots.count, by: 2) {
            let name = symbols[index].map(\.bytes) ?? UnsafeRawBufferPointer(start: nil, count: 0)
            let value = symbols[index + 1].map(\.bytes) ?? UnsafeRawBufferPointer(start: nil, count: 0)
            cursor = TimeSeriesPrefix.putLabelField(name: name, value: value, at: cursor)
        }
        return cursor
    }

    /// `TimeSeries.labels` as bytes, in an array of their own (tests, and the writer's path
    /// for single queued samples and for a list whose layout cannot be built).
    var labelFieldBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: labelFieldCount) { buffer, count in
            if let base = buffer.baseAddress {
                count = putLabelFields(at: UnsafeMutableRawPointer(base)) - UnsafeMutableRawPointer(base)
            }
        }
    }

    private static func string(_ symbol: Symbol?) -> String {
        symbol.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
    }

    private static func slot(_ symbol: Symbol?) -> UInt32 {
        symbol.map { UInt32(truncatingIfNeeded: $0.slot) } ?? noSymbol
    }

    /// `io.prometheus.write.v2.Metadata.MetricType`.
    private static func wireType(_ type: MetricType) -> UInt8 {
        switch type {
        case .counter: 1
        case .gauge: 2
        case .histogram: 3
        }
    }
}
