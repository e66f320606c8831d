import ConveyorMetrics

/// What a remote write 2.0 request holds besides its samples, for one batch of series: the
/// symbol table, and per series its `labels_refs` and `metadata` fields, already encoded.
///
/// A symbol's index is its order of first use in the request, so the same series in the
/// same order give the same symbol table and the same refs. In steady state every flush
/// sends the same series in the same slices (a snapshot cut into `max_samples_per_send`
/// pieces), so the writer records a batch's template the second time it sees the batch and
/// from then on writes only tags, lengths and samples between copied pieces (with a backlog
/// the slices shift and the writer works as before).
///
/// The template holds its series lists (through their layouts): their storage addresses,
/// which identify a batch, cannot be reused by another list while it lives.
final class V2RequestTemplate {
    /// One slice of a batch: a series list, by storage address and length, and its range.
    struct Slice: Equatable {
        let series: UnsafeRawPointer?
        let count: Int
        let start: Int
        let end: Int

        init(_ chunk: SampleChunk) {
            series = chunk.series.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
            count = chunk.series.count
            start = chunk.start
            end = chunk.end
        }
    }

    let slices: [Slice]
    /// The layouts of the slices' series lists, in slice order.
    let layouts: [WriteRequestV2Writer.SeriesLayout]
    /// `Request.symbols`, encoded (`""` first): `symbolCount` bytes.
    let symbols: UnsafeMutableRawBufferPointer
    let symbolCount: Int
    /// Per sample, its refs field then its metadata field, each padded to 8 bytes so that
    /// they can be copied a word at a time.
    let pieces: UnsafeMutableRawBufferPointer
    /// Per sample: the length of its refs field (low 24 bits) and of its metadata field.
    let lengths: [UInt32]
    /// The writer's request count when the template was last used.
    var lastUsed = 0
    /// The bytes this template holds.
    var byteCount: Int { symbolCount + pieces.count + 4 * lengths.count }

    deinit {
        symbols.deallocate()
        pieces.deallocate()
    }

    /// Reads the pieces back from a request the writer wrote for `slices` (its symbol table
    /// and its series, one per sample); nil if the series are not as the writer writes them.
    init?(
        slices: [Slice], layouts: [WriteRequestV2Writer.SeriesLayout], symbols: UnsafeRawBufferPointer,
        series: UnsafeRawBufferPointer, samples: Int
    ) {
        var found: [(refs: Range<Int>, metadata: Range<Int>)] = []
        found.reserveCapacity(samples)
        var position = 0
        var padded = 0
        for _ in 0..<samples {
            guard let (seriesBody, next) = Self.field(0x2A, in: series, at: position, within: series.count)
            else { return nil }
            var inner = seriesBody.lowerBound
            var refs = inner..<inner
            if let (_, afterRefs) = Self.field(0x0A, in: series, at: inner, within: seriesBody.upperBound) {
                refs = inner..<afterRefs
                inner = afterRefs
            }
            // The sample (`samples`, 2) or the native histogram (`histograms`, 3).
            guard
                let (_, afterSample) = Self.field(0x12, in: series, at: inner, within: seriesBody.upperBound)
                    ?? Self.field(0x1A, in: series, at: inner, within: seriesBody.upperBound)
            else { return nil }
            let metadata = afterSample..<seriesBody.upperBound
            guard refs.count < 1 << 24, metadata.count < 1 << 8 else { return nil }
            found.append((refs, metadata))
            padded += Self.padded(refs.count) + Self.padded(metadata.count)
            position = next
        }
        guard position == series.count else { return nil }
        self.slices = slices
        self.layouts = layouts
        self.symbols = .allocate(byteCount: max(symbols.count, 1), alignment: 8)
        if let base = symbols.baseAddress, symbols.count > 0 {
            self.symbols.baseAddress.unsafelyUnwrapped.copyMemory(from: base, byteCount: symbols.count)
        }
        pieces = .allocate(byteCount: max(padded, 8), alignment: 8)
        pieces.initializeMemory(as: UInt8.self, repeating: 0)
        var lengths: [UInt32] = []
        lengths.reserveCapacity(found.count)
        var offset = 0
        if let source = series.baseAddress, let destination = pieces.baseAddress {
            for (refs, metadata) in found {
                (destination + offset).copyMemory(from: source + refs.lowerBound, byteCount: refs.count)
                offset += Self.padded(refs.count)
                (destination + offset).copyMemory(from: source + metadata.lowerBound, byteCount: metadata.count)
                offset += Self.padded(metadata.count)
                lengths.append(
                    UInt32(truncatingIfNeeded: refs.count) | UInt32(truncatingIfNeeded: metadata.count) << 24)
            }
        }
        self.lengths = lengths
        symbolCount = symbols.count
    }

    /// `count` rounded up to a multiple of 8.
    @inline(__always)
    static func padded(_ count: Int) -> Int { (count &+ 7) & ~7 }

    /// Copies `count` bytes a word at a time (up to 7 bytes more are read from `source`, which
    /// is padded, and written past `count` at `destination`, which must have room for them).
    @inline(__always)
    static func copyWords(_ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer, _ count: Int) {
        var offset = 0
        while offset < count {
            destination.storeBytes(
                of: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset,
                as: UInt64.self)
            offset &+= 8
        }
    }

    /// The field with `tag` (length-delimited) at `position`: its body's range and the
    /// position after it; nil when another tag is there or the length runs past `limit`.
    private static func field(
        _ tag: UInt8, in bytes: UnsafeRawBufferPointer, at position: Int, within limit: Int
    ) -> (Range<Int>, Int)? {
        guard position < limit, bytes[position] == tag else { return nil }
        var cursor = position + 1
        var length = 0
        var shift = 0
        while true {
            guard cursor < limit, shift < 35 else { return nil }
            let byte = bytes[cursor]
            cursor += 1
            length |= Int(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        guard length <= limit - cursor else { return nil }
        return (cursor..<(cursor + length), cursor + length)
    }
}
