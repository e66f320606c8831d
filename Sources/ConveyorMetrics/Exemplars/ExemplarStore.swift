import Synchronization

/// The exemplars of one series: the latest per slot (a counter's one slot, a classic
/// histogram's buckets), or the latest few in arrival order (a native-only histogram).
///
/// Made on a series' first exemplar and kept for the series' life (see
/// `AtomicLazyReference` of the series); recording and reading take its small lock, which only the
/// exemplar path ever touches.
package final class ExemplarStore: Sendable {
    /// How many a native-only histogram keeps (Prometheus keeps exemplars per series, not
    /// per native bucket; client_golang keeps 10).
    package static let latestKept = 4

    private struct State {
        var slots: [RecordedExemplar?]
        /// The next slot written in ``Layout/latest`` order.
        var next = 0
    }

    /// Where an exemplar goes.
    package enum Layout: Sendable, Equatable {
        /// One slot per bucket (a counter has one).
        case perSlot(Int)
        /// The latest `n`, whatever their value.
        case latest(Int)
    }

    package let layout: Layout
    private let state: Mutex<State>

    package init(layout: Layout) {
        self.layout = layout
        let count =
            switch layout {
            case .perSlot(let slots): max(slots, 1)
            case .latest(let kept): max(kept, 1)
            }
        state = Mutex(State(slots: Array(repeating: nil, count: count)))
    }

    /// Keeps `exemplar` as the latest of `slot` (ignored for ``Layout/latest``), replacing
    /// an older one; a newer one already there wins.
    package func record(_ exemplar: RecordedExemplar, slot: Int) {
        state.withLock { state in
            switch layout {
            case .perSlot:
                guard state.slots.indices.contains(slot) else { return }
                if let kept = state.slots[slot], kept.sequence > exemplar.sequence { return }
                state.slots[slot] = exemplar
            case .latest:
                state.slots[state.next] = exemplar
                state.next = (state.next &+ 1) % state.slots.count
            }
        }
    }

    /// The exemplars now.
    package func read() -> SeriesExemplars {
        let slots = state.withLock { $0.slots }
        switch layout {
        case .perSlot: return SeriesExemplars(perSlot: slots)
        case .latest: return SeriesExemplars(latest: slots.compactMap { $0 })
        }
    }
}

/// A series' exemplars as read: per slot (counter: one; classic histogram: one per bucket,
/// `+Inf` last) or, for a native-only histogram, the latest few.
package struct SeriesExemplars: Sendable, Equatable {
    /// By slot; empty for a native-only histogram.
    package let perSlot: [RecordedExemplar?]
    /// Every exemplar held, oldest first.
    package let all: [RecordedExemplar]

    package init(perSlot: [RecordedExemplar?]) {
        self.perSlot = perSlot
        self.all = perSlot.compactMap { $0 }.sorted { $0.sequence < $1.sequence }
    }

    package init(latest: [RecordedExemplar]) {
        self.perSlot = []
        self.all = latest.sorted { $0.sequence < $1.sequence }
    }

    /// The exemplar of `slot`, if any.
    package func slot(_ index: Int) -> RecordedExemplar? {
        perSlot.indices.contains(index) ? perSlot[index] : nil
    }

    /// The newest of all.
    package var latest: RecordedExemplar? { all.last }

    package var isEmpty: Bool { all.isEmpty }
}
