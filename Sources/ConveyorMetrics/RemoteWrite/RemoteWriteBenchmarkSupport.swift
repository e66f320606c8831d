/// Entry points for the Benchmarks package (`@_spi(Benchmarks) import ConveyorMetrics`);
/// not part of the public API.
@_spi(Benchmarks)
public final class RemoteWriteBenchmarkSupport {
    private let sampler = SnapshotSampler(externalLabels: ["instance": "router-7"])
    private let encoder = WriteRequestEncoder()
    private var compressed: [UInt8] = []

    public init() {}

    /// The protobuf WriteRequest for `snapshot` (labels, grouping and encoding, as a flush does).
    public func encode(_ snapshot: MetricsSnapshot) -> [UInt8] {
        encoder.encode(RemoteWriteTarget.group(sampler.samples(from: snapshot)))
    }

    /// Snappy block compression of `bytes`; returns the compressed size.
    public func compress(_ bytes: [UInt8]) -> Int {
        Snappy.compress(bytes, into: &compressed)
        return compressed.count
    }
}
