import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

@Suite("Registry")
struct MetricsRegistryTests {
    @Test func counterAddsIntegerAndFractionalIncrements() {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(name: "jobs_total", help: "Jobs", labelNames: ["queue"])
        family.series("a").increment()
        family.series("a").increment(by: 41 as UInt64)
        family.series("a").increment(by: 0.5)
        family.series("b").increment(by: 2 as Int64)
        let snapshot = registry.snapshot().family(named: "jobs_total")
        #expect(snapshot?.series(["queue": "a"])?.value == .counter(42.5))
        #expect(snapshot?.series(["queue": "b"])?.value == .counter(2))
        #expect(snapshot?.type == .counter)
        #expect(snapshot?.help == "Jobs")
    }

    @Test func seriesIdentityIgnoresLabelOrder() {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(name: "x_total", help: "x", labelNames: ["zeta", "alpha"])
        let series = family.series("z", "a")
        #expect(series.labels.map(\.name) == ["alpha", "zeta"], "labels are stored sorted by name")
        #expect(family.series(["z", "a"]) === series, "array and two-value lookups find the same series")
        let factoryKey = LabelValuesKey(
            sortedLabels: [Label(name: "b", value: "2"), Label(name: "a", value: "1")].sortedByName())
        #expect(
            factoryKey == LabelValuesKey(sortedLabels: [Label(name: "a", value: "1"), Label(name: "b", value: "2")]))
    }

    @Test func gaugeSetsAddsAndRejectsNaN() {
        let registry = MetricsRegistry()
        let gauge = registry.gaugeFamily(name: "depth", help: "d").series()
        gauge.set(3)
        gauge.add(-1.5)
        gauge.set(.nan)
        #expect(gauge.value == 1.5)
        gauge.set(.infinity)
        #expect(gauge.value == .infinity, "±Inf is a valid Prometheus gauge value")
        #expect(registry.rejectedCount(.notANumber) == 1)
    }

    @Test func histogramBucketsAreCumulativeAndCountMatchesInf() {
        let registry = MetricsRegistry()
        let histogram = registry.histogramFamily(name: "h", help: "h", buckets: [5, 1, 2.5, 1, .infinity])
        #expect(histogram.upperBounds == [1, 2.5, 5], "sorted, deduplicated, +Inf implied")
        let series = histogram.series()
        for value in [0.5, 1, 2, 3, 100] { series.observe(value) }
        series.observe(.nan)
        series.observe(-.infinity)
        let value = series.value
        #expect(value.cumulativeCounts == [2, 3, 4, 5], "le semantics: 1 counts in the le=1 bucket")
        #expect(value.count == 5)
        #expect(value.sum == 106.5)
        #expect(registry.rejectedCount(.notANumber) == 1)
        #expect(registry.rejectedCount(.infinite) == 1)
    }

    @Test func counterRejectsNegativeNaNAndInfinity() {
        let registry = MetricsRegistry()
        let counter = registry.counterFamily(name: "c_total", help: "c").series()
        counter.increment(by: -1 as Int64)
        counter.increment(by: -0.5)
        counter.increment(by: Double.nan)
        counter.increment(by: Double.infinity)
        counter.increment(by: 1 as UInt64)
        #expect(counter.value == 1)
        #expect(registry.rejectedCount(.negativeIncrement) == 2)
        #expect(registry.rejectedCount(.notANumber) == 1)
        #expect(registry.rejectedCount(.infinite) == 1)
    }

    @Test func cardinalityLimitRejectsNewSeriesButKeepsExistingOnes() {
        var configuration = MetricsRegistry.Configuration()
        configuration.seriesLimitPerFamily = 3
        configuration.seriesLimitOverrides = ["roomy_total": 5]
        let registry = MetricsRegistry(configuration: configuration)
        let family = registry.counterFamily(name: "tight_total", help: "t", labelNames: ["id"])
        for id in 0..<10 { family.series("id-\(id)").increment() }
        family.series("id-0").increment()
        let snapshot = registry.snapshot().family(named: "tight_total")
        #expect(snapshot?.series.count == 3)
        #expect(snapshot?.series(["id": "id-0"])?.value == .counter(2))
        #expect(registry.rejectedCount(.cardinalityLimit) == 7)
        let roomy = registry.counterFamily(name: "roomy_total", help: "r", labelNames: ["id"])
        for id in 0..<10 { roomy.series("\(id)").increment() }
        #expect(registry.snapshot().family(named: "roomy_total")?.series.count == 5)
    }

    @Test func conflictingRegistrationIsRejectedNotFatal() {
        let registry = MetricsRegistry()
        let first = registry.counterFamily(name: "dup_total", help: "first", labelNames: ["a"])
        let same = registry.counterFamily(name: "dup_total", help: "first", labelNames: ["a"])
        #expect(first.storage === same.storage, "identical registration returns the same family")
        let otherType = registry.gaugeFamily(name: "dup_total", help: "first", labelNames: ["a"])
        let otherLabels = registry.counterFamily(name: "dup_total", help: "first", labelNames: ["b"])
        otherType.series("x").set(5)
        otherLabels.series("x").increment()
        first.series("x").increment()
        #expect(registry.rejectedCount(.conflictingRegistration) == 2)
        let family = registry.snapshot().family(named: "dup_total")
        #expect(family?.type == .counter)
        #expect(family?.series.map(\.labels) == [[Label(name: "a", value: "x")]])
    }

    @Test(arguments: ["9starts_with_digit", "has-dash", "", "spa ce"])
    func invalidMetricNamesAreRejected(name: String) {
        let registry = MetricsRegistry()
        registry.counterFamily(name: name, help: "bad").series().increment()
        #expect(registry.rejectedCount(.invalidName) == 1)
        #expect(registry.snapshot().family(named: name) == nil)
    }

    @Test(arguments: [["__reserved"], ["a", "a"], ["bad-label"], ["le"]])
    func invalidLabelNamesAreRejected(labels: [String]) {
        let registry = MetricsRegistry()
        registry.histogramFamily(name: "h", help: "h", labelNames: labels, buckets: [1]).series(labels.map { _ in "v" })
            .observe(1)
        #expect(registry.rejectedCount(.invalidName) == 1)
        #expect(registry.snapshot().family(named: "h") == nil)
    }

    @Test func oversizedAndMismatchedLabelValuesAreRejected() {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(name: "big_total", help: "b", labelNames: ["id"])
        family.series(String(repeating: "x", count: 1 << 20)).increment()
        family.series(String(repeating: "y", count: 4096)).increment()
        family.series("a", "b").increment()
        #expect(registry.rejectedCount(.labelValueTooLong) == 1)
        #expect(registry.rejectedCount(.labelCountMismatch) == 1)
        #expect(registry.snapshot().family(named: "big_total")?.series.count == 1, "4 KiB is still accepted")
    }

    @Test func removedSeriesLeaveTheSnapshotAndCanComeBack() {
        let registry = MetricsRegistry()
        let family = registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
        family.series("keep").set(1)
        family.series("drop").set(2)
        #expect(family.remove(["drop"]))
        #expect(!family.remove(["drop"]))
        #expect(registry.snapshot().family(named: "g")?.series.count == 1)
        #expect(registry.snapshot().family(named: "g")?.series(["k": "drop"]) == nil)
        family.series("drop").set(3)
        #expect(
            registry.snapshot().family(named: "g")?.series(["k": "drop"])?.value == .gauge(3), "re-created from zero")
    }

    @Test func snapshotIsSortedAndDeterministic() {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(name: "b_total", help: "b", labelNames: ["id"])
        for id in ["c", "a", "b"] { family.series(id).increment() }
        registry.gaugeFamily(name: "a", help: "a").series().set(1)
        let names = registry.snapshot().families.map(\.name)
        #expect(names == names.sorted())
        let ids = registry.snapshot().family(named: "b_total")?.series.map { $0.labels[0].value }
        #expect(ids == ["a", "b", "c"])
        family.series("0").increment()
        #expect(
            registry.snapshot().family(named: "b_total")?.series.first?.labels[0].value == "0",
            "cache rebuilt after insert")
    }

    @Test func concurrentRecordingLosesNothing() async {
        let registry = MetricsRegistry()
        let counters = registry.counterFamily(name: "con_total", help: "c", labelNames: ["id"])
        let histograms = registry.histogramFamily(name: "con_h", help: "h", labelNames: ["id"], buckets: [1, 2])
        let tasks = 8
        let perTask = 10_000
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask {
                        counters.series("s\(i % 16)").increment()
                        counters.series("fractional").increment(by: 0.5)
                        histograms.series("h\(task % 2)").observe(1.5)
                    }
                }
                group.addTask { for _ in 0..<20 { _ = registry.snapshot() } }
            }
        }
        let snapshot = registry.snapshot()
        let total = snapshot.family(named: "con_total")?.series
            .filter { $0.labels[0].value != "fractional" }
            .compactMap(\.value.scalar).reduce(0, +)
        #expect(total == Double(tasks * perTask))
        #expect(
            snapshot.family(named: "con_total")?.series(["id": "fractional"])?.value
                == .counter(Double(tasks * perTask) / 2))
        let observed = snapshot.family(named: "con_h")?.series.map { series -> UInt64 in
            guard case .histogram(let value) = series.value else { return 0 }
            return value.count
        }.reduce(0, +)
        #expect(observed == UInt64(tasks * perTask))
    }

    @Test func rejectionsAreCountedInTheSelfMetric() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "g").series().set(.nan)
        let selfMetric = registry.snapshot().family(named: "conveyor_metrics_rejected_values_total")
        #expect(selfMetric?.series(["reason": "nan"])?.value == .counter(1))
        #expect(selfMetric?.series.count == RejectionReason.allCases.count, "every reason is exported from the start")
    }
}
