/// The remote write 1.0 bytes of a series list that stay the same from one request to the
/// next, back to back in list order in one block: per series, its common prefix (the
/// `TimeSeries` tag and length, the label fields, the `Sample` tag and length of a common
/// sample: see ``RemoteSeries/commonSampleSize``).
///
/// The writer copies a request's series from here, in order, instead of from each series'
/// own memory: a flush of 13,400 series spent more time waiting for those scattered
/// reads than snappy spent compressing. Series keep no copy of their own (the layout is
/// built from their symbols), so the block replaces, not adds to, their label bytes.
final class PrefixLayout {
    /// The list the layout is of: kept, so no other array can have its storage address.
    let series: [RemoteSeries]
    /// The prefixes, back to back.
    private let bytes: UnsafeMutableRawPointer
    /// Where each position's prefix starts in `bytes` (one more entry: the end).
    private let starts: UnsafeMutablePointer<Int32>
    /// Where each position's label fields start in `bytes`.
    private let labelStarts: UnsafeMutablePointer<Int32>
    /// The writer's request count when the layout was last used.
    var lastUsed = 0

    /// The layout of `series`; nil when its bytes would not fit 32-bit offsets (the writer
    /// then writes from the series themselves).
    init?(_ series: [RemoteSeries]) {
        var total = 0
        for item in series { total += Self.prefixSize(item) }
        guard total < Int(Int32.max) else { return nil }
        self.series = series
        bytes = .allocate(byteCount: max(total, 1), alignment: 8)
        starts = .allocate(capacity: series.count + 1)
        labelStarts = .allocate(capacity: max(series.count, 1))
        var cursor = bytes
        for (index, item) in series.enumerated() {
            starts[index] = Int32(truncatingIfNeeded: cursor - bytes)
            cursor = ProtobufWriter.put(0x0A, cursor)  // WriteRequest.timeseries
            cursor = ProtobufWriter.putVarint(UInt64(item.labelFieldCount + 2 + RemoteSeries.commonSampleSize), cursor)
            labelStarts[index] = Int32(truncatingIfNeeded: cursor - bytes)
            cursor = item.putLabelFields(at: cursor)  // TimeSeries.labels
            cursor = ProtobufWriter.put(0x12, cursor)  // TimeSeries.samples
            cursor = ProtobufWriter.put(UInt8(RemoteSeries.commonSampleSize), cursor)
        }
        starts[series.count] = Int32(truncatingIfNeeded: cursor - bytes)
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        labelStarts.deallocate()
    }

    /// The bytes this layout holds.
    var byteCount: Int { Int(starts[series.count]) }

    private static func prefixSize(_ series: RemoteSeries) -> Int {
        let message = series.labelFieldCount + 2 + RemoteSeries.commonSampleSize
        return 1 + ProtobufWriter.varintSize(UInt64(message)) + message - RemoteSeries.commonSampleSize
    }

    /// The common prefix of the series at `index`.
    @inline(__always)
    func prefix(at index: Int) -> UnsafeRawBufferPointer {
        let start = Int(starts[index])
        return UnsafeRawBufferPointer(start: bytes + start, count: Int(starts[index + 1]) - start)
    }

    /// The label fields of the series at `index`.
    @inline(__always)
    func labels(at index: Int) -> UnsafeRawBufferPointer {
        let start = Int(labelStarts[index])
        // The prefix ends with the Sample's tag and length (2 bytes).
        return UnsafeRawBufferPointer(start: bytes + start, count: Int(starts[index + 1]) - 2 - start)
    }

    /// Whether this is the layout of `other` (the same array storage).
    func describes(_ other: [RemoteSeries]) -> Bool {
        series.count == other.count
            && series.withUnsafeBufferPointer { mine in
                other.withUnsafeBufferPointer { $0.baseAddress == mine.baseAddress }
            }
    }
}

/// The layouts a writer keeps: the lists of its last few requests, so a steady flush finds
/// its list's layout, and a list not written lately is let go with its memory.
struct PrefixLayouts {
    private var layouts: [PrefixLayout] = []
    private var writes = 0
    /// At most this many layouts (the steady list, and one other during a change).
    static let maxLayouts = 2
    /// A layout not used in this many requests is let go.
    static let maxIdleWrites = 8

    /// Counts a request; lets go of layouts not used lately.
    mutating func beginRequest() {
        writes &+= 1
        layouts.removeAll { writes &- $0.lastUsed > Self.maxIdleWrites }
    }

    /// The layout of `series`, made if needed; nil when it cannot be made.
    mutating func layout(of series: [RemoteSeries]) -> PrefixLayout? {
        if let found = layouts.first(where: { $0.describes(series) }) {
            found.lastUsed = writes
            return found
        }
        guard let made = PrefixLayout(series) else { return nil }
        made.lastUsed = writes
        layouts.insert(made, at: 0)
        if layouts.count > Self.maxLayouts { layouts.removeLast() }
        return made
    }

    /// The layouts kept and their bytes (tests).
    var count: Int { layouts.count }
    var byteCount: Int { layouts.reduce(0) { $0 + $1.byteCount } }
}
