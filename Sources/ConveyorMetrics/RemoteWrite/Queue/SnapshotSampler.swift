/// Turns registry snapshots into remote-write samples for one target.
///
/// Adds `__name__` and the external labels (a series' own label wins), expands histograms
/// into `_bucket{le}`, `_sum` and `_count`, drops empty label values, keeps timestamps
/// strictly increasing, and emits a stale marker for every series that disappeared since
/// the previous snapshot. Used by one flush loop at a time.
final class SnapshotSampler {
    private let externalLabels: [Label]
    private var known: [String: RemoteSeries] = [:]
    private var lastTimestamp: Int64 = 0

    init(externalLabels: [String: String]) {
        self.externalLabels = externalLabels.map { Label(name: $0.key, value: $0.value) }.filter { !$0.value.isEmpty }
    }

    /// Samples for every series of `snapshot`, then stale markers for vanished series.
    func samples(from snapshot: MetricsSnapshot) -> [QueuedSample] {
        let timestamp = nextTimestamp(snapshot.timestampMilliseconds)
        var output: [QueuedSample] = []
        output.reserveCapacity(snapshot.seriesCount)
        var seen: [String: RemoteSeries] = [:]
        seen.reserveCapacity(known.count)
        func emit(_ name: String, _ labels: [Label], _ suffixLabel: Label?, _ key: String, _ value: Double) {
            let series = known[key] ?? seen[key] ?? RemoteSeries(labels: makeLabels(name, labels, suffixLabel))
            seen[key] = series
            let normalized = value.isNaN ? Double(bitPattern: RemoteSample.normalNaNBits) : value
            output.append(
                QueuedSample(series: series, sample: RemoteSample(value: normalized, timestampMilliseconds: timestamp)))
        }
        for family in snapshot.families {
            for series in family.series {
                let labelKey = String(decoding: series.renderedLabels, as: UTF8.self)
                switch series.value {
                case .counter(let value), .gauge(let value):
                    emit(family.name, series.labels, nil, family.name + "{" + labelKey, value)
                case .histogram(let histogram):
                    let bucket = family.name + "_bucket"
                    for (index, count) in histogram.cumulativeCounts.enumerated() {
                        let le =
                            index < histogram.upperBounds.count
                            ? FloatFormatting.goStyle(histogram.upperBounds[index]) : "+Inf"
                        emit(
                            bucket, series.labels, Label(name: "le", value: le), bucket + "{" + labelKey + "|" + le,
                            Double(count))
                    }
                    emit(family.name + "_sum", series.labels, nil, family.name + "_sum{" + labelKey, histogram.sum)
                    emit(
                        family.name + "_count", series.labels, nil, family.name + "_count{" + labelKey,
                        Double(histogram.count))
                }
            }
        }
        for (key, series) in known where seen[key] == nil {
            output.append(QueuedSample(series: series, sample: .staleMarker(at: timestamp)))
        }
        known = seen
        return output
    }

    /// Stale markers for every series pushed so far (graceful shutdown); forgets them.
    func staleMarkersForAll(at wallClock: Int64) -> [QueuedSample] {
        let timestamp = nextTimestamp(wallClock)
        defer { known = [:] }
        return known.values.map { QueuedSample(series: $0, sample: .staleMarker(at: timestamp)) }
    }

    private func nextTimestamp(_ wallClock: Int64) -> Int64 {
        lastTimestamp = max(wallClock, lastTimestamp + 1)
        return lastTimestamp
    }

    private func makeLabels(_ name: String, _ own: [Label], _ extra: Label?) -> [Label] {
        var labels = own.filter { !$0.value.isEmpty }
        if let extra { labels.append(extra) }
        for external in externalLabels where !labels.contains(where: { $0.name == external.name }) {
            labels.append(external)
        }
        labels.append(Label(name: "__name__", value: name))
        return labels.sortedByName()
    }
}
