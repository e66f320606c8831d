@testable import ConveyorMetrics

/// Protobuf wire-format bytes written field by field (any field number, any wire type), so
/// a test can build what no encoder would: unknown fields, repeated singular fields,
/// exemplars, empty messages.
struct WireBytes {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func field(_ number: UInt64, varint value: UInt64) {
        varint(number << 3)
        varint(value)
    }

    mutating func field(_ number: UInt64, fixed64 value: UInt64) {
        varint(number << 3 | 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func field(_ number: UInt64, fixed32 value: UInt32) {
        varint(number << 3 | 5)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func field(_ number: UInt64, bytes payload: [UInt8]) {
        varint(number << 3 | 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }
}

/// A random `prometheus.WriteRequest` in wire format, with the counts it must decode into.
struct RandomWireRequest {
    var bytes: [UInt8] = []
    var series = 0
    var labels = 0
    var samples = 0
    var exemplars = 0
    var metadata = 0

    init(random: inout SplitMix64) {
        var request = WireBytes()
        for _ in 0..<Int.random(in: 0...12, using: &random) {
            if Int.random(in: 0..<5, using: &random) == 0 {
                metadata += 1
                request.field(3, bytes: Self.metadata(&random))
            } else {
                series += 1
                request.field(1, bytes: series(&random))
            }
            Self.maybeUnknown(&request, &random)
        }
        bytes = request.bytes
    }

    private mutating func series(_ random: inout SplitMix64) -> [UInt8] {
        var series = WireBytes()
        for _ in 0..<Int.random(in: 0...6, using: &random) {
            labels += 1
            series.field(1, bytes: Self.label(&random))
            Self.maybeUnknown(&series, &random)
        }
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            samples += 1
            var sample = WireBytes()
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                sample.field(1, fixed64: random.next())
                sample.field(2, varint: random.next() >> UInt64.random(in: 0...63, using: &random))
            }
            Self.maybeUnknown(&sample, &random)
            series.field(2, bytes: sample.bytes)
        }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            exemplars += 1
            var exemplar = WireBytes()
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                labels += 1
                exemplar.field(1, bytes: Self.label(&random))
            }
            exemplar.field(2, fixed64: random.next())
            exemplar.field(3, varint: random.next() >> 20)
            series.field(3, bytes: exemplar.bytes)
        }
        return series.bytes
    }

    private static func label(_ random: inout SplitMix64) -> [UInt8] {
        var label = WireBytes()
        // Empty messages, repeated names and values: everything protobuf-c accepts.
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            label.field(UInt64.random(in: 1...2, using: &random), bytes: text(&random))
        }
        maybeUnknown(&label, &random)
        return label.bytes
    }

    private static func metadata(_ random: inout SplitMix64) -> [UInt8] {
        var metadata = WireBytes()
        metadata.field(1, varint: UInt64.random(in: 0...9, using: &random))
        for number in [2, 4, 5] as [UInt64] where Bool.random(using: &random) {
            metadata.field(number, bytes: text(&random))
        }
        maybeUnknown(&metadata, &random)
        return metadata.bytes
    }

    private static func text(_ random: inout SplitMix64) -> [UInt8] {
        let length = Int.random(in: 0...1, using: &random) == 0 ? 0 : Int.random(in: 1...40, using: &random)
        return (0..<length).map { _ in UInt8.random(in: 0x61...0x7A, using: &random) }
    }

    /// Now and then an unknown field of any wire type.
    private static func maybeUnknown(_ wire: inout WireBytes, _ random: inout SplitMix64) {
        guard Int.random(in: 0..<4, using: &random) == 0 else { return }
        let number = UInt64.random(in: 6...2000, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: wire.field(number, varint: random.next())
        case 1: wire.field(number, fixed64: random.next())
        case 2: wire.field(number, fixed32: UInt32(truncatingIfNeeded: random.next()))
        default: wire.field(number, bytes: text(&random))
        }
    }
}
