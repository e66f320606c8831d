import Synchronization

/// Finds a family's series by label values without taking a lock.
///
/// An open-addressing table of series pointers, published through one atomic. Readers
/// load the current table and probe it with relaxed loads plus acquire on the slot that
/// matches — no lock, no retain/release, no allocation. Writers (inserts, growth,
/// removals) run under the family's mutex: an insert fills an empty slot with a release
/// store; growth builds a table twice the size (or, when tombstones fill it, a clean one of
/// the same size) and publishes it. A reader probes inside a read-side section of
/// ``ReaderPhases``; removed series and replaced tables are freed once no reader that could
/// have seen them is left, so churn (create, remove, create again) keeps memory bounded.
final class SeriesLookupTable<Series: SeriesStorage>: Sendable {
    /// Slots: 0 empty, 1 removed (tombstone), otherwise a `Series` pointer. The current
    /// storage owns one retain of each series in it (no array of strong references beside
    /// it: 8 bytes a series fewer); a storage replaced by a larger one hands them over.
    final class Storage: Sendable {
        let mask: Int
        // Written only through atomics; freed in deinit.
        nonisolated(unsafe) let slots: UnsafeMutablePointer<Atomic<UInt>>
        /// Whether this storage holds the retains of its series (false once replaced).
        let owns = Atomic<Bool>(true)

        init(capacity: Int) {
            mask = capacity - 1
            slots = .allocate(capacity: capacity)
            for index in 0..<capacity { (slots + index).initialize(to: Atomic(0)) }
        }

        deinit {
            if owns.load(ordering: .acquiring) {
                for index in 0...mask {
                    let slot = slots[index].load(ordering: .relaxed)
                    guard slot > SeriesLookupTable.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) else {
                        continue
                    }
                    Unmanaged<Series>.fromOpaque(pointer).release()
                }
            }
            slots.deinitialize(count: mask + 1)
            slots.deallocate()
        }
    }

    /// The writer side; only touched under the family's lock.
    struct WriterState {
        var current: Storage
        /// Occupied slots of the current storage, tombstones included.
        var used = 0
        /// Series in the table.
        var live = 0
        /// Unlinked since the last phase flip: readers may still hold them.
        var retiredSeries: [Series] = []
        var retiredStorages: [Storage] = []
        /// Unlinked before the last flip; freed once `awaitingPhase` has no reader.
        var awaitingSeries: [Series] = []
        var awaitingStorages: [Storage] = []
        var awaitingPhase: Int?
        /// Series and tables freed so far (tests).
        var reclaimed = 0

        /// Objects unlinked but not yet freed.
        var unreclaimed: Int {
            retiredSeries.count + retiredStorages.count + awaitingSeries.count + awaitingStorages.count
        }
    }

    /// Whether `used` slots (tombstones included) are past the load a table of `capacity`
    /// slots keeps to: half, so that a series is found at the first probe or two (recording
    /// looks it up every time), until the table takes 1 MiB (131,072 slots); four fifths from
    /// there, so that 100,000 series fit in 1 MiB rather than 2. At four fifths linear probing
    /// takes about 3 probes to find a series (13 to learn one is missing, before it is
    /// created under the lock), each a cache miss at that size.
    static func isFull(used: Int, capacity: Int) -> Bool {
        capacity < largeCapacity ? used * 2 > capacity : used * 5 > capacity * 4
    }

    /// The slots (1 MiB of them) from which a table is large: filled further, for memory.
    static var largeCapacity: Int { 131_072 }

    /// Whether a full table of `live` series (the rest tombstones) is rebuilt at its size
    /// rather than doubled: when the series fill at most a quarter of a small table, half of
    /// a large one, so that the rebuilt table takes as many inserts again before the next.
    /// Churn (series removed and created) on 100,000 series thus settles at 262,144 slots,
    /// not 524,288; without churn they stay in 131,072.
    static func rebuildsInPlace(live: Int, capacity: Int) -> Bool {
        capacity < largeCapacity ? live * 4 <= capacity : live * 2 <= capacity
    }

    private let published: Atomic<UInt>
    private let phases = ReaderPhases()
    fileprivate static var tombstone: UInt { 1 }

    /// A table and the writer state that keeps its storage alive (held under the family lock).
    static func make() -> (SeriesLookupTable, WriterState) {
        let first = Storage(capacity: 16)
        return (SeriesLookupTable(first: first), WriterState(current: first))
    }

    private init(first: Storage) {
        published = Atomic(UInt(bitPattern: Unmanaged.passUnretained(first).toOpaque()))
    }

    /// Every live series (under the family lock).
    func allSeries(writer: WriterState) -> [Series] {
        let storage = writer.current
        var all: [Series] = []
        all.reserveCapacity(writer.live)
        for index in 0...storage.mask {
            let slot = storage.slots[index].load(ordering: .relaxed)
            guard slot > Self.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) else { continue }
            all.append(Unmanaged<Series>.fromOpaque(pointer).takeUnretainedValue())
        }
        return all
    }

    /// Calls `body` with the series for `key` if it is in the table; nil otherwise.
    @inline(__always)
    func withSeries<R>(_ key: LabelValuesKey, hash: UInt64, _ body: (Series) -> R) -> R? {
        let section = phases.enter()
        defer { phases.leave(section) }
        let bits = published.load(ordering: .acquiring)
        guard let raw = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged<Storage>.fromOpaque(raw)._withUnsafeGuaranteedRef { storage -> R? in
            var index = Int(truncatingIfNeeded: hash) & storage.mask
            while true {
                let slot = storage.slots[index].load(ordering: .acquiring)
                if slot == 0 { return nil }
                if slot != Self.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) {
                    let series = Unmanaged<Series>.fromOpaque(pointer)
                    let found = series._withUnsafeGuaranteedRef { $0.lookupHash == hash && $0.lookupKey == key }
                    if found { return series._withUnsafeGuaranteedRef(body) }
                }
                index = (index &+ 1) & storage.mask
            }
        }
    }

    /// Adds `series` (under the family lock); past its load limit (``isFull(used:capacity:)``),
    /// grows the table, or rebuilds it at the same size when tombstones are most of what
    /// fills it.
    func insert(_ series: Series, writer: inout WriterState) {
        let current = writer.current
        if Self.isFull(used: writer.used + 1, capacity: current.mask + 1) {
            let capacity =
                Self.rebuildsInPlace(live: writer.live + 1, capacity: current.mask + 1)
                ? current.mask + 1 : (current.mask + 1) * 2
            let grown = Storage(capacity: capacity)
            var live = 0
            for index in 0...current.mask {
                let slot = current.slots[index].load(ordering: .relaxed)
                guard slot > Self.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) else { continue }
                let hash = Unmanaged<Series>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.lookupHash }
                Self.place(slot, hash: hash, in: grown)
                live += 1
            }
            current.owns.store(false, ordering: .releasing)  // the grown storage holds the retains now
            writer.retiredStorages.append(current)
            writer.current = grown
            writer.used = live
            published.store(UInt(bitPattern: Unmanaged.passUnretained(grown).toOpaque()), ordering: .releasing)
        }
        Self.place(
            UInt(bitPattern: Unmanaged.passRetained(series).toOpaque()), hash: series.lookupHash,
            in: writer.current)
        writer.used += 1
        writer.live += 1
        reclaim(writer: &writer)
    }

    /// Replaces the slot of `key`'s series with a tombstone (under the family lock) and keeps
    /// the series alive for readers in flight; returns the removed series.
    func remove(_ key: LabelValuesKey, writer: inout WriterState) -> Series? {
        let current = writer.current
        let hash = key.lookupHash
        var index = Int(truncatingIfNeeded: hash) & current.mask
        for _ in 0...current.mask {
            let slot = current.slots[index].load(ordering: .relaxed)
            if slot == 0 { return nil }
            if slot != Self.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) {
                let series = Unmanaged<Series>.fromOpaque(pointer).takeUnretainedValue()
                if series.lookupHash == hash && series.lookupKey == key {
                    current.slots[index].store(Self.tombstone, ordering: .releasing)
                    writer.live -= 1
                    // The table's retain goes to the retired list: readers in flight may hold it.
                    writer.retiredSeries.append(series)
                    Unmanaged<Series>.fromOpaque(pointer).release()
                    reclaim(writer: &writer)
                    return series
                }
            }
            index = (index &+ 1) & current.mask
        }
        return nil
    }

    /// Frees what was retired before the last phase flip once that phase has no reader, and
    /// flips again for what was retired since (under the family lock; never waits).
    func reclaim(writer: inout WriterState) {
        if let phase = writer.awaitingPhase {
            guard phases.isQuiet(phase) else { return }
            writer.reclaimed += writer.awaitingSeries.count + writer.awaitingStorages.count
            writer.awaitingSeries.removeAll()
            writer.awaitingStorages.removeAll()
            writer.awaitingPhase = nil
        }
        guard !writer.retiredSeries.isEmpty || !writer.retiredStorages.isEmpty else { return }
        swap(&writer.awaitingSeries, &writer.retiredSeries)
        swap(&writer.awaitingStorages, &writer.retiredStorages)
        let phase = phases.flip()
        writer.awaitingPhase = phase
        // Usually no reader is inside at this moment: free at once.
        if phases.isQuiet(phase) {
            writer.reclaimed += writer.awaitingSeries.count + writer.awaitingStorages.count
            writer.awaitingSeries.removeAll()
            writer.awaitingStorages.removeAll()
            writer.awaitingPhase = nil
        }
    }

    private static func place(_ bits: UInt, hash: UInt64, in storage: Storage) {
        var index = Int(truncatingIfNeeded: hash) & storage.mask
        while storage.slots[index].load(ordering: .relaxed) > tombstone {
            index = (index &+ 1) & storage.mask
        }
        storage.slots[index].store(bits, ordering: .releasing)
    }
}
