import ConveyorMetrics

/// What a snapshot's chunk carries beside its values: native histograms and new exemplars,
/// by position, gathered as the values are.
extension SnapshotSampler {
    /// The exemplars of a chunk by position, and the sequences taken per registry series,
    /// kept aside until the chunk is made (the steady path may give up half way).
    struct ExemplarColumn {
        var byPosition: [Int: [RecordedExemplar]] = [:]
        var taken: [(ObjectIdentifier, [UInt64])] = []
    }

    /// Records what `column` took; returns its exemplars by position.
    func commit(_ column: ExemplarColumn) -> [Int: [RecordedExemplar]] {
        for (id, taken) in column.taken { exemplarsTaken[id] = taken }
        return column.byPosition
    }

    /// Adds the exemplars of `series` not taken before to `column`, at the positions of their
    /// samples: `first` is the position of the series' first sample (its native histogram
    /// when those are sent, else its first bucket).
    func takeExemplars(
        _ held: SeriesExemplars, of series: SeriesSnapshot, at first: Int, into column: inout ExemplarColumn
    ) {
        takeExemplars(held, value: series.value, id: series.sourceID, at: first, into: &column)
    }

    func takeExemplars(
        _ held: SeriesExemplars, value: SeriesValue, id: ObjectIdentifier?, at first: Int,
        into column: inout ExemplarColumn
    ) {
        let nativeFirst: Bool
        switch value {
        case .gauge: return
        case .counter: nativeFirst = false
        case .histogram(let histogram): nativeFirst = histogram.native != nil && sentNativeHistograms
        }
        var taken = id.flatMap { exemplarsTaken[$0] } ?? []
        if held.perSlot.isEmpty {
            // A native-only histogram: its latest few go with the native histogram, or with
            // its `+Inf` bucket (its first classic sample) when those are not sent.
            if taken.isEmpty { taken = [0] }
            let fresh = held.all.filter { $0.sequence > taken[0] }
            guard let newest = fresh.last else { return }
            taken[0] = newest.sequence
            column.byPosition[first, default: []].append(contentsOf: fresh)
        } else {
            if taken.count < held.perSlot.count {
                taken += Array(repeating: 0, count: held.perSlot.count - taken.count)
            }
            let classicFirst = nativeFirst ? first + 1 : first
            for (slot, exemplar) in held.perSlot.enumerated() {
                guard let exemplar, exemplar.sequence > taken[slot] else { continue }
                taken[slot] = exemplar.sequence
                column.byPosition[classicFirst + slot, default: []].append(exemplar)
            }
        }
        if let id { column.taken.append((id, taken)) }
    }

    /// The native histograms of a chunk by position, gathered as the values are.
    struct NativeColumn {
        private var entries: [(Int, NativeHistogramValue)] = []

        /// Adds `value` at `position`, a NaN sum made the normal NaN as float values are (so
        /// that only a stale marker, made on purpose, has the stale bits).
        mutating func add(_ value: NativeHistogramValue, at position: Int) {
            entries.append((position, value.normalized))
        }

        /// The column for a chunk of `count` values; nil without native histograms.
        func column(count: Int) -> [NativeHistogramValue?]? {
            guard !entries.isEmpty else { return nil }
            var column = [NativeHistogramValue?](repeating: nil, count: count)
            for (position, value) in entries where position < count { column[position] = value }
            return column
        }
    }
}
