/// How much one remote-write request may decode into. Each limit is checked on the wire
/// format before anything is allocated for the decoded request (a few MiB of empty
/// messages would otherwise decode into tens of millions of structs); a request over a
/// limit is refused with 413 and the limit it broke. The same limits bound remote write 1.0
/// and 2.0 requests.
public struct WriteRequestLimits: Sendable, Equatable {
    /// The snappy-declared uncompressed size.
    public var maxDecompressedBytes: Int = 64 << 20
    /// Series (`TimeSeries` messages).
    public var maxSeries: Int = 100_000
    /// Labels, of series and of exemplars together (remote write 2.0: name/value pairs of
    /// `labels_refs`).
    public var maxLabels: Int = 2_000_000
    /// Samples over all series; a remote write 2.0 native histogram counts as one sample.
    public var maxSamples: Int = 1_000_000
    /// Exemplars over all series.
    public var maxExemplars: Int = 100_000
    /// Metadata entries (remote write 2.0: `Metadata` messages of series).
    public var maxMetadata: Int = 100_000
    /// Strings in a remote write 2.0 request's symbol table (each label name and value, help
    /// and unit text once). A string costs protobuf-c more than a label ref, so the table is
    /// bounded on its own rather than counted as labels.
    public var maxSymbols: Int = 2_000_000
    /// Bytes of label names and values the series and exemplars of one request resolve to.
    /// A 1.0 request carries its label bytes itself, so its uncompressed size bounds them; a
    /// 2.0 request refers to its symbols, and a few bytes of refs can repeat a long string
    /// any number of times: this bounds what the checks after decoding then handle.
    public var maxLabelBytes: Int = 64 << 20
    /// What protobuf-c may allocate to decode the request: its structs, arrays, strings and
    /// scratch space, with 16 bytes of allocator overhead each (measured from the wire format
    /// first, then enforced by the allocator it decodes with).
    public var maxDecodedBytes: Int = 256 << 20

    /// The defaults: 64 MiB uncompressed, 100,000 series, 2,000,000 labels, 1,000,000
    /// samples, 100,000 exemplars and metadata, 2,000,000 symbols, 64 MiB of resolved label
    /// bytes, 256 MiB decoded.
    public init() {}

    /// No limit but the uncompressed size (for tests that measure the decoder itself).
    package static let unlimited: WriteRequestLimits = {
        var limits = WriteRequestLimits()
        limits.maxSeries = .max
        limits.maxLabels = .max
        limits.maxSamples = .max
        limits.maxExemplars = .max
        limits.maxMetadata = .max
        limits.maxSymbols = .max
        limits.maxLabelBytes = .max
        limits.maxDecodedBytes = .max
        return limits
    }()
}
