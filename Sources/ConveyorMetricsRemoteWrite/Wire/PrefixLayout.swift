import Synchronization

/// The remote write 1.0 bytes of a series list that stay the same from one request to the
/// next, back to back in list order in one block: per series, its common prefix (the
/// `TimeSeries` tag and length, the label fields, the `Sample` tag and length of a common
/// sample: see ``RemoteSeries/commonSampleSize``).
///
/// The writer copies a request's series from here, in order, instead of from each series'
/// own memory: a flush of 13,400 series spent more time waiting for those scattered
/// reads than snappy spent compressing. Series keep no copy of their own (the layout is
/// built from their symbols), and a list has at most one layout (``PrefixLayoutSlot``).
final class PrefixLayout: @unchecked Sendable {  // immutable after init
    /// The prefixes, back to back.
    private let bytes: UnsafeMutableRawPointer
    /// Where each position's prefix starts in `bytes` (one more entry: the end).
    private let starts: UnsafeMutablePointer<Int32>
    /// Where each position's label fields start in `bytes`.
    private let labelStarts: UnsafeMutablePointer<Int32>
    private let count: Int

    /// The layout of `series`; nil when its bytes would not fit 32-bit offsets (the writer
    /// then writes from the series themselves).
    init?(_ series: [RemoteSeries]) {
        var total = 0
        for item in series { total += Self.prefixSize(item) }
        guard total < Int(Int32.max) else { return nil }
        count = series.count
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
        assert(cursor - bytes == total, "the prefixes fill what was computed for them")
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        labelStarts.deallocate()
    }

    /// The bytes this layout holds.
    var byteCount: Int { Int(starts[count]) }

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
}

/// Where a series list's ``PrefixLayout`` is kept: made with the list (the sampler's list of
/// the current series, shared by every chunk of it), the layout built by the first 1.0
/// request that writes the list. So a list has at most one layout, which goes when the list
/// and its queued chunks do; a 2.0 target never builds one.
final class PrefixLayoutSlot: Sendable {
    private let layout = Mutex<PrefixLayout?>(nil)

    init() {}

    /// The layout of `series` (the list this slot was made with), built on first use; nil
    /// when it cannot be built.
    func layout(of series: [RemoteSeries]) -> PrefixLayout? {
        layout.withLock { layout in
            if layout == nil { layout = PrefixLayout(series) }
            return layout
        }
    }

    /// Whether the layout was built (tests).
    var isBuilt: Bool { layout.withLock { $0 != nil } }
}
