import ConveyorMetrics

/// The disk queue's append path for the Benchmarks package: a snapshot encoded, compressed
/// and appended as one record, as a disk-backed target's persister does.
@_spi(Benchmarks)
public final class DiskQueueBenchmarkSupport {
    private let queue: DiskQueue
    private let registry: MetricsRegistry
    private let sampler = SnapshotSampler(externalLabels: ["instance": "router-7"])
    private let writer = WriteRequestWriter()
    private var compressed: [UInt8] = []
    private var samples = 0

    /// A queue in `directory` (created), with fsync after every write or once per second.
    public init(directory: String, registry: MetricsRegistry, fsyncEveryWrite: Bool) throws {
        self.registry = registry
        queue = try DiskQueue(
            settings: .init(
                directory: directory, maxBytes: 1 << 40, sync: fsyncEveryWrite ? .everyWrite : .interval(.seconds(1))))
    }

    /// Snapshots the registry and appends its samples as one record (encoding included).
    public func appendSnapshot() throws {
        for chunk in sampler.chunks(from: registry.snapshot()) {
            writer.write([chunk])
            Snappy.compress(writer.body, into: &compressed)
            _ = try queue.append(compressedRequest: compressed, samples: chunk.count, timestamp: chunk.timestamp)
            samples += chunk.count
        }
    }

    /// Appends the last encoded snapshot again (the disk write alone).
    public func appendLastAgain() throws {
        let count = writer.count > 0 ? samplesPerSnapshot : 0
        _ = try queue.append(
            compressedRequest: compressed, samples: count, timestamp: WallClock.unixMilliseconds())
        samples += count
    }

    private var samplesPerSnapshot: Int { sampler.lastSampleCount }

    /// Disk bytes per appended sample so far (segment headers included).
    public var bytesPerSample: Double { samples == 0 ? 0 : Double(queue.diskBytes) / Double(samples) }
}
