/// One series as the push path knows it: its full remote-write label set, built once and
/// shared by every queued sample of the series.
final class RemoteSeries: Sendable {
    let labels: [Label]
    init(labels: [Label]) { self.labels = labels }
}

/// A sample waiting to be sent.
struct QueuedSample: Sendable {
    let series: RemoteSeries
    let sample: RemoteSample
}
