import Synchronization

/// The buckets of one sign of a native histogram: an open-addressing table of atomic
/// (bucket index, count) slots that observers fill without a lock.
///
/// One allocation of 64-bit atomic words: word 0 holds the slot mask (capacity − 1, a power of
/// two minus one, never changed), word 1 the number of claimed slots, then two words per
/// slot: the key (0 when free, else the bucket index's 32 bits with bit 32 set) and the count.
/// A slot is claimed once by compare-exchange and never freed while the table lives, so a
/// bucket that exists costs one probe and one atomic add. Bucket indices are consecutive
/// integers, so the slot is the index modulo the capacity, probing linearly.
package struct NativeHistogramBucketTable {
    package let base: UnsafeMutablePointer<Atomic<UInt64>>

    package init(base: UnsafeMutablePointer<Atomic<UInt64>>) { self.base = base }

    /// What recording into the table did.
    package enum Outcome: Equatable {
        /// Counted into a bucket that already existed.
        case counted
        /// Claimed a slot for a new bucket and counted into it; the table now has `used` slots
        /// claimed of `capacity`.
        case created(used: Int, capacity: Int)
        /// Every slot belongs to another bucket: nothing was counted.
        case full
    }

    /// A zeroed table with `capacity` slots (rounded up to a power of two, at least 2).
    package static func allocate(capacity: Int) -> NativeHistogramBucketTable {
        var slots = 2
        while slots < capacity && slots < 1 << 30 { slots <<= 1 }
        let words = 2 &+ 2 &* slots
        let base = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: words)
        base.initialize(to: Atomic(UInt64(slots &- 1)))
        for index in 1..<words { (base + index).initialize(to: Atomic(0)) }
        return NativeHistogramBucketTable(base: base)
    }

    /// Frees the table; nobody may use it any more.
    package func deallocate() {
        base.deinitialize(count: 2 &+ 2 &* capacity)
        base.deallocate()
    }

    @inline(__always)
    package var mask: Int { Int(truncatingIfNeeded: base[0].load(ordering: .relaxed)) }
    package var capacity: Int { mask &+ 1 }
    /// Slots claimed so far.
    @inline(__always)
    package var used: Int { Int(truncatingIfNeeded: base[1].load(ordering: .relaxed)) }

    @inline(__always)
    private static func encode(_ key: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: key)) | (1 << 32)
    }

    @inline(__always)
    private static func decode(_ word: UInt64) -> Int {
        Int(Int32(truncatingIfNeeded: word))
    }

    /// Adds `amount` to bucket `key`, claiming a slot for it if it has none.
    @inline(__always)
    package func add(_ amount: UInt64, to key: Int) -> Outcome {
        let mask = mask
        let wanted = Self.encode(key)
        var slot = key & mask
        for _ in 0...mask {
            let keyWord = 2 &+ 2 &* slot
            let current = base[keyWord].load(ordering: .relaxed)
            if current == wanted {
                base[keyWord &+ 1].wrappingAdd(amount, ordering: .relaxed)
                return .counted
            }
            if current == 0 {
                let (claimed, found) = base[keyWord].compareExchange(
                    expected: 0, desired: wanted, ordering: .relaxed)
                if claimed || found == wanted {
                    base[keyWord &+ 1].wrappingAdd(amount, ordering: .relaxed)
                    guard claimed else { return .counted }
                    let used = base[1].wrappingAdd(1, ordering: .relaxed).newValue
                    return .created(used: Int(truncatingIfNeeded: used), capacity: mask &+ 1)
                }
            }
            slot = (slot &+ 1) & mask
        }
        return .full
    }

    /// Calls `body` with every claimed bucket and its count (possibly 0 while its first
    /// observation is being counted), in slot order.
    package func forEach(_ body: (_ key: Int, _ count: UInt64) -> Void) {
        for slot in 0..<capacity {
            let keyWord = 2 &+ 2 &* slot
            let word = base[keyWord].load(ordering: .relaxed)
            if word != 0 { body(Self.decode(word), base[keyWord &+ 1].load(ordering: .relaxed)) }
        }
    }
}
