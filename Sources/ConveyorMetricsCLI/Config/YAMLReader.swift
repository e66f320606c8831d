import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Yams

/// Walks a YAML document strictly: every mapping lists the keys it accepts, so a typo is an
/// error that names the key instead of a silently ignored setting.
///
/// It notes where each key stands (``Marks``), so every error names line and column.
struct YAMLReader {
    let file: String
    let marks = Marks()

    /// Positions of the key paths read so far.
    final class Marks {
        private var positions: [String: (line: Int, column: Int)] = [:]

        func note(_ key: String, _ node: Node) {
            if positions[key] == nil, let mark = node.mark { positions[key] = (mark.line, mark.column) }
        }

        /// The position of `key`, or of the nearest enclosing key that has one.
        func position(of key: String) -> (line: Int, column: Int)? {
            var path = Substring(key)
            while true {
                if let found = positions[String(path)] { return found }
                guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
                path = path[..<cut]
            }
        }
    }

    /// Composes the document. A syntax error names line, column and libyaml's problem; it
    /// never quotes the line, which may hold a password.
    func parse(_ text: String) throws(ConfigError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.describe(error, file: file)
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid YAML")
        }
    }

    private static func describe(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text))" } ?? ""
            return ConfigError(
                file: file, key: "", reason: "not valid YAML: \(problem)\(during)", line: mark.line, column: mark.column
            )
        case .reader(let problem, _, _, _):
            return ConfigError(file: file, key: "", reason: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                file: file, key: "", reason: "keys given twice: \(duplicates.joined(separator: ", "))",
                line: context.mark.line, column: context.mark.column)
        default:
            return ConfigError(file: file, key: "", reason: "not valid YAML")
        }
    }

    /// The mapping at `key`, after checking that it holds only `allowed` keys.
    func mapping(_ node: Node, at key: String, allowed: Set<String>) throws(ConfigError) -> [String: Node] {
        marks.note(key, node)
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, key: key, reason: "expected a mapping")
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else {
                throw ConfigError(file: file, key: key, reason: "keys must be plain strings")
            }
            let path = key.isEmpty ? name : "\(key).\(name)"
            marks.note(path, keyNode)
            guard allowed.contains(name) else {
                throw ConfigError(
                    file: file, key: path, reason: "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard result[name] == nil else { throw ConfigError(file: file, key: path, reason: "given twice") }
            result[name] = value
        }
        return result
    }

    func string(_ node: Node, at key: String) throws(ConfigError) -> String {
        marks.note(key, node)
        guard let scalar = node.scalar else { throw ConfigError(file: file, key: key, reason: "expected a string") }
        return scalar.string
    }

    func sequence(_ node: Node, at key: String) throws(ConfigError) -> [Node] {
        marks.note(key, node)
        guard let sequence = node.sequence else {
            throw ConfigError(file: file, key: key, reason: "expected a list")
        }
        for (index, item) in sequence.enumerated() { marks.note("\(key)[\(index)]", item) }
        return Array(sequence)
    }

    func stringMap(_ node: Node, at key: String) throws(ConfigError) -> [String: String] {
        marks.note(key, node)
        guard let mapping = node.mapping else { throw ConfigError(file: file, key: key, reason: "expected a mapping") }
        var result: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else {
                throw ConfigError(file: file, key: key, reason: "keys must be plain strings")
            }
            result[name] = try string(value, at: "\(key).\(name)")
        }
        return result
    }

    func integer(_ node: Node, at key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string(node, at: key)
        guard let value = Int(text), range.contains(value) else {
            throw ConfigError(
                file: file, key: key,
                reason: "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// A size in bytes: a whole number, or one followed by KiB, MiB, GiB or TiB.
    func byteSize(_ node: Node, at key: String) throws(ConfigError) -> Int64 {
        let text = try string(node, at: key)
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40)]
        var digits = Substring(text)
        var scale: Int64 = 1
        if let (unit, factor) = units.first(where: { text.hasSuffix($0.0) }) {
            digits = text.dropLast(unit.count)
            scale = factor
        }
        guard let value = Int64(digits.trimmingPrefix(" ")), value > 0, value <= Int64.max / scale else {
            throw ConfigError(
                file: file, key: key, reason: "expected a size in bytes (e.g. 1073741824 or 1GiB), got '\(text)'")
        }
        return value * scale
    }

    /// A finite number within `range`.
    func number(_ node: Node, at key: String, range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let text = try string(node, at: key)
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw ConfigError(
                file: file, key: key,
                reason: "expected a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    func bool(_ node: Node, at key: String) throws(ConfigError) -> Bool {
        switch try string(node, at: key).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw ConfigError(file: file, key: key, reason: "expected true or false, got '\(other)'")
        }
    }

    /// A Prometheus duration: `30ms`, `5s`, `1m`, `1h30m`, `2d`.
    func duration(_ node: Node, at key: String) throws(ConfigError) -> Duration {
        let text = try string(node, at: key)
        guard let duration = PrometheusDuration.parse(text) else {
            throw ConfigError(
                file: file, key: key, reason: "expected a duration like 30ms, 5s, 1m or 1h30m, got '\(text)'")
        }
        return duration
    }
}
