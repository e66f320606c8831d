import Synchronization

@testable import ConveyorMetricsRemoteWrite

/// Time the simulation moves by hand: monotonic time only goes forward, the wall clock may
/// also step back (NTP, a restored VM).
final class SimulatedClock: PushClock {
    private let state: Mutex<(monotonic: Int64, wall: Int64)>

    init(wallMilliseconds: Int64 = 1_780_000_000_000) {
        state = Mutex((1_000_000_000, wallMilliseconds))
    }

    func monotonicNanoseconds() -> Int64 { state.withLock { $0.monotonic } }
    func wallMilliseconds() -> Int64 { state.withLock { $0.wall } }

    /// Moves both clocks forward.
    func advance(milliseconds: Int64) {
        state.withLock { state in
            state.monotonic += milliseconds * 1_000_000
            state.wall += milliseconds
        }
    }

    /// Moves monotonic time to `nanoseconds` if that is later; the wall clock follows.
    func advance(toMonotonic nanoseconds: Int64) {
        state.withLock { state in
            guard nanoseconds > state.monotonic else { return }
            state.wall += (nanoseconds - state.monotonic) / 1_000_000
            state.monotonic = nanoseconds
        }
    }

    /// Steps the wall clock back (monotonic time is unaffected).
    func stepWallBack(milliseconds: Int64) {
        state.withLock { $0.wall -= milliseconds }
    }

    /// Sets the wall clock to at least `wallMilliseconds`.
    func raiseWall(to wallMilliseconds: Int64) {
        state.withLock { $0.wall = max($0.wall, wallMilliseconds) }
    }
}
