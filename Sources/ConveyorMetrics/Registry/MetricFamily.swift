import Synchronization

/// The series of one family, found by label values.
///
/// Finding an existing series takes no lock and allocates nothing (``SeriesLookupTable``);
/// creating one takes the family's lock, is O(1) amortized, and is refused (counted) past
/// the family's series limit. The sorted order snapshots need is cached and rebuilt only
/// after a series was added or removed.
package final class MetricFamily<Series: SeriesStorage>: Sendable {
    package let descriptor: FamilyDescriptor
    package let configuration: Series.Configuration
    private let seriesLimit: Int
    private let maxLabelValueBytes: Int
    private let rejections: RejectedValueRecorder?
    private let context: SeriesContext
    private let table: SeriesLookupTable<Series>
    private let state: Mutex<State>
    /// Receives the updates that the family refused; never exported.
    private let detached: Series

    private struct State {
        var table: SeriesLookupTable<Series>.WriterState
        var sorted: [Series]? = []
        var version: UInt64 = 0
        /// Taken out of its registry (swift-metrics destroyed its last series): no new series.
        var retired = false
    }

    package init(
        descriptor: FamilyDescriptor, configuration: Series.Configuration, seriesLimit: Int,
        maxLabelValueBytes: Int, rejections: RejectedValueRecorder?, exemplarProvider: ExemplarProvider? = nil
    ) {
        self.descriptor = descriptor
        self.configuration = configuration
        self.seriesLimit = seriesLimit
        self.maxLabelValueBytes = maxLabelValueBytes
        self.rejections = rejections
        self.context = SeriesContext(
            metricName: descriptor.name, labelNames: descriptor.labelNames, rejections: rejections,
            exemplarProvider: exemplarProvider)
        let (table, writer) = SeriesLookupTable<Series>.make()
        self.table = table
        self.state = Mutex(State(table: writer))
        self.detached = Series(
            identity: .detached, configuration: configuration,
            context: SeriesContext(metricName: descriptor.name, labelNames: nil, rejections: nil))
        if descriptor.labelNames?.isEmpty == true {
            _ = series(.none)
        }
    }

    /// Calls `body` with the series for `key`, created on first use. Refused keys (too many
    /// series, too long values, wrong count) are counted and get a detached series that is
    /// never exported, so the update is dropped without a crash. The hot path: no lock, no
    /// retain, no allocation for a series that exists.
    @inline(__always)
    package func withSeries<R>(_ key: LabelValuesKey, _ body: (Series) -> R) -> R {
        let hash = key.lookupHash
        if let result = table.withSeries(key, hash: hash, body) { return result }
        return body(create(key))
    }

    /// The series for `key` (a strong reference, for handles that are kept).
    @inline(__always)
    package func series(_ key: LabelValuesKey) -> Series {
        withSeries(key) { $0 }
    }

    /// The series for `key`, or nil when the family was retired from its registry (the
    /// caller registers the family again and asks that one).
    package func seriesUnlessRetired(_ key: LabelValuesKey) -> Series? {
        if let existing = table.withSeries(key, hash: key.lookupHash, { $0 }) { return existing }
        let created = create(key)
        // A retired family hands out only its detached series, and is never active again.
        if created === detached && state.withLock({ $0.retired }) { return nil }
        return created
    }

    /// Marks the family retired if it holds no series; true when it did.
    package func retireIfEmpty() -> Bool {
        state.withLock { state in
            guard state.table.live == 0 else { return false }
            state.retired = true
            return true
        }
    }

    private func create(_ key: LabelValuesKey) -> Series {
        if !key.isPairs, key.values.count != (descriptor.labelNames ?? []).count {
            return refuse(
                .labelCountMismatch, "\(key.values.count) values for labels \(descriptor.labelNames ?? [])")
        }
        let labels = context.labels(for: key)
        if let long = labels.first(where: { $0.value.utf8.count > maxLabelValueBytes }) {
            return refuse(.labelValueTooLong, "label \(long.name) has \(long.value.utf8.count) bytes")
        }
        let identity = SeriesIdentity(key: key, labels: labels)
        let configuration = configuration
        let context = context
        let limit = seriesLimit
        let table = table
        let detached = detached
        let result: Series? = state.withLock { state in
            if let existing = table.withSeries(key, hash: identity.hash, { $0 }) { return existing }
            guard !state.retired else { return detached }
            guard state.table.live < limit else { return nil }
            let created = Series(identity: identity, configuration: configuration, context: context)
            table.insert(created, writer: &state.table)
            state.sorted = nil
            state.version &+= 1
            return created
        }
        return result ?? refuse(.cardinalityLimit, "family holds \(limit) series")
    }

    private func refuse(_ reason: RejectionReason, _ detail: @autoclosure () -> String) -> Series {
        rejections?.reject(reason, metric: descriptor.name, detail())
        return detached
    }

    /// Removes the series for `key` (the push path sends it a stale marker at its next flush).
    @discardableResult
    package func remove(_ key: LabelValuesKey) -> Bool {
        let table = table
        return state.withLock { state in
            guard table.remove(key, writer: &state.table) != nil else { return false }
            state.sorted = nil
            state.version &+= 1
            return true
        }
    }

    package var seriesCount: Int { state.withLock { $0.table.live } }

    /// The lookup table's size in slots, the removed series and replaced tables not yet
    /// freed, and those freed so far (tests of bounded memory under churn).
    package var lookupFootprint: (slots: Int, unreclaimed: Int, reclaimed: Int) {
        state.withLock { ($0.table.current.mask + 1, $0.table.unreclaimed, $0.table.reclaimed) }
    }

    /// The series sorted by labels; the sort runs only after the set of series changed.
    /// Also frees what removals left for readers that have since gone.
    package func sortedSeries() -> [Series] {
        let table = table
        let cachedSorted = state.withLock { state -> [Series]? in
            if state.table.unreclaimed > 0 { table.reclaim(writer: &state.table) }
            return state.sorted
        }
        if let cached = cachedSorted { return cached }
        let (unsorted, version) = state.withLock { (table.allSeries(writer: $0.table), $0.version) }
        // Labels are derived, not stored: compute each series' labels once for the sort.
        let sorted = unsorted.map { ($0.labels, $0) }.sorted { Self.precedes($0.0, $1.0) }.map(\.1)
        state.withLock { state in
            if state.version == version { state.sorted = sorted }
        }
        return sorted
    }

    package func snapshot() -> MetricFamilySnapshot {
        let exemplars = context.exemplars.isUsed ? context.exemplars : nil
        return MetricFamilySnapshot(
            name: descriptor.name, help: descriptor.help, unit: descriptor.unit, type: descriptor.type,
            series: sortedSeries().map {
                SeriesSnapshot(
                    key: $0.lookupKey, context: $0.context, value: $0.snapshotValue(), source: $0,
                    createdMilliseconds: $0.createdMilliseconds,
                    exemplars: exemplars?.store(of: ObjectIdentifier($0))?.read())
            })
    }

    private static func precedes(_ lhs: [Label], _ rhs: [Label]) -> Bool {
        for (left, right) in zip(lhs, rhs) {
            if left.name != right.name { return left.name.utf8.lexicographicallyPrecedes(right.name.utf8) }
            if left.value != right.value { return left.value.utf8.lexicographicallyPrecedes(right.value.utf8) }
        }
        return lhs.count < rhs.count
    }
}

/// A family of any series type, as the registry holds it.
package protocol RegisteredFamily: AnyObject, Sendable {
    var descriptor: FamilyDescriptor { get }
    /// Marks the family retired if it holds no series; true when it did.
    func retireIfEmpty() -> Bool
    var histogramConfigurationForConflictCheck: HistogramConfiguration? { get }
    func snapshot() -> MetricFamilySnapshot
    /// Calls `body` with each series' rendered labels, current value and exemplar store (nil
    /// before its first exemplar), sorted by labels: the read path of `/metrics`, which needs
    /// no snapshot.
    func forEachSeries(_ body: (UnsafeRawBufferPointer, SeriesValue, ExemplarStore?) -> Void)
    /// The same, with when each series was created (ms since the epoch; 0 for gauges): the
    /// read path of the protobuf exposition.
    func forEachSeriesWithCreated(_ body: (UnsafeRawBufferPointer, SeriesValue, Int64, ExemplarStore?) -> Void)
    /// Calls `body` with each series' identity (a snapshot's `sourceID`), current value and
    /// exemplar store, sorted by labels, while it returns true: the push path's read of a
    /// registry whose series it already knows. False when `body` stopped it.
    func forEachSeriesValue(_ body: (ObjectIdentifier, SeriesValue, ExemplarStore?) -> Bool) -> Bool
}

extension MetricFamily: RegisteredFamily {
    package var histogramConfigurationForConflictCheck: HistogramConfiguration? {
        configuration as? HistogramConfiguration
    }

    package func forEachSeries(_ body: (UnsafeRawBufferPointer, SeriesValue, ExemplarStore?) -> Void) {
        // One flag for the family: a family without exemplars looks up none per series.
        let exemplars = context.exemplars.isUsed ? context.exemplars : nil
        _ = Self.forEachBorrowed(sortedSeries()) { item in
            body(item.renderedLabels, item.snapshotValue(), exemplars?.store(of: ObjectIdentifier(item)))
            return true
        }
    }

    package func forEachSeriesValue(_ body: (ObjectIdentifier, SeriesValue, ExemplarStore?) -> Bool) -> Bool {
        let exemplars = context.exemplars.isUsed ? context.exemplars : nil
        return Self.forEachBorrowed(sortedSeries()) { item in
            let id = ObjectIdentifier(item)
            return body(id, item.snapshotValue(), exemplars?.store(of: id))
        }
    }

    /// Calls `body` with each of `series` while it returns true, borrowed from the array that
    /// holds them: no reference counting per series. (This generic code runs unspecialized,
    /// through the registry's family list; iterating the array the usual way retained and
    /// released every series, on the same reference counts the recording threads touch.)
    @inline(__always)
    private static func forEachBorrowed(_ series: [Series], _ body: (Series) -> Bool) -> Bool {
        series.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return true }
            let references = UnsafeRawPointer(base)
            let stride = MemoryLayout<Series>.stride
            for index in 0..<buffer.count {
                let reference = references.load(fromByteOffset: index &* stride, as: UnsafeRawPointer.self)
                guard Unmanaged<Series>.fromOpaque(reference)._withUnsafeGuaranteedRef(body) else {
                    return false
                }
            }
            return true
        }
    }

    package func forEachSeriesWithCreated(
        _ body: (UnsafeRawBufferPointer, SeriesValue, Int64, ExemplarStore?) -> Void
    ) {
        let exemplars = context.exemplars.isUsed ? context.exemplars : nil
        _ = Self.forEachBorrowed(sortedSeries()) { item in
            body(
                item.renderedLabels, item.snapshotValue(), item.createdMilliseconds,
                exemplars?.store(of: ObjectIdentifier(item)))
            return true
        }
    }
}
