import ConveyorMetrics

/// One snapshot's samples for one target: a series list, one value per series, one
/// timestamp. The series list is the same array object from one flush to the next while the
/// set of series is unchanged, so queueing a snapshot retains nothing per sample.
struct SampleChunk: Sendable {
    let series: [RemoteSeries]
    let values: [Double]
    /// Native histograms, by position (nil where the position is a float sample); nil when
    /// the chunk has none.
    let histograms: [NativeHistogramValue?]?
    /// Exemplars to send with the sample at a position (new since the previous chunk); nil
    /// when the chunk has none.
    let exemplars: [Int: [RecordedExemplar]]?
    let timestamp: Int64
    /// Where the 1.0 writer finds the prefixes of `series` laid out (the sampler's list of the
    /// current series); nil for other lists (stale markers, subsets), whose layout the writer
    /// builds for the request.
    let layoutSlot: PrefixLayoutSlot?
    /// The encoded label bytes of all of `series` (an upper bound for any slice).
    let labelBytes: Int
    /// The encoded bytes of all of `histograms` with their framing (an upper bound for any slice).
    let histogramBytes: Int
    /// The encoded bytes of all of `exemplars` as remote write 1.0 fields (an upper bound for any slice).
    let exemplarBytes: Int
    /// The samples of this chunk are `start..<end`: the rest was sent, dropped, or belongs
    /// to another slice of the same snapshot.
    var start: Int = 0
    var end: Int

    init(
        series: [RemoteSeries], values: [Double], histograms: [NativeHistogramValue?]? = nil,
        exemplars: [Int: [RecordedExemplar]]? = nil, timestamp: Int64, labelBytes: Int? = nil,
        layoutSlot: PrefixLayoutSlot? = nil
    ) {
        self.layoutSlot = layoutSlot
        self.series = series
        self.values = values
        self.histograms = histograms
        self.exemplars = exemplars?.isEmpty == true ? nil : exemplars
        self.exemplarBytes = exemplars?.values.reduce(0) { $0 + ExemplarEncoding.fieldsSize($1) } ?? 0
        self.timestamp = timestamp
        self.labelBytes = labelBytes ?? series.reduce(0) { $0 + $1.labelFieldCount }
        // (+ 12: a 2.0 start timestamp, tag and up to 10 varint bytes)
        self.histogramBytes =
            histograms?.reduce(0) { total, histogram in
                total
                    + (histogram.map {
                        HistogramEncoding.framing + 12 + HistogramEncoding.size($0, timestamp: timestamp, start: 0)
                    } ?? 0)
            } ?? 0
        self.end = values.count
    }

    /// The native histogram at `index`, if that position holds one.
    @inline(__always)
    func histogram(at index: Int) -> NativeHistogramValue? {
        guard let histograms, index < histograms.count else { return nil }
        return histograms[index]
    }

    /// The exemplars to send with the sample at `index` (none: empty).
    @inline(__always)
    func exemplars(at index: Int) -> [RecordedExemplar] {
        exemplars?[index] ?? []
    }

    var count: Int { end - start }

    /// The samples one by one (tests, logs).
    var samples: [QueuedSample] {
        (start..<end).map {
            QueuedSample(series: series[$0], sample: RemoteSample(value: values[$0], timestampMilliseconds: timestamp))
        }
    }
}
