import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Yams

/// Walks a YAML document strictly: every mapping lists the keys it accepts, so a typo is an
/// error that names the key instead of a silently ignored setting.
struct YAMLReader {
    let file: String

    func parse(_ text: String) throws(ConfigError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
    }

    /// The mapping at `key`, after checking that it holds only `allowed` keys.
    func mapping(_ node: Node, at key: String, allowed: Set<String>) throws(ConfigError) -> [String: Node] {
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, key: key, reason: "expected a mapping")
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else {
                throw ConfigError(file: file, key: key, reason: "keys must be plain strings")
            }
            let path = key.isEmpty ? name : "\(key).\(name)"
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
        guard let scalar = node.scalar else { throw ConfigError(file: file, key: key, reason: "expected a string") }
        return scalar.string
    }

    func sequence(_ node: Node, at key: String) throws(ConfigError) -> [Node] {
        guard let sequence = node.sequence else {
            throw ConfigError(file: file, key: key, reason: "expected a list")
        }
        return Array(sequence)
    }

    func stringMap(_ node: Node, at key: String) throws(ConfigError) -> [String: String] {
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
