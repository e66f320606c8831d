/// The dictionary key that finds a series inside its family.
///
/// Families with fixed label names key series by their values in label-name order; the
/// one- and two-value cases carry their strings inline so a lookup allocates nothing.
/// Families whose label names vary per series (swift-metrics dimensions) use `.pairs`
/// with the sorted names and values interleaved.
package enum LabelValuesKey: Hashable, Sendable {
    case none
    case one(String)
    case two(String, String)
    case many([String])
    case pairs([String])

    init(values: [String]) {
        switch values.count {
        case 0: self = .none
        case 1: self = .one(values[0])
        case 2: self = .two(values[0], values[1])
        default: self = .many(values)
        }
    }

    init(sortedLabels: [Label]) {
        var flat: [String] = []
        flat.reserveCapacity(sortedLabels.count * 2)
        for label in sortedLabels {
            flat.append(label.name)
            flat.append(label.value)
        }
        self = .pairs(flat)
    }

    /// Whether the key carries its own label names (swift-metrics dimensions).
    var isPairs: Bool {
        if case .pairs = self { return true }
        return false
    }

    /// The label values in order (for fixed-name families).
    var values: [String] {
        switch self {
        case .none: []
        case .one(let a): [a]
        case .two(let a, let b): [a, b]
        case .many(let values): values
        case .pairs(let flat): stride(from: 1, to: flat.count, by: 2).map { flat[$0] }
        }
    }
}
