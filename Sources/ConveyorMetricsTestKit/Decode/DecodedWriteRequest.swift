import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// A decoded `prometheus.WriteRequest`.
public struct DecodedWriteRequest: Sendable, Equatable {
    /// The series, in request order.
    public var timeSeries: [RemoteTimeSeries]
    /// Family metadata (remote write 1.0 sends it in sample-free requests).
    public var metadata: [RemoteMetadata]

    /// Samples over all series.
    public var sampleCount: Int { timeSeries.reduce(0) { $0 + $1.samples.count } }
}
