/// What a `prometheus.WriteRequest` decodes into, measured from its wire format by
/// ``WriteRequestScan`` before protobuf-c allocates anything.
package struct WriteRequestSize: Sendable, Equatable {
    /// `TimeSeries` messages.
    package var series = 0
    /// Labels of series and of exemplars.
    package var labels = 0
    /// Samples over all series.
    package var samples = 0
    /// Exemplars over all series.
    package var exemplars = 0
    /// Metadata entries.
    package var metadata = 0
    /// An upper bound on what protobuf-c allocates to decode the request: bytes asked for,
    /// plus ``WriteRequestScan/allocationOverhead`` per allocation (as
    /// ``DecodeAllocationBudget`` counts them).
    package var decodedBytes = 0

    package init() {}
}
