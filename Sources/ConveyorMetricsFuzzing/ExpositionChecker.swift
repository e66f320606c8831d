import ConveyorMetrics
import ConveyorMetricsCLI
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit

/// A strict parser of the Prometheus text format 0.0.4 and of OpenMetrics 1.0 as this
/// library writes them: every line is a `# HELP`, `# TYPE` (or `# UNIT`/`# EOF` in
/// OpenMetrics) or a sample `name{label="value",…} value`, with only `\\`, `\"` and `\n`
/// escapes in label values, and names and label names of the allowed characters.
package enum ExpositionChecker {
    package struct Label: Equatable, CustomStringConvertible {
        package let name: String
        package let value: String
        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
        package var description: String { "\(name)=\(value.debugDescription)" }
    }

    package struct Sample {
        package let name: String
        package let labels: [Label]
        package let value: Double
        /// OpenMetrics: the exemplar after ` # `, if the line has one.
        package var exemplar: ExemplarText?
    }

    /// An OpenMetrics exemplar: `# {labels} value [timestamp]`.
    package struct ExemplarText {
        package let labels: [Label]
        package let value: Double
        package let timestamp: Double?
    }

    package struct Parsed {
        package var samples: [Sample] = []
    }

    package struct Failure: Error, CustomStringConvertible {
        package let line: Int
        package let reason: String
        package var description: String { "line \(line): \(reason)" }
    }

    package static func parse(_ bytes: [UInt8], openMetrics: Bool) throws(Failure) -> Parsed {
        var parsed = Parsed()
        guard bytes.last == UInt8(ascii: "\n") || bytes.isEmpty else {
            throw Failure(line: 0, reason: "no final newline")
        }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        var sawEOF = false
        for (number, line) in lines.enumerated() {
            if sawEOF { throw Failure(line: number, reason: "content after # EOF") }
            if line.first == UInt8(ascii: "#") {
                let text = String(decoding: line, as: UTF8.self)
                if openMetrics && text == "# EOF" {
                    sawEOF = true
                    continue
                }
                let parts = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, ["HELP", "TYPE", "UNIT"].contains(parts[1]), isMetricName(parts[2]) else {
                    throw Failure(line: number, reason: "bad comment line \(text.debugDescription)")
                }
                if parts[1] == "HELP", parts.count == 4, !validEscapes(parts[3].utf8, quote: false) {
                    throw Failure(line: number, reason: "bad escape in HELP")
                }
                continue
            }
            parsed.samples.append(try sample(Array(line), line: number, openMetrics: openMetrics))
        }
        if openMetrics && !sawEOF { throw Failure(line: lines.count, reason: "no # EOF") }
        return parsed
    }

    private static func sample(_ line: [UInt8], line number: Int, openMetrics: Bool) throws(Failure) -> Sample {
        var index = 0
        while index < line.count && line[index] != UInt8(ascii: "{") && line[index] != UInt8(ascii: " ") { index += 1 }
        let name = String(decoding: line[0..<index], as: UTF8.self)
        guard isMetricName(Substring(name)) else { throw Failure(line: number, reason: "bad metric name \(name)") }
        var labels: [Label] = []
        if index < line.count && line[index] == UInt8(ascii: "{") {
            labels = try labelSet(line, at: &index, line: number)
        }
        guard index < line.count, line[index] == UInt8(ascii: " ") else {
            throw Failure(line: number, reason: "no space before the value")
        }
        var rest = Array(line[(index + 1)...])
        var exemplar: ExemplarText?
        if openMetrics, let marker = find(Array(" # ".utf8), in: rest) {
            exemplar = try exemplarText(Array(rest[(marker + 3)...]), line: number)
            rest = Array(rest[..<marker])
        }
        let value = try Self.number(String(decoding: rest, as: UTF8.self), line: number)
        return Sample(name: name, labels: labels, value: value, exemplar: exemplar)
    }

    /// `{name="value",…}` from `index` (at the `{`); leaves `index` after the `}`.
    private static func labelSet(_ line: [UInt8], at index: inout Int, line number: Int) throws(Failure) -> [Label] {
        var labels: [Label] = []
        index += 1
        while index < line.count && line[index] != UInt8(ascii: "}") {
            let start = index
            while index < line.count && line[index] != UInt8(ascii: "=") { index += 1 }
            let labelName = String(decoding: line[start..<index], as: UTF8.self)
            guard isLabelName(labelName), index + 1 < line.count, line[index + 1] == UInt8(ascii: "\"") else {
                throw Failure(line: number, reason: "bad label name \(labelName.debugDescription)")
            }
            index += 2
            var value: [UInt8] = []
            while true {
                guard index < line.count else { throw Failure(line: number, reason: "unterminated label value") }
                let byte = line[index]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < line.count else { throw Failure(line: number, reason: "dangling backslash") }
                    switch line[index + 1] {
                    case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                    case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                    case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                    default: throw Failure(line: number, reason: "bad escape in a label value")
                    }
                    index += 2
                    continue
                }
                value.append(byte)
                index += 1
            }
            labels.append(Label(name: labelName, value: String(decoding: value, as: UTF8.self)))
            index += 1
            if index < line.count && line[index] == UInt8(ascii: ",") { index += 1 }
        }
        guard index < line.count else { throw Failure(line: number, reason: "unterminated label set") }
        index += 1
        return labels
    }

    /// `{labels} value [timestamp]`, its labels within OpenMetrics' 128 code points.
    private static func exemplarText(_ text: [UInt8], line number: Int) throws(Failure) -> ExemplarText {
        guard text.first == UInt8(ascii: "{") else { throw Failure(line: number, reason: "an exemplar without labels") }
        var index = 0
        let labels = try labelSet(text, at: &index, line: number)
        let codePoints = labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
        guard codePoints <= 128 else {
            throw Failure(line: number, reason: "exemplar labels of \(codePoints) code points (at most 128)")
        }
        guard index < text.count, text[index] == UInt8(ascii: " ") else {
            throw Failure(line: number, reason: "no space before the exemplar value")
        }
        let parts = String(decoding: text[(index + 1)...], as: UTF8.self).split(
            separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else {
            throw Failure(line: number, reason: "an exemplar is a value and an optional timestamp")
        }
        let value = try Self.number(String(parts[0]), line: number)
        let timestamp = parts.count == 2 ? try Self.number(String(parts[1]), line: number) : nil
        return ExemplarText(labels: labels, value: value, timestamp: timestamp)
    }

    private static func number(_ text: String, line number: Int) throws(Failure) -> Double {
        switch text {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard let parsed = Double(text), parsed.isFinite, !text.contains(" ") else {
                throw Failure(line: number, reason: "bad value \(text.debugDescription)")
            }
            return parsed
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    private static func validEscapes(_ text: Substring.UTF8View, quote: Bool) -> Bool {
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "\n") { return false }
            if byte == UInt8(ascii: "\\") {
                guard let next = iterator.next(), next == UInt8(ascii: "\\") || next == UInt8(ascii: "n") else {
                    return false
                }
            }
        }
        return true
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ":") }
    }

    private static func isLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy(isWordByte)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }
}
