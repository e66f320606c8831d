import CRemoteWriteProto
import ConveyorMetrics

/// Encodes and compresses sample requests in either format, and turns a stored remote
/// write 2.0 body into 1.0 for a target that fell back (its disk backlog). One per thread
/// that builds requests.
final class RequestEncoder {
    private let v1 = WriteRequestWriter()
    private let v2 = WriteRequestV2Writer()
    private var compressed: [UInt8] = []

    /// The snappy-compressed request for the samples of `chunks`.
    func encode(_ chunks: [SampleChunk], as format: RequestFormat) -> [UInt8] {
        switch format {
        case .v1:
            v1.write(chunks)
            Snappy.compress(v1.body, into: &compressed)
        case .v2:
            v2.write(chunks)
            Snappy.compress(v2.body, into: &compressed)
        }
        return compressed
    }

    /// The protobuf of a stored (snappy-compressed) body, at most a disk record's payload.
    static func decompressed(_ body: [UInt8]) throws(TranscodeError) -> [UInt8] {
        do {
            return try Snappy.decompress(body, limit: DiskRecord.maxPayload)
        } catch {
            throw TranscodeError(description: error.description)
        }
    }

    /// Why a stored body could not be turned into 1.0.
    struct TranscodeError: Error, CustomStringConvertible {
        let description: String
    }

    /// `body` (a snappy-compressed 2.0 request) as a snappy-compressed 1.0 request with the
    /// same series and samples (2.0's inline metadata and start timestamps have no place in
    /// 1.0's sample requests and are left out, and so are native histograms).
    static func v1(fromV2 body: [UInt8]) throws(TranscodeError) -> [UInt8] {
        let protobuf = try decompressed(body)
        let unpacked = protobuf.withUnsafeBufferPointer {
            io__prometheus__write__v2__request__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let request = unpacked else { throw TranscodeError(description: "not a remote write 2.0 request") }
        defer { io__prometheus__write__v2__request__free_unpacked(request, nil) }
        var symbols: [String] = []
        symbols.reserveCapacity(request.pointee.n_symbols)
        for index in 0..<request.pointee.n_symbols {
            symbols.append(request.pointee.symbols[index].map { String(cString: $0) } ?? "")
        }
        var series: [RemoteTimeSeries] = []
        series.reserveCapacity(request.pointee.n_timeseries)
        for index in 0..<request.pointee.n_timeseries {
            guard let entry = request.pointee.timeseries[index]?.pointee else { continue }
            var labels: [Label] = []
            var position = 0
            while position + 1 < entry.n_labels_refs {
                let name = Int(entry.labels_refs[position])
                let value = Int(entry.labels_refs[position + 1])
                guard name < symbols.count, value < symbols.count else {
                    throw TranscodeError(description: "a label reference outside the symbols")
                }
                labels.append(Label(name: symbols[name], value: symbols[value]))
                position += 2
            }
            var samples: [RemoteSample] = []
            for sampleIndex in 0..<entry.n_samples {
                guard let sample = entry.samples[sampleIndex]?.pointee else { continue }
                samples.append(RemoteSample(value: sample.value, timestampMilliseconds: sample.timestamp))
            }
            // A series of native histograms has no samples: 1.0's encoder here carries none.
            if !samples.isEmpty { series.append(RemoteTimeSeries(labels: labels, samples: samples)) }
        }
        return Snappy.compress(WriteRequestEncoder().encode(series))
    }
}
