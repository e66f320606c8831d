import ConveyorMetrics
import Synchronization

/// One string of remote write 2.0's symbol table: its UTF-8 bytes, and a small integer slot
/// unique among the symbols alive in the process. The v2 writer finds a symbol's index in
/// the request it writes through its slot (an array index, no hashing); the slot is given
/// back when the last series holding the symbol is gone.
final class Symbol: Sendable {
    /// The string's UTF-8 bytes, owned (freed in `deinit`).
    nonisolated(unsafe) let bytes: UnsafeRawBufferPointer  // immutable after init
    let slot: Int

    init(_ string: String) {
        bytes = OwnedBytes.copy(Array(string.utf8))
        slot = SymbolSlots.shared.take()
    }

    deinit {
        OwnedBytes.free(bytes)
        SymbolSlots.shared.give(slot)
    }
}

/// The slots of live symbols: a freed slot is reused before a new one is opened, so slots
/// stay below the most symbols alive at once.
final class SymbolSlots: Sendable {
    static let shared = SymbolSlots()

    private struct State {
        var next = 0
        var free: [Int] = []
    }

    private let state = Mutex(State())

    func take() -> Int {
        state.withLock { state in
            if let slot = state.free.popLast() { return slot }
            state.next += 1
            return state.next - 1
        }
    }

    func give(_ slot: Int) {
        state.withLock { $0.free.append(slot) }
    }

}
