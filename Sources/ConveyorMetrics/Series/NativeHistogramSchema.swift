#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Native-histogram schemas: which bucket an observation falls in.
///
/// For schema `s` (−4…8) bucket `i` holds the magnitudes in `(2^((i−1)·2^−s), 2^(i·2^−s)]`:
/// bucket 0 ends at 1, an exact bound belongs to the bucket it ends. Halving the resolution
/// (schema `s` → `s − 1`) merges buckets `2j − 1` and `2j` into bucket `j`.
package enum NativeHistogramSchema {
    /// The finest and coarsest schemas Prometheus accepts.
    package static let maximum = 8
    package static let minimum = -4

    /// The largest schema whose growth factor `2^(2^−s)` is at most `bucketFactor` (> 1, not
    /// NaN), clamped to −4…8, as client_golang picks it.
    package static func pick(bucketFactor: Double) -> Int {
        let floored = log2(log2(bucketFactor)).rounded(.down)
        if floored <= -8 { return maximum }
        if floored >= 4 || floored.isNaN { return minimum }
        return -Int(floored)
    }

    /// The fractions of the bounds for schemas 1…8, flat: schema `s` owns the `2^s` entries from
    /// `boundsOffset(s)`, entry `j` is the largest double ≤ `2^(j/2^s − 1)`, the fraction (in
    /// `[0.5, 1)`) of the upper bound of every bucket whose index is `j` modulo `2^s`.
    ///
    /// Rounded down, not to nearest: the bound is irrational (for `j > 0`), so a double is
    /// ≤ it exactly when it is ≤ its rounded-down value, and comparing against the table
    /// puts every double in its mathematically exact bucket. client_golang's table (computed
    /// otherwise) is one ulp off in some entries, so a double lying exactly between its bound
    /// and the exact one is one bucket apart there; no other double is. Immortal.
    ///
    /// Behind the bounds, in the same allocation, ``candidate(_:schema:in:)``'s table: for
    /// schema `s`, `2^(s+2)` 16-bit entries from `candidatesOffset(s)`, entry `t` the first bound
    /// index whose bound is ≥ the smallest fraction whose top `s + 2` mantissa bits are `t`.
    nonisolated(unsafe) package static let bounds: UnsafePointer<Double> = {
        let count = boundsCount + (candidatesCount * 2 + 7) / 8
        let table = UnsafeMutablePointer<Double>.allocate(capacity: count)
        table.initialize(repeating: 0.5, count: count)
        for schema in 1...maximum {
            for index in 0..<(1 << schema) {
                table[boundsOffset(schema) + index] = boundFraction(index, schema: schema)
            }
        }
        let candidates = UnsafeMutableRawPointer(table + boundsCount).bindMemory(
            to: UInt16.self, capacity: candidatesCount)
        for schema in 1...maximum {
            let perPower = 1 << schema
            let first = table + boundsOffset(schema)
            for top in 0..<(4 << schema) {
                // The smallest fraction with these top bits: 0.5 + top / 2^(schema + 3).
                let lowest = Double(bitPattern: (0x3FE << 52) | (UInt64(top) << UInt64(50 - schema)))
                var index = 0
                while index < perPower && first[index] < lowest { index += 1 }
                candidates[candidatesOffset(schema) + top] = UInt16(index)
            }
        }
        return UnsafePointer(table)
    }()

    /// Doubles of bounds (schemas 1…8), and 16-bit candidates behind them.
    private static let boundsCount = 2 << maximum
    private static let candidatesCount = (8 << maximum) - 8  // candidatesOffset(maximum + 1)

    /// Where schema `s`'s candidates start (schemas 1…`s`−1 have `2^(k+2)` each).
    @inline(__always)
    package static func candidatesOffset(_ schema: Int) -> Int { (4 << schema) &- 8 }

    /// The largest double ≤ `2^(index/2^schema − 1)`: `exp2`'s result, moved by an ulp while
    /// its `2^schema`-th power (in double-double arithmetic) says it is on the wrong side.
    private static func boundFraction(_ index: Int, schema: Int) -> Double {
        let perPower = 1 << schema
        var fraction = exp2(Double(index) / Double(perPower) - 1)
        // fraction ≤ bound ⟺ fraction^(2^schema) ≤ 2^(index − 2^schema).
        func exceeds(_ candidate: Double) -> Bool {
            var high = candidate
            var low = 0.0
            for _ in 0..<schema {
                let square = high * high
                let error = fma(high, high, -square) + 2 * high * low
                high = square + error
                low = error - (high - square)
            }
            let target = scalbn(1.0, Int32(index - perPower))
            return high != target ? high > target : low > 0
        }
        while fraction > 0.5 && exceeds(fraction) { fraction = fraction.nextDown }
        while fraction.nextUp < 1 && !exceeds(fraction.nextUp) { fraction = fraction.nextUp }
        return fraction
    }

    /// Where schema `s`'s (1…8) fractions start in ``bounds``.
    @inline(__always)
    package static func boundsOffset(_ schema: Int) -> Int { (1 << schema) &- 1 }

    /// What finding a bucket under one schema needs, worked out once per schema: a bank
    /// holds a pointer to its schema's (immortal) layout, so an observation reads one word.
    package struct KeyLayout {
        package let schema: Int
        /// The first bound of the schema (schemas 1…8).
        let first: UnsafePointer<Double>
        /// The schema's candidate table (schemas 1…8).
        let candidates: UnsafePointer<UInt16>
        /// `50 − schema`: the fraction's top `schema + 2` mantissa bits, shifted down.
        let topShift: UInt64
    }

    /// The layouts of schemas −4…8, in order; immortal.
    nonisolated(unsafe) package static let layouts: UnsafePointer<KeyLayout> = {
        let count = maximum &- minimum &+ 1
        let table = UnsafeMutablePointer<KeyLayout>.allocate(capacity: count)
        let candidates = UnsafeRawPointer(bounds + boundsCount).assumingMemoryBound(to: UInt16.self)
        for schema in minimum...maximum {
            let positive = max(schema, 1)
            (table + (schema &- minimum)).initialize(
                to: KeyLayout(
                    schema: schema, first: bounds + boundsOffset(positive),
                    candidates: candidates + candidatesOffset(positive),
                    topShift: UInt64(truncatingIfNeeded: 50 &- positive)))
        }
        return UnsafePointer(table)
    }()

    /// The layout of `schema` (clamped to −4…8).
    package static func layout(_ schema: Int) -> UnsafePointer<KeyLayout> {
        layouts + (min(max(schema, minimum), maximum) &- minimum)
    }

    /// The index of the bucket holding the finite, positive `magnitude` under `schema`
    /// (−4…8), from the binary exponent and fraction of `magnitude` (`frexp`).
    @inline(__always)
    package static func key(_ magnitude: Double, schema: Int) -> Int {
        key(magnitude, layout: layout(schema).pointee)
    }

    /// The same, with the schema's layout at hand.
    @inline(__always)
    package static func key(_ magnitude: Double, layout: KeyLayout) -> Int {
        let schema = layout.schema
        let bits = magnitude.bitPattern
        let biased = Int(truncatingIfNeeded: bits >> 52)
        let mantissa = bits & 0x000F_FFFF_FFFF_FFFF
        // frexp: magnitude = fraction · 2^exponent, fraction in [0.5, 1).
        var exponent: Int
        var fractionBits: UInt64
        if biased != 0 {
            exponent = biased &- 1022
            fractionBits = mantissa
        } else {
            // Subnormal: normalize the mantissa.
            let shift = mantissa.leadingZeroBitCount &- 11
            exponent = -1021 &- shift
            fractionBits = (mantissa << UInt64(truncatingIfNeeded: shift)) & 0x000F_FFFF_FFFF_FFFF
        }
        if schema <= 0 {
            // Bounds are powers of two: bucket of 2^exponent is exponent (fraction 0.5 exactly
            // ends the bucket below), then 2^−schema of those per bucket, rounding up.
            if fractionBits == 0 { exponent &-= 1 }
            let shift = 0 &- schema
            return (exponent &+ ((1 &<< shift) &- 1)) &>> shift
        }
        let fraction = Double(bitPattern: fractionBits | (0x3FE << 52))
        let perPower = 1 &<< schema
        // The fraction's top `schema + 2` mantissa bits name a range a quarter of a bucket
        // wide (in log2, 1/(4 ln 2) ≈ 0.36 of one): its first bucket, then at most one more.
        var index = Int(layout.candidates[Int(truncatingIfNeeded: fractionBits &>> layout.topShift)])
        while index < perPower && layout.first[index] < fraction { index &+= 1 }
        return index &+ ((exponent &- 1) &<< schema)
    }

    /// The bucket of any non-NaN, non-zero magnitude: ±Infinity is one bucket past the one of
    /// the largest finite value, as client_golang counts it.
    @inline(__always)
    package static func key(forMagnitude magnitude: Double, schema: Int) -> Int {
        key(forMagnitude: magnitude, layout: layout(schema).pointee)
    }

    /// The same, with the schema's layout at hand.
    @inline(__always)
    package static func key(forMagnitude magnitude: Double, layout: KeyLayout) -> Int {
        if magnitude.isFinite { return key(magnitude, layout: layout) }
        return key(.greatestFiniteMagnitude, layout: layout) &+ 1
    }

    /// The index of the bucket that holds bucket `key` after the resolution was halved `times`.
    @inline(__always)
    package static func halved(_ key: Int, times: Int) -> Int {
        var key = key
        for _ in 0..<max(0, times) { key = (key &+ 1) >> 1 }
        return key
    }
}
