import ConveyorMetrics

extension FuzzTarget {
    /// Byte 0: the bucket factor (1 + byte/64; 1 itself is invalid and replaced); byte 1: the
    /// bucket limit; byte 2: bit 0 keeps classic buckets, bit 1 a zero threshold of 0.5;
    /// then up to 4,096 observations, 8 bytes each. The snapshot must count every
    /// observation, its spans and deltas must describe exactly its buckets, and every output
    /// must render (the text ones valid for the checker).
    static func nativeHistogram(_ data: [UInt8]) throws(Finding) {
        let header = Array(data.prefix(3)) + [UInt8](repeating: 0, count: max(0, 3 - data.count))
        let options = NativeHistogramOptions(
            bucketFactor: 1 + Double(header[0]) / 64, zeroThreshold: header[2] & 2 != 0 ? 0.5 : 0x1p-128,
            maxBucketCount: Int(header[1]), keepClassicBuckets: header[2] & 1 != 0)
        let registry = MetricsRegistry()
        let series = registry.histogramFamily(
            name: "fuzz_native_seconds", help: "Fuzzed native histogram", buckets: [0.1, 1, 10], native: options
        ).series()
        var observed = 0
        var nans = 0
        for offset in stride(from: 3, to: min(data.count, 3 + 8 * 4096), by: 8) where offset + 8 <= data.count {
            var bits: UInt64 = 0
            for index in 0..<8 { bits |= UInt64(data[offset + index]) << (8 * UInt64(index)) }
            let value = Double(bitPattern: bits)
            series.observe(value)
            observed += 1
            if value.isNaN { nans += 1 }
        }
        guard let native = series.value.native else { throw Finding(description: "no native histogram recorded") }
        guard native.count == UInt64(observed) else {
            throw Finding(description: "\(observed) observations, count \(native.count)")
        }
        var buckets: UInt64 = 0
        for (spans, deltas) in [
            (native.positiveSpans, native.positiveDeltas), (native.negativeSpans, native.negativeDeltas),
        ] {
            guard spans.reduce(0, { $0 + Int($1.length) }) == deltas.count else {
                throw Finding(description: "spans cover \(spans) but there are \(deltas.count) deltas")
            }
            var running: Int64 = 0
            for delta in deltas {
                running = running &+ delta
                guard running >= 0 else { throw Finding(description: "a negative bucket count from \(deltas)") }
                buckets &+= UInt64(running)
            }
        }
        guard buckets &+ native.zeroCount &+ UInt64(nans) == native.count else {
            throw Finding(
                description: "buckets \(buckets) + zero \(native.zeroCount) + NaN \(nans) != count \(native.count)")
        }
        // Past the bucket limit the resolution is halved; at the coarsest schema (−4) it
        // cannot be, and a histogram spanning the doubles may keep more buckets. A delta per
        // bucket, and at most two more per gap between buckets (empty buckets in a span).
        guard
            options.maxBucketCount == 0 || native.schema == Int32(NativeHistogramSchema.minimum)
                || native.positiveDeltas.count + native.negativeDeltas.count
                    <= max(options.maxBucketCount, 1) * 3 + 4
        else {
            throw Finding(description: "\(native.positiveDeltas.count + native.negativeDeltas.count) buckets")
        }
        for format in [ExpositionFormat.prometheusText, .openMetrics] {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer, format: format)
            do {
                _ = try ExpositionChecker.parse(buffer, openMetrics: format == .openMetrics)
            } catch {
                throw Finding(description: "\(format) output rejected by the checker: \(error)")
            }
        }
        var protobuf: [UInt8] = []
        registry.emit(into: &protobuf, format: .protobuf)
        guard !protobuf.isEmpty else { throw Finding(description: "no protobuf output") }
    }

    static var nativeHistogramSeeds: [[UInt8]] {
        func input(_ header: [UInt8], _ values: [Double]) -> [UInt8] {
            header + values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        }
        var spread: [Double] = []
        var magnitude = 0.001
        for index in 0..<600 {
            magnitude = index % 300 == 0 ? 0.001 : magnitude * 1.07
            spread.append(index % 2 == 0 ? magnitude : -magnitude)
        }
        return [
            input([6, 160, 1], [0.5, 1, 2, 4, 1e-300, -3, 0, .nan, .infinity, -.infinity]),
            input([0, 0, 0], [1.5, 2.5]),
            input([255, 1, 2], spread),
            input([6, 8, 3], spread),
            input([1, 20, 0], [5e-324, Double.leastNormalMagnitude, .greatestFiniteMagnitude, -0.0]),
        ]
    }
}
