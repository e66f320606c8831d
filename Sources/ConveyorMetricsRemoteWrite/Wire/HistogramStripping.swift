import CRemoteWriteProto
import ConveyorMetrics

/// A request without its native histograms, for a receiver that refused them: the float
/// samples go again, the histograms are dropped (counted by the caller).
enum HistogramStripping {
    /// `chunks` without their native histograms, and how many were left out.
    static func withoutHistograms(_ chunks: [SampleChunk]) -> (chunks: [SampleChunk], dropped: Int) {
        var kept: [SampleChunk] = []
        var dropped = 0
        for chunk in chunks {
            guard chunk.histograms != nil else {
                kept.append(chunk)
                continue
            }
            var series: [RemoteSeries] = []
            var values: [Double] = []
            var exemplars: [Int: [RecordedExemplar]] = [:]
            for index in chunk.start..<chunk.end {
                if chunk.histogram(at: index) != nil {
                    dropped += 1
                } else {
                    if let kept = chunk.exemplars?[index] { exemplars[values.count] = kept }
                    series.append(chunk.series[index])
                    values.append(chunk.values[index])
                }
            }
            if !values.isEmpty {
                kept.append(
                    SampleChunk(series: series, values: values, exemplars: exemplars, timestamp: chunk.timestamp))
            }
        }
        return (kept, dropped)
    }

    /// `body` (a snappy-compressed request in `format`) without its series of native
    /// histograms, and how many histograms they held.
    static func withoutHistograms(body: [UInt8], format: RequestFormat) throws(RequestEncoder.TranscodeError) -> (
        body: [UInt8], dropped: Int
    ) {
        let protobuf = try RequestEncoder.decompressed(body)
        let repacked: ([UInt8], Int)? =
            switch format {
            case .v1: stripV1(protobuf)
            case .v2: stripV2(protobuf)
            }
        guard let (stripped, dropped) = repacked else {
            throw RequestEncoder.TranscodeError(
                description: "not a remote write \(format == .v1 ? "1.0" : "2.0") request")
        }
        return (dropped == 0 ? body : Snappy.compress(stripped), dropped)
    }

    private static func stripV1(_ protobuf: [UInt8]) -> ([UInt8], Int)? {
        let unpacked = protobuf.withUnsafeBufferPointer {
            prometheus__write_request__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let request = unpacked else { return nil }
        defer { prometheus__write_request__free_unpacked(request, nil) }
        let (kept, dropped) = keep(request.pointee.timeseries, request.pointee.n_timeseries) { $0.n_histograms }
        var copy = request.pointee
        copy.n_timeseries = kept.count
        return kept.withUnsafeBufferPointer { series -> ([UInt8], Int) in
            copy.timeseries = UnsafeMutablePointer(mutating: series.baseAddress)
            var bytes = [UInt8](repeating: 0, count: prometheus__write_request__get_packed_size(&copy))
            _ = bytes.withUnsafeMutableBufferPointer { prometheus__write_request__pack(&copy, $0.baseAddress) }
            return (bytes, dropped)
        }
    }

    private static func stripV2(_ protobuf: [UInt8]) -> ([UInt8], Int)? {
        let unpacked = protobuf.withUnsafeBufferPointer {
            io__prometheus__write__v2__request__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let request = unpacked else { return nil }
        defer { io__prometheus__write__v2__request__free_unpacked(request, nil) }
        let (kept, dropped) = keep(request.pointee.timeseries, request.pointee.n_timeseries) { $0.n_histograms }
        var copy = request.pointee
        copy.n_timeseries = kept.count
        return kept.withUnsafeBufferPointer { series -> ([UInt8], Int) in
            copy.timeseries = UnsafeMutablePointer(mutating: series.baseAddress)
            var bytes = [UInt8](repeating: 0, count: io__prometheus__write__v2__request__get_packed_size(&copy))
            _ = bytes.withUnsafeMutableBufferPointer { io__prometheus__write__v2__request__pack(&copy, $0.baseAddress) }
            return (bytes, dropped)
        }
    }

    /// The series of protobuf-c's array without native histograms, and how many those held.
    private static func keep<Series>(
        _ series: UnsafeMutablePointer<UnsafeMutablePointer<Series>?>?, _ count: Int, histograms: (Series) -> Int
    ) -> (kept: [UnsafeMutablePointer<Series>?], dropped: Int) {
        var kept: [UnsafeMutablePointer<Series>?] = []
        var dropped = 0
        for index in 0..<count {
            guard let entry = series?[index] else { continue }
            let held = histograms(entry.pointee)
            if held > 0 { dropped += held } else { kept.append(entry) }
        }
        return (kept, dropped)
    }
}
