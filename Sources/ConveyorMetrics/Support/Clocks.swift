#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The monotonic clock: durations and deadlines, never stepped by NTP or an operator.
package enum MonotonicClock {
    /// Nanoseconds from an arbitrary fixed point; never goes backwards.
    package static func nanoseconds() -> Int64 {
        let (seconds, nanoseconds) = readClock(CLOCK_MONOTONIC)
        return seconds &* 1_000_000_000 &+ nanoseconds
    }
}

/// The wall clock: sample timestamps. It can step backwards (NTP, VM restore).
package enum WallClock {
    /// Milliseconds since the Unix epoch (remote-write and exposition timestamps).
    package static func unixMilliseconds() -> Int64 {
        let (seconds, nanoseconds) = readClock(CLOCK_REALTIME)
        return seconds &* 1000 &+ nanoseconds / 1_000_000
    }
}

/// `clock_gettime` as whole seconds and nanoseconds.
private func readClock(_ clock: clockid_t) -> (seconds: Int64, nanoseconds: Int64) {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
}
