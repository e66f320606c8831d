import ConveyorMetrics

/// Writes `io.prometheus.write.v2.Request` bodies (remote write 2.0) of samples: one symbol
/// table per request (`""` first, every other string once, in order of first use), then
/// one `TimeSeries` per sample with its label refs, the sample (with `start_timestamp` for
/// counters and histograms) and the family's metadata inline.
///
/// A first pass gives each symbol its index in this request through a slot-indexed array
/// stamped per request (no hashing) and sizes everything; a second pass writes through a
/// raw pointer into a reused buffer. The output is byte-for-byte what protobuf-c's
/// `io__prometheus__write__v2__request__pack` produces for the same message (tests hold it
/// to that): proto3 defaults (a ±0.0 value, zero timestamps and refs) are left out, label
/// refs are packed, and metadata is written whenever the series has some.
final class WriteRequestV2Writer {
    private let buffer = RequestBuffer()
    /// Per symbol slot: its index in the request being written, valid when its stamp is current.
    private var indexBySlot: [UInt32] = []
    private var stampBySlot: [UInt32] = []
    private var stamp: UInt32 = 0
    /// The request's symbols after `""`, in order.
    private var symbols: [Symbol] = []
    /// Per sample written: the length of its packed label refs.
    private var refsLengths: [Int] = []

    /// Length of the last request in `body`.
    var count: Int { buffer.count }
    /// The last request written (valid until the next `write`).
    var body: UnsafeRawBufferPointer { buffer.body }
    /// A copy of the last request (tests).
    var bytes: [UInt8] { Array(body) }

    /// Writes the request for the samples of `chunks`.
    func write(_ chunks: [SampleChunk]) {
        beginRequest()
        // Pass 1: symbol indexes and sizes.
        var symbolBytes = 0
        var seriesBytes = 0
        for chunk in chunks {
            let timestampSize = Self.varintFieldSize(chunk.timestamp)
            for index in chunk.start..<chunk.end {
                let series = chunk.series[index]
                var refs = 0
                for symbol in series.labelSymbols {
                    refs += ProtobufWriter.varintSize(UInt64(reference(symbol, &symbolBytes)))
                }
                refsLengths.append(refs)
                let size = Self.seriesSize(
                    series, refs: refs, value: chunk.values[index], timestampSize: timestampSize,
                    start: Self.start(series, chunk.timestamp, chunk.values[index]),
                    metadata: metadataSize(series, &symbolBytes))
                seriesBytes += 1 + ProtobufWriter.varintSize(UInt64(size)) + size
            }
        }
        // Pass 2: symbols, then the series.
        let start = buffer.reserve(2 + symbolBytes + seriesBytes)
        var cursor = ProtobufWriter.put(0x22, start)  // Request.symbols[0] = ""
        cursor = ProtobufWriter.put(0x00, cursor)
        for symbol in symbols {
            cursor = ProtobufWriter.put(0x22, cursor)
            cursor = ProtobufWriter.putVarint(UInt64(symbol.bytes.count), cursor)
            cursor = ProtobufWriter.put(symbol.bytes, cursor)
        }
        var sample = 0
        for chunk in chunks {
            let timestampSize = Self.varintFieldSize(chunk.timestamp)
            for index in chunk.start..<chunk.end {
                cursor = put(
                    chunk.series[index], refs: refsLengths[sample], value: chunk.values[index],
                    timestamp: chunk.timestamp, timestampSize: timestampSize, at: cursor)
                sample += 1
            }
        }
        buffer.count = cursor - start
    }

    private func beginRequest() {
        stamp &+= 1
        if stamp == 0 {  // wrapped: forget every stamp rather than trust an old one
            for slot in stampBySlot.indices { stampBySlot[slot] = 0 }
            stamp = 1
        }
        symbols.removeAll(keepingCapacity: true)
        refsLengths.removeAll(keepingCapacity: true)
    }

    /// The symbol's index in this request (0 for the empty string), assigned on first use.
    @inline(__always)
    private func reference(_ symbol: Symbol?, _ symbolBytes: inout Int) -> UInt32 {
        guard let symbol else { return 0 }
        let slot = symbol.slot
        if slot >= stampBySlot.count {
            let grown = max(slot + 1, stampBySlot.count * 2, 1024)
            stampBySlot.append(contentsOf: repeatElement(0, count: grown - stampBySlot.count))
            indexBySlot.append(contentsOf: repeatElement(0, count: grown - indexBySlot.count))
        }
        if stampBySlot[slot] == stamp { return indexBySlot[slot] }
        symbols.append(symbol)
        let index = UInt32(truncatingIfNeeded: symbols.count)
        stampBySlot[slot] = stamp
        indexBySlot[slot] = index
        symbolBytes += 1 + ProtobufWriter.varintSize(UInt64(symbol.bytes.count)) + symbol.bytes.count
        return index
    }

    /// The `Metadata` message's length, nil when the series sends none.
    @inline(__always)
    private func metadataSize(_ series: RemoteSeries, _ symbolBytes: inout Int) -> Int? {
        guard let metadata = series.metadata else { return nil }
        var size = metadata.type != 0 ? 2 : 0
        let help = reference(metadata.help, &symbolBytes)
        let unit = reference(metadata.unit, &symbolBytes)
        if help != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(help)) }
        if unit != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(unit)) }
        return size
    }

    /// `start_timestamp` when it means something: a counter or histogram that started
    /// before this sample, and not a stale marker.
    @inline(__always)
    private static func start(_ series: RemoteSeries, _ timestamp: Int64, _ value: Double) -> Int64 {
        let start = series.startTimestamp
        guard start > 0, start <= timestamp, value.bitPattern != RemoteSample.staleNaNBits else { return 0 }
        return start
    }

    /// Tag and varint of a non-zero int64 field; 0 when the value is 0 (left out).
    @inline(__always)
    private static func varintFieldSize(_ value: Int64) -> Int {
        value != 0 ? 1 + ProtobufWriter.varintSize(UInt64(bitPattern: value)) : 0
    }

    @inline(__always)
    private static func sampleSize(value: Double, timestampSize: Int, start: Int64) -> Int {
        (value != 0 ? 9 : 0) + timestampSize + varintFieldSize(start)
    }

    /// The `TimeSeries` message's length.
    @inline(__always)
    private static func seriesSize(
        _ series: RemoteSeries, refs: Int, value: Double, timestampSize: Int, start: Int64, metadata: Int?
    ) -> Int {
        var size = refs > 0 ? 1 + ProtobufWriter.varintSize(UInt64(refs)) + refs : 0
        let sample = sampleSize(value: value, timestampSize: timestampSize, start: start)
        size += 1 + ProtobufWriter.varintSize(UInt64(sample)) + sample
        if let metadata { size += 1 + ProtobufWriter.varintSize(UInt64(metadata)) + metadata }
        return size
    }

    /// One `Request.timeseries` entry at `start`; returns the position after it.
    @inline(__always)
    private func put(
        _ series: RemoteSeries, refs: Int, value: Double, timestamp: Int64, timestampSize: Int,
        at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        let startTimestamp = Self.start(series, timestamp, value)
        var metadataLength: Int?
        var help: UInt32 = 0
        var unit: UInt32 = 0
        if let metadata = series.metadata {
            help = metadata.help.map { indexBySlot[$0.slot] } ?? 0
            unit = metadata.unit.map { indexBySlot[$0.slot] } ?? 0
            var size = metadata.type != 0 ? 2 : 0
            if help != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(help)) }
            if unit != 0 { size += 1 + ProtobufWriter.varintSize(UInt64(unit)) }
            metadataLength = size
        }
        let size = Self.seriesSize(
            series, refs: refs, value: value, timestampSize: timestampSize, start: startTimestamp,
            metadata: metadataLength)
        var cursor = ProtobufWriter.put(0x2A, start)  // Request.timeseries
        cursor = ProtobufWriter.putVarint(UInt64(size), cursor)
        if refs > 0 {
            cursor = ProtobufWriter.put(0x0A, cursor)  // TimeSeries.labels_refs (packed)
            cursor = ProtobufWriter.putVarint(UInt64(refs), cursor)
            for symbol in series.labelSymbols {
                cursor = ProtobufWriter.putVarint(UInt64(symbol.map { indexBySlot[$0.slot] } ?? 0), cursor)
            }
        }
        let sample = Self.sampleSize(value: value, timestampSize: timestampSize, start: startTimestamp)
        cursor = ProtobufWriter.put(0x12, cursor)  // TimeSeries.samples
        cursor = ProtobufWriter.putVarint(UInt64(sample), cursor)
        if value != 0 {
            cursor = ProtobufWriter.put(0x09, cursor)  // Sample.value (fixed64)
            cursor.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
            cursor += 8
        }
        if timestamp != 0 {
            cursor = ProtobufWriter.put(0x10, cursor)  // Sample.timestamp
            cursor = ProtobufWriter.putVarint(UInt64(bitPattern: timestamp), cursor)
        }
        if startTimestamp != 0 {
            cursor = ProtobufWriter.put(0x18, cursor)  // Sample.start_timestamp
            cursor = ProtobufWriter.putVarint(UInt64(bitPattern: startTimestamp), cursor)
        }
        if let metadata = series.metadata, let metadataLength {
            cursor = ProtobufWriter.put(0x2A, cursor)  // TimeSeries.metadata
            cursor = ProtobufWriter.putVarint(UInt64(metadataLength), cursor)
            if metadata.type != 0 {
                cursor = ProtobufWriter.put(0x08, cursor)  // Metadata.type
                cursor = ProtobufWriter.put(metadata.type, cursor)
            }
            if help != 0 {
                cursor = ProtobufWriter.put(0x18, cursor)  // Metadata.help_ref
                cursor = ProtobufWriter.putVarint(UInt64(help), cursor)
            }
            if unit != 0 {
                cursor = ProtobufWriter.put(0x20, cursor)  // Metadata.unit_ref
                cursor = ProtobufWriter.putVarint(UInt64(unit), cursor)
            }
        }
        return cursor
    }
}
