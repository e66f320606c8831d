import Synchronization

extension Atomic where Value == UInt64 {
    /// Adds `amount` to the `Double` whose bit pattern this atomic holds (lock-free CAS loop).
    @inline(__always)
    func addDouble(_ amount: Double) {
        var old = load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + amount).bitPattern
            let (exchanged, original) = compareExchange(
                expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    /// The `Double` whose bit pattern this atomic holds.
    @inline(__always)
    func loadDouble() -> Double {
        Double(bitPattern: load(ordering: .relaxed))
    }

    /// Replaces the stored `Double`.
    @inline(__always)
    func storeDouble(_ value: Double) {
        store(value.bitPattern, ordering: .relaxed)
    }
}
