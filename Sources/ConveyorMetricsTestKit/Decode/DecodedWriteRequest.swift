import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// A decoded remote-write request: a 1.0 `prometheus.WriteRequest` or a 2.0
/// `io.prometheus.write.v2.Request`, in the same shape (a 2.0 request's label refs resolved
/// from its symbols, its inline metadata gathered per metric family).
public struct DecodedWriteRequest: Sendable, Equatable {
    /// The protocol the body was decoded as.
    public var protocolVersion: ProtocolVersion = .v1
    /// The series, in request order. A series of native histograms is here with its labels
    /// and no samples (its histograms are counted in ``histogramCount``).
    public var timeSeries: [RemoteTimeSeries]
    /// Family metadata. Remote write 1.0 sends it in sample-free requests; 2.0 with each
    /// series, gathered here once per metric name (the first one sent; a `Metadata` with no
    /// type, help or unit is left out).
    public var metadata: [RemoteMetadata]
    /// Native histograms over all series.
    public var histogramCount = 0
    /// Exemplars over all series.
    public var exemplarCount = 0

    /// Samples over all series.
    public var sampleCount: Int { timeSeries.reduce(0) { $0 + $1.samples.count } }
}
