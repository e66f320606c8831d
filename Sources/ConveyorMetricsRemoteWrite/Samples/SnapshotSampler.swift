import ConveyorMetrics

/// Turns registry snapshots into remote-write samples for one target.
///
/// Adds `__name__` and the external labels (a series' own label wins), expands histograms
/// into `_bucket{le}`, `_sum` and `_count`, drops empty label values, keeps timestamps
/// strictly increasing (never below `floor`, the newest timestamp a previous run
/// delivered), and emits one stale marker for every series that disappeared since the
/// previous snapshot. Label sets (and their protobuf bytes) are built once per series and
/// cached by the identity of the registry's series object, so a steady flush builds no
/// strings.
///
/// A series is its label set as the receiver sees it: a registry series destroyed and
/// created again with the same labels continues the same series (no stale marker), and two
/// registry series that differ only by empty label values (`{a=""}` and `{}`) are one series,
/// the first in snapshot order winning; the other's samples are not sent (counted in
/// `duplicateSamples`). Used by one thread at a time.
///
/// With `sendsExemplars`, an exemplar goes with the sample of its counter or classic bucket
/// (a native-only histogram's with its native histogram, or its `+Inf` bucket when native
/// histograms are not sent), once: only exemplars newer than those already taken are added.
final class SnapshotSampler {
    /// One remote series (or a histogram's set) and the last generation that emitted it.
    private final class Tracked {
        let key: String
        /// One remote series for a counter or gauge; buckets…, `+Inf`, `_sum`, `_count` for a
        /// histogram. Built again when a re-created registry series restarts counting (a new
        /// start timestamp), so samples already queued keep the start they were taken with.
        var remote: [RemoteSeries]
        var generation: UInt64

        init(key: String, remote: [RemoteSeries], generation: UInt64) {
            self.key = key
            self.remote = remote
            self.generation = generation
        }
    }

    private struct Entry {
        /// Keeps the registry's series alive, so its identity is not reused while cached.
        let source: AnyObject
        let tracked: Tracked
        /// The last generation whose snapshot held this registry series.
        var seen: UInt64
    }

    private let externalLabels: [Label]
    /// The strings of every series, shared (remote write 2.0's symbols).
    private let symbols = SymbolTable()
    private var cache: [ObjectIdentifier: Entry] = [:]
    private var byLabels: [String: Tracked] = [:]
    private var generation: UInt64 = 0
    private var lastTimestamp: Int64 = 0
    /// The series list of the previous chunk, reused while nothing changed.
    private(set) var lastOrder: [RemoteSeries] = []
    /// The registry series (by identity) that produced `lastOrder`, in order.
    private(set) var lastSources: [ObjectIdentifier] = []
    private(set) var lastOrderLabelBytes = 0
    /// Where the writer keeps the layout of `lastOrder` (a new slot with every new list).
    private(set) var lastOrderSlot = PrefixLayoutSlot()
    /// Flushes read straight from the registry, with no snapshot (tests, benchmarks).
    var registryReads = 0
    /// Samples left out because another registry series had the same labels (cumulative).
    private(set) var duplicateSamples = 0
    /// Times the wall clock was found behind the last timestamp used (cumulative), and by how
    /// much the last time (ms).
    private(set) var clockStepBacks = 0
    private(set) var lastStepBack: Int64 = 0

    /// Whether native histograms go out as such (read at every snapshot: a receiver can
    /// refuse them).
    let sendsNativeHistograms: @Sendable () -> Bool
    /// What `sendsNativeHistograms` said at the previous snapshot.
    private(set) var sentNativeHistograms = false
    /// Whether exemplars are sent (`send_exemplars`).
    let sendsExemplars: Bool
    /// Per registry series, the newest exemplar sequence taken, per slot.
    var exemplarsTaken: [ObjectIdentifier: [UInt64]] = [:]

    init(
        externalLabels: [String: String], sendsNativeHistograms: @escaping @Sendable () -> Bool = { false },
        sendsExemplars: Bool = false
    ) {
        self.externalLabels = externalLabels.map { Label(name: $0.key, value: $0.value) }.filter { !$0.value.isEmpty }
        self.sendsNativeHistograms = sendsNativeHistograms
        self.sendsExemplars = sendsExemplars
    }

    /// Timestamps from now on are above `timestamp` (ms): the newest a previous run used.
    func raiseFloor(to timestamp: Int64) {
        lastTimestamp = max(lastTimestamp, timestamp)
    }

    /// The newest timestamp handed out.
    var newestTimestamp: Int64 { lastTimestamp }

    /// The samples of `snapshot` as one chunk, plus a chunk of stale markers when series
    /// vanished, stamped `wallMilliseconds` (the snapshot's own time by default) or just
    /// above the previous timestamp if the clock went back.
    func chunks(from snapshot: MetricsSnapshot, at wallMilliseconds: Int64? = nil) -> [SampleChunk] {
        let timestamp = nextTimestamp(wallMilliseconds ?? snapshot.timestampMilliseconds)
        let native = sendsNativeHistograms()
        if native != sentNativeHistograms {
            // Native histograms switched on or off (refused): every series is laid out again.
            sentNativeHistograms = native
            cache = [:]
            byLabels = [:]
            lastOrder = []
            lastOrderSlot = PrefixLayoutSlot()
            lastSources = []
        }
        if let (values, histograms, exemplars) = valuesIfUnchanged(snapshot) {
            return [
                SampleChunk(
                    series: lastOrder, values: values, histograms: histograms, exemplars: commit(exemplars),
                    timestamp: timestamp, labelBytes: lastOrderLabelBytes, layoutSlot: lastOrderSlot)
            ]
        }
        generation &+= 1
        var sources: [ObjectIdentifier] = []
        sources.reserveCapacity(lastSources.count)
        var values: [Double] = []
        values.reserveCapacity(lastOrder.count)
        var natives = NativeColumn()
        var exemplars = ExemplarColumn()
        var order = OrderBuilder(previous: lastOrder)
        for family in snapshot.families {
            for series in family.series {
                sources.append(series.sourceID ?? ObjectIdentifier(RemoteSeries.self))
                guard let remote = remoteSeries(family, series) else {
                    duplicateSamples += series.value.sampleCount
                    continue
                }
                if sendsExemplars, let held = series.exemplars {
                    takeExemplars(held, of: series, at: values.count, into: &exemplars)
                }
                switch series.value {
                case .counter(let value), .gauge(let value):
                    order.append(remote[0])
                    values.append(RemoteSample.normalized(value))
                case .histogram(let histogram):
                    var classic = remote[...]
                    if let value = histogram.native, sentNativeHistograms, let first = remote.first {
                        natives.add(value, at: values.count)
                        order.append(first)
                        values.append(0)
                        classic = remote.dropFirst()
                    }
                    guard classic.count >= 2 else { continue }  // native only
                    let buckets = min(histogram.cumulativeCounts.count, classic.count - 2)
                    for index in 0..<buckets {
                        order.append(classic[classic.startIndex + index])
                        values.append(Double(histogram.cumulativeCounts[index]))
                    }
                    order.append(classic[classic.endIndex - 2])
                    values.append(RemoteSample.normalized(histogram.sum))
                    order.append(classic[classic.endIndex - 1])
                    values.append(Double(histogram.count))
                }
            }
        }
        lastOrder = order.finish()
        lastOrderSlot = PrefixLayoutSlot()
        lastSources = sources
        let chunk = SampleChunk(
            series: lastOrder, values: values, histograms: natives.column(count: values.count),
            exemplars: commit(exemplars), timestamp: timestamp, layoutSlot: lastOrderSlot)
        lastOrderLabelBytes = chunk.labelBytes
        var result = [chunk]
        var vanished: [ObjectIdentifier] = []
        var stale: [RemoteSeries] = []
        for (key, entry) in cache where entry.seen != generation {
            vanished.append(key)
            // Re-created meanwhile, or shared by several registry series: one stale marker,
            // only when no series of this snapshot carries the labels on.
            guard entry.tracked.generation != generation, byLabels[entry.tracked.key] === entry.tracked else {
                continue
            }
            byLabels[entry.tracked.key] = nil
            stale.append(contentsOf: entry.tracked.remote)
        }
        for key in vanished {
            cache[key] = nil
            exemplarsTaken[key] = nil
        }
        // The same order on every run (replayable); each key built once.
        stale = stale.map { ($0.sortKey, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        if !stale.isEmpty { result.append(Self.staleMarkers(stale, at: timestamp)) }
        return result
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
        let series = byLabels.keys.sorted().flatMap { byLabels[$0]?.remote ?? [] }
        cache = [:]
        exemplarsTaken = [:]
        byLabels = [:]
        lastOrder = []
        lastOrderSlot = PrefixLayoutSlot()
        lastSources = []
        return Self.staleMarkers(series, at: timestamp)
    }

    /// A stale marker for each of `series`: a float with ``RemoteSample/staleNaNBits``, or
    /// for a native histogram series a histogram whose sum has those bits (what Prometheus
    /// itself sends; a receiver that drops native histograms then keeps no float of it).
    static func staleMarkers(_ series: [RemoteSeries], at timestamp: Int64) -> SampleChunk {
        let natives = series.contains { $0.isNativeHistogram }
        return SampleChunk(
            series: series,
            values: Array(repeating: Double(bitPattern: RemoteSample.staleNaNBits), count: series.count),
            histograms: natives ? series.map { $0.isNativeHistogram ? NativeHistogramValue.staleMarker : nil } : nil,
            timestamp: timestamp)
    }

    /// The remote series of `series`; nil when another series of this snapshot already
    /// had the same labels.
    private func remoteSeries(_ family: MetricFamilySnapshot, _ series: SeriesSnapshot) -> [RemoteSeries]? {
        // Snapshots built by hand (no source object) are neither cached nor tracked for staleness.
        guard let source = series.source else { return buildRemoteSeries(family, series) }
        let id = ObjectIdentifier(source)
        let tracked: Tracked
        if let index = cache.index(forKey: id) {
            cache.values[index].seen = generation
            tracked = cache.values[index].tracked
        } else {
            let key = Self.labelsKey(family.name, series.labels)
            if let existing = byLabels[key] {
                tracked = existing  // re-created, or same labels once empty values are dropped
                if tracked.generation != generation, tracked.remote.first?.startTimestamp != series.createdMilliseconds,
                    family.type != .gauge
                {
                    tracked.remote = buildRemoteSeries(family, series)  // counting again from zero
                }
            } else {
                tracked = Tracked(key: key, remote: buildRemoteSeries(family, series), generation: generation &- 1)
                byLabels[key] = tracked
            }
            cache[id] = Entry(source: source, tracked: tracked, seen: generation)
        }
        guard tracked.generation != generation else { return nil }
        tracked.generation = generation
        return tracked.remote
    }

    /// The identity of a series at the receiver: its name and non-empty labels.
    private static func labelsKey(_ name: String, _ labels: [Label]) -> String {
        var key = name
        for label in labels.sortedByName() where !label.value.isEmpty {
            key += "\u{0}" + label.name + "\u{0}" + label.value
        }
        return key
    }

    private func buildRemoteSeries(_ family: MetricFamilySnapshot, _ series: SeriesSnapshot) -> [RemoteSeries] {
        let start = family.type == .gauge ? 0 : series.createdMilliseconds
        func remoteSeries(_ labels: [Label], native: Bool = false) -> RemoteSeries {
            RemoteSeries(
                labels: labels, type: family.type, help: family.help, unit: family.unit, startTimestamp: start,
                nativeHistogram: native, symbols: symbols)
        }
        var remote: [RemoteSeries] = []
        switch series.value {
        case .counter, .gauge:
            remote = [remoteSeries(makeLabels(family.name, series.labels, nil))]
        case .histogram(let histogram):
            if histogram.native != nil && sentNativeHistograms {
                remote.append(remoteSeries(makeLabels(family.name, series.labels, nil), native: true))
                if histogram.upperBounds.isEmpty { return remote }  // native only: no classic series
            }
            let bucket = family.name + "_bucket"
            for bound in histogram.upperBounds {
                remote.append(
                    remoteSeries(
                        makeLabels(bucket, series.labels, Label(name: "le", value: FloatFormatting.goStyle(bound)))))
            }
            remote.append(remoteSeries(makeLabels(bucket, series.labels, Label(name: "le", value: "+Inf"))))
            remote.append(remoteSeries(makeLabels(family.name + "_sum", series.labels, nil)))
            remote.append(remoteSeries(makeLabels(family.name + "_count", series.labels, nil)))
        }
        return remote
    }

    func nextTimestamp(_ wallClock: Int64) -> Int64 {
        if wallClock < lastTimestamp {
            clockStepBacks += 1
            lastStepBack = lastTimestamp - wallClock
        }
        lastTimestamp = max(wallClock, lastTimestamp &+ 1)
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
