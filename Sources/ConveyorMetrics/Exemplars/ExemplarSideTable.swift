import Synchronization

/// The exemplar stores of one family's series, by series identity, beside the series rather
/// than in them: a series then has no field for exemplars (8 bytes off every one of them,
/// which keeps a counter in a 112-byte heap block), only the exemplar path — a lock and an
/// allocation already — pays a dictionary lookup, and a render of a family without
/// exemplars reads one flag for the whole family.
///
/// A series removes its entry when it is freed, before its identity can be reused.
package final class ExemplarSideTable: Sendable {
    private let stores = Mutex<[ObjectIdentifier: ExemplarStore]>([:])
    /// Whether any series of the family has a store (readers skip the lock while none has).
    private let used = Atomic<Bool>(false)

    package init() {}

    /// The store of `series`, made with `layout` on its first exemplar.
    package func store(for series: ObjectIdentifier, layout: ExemplarStore.Layout) -> ExemplarStore {
        stores.withLock { stores in
            if let store = stores[series] { return store }
            let store = ExemplarStore(layout: layout)
            stores[series] = store
            used.store(true, ordering: .releasing)
            return store
        }
    }

    /// Whether any series of the family has had an exemplar.
    @inline(__always)
    package var isUsed: Bool { used.load(ordering: .acquiring) }

    /// The store of `series`; nil before its first exemplar.
    @inline(__always)
    package func store(of series: ObjectIdentifier) -> ExemplarStore? {
        guard used.load(ordering: .acquiring) else { return nil }
        return stores.withLock { $0[series] }
    }

    /// Forgets `series` (it is being freed).
    @inline(__always)
    package func forget(_ series: ObjectIdentifier) {
        guard used.load(ordering: .relaxed) else { return }
        _ = stores.withLock { $0.removeValue(forKey: series) }
    }
}
