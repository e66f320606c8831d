/// What a remote-write request decodes into, measured from its wire format by
/// ``WriteRequestScan`` before protobuf-c allocates anything.
package struct WriteRequestSize: Sendable, Equatable {
    /// `TimeSeries` messages.
    package var series = 0
    /// Labels of series and of exemplars (remote write 2.0: pairs of `labels_refs`, an odd
    /// last ref counting as one).
    package var labels = 0
    /// Samples over all series.
    package var samples = 0
    /// Native histograms over all series (remote write 2.0).
    package var histograms = 0
    /// Exemplars over all series.
    package var exemplars = 0
    /// Metadata entries (remote write 2.0: `Metadata` messages, a repeated one counted each time).
    package var metadata = 0
    /// Strings of the symbol table (remote write 2.0).
    package var symbols = 0
    /// An upper bound on what protobuf-c allocates to decode the request: bytes asked for,
    /// plus ``WriteRequestScan/allocationOverhead`` per allocation (as
    /// ``DecodeAllocationBudget`` counts them).
    package var decodedBytes = 0

    package init() {}
}
