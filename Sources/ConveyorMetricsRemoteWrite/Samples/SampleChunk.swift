import ConveyorMetrics

/// One snapshot's samples for one target: a series list, one value per series, one
/// timestamp. The series list is the same array object from one flush to the next while the
/// set of series is unchanged, so queueing a snapshot retains nothing per sample.
struct SampleChunk: Sendable {
    let series: [RemoteSeries]
    let values: [Double]
    let timestamp: Int64
    /// The encoded label bytes of all of `series` (an upper bound for any slice).
    let labelBytes: Int
    /// The samples of this chunk are `start..<end`: the rest was sent, dropped, or belongs
    /// to another slice of the same snapshot.
    var start: Int = 0
    var end: Int

    init(series: [RemoteSeries], values: [Double], timestamp: Int64, labelBytes: Int? = nil) {
        self.series = series
        self.values = values
        self.timestamp = timestamp
        self.labelBytes = labelBytes ?? series.reduce(0) { $0 + $1.encodedLabels.count }
        self.end = values.count
    }

    var count: Int { end - start }

    /// The samples one by one (tests, logs).
    var samples: [QueuedSample] {
        (start..<end).map {
            QueuedSample(series: series[$0], sample: RemoteSample(value: values[$0], timestampMilliseconds: timestamp))
        }
    }
}
