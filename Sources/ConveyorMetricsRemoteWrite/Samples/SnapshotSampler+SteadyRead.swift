import ConveyorMetrics

/// The steady read: while the registry's series are those of the previous flush, in the
/// same order, only their values are read (from a snapshot, or straight from the registry),
/// into the previous flush's series list.
extension SnapshotSampler {
    /// The steady state: the snapshot holds exactly the series of the previous one, in the
    /// same order (compared by identity, no reference counting), so only values are read.
    func valuesIfUnchanged(_ snapshot: MetricsSnapshot) -> (
        [Double], [NativeHistogramValue?]?, ExemplarColumn
    )? {
        guard !lastSources.isEmpty else { return nil }
        var read = SteadyRead(capacity: lastOrder.count)
        let complete = snapshot.families.withUnsafeBufferPointer { families -> Bool in
            for familyIndex in families.indices {
                let matched = families[familyIndex].series.withUnsafeBufferPointer { series -> Bool in
                    guard let base = series.baseAddress else { return true }
                    for index in series.indices {
                        // Read in place: a counter's or gauge's number is taken straight from the
                        // snapshot (copying each value out cost more than the rest of the read).
                        let entry = base + index
                        guard let id = entry.pointee.sourceID else { return false }
                        if !sendsExemplars || entry.pointee.exemplars == nil {
                            switch entry.pointee.value {
                            case .counter(let number), .gauge(let number):
                                guard takeNumber(id, number, into: &read) else { return false }
                                continue
                            case .histogram:
                                break
                            }
                        }
                        guard take(id, entry.pointee.value, exemplars: entry.pointee.exemplars, into: &read) else {
                            return false
                        }
                    }
                    return true
                }
                if !matched { return false }
            }
            return true
        }
        guard complete else { return nil }
        return finish(read)
    }

    /// The chunks of a flush of `registry` at `wallMilliseconds`: read straight from it while
    /// its series are the previous snapshot's, else from a snapshot of it.
    func chunks(reading registry: MetricsRegistry, at wallMilliseconds: Int64) -> [SampleChunk] {
        guard let (values, histograms, exemplars) = valuesIfUnchanged(reading: registry) else {
            // (The read ran the collectors already.)
            return chunks(from: registry.snapshotWithoutCollectors(), at: wallMilliseconds)
        }
        registryReads += 1
        return [
            SampleChunk(
                series: lastOrder, values: values, histograms: histograms, exemplars: commit(exemplars),
                timestamp: nextTimestamp(wallMilliseconds), labelBytes: lastOrderLabelBytes,
                layoutSlot: lastOrderSlot)
        ]
    }

    /// The steady state read straight from `registry`, with no snapshot built: nil as soon
    /// as a series differs from the previous snapshot's (then a snapshot is needed).
    func valuesIfUnchanged(reading registry: MetricsRegistry) -> (
        [Double], [NativeHistogramValue?]?, ExemplarColumn
    )? {
        guard !lastSources.isEmpty, sendsNativeHistograms() == sentNativeHistograms else { return nil }
        var read = SteadyRead(capacity: lastOrder.count)
        let complete = registry.forEachSeriesValue { id, value, store in
            take(id, value, exemplars: sendsExemplars ? store?.read() : nil, into: &read)
        }
        guard complete else { return nil }
        return finish(read)
    }

    /// What a steady read gathers.
    struct SteadyRead {
        var values: [Double] = []
        var natives = NativeColumn()
        var exemplars = ExemplarColumn()
        var position = 0

        init(capacity: Int) { values.reserveCapacity(capacity) }
    }

    /// Takes the counter or gauge `id` with `number` (and no exemplars) if it is the next
    /// series the previous snapshot had; false when it is not.
    @inline(__always)
    func takeNumber(_ id: ObjectIdentifier, _ number: Double, into read: inout SteadyRead) -> Bool {
        guard advance(past: id, &read) else { return false }
        read.values.append(RemoteSample.normalized(number))
        return true
    }

    /// Moves past the series `id` if it is the next one the previous snapshot had; false
    /// when it is not.
    @inline(__always)
    func advance(past id: ObjectIdentifier, _ read: inout SteadyRead) -> Bool {
        guard read.position < lastSources.count, id == lastSources[read.position] else { return false }
        read.position += 1
        return true
    }

    /// Takes the series `id` with `value` if it is the next one the previous snapshot had;
    /// false when it is not.
    @inline(__always)
    func take(
        _ id: ObjectIdentifier, _ value: SeriesValue, exemplars held: SeriesExemplars?, into read: inout SteadyRead
    ) -> Bool {
        guard advance(past: id, &read) else { return false }
        if sendsExemplars, let held {
            takeExemplars(held, value: value, id: id, at: read.values.count, into: &read.exemplars)
        }
        switch value {
        case .counter(let value), .gauge(let value):
            read.values.append(RemoteSample.normalized(value))
        case .histogram(let histogram):
            if sentNativeHistograms, let native = histogram.native {
                read.natives.add(native, at: read.values.count)
                read.values.append(0)
                if histogram.upperBounds.isEmpty { return true }  // native only
            }
            for count in histogram.cumulativeCounts { read.values.append(Double(count)) }
            read.values.append(RemoteSample.normalized(histogram.sum))
            read.values.append(Double(histogram.count))
        }
        return true
    }

    func finish(_ read: SteadyRead) -> ([Double], [NativeHistogramValue?]?, ExemplarColumn)? {
        guard read.position == lastSources.count, read.values.count == lastOrder.count else { return nil }
        return (read.values, read.natives.column(count: read.values.count), read.exemplars)
    }
}
