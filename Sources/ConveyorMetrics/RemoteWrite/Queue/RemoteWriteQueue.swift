import Dispatch
import Synchronization

/// The samples waiting for one target, oldest first, bounded by `capacity` samples.
///
/// When an append would exceed the bound, the oldest queued samples are dropped and the
/// drop is reported to the caller. The sender thread takes batches from the head and waits
/// on `waitForWork` when there is nothing to send.
final class RemoteWriteQueue: Sendable {
    let capacity: Int
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    private struct State {
        var samples: [QueuedSample] = []
        var head = 0
        var count: Int { samples.count - head }

        mutating func compactIfWorthIt() {
            if head > 4096 && head > samples.count / 2 {
                samples.removeFirst(head)
                head = 0
            }
        }
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Appends `newSamples` in order; returns how many old samples were dropped to make room.
    @discardableResult
    func append(_ newSamples: [QueuedSample]) -> Int {
        guard !newSamples.isEmpty else { return 0 }
        let capacity = capacity
        let dropped = state.withLock { state -> Int in
            // Of a snapshot larger than the whole queue, only its newest `capacity` samples fit.
            let incoming = newSamples.count > capacity ? Array(newSamples.suffix(capacity)) : newSamples
            let overflow = max(0, state.count + incoming.count - capacity)
            state.head += overflow
            state.samples.append(contentsOf: incoming)
            state.compactIfWorthIt()
            return overflow + (newSamples.count - incoming.count)
        }
        wakeup.signal()
        return dropped
    }

    /// Removes and returns up to `limit` samples from the head.
    func take(upTo limit: Int) -> [QueuedSample] {
        state.withLock { state in
            let taken = min(limit, state.count)
            guard taken > 0 else { return [] }
            let batch = Array(state.samples[state.head..<(state.head + taken)])
            state.head += taken
            if state.head == state.samples.count {
                state.samples.removeAll(keepingCapacity: true)
                state.head = 0
            } else {
                state.compactIfWorthIt()
            }
            return batch
        }
    }

    /// Samples waiting (not counting a batch the sender holds).
    var count: Int { state.withLock { $0.count } }

    /// Drops everything queued; returns how many samples that was.
    func removeAll() -> Int {
        state.withLock { state in
            defer {
                state.samples.removeAll()
                state.head = 0
            }
            return state.count
        }
    }

    /// Blocks the calling (sender) thread until work may be there or `timeout` passes.
    func waitForWork(timeout: Duration) {
        _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds)))
    }

    /// Wakes a waiting sender (new work, shutdown).
    func wake() { wakeup.signal() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }

    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
