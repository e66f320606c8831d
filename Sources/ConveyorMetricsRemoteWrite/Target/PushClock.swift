import ConveyorMetrics

/// Time as the push pipeline reads it: monotonic for waits, deadlines and backoff, the wall
/// clock for sample timestamps. Injectable, so a simulation can jump forward and step back.
protocol PushClock: Sendable {
    func monotonicNanoseconds() -> Int64
    func wallMilliseconds() -> Int64
}

/// The system's clocks.
struct SystemPushClock: PushClock {
    func monotonicNanoseconds() -> Int64 { MonotonicClock.nanoseconds() }
    func wallMilliseconds() -> Int64 { WallClock.unixMilliseconds() }
}
