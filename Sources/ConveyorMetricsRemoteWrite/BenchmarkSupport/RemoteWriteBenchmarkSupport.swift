import ConveyorMetrics

/// Entry points for the Benchmarks package (`@_spi(Benchmarks) import ConveyorMetricsRemoteWrite`);
/// not part of the public API.
@_spi(Benchmarks)
public final class RemoteWriteBenchmarkSupport {
    private let sampler = SnapshotSampler(externalLabels: ["instance": "router-7"])
    private let writer = WriteRequestWriter()
    private var compressed: [UInt8] = []

    /// A sampler and writer with the benchmark's external labels.
    public init() {}

    /// Samples and encodes `snapshot` as a flush does; returns the protobuf size.
    @discardableResult
    public func encode(_ snapshot: MetricsSnapshot) -> Int {
        writer.write(sampler.chunks(from: snapshot))
        return writer.count
    }

    /// Snappy block compression of the last encoded request; returns the compressed size.
    public func compressLastRequest() -> Int {
        Snappy.compress(writer.body, into: &compressed)
        return compressed.count
    }
}
