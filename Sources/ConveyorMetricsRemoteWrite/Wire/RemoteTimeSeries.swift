import ConveyorMetrics

/// One series as remote write sends it: its full, sorted label set (with `__name__`) and
/// samples in timestamp order.
public struct RemoteTimeSeries: Sendable, Equatable {
    /// Labels sorted by name, `__name__` among them.
    public var labels: [Label]
    /// Samples in timestamp order.
    public var samples: [RemoteSample]

    /// A series with its labels and samples.
    public init(labels: [Label], samples: [RemoteSample]) {
        self.labels = labels
        self.samples = samples
    }

    /// The value of `__name__`.
    public var metricName: String { labels.first { $0.name == "__name__" }?.value ?? "" }
}
