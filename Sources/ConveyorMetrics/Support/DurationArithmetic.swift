extension Duration {
    /// The duration in whole nanoseconds, saturating at `Int64.min`/`Int64.max` (about
    /// ±292 years) instead of wrapping.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflowAgain { return seconds < 0 ? .min : .max }
        return total
    }

    /// The duration in whole milliseconds (saturating, as ``nanoseconds``).
    package var milliseconds: Int64 { nanoseconds / 1_000_000 }
}

extension Int64 {
    /// `self + other`, clamped to `Int64.min...Int64.max` instead of trapping: deadlines
    /// from a clock reading plus a configured duration.
    package func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }
}
