import ConveyorMetrics

/// One series as remote write sends it: its full, sorted label set (with `__name__`) and
/// samples in timestamp order (or native histograms).
public struct RemoteTimeSeries: Sendable, Equatable {
    /// Labels sorted by name, `__name__` among them.
    public var labels: [Label]
    /// Samples in timestamp order.
    public var samples: [RemoteSample]
    /// Native histograms the series carried (decoded requests; their buckets are not kept).
    public var histogramCount: Int

    /// A series with its labels and samples (and, decoded, how many native histograms).
    public init(labels: [Label], samples: [RemoteSample], histogramCount: Int = 0) {
        self.labels = labels
        self.samples = samples
        self.histogramCount = histogramCount
    }

    /// The value of `__name__`.
    public var metricName: String { labels.first { $0.name == "__name__" }?.value ?? "" }
}
