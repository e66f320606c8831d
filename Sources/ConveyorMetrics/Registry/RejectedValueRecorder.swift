import Logging
import Synchronization

/// Counts every rejected value in `conveyor_metrics_rejected_values_total{reason}` and
/// logs it, at most once per reason per `logInterval`, with how many were suppressed.
package final class RejectedValueRecorder: Sendable {
    static let familyName = "conveyor_metrics_rejected_values_total"

    let family: MetricFamily<CounterSeries>
    private let seriesByReason: [RejectionReason: CounterSeries]
    private let lastLog: [RejectionReason: Atomic<Int64>.Shared]
    private let suppressed: [RejectionReason: Atomic<Int64>.Shared]
    private let logger: Logger
    private let logIntervalNanoseconds: Int64

    init(logger: Logger, logInterval: Duration) {
        let family = MetricFamily<CounterSeries>(
            descriptor: FamilyDescriptor(
                name: Self.familyName,
                help: "Values and registrations dropped by conveyor-metrics, by reason",
                unit: "", type: .counter, labelNames: ["reason"]),
            configuration: (),
            seriesLimit: RejectionReason.allCases.count,
            maxLabelValueBytes: 64,
            rejections: nil)
        self.family = family
        var series: [RejectionReason: CounterSeries] = [:]
        var lastLog: [RejectionReason: Atomic<Int64>.Shared] = [:]
        var suppressed: [RejectionReason: Atomic<Int64>.Shared] = [:]
        for reason in RejectionReason.allCases {
            series[reason] = family.series(.one(reason.rawValue))
            lastLog[reason] = .init(Int64.min)
            suppressed[reason] = .init(0)
        }
        self.seriesByReason = series
        self.lastLog = lastLog
        self.suppressed = suppressed
        self.logger = logger
        self.logIntervalNanoseconds = logInterval.nanoseconds
    }

    /// Counts one rejection and logs it unless this reason was logged within the interval.
    func reject(_ reason: RejectionReason, metric: String, _ detail: @autoclosure () -> String) {
        seriesByReason[reason]?.increment(by: 1 as UInt64)
        guard let last = lastLog[reason], let skipped = suppressed[reason] else { return }
        let now = MonotonicClock.nanoseconds()
        let previous = last.value.load(ordering: .relaxed)
        if previous != Int64.min && now &- previous < logIntervalNanoseconds {
            skipped.value.wrappingAdd(1, ordering: .relaxed)
            return
        }
        guard last.value.compareExchange(expected: previous, desired: now, ordering: .relaxed).exchanged
        else {
            skipped.value.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let suppressedCount = skipped.value.exchange(0, ordering: .relaxed)
        logger.warning(
            "conveyor-metrics dropped a value",
            metadata: [
                "reason": "\(reason.rawValue)",
                "metric": "\(metric)",
                "detail": "\(Self.truncated(detail()))",
                "suppressed_since_last_log": "\(suppressedCount)",
            ])
    }

    /// How many values were rejected for `reason` so far.
    func count(_ reason: RejectionReason) -> UInt64 {
        seriesByReason[reason]?.integerValue ?? 0
    }

    /// Log details never carry more than 200 bytes of caller input.
    private static func truncated(_ text: String) -> String {
        text.utf8.count <= 200 ? text : String(decoding: text.utf8.prefix(200), as: UTF8.self) + "…"
    }
}
