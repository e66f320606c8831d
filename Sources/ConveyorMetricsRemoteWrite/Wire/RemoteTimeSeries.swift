import ConveyorMetrics

/// One series as remote write sends it: its full, sorted label set (with `__name__`) and
/// samples in timestamp order.
package struct RemoteTimeSeries: Sendable, Equatable {
    package var labels: [Label]
    package var samples: [RemoteSample]

    package init(labels: [Label], samples: [RemoteSample]) {
        self.labels = labels
        self.samples = samples
    }

    /// The value of `__name__`.
    package var metricName: String { labels.first { $0.name == "__name__" }?.value ?? "" }
}
