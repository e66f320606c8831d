import ConveyorMetrics

/// Writes `io.prometheus.write.v2.Request` bodies (remote write 2.0) of samples: one symbol
/// table per request (`""` first, every other string once, in order of first use), then
/// one `TimeSeries` per sample with its label refs, the sample (with `start_timestamp` for
/// counters and histograms) and the family's metadata inline.
///
/// A batch written twice gets a ``V2RequestTemplate``: from then on the symbols, refs and
/// metadata are copied from it and only the samples are written.
///
/// Otherwise each symbol gets its index in this request through slot-indexed arrays
/// stamped per request (no hashing, no reference counting: a series keeps its symbols'
/// slots as a compact array, and its symbols' bytes are looked at only the first time a
/// request uses them); the series are written through a raw pointer in one pass over the
/// samples, into buffers kept from one request to the next. The output is byte-for-byte what protobuf-c's
/// `io__prometheus__write__v2__request__pack` produces for the same message (tests hold it
/// to that): proto3 defaults (a ±0.0 value, zero timestamps and refs) are left out, label
/// refs are packed, and metadata is written for every series that has a type.
final class WriteRequestV2Writer {
    let buffer = RequestBuffer()
    /// The series of the request being written, before the symbols go in front of them.
    private let scratch = RequestBuffer()
    /// Per symbol slot: the request's stamp (high 32 bits) and the symbol's index in it (low).
    private var marks: UnsafeMutablePointer<UInt64>
    private var slots = 0
    private var stamp: UInt32 = 0
    /// The request's symbols after `""`, in order.
    private var symbols: [UnsafeRawBufferPointer] = []
    var symbolBytes = 0
    /// Flat copies of what the writer reads per sample, for the last few series lists.
    var layouts: [SeriesLayout] = []
    /// Whether requests are written from templates of batches written before.
    private let usesTemplates: Bool
    /// The templates of the batches written at least twice.
    var templates: [V2RequestTemplate] = []
    /// Requests written so far (templates note when they were last used).
    var writes = 0
    /// The batches written once lately, most recent first.
    var recentSlices: [[V2RequestTemplate.Slice]] = []
    /// Requests written from a template (tests).
    private(set) var templateWrites = 0
    /// The templates kept now, and their bytes (tests).
    var templateCount: Int { templates.count }
    var templateBytes: Int { templates.reduce(0) { $0 + $1.byteCount } }
    /// At most this many templates, of at most this many bytes in all.
    static let maxTemplates = 256
    static let maxTemplateBytes = 8 << 20

    /// A writer; `templates: false` writes every request anew (tests compare the two).
    init(templates: Bool = true) {
        usesTemplates = templates
        slots = 1024
        marks = .allocate(capacity: slots)
        marks.initialize(repeating: 0, count: slots)
    }

    deinit {
        marks.deallocate()
    }

    /// Length of the last request in `body`.
    var count: Int { buffer.count }
    /// The last request written (valid until the next `write`).
    var body: UnsafeRawBufferPointer { buffer.body }
    /// A copy of the last request (tests).
    var bytes: [UInt8] { Array(body) }

    /// Writes the request for the samples of `chunks`.
    ///
    /// One pass over the samples writes the series into a scratch buffer while the symbols
    /// get their indexes; then the symbols and the series are put together in field order.
    func write(_ chunks: [SampleChunk]) {
        writes &+= 1
        let slices = usesTemplates ? chunks.map(V2RequestTemplate.Slice.init) : []
        if usesTemplates, let template = templates.first(where: { $0.slices == slices }) {
            template.lastUsed = writes
            if write(chunks, from: template) {
                templateWrites += 1
                return
            }
        }
        writeAnew(chunks)
        if usesTemplates { keepTemplate(of: chunks, slices) }
    }

    /// Writes the request for `chunks`, assigning symbol indexes as it goes.
    private func writeAnew(_ chunks: [SampleChunk]) {
        beginRequest()
        // A bound for the series: per sample at most 80 bytes besides its refs, and at most 5
        // bytes a ref, of which there are at most a third of its 1.0 label bytes.
        let bound = chunks.reduce(0) { $0 + $1.count * 80 + 2 * $1.labelBytes + $1.histogramBytes }
        let seriesStart = scratch.reserve(bound)
        var cursor = seriesStart
        for chunk in chunks {
            let timestamp = PackedVarint(UInt64(bitPattern: chunk.timestamp))
            let layout = layout(of: chunk.series)
            if layout.slotBound > slots { grow(to: layout.slotBound) }
            Self.withHistograms(of: chunk) { histograms in
                layout.entries.withUnsafeBufferPointer { entries in
                    layout.slots.withUnsafeBufferPointer { slots in
                        chunk.values.withUnsafeBufferPointer { values in
                            for index in chunk.start..<chunk.end {
                                cursor = put(
                                    entries[index], slots, index, chunk.series, value: values[index],
                                    histograms: histograms, timestamp: chunk.timestamp, packed: timestamp, at: cursor)
                            }
                        }
                    }
                }
            }
        }
        let seriesBytes = cursor - seriesStart
        let start = buffer.reserve(2 + symbolBytes + seriesBytes)
        cursor = ProtobufWriter.put(0x22, start)  // Request.symbols[0] = ""
        cursor = ProtobufWriter.put(0x00, cursor)
        for symbol in symbols {
            cursor = ProtobufWriter.put(0x22, cursor)
            cursor = ProtobufWriter.putVarint(UInt64(symbol.count), cursor)
            cursor = ProtobufWriter.put(symbol, cursor)
        }
        cursor = ProtobufWriter.put(UnsafeRawBufferPointer(start: seriesStart, count: seriesBytes), cursor)
        buffer.count = cursor - start
    }

    /// Calls `body` with `chunk`'s native histograms by position, or nil when it has none (a
    /// pointer, so a sample without one costs a test of nil, not an optional value's copy).
    @inline(__always)
    static func withHistograms<R>(of chunk: SampleChunk, _ body: (UnsafePointer<NativeHistogramValue?>?) -> R)
        -> R
    {
        guard let histograms = chunk.histograms else { return body(nil) }
        return histograms.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// What the writer reads of one series per sample, in one flat array (a series list is
    /// the same array object from one flush to the next while the registry's series do not
    /// change, so the flat copy is built once, not per request).
    struct Entry {
        var slotStart: Int32
        var slotCount: Int32
        var help: UInt32
        var unit: UInt32
        var start: Int64
        var startVarint: PackedVarint
        var type: UInt8
    }

    final class SeriesLayout {
        /// Keeps the list alive, so no other array can have its storage address.
        let series: [RemoteSeries]
        let entries: [Entry]
        let slots: [UInt32]
        /// Above every slot the list uses (the writer's arrays grow to it once).
        let slotBound: Int

        init(_ series: [RemoteSeries]) {
            self.series = series
            var entries: [Entry] = []
            var slots: [UInt32] = []
            var bound = 0
            entries.reserveCapacity(series.count)
            for item in series {
                entries.append(
                    Entry(
                        slotStart: Int32(truncatingIfNeeded: slots.count),
                        slotCount: Int32(truncatingIfNeeded: item.labelSlots.count), help: item.helpSlot,
                        unit: item.unitSlot, start: item.startTimestamp,
                        startVarint: PackedVarint(UInt64(bitPattern: item.startTimestamp)), type: item.metadataType))
                slots.append(contentsOf: item.labelSlots)
                for slot in item.labelSlots + [item.helpSlot, item.unitSlot] where slot != RemoteSeries.noSymbol {
                    bound = max(bound, Int(slot) + 1)
                }
            }
            self.entries = entries
            self.slots = slots
            slotBound = bound
        }

        func describes(_ other: [RemoteSeries]) -> Bool {
            series.count == other.count
                && series.withUnsafeBufferPointer { mine in
                    other.withUnsafeBufferPointer { $0.baseAddress == mine.baseAddress }
                }
        }
    }

    func layout(of series: [RemoteSeries]) -> SeriesLayout {
        if let index = layouts.firstIndex(where: { $0.describes(series) }) {
            let found = layouts[index]
            if index > 0 {
                layouts.remove(at: index)
                layouts.insert(found, at: 0)
            }
            return found
        }
        let made = SeriesLayout(series)
        layouts.insert(made, at: 0)
        if layouts.count > 4 { layouts.removeLast() }
        return made
    }

    private func beginRequest() {
        stamp &+= 1
        if stamp == 0 {  // wrapped: forget every stamp rather than trust an old one
            marks.update(repeating: 0, count: slots)
            stamp = 1
        }
        symbols.removeAll(keepingCapacity: true)
        symbolBytes = 0
    }

    /// The index in this request of the symbol in `slot` (0 for the empty string), assigned
    /// on first use from the series' symbol at `position`.
    @inline(__always)
    private func reference(_ slotNumber: UInt32, _ series: [RemoteSeries], _ index: Int, _ position: Int) -> UInt32 {
        guard slotNumber != RemoteSeries.noSymbol else { return 0 }
        let slot = Int(slotNumber)  // below `slots`: grown to the layout's bound before writing
        let mark = marks[slot]
        if UInt32(truncatingIfNeeded: mark >> 32) == stamp { return UInt32(truncatingIfNeeded: mark) }
        return firstUse(slot, series[index].symbols[position]?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }

    private func firstUse(_ slot: Int, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        symbols.append(bytes)
        let index = UInt32(truncatingIfNeeded: symbols.count)
        marks[slot] = UInt64(stamp) << 32 | UInt64(index)
        symbolBytes += 1 + ProtobufWriter.varintSize(UInt64(bytes.count)) + bytes.count
        return index
    }

    private func grow(to needed: Int) {
        let grown = max(needed, slots * 2)
        let newMarks = UnsafeMutablePointer<UInt64>.allocate(capacity: grown)
        newMarks.initialize(repeating: 0, count: grown)
        newMarks.update(from: marks, count: slots)
        marks.deallocate()
        marks = newMarks
        slots = grown
    }

    @inline(__always)
    private func metadataSize(_ help: UInt32, _ unit: UInt32) -> Int {
        var size = 2  // type (non-zero whenever metadata is written)
        if help != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(help)) }
        if unit != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(unit)) }
        return size
    }

    /// One `Request.timeseries` entry at `start`; returns the position after it. Lengths are
    /// written after what they measure: one byte is left for each (almost every series and
    /// ref list is shorter than 128 bytes), and the rare longer one moves its bytes along.
    @inline(__always)
    private func put(
        _ entry: Entry, _ allSlots: UnsafeBufferPointer<UInt32>, _ index: Int, _ series: [RemoteSeries],
        value: Double, histograms: UnsafePointer<NativeHistogramValue?>?, timestamp: Int64, packed: PackedVarint,
        at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        let first = Int(entry.slotStart)
        let count = Int(entry.slotCount)
        var cursor = ProtobufWriter.put(0x2A, start)  // Request.timeseries
        let seriesBody = cursor + 1
        cursor = seriesBody
        if count > 0 {
            cursor = ProtobufWriter.put(0x0A, cursor)  // TimeSeries.labels_refs (packed)
            let refsBody = cursor + 1
            cursor = refsBody
            for position in 0..<count {
                let reference = reference(allSlots[first + position], series, index, position)
                cursor = ProtobufWriter.putVarint(UInt64(reference), cursor)
            }
            cursor = Self.closeLength(body: refsBody, end: cursor)
        }
        cursor = Self.putSample(
            entry, value: value, histograms: histograms, index: index, timestamp: timestamp, packed: packed, at: cursor)
        if entry.type != 0 {
            let help = reference(entry.help, series, index, count)
            let unit = reference(entry.unit, series, index, count + 1)
            cursor = ProtobufWriter.put(0x2A, cursor)  // TimeSeries.metadata
            cursor = ProtobufWriter.put(UInt8(truncatingIfNeeded: metadataSize(help, unit)), cursor)  // < 128
            cursor = ProtobufWriter.put(0x08, cursor)  // Metadata.type
            cursor = ProtobufWriter.put(entry.type, cursor)
            if help != 0 {
                cursor = ProtobufWriter.put(0x18, cursor)  // Metadata.help_ref
                cursor = ProtobufWriter.putVarint(UInt64(help), cursor)
            }
            if unit != 0 {
                cursor = ProtobufWriter.put(0x20, cursor)  // Metadata.unit_ref
                cursor = ProtobufWriter.putVarint(UInt64(unit), cursor)
            }
        }
        return Self.closeLength(body: seriesBody, end: cursor)
    }

    /// `TimeSeries.samples` with its one sample at `start`: the value, the timestamp, and the
    /// series' start for a counter or histogram (not for a stale marker, nor a start later
    /// than the sample); returns the position after it (8 bytes of room past it are used).
    /// A native histogram goes in `TimeSeries.histograms` instead, with the same start (none
    /// for its stale marker either).
    @inline(__always)
    static func putSample(
        _ entry: Entry, value: Double, histograms: UnsafePointer<NativeHistogramValue?>?, index: Int, timestamp: Int64,
        packed: PackedVarint,
        at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        if let histograms, let histogram = histograms[index] {
            let startTimestamp =
                entry.start > 0 && entry.start <= timestamp && !histogram.isStaleMarker ? entry.start : 0
            let body = HistogramEncoding.size(histogram, timestamp: timestamp, start: startTimestamp)
            var cursor = ProtobufWriter.put(0x1A, start)  // TimeSeries.histograms
            cursor = ProtobufWriter.putVarint(UInt64(body), cursor)
            return HistogramEncoding.put(histogram, timestamp: timestamp, start: startTimestamp, at: cursor)
        }
        let sendsStart = entry.start > 0 && entry.start <= timestamp && value.bitPattern != RemoteSample.staleNaNBits
        let sample =
            (value != 0 ? 9 : 0) + (timestamp != 0 ? 1 + packed.length : 0)
            + (sendsStart ? 1 + entry.startVarint.length : 0)
        var cursor = ProtobufWriter.put(0x12, start)  // TimeSeries.samples
        cursor = ProtobufWriter.put(UInt8(truncatingIfNeeded: sample), cursor)  // at most 31
        if value != 0 {
            cursor = ProtobufWriter.put(0x09, cursor)  // Sample.value (fixed64)
            cursor.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
            cursor += 8
        }
        if timestamp != 0 {
            cursor = ProtobufWriter.put(0x10, cursor)  // Sample.timestamp
            cursor = packed.put(cursor)
        }
        if sendsStart {
            cursor = ProtobufWriter.put(0x18, cursor)  // Sample.start_timestamp
            cursor = entry.startVarint.put(cursor)
        }
        return cursor
    }

    /// Writes the length of `body..<end` into the byte before `body` (moving the body along
    /// when the length needs more than one byte); returns the body's new end.
    @inline(__always)
    static func closeLength(body: UnsafeMutableRawPointer, end: UnsafeMutableRawPointer)
        -> UnsafeMutableRawPointer
    {
        let length = end - body
        if length < 0x80 {
            (body - 1).storeBytes(of: UInt8(truncatingIfNeeded: length), as: UInt8.self)
            return end
        }
        let extra = ProtobufWriter.varintSize(UInt64(length)) - 1
        (body + extra).copyMemory(from: body, byteCount: length)  // memmove: the ranges overlap
        _ = ProtobufWriter.putVarint(UInt64(length), body - 1)
        return end + extra
    }
}
