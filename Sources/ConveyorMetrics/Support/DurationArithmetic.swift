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
