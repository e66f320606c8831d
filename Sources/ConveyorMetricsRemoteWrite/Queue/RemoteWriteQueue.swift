import ConveyorMetrics
import Dispatch
import Synchronization

/// The samples waiting for one target, oldest first, bounded by `capacity` samples.
///
/// Held as snapshot chunks (a shared series list, a value array and a timestamp each), so
/// a queued sample costs 8 bytes and no reference count. When an append would exceed the
/// bound, the oldest samples are dropped and the count reported to the caller. The sender
/// thread takes batches from the head and waits on `waitForWork` when there is nothing.
final class RemoteWriteQueue: Sendable {
    let capacity: Int
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    private struct State {
        var chunks: [SampleChunk] = []
        var head = 0
        var count = 0

        mutating func dropOldest(_ wanted: Int) -> Int {
            var dropped = 0
            while dropped < wanted && head < chunks.count {
                let take = min(wanted - dropped, chunks[head].count)
                chunks[head].start += take
                dropped += take
                if chunks[head].count == 0 { head += 1 }
            }
            count -= dropped
            compact()
            return dropped
        }

        mutating func compact() {
            if head == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64 && head > chunks.count / 2 {
                chunks.removeFirst(head)
                head = 0
            }
        }
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Appends `newChunks` in order; returns how many old samples were dropped to make room.
    @discardableResult
    func append(_ newChunks: [SampleChunk]) -> Int {
        let incoming = newChunks.reduce(0) { $0 + $1.count }
        guard incoming > 0 else { return 0 }
        let capacity = capacity
        let dropped = state.withLock { state -> Int in
            for chunk in newChunks where chunk.count > 0 { state.chunks.append(chunk) }
            state.count += incoming
            return state.count > capacity ? state.dropOldest(state.count - capacity) : 0
        }
        wakeup.signal()
        return dropped
    }

    /// Removes and returns up to `limit` samples from the head, as chunk slices.
    func take(upTo limit: Int) -> [SampleChunk] {
        state.withLock { state in
            var batch: [SampleChunk] = []
            var taken = 0
            while taken < limit && state.head < state.chunks.count {
                var chunk = state.chunks[state.head]
                let take = min(limit - taken, chunk.count)
                var slice = chunk  // shares the series and value storage
                slice.end = chunk.start + take
                batch.append(slice)
                chunk.start += take
                state.chunks[state.head] = chunk
                taken += take
                if chunk.count == 0 { state.head += 1 }
            }
            state.count -= taken
            state.compact()
            return batch
        }
    }

    /// Samples waiting (not counting a batch the sender holds).
    var count: Int { state.withLock { $0.count } }

    /// The timestamp (ms) of the oldest sample waiting, nil when empty.
    var oldestTimestamp: Int64? {
        state.withLock { $0.head < $0.chunks.count ? $0.chunks[$0.head].timestamp : nil }
    }

    /// Drops everything queued; returns how many samples that was.
    func removeAll() -> Int {
        state.withLock { state in
            defer { state = State() }
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
