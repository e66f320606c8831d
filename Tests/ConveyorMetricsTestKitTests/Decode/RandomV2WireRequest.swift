@testable import ConveyorMetrics

/// A random `io.prometheus.write.v2.Request` in wire format, with the counts it must decode
/// into: fields in any order, refs packed and unpacked (split over several fields, some
/// varints longer than needed), empty messages, repeated singular fields and metadata,
/// native histograms with spans, packed and unpacked deltas and counts, unknown fields
/// (the reserved 1–3 among them). Most requests fit their symbol table and the shape rules
/// (`convertible`: they decode); some do not.
struct RandomV2WireRequest {
    var bytes: [UInt8] = []
    var series = 0
    var labels = 0
    var samples = 0
    var histograms = 0
    var exemplars = 0
    var metadata = 0
    var symbols = 0
    /// Refs fit the table, `symbols[0]` is "", every series has samples or histograms, not both.
    var convertible = true

    init(random: inout SplitMix64) {
        var symbolFields: [[UInt8]] = []
        symbols = Int.random(in: 0..<30, using: &random) == 0 ? 0 : Int.random(in: 1...8, using: &random)
        for index in 0..<symbols {
            var text = Self.text(&random)
            if index == 0 && Int.random(in: 0..<20, using: &random) != 0 { text = [] }
            if index == 0 && !text.isEmpty { convertible = false }
            symbolFields.append(text)
        }
        var seriesFields: [[UInt8]] = []
        for _ in 0..<Int.random(in: 0...6, using: &random) {
            series += 1
            seriesFields.append(series(&random))
        }
        if symbols == 0 && series > 0 { convertible = false }
        // Symbols and series interleaved, each in its own order.
        var request = WireBytes()
        var nextSymbol = 0
        var nextSeries = 0
        while nextSymbol < symbolFields.count || nextSeries < seriesFields.count {
            if nextSeries == seriesFields.count || (nextSymbol < symbolFields.count && Bool.random(using: &random)) {
                request.field(4, bytes: symbolFields[nextSymbol])
                nextSymbol += 1
            } else {
                request.field(5, bytes: seriesFields[nextSeries])
                nextSeries += 1
            }
            Self.maybeUnknown(&request, &random, numbers: 1...3)
        }
        bytes = request.bytes
    }

    private mutating func series(_ random: inout SplitMix64) -> [UInt8] {
        var parts: [[UInt8]] = []
        parts += refs(&random, pairs: Int.random(in: 0...5, using: &random))
        // Samples or histograms; now and then both or neither (refused when converted).
        var sampleCount = 0
        var histogramCount = 0
        switch Int.random(in: 0..<24, using: &random) {
        case 0: break
        case 1: (sampleCount, histogramCount) = (Int.random(in: 1...3, using: &random), 1)
        case 2...8: histogramCount = Int.random(in: 1...2, using: &random)
        default: sampleCount = Int.random(in: 1...4, using: &random)
        }
        if (sampleCount == 0) == (histogramCount == 0) { convertible = false }
        for _ in 0..<sampleCount {
            samples += 1
            var sample = WireBytes()
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                sample.field(1, fixed64: random.next())
                sample.field(2, varint: random.next() >> UInt64.random(in: 0...63, using: &random))
                sample.field(3, varint: random.next() >> UInt64.random(in: 0...63, using: &random))
            }
            Self.maybeUnknown(&sample, &random)
            parts.append(Self.field(2, sample.bytes))
        }
        for _ in 0..<histogramCount {
            histograms += 1
            parts.append(Self.field(3, Self.histogram(&random)))
        }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            exemplars += 1
            var exemplar = WireBytes()
            for part in refs(&random, pairs: Int.random(in: 0...3, using: &random)) { exemplar.bytes += part }
            exemplar.field(2, fixed64: random.next())
            exemplar.field(3, varint: random.next() >> 20)
            parts.append(Self.field(4, exemplar.bytes))
        }
        // Metadata once, twice (protobuf-c merges) or not at all.
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            metadata += 1
            var entry = WireBytes()
            entry.field(1, varint: UInt64.random(in: 0...7, using: &random))
            for number in [3, 4] as [UInt64] where Bool.random(using: &random) {
                entry.field(number, varint: ref(&random))
            }
            Self.maybeUnknown(&entry, &random)
            parts.append(Self.field(5, entry.bytes))
        }
        parts.shuffle(using: &random)
        var wire = WireBytes()
        for part in parts {
            wire.bytes += part
            Self.maybeUnknown(&wire, &random)
        }
        return wire.bytes
    }

    /// `pairs` name/value refs (now and then one more: an odd count), in fields of field
    /// number 1: packed runs and single varints mixed.
    private mutating func refs(_ random: inout SplitMix64, pairs: Int) -> [[UInt8]] {
        var refs = (0..<(2 * pairs)).map { _ in ref(&random) }
        if Int.random(in: 0..<60, using: &random) == 0 {
            refs.append(ref(&random))
            convertible = false
        }
        labels += (refs.count + 1) / 2
        var parts: [[UInt8]] = []
        var rest = refs[...]
        while !rest.isEmpty || Int.random(in: 0..<8, using: &random) == 0 {
            let run = rest.prefix(Int.random(in: 0...rest.count, using: &random))
            rest = rest.dropFirst(run.count)
            if run.count == 1 && Bool.random(using: &random) {
                parts.append(Self.varintField(1, run[run.startIndex], &random))
            } else {
                var payload: [UInt8] = []
                for ref in run { payload += Self.varint(ref, &random) }
                parts.append(Self.field(1, payload))
            }
            if rest.isEmpty { break }
        }
        return parts
    }

    /// A ref into the table, now and then one beyond it.
    private mutating func ref(_ random: inout SplitMix64) -> UInt64 {
        if symbols == 0 || Int.random(in: 0..<300, using: &random) == 0 {
            convertible = false
            return UInt64(symbols) + UInt64.random(in: 0...1000, using: &random)
        }
        return UInt64.random(in: 0..<UInt64(symbols), using: &random)
    }

    private static func histogram(_ random: inout SplitMix64) -> [UInt8] {
        var histogram = WireBytes()
        for _ in 0..<Int.random(in: 0...6, using: &random) {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: histogram.field(1, varint: random.next() >> 30)
            case 1: histogram.field([2, 3, 5, 7].randomElement(using: &random) ?? 2, fixed64: random.next())
            case 2: histogram.field([4, 6, 14, 15, 17].randomElement(using: &random) ?? 4, varint: random.next() >> 40)
            case 3, 4:
                // Spans: empty messages or offset/length, repeated fields too.
                var span = WireBytes()
                for _ in 0..<Int.random(in: 0...3, using: &random) {
                    span.field(UInt64.random(in: 1...2, using: &random), varint: random.next() >> 50)
                }
                histogram.field(Bool.random(using: &random) ? 8 : 11, bytes: span.bytes)
            case 5, 6:
                // sint64 deltas, packed or one varint field each.
                let number: UInt64 = Bool.random(using: &random) ? 9 : 12
                let values = (0..<Int.random(in: 0...5, using: &random)).map { _ in random.next() >> 20 }
                if Bool.random(using: &random) {
                    histogram.field(number, bytes: values.flatMap { varint($0, &random) })
                } else {
                    for value in values { histogram.field(number, varint: value) }
                }
            default:
                // doubles, packed or one fixed64 field each.
                let number = [10, 13, 16].randomElement(using: &random) ?? 10
                let values = (0..<Int.random(in: 0...4, using: &random)).map { _ in random.next() }
                if Bool.random(using: &random) {
                    var payload = WireBytes()
                    for value in values {
                        for shift in stride(from: 0, to: 64, by: 8) {
                            payload.bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
                        }
                    }
                    histogram.field(UInt64(number), bytes: payload.bytes)
                } else {
                    for value in values { histogram.field(UInt64(number), fixed64: value) }
                }
            }
        }
        maybeUnknown(&histogram, &random)
        return histogram.bytes
    }

    private static func field(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] {
        var wire = WireBytes()
        wire.field(number, bytes: payload)
        return wire.bytes
    }

    private static func varintField(_ number: UInt64, _ value: UInt64, _ random: inout SplitMix64) -> [UInt8] {
        var wire = WireBytes()
        wire.varint(number << 3)
        return wire.bytes + varint(value, &random)
    }

    /// `value` as a varint, now and then padded with 0x80 bytes (as long as 10 bytes).
    private static func varint(_ value: UInt64, _ random: inout SplitMix64) -> [UInt8] {
        var wire = WireBytes()
        wire.varint(value)
        var bytes = wire.bytes
        if Int.random(in: 0..<6, using: &random) == 0 && bytes.count < 10 {
            let padding = Int.random(in: 1...(10 - bytes.count), using: &random)
            bytes[bytes.count - 1] |= 0x80
            bytes += [UInt8](repeating: 0x80, count: padding - 1) + [0x00]
        }
        return bytes
    }

    private static func text(_ random: inout SplitMix64) -> [UInt8] {
        let length = Int.random(in: 0...1, using: &random) == 0 ? 0 : Int.random(in: 1...40, using: &random)
        return (0..<length).map { _ in UInt8.random(in: 0x61...0x7A, using: &random) }
    }

    /// Now and then an unknown field of any wire type.
    private static func maybeUnknown(
        _ wire: inout WireBytes, _ random: inout SplitMix64, numbers: ClosedRange<UInt64> = 18...2000
    ) {
        guard Int.random(in: 0..<4, using: &random) == 0 else { return }
        let number = UInt64.random(in: numbers, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: wire.field(number, varint: random.next())
        case 1: wire.field(number, fixed64: random.next())
        case 2: wire.field(number, fixed32: UInt32(truncatingIfNeeded: random.next()))
        default: wire.field(number, bytes: text(&random))
        }
    }
}
