/// What all series of a family share, held once per family instead of once per series.
package final class SeriesContext: Sendable {
    package let metricName: String
    /// The family's label names in value order; nil when series bring their own (`.pairs`).
    package let labelNames: [String]?
    let rejections: RejectedValueRecorder?
    /// Asked for an exemplar on every recording that brings none; nil: none.
    let exemplarProvider: ExemplarProvider?
    /// Whether `exemplarProvider` is set: the one branch recording pays without a provider
    /// (a plain load, where reading the optional closure could retain its context).
    let providesExemplars: Bool
    /// The exemplars of the family's series, beside them (see ``ExemplarSideTable``).
    package let exemplars = ExemplarSideTable()

    init(
        metricName: String, labelNames: [String]?, rejections: RejectedValueRecorder?,
        exemplarProvider: ExemplarProvider? = nil
    ) {
        self.metricName = metricName
        self.labelNames = labelNames
        self.rejections = rejections
        self.exemplarProvider = exemplarProvider
        self.providesExemplars = exemplarProvider != nil
    }

    /// `exemplar` stamped with `value`, or nil (counted and logged) when it is invalid.
    @inline(never)
    func validated(_ exemplar: Exemplar, value: Double) -> RecordedExemplar? {
        if let problem = exemplar.problem {
            reject(.invalidExemplar, "exemplar: \(problem)")
            return nil
        }
        return RecordedExemplar(exemplar, value: value)
    }

    /// Counts and logs one rejected value of this family.
    @inline(never)
    func reject(_ reason: RejectionReason, _ detail: @autoclosure () -> String) {
        rejections?.reject(reason, metric: metricName, detail())
    }

    /// The sorted labels of the series with `key` (built on demand; series do not store them).
    package func labels(for key: LabelValuesKey) -> [Label] {
        switch key {
        case .pairs(let flat):
            return stride(from: 0, to: flat.count - 1, by: 2).map { Label(name: flat[$0], value: flat[$0 + 1]) }
        default:
            return zip(labelNames ?? [], key.values).map { Label(name: $0, value: $1) }.sortedByName()
        }
    }
}
