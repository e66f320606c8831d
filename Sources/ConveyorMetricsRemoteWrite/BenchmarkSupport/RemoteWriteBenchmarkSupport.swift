import ConveyorMetrics

/// Entry points for the Benchmarks package (`@_spi(Benchmarks) import ConveyorMetricsRemoteWrite`);
/// not part of the public API.
@_spi(Benchmarks)
public final class RemoteWriteBenchmarkSupport {
    private let sampler = SnapshotSampler(externalLabels: ["instance": "router-7"])
    private let v1 = WriteRequestWriter()
    private let v2 = WriteRequestV2Writer()
    private let version: Int
    private var compressed: [UInt8] = []

    /// A sampler and a writer of remote write `version` (1 or 2) with the benchmark's external labels.
    public init(version: Int = 1) {
        self.version = version
    }

    /// Samples and encodes `snapshot` as a flush does; returns the protobuf size.
    @discardableResult
    public func encode(_ snapshot: MetricsSnapshot) -> Int {
        let chunks = sampler.chunks(from: snapshot)
        if version == 2 {
            v2.write(chunks)
            return v2.count
        }
        v1.write(chunks)
        return v1.count
    }

    /// Samples and encodes a flush of `registry` as a target does (straight from the registry
    /// while its series are unchanged); returns the protobuf size.
    @discardableResult
    public func encode(reading registry: MetricsRegistry) -> Int {
        let chunks = sampler.chunks(reading: registry, at: WallClock.unixMilliseconds())
        if version == 2 {
            v2.write(chunks)
            return v2.count
        }
        v1.write(chunks)
        return v1.count
    }

    /// Flushes that read the registry straight, with no snapshot.
    public var registryReads: Int { sampler.registryReads }

    /// Snappy block compression of the last encoded request; returns the compressed size.
    public func compressLastRequest() -> Int {
        Snappy.compress(version == 2 ? v2.body : v1.body, into: &compressed)
        return compressed.count
    }
}
