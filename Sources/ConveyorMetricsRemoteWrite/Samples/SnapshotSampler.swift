import ConveyorMetrics

/// Turns registry snapshots into remote-write samples for one target.
///
/// Adds `__name__` and the external labels (a series' own label wins), expands histograms
/// into `_bucket{le}`, `_sum` and `_count`, drops empty label values, keeps timestamps
/// strictly increasing, and emits a stale marker for every series that disappeared since
/// the previous snapshot. Label sets (and their protobuf bytes) are built once per series
/// and cached by the identity of the registry's series object, so a steady flush builds no
/// strings. Used by one flush loop at a time.
final class SnapshotSampler {
    private struct Entry {
        /// Keeps the registry's series alive, so its identity is not reused while cached.
        let source: AnyObject
        /// One remote series for a counter or gauge; buckets…, `+Inf`, `_sum`, `_count` for a histogram.
        let remote: [RemoteSeries]
        var generation: UInt64
    }

    private let externalLabels: [Label]
    private var cache: [ObjectIdentifier: Entry] = [:]
    private var generation: UInt64 = 0
    private var lastTimestamp: Int64 = 0
    /// The series list of the previous chunk, reused while nothing changed.
    private var lastOrder: [RemoteSeries] = []
    /// The registry series (by identity) that produced `lastOrder`, in order.
    private var lastSources: [ObjectIdentifier] = []
    private var lastOrderLabelBytes = 0

    init(externalLabels: [String: String]) {
        self.externalLabels = externalLabels.map { Label(name: $0.key, value: $0.value) }.filter { !$0.value.isEmpty }
    }

    /// The samples of `snapshot` as one chunk, plus a chunk of stale markers when series vanished.
    func chunks(from snapshot: MetricsSnapshot) -> [SampleChunk] {
        let timestamp = nextTimestamp(snapshot.timestampMilliseconds)
        if let values = valuesIfUnchanged(snapshot) {
            return [
                SampleChunk(series: lastOrder, values: values, timestamp: timestamp, labelBytes: lastOrderLabelBytes)
            ]
        }
        generation &+= 1
        var sources: [ObjectIdentifier] = []
        sources.reserveCapacity(lastSources.count)
        var values: [Double] = []
        values.reserveCapacity(lastOrder.count)
        var order = OrderBuilder(previous: lastOrder)
        for family in snapshot.families {
            for series in family.series {
                let remote = remoteSeries(family, series)
                sources.append(series.sourceID ?? ObjectIdentifier(RemoteSeries.self))
                switch series.value {
                case .counter(let value), .gauge(let value):
                    order.append(remote[0])
                    values.append(Self.normalized(value))
                case .histogram(let histogram):
                    let buckets = min(histogram.cumulativeCounts.count, remote.count - 2)
                    for index in 0..<buckets {
                        order.append(remote[index])
                        values.append(Double(histogram.cumulativeCounts[index]))
                    }
                    order.append(remote[remote.count - 2])
                    values.append(Self.normalized(histogram.sum))
                    order.append(remote[remote.count - 1])
                    values.append(Double(histogram.count))
                }
            }
        }
        lastOrder = order.finish()
        lastSources = sources
        let chunk = SampleChunk(series: lastOrder, values: values, timestamp: timestamp)
        lastOrderLabelBytes = chunk.labelBytes
        var result = [chunk]
        var vanished: [ObjectIdentifier] = []
        var stale: [RemoteSeries] = []
        for (key, entry) in cache where entry.generation != generation {
            stale.append(contentsOf: entry.remote)
            vanished.append(key)
        }
        for key in vanished { cache[key] = nil }
        if !stale.isEmpty {
            result.append(
                SampleChunk(
                    series: stale,
                    values: Array(repeating: Double(bitPattern: RemoteSample.staleNaNBits), count: stale.count),
                    timestamp: timestamp))
        }
        return result
    }

    /// The steady state: the snapshot holds exactly the series of the previous one, in the
    /// same order (compared by identity, no reference counting), so only values are read.
    private func valuesIfUnchanged(_ snapshot: MetricsSnapshot) -> [Double]? {
        guard !lastSources.isEmpty else { return nil }
        var values: [Double] = []
        values.reserveCapacity(lastOrder.count)
        var position = 0
        let complete = snapshot.families.withUnsafeBufferPointer { families -> Bool in
            for familyIndex in families.indices {
                let matched = families[familyIndex].series.withUnsafeBufferPointer { series -> Bool in
                    for index in series.indices {
                        guard position < lastSources.count, series[index].sourceID == lastSources[position] else {
                            return false
                        }
                        position += 1
                        switch series[index].value {
                        case .counter(let value), .gauge(let value):
                            values.append(Self.normalized(value))
                        case .histogram(let histogram):
                            for count in histogram.cumulativeCounts { values.append(Double(count)) }
                            values.append(Self.normalized(histogram.sum))
                            values.append(Double(histogram.count))
                        }
                    }
                    return true
                }
                if !matched { return false }
            }
            return true
        }
        guard complete else { return nil }
        guard position == lastSources.count, values.count == lastOrder.count else { return nil }
        return values
    }

    /// Samples in the last snapshot's chunk (benchmarks).
    var lastSampleCount: Int { lastOrder.count }

    /// The samples of `snapshot` one by one (tests).
    func samples(from snapshot: MetricsSnapshot) -> [QueuedSample] {
        chunks(from: snapshot).flatMap(\.samples)
    }

    /// Stale markers for every series pushed so far (graceful shutdown); forgets them.
    func staleMarkersForAll(at wallClock: Int64) -> SampleChunk {
        let timestamp = nextTimestamp(wallClock)
        let series = cache.values.flatMap(\.remote)
        cache = [:]
        lastOrder = []
        lastSources = []
        return SampleChunk(
            series: series,
            values: Array(repeating: Double(bitPattern: RemoteSample.staleNaNBits), count: series.count),
            timestamp: timestamp)
    }

    @inline(__always)
    private static func normalized(_ value: Double) -> Double {
        value.isNaN ? Double(bitPattern: RemoteSample.normalNaNBits) : value
    }

    private func remoteSeries(_ family: MetricFamilySnapshot, _ series: SeriesSnapshot) -> [RemoteSeries] {
        // Snapshots built by hand (no source object) are neither cached nor tracked for staleness.
        guard let source = series.source else { return buildRemoteSeries(family, series) }
        let key = ObjectIdentifier(source)
        if let index = cache.index(forKey: key) {
            cache.values[index].generation = generation
            return cache.values[index].remote
        }
        let remote = buildRemoteSeries(family, series)
        cache[key] = Entry(source: source, remote: remote, generation: generation)
        return remote
    }

    private func buildRemoteSeries(_ family: MetricFamilySnapshot, _ series: SeriesSnapshot) -> [RemoteSeries] {
        var remote: [RemoteSeries] = []
        switch series.value {
        case .counter, .gauge:
            remote = [RemoteSeries(labels: makeLabels(family.name, series.labels, nil))]
        case .histogram(let histogram):
            let bucket = family.name + "_bucket"
            for bound in histogram.upperBounds {
                remote.append(
                    RemoteSeries(
                        labels: makeLabels(
                            bucket, series.labels, Label(name: "le", value: FloatFormatting.goStyle(bound)))))
            }
            remote.append(RemoteSeries(labels: makeLabels(bucket, series.labels, Label(name: "le", value: "+Inf"))))
            remote.append(RemoteSeries(labels: makeLabels(family.name + "_sum", series.labels, nil)))
            remote.append(RemoteSeries(labels: makeLabels(family.name + "_count", series.labels, nil)))
        }
        return remote
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
