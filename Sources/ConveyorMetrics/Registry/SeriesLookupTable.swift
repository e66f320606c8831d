import Synchronization

/// Finds a family's series by label values without taking a lock.
///
/// An open-addressing table of series pointers, published through one atomic. Readers
/// load the current table and probe it with relaxed loads plus acquire on the slot that
/// matches — no lock, no retain/release, no allocation. Writers (inserts, growth,
/// removals) run under the family's mutex: an insert fills an empty slot with a release
/// store; growth builds a table twice the size and publishes it. Retired tables and
/// removed series are kept alive for the family's lifetime, so a reader still probing an
/// old table never touches freed memory (the cost: 8 bytes per slot of every retired
/// table, and removed series until the family goes).
final class SeriesLookupTable<Series: SeriesStorage>: Sendable {
    /// Slots: 0 empty, 1 removed (tombstone), otherwise an unretained `Series` pointer.
    final class Storage: Sendable {
        let mask: Int
        // Written only through atomics; freed in deinit.
        nonisolated(unsafe) let slots: UnsafeMutablePointer<Atomic<UInt>>

        init(capacity: Int) {
            mask = capacity - 1
            slots = .allocate(capacity: capacity)
            for index in 0..<capacity { (slots + index).initialize(to: Atomic(0)) }
        }

        deinit {
            slots.deinitialize(count: mask + 1)
            slots.deallocate()
        }
    }

    /// The writer side; only touched under the family's lock.
    struct WriterState {
        var storages: [Storage]
        /// Occupied slots of the current storage, tombstones included.
        var used = 0
        /// Strong references (8 bytes a series): the slots hold unretained pointers.
        var live: [Series] = []
        var graveyard: [Series] = []
    }

    private let published: Atomic<UInt>
    private static var tombstone: UInt { 1 }

    /// A table and the writer state that keeps its storage alive (held under the family lock).
    static func make() -> (SeriesLookupTable, WriterState) {
        let first = Storage(capacity: 16)
        return (SeriesLookupTable(first: first), WriterState(storages: [first]))
    }

    private init(first: Storage) {
        published = Atomic(UInt(bitPattern: Unmanaged.passUnretained(first).toOpaque()))
    }

    /// Every live series (under the family lock).
    func allSeries(writer: WriterState) -> [Series] { writer.live }

    /// Calls `body` with the series for `key` if it is in the table; nil otherwise.
    @inline(__always)
    func withSeries<R>(_ key: LabelValuesKey, hash: UInt64, _ body: (Series) -> R) -> R? {
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

    /// Adds `series` (under the family lock); grows the table past half full.
    func insert(_ series: Series, writer: inout WriterState) {
        guard let current = writer.storages.last else { return }
        if (writer.used + 1) * 2 > current.mask + 1 {
            let grown = Storage(capacity: (current.mask + 1) * 2)
            var live = 0
            for index in 0...current.mask {
                let slot = current.slots[index].load(ordering: .relaxed)
                guard slot > Self.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) else { continue }
                let hash = Unmanaged<Series>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.lookupHash }
                Self.place(slot, hash: hash, in: grown)
                live += 1
            }
            writer.storages.append(grown)
            writer.used = live
            published.store(UInt(bitPattern: Unmanaged.passUnretained(grown).toOpaque()), ordering: .releasing)
        }
        guard let target = writer.storages.last else { return }
        Self.place(UInt(bitPattern: Unmanaged.passUnretained(series).toOpaque()), hash: series.lookupHash, in: target)
        writer.used += 1
        writer.live.append(series)
    }

    /// Replaces the slot of `key`'s series with a tombstone (under the family lock) and keeps
    /// the series alive for readers in flight; returns the removed series.
    func remove(_ key: LabelValuesKey, writer: inout WriterState) -> Series? {
        guard let current = writer.storages.last else { return nil }
        let hash = key.lookupHash
        var index = Int(truncatingIfNeeded: hash) & current.mask
        for _ in 0...current.mask {
            let slot = current.slots[index].load(ordering: .relaxed)
            if slot == 0 { return nil }
            if slot != Self.tombstone, let pointer = UnsafeRawPointer(bitPattern: slot) {
                let series = Unmanaged<Series>.fromOpaque(pointer).takeUnretainedValue()
                if series.lookupHash == hash && series.lookupKey == key {
                    current.slots[index].store(Self.tombstone, ordering: .releasing)
                    if let position = writer.live.firstIndex(where: { $0 === series }) {
                        writer.live.swapAt(position, writer.live.count - 1)
                        writer.live.removeLast()
                    }
                    writer.graveyard.append(series)
                    return series
                }
            }
            index = (index &+ 1) & current.mask
        }
        return nil
    }

    private static func place(_ bits: UInt, hash: UInt64, in storage: Storage) {
        var index = Int(truncatingIfNeeded: hash) & storage.mask
        while storage.slots[index].load(ordering: .relaxed) > tombstone {
            index = (index &+ 1) & storage.mask
        }
        storage.slots[index].store(bits, ordering: .releasing)
    }
}
