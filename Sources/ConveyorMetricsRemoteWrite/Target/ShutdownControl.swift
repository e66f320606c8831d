import ConveyorMetrics
import Synchronization

/// How a target's threads learn about shutdown: the drain deadline, and whether the final
/// snapshot and stale markers are queued (only then may an idle sender stop).
final class ShutdownControl: Sendable {
    /// Monotonic nanoseconds; `Int64.max` until shutdown begins.
    let deadline = Atomic<Int64>(Int64.max)
    /// Set (releasing) after the final samples were queued.
    let finalQueued = Atomic<Bool>(false)
}
