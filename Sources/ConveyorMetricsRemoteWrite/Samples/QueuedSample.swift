import ConveyorMetrics

/// One sample with its series, as tests and the byte-exactness check see it.
struct QueuedSample: Sendable {
    let series: RemoteSeries
    let sample: RemoteSample
}
