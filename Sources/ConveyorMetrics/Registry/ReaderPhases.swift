import Synchronization

/// Read-side sections for a lock-free structure whose writers retire memory, in the manner
/// of sleepable RCU: a reader counts itself in the current one of two phases (on a counter
/// striped by thread, so readers on different cores rarely share a cache line); a writer
/// that has unlinked objects flips the phase and frees them once the old phase has no
/// reader left. Writers never wait for readers: when readers are still inside, freeing is
/// retried at the next write.
///
/// Why a late reader is safe: a reader that read the old phase but counted itself after the
/// writer found the old phase empty does its loads after that count (a sequentially
/// consistent increment, then acquiring loads), so it sees the structure after the unlink.
final class ReaderPhases: Sendable {
    private static let stripes = 16
    /// Counters 8 `Int`s (64 bytes) apart, so each stripe has a cache line of its own.
    private static let stride = 8
    // Written only through atomics; freed in deinit.
    private nonisolated(unsafe) let counters: UnsafeMutablePointer<Atomic<Int>>
    private let phase = Atomic<Int>(0)

    init() {
        let count = 2 * Self.stripes * Self.stride
        counters = .allocate(capacity: count)
        for index in 0..<count { (counters + index).initialize(to: Atomic(0)) }
    }

    deinit {
        counters.deinitialize(count: 2 * Self.stripes * Self.stride)
        counters.deallocate()
    }

    /// Enters a read-side section; pass the result to ``leave(_:)``.
    @inline(__always)
    func enter() -> Int {
        var marker: UInt8 = 0
        let address = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        // Threads' stacks lie megabytes apart: hash the 64 KiB page into a stripe.
        let stripe = Int(truncatingIfNeeded: ((UInt64(address) >> 16) &* 0x9E37_79B9_7F4A_7C15) >> 60)
        let slot = (phase.load(ordering: .relaxed) &* Self.stripes &+ stripe) &* Self.stride
        counters[slot].wrappingAdd(1, ordering: .sequentiallyConsistent)
        return slot
    }

    @inline(__always)
    func leave(_ slot: Int) {
        counters[slot].wrappingSubtract(1, ordering: .releasing)
    }

    /// Starts a new phase (after the writer unlinked what it retires); returns the old one.
    func flip() -> Int {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let old = phase.load(ordering: .relaxed)
        phase.store(1 - old, ordering: .sequentiallyConsistent)
        return old
    }

    /// Whether no reader is inside a section of `phase`.
    func isQuiet(_ phase: Int) -> Bool {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        for stripe in 0..<Self.stripes
        where counters[(phase * Self.stripes + stripe) * Self.stride].load(ordering: .acquiring) != 0 {
            return false
        }
        return true
    }
}
