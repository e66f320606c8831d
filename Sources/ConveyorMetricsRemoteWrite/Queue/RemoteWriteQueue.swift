import ConveyorMetrics
import Dispatch
import Synchronization

/// The samples waiting for one target, oldest first, bounded in bytes (`maxBytes`) and
/// optionally in samples (`capacity`).
///
/// Held as snapshot chunks (a shared series list, a value array and a timestamp each), so
/// a queued sample costs 8 bytes and no reference count; a chunk whose series list is not
/// the previous chunk's also pays 8 bytes a series for its list. When an append would exceed
/// a bound, the oldest samples are dropped and the count reported to the caller. The sender
/// thread takes batches from the head and waits on `waitForWork` when there is nothing.
final class RemoteWriteQueue: Sendable {
    let capacity: Int
    let maxBytes: Int
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    /// Bookkeeping per chunk beyond its values and series list.
    static let chunkOverhead = 96

    private struct State {
        var chunks: [SampleChunk] = []
        /// Per chunk: the bytes it holds besides 8 per remaining sample.
        var fixedBytes: [Int] = []
        var head = 0
        var count = 0
        var bytes = 0
        /// The series list of the newest chunk, to see whether the next one shares it.
        var lastSeries: UnsafeRawPointer?

        func overLimit(capacity: Int, maxBytes: Int) -> Int {
            guard count > capacity || bytes > maxBytes else { return 0 }
            let byBytes = bytes > maxBytes ? (bytes - maxBytes + 7) / 8 : 0
            return max(count - capacity, byBytes, 1)
        }

        mutating func dropOldest(_ wanted: Int) -> Int {
            var dropped = 0
            while dropped < wanted && head < chunks.count {
                let take = min(wanted - dropped, chunks[head].count)
                chunks[head].start += take
                dropped += take
                bytes -= 8 * take
                if chunks[head].count == 0 { retireHead() }
            }
            count -= dropped
            compact()
            return dropped
        }

        mutating func retireHead() {
            bytes -= fixedBytes[head]
            fixedBytes[head] = 0
            head += 1
        }

        mutating func compact() {
            if head == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                fixedBytes.removeAll(keepingCapacity: true)
                head = 0
                lastSeries = nil
            } else if head > 64 && head > chunks.count / 2 {
                chunks.removeFirst(head)
                fixedBytes.removeFirst(head)
                head = 0
            }
        }
    }

    init(capacity: Int? = nil, maxBytes: Int = RemoteWriteTargetConfiguration.QueueSettings.defaultMaxMemoryBytes) {
        self.capacity = max(1, capacity ?? Int.max)
        self.maxBytes = max(1, maxBytes)
    }

    /// Appends `newChunks` in order; returns how many old samples were dropped to make room.
    @discardableResult
    func append(_ newChunks: [SampleChunk]) -> Int {
        let incoming = newChunks.reduce(0) { $0 + $1.count }
        guard incoming > 0 else { return 0 }
        let (capacity, maxBytes) = (capacity, maxBytes)
        let dropped = state.withLock { state -> Int in
            for chunk in newChunks where chunk.count > 0 {
                let list = chunk.series.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
                let fixed = Self.chunkOverhead + (list == state.lastSeries ? 0 : 8 * chunk.series.count)
                state.lastSeries = list
                state.chunks.append(chunk)
                state.fixedBytes.append(fixed)
                state.bytes += fixed + 8 * chunk.count
            }
            state.count += incoming
            let excess = state.overLimit(capacity: capacity, maxBytes: maxBytes)
            return excess > 0 ? state.dropOldest(excess) : 0
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
                state.bytes -= 8 * take
                if chunk.count == 0 { state.retireHead() }
            }
            state.count -= taken
            state.compact()
            return batch
        }
    }

    /// Removes and returns whole chunks from the head (what is left of each) that share the
    /// head chunk's series list, so a position names the same series in all of them, until
    /// they hold `maxSamples` or more.
    func takeChunks(maxSamples: Int) -> [SampleChunk] {
        state.withLock { state in
            var batch: [SampleChunk] = []
            var list: UnsafeRawPointer?
            var taken = 0
            while state.head < state.chunks.count {
                let chunk = state.chunks[state.head]
                let chunkList = chunk.series.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
                if !batch.isEmpty && (chunkList != list || taken >= maxSamples) { break }
                list = chunkList
                batch.append(chunk)
                taken += chunk.count
                state.bytes -= 8 * chunk.count
                state.retireHead()
            }
            state.count -= taken
            state.compact()
            return batch
        }
    }

    /// Samples waiting (not counting a batch the sender holds).
    var count: Int { state.withLock { $0.count } }

    /// The bytes the waiting samples hold, as counted against `maxBytes`.
    var bytes: Int { state.withLock { $0.bytes } }

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
