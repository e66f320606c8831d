/// Number spellings that Prometheus' parsers accept and its own clients produce.
package enum FloatFormatting {
    /// A sample value: `NaN`, `+Inf`, `-Inf`, whole numbers below 2^53 without a fraction,
    /// everything else in the shortest form that reads back to the same `Double`.
    package static func appendValue(_ value: Double, to out: inout [UInt8]) {
        out.appendRaw(upTo: maxValueBytes) { putValue(value, at: $0) }
    }

    /// The most bytes ``putValue(_:at:)`` writes.
    package static let maxValueBytes = 32

    /// The value as ``appendValue(_:to:)`` spells it, through a raw pointer (room for
    /// ``maxValueBytes`` at `cursor`); returns the position after the value.
    @inline(__always)
    package static func putValue(_ value: Double, at cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        if value == value.rounded(.towardZero) && abs(value) < 9_007_199_254_740_992 {
            let magnitude = UInt64(abs(value))
            if value < 0 {
                cursor.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self)
                return putUnsigned(magnitude, at: cursor + 1)
            }
            return putUnsigned(magnitude, at: cursor)
        }
        if value.isNaN { return put("NaN", at: cursor) }
        if value.isInfinite { return put(value > 0 ? "+Inf" : "-Inf", at: cursor) }
        var text = value.description  // at most 24 bytes ("-2.2250738585072014e-308")
        return text.withUTF8 { bytes in
            let count = min(bytes.count, maxValueBytes)
            if let base = bytes.baseAddress { cursor.copyMemory(from: base, byteCount: count) }
            return cursor + count
        }
    }

    /// An unsigned whole number in decimal through a raw pointer (room for 20 bytes).
    @inline(__always)
    package static func putUnsigned(_ value: UInt64, at cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20 && value >= bound {
            digits &+= 1
            bound = bound &* 10
        }
        var remaining = value
        var position = cursor + digits
        repeat {
            position -= 1
            position.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10), as: UInt8.self)
            remaining /= 10
        } while remaining > 0
        return cursor + digits
    }

    @inline(__always)
    private static func put(_ text: StaticString, at cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        cursor.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        return cursor + text.utf8CodeUnitCount
    }

    /// An unsigned whole number in decimal, written without allocating.
    package static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        out.appendRaw(upTo: 20) { putUnsigned(value, at: $0) }
    }

    /// Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which client_golang uses for `le`:
    /// `0.5`, `1`, `2.5`, `10000`, `1e+06`, `1e-05`. Keeping the same spelling keeps
    /// bucket series identical to other clients'.
    package static func goStyle(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (digits, pointPosition) = shortestDigits(abs(value))
        let exponent = pointPosition - 1
        var result = value < 0 ? "-" : ""
        if exponent < -4 || exponent >= 6 {  // Go: shortest 'g' switches to %e at precision 6
            result += scientific(digits, exponent: exponent)
        } else if pointPosition <= 0 {
            result += "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            result += digits + String(repeating: "0", count: pointPosition - digits.count)
        } else {
            let index = digits.index(digits.startIndex, offsetBy: pointPosition)
            result += digits[..<index] + "." + digits[index...]
        }
        return result
    }

    private static func scientific(_ digits: String, exponent: Int) -> String {
        var mantissa = String(digits.prefix(1))
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let magnitude = abs(exponent)
        return mantissa + (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }

    /// The shortest round-trip decimal digits of a positive finite value and the position of
    /// the decimal point relative to them (value = 0.DIGITS × 10^pointPosition).
    private static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description  // shortest round-trip, e.g. "2.5", "1e-05", "1.5e+16"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerPart + fraction
        var pointPosition = integerPart.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (digits, pointPosition)
    }
}
